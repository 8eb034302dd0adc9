import { BENCH_JWT_SECRET } from '../servers/kinds.js';
import { nextSourceAddress } from './addresses.js';
import { type Spawned, spawnBenchProcess } from './children.js';
import { Histogram, type HistogramData } from './histogram.js';
import type { ServerHandle } from './servers.js';

/** At most this many devices per load process: far below the 20 000-file limit, and one port range. */
export const DEVICES_PER_WORKER = 5000;
/** Handshakes in flight per load process. */
const CONNECT_CONCURRENCY = 64;

interface WorkerReport {
  open: number;
  closed: number;
  closeCodes: Record<string, number>;
  received: number;
  pings: number;
  bytes: number;
  lastAt: number;
  latency: HistogramData;
  latencyRemote: HistogramData;
  loopDelayMaxMs: number;
  gcMaxMs: number;
}

export interface ConnectResult {
  open: number;
  failed: number;
  errors: Record<string, number>;
  elapsedMs: number;
  /** Time from `new WebSocket` to the stream being ready (welcome / connect ack / open). */
  handshake: Histogram;
}

export interface PoolReport {
  open: number;
  closed: number;
  closeCodes: Record<string, number>;
  received: number;
  pings: number;
  bytes: number;
  lastAt: number;
  latency: Histogram;
  /** Deliveries to devices not on the first node (cluster scenarios): cross-node. */
  latencyRemote: Histogram;
  /** The longest event-loop stall of any load process in this phase (part of every latency it measured). */
  loopDelayMaxMs: number;
  /** The longest GC pause of any load process in this phase. */
  gcMaxMs: number;
}

export interface StormResult {
  open: number;
  failed: number;
  errors: Record<string, number>;
  handshake: Histogram;
  /** From the drop to the last device having its stream back and its replay received. */
  allResumedMs: number;
  /** Devices whose resume was not honoured (Herald `resumed` not true; Socket.IO a new session). */
  notResumed: number;
  /** Devices whose replay had not all arrived at the timeout. */
  notCaughtUp: number;
}

export interface VerifyResult {
  expected: number;
  lost: number;
  dups: number;
  unexpected: number;
  devicesWithLoss: number;
  examples: string[];
}

/**
 * The devices of one scenario, spread over load processes of up to {@link DEVICES_PER_WORKER}
 * each, every process on its own loopback source address. Client ids are `u0` … `u<n-1>`, one
 * device per client.
 */
export class DevicePool {
  readonly #workers: { proc: Spawned; first: number; count: number }[];
  readonly server: ServerHandle;
  readonly capacity: number;
  readonly #seqWaiters = new Map<number, { need: number; got: number; lastAt: number; done: (r: { complete: boolean; lastAt: number }) => void }>();

