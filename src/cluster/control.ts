import type { Cursor } from '../core/cursor.js';
import type { Session } from '../core/session.js';
import type { ClusterContext } from './context.js';
import type { Holder } from './registry-entry.js';
import { type AnswerMessage, encodeWire, type KickMessage, type WireMessage } from './wire.js';

/**
 * Control between nodes: a node that claims a device's stream tells the holder of the older one
 * to close it (`kick`), a node that got a heartbeat answer or ack for a stream it does not hold
 * hands it to the holder (`answer`), a removal reaches the node where the device is attached.
 * Each goes to the holder's inbox channel; on the holder it acts only if the named session is
 * still the device's stream there, so a late message never closes a newer stream.
 */
export class NodeControl {
  readonly #ctx: ClusterContext;
  /** Sessions closed by another node's claim: their disconnect event carries the claim's epoch. */
  readonly #kicked = new WeakMap<Session, number>();

  constructor(ctx: ClusterContext) {
    this.#ctx = ctx;
  }

  /** Closes an older stream of a device: here directly, or by a message to the node holding it. */
  kick(clientId: string, deviceId: string, holder: Holder, reason: 'replaced' | 'client-limit', epoch: number): void {
    const msg: KickMessage = { kind: 'kick', clientId, deviceId, sessionId: holder.sessionId, reason, epoch };
    if (holder.node === this.#ctx.nodeId) {
      this.received(msg);
      return;
    }
    this.#ctx.stats.kicksSent++;
    this.#send(holder.node, msg).catch((err) => this.#ctx.failed('kick', err));
  }

  /** Asks the node holding the device's stream to remove it (4003; its release forgets the registration). */
  remove(clientId: string, deviceId: string, holder: Holder): Promise<void> {
    return this.#send(holder.node, { kind: 'kick', clientId, deviceId, sessionId: holder.sessionId, reason: 'removed', epoch: 0 });
  }

  /** Hands a heartbeat answer (and ack) to the node holding the device's stream. */
  answer(clientId: string, deviceId: string, holder: Holder, cursor: Cursor | null): Promise<void> {
    return this.#send(holder.node, { kind: 'answer', clientId, deviceId, sessionId: holder.sessionId, cursor });
  }

  async #send(node: string, msg: WireMessage): Promise<void> {
    await this.#ctx.cmd.publish(this.#ctx.keys.inbox(node), encodeWire(msg));
  }

  /** A kick or answer for a stream on this node (from another node, or from this one). */
  received(msg: KickMessage | AnswerMessage): void {
    const hub = this.#ctx.hub;
    if (msg.kind === 'kick' && msg.reason === 'removed') {
      // The holder's own release forgets the registration (and takes its own epoch).
      hub.remove(msg.clientId, msg.deviceId);
      return;
    }
    const s = hub.device(msg.clientId, msg.deviceId)?.session;
    if (!s || s.sid !== msg.sessionId) return;
    if (msg.kind === 'kick') {
      this.#kicked.set(s, msg.epoch);
      s.close(msg.reason);
      return;
    }
    s.inbound('pong', Date.now());
    if (msg.cursor) s.ack(msg.cursor);
  }

  /** The claim epoch of a session another node's claim closed; undefined when it left otherwise. */
  kickedEpoch(s: Session): number | undefined {
    return this.#kicked.get(s);
  }
}
