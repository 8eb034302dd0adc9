import { createHmac } from 'node:crypto';
import { uuidv7 } from '../core/ids.js';
import type { Logger } from '../core/logger.js';
import type { PresenceEvent } from '../core/presence.js';
import type { ReceiptEvent } from '../core/receipts.js';

/** What is POSTed: presence and device events, and the receipts `WEBHOOK_RECEIPTS` turns on. */
export type WebhookEvent = PresenceEvent | ReceiptEvent;

export interface WebhookOptions {
  url: string;
  secret: string | undefined;
  /** First retry delay; doubles per failure up to 30 s. */
  retryMs: number;
  /** Events held at most; the oldest are dropped beyond it. */
  queueLimit: number;
  log: Logger;
  /** Per-request timeout. @default 5000 */
  timeoutMs?: number;
}

export interface WebhookStats {
  sent: number;
  failed: number;
  dropped: number;
  queued: number;
}

/** The header a receiver checks: `sha256=<hex HMAC-SHA256 of the raw body>`. */
export function webhookSignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * POSTs presence, device and receipt events to WEBHOOK_URL, signed, one at a time in the order they
 * happened (so per-client order holds), retrying the head of the queue with backoff while the
 * receiver fails. Every event carries its client's epoch, so a receiver can drop stale ones.
 */
export class WebhookSender {
  readonly #opts: WebhookOptions;
  readonly #queue: { body: string }[] = [];
  #running = false;
  #retryTimer: NodeJS.Timeout | null = null;
  #wake: (() => void) | null = null;
  #closed = false;
  readonly stats: WebhookStats = { sent: 0, failed: 0, dropped: 0, queued: 0 };

  constructor(opts: WebhookOptions) {
    this.#opts = opts;
  }

  /** Queues one event (never blocks the caller). */
  readonly push = (e: WebhookEvent): void => {
    if (this.#closed) return;
    const payload: Record<string, unknown> = { id: uuidv7(e.ts), ...e };
    this.#queue.push({ body: JSON.stringify(payload) });
    if (this.#queue.length > this.#opts.queueLimit) {
      this.#queue.shift();
      this.stats.dropped++;
      if (this.stats.dropped === 1 || this.stats.dropped % 1000 === 0)
        this.#opts.log.warn({ dropped: this.stats.dropped }, 'webhook queue full: oldest events dropped');
    }
    this.stats.queued = this.#queue.length;
    if (!this.#running) void this.#run();
  };

  async #run(): Promise<void> {
    this.#running = true;
    let delay = this.#opts.retryMs;
    while (this.#queue.length > 0 && !this.#closed) {
      const head = this.#queue[0];
      if (await this.#post(head.body)) {
        if (this.#queue[0] === head) this.#queue.shift();
        this.stats.sent++;
        this.stats.queued = this.#queue.length;
        delay = this.#opts.retryMs;
      } else {
        this.stats.failed++;
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
          this.#retryTimer = setTimeout(resolve, delay);
        });
        this.#retryTimer = null;
        this.#wake = null;
        delay = Math.min(30_000, delay * 2);
      }
    }
    this.#running = false;
  }

  async #post(body: string): Promise<boolean> {
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'herald-webhooks' };
    if (this.#opts.secret) headers['herald-signature'] = webhookSignature(this.#opts.secret, body);
    try {
      const res = await fetch(this.#opts.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(this.#opts.timeoutMs ?? 5000) });
      await res.body?.cancel();
      if (res.ok) return true;
      this.#opts.log.warn({ status: res.status, url: this.#opts.url }, 'webhook refused; will retry');
      return false;
    } catch (err) {
      this.#opts.log.warn({ err, url: this.#opts.url }, 'webhook failed; will retry');
      return false;
    }
  }

  /** Tries to deliver what is queued for up to `graceMs`, then stops retrying. */
  async close(graceMs: number): Promise<void> {
    const deadline = Date.now() + graceMs;
    while (this.#queue.length > 0 && this.#running && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    this.#closed = true;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#wake?.();
  }
}
