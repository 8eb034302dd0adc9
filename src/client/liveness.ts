import { type Clock, systemClock } from './clock.js';

/** How the SDK decides that the server is gone. */
export interface LivenessOptions {
  /**
   * Silence longer than this means the server is gone. The SDK uses the welcome's
   * `heartbeat.intervalMs × heartbeatMisses + heartbeat.timeoutMs` (before the welcome: the
   * connect timeout).
   */
  limitMs: number;
  /**
   * A check that runs later than this past its due time ran in a throttled or frozen page: its
   * verdict waits for {@link graceMs}, so that data queued while the page slept is read first.
   * @default max(1000, limitMs / 2)
   */
  lateToleranceMs?: number;
  /** After a late check, how long buffered data gets to arrive. @default min(limitMs, 5000) */
  graceMs?: number;
}

export type DeadVerdict = 'silent' | 'probe';

/**
 * Dead-server detection that a background tab's throttled timers cannot fool.
 *
 * A single "no frame for N ms" timer misfires in exactly the case it exists for: a tab that the
 * browser froze or throttled wakes up, its overdue timer fires before the socket events queued
 * meanwhile are dispatched, and a healthy connection is torn down. So a timer here only asks the
 * question; the answer comes from wall time and from data: any received data is liveness
 * ({@link data} just records the time), and a check that itself ran late (the page slept) gives
 * the socket a grace period to deliver what it holds before declaring the server gone.
 */
export class LivenessWatch {
  readonly #clock: Clock;
  readonly #onDead: (why: DeadVerdict) => void;
  #limitMs = 0;
  #lateToleranceMs = 0;
  #graceMs = 0;
  #lastDataAt = 0;
  #probeSince: number | null = null;
  #probeDeadline = 0;
  #timer: unknown = null;
  #dueAt = 0;

  constructor(onDead: (why: DeadVerdict) => void, clock: Clock = systemClock) {
    this.#onDead = onDead;
    this.#clock = clock;
  }

  /** (Re)starts watching with a fresh silence window from now; cancels any earlier watch. */
  start(opts: LivenessOptions): void {
    this.stop();
    this.#limitMs = Math.max(1, opts.limitMs);
    this.#lateToleranceMs = opts.lateToleranceMs ?? Math.max(1000, this.#limitMs / 2);
    this.#graceMs = opts.graceMs ?? Math.min(this.#limitMs, 5000);
    this.#lastDataAt = this.#clock.now();
    this.#arm(this.#lastDataAt + this.#limitMs);
  }

  /** Something arrived: the server is alive. Cheap — called for every frame. */
  data(): void {
    this.#lastDataAt = this.#clock.now();
    this.#probeSince = null;
  }

  /**
   * Asks for proof of life within `withinMs` (after the caller sent something that the server
   * answers, e.g. a WebSocket `ping`): used when the page wakes up or the network comes back.
   */
  probe(withinMs: number): void {
    if (this.#timer === null) return;
    const now = this.#clock.now();
    this.#probeSince = now;
    this.#probeDeadline = now + Math.max(1, withinMs);
    if (this.#probeDeadline < this.#dueAt) this.#arm(this.#probeDeadline);
  }

  get watching(): boolean {
    return this.#timer !== null;
  }

  /** When data last arrived (clock time). */
  get lastDataAt(): number {
    return this.#lastDataAt;
  }

  stop(): void {
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
    this.#probeSince = null;
  }

  #deadline(): number {
    const silent = this.#lastDataAt + this.#limitMs;
    return this.#probeSince === null ? silent : Math.min(silent, this.#probeDeadline);
  }

  #arm(at: number): void {
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#dueAt = at;
    this.#timer = this.#clock.setTimeout(this.#check, Math.max(0, at - this.#clock.now()));
  }

  readonly #check = (): void => {
    this.#timer = null;
    const now = this.#clock.now();
    const late = now - this.#dueAt;
    const deadline = this.#deadline();
    if (now < deadline) {
      this.#arm(deadline);
      return;
    }
    if (late > this.#lateToleranceMs) {
      // We slept through the deadline: what the socket received meanwhile may be queued behind
      // this very callback. Decide after it had its chance, on a timer that runs on time.
      this.#arm(now + this.#graceMs);
      return;
    }
    const why: DeadVerdict = this.#probeSince !== null && now - this.#lastDataAt < this.#limitMs ? 'probe' : 'silent';
    this.#probeSince = null;
    this.#onDead(why);
  };
}
