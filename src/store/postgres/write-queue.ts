/**
 * The PostgreSQL store's writer: every write that gives out positions goes through here. Appends
 * that arrive while others are in flight wait and leave together, as one batch (one
 * `append_batch` call, one transaction, one round trip). Up to `maxInFlight` batches are in flight
 * at once, but never two that touch the same stream: an append waits while its stream is in
 * flight, and so does every later append to that stream. That keeps the one rule the node needs:
 * appends to one stream resolve in position order (the node routes each when it resolves, and
 * with the local broker a device handed position 5 drops a 4 that comes after it). Two batches
 * sharing a stream could lock it in either order and resolve in the other.
 *
 * A task (an outbox claim, which may touch any stream) runs alone: after what is in flight, before
 * anything queued after it.
 */
export interface QueuedAppend<I, R> {
  item: I;
  resolve(r: R): void;
  reject(err: unknown): void;
}

type Job<I, R> = { kind: 'append'; a: QueuedAppend<I, R>; stream: string } | { kind: 'task'; run: () => Promise<void> };

export interface WriteQueueOptions<I, R> {
  /** Sends one batch; must settle every append in it (a rejection rejects those it did not). */
  flush(batch: QueuedAppend<I, R>[]): Promise<void>;
  /** The stream an item appends to. */
  streamOf(item: I): string;
  /** @default 500 */
  maxBatch?: number;
  /** Batches in flight at once (each holds a pooled connection). @default 4 */
  maxInFlight?: number;
}

export class WriteQueue<I, R> {
  readonly #o: WriteQueueOptions<I, R>;
  #jobs: Job<I, R>[] = [];
  readonly #busy = new Set<string>();
  #inFlight = 0;
  #taskRunning = false;
  #scheduled = false;
  /** Batches sent and items in them (for the bench and tests). */
  readonly stats = { batches: 0, items: 0, maxInFlight: 0 };

  constructor(opts: WriteQueueOptions<I, R>) {
    this.#o = opts;
  }

  append(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#jobs.push({ kind: 'append', a: { item, resolve, reject }, stream: this.#o.streamOf(item) });
      this.#schedule();
    });
  }

  /** Runs `fn` alone: after the batches in flight, before anything queued after it. */
  task(fn: () => Promise<void>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#jobs.push({ kind: 'task', run: () => fn().then(resolve, reject) });
      this.#schedule();
    });
  }

  get pending(): number {
    return this.#jobs.length;
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    // Let the appends of this event-loop turn join the first batch.
    queueMicrotask(() => {
      this.#scheduled = false;
      this.#pump();
    });
  }

  #pump(): void {
    while (!this.#taskRunning && this.#jobs.length > 0 && this.#inFlight < (this.#o.maxInFlight ?? 4)) {
      const first = this.#jobs[0];
      if (first.kind === 'task') {
        if (this.#inFlight > 0) return; // runs when the batches in flight are done
        this.#jobs.shift();
        this.#taskRunning = true;
        void first.run().finally(() => {
          this.#taskRunning = false;
          this.#pump();
        });
        return;
      }
      const batch = this.#take();
      if (batch.length === 0) return; // every queued stream is in flight
      void this.#send(batch);
    }
  }

  /** The next batch: queued appends (up to the first task) whose stream is free, in queue order. */
  #take(): QueuedAppend<I, R>[] {
    const max = this.#o.maxBatch ?? 500;
    const batch: QueuedAppend<I, R>[] = [];
    const streams = new Set<string>();
    const held = new Set<string>();
    const rest: Job<I, R>[] = [];
    let barrier = false;
    for (const job of this.#jobs) {
      if (barrier || job.kind === 'task') {
        barrier = true;
        rest.push(job);
      } else if (batch.length < max && !this.#busy.has(job.stream) && !held.has(job.stream)) {
        batch.push(job.a);
        streams.add(job.stream);
      } else {
        // Held back: so is every later append to its stream (order within a stream).
        held.add(job.stream);
        rest.push(job);
      }
    }
    this.#jobs = rest;
    for (const s of streams) this.#busy.add(s);
    return batch;
  }

  async #send(batch: QueuedAppend<I, R>[]): Promise<void> {
    this.#inFlight++;
    this.stats.batches++;
    this.stats.items += batch.length;
    this.stats.maxInFlight = Math.max(this.stats.maxInFlight, this.#inFlight);
    try {
      await this.#o.flush(batch);
    } catch (err) {
      for (const a of batch) a.reject(err);
    } finally {
      for (const a of batch) this.#busy.delete(this.#o.streamOf(a.item));
      this.#inFlight--;
      this.#pump();
    }
  }
}
