/** What the wheel schedules (a Session): its slot and due time live on the entry, so moving it allocates nothing. */
export interface WheelEntry {
  /** Called when due; the entry is already unscheduled. */
  onDue(now: number): void;
  /** @internal */ _due: number;
  /** @internal */ _slot: Set<WheelEntry> | null;
}

/**
 * A one-shot timer on the wheel for what is not a Session itself (a client's presence grace
 * period): calls `fire` when due, unless cancelled first.
 */
export class WheelTimer implements WheelEntry {
  _due = 0;
  _slot: Set<WheelEntry> | null = null;
  constructor(readonly fire: (now: number) => void) {}
  onDue(now: number): void {
    this.fire(now);
  }
}

/** How fine and how far the wheel sees. */
export interface TimerWheelOptions {
  /** Tick length in ms. */
  tickMs: number;
  /** Slots; entries further out than slots × tick wait for later laps. @default 512 */
  slots?: number;
  /** Clock, for tests. @default Date.now */
  now?: () => number;
}

/**
 * One timer for every connection: a hashed timer wheel. Each entry sits in the slot of the tick it
 * is due; a tick visits one slot, so its cost follows the entries due (plus the few parked for a
 * later lap), not the number of connections. The wheel's single interval runs only while it holds
 * entries and is unref'd, so an idle process keeps no timer alive.
 */
export class TimerWheel {
  readonly tickMs: number;
  readonly #slots: Set<WheelEntry>[];
  readonly #now: () => number;
  #size = 0;
  #timer: NodeJS.Timeout | null = null;
  /** The tick number processed last; ticks after it are still to run. */
  #tick: number;

  constructor(opts: TimerWheelOptions) {
    this.tickMs = Math.max(1, Math.floor(opts.tickMs));
    this.#slots = Array.from({ length: opts.slots ?? 512 }, () => new Set<WheelEntry>());
    this.#now = opts.now ?? Date.now;
    this.#tick = Math.floor(this.#now() / this.tickMs);
  }

  get size(): number {
    return this.#size;
  }

  /** Schedules (or moves) `entry` to run at `due` (ms since epoch). */
  schedule(entry: WheelEntry, due: number): void {
    if (entry._slot) entry._slot.delete(entry);
    else this.#size++;
    // Never into a tick already processed: the earliest is the next one.
    const tick = Math.max(Math.ceil(due / this.tickMs), this.#tick + 1);
    entry._due = due;
    const slot = this.#slots[tick % this.#slots.length];
    slot.add(entry);
    entry._slot = slot;
    if (this.#timer === null) this.#start();
  }

  cancel(entry: WheelEntry): void {
    if (!entry._slot) return;
    entry._slot.delete(entry);
    entry._slot = null;
    if (--this.#size === 0) this.#stop();
  }

  #start(): void {
    // Catch up from now: ticks between the last run and now had no entries.
    this.#tick = Math.max(this.#tick, Math.floor(this.#now() / this.tickMs) - 1);
    this.#timer = setInterval(() => this.advance(), this.tickMs);
    this.#timer.unref();
  }

  #stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** Runs every tick up to now. Called by the interval; tests with a fake clock call it directly. */
  advance(): void {
    const now = this.#now();
    const target = Math.floor(now / this.tickMs);
    // After a long stall (event loop blocked, laptop asleep) a full lap visits every slot once.
    const from = Math.max(this.#tick + 1, target - this.#slots.length + 1);
    for (let t = from; t <= target; t++) {
      this.#tick = t;
      this.#runSlot(this.#slots[t % this.#slots.length], now);
    }
    this.#tick = target;
  }

  #runSlot(slot: Set<WheelEntry>, now: number): void {
    if (slot.size === 0) return;
    for (const entry of slot) {
      if (entry._due > now) continue; // parked for a later lap
      slot.delete(entry);
      entry._slot = null;
      this.#size--;
      entry.onDue(now);
    }
    if (this.#size === 0) this.#stop();
  }

  /** Stops the timer and forgets every entry. */
  clear(): void {
    for (const slot of this.#slots) {
      for (const e of slot) e._slot = null;
      slot.clear();
    }
    this.#size = 0;
    this.#stop();
  }
}
