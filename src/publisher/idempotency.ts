/**
 * Idempotency keys. A publish without an `id` gets one here, once per call, and every retry of that
 * call sends the same one: if an attempt was stored but its answer was lost, the retry is answered
 * with the same notification (same id and cursor, `delivered: 0`) instead of storing a second.
 *
 * UUIDv7 (RFC 9562) from the server's own implementation (`core/uuidv7.ts`, which imports nothing
 * and uses Web Crypto only), so notification ids stay sortable by time whoever chose them.
 */
import { uuidv7 } from '../core/uuidv7.js';

/** `body` with its idempotency key: the caller's `id`, or a new one (for `null` too, which the server ignores). */
export function withKey<T extends { id?: string }>(body: T): T & { id: string } {
  return body.id === undefined || body.id === null ? { ...body, id: uuidv7() } : (body as T & { id: string });
}
