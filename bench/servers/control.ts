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
  eventLoopUtilization: number;
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
        return { userUs: u.user, systemUs: u.system, atMs: performance.now(), eventLoopUtilization: delta.utilization };
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
