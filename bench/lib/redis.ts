import { Redis } from 'ioredis';
import { startRedis, startRedisCluster, type TestRedis, type TestRedisCluster } from '../../test/support/redis.js';

/** What a redis-server did between two samples. */
export interface RedisDelta {
  /** used_cpu_user + used_cpu_sys (main thread and I/O threads), µs. */
  cpuUs: number;
  wallMs: number;
  /** Commands executed (INFO commandstats `calls`, summed), without the bench's own INFO calls. */
  calls: number;
  byCommand: Record<string, number>;
  /**
   * Time Redis spent executing each command (INFO commandstats `usec`), µs. A script's own entry
   * (`evalsha`) includes what it ran inside; what is left of `cpuUs` is reading, writing and the
   * event loop.
   */
  usecByCommand: Record<string, number>;
}

interface Sample {
  cpuUs: number;
  atMs: number;
  calls: Record<string, number>;
  usec: Record<string, number>;
  shardCpuUs: number[];
}

/**
 * A private redis-server for one scenario, started like the tests' harness does (its own free
 * port on 127.0.0.1, its own temporary dir, no persistence; never the machine's Redis on 6379),
 * and read through `INFO cpu` and `INFO commandstats`, never through anything the servers use.
 */
export class BenchRedis {
  readonly #server: TestRedis | TestRedisCluster;
  /** One per redis-server (each shard of a cluster). */
  readonly #clients: Redis[];

  private constructor(server: TestRedis | TestRedisCluster) {
    this.#server = server;
    const urls = 'nodes' in server ? server.nodes.map((n) => n.url) : [server.url];
    this.#clients = urls.map((u) => new Redis(u, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false }));
  }

  static async start(): Promise<BenchRedis> {
    const r = new BenchRedis(await startRedis());
    await Promise.all(r.#clients.map((c) => c.connect()));
    return r;
  }

  /** A Redis Cluster of `shards` redis-servers; samples add up every shard (see {@link shardCpuUs}). */
  static async startCluster(shards: number): Promise<BenchRedis> {
    const r = new BenchRedis(await startRedisCluster(shards));
    await Promise.all(r.#clients.map((c) => c.connect()));
    return r;
  }

  /** Whether this is a Redis Cluster (the servers then need REDIS_CLUSTER). */
  get cluster(): boolean {
    return 'nodes' in this.#server;
  }

  get url(): string {
    return this.#server.url;
  }

  get pid(): number | undefined {
    return 'nodes' in this.#server ? this.#server.nodes[0].process.pid : this.#server.process.pid;
  }

  async sample(): Promise<Sample> {
    const texts = await Promise.all(this.#clients.map((c) => c.info('all')));
    const calls: Record<string, number> = {};
    const usec: Record<string, number> = {};
    const shardCpuUs: number[] = [];
    for (const text of texts) {
      const num = (k: string) => Number(new RegExp(`^${k}:([0-9.]+)`, 'm').exec(text)?.[1] ?? 0);
      for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
        calls[m[1]] = (calls[m[1]] ?? 0) + Number(m[2]);
        usec[m[1]] = (usec[m[1]] ?? 0) + Number(m[3]);
      }
      shardCpuUs.push((num('used_cpu_user') + num('used_cpu_sys')) * 1e6);
    }
    return { cpuUs: shardCpuUs.reduce((a, b) => a + b, 0), atMs: performance.now(), calls, usec, shardCpuUs };
  }

  /** Each shard's CPU between two samples, µs (one entry for a single server). */
  shardCpuUs(a: Sample, b: Sample): number[] {
    return b.shardCpuUs.map((v, i) => v - (a.shardCpuUs[i] ?? 0));
  }

  delta(a: Sample, b: Sample): RedisDelta {
    const byCommand: Record<string, number> = {};
    const usecByCommand: Record<string, number> = {};
    for (const [k, v] of Object.entries(b.usec)) if (k !== 'info' && v > (a.usec[k] ?? 0)) usecByCommand[k] = v - (a.usec[k] ?? 0);
    let calls = 0;
    for (const [k, v] of Object.entries(b.calls)) {
      if (k === 'info') continue;
      const d = v - (a.calls[k] ?? 0);
      if (d > 0) {
        byCommand[k] = d;
        calls += d;
      }
    }
    return { cpuUs: b.cpuUs - a.cpuUs, wallMs: b.atMs - a.atMs, calls, byCommand, usecByCommand };
  }

  async stop(): Promise<void> {
    for (const c of this.#clients) c.disconnect();
    await this.#server.stop();
  }
}

/** The six commands executed most in `r`, each per `per` operations: `hset 1.00, xadd 1.00, …`. */
export const topCommands = (r: RedisDelta, per: number): string =>
  Object.entries(r.byCommand)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 6)
    .map(([k, v]) => `${k} ${(v / Math.max(1, per)).toFixed(2)}`)
    .join(', ');
