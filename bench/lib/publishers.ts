import type { PublishResult, PublishRun } from '../load/publisher.js';
import { nextSourceAddress } from './addresses.js';
import { type Spawned, spawnBenchProcess } from './children.js';
import { Histogram } from './histogram.js';
import type { ServerHandle } from './servers.js';

/** Requests in flight per keep-alive connection of the lean client (1: plain keep-alive, no pipelining). */
export const DEFAULT_PIPELINING = 1;

export interface PublishTotals {
  ok: number;
  failed: number;
  notifications: number;
  elapsedMs: number;
  /** Requests (or notifications, for batches) per second over the run. */
  requestsPerSec: number;
  notificationsPerSec: number;
  latency: Histogram;
  statuses: Record<string, number>;
  late: number;
  /** Publisher CPU per request, µs (all publisher processes). */
  publisherCpuUsPerRequest: number;
  /** Publisher CPU as % of one core, summed over its processes. */
  publisherCpuPct: number;
  /** The publishers' longest event-loop stall, ms. */
  loopDelayMaxMs: number;
  /** Per publisher process (in order): `data._s` of its requests that failed (see PublishResult). */
  failedSeqs: number[][];
  /** Per publisher process (in order): requests answered 2xx (with `nodes`, process i's node is i mod n). */
  okByProcess: number[];
}

export type PublishSpec = Omit<PublishRun, 'port' | 'localAddress' | 'offset' | 'headers' | 'pathTemplate' | 'client' | 'pipelining'> & {
  target: 'client' | 'batch';
  client?: PublishRun['client'];
  pipelining?: number;
};

/**
 * Publisher processes for one server, kept for a whole scenario so its phases (and interleaved
 * slices) do not pay a process start each. Each process gets its own slice of the client ids and
 * its own source address. With `nodes` (a cluster), process i publishes to node i mod n, so every
 * node gets its share of the publishers; without, every process publishes to `server`.
 */
export class PublisherPool {
  readonly #server: ServerHandle;
  readonly #procs: Spawned[];
  readonly #addresses: string[];
  /** The server each process publishes to. */
  readonly #targets: ServerHandle[];

  private constructor(server: ServerHandle, procs: Spawned[], nodes: ServerHandle[] | undefined) {
    this.#server = server;
    this.#procs = procs;
    this.#addresses = procs.map(() => nextSourceAddress());
    this.#targets = procs.map((_, i) => (nodes?.length ? nodes[i % nodes.length] : server));
  }

  static create(server: ServerHandle, processes: number, nodes?: ServerHandle[]): PublisherPool {
    return new PublisherPool(
      server,
      Array.from({ length: processes }, (_, i) => spawnBenchProcess('load/publisher.ts', `publisher${i}`)),
      nodes,
    );
  }

  async run(spec: PublishSpec): Promise<PublishTotals> {
    const kind = this.#server.kind;
    const n = this.#procs.length;
    const pathTemplate = spec.target === 'batch' ? kind.paths.batch : kind.paths.client('{c}');
    const results = await Promise.all(
      this.#procs.map((p, i) =>
        p.rpc.call<PublishResult>(
          'run',
          {
            ...spec,
            client: spec.client ?? 'lean',
            pipelining: spec.pipelining ?? DEFAULT_PIPELINING,
            rate: spec.rate / n,
            port: this.#targets[i].port,
            headers: kind.headers,
            pathTemplate,
            offset: Math.floor((i * spec.clients) / n),
            localAddress: this.#addresses[i],
          } satisfies PublishRun,
          spec.durationMs + 120_000,
        ),
      ),
    );
    const elapsed = Math.max(...results.map((r) => r.elapsedMs));
    const statuses: Record<string, number> = {};
    for (const r of results) for (const [k, v] of Object.entries(r.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
    const sum = (f: (r: PublishResult) => number) => results.reduce((a, r) => a + f(r), 0);
    const ok = sum((r) => r.ok);
    const failed = sum((r) => r.failed);
    const notifications = sum((r) => r.notifications);
    const cpuUs = sum((r) => r.cpuUs);
    return {
      ok,
      failed,
      notifications,
      elapsedMs: elapsed,
      requestsPerSec: (ok / elapsed) * 1000,
      notificationsPerSec: (notifications / elapsed) * 1000,
      latency: Histogram.from(results.map((r) => r.latency)),
      statuses,
      late: sum((r) => r.late),
      publisherCpuUsPerRequest: cpuUs / Math.max(1, ok + failed),
      publisherCpuPct: (cpuUs / 1000 / elapsed) * 100,
      loopDelayMaxMs: Math.max(0, ...results.map((r) => r.loopDelayMaxMs)),
      failedSeqs: results.map((r) => r.failedSeqs ?? []),
      okByProcess: results.map((r) => r.ok),
    };
  }

  async close(): Promise<void> {
    await Promise.all(
      this.#procs.map(async (p) => {
        await p.rpc.call('close', {}, 5000).catch(() => undefined);
        await p.waitExit(5000);
      }),
    );
  }
}

/** Adds up the slices of one phase run in several turns. */
export function addTotals(parts: PublishTotals[]): PublishTotals {
  const sum = (f: (r: PublishTotals) => number) => parts.reduce((a, r) => a + f(r), 0);
  const elapsed = sum((r) => r.elapsedMs);
  const statuses: Record<string, number> = {};
  for (const r of parts) for (const [k, v] of Object.entries(r.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
  const ok = sum((r) => r.ok);
  const failed = sum((r) => r.failed);
  const notifications = sum((r) => r.notifications);
  const cpuUs = sum((r) => r.publisherCpuUsPerRequest * (r.ok + r.failed));
  return {
    ok,
    failed,
    notifications,
    elapsedMs: elapsed,
    requestsPerSec: elapsed ? (ok / elapsed) * 1000 : 0,
    notificationsPerSec: elapsed ? (notifications / elapsed) * 1000 : 0,
    latency: Histogram.from(parts.map((r) => r.latency.toJSON())),
    statuses,
    late: sum((r) => r.late),
    publisherCpuUsPerRequest: cpuUs / Math.max(1, ok + failed),
    publisherCpuPct: elapsed ? (cpuUs / 1000 / elapsed) * 100 : 0,
    loopDelayMaxMs: Math.max(0, ...parts.map((r) => r.loopDelayMaxMs)),
    failedSeqs: [],
    okByProcess: parts.reduce<number[]>((acc, r) => {
      r.okByProcess.forEach((v, i) => {
        acc[i] = (acc[i] ?? 0) + v;
      });
      return acc;
    }, []),
  };
}
