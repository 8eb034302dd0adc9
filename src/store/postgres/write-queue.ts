/**
 * The PostgreSQL store's writer: every write that gives out positions goes through here, one round
 * trip in flight at a time. Appends that arrive while one is in flight wait and leave together, as
 * one batch (one `append_batch` call, one transaction). Serial because results must resolve in
 * position order: the node routes each append when it resolves, and with the local broker a device
 * handed position 5 drops a 4 that comes after it. Two batches in flight at once could lock a
 * stream in either order and resolve in the other.
 */
export interface QueuedAppend<I, R> {
  item: I;
  resolve(r: R): void;
  reject(err: unknown): void;
}

type Job<I, R> = { kind: 'append'; a: QueuedAppend<I, R> } | { kind: 'task'; run: () => Promise<void> };

export class WriteQueue<I, R> {
  readonly #jobs: Job<I, R>[] = [];
  #head = 0;
  #busy = false;
  readonly #flushAppends: (batch: QueuedAppend<I, R>[]) => Promise<void>;
  readonly #maxBatch: number;
  /** Batches sent and items in them (for the bench and tests). */
  readonly stats = { batches: 0, items: 0 };

  /** `flushAppends` must settle every append of the batch it is handed. */
  constructor(flushAppends: (batch: QueuedAppend<I, R>[]) => Promise<void>, maxBatch = 500) {
    this.#flushAppends = flushAppends;
    this.#maxBatch = maxBatch;
  }

  append(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#jobs.push({ kind: 'append', a: { item, resolve, reject } });
      this.#kick();
    });
  }

  /** Runs `fn` between two batches, in queue order with the appends (outbox claims). */
  task(fn: () => Promise<void>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#jobs.push({ kind: 'task', run: () => fn().then(resolve, reject) });
      this.#kick();
    });
  }

  get pending(): number {
    return this.#jobs.length - this.#head;
  }

  #kick(): void {
    if (this.#busy) return;
    this.#busy = true;
    // Let the appends of this event-loop turn join the first batch too.
    queueMicrotask(() => void this.#drain());
  }

  async #drain(): Promise<void> {
    while (this.#head < this.#jobs.length) {
      const job = this.#jobs[this.#head];
      if (job.kind === 'task') {
        this.#head++;
        await job.run();
      } else {
        const batch: QueuedAppend<I, R>[] = [];
        while (this.#head < this.#jobs.length && batch.length < this.#maxBatch) {
          const next = this.#jobs[this.#head];
          if (next.kind !== 'append') break;
          batch.push(next.a);
          this.#head++;
        }
        this.stats.batches++;
        this.stats.items += batch.length;
        try {
          await this.#flushAppends(batch);
        } catch (err) {
          for (const a of batch) a.reject(err);
        }
      }
      if (this.#head > 1024 && this.#head * 2 > this.#jobs.length) {
        this.#jobs.splice(0, this.#head);
        this.#head = 0;
      }
    }
    this.#jobs.length = 0;
    this.#head = 0;
    this.#busy = false;
  }
}
