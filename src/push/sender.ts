import http from 'node:http';
import https from 'node:https';
import type { Logger } from '../core/logger.js';
import type { StoredNotification } from '../core/types.js';
import { encryptPayload } from './encrypt.js';
import { guardedLookup } from './endpoint-guard.js';
import { pushPayload } from './payload.js';
import type { PushSubscriptionRecord } from './subscriptions.js';
import type { VapidSigner } from './vapid.js';

/** Tuning of the {@link PushSender}. Every value has a default; tests shorten them. */
export interface PushSenderOptions {
  /** Push requests in flight at once, over all push services. @default 8 */
  concurrency?: number;
  /** Pushes waiting in memory; a push beyond it is dropped (counted). @default 10000 */
  maxQueue?: number;
  /** Pushes waiting for one subscription; beyond it the oldest is dropped (counted). @default 100 */
  maxPerSubscription?: number;
  /** Attempts per push (the first and the retries) on 429, 5xx and network errors. @default 5 */
  maxAttempts?: number;
  /** First retry delay without a Retry-After; doubles per attempt, with jitter. @default 1000 */
  retryBaseMs?: number;
  /** Longest retry delay without a Retry-After. @default 60000 */
  retryMaxMs?: number;
  /** A Retry-After longer than this is cut to it. @default 600000 */
  maxRetryAfterMs?: number;
  /** A push request whose socket is silent this long is abandoned (and retried). @default 10000 */
  requestTimeoutMs?: number;
  /** `TTL` of a notification published without `ttlMs`. @default 86400000 (24 h) */
  defaultTtlMs?: number;
}

export const PUSH_SENDER_DEFAULTS: Required<PushSenderOptions> = {
  concurrency: 8,
  maxQueue: 10_000,
  maxPerSubscription: 100,
  maxAttempts: 5,
  retryBaseMs: 1000,
  retryMaxMs: 60_000,
  maxRetryAfterMs: 600_000,
  requestTimeoutMs: 10_000,
  defaultTtlMs: 86_400_000,
};

/** Push services keep a message at most about four weeks (FCM's limit); a longer TTL is cut. */
const MAX_TTL_SECONDS = 28 * 24 * 3600;

/** Counters behind `herald_push_*` (see `metrics.ts`). */
export class PushStats {
  /** Pushes accepted into the queue. */
  enqueued = 0;
  /** Answered 2xx by the push service. */
  sent = 0;
  /** Answered 404/410: the subscription is gone and was removed. */
  gone = 0;
  /** Answered another 4xx (bad VAPID key, payload refused): not retried. */
  rejected = 0;
  /** Still failing (429, 5xx, network) after every attempt. */
  failed = 0;
  /** Not queued (queue full) or pushed out of a full per-subscription queue, or cancelled. */
  dropped = 0;
  /** Their TTL passed before they could be sent (or a Retry-After reached past it). */
  expired = 0;
  /** Retries scheduled (each 429/5xx/network error that will be tried again). */
  retries = 0;
  /** Payloads shortened to fit one push message. */
  truncated = 0;
  /** Endpoints refused at connect time (they resolved to internal addresses); removed. */
  refused = 0;
}

interface Job {
  readonly sub: PushSubscriptionRecord;
  readonly n: StoredNotification;
  /** When the push stops being worth sending (the notification's TTL). */
  readonly deadline: number;
  /** ttlMs 0: "now or never" (TTL: 0), one attempt. */
  readonly liveOnly: boolean;
  attempts: number;
}

/** One subscription's pushes, sent one at a time and in order (a 429 pauses only this lane). */
interface Lane {
  readonly endpoint: string;
  readonly jobs: Job[];
  busy: boolean;
  ready: boolean;
  timer: NodeJS.Timeout | null;
}

type Outcome = { status: number; retryAfterMs: number | null } | { error: NodeJS.ErrnoException };

