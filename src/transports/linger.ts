import type { HeraldConfig } from '../core/config.js';

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
