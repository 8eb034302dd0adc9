import { EventEmitter } from 'node:events';
import type { ReceiptKind } from './config.js';
import type { Cursor, StreamPos } from './cursor.js';
import type { AckedCursor } from './hub.js';
import type { Logger } from './logger.js';
import { nextEpoch } from './presence.js';
import type { TransportKind } from './session.js';
import type { StateChange, Store, StoredNotification } from './types.js';

/** Receipt webhooks (PROTOCOL.md "Inbox" → "Receipts"); the sender adds `id`. */
export type ReceiptEvent =
  | {
      type: 'notification.delivered';
      notificationId: string;
      clientId: string;
      deviceId: string;
      transport: TransportKind;
      ts: number;
      epoch: number;
    }
  | {
      type: 'notification.read';
      notificationIds?: string[];
      all?: true;
      clientId: string;
      /** The device that read them, or null for a backend change. */
      deviceId: string | null;
      ts: number;
      epoch: number;
    };

export interface ReceiptsEvents {
  receipt: [ReceiptEvent];
}

/**
 * Acknowledged cursors go to the store here, and, when `WEBHOOK_RECEIPTS` asks for them and
 * someone listens (the webhook sender), become receipts:
 * - `notification.delivered` once per device and notification: an ack covers what lies after the
 *   device's previous stored cursor (or, for a device without one, after where its stream
 *   started), read from the store; the stored cursor never moves back, so acking twice or resuming
 *   repeats nothing. Acks of one device are handled one after another on a node.
 * - `notification.read` when a state change marks items read (`read: true`).
 * Epochs are this process's increasing ones (the scale presence uses), so a receiver orders them
 * with the other webhooks.
 */
export class Receipts extends EventEmitter<ReceiptsEvents> {
  readonly #store: Store;
  readonly #kinds: ReadonlySet<ReceiptKind>;
  readonly #log: Logger;
  /** The acks of each device in flight on this node, so that one is read after the other is saved. */
  readonly #chains = new Map<string, Promise<void>>();

  constructor(store: Store, kinds: Iterable<ReceiptKind>, log: Logger) {
    super();
    this.#store = store;
    this.#kinds = new Set(kinds);
    this.#log = log;
  }

  #wants(kind: ReceiptKind): boolean {
    return this.#kinds.has(kind) && this.listenerCount('receipt') > 0;
  }

  /** Saves a batch of acknowledged cursors (the hub's `acks`); delivered receipts for what they newly cover. */
  acked(batch: AckedCursor[]): void {
    const receipts = this.#wants('delivered');
    for (const a of batch) {
      if (!receipts) {
        this.#store.saveDeviceCursor(a.clientId, a.deviceId, a.cursor).catch((err) => this.#notSaved(a, err));
        continue;
      }
      const key = `${a.clientId}:${a.deviceId}`;
      const run = (this.#chains.get(key) ?? Promise.resolve()).then(() => this.#delivered(a));
      this.#chains.set(key, run);
      void run.finally(() => {
        if (this.#chains.get(key) === run) this.#chains.delete(key);
      });
    }
  }

  async #delivered(a: AckedCursor): Promise<void> {
    let prev: Cursor | null;
    try {
      prev = await this.#store.getDeviceCursor(a.clientId, a.deviceId);
      await this.#store.saveDeviceCursor(a.clientId, a.deviceId, a.cursor);
    } catch (err) {
      this.#notSaved(a, err);
      return;
    }
    const now = Date.now();
    const streams: [string | null, 'c' | 'b'][] = [
      [a.clientId, 'c'],
      [null, 'b'],
    ];
    for (const [clientId, half] of streams) {
      const upTo = a.cursor[half];
      if (upTo === null) continue;
      const epoch = a.cursor[half === 'c' ? 'ce' : 'be'];
      const after = lowerBound(half, epoch, prev, a.start);
      if (after !== null && !isBefore(after, upTo)) continue;
      let entries: StoredNotification[];
      try {
        entries = await this.#store.range(clientId, after, upTo, now);
      } catch (err) {
        this.#log.warn({ err, clientId: a.clientId, deviceId: a.deviceId }, 'delivery receipts not read');
        continue;
      }
      for (const n of entries) {
        if (n.kind !== undefined || n.epoch !== epoch) continue;
        if (n.deviceId !== null && n.deviceId !== a.deviceId) continue;
        if (n.excludeDevices?.includes(a.deviceId)) continue;
        this.emit('receipt', {
          type: 'notification.delivered',
          notificationId: n.id,
          clientId: a.clientId,
          deviceId: a.deviceId,
          transport: a.transport,
          ts: now,
          epoch: nextEpoch(now),
        });
      }
    }
  }

  /** A state change was stored (and routed): a read receipt when it marked items read. */
  stateChanged(event: StoredNotification, change: StateChange): void {
    if (change.read !== true || event.kind !== 'state' || !this.#wants('read')) return;
    const e = event.event as { ids?: string[]; all?: true };
    const ts = event.ts;
    this.emit('receipt', {
      type: 'notification.read',
      ...(e.all ? { all: true as const } : { notificationIds: e.ids ?? [] }),
      clientId: event.clientId as string,
      deviceId: change.by,
      ts,
      epoch: nextEpoch(ts),
    });
  }

  #notSaved(a: AckedCursor, err: unknown): void {
    this.#log.warn({ err, clientId: a.clientId, deviceId: a.deviceId }, 'cursor not saved');
  }
}

function isBefore(a: StreamPos, b: StreamPos): boolean {
  return a.ms < b.ms || (a.ms === b.ms && a.seq < b.seq);
}

/**
 * Where an ack's new coverage starts in one stream: after the stored cursor when it is in the
 * same stream generation, else after where the stream started, else the stream's start.
 */
function lowerBound(half: 'c' | 'b', epoch: string | null, prev: Cursor | null, start: Cursor | null): StreamPos | null {
  const e = half === 'c' ? 'ce' : 'be';
  if (prev && prev[half] !== null && prev[e] === epoch) return prev[half];
  if (start && start[half] !== null && start[e] === epoch) return start[half];
  return null;
}
