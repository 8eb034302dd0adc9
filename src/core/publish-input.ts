import { invalid } from './errors.js';
import type { PublishInput } from './types.js';

const KEY_RE = /^[A-Za-z0-9._:@-]{1,128}$/;
const PRIORITIES = new Set(['very-low', 'low', 'normal', 'high']);

/**
 * Validates a publish body that did not pass through an HTTP route schema (batch items, gRPC).
 * Same rules as `api/schemas.ts` publishBody; throws HERALD_ERR_INVALID naming the field, with
 * `prefix` (e.g. `items[3].`) in front of the field's name.
 */
export function parsePublishInput(body: unknown, prefix = ''): PublishInput {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid(prefix.replace(/\.$/, '') || 'body', 'must be an object');
  const b = body as Record<string, unknown>;
  const str = (name: string, required: boolean, max?: number): string | undefined => {
    const v = b[name];
    if (v === undefined || v === null) {
      if (required) throw invalid(prefix + name, 'required');
      return undefined;
    }
    if (typeof v !== 'string') throw invalid(prefix + name, 'must be a string');
    if (max !== undefined && v.length > max) throw invalid(prefix + name, `must be at most ${max} characters`);
    return v;
  };
  const out: PublishInput = { title: str('title', true, 1024) as string, message: str('message', true) as string };
  const service = str('service', false, 128);
  if (service !== undefined) out.service = service;
  const id = str('id', false);
  if (id !== undefined) {
    if (!KEY_RE.test(id)) throw invalid(`${prefix}id`, 'must be 1-128 characters of A-Z a-z 0-9 . _ : - @');
    out.id = id;
  }
  if (b.data !== undefined) out.data = b.data;
  if (b.ttlMs !== undefined) {
    if (typeof b.ttlMs !== 'number' || !Number.isInteger(b.ttlMs) || b.ttlMs < 0) throw invalid(`${prefix}ttlMs`, 'must be an integer >= 0');
    out.ttlMs = b.ttlMs;
  }
  if (b.priority !== undefined) {
    if (typeof b.priority !== 'string' || !PRIORITIES.has(b.priority)) throw invalid(`${prefix}priority`, 'must be one of very-low, low, normal, high');
    out.priority = b.priority as PublishInput['priority'];
  }
  return out;
}
