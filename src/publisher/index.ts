/**
 * `herald/publisher`: a typed SDK for application backends publishing to Herald over its HTTP
 * publisher API (API key). Node 20.19+; no runtime dependencies (only `fetch`, `AbortSignal` and
 * Web Crypto, no Node-only module).
 *
 * - Idempotency: a publish without an `id` gets a UUIDv7 key once per call, sent on every retry,
 *   so a retried publish is stored at most once.
 * - Retries on network failures and 502/503/504 with exponential backoff and full jitter,
 *   `Retry-After` honoured; never on a 4xx.
 * - Errors: {@link HeraldError} with the API's `code` (`HERALD_ERR_*`), `status`, `field`, `body`;
 *   `HERALD_ERR_NETWORK` when no answer came after the last retry.
 *
 * @example
 * import { createPublisher } from 'herald/publisher';
 * const herald = createPublisher({ url: 'http://127.0.0.1:8080', apiKey: process.env.HERALD_API_KEY! });
 * await herald.publish('alice', { title: 'Hello', message: 'from the backend' });
 */
export type { BackoffOptions } from '../client/backoff.js';
export { uuidv7 } from '../core/uuidv7.js';
export { HeraldError, type HeraldErrorInit, type PublisherErrorCode, type PublisherOnlyErrorCode } from './errors.js';
export { DEFAULTS as PUBLISHER_DEFAULTS, type PublisherOptions, type RetryInfo } from './options.js';
export { type BroadcastsApi, type ClientsApi, createPublisher, type DevicesApi, HeraldPublisher, type NotificationsApi } from './publisher.js';
/** The bodies and answers of the API: `PublishBody`, `PublishResult`, `BatchItem`, `InboxItem`, `ClientInfo`, `Stats`, … */
export type * from './types.js';
