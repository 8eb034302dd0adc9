import pg from 'pg';
import type { Logger } from '../../core/logger.js';

export interface OutboxRelayOptions {
  /** Settings of the LISTEN connection (the pool's, one connection of its own). */
  connection: pg.ClientConfig;
  schema: string;
  nodeId: string;
  /**
   * `claim`: this node claims outbox rows and routes them itself (the Redis broker reaches every
   * node). `every-node`: it also reads the external log for other nodes' claims, because with the
   * local broker no other node would deliver them to this node's devices.
   */
  mode: 'claim' | 'every-node';
  /** Backstop poll when no NOTIFY arrives (a lost LISTEN connection, a claim that lost the race). @default 500 */
  pollMs?: number;
  /** Claims one batch (in the store's write queue); resolves with how many rows it took. */
  claim(): Promise<number>;
  /** Reads the external log after what was read last (every-node mode). */
  readExternal(): Promise<void>;
  log: Logger;
}

/** Rows claimed per transaction. */
export const CLAIM_LIMIT = 500;

/**
 * Wakes the claims of transactional publishes: LISTEN `<schema>_outbox` (sent by `publish()`, and
 * only on commit, since NOTIFY is transactional), plus a poll as backstop. One claim loop at a time
 * on this node; a wake during a claim runs another after it. The LISTEN connection reconnects with
 * backoff; each reconnect claims at once (NOTIFYs sent while it was away are lost).
 */
export class OutboxRelay {
  readonly #o: OutboxRelayOptions;
  #client: pg.Client | null = null;
  #poll: NodeJS.Timeout | null = null;
  #reconnect: NodeJS.Timeout | null = null;
  #backoffMs = 250;
  #closed = false;
  #claiming: Promise<void> | null = null;
  #claimAgain = false;
  #reading: Promise<void> | null = null;
  #readAgain = false;
  #lastError = '';

  constructor(opts: OutboxRelayOptions) {
    this.#o = opts;
  }

  start(): void {
    void this.#listen();
    this.#poll = setInterval(() => {
      this.wake();
      if (this.#o.mode === 'every-node') this.wakeReader();
    }, this.#o.pollMs ?? 500);
    this.#poll.unref();
    this.wake();
  }

  /** Claims until the outbox is empty (or a claim fails; the next wake retries). */
  wake(): void {
    if (this.#closed) return;
    if (this.#claiming) {
      this.#claimAgain = true;
      return;
    }
    this.#claiming = (async () => {
      try {
        do {
          this.#claimAgain = false;
          while ((await this.#o.claim()) >= CLAIM_LIMIT && !this.#closed) {}
        } while (this.#claimAgain && !this.#closed);
      } catch (err) {
        this.#failed('outbox claim', err);
      } finally {
        this.#claiming = null;
      }
    })();
  }

  wakeReader(): void {
    if (this.#closed || this.#o.mode !== 'every-node') return;
    if (this.#reading) {
      this.#readAgain = true;
      return;
    }
    this.#reading = (async () => {
      try {
        do {
          this.#readAgain = false;
          await this.#o.readExternal();
        } while (this.#readAgain && !this.#closed);
      } catch (err) {
        this.#failed('external log read', err);
      } finally {
        this.#reading = null;
      }
    })();
  }

  #failed(what: string, err: unknown): void {
    const msg = (err as Error).message;
    if (msg !== this.#lastError) this.#o.log.warn({ err }, `postgres ${what} failed; retrying`);
    this.#lastError = msg;
  }

  async #listen(): Promise<void> {
    if (this.#closed) return;
    const client = new pg.Client(this.#o.connection);
    this.#client = client;
    const lost = () => {
      if (this.#client !== client) return;
      this.#client = null;
      client.end().catch(() => {});
      this.#scheduleReconnect();
    };
    client.on('error', (err) => {
      this.#failed('LISTEN connection', err);
      lost();
    });
    client.on('end', lost);
    client.on('notification', (msg) => {
      if (msg.channel === `${this.#o.schema}_outbox`) this.wake();
      else if (msg.payload !== this.#o.nodeId) this.wakeReader();
    });
    try {
      await client.connect();
      await client.query(`LISTEN "${this.#o.schema}_outbox"`);
      if (this.#o.mode === 'every-node') await client.query(`LISTEN "${this.#o.schema}_external"`);
      if (this.#lastError) this.#o.log.info({}, 'postgres LISTEN connection ready');
      this.#lastError = '';
      this.#backoffMs = 250;
      // NOTIFYs sent while no connection listened are gone: look now.
      this.wake();
      this.wakeReader();
    } catch (err) {
      this.#failed('LISTEN connection', err);
      lost();
    }
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#reconnect) return;
    this.#reconnect = setTimeout(() => {
      this.#reconnect = null;
      void this.#listen();
    }, this.#backoffMs);
    this.#reconnect.unref();
    this.#backoffMs = Math.min(this.#backoffMs * 2, 5000);
  }

  /** Stops listening and polling; waits for a claim in progress. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#poll) clearInterval(this.#poll);
    if (this.#reconnect) clearTimeout(this.#reconnect);
    const client = this.#client;
    this.#client = null;
    await client?.end().catch(() => {});
    await this.#claiming;
    await this.#reading;
  }
}
