import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { HeraldNode } from '../core/node.js';

/**
 * Prometheus metrics (PROTOCOL.md "Metrics"). One registry per node, so several nodes in one
 * process (tests, embedding) do not share counters. Counters are read from the hub's own
 * counters at scrape time: nothing on the hot path but the RTT histogram. Series by transport
 * exist for every registered transport kind, zero or not.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly #loop = monitorEventLoopDelay({ resolution: 20 });

  constructor(node: HeraldNode) {
    const hub = node.hub;
    const s = hub.stats;
    const r = this.registry;
    r.setDefaultLabels({ node: node.config.NODE_ID });
    this.#loop.enable();
    // Read at scrape time: the transports register their kinds with the hub after the API is built.
    const transports = hub.transportKinds;
    new Gauge({
      name: 'herald_connections',
      help: 'Attached device streams by transport',
      labelNames: ['transport'],
      registers: [r],
      collect() {
        for (const t of transports) this.set({ transport: t }, hub.byTransport[t]);
      },
    });
    new Counter({
      name: 'herald_connects_total',
      help: 'Device streams attached',
      labelNames: ['transport'],
      registers: [r],
      collect() {
        this.reset();
        for (const t of transports) this.inc({ transport: t }, s.connects[t]);
      },
    });
    new Counter({
      name: 'herald_disconnects_total',
      help: 'Device streams ended, by close name',
      labelNames: ['reason'],
      registers: [r],
      collect() {
        this.reset();
        for (const [reason, n] of Object.entries(s.disconnects)) this.inc({ reason }, n);
      },
    });
    new Counter({
      name: 'herald_notifications_published_total',
      help: 'Notifications accepted by the publish API on this node',
      registers: [r],
      collect() {
        this.reset();
        this.inc(s.published);
      },
    });
    new Counter({
      name: 'herald_notifications_delivered_total',
      help: 'Notifications handed to device streams, by transport',
      labelNames: ['transport'],
      registers: [r],
      collect() {
        this.reset();
        for (const t of transports) this.inc({ transport: t }, s.delivered[t]);
      },
    });
    new Counter({
      name: 'herald_notifications_dropped_total',
      help: 'Notifications discarded from send queues of closed streams',
      registers: [r],
      collect() {
        this.reset();
        this.inc(s.dropped);
      },
    });
    new Counter({
      name: 'herald_heartbeats_total',
      help: 'Application heartbeats by outcome',
      labelNames: ['outcome'],
      registers: [r],
      collect() {
        this.reset();
        this.inc({ outcome: 'sent' }, s.heartbeatsSent);
        this.inc({ outcome: 'answered' }, s.heartbeatsAnswered);
        this.inc({ outcome: 'missed' }, s.heartbeatsMissed);
      },
    });
    new Counter({
      name: 'herald_zombies_total',
      help: 'Streams closed because heartbeats went unanswered',
      registers: [r],
      collect() {
        this.reset();
        this.inc(s.zombies);
      },
    });
    const rtt = new Histogram({
      name: 'herald_heartbeat_rtt_seconds',
      help: 'Heartbeat round trip (ping to pong)',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [r],
    });
    hub.on('rtt', (ms) => rtt.observe(ms / 1000));
    new Gauge({
      name: 'herald_send_queue_bytes',
      help: 'Bytes queued for devices and not yet written to the kernel',
      registers: [r],
      collect() {
        let bytes = 0;
        for (const session of hub.sessions()) bytes += session.queuedBytes;
        this.set(bytes);
      },
    });
    const loop = this.#loop;
    new Gauge({
      name: 'herald_event_loop_lag_seconds',
      help: 'Event-loop delay (p99 since the last scrape)',
      registers: [r],
      collect() {
        this.set(loop.percentile(99) / 1e9);
        loop.reset();
      },
    });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  close(): void {
    this.#loop.disable();
  }
}
