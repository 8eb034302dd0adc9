import { monitorEventLoopDelay, PerformanceObserver, performance } from 'node:perf_hooks';
import { writeHeapSnapshot } from 'node:v8';
import { emitEvent, serveRpc } from '../lib/ipc.js';
import type { ServerSettings } from './kinds.js';

export interface StartedServer {
  port: number;
  /** Anything worth recording (versions, options). */
  info?: Record<string, unknown>;
}

export interface MemorySample {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

export interface CpuSample {
  /** process.cpuUsage() in µs. */
  userUs: number;
  systemUs: number;
  /** performance.now() in ms, for the wall time between two samples. */
  atMs: number;
  /** Monotonic µs (process.hrtime), the clock of a `--cpu-prof` profile's timestamps. */
  hrUs: number;
  eventLoopUtilization: number;
  /** GC pauses since the process started: count and total ms; the longest since the previous sample. */
  gcCount: number;
  gcTotalMs: number;
  gcMaxMs: number;
  /** The longest event-loop delay since the previous sample (ms): the server's own stalls. */
  loopDelayMaxMs: number;
}

const gc = (globalThis as { gc?: () => void }).gc;
/** A server process never lives longer than this, whatever happens to the orchestrator. */
const MAX_LIFETIME_MS = 30 * 60_000;

/**
 * The bench side of every server wrapper: the orchestrator starts the server with `start`, reads
 * memory after GC and CPU time over IPC (never through the server's own public API, which would
 * add its own cost), and stops it with `stop`. The process exits with `process.exit`, so a
 * `--cpu-prof` profile is written without waiting for 15 000 sockets to close gracefully.
 */
export function runServer(start: (settings: ServerSettings) => Promise<StartedServer>): void {
  let elu = performance.eventLoopUtilization();
  // GC pauses stop the event loop: they are what a latency tail is often made of.
  const gcStats = { count: 0, totalMs: 0, maxMs: 0 };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcStats.count++;
      gcStats.totalMs += e.duration;
      if (e.duration > gcStats.maxMs) gcStats.maxMs = e.duration;
    }
  }).observe({ entryTypes: ['gc'] });
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  serveRpc(
    {
      start: (req) => start(req.settings as ServerSettings),
      mem: async (): Promise<MemorySample> => {
        if (!gc) throw new Error('server started without --expose-gc');
        // Several passes, each after a turn: weak callbacks and finalizers release more memory.
        for (let i = 0; i < 3; i++) {
          gc();
          await new Promise((r) => setImmediate(r));
        }
        const m = process.memoryUsage();
        return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers };
      },
      cpu: (): CpuSample => {
        const u = process.cpuUsage();
        const now = performance.eventLoopUtilization();
        const delta = performance.eventLoopUtilization(now, elu);
        elu = now;
        const sample: CpuSample = {
          userUs: u.user,
          systemUs: u.system,
          atMs: performance.now(),
          hrUs: Number(process.hrtime.bigint() / 1000n),
          eventLoopUtilization: delta.utilization,
          gcCount: gcStats.count,
          gcTotalMs: gcStats.totalMs,
          gcMaxMs: gcStats.maxMs,
          loopDelayMaxMs: loopDelay.max / 1e6,
        };
        gcStats.maxMs = 0;
        loopDelay.reset();
        return sample;
      },
      /** A V8 heap snapshot (diagnostics: what a connection is made of). */
      'heap-snapshot': (req) => {
        gc?.();
        return writeHeapSnapshot(req.path as string);
      },
      stop: () => {
        setImmediate(() => process.exit(0));
        return true;
      },
    },
    MAX_LIFETIME_MS,
  );
  emitEvent('spawned', { pid: process.pid });
}
