import { startPostgres, type TestPostgres } from '../../test/support/postgres.js';

/**
 * A private PostgreSQL for one scenario, started like the tests' harness does (initdb in a
 * temporary directory, its own free port on 127.0.0.1; never the machine's PostgreSQL on 5432),
 * but with PostgreSQL's default durability (fsync and synchronous commit on): a 202 is on disk.
 */
export class BenchPostgres {
  readonly #server: TestPostgres;

  private constructor(server: TestPostgres) {
    this.#server = server;
  }

  static async start(): Promise<BenchPostgres> {
    return new BenchPostgres(await startPostgres({ durable: true }));
  }

  get url(): string {
    return this.#server.url;
  }

  get pid(): number | undefined {
    return this.#server.process?.pid;
  }

  async stop(): Promise<void> {
    await this.#server.destroy();
  }
}
