import { Counter, Gauge, type Registry } from 'prom-client';
import { MemoryPushSubscriptionStore } from './subscriptions.js';
import type { WebPush } from './web-push.js';

/**
 * `herald_push_*` metrics, read from the push counters at scrape time (nothing on the hot path).
 * Registered on the node's registry by the API layer:
 * `registerPushMetrics(app.herald.metrics.registry, push)`.
 *
 * Names stay distinct as OpenMetrics families: a counter `x_total` is the family `x` there, so no
 * other metric may be called `x` (the gauge of held subscriptions and the counter of their changes
 * once were `herald_push_subscriptions` and `herald_push_subscriptions_total`).
 */
export function registerPushMetrics(registry: Registry, push: WebPush): void {
  const s = push.stats;
  const r = [registry];
  const outcomes = ['sent', 'gone', 'rejected', 'failed', 'dropped', 'expired', 'refused'] as const;
  new Counter({
    name: 'herald_push_total',
    help: 'Web Push messages by outcome: sent (2xx), gone (404/410, subscription removed), rejected (other 4xx), failed (retries exhausted), dropped (queue full or cancelled), expired (TTL passed), refused (internal address)',
    labelNames: ['outcome'],
    registers: r,
    collect() {
      this.reset();
      for (const o of outcomes) this.inc({ outcome: o }, s[o]);
    },
  });
  new Counter({
    name: 'herald_push_enqueued_total',
    help: 'Web Push messages queued for devices that were not attached',
    registers: r,
    collect() {
      this.reset();
      this.inc(s.enqueued);
    },
  });
  new Counter({
    name: 'herald_push_retries_total',
    help: 'Web Push retries after 429, 5xx or a network error',
    registers: r,
    collect() {
      this.reset();
      this.inc(s.retries);
    },
  });
  new Counter({
    name: 'herald_push_truncated_total',
    help: 'Web Push payloads shortened to fit one 4 KiB push message',
    registers: r,
    collect() {
      this.reset();
      this.inc(s.truncated);
    },
  });
  new Gauge({
    name: 'herald_push_queue',
    help: 'Web Push messages waiting (queued) and being sent (in_flight)',
    labelNames: ['state'],
    registers: r,
    collect() {
      this.set({ state: 'queued' }, push.sender.queueLength);
      this.set({ state: 'in_flight' }, push.sender.inFlight);
    },
  });
  new Counter({
    name: 'herald_push_subscription_changes_total',
    help: 'Push subscriptions added and removed on this node',
    labelNames: ['change'],
    registers: r,
    collect() {
      this.reset();
      this.inc({ change: 'added' }, push.subscriptionStats.added);
      this.inc({ change: 'removed' }, push.subscriptionStats.removed);
    },
  });
  if (push.store instanceof MemoryPushSubscriptionStore) {
    const store = push.store;
    new Gauge({
      name: 'herald_push_subscriptions',
      help: 'Push subscriptions held (memory store)',
      registers: r,
      collect() {
        this.set(store.size);
      },
    });
  }
}
