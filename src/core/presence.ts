import { EventEmitter } from 'node:events';
import type { DisconnectReason } from './disconnect.js';
import type { TransportKind } from './session.js';
import { type TimerWheel, WheelTimer } from './wheel.js';

/** Presence and device events (PROTOCOL.md "Webhooks"): what the webhook sender and tests observe. */
export type PresenceEvent =
  | { type: 'client.online'; clientId: string; ts: number; epoch: number }
  | { type: 'client.offline'; clientId: string; ts: number; epoch: number }
  | { type: 'device.connected'; clientId: string; deviceId: string; transport: TransportKind; ts: number; epoch: number }
  | { type: 'device.disconnected'; clientId: string; deviceId: string; reason: DisconnectReason; ts: number; epoch: number };

export interface PresenceEvents {
  event: [PresenceEvent];
}

/**
 * What the hub tells presence and what the API reads from it. The local {@link Presence} serves a
 * single node; a cluster broker supplies its own when the hub is built (`Broker.createPresence`:
 * transitions decided in Redis, once per cluster).
 */
export interface PresenceTracker extends EventEmitter<PresenceEvents> {
  deviceConnected(clientId: string, deviceId: string, transport: TransportKind, now: number): void;
  deviceDisconnected(clientId: string, deviceId: string, reason: DisconnectReason, now: number): void;
  isOnline(clientId: string): boolean;
  epochOf(clientId: string): number;
  readonly onlineCount: number;
  flushPending(now: number): void;
}

/**
 * Epochs that only grow, without per-client state: microseconds of wall time, bumped past the last
 * one handed out (the cluster's Redis scripts use the same scale, from Redis's clock). A receiver that applied epoch E drops anything older, so a late `offline` can
 * never overwrite a newer `online`.
 */
let lastEpoch = 0;
export function nextEpoch(now = Date.now()): number {
  lastEpoch = Math.max(lastEpoch + 1, now * 1000);
  return lastEpoch;
}

/**
 * Client presence on this node: online while any device is attached; offline only after
 * `graceMs` with none, so a reload or a replacement does not flap.
 */
export class Presence extends EventEmitter<PresenceEvents> implements PresenceTracker {
  readonly #online = new Set<string>();
  readonly #pending = new Map<string, WheelTimer>();
  /** The newest epoch of each client that is online or in its grace period. */
  readonly #epochs = new Map<string, number>();
  readonly #wheel: TimerWheel;
  readonly #graceMs: number;
  /** Asks the registry whether the client still has an attached device. */
  readonly #isAttached: (clientId: string) => boolean;

  constructor(wheel: TimerWheel, graceMs: number, isAttached: (clientId: string) => boolean) {
    super();
    this.#wheel = wheel;
    this.#graceMs = graceMs;
    this.#isAttached = isAttached;
  }

  /** The newest presence epoch of an online client; 0 when offline. */
  epochOf(clientId: string): number {
    return this.#epochs.get(clientId) ?? 0;
  }

  #emit(e: PresenceEvent): void {
    if (e.type === 'client.offline') this.#epochs.delete(e.clientId);
    else this.#epochs.set(e.clientId, e.epoch);
    this.emit('event', e);
  }

  isOnline(clientId: string): boolean {
    return this.#online.has(clientId);
  }

  get onlineCount(): number {
    return this.#online.size;
  }

  deviceConnected(clientId: string, deviceId: string, transport: TransportKind, now: number): void {
    const timer = this.#pending.get(clientId);
    if (timer) {
      this.#wheel.cancel(timer);
      this.#pending.delete(clientId);
    }
    if (!this.#online.has(clientId)) {
      this.#online.add(clientId);
      this.#emit({ type: 'client.online', clientId, ts: now, epoch: nextEpoch(now) });
    }
    this.#emit({ type: 'device.connected', clientId, deviceId, transport, ts: now, epoch: nextEpoch(now) });
  }

  deviceDisconnected(clientId: string, deviceId: string, reason: DisconnectReason, now: number): void {
    this.#emit({ type: 'device.disconnected', clientId, deviceId, reason, ts: now, epoch: nextEpoch(now) });
    if (this.#isAttached(clientId) || this.#pending.has(clientId) || !this.#online.has(clientId)) return;
    if (this.#graceMs === 0) {
      this.#graceEnded(clientId, now);
      return;
    }
    const timer = new WheelTimer((at) => this.#graceEnded(clientId, at));
    this.#pending.set(clientId, timer);
    this.#wheel.schedule(timer, now + this.#graceMs);
  }

  /** The grace period ended (or is cut short by a shutdown). */
  #graceEnded(clientId: string, now: number): void {
    this.#pending.delete(clientId);
    if (this.#isAttached(clientId) || !this.#online.delete(clientId)) return;
    this.#emit({ type: 'client.offline', clientId, ts: now, epoch: nextEpoch(now) });
  }

  /** Emits every pending offline now (shutdown). */
  flushPending(now: number): void {
    for (const [clientId, timer] of this.#pending) {
      this.#wheel.cancel(timer);
      this.#graceEnded(clientId, now);
    }
  }
}