  private constructor(server: ServerHandle, workers: { proc: Spawned; first: number; count: number }[], capacity: number) {
    this.server = server;
    this.#workers = workers;
    this.capacity = capacity;
    for (const w of workers) {
      w.proc.rpc.on('seq', (e) => this.#onSeq(e.seq as number, e.lastAt as number));
    }
  }

  /**
   * Forks the load processes for up to `capacity` devices (two at least from 2 000 on, to use both
   * cores' slack). `nodes`: the servers of a cluster, devices spread over them round robin
   * (`u<k>` on node k mod n). `track`: devices keep what they received, for {@link verify}.
   */
  static async create(server: ServerHandle, capacity: number, opts: { nodes?: ServerHandle[]; track?: boolean; workers?: number } = {}): Promise<DevicePool> {
    const n = opts.workers ?? Math.max(Math.ceil(capacity / DEVICES_PER_WORKER), capacity >= 2000 ? 2 : 1);
    const per = Math.ceil(capacity / n);
    const workers: { proc: Spawned; first: number; count: number }[] = [];
    for (let i = 0; i < n; i++) {
      const first = i * per;
      const count = Math.min(per, capacity - first);
      workers.push({ proc: spawnBenchProcess('load/worker.ts', `load${i}`), first, count });
    }
    const pool = new DevicePool(server, workers, capacity);
    try {
      await Promise.all(
        workers.map((w) =>
          w.proc.rpc.call('init', {
            server: server.kind.id,
            transport: server.kind.transport ?? 'ws',
            ports: (opts.nodes ?? [server]).map((s) => (server.kind.transport === 'grpc' ? Number(s.info.grpcPort) : s.port)),
            track: opts.track ?? false,
            first: w.first,
            count: w.count,
            localAddress: nextSourceAddress(),
            secret: BENCH_JWT_SECRET,
            concurrency: CONNECT_CONCURRENCY,
          }),
        ),
      );
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  /** Connects devices until `total` are connected (spread evenly over the load processes). */
  async connect(total: number): Promise<ConnectResult> {
    const t0 = performance.now();
    const share = total / this.capacity;
    const results = await Promise.all(
      this.#workers.map((w) =>
        w.proc.rpc.call<{ open: number; failed: number; errors: Record<string, number>; elapsedMs: number; handshake: HistogramData }>(
          'connect',
          { upTo: Math.round(w.count * share) },
          10 * 60_000,
        ),
      ),
    );
    const errors: Record<string, number> = {};
    for (const r of results) for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v;
    return {
      open: results.reduce((a, r) => a + r.open, 0),
      failed: results.reduce((a, r) => a + r.failed, 0),
      errors,
      elapsedMs: performance.now() - t0,
      handshake: Histogram.from(results.map((r) => r.handshake)),
    };
  }

  /** Resets every counter; with `seqTracking`, {@link waitSeq} can wait for a broadcast to reach everyone. */
  async phase(seqTracking: boolean): Promise<number> {
    const r = await Promise.all(this.#workers.map((w) => w.proc.rpc.call<{ open: number }>('phase', { seqTracking })));
    return r.reduce((a, x) => a + x.open, 0);
  }

  /**
   * Resolves when every load process has seen broadcast `seq` on all its devices (`complete`), or at
   * the timeout; `lastAt` is when the last device got it. Call before publishing.
   */
  waitSeq(seq: number, timeoutMs: number): Promise<{ complete: boolean; lastAt: number }> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const w = this.#seqWaiters.get(seq);
        this.#seqWaiters.delete(seq);
        resolve({ complete: false, lastAt: w?.lastAt ?? 0 });
      }, timeoutMs);
      this.#seqWaiters.set(seq, {
        need: this.#workers.length,
        got: 0,
        lastAt: 0,
        done: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
      });
    });
  }

  #onSeq(seq: number, lastAt: number): void {
    const w = this.#seqWaiters.get(seq);
    if (!w) return;
    w.got++;
    w.lastAt = Math.max(w.lastAt, lastAt);
    if (w.got >= w.need) {
      this.#seqWaiters.delete(seq);
      w.done({ complete: true, lastAt: w.lastAt });
    }
  }

  async report(): Promise<PoolReport> {
    const rs = await Promise.all(this.#workers.map((w) => w.proc.rpc.call<WorkerReport>('report')));
    const closeCodes: Record<string, number> = {};
    for (const r of rs) for (const [k, v] of Object.entries(r.closeCodes)) closeCodes[k] = (closeCodes[k] ?? 0) + v;
    return {
      open: rs.reduce((a, r) => a + r.open, 0),
      closed: rs.reduce((a, r) => a + r.closed, 0),
      closeCodes,
      received: rs.reduce((a, r) => a + r.received, 0),
      pings: rs.reduce((a, r) => a + r.pings, 0),
      bytes: rs.reduce((a, r) => a + r.bytes, 0),
      lastAt: Math.max(0, ...rs.map((r) => r.lastAt)),
      latency: Histogram.from(rs.map((r) => r.latency)),
      latencyRemote: Histogram.from(rs.map((r) => r.latencyRemote)),
      loopDelayMaxMs: Math.max(0, ...rs.map((r) => r.loopDelayMaxMs)),
      gcMaxMs: Math.max(0, ...rs.map((r) => r.gcMaxMs)),
    };
  }

  /** Waits until the devices have received `expected` notifications in this phase (or the timeout). */
  async waitReceived(expected: number, timeoutMs: number): Promise<PoolReport> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const r = await this.report();
      if (r.received >= expected || performance.now() >= deadline) return r;
      await new Promise((res) => setTimeout(res, 100));
    }
  }

  /**
   * Reconnect storm: every device drops its connection at the same moment and reconnects with its
   * resume position, `lanes` handshakes in flight per load process. Times are from the first drop.
   */
  async storm(lanes: number, timeoutMs: number): Promise<StormResult> {
    const rs = await Promise.all(
      this.#workers.map((w) =>
        w.proc.rpc.call<{
          t0: number;
          open: number;
          failed: number;
          errors: Record<string, number>;
          handshake: HistogramData;
          lastResumedAt: number;
          notResumed: number;
          notCaughtUp: number;
        }>('storm', { lanes, timeoutMs }, timeoutMs + 60_000),
      ),
    );
    const t0 = Math.min(...rs.map((r) => r.t0));
    const errors: Record<string, number> = {};
    for (const r of rs) for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v;
    const sum = (f: (r: (typeof rs)[number]) => number) => rs.reduce((a, r) => a + f(r), 0);
    return {
      open: sum((r) => r.open),
      failed: sum((r) => r.failed),
      errors,
      handshake: Histogram.from(rs.map((r) => r.handshake)),
      allResumedMs: Math.max(...rs.map((r) => r.lastResumedAt)) - t0,
      notResumed: sum((r) => r.notResumed),
      notCaughtUp: sum((r) => r.notCaughtUp),
    };
  }

  /** Exact delivery check of a tracked pool (see the worker's `verify`). */
  async verify(total: number, offset: number, clients: number, ambiguous: number[]): Promise<VerifyResult> {
    const rs = await Promise.all(this.#workers.map((w) => w.proc.rpc.call<VerifyResult>('verify', { total, offset, clients, ambiguous }, 60_000)));
    return {
      expected: rs.reduce((a, r) => a + r.expected, 0),
      lost: rs.reduce((a, r) => a + r.lost, 0),
      dups: rs.reduce((a, r) => a + r.dups, 0),
      unexpected: rs.reduce((a, r) => a + r.unexpected, 0),
      devicesWithLoss: rs.reduce((a, r) => a + r.devicesWithLoss, 0),
      examples: rs.flatMap((r) => r.examples).slice(0, 5),
    };
  }

  async close(): Promise<void> {
    await Promise.all(
      this.#workers.map(async (w) => {
        await w.proc.rpc.call('close', {}, 10_000).catch(() => undefined);
        await w.proc.waitExit(5000);
      }),
    );
  }
}
