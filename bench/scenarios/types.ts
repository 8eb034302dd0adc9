import type { DevicePool } from '../lib/devices.js';
import type { PublisherPool } from '../lib/publishers.js';
import type { BenchRedis } from '../lib/redis.js';
import type { ServerHandle } from '../lib/servers.js';
import type { Sizes } from '../lib/sizes.js';
import type { ServerId, ServerKind, ServerSettings } from '../servers/kinds.js';

/** One panel of the chart: per server, a bar for each key (p50, p99, max; or one throughput). */
export interface ChartSpec {
  title: string;
  unit: string;
  keys: { key: string; label: string }[];
  /** Log scale (latencies spanning 1 ms to seconds). */
  log?: boolean;
}

/** One number a scenario reports per server. */
export interface MetricSpec {
  key: string;
  label: string;
  unit: string;
  better: 'higher' | 'lower';
  /** Decimals shown in the table. @default 0 */
  digits?: number;
  /** Shown instead of `—` when the value is null because the server does not expose it (e.g. `n/a`). */
  missing?: string;
}

/** Metrics of one scenario for one server (null: not measured, e.g. the server failed). */
export type Metrics = Record<string, number | null>;

/** A target of the issue, judged on Herald's numbers and the peers' within the run. */
export interface Target {
  id: string;
  /** As the issue words it. */
  text: string;
  evaluate(byServer: Partial<Record<ServerId, Metrics>>): TargetResult;
}

export interface TargetResult {
  /** What was measured, in words (`0.91 × raw ws`). */
  measured: string;
  met: boolean | null;
  /** How far from the target: measured ÷ bound (higher is better for ≥, lower for ≤). */
  ratio: number | null;
}

export interface ScenarioOutcome {
  metrics: Metrics;
  notes?: string[];
  /** Raw extras for the JSON file (histograms summaries, close codes, …). */
  details?: Record<string, unknown>;
}

/** What a scenario gets for one server. Everything it starts through here is stopped afterwards. */
export interface ScenarioContext {
  kind: ServerKind;
  sizes: Sizes;
  /** The publishers' HTTP client (see load/http-client.ts). */
  httpClient: 'lean' | 'agent';
  /** Where diagnostics may write heap snapshots (`--heap-snapshot`), or null. */
  heapSnapshotDir: string | null;
  /**
   * An older build of Herald to measure beside this one (`--baseline-dist <its dist/>`), started
   * with `startServer({ dist })` by the scenarios that compare builds (inbox-publish); or null.
   */
  baselineDist: string | null;
  log(msg: string): void;
  /**
   * Starts a server process. A kind that needs Redis (`kind.redis`) gets a private redis-server of
   * its own unless `settings.redisUrl` names one ({@link startRedis}); it is stopped after the scenario.
   */
  startServer(settings?: Partial<ServerSettings>): Promise<ServerHandle>;
  /** A private redis-server for this scenario (several servers of a cluster share it); with `shards`, a Redis Cluster of that many. */
  startRedis(shards?: number): Promise<BenchRedis>;
  /** `nodes`: a cluster's servers, devices spread over them; `track`: exact delivery tracking. */
  openDevices(server: ServerHandle, capacity: number, opts?: { nodes?: ServerHandle[]; track?: boolean; workers?: number }): Promise<DevicePool>;
  /** `nodes`: a cluster's servers, publisher process i publishing to node i mod n (else all to `server`). */
  openPublishers(server: ServerHandle, processes: number, opts?: { nodes?: ServerHandle[] }): PublisherPool;
}

/**
 * One benchmark scenario: a module under bench/scenarios/ listed in index.ts. A later scenario
 * (SSE, gRPC, the Redis store, a cluster) is one more module with its metrics and targets.
 */
export interface Scenario {
  id: string;
  title: string;
  /** Which servers it applies to. @default all */
  servers?: ServerId[];
  /** The numbers it reports (labels may name the sizes of the run). */
  metrics(sizes: Sizes): MetricSpec[];
  targets: Target[];
  /**
   * The ratio columns of the table: [subject, peer] pairs. @default Herald ÷ each peer (issue 4's
   * scenarios); scenarios of other servers name their own.
   */
  ratios?: [ServerId, ServerId][];
  /** Panels of the run's SVG chart. */
  charts?: ChartSpec[];
  /** One server at a time: a fresh server process and fresh load processes for each. */
  run?(ctx: ScenarioContext): Promise<ScenarioOutcome>;
  /**
   * All servers at once, their measurements interleaved (server A, B, C, A, B, C, …), so the
   * background load of a shared machine falls on each alike and the ratios stay fair.
   */
  runTogether?(ctxs: ScenarioContext[]): Promise<ScenarioOutcome[]>;
}

/** The p50 / p99 / max latency rows most delivery scenarios report (ms). */
export const LATENCY_METRICS: MetricSpec[] = [
  { key: 'p50', label: 'latency p50', unit: 'ms', better: 'lower', digits: 1 },
  { key: 'p99', label: 'latency p99', unit: 'ms', better: 'lower', digits: 1 },
  { key: 'max', label: 'latency max', unit: 'ms', better: 'lower', digits: 1 },
];

/** A log-scale chart of those three latencies. */
export function latencyChart(title: string): ChartSpec {
  return {
    title,
    unit: 'ms',
    log: true,
    keys: [
      { key: 'p50', label: 'p50' },
      { key: 'p99', label: 'p99' },
      { key: 'max', label: 'max' },
    ],
  };
}