/**
 * Sends Web Push messages (RFC 8030) with VAPID (RFC 8292) and aes128gcm (RFC 8291), best effort
 * and apart from live delivery: {@link enqueue} only appends to a bounded in-memory queue and
 * returns; encryption and HTTP happen later, at most `concurrency` at a time. Pushes to one
 * subscription go out one at a time, in publish order; a 429/5xx/network error retries the same
 * push after `Retry-After` or a backoff; 404/410 removes the subscription (via `onGone`) and
 * drops what else was waiting for it.
 */
export class PushSender {
  readonly stats = new PushStats();
  readonly #opts: Required<PushSenderOptions>;
  readonly #vapid: VapidSigner;
  readonly #log: Logger;
  readonly #onGone: (sub: PushSubscriptionRecord) => void;
  readonly #lanes = new Map<string, Lane>();
  #ready: Lane[] = [];
  #readyHead = 0;
  #queued = 0;
  #active = 0;
  #pumpScheduled = false;
  #closed = false;
  readonly #inFlight = new Set<http.ClientRequest>();
  #idle: (() => void) | null = null;
  readonly #agents: Record<'http' | 'https', { open: http.Agent; guarded: http.Agent }>;
  readonly #warned = new Map<string, number>();

  constructor(vapid: VapidSigner, log: Logger, onGone: (sub: PushSubscriptionRecord) => void, opts: PushSenderOptions = {}) {
    this.#opts = { ...PUSH_SENDER_DEFAULTS, ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) };
    this.#vapid = vapid;
    this.#log = log;
    this.#onGone = onGone;
    const agent = (Ctor: typeof http.Agent | typeof https.Agent) =>
      new Ctor({ keepAlive: true, maxSockets: this.#opts.concurrency, maxFreeSockets: this.#opts.concurrency });
    // Separate pools for endpoints admitted only by a scheme-wide prefix, whose DNS answers are
    // filtered (endpoint-guard.ts): a pooled socket never crosses from one kind to the other.
    this.#agents = { http: { open: agent(http.Agent), guarded: agent(http.Agent) }, https: { open: agent(https.Agent), guarded: agent(https.Agent) } };
  }

  /** Pushes waiting (not counting those in flight). */
  get queueLength(): number {
    return this.#queued;
  }

  get inFlight(): number {
    return this.#active;
  }

  /**
   * Queues a push of `n` to `sub`. Never blocks and never throws: false when it was dropped
   * (queue full, or shut down).
   */
  enqueue(sub: PushSubscriptionRecord, n: StoredNotification): boolean {
    if (this.#closed) return false;
    if (this.#queued >= this.#opts.maxQueue) {
      this.stats.dropped++;
      this.#warn('queue-full', { maxQueue: this.#opts.maxQueue }, 'push queue full; pushes dropped');
      return false;
    }
    let lane = this.#lanes.get(sub.endpoint);
    if (!lane) {
      lane = { endpoint: sub.endpoint, jobs: [], busy: false, ready: false, timer: null };
      this.#lanes.set(sub.endpoint, lane);
    }
    if (lane.jobs.length >= this.#opts.maxPerSubscription) {
      // A device this far behind gets its newest notifications; the oldest give way.
      lane.jobs.shift();
      this.#queued--;
      this.stats.dropped++;
    }
    const liveOnly = n.expiresAt !== null && n.expiresAt <= n.ts;
    lane.jobs.push({ sub, n, deadline: n.expiresAt ?? n.ts + this.#opts.defaultTtlMs, liveOnly, attempts: 0 });
    this.#queued++;
    this.stats.enqueued++;
    this.#wake(lane);
    return true;
  }

  /** Drops what waits for an endpoint (unsubscribed or removed device). */
  cancel(endpoint: string): void {
    const lane = this.#lanes.get(endpoint);
    if (!lane) return;
    this.stats.dropped += lane.jobs.length;
    this.#queued -= lane.jobs.length;
    lane.jobs.length = 0;
    if (lane.timer) clearTimeout(lane.timer);
    lane.timer = null;
    if (!lane.busy) this.#lanes.delete(endpoint);
  }

  /**
   * Stops: nothing new is queued, what waits is dropped, requests in flight get `graceMs` to
   * finish and are then aborted. Idempotent.
   */
  async close(graceMs = 2000): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      for (const endpoint of [...this.#lanes.keys()]) this.cancel(endpoint);
    }
    if (this.#active > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        this.#idle = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    for (const req of this.#inFlight) req.destroy(new Error('push sender closed'));
    for (const kind of Object.values(this.#agents)) {
      kind.open.destroy();
      kind.guarded.destroy();
    }
  }

  #wake(lane: Lane): void {
    if (lane.busy || lane.ready || lane.timer !== null || lane.jobs.length === 0 || this.#closed) return;
    lane.ready = true;
    this.#ready.push(lane);
    this.#schedulePump();
  }

  /** Sending starts on a later turn: the publish that queued the push returns first. */
  #schedulePump(): void {
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    setImmediate(this.#pump);
  }

  readonly #pump = (): void => {
    this.#pumpScheduled = false;
    while (this.#active < this.#opts.concurrency && this.#readyHead < this.#ready.length) {
      const lane = this.#ready[this.#readyHead++];
      lane.ready = false;
      const job = lane.jobs.shift();
      if (!job || lane.busy) continue;
      this.#queued--;
      lane.busy = true;
      this.#active++;
      void this.#run(lane, job);
    }
    if (this.#readyHead > 1024 && this.#readyHead * 2 > this.#ready.length) {
      this.#ready = this.#ready.slice(this.#readyHead);
      this.#readyHead = 0;
    }
  };

  async #run(lane: Lane, job: Job): Promise<void> {
    try {
      await this.#attempt(lane, job);
    } catch (err) {
      this.stats.failed++;
      this.#log.warn({ err, endpoint: originOf(job.sub.endpoint) }, 'push failed unexpectedly');
    } finally {
      this.#active--;
      lane.busy = false;
      if (lane.jobs.length === 0 && lane.timer === null) this.#lanes.delete(lane.endpoint);
      else this.#wake(lane);
      if (this.#active === 0) this.#idle?.();
      // A slot is free: fill it on this turn's end, not synchronously inside the response handler.
      if (this.#readyHead < this.#ready.length) this.#schedulePump();
    }
  }

  async #attempt(lane: Lane, job: Job): Promise<void> {
    const sub = job.sub;
    const now = Date.now();
    if (sub.expirationTime !== null && sub.expirationTime <= now) {
      this.stats.expired++;
      this.#gone(lane, sub);
      return;
    }
    if (!job.liveOnly && job.deadline <= now) {
      this.stats.expired++;
      return;
    }
    const { json, truncated } = pushPayload(job.n);
    if (truncated && job.attempts === 0) this.stats.truncated++;
    const body = encryptPayload(json, { p256dh: Buffer.from(sub.p256dh, 'base64url'), auth: Buffer.from(sub.auth, 'base64url') });
    const ttl = job.liveOnly ? 0 : Math.min(MAX_TTL_SECONDS, Math.max(0, Math.floor((job.deadline - now) / 1000)));
    job.attempts++;
    const outcome = await this.#post(sub, body, ttl, job.n.priority);
    const endpoint = originOf(sub.endpoint);

    if ('error' in outcome) {
      if (outcome.error.code === 'ENOTALLOWED') {
        this.stats.refused++;
        this.#warn('refused', { endpoint }, 'push endpoint resolves to an internal address; subscription removed');
        this.#gone(lane, sub);
        return;
      }
      this.#log.debug({ err: outcome.error, endpoint, attempt: job.attempts }, 'push request failed');
      this.#retry(lane, job, null, now);
      return;
    }
    const { status } = outcome;
    if (status >= 200 && status < 300) {
      this.stats.sent++;
      return;
    }
    if (status === 404 || status === 410) {
      this.stats.gone++;
      this.#log.debug({ endpoint, status, clientId: sub.clientId, deviceId: sub.deviceId }, 'push subscription gone; removed');
      this.#gone(lane, sub);
      return;
    }
    if (status === 429 || status >= 500) {
      this.#retry(lane, job, outcome.retryAfterMs, now);
      return;
    }
    this.stats.rejected++;
    this.#warn(`rejected-${status}`, { endpoint, status }, 'push rejected by the push service (check the VAPID keys and subject)');
  }

  /** Puts the job back at the head of its lane and pauses the lane until the retry time. */
  #retry(lane: Lane, job: Job, retryAfterMs: number | null, now: number): void {
    if (job.liveOnly || job.attempts >= this.#opts.maxAttempts || this.#closed) {
      this.stats.failed++;
      this.#warn('failed', { endpoint: originOf(job.sub.endpoint), attempts: job.attempts }, 'push given up after retries');
      return;
    }
    const o = this.#opts;
    let delay: number;
    if (retryAfterMs !== null) delay = Math.min(retryAfterMs, o.maxRetryAfterMs);
    else {
      const base = Math.min(o.retryMaxMs, o.retryBaseMs * 2 ** (job.attempts - 1));
      delay = base / 2 + Math.random() * (base / 2);
    }
    if (now + delay >= job.deadline) {
      this.stats.expired++;
      return;
    }
    this.stats.retries++;
    lane.jobs.unshift(job);
    this.#queued++;
    lane.timer = setTimeout(() => {
      lane.timer = null;
      this.#wake(lane);
    }, delay);
    lane.timer.unref();
  }

  #gone(lane: Lane, sub: PushSubscriptionRecord): void {
    this.stats.dropped += lane.jobs.length;
    this.#queued -= lane.jobs.length;
    lane.jobs.length = 0;
    try {
      this.#onGone(sub);
    } catch (err) {
      this.#log.warn({ err }, 'removing a gone push subscription failed');
    }
  }

  #post(sub: PushSubscriptionRecord, body: Buffer, ttl: number, urgency: StoredNotification['priority']): Promise<Outcome> {
    return new Promise((resolve) => {
      let settled = false;
      const done = (o: Outcome) => {
        if (settled) return;
        settled = true;
        this.#inFlight.delete(req);
        resolve(o);
      };
      const url = new URL(sub.endpoint);
      const secure = url.protocol === 'https:';
      const headers: http.OutgoingHttpHeaders = {
        authorization: this.#vapid.authorization(url),
        'content-encoding': 'aes128gcm',
        'content-type': 'application/octet-stream',
        'content-length': body.length,
        ttl: String(ttl),
      };
      if (urgency) headers.urgency = urgency;
      const agents = this.#agents[secure ? 'https' : 'http'];
      const req = (secure ? https : http).request(url, {
        method: 'POST',
        headers,
        agent: sub.hostAllowed ? agents.open : agents.guarded,
        ...(sub.hostAllowed ? {} : { lookup: guardedLookup as unknown as http.RequestOptions['lookup'] }),
      });
      this.#inFlight.add(req);
      req.setTimeout(this.#opts.requestTimeoutMs, () => req.destroy(Object.assign(new Error('push request timed out'), { code: 'ETIMEDOUT' })));
      req.on('error', (error: NodeJS.ErrnoException) => done({ error }));
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        const retryAfterMs = parseRetryAfter(res.headers['retry-after']);
        // Read the (small) body to its end so the socket goes back to the pool.
        res.on('error', (error: NodeJS.ErrnoException) => done({ error }));
        res.on('end', () => done({ status, retryAfterMs }));
        res.resume();
      });
      req.end(body);
    });
  }

  /** One warning per kind per minute: a misconfigured key must not flood the log. */
  #warn(kind: string, fields: object, msg: string): void {
    const now = Date.now();
    if ((this.#warned.get(kind) ?? 0) > now) return;
    this.#warned.set(kind, now + 60_000);
    this.#log.warn({ ...fields, stats: { ...this.stats } }, msg);
  }
}

/** `Retry-After`: delta seconds or an HTTP date (RFC 9110 §10.2.3); null when absent or bad. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | null {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === '') return null;
  if (/^\s*\d+\s*$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

function originOf(endpoint: string): string {
  try {
    return new URL(endpoint).origin;
  } catch {
    // A log field only: endpoints are checked when subscribed, so this is never expected to happen.
    return 'invalid';
  }
}
