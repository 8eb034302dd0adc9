import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Histogram, nowMs } from '../lib/histogram.js';
import { type IpcRequest, serveRpc } from '../lib/ipc.js';
import { agentClient, leanClient } from './http-client.js';

/**
 * A publishing backend in its own process: keep-alive connections to one server's publish
 * endpoint (see http-client.ts for the two clients), closed-loop (as fast as `concurrency` requests in flight allow), paced
 * (open-loop at a fixed rate; latency counted from the scheduled send time, so a stalled server
 * is not hidden by a stalled publisher) or batched.
 */
export interface PublishRun {
  port: number;
  mode: 'closed' | 'paced' | 'batch';
  /** Path per client id (`{c}` replaced), or the batch path. */
  pathTemplate: string;
  headers: Record<string, string>;
  /** Targets are `u0` … `u<clients - 1>`, round robin from `offset`. */
  clients: number;
  offset: number;
  concurrency: number;
  /** paced: requests per second. */
  rate: number;
  durationMs: number;
  /** batch: items per request. */
  batchSize: number;
  /** `lean`: raw keep-alive sockets, `pipelining` deep; `agent`: node:http with a keep-alive Agent. */
  client: 'lean' | 'agent';
  /** lean: requests in flight per connection. */
  pipelining: number;
  localAddress: string;
  /**
   * Targeted publishes carry `collapseKey: "live"` (Herald's inbox): each replaces the client's
   * previous item, as a live score or a progress bar would. @default false
   */
  collapse?: boolean;
}

export interface PublishResult {
  ok: number;
  failed: number;
  /** Notifications accepted (items for the batch endpoint). */
  notifications: number;
  elapsedMs: number;
  statuses: Record<string, number>;
  latency: ReturnType<Histogram['toJSON']>;
  /** paced: requests that could not even be sent on schedule (publisher saturated). */
  late: number;
  /** This publisher's own CPU over the run (µs): shows when the load generator, not the server, is the limit. */
  cpuUs: number;
  /** Its longest event-loop stall (ms): a paced request waits it out before it is even sent. */
  loopDelayMaxMs: number;
  /** Sequence numbers (`data._s`) of the requests that did not get 2xx (at most the first 10 000). */
  failedSeqs: number[];
}

const MAX_LIFETIME_MS = 30 * 60_000;
const MAX_IN_FLIGHT = 5000;

async function run(r: PublishRun): Promise<PublishResult> {
  // `concurrency` requests in flight in all: over concurrency ÷ pipelining connections.
  const pipelining = r.client === 'lean' ? Math.max(1, r.pipelining) : 1;
  const opts = { port: r.port, localAddress: r.localAddress, headers: r.headers, connections: Math.max(1, Math.ceil(r.concurrency / pipelining)), pipelining };
  const http = r.client === 'lean' ? leanClient(opts) : agentClient(opts);
  const latency = new Histogram();
  const statuses: Record<string, number> = {};
  let ok = 0;
  let failed = 0;
  let notifications = 0;
  let seq = 0;
  let late = 0;
  const failedSeqs: number[] = [];

  const one = async (scheduledAt: number) => {
    const s = seq++;
    const t = scheduledAt;
    let path: string;
    let body: string;
    if (r.mode === 'batch') {
      const list = [];
      for (let k = 0; k < r.batchSize; k++) {
        const c = (r.offset + s * r.batchSize + k) % r.clients;
        list.push({ clientId: `u${c}`, title: 'Bench', message: 'batch publish', data: { _t: t, _s: s } });
      }
      path = r.pathTemplate;
      body = JSON.stringify({ items: list });
    } else {
      const c = (r.offset + s) % r.clients;
      path = r.pathTemplate.replace('{c}', `u${c}`);
      body = r.collapse
        ? JSON.stringify({ title: 'Bench', message: 'targeted publish', data: { _t: t, _s: s }, collapseKey: 'live' })
        : JSON.stringify({ title: 'Bench', message: 'targeted publish', data: { _t: t, _s: s } });
    }
    const res = await http.post(path, body);
    latency.recordMs(nowMs() - t);
    statuses[res.status] = (statuses[res.status] ?? 0) + 1;
    if (res.status === 202 || res.status === 200) {
      ok++;
      notifications += r.mode === 'batch' ? batchAccepted(res.body) : 1;
    } else {
      failed++;
      if (failedSeqs.length < 10_000) failedSeqs.push(s);
    }
  };

  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const cpu0 = process.cpuUsage();
  const t0 = nowMs();
  const end = t0 + r.durationMs;
  if (r.mode === 'paced') {
    let sent = 0;
    let inFlight = 0;
    const done = new Set<Promise<void>>();
    while (nowMs() < end) {
      const due = Math.floor(((nowMs() - t0) * r.rate) / 1000);
      while (sent < due) {
        const scheduled = t0 + (sent * 1000) / r.rate;
        sent++;
        if (inFlight >= MAX_IN_FLIGHT) {
          late++;
          continue;
        }
        inFlight++;
        const p: Promise<void> = one(scheduled).finally(() => {
          inFlight--;
          done.delete(p);
        });
        done.add(p);
      }
      await new Promise((res) => setTimeout(res, 1));
    }
    await Promise.all(done);
  } else {
    const lane = async () => {
      while (nowMs() < end) await one(nowMs());
    };
    await Promise.all(Array.from({ length: r.concurrency }, lane));
  }
  const elapsedMs = nowMs() - t0;
  const cpu = process.cpuUsage(cpu0);
  loopDelay.disable();
  http.close();
  return {
    ok,
    failed,
    notifications,
    elapsedMs,
    statuses,
    latency: latency.toJSON(),
    late,
    cpuUs: cpu.user + cpu.system,
    loopDelayMaxMs: loopDelay.max / 1e6,
    failedSeqs,
  };
}

function batchAccepted(text: string): number {
  try {
    const a = (JSON.parse(text) as { accepted?: unknown }).accepted;
    return typeof a === 'number' ? a : 0;
  } catch {
    return 0;
  }
}

serveRpc(
  {
    run: (req: IpcRequest) => run(req as unknown as PublishRun),
    close() {
      setTimeout(() => process.exit(0), 50);
      return true;
    },
  },
  MAX_LIFETIME_MS,
);
