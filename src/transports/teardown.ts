import type { HeraldConfig } from '../core/config.js';
import type { CloseReason, DisconnectReason } from '../core/disconnect.js';
import type { Session } from '../core/session.js';

/**
 * How long an ended stream's last bytes get to leave before it is destroyed: about one pong
 * timeout, within [1 s, 10 s]. Long enough for a close frame behind a full socket buffer; short
 * enough that a peer that stopped reading cannot hold a socket, or the shutdown, for long.
 */
export function closeLingerMs(config: Pick<HeraldConfig, 'HEARTBEAT_TIMEOUT_MS'>): number {
  return Math.min(10_000, Math.max(1000, config.HEARTBEAT_TIMEOUT_MS));
}

/**
 * The teardown every transport shares: what was ended gracefully (a WebSocket sent its close
 * frame, an SSE response was ended, the gRPC server was asked to shut down) gets `ms` to finish on
 * its own, then is destroyed; at the end of shutdown whatever is left is destroyed at once.
 *
 * One timer for all of them, not one per stream: every item lingers equally long, so items expire
 * in the order they were added and the timer only ever waits for the oldest.
 */
export class Linger<T> {
  readonly #ms: number;
  readonly #destroy: (item: T) => void;
  /** Deadlines (ms since epoch) in insertion order, which is deadline order. */
  readonly #deadlines = new Map<T, number>();
  #timer: NodeJS.Timeout | null = null;

  /** `destroy` ends an item for good (terminate, destroy, force); it may trigger {@link finished}. */
  constructor(ms: number, destroy: (item: T) => void) {
    this.#ms = ms;
    this.#destroy = destroy;
  }

  /** Items still lingering. */
  get size(): number {
    return this.#deadlines.size;
  }

  /** `item` was ended: it is destroyed unless {@link finished} is called within the linger time. */
  add(item: T): void {
    this.#deadlines.delete(item);
    this.#deadlines.set(item, Date.now() + this.#ms);
    if (this.#timer === null) this.#arm();
  }

  /** `item` finished on its own (its socket closed): nothing left to destroy. */
  finished(item: T): void {
    if (this.#deadlines.delete(item) && this.#deadlines.size === 0) this.#disarm();
  }

  /** Destroys everything still lingering, now (end of shutdown). */
  destroyAll(): void {
    const items = [...this.#deadlines.keys()];
    this.#deadlines.clear();
    this.#disarm();
    for (const item of items) this.#destroy(item);
  }

  #arm(): void {
    const oldest = this.#deadlines.values().next();
    if (oldest.done) return;
    this.#timer = setTimeout(this.#expire, Math.max(0, oldest.value - Date.now()));
    this.#timer.unref();
  }

  #disarm(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  readonly #expire = (): void => {
    this.#timer = null;
    const now = Date.now();
    for (const [item, deadline] of this.#deadlines) {
      if (deadline > now) break;
      this.#deadlines.delete(item);
      this.#destroy(item);
    }
    if (this.#timer === null) this.#arm();
  };
}

/** What a connection writes to (a socket, an HTTP response, a gRPC call), for backpressure. */
interface OutboundStream {
  readonly writableLength: number;
  readonly writableNeedDrain: boolean;
}

/**
 * The part of a TransportConnection every transport shares: bytes buffered and backpressure read
 * from the stream it writes to, and the end of the stream, run once whoever asks: at once when the
 * peer is gone (nothing is sent), otherwise gracefully (the close goes out, then the transport
 * lets the stream {@link Linger}).
 */
export abstract class StreamConnection {
  /** The session the core made of this stream, once attached. */
  session: Session | null = null;
  readonly #out: OutboundStream;
  #ended = false;

  constructor(out: OutboundStream) {
    this.#out = out;
  }

  bufferedBytes(): number {
    return this.#out.writableLength;
  }

  writable(): boolean {
    return !this.#out.writableNeedDrain;
  }

  /** The core's end of the stream (TransportConnection.end); only the first call counts. */
  end(reason: CloseReason): void {
    if (this.#ended) return;
    this.#ended = true;
    if (reason === 'gone') this.destroy();
    else this.close(reason);
  }

  /** The peer went away: drop whatever is left, send nothing. */
  protected abstract destroy(): void;

  /** Sends the close (frame, event or final message) with its code, and ends the stream gracefully. */
  protected abstract close(reason: DisconnectReason): void;
}
