import { invalid } from './errors.js';
import type { PublishInput } from './types.js';

const KEY_RE = /^[A-Za-z0-9._:@-]{1,128}$/;
const ID_RE = /^[A-Za-z0-9._@-]{1,128}$/;
/** At most this many devices in `excludeDevices`. */
export const MAX_EXCLUDED_DEVICES = 1000;
const PRIORITIES = new Set(['very-low', 'low', 'normal', 'high']);

const NOT_WELL_FORMED = 'must be well-formed Unicode (it holds a lone surrogate)';

/**
 * Validates a publish body: every route's (after the HTTP schema, which cannot see it, the
 * Unicode rule), batch items and gRPC. Same rules as `api/schemas.ts` publishBody; throws
 * HERALD_ERR_INVALID naming the field, with `prefix` (e.g. `items[3].`) in front of the field's name.
 *
 * Strings must be well-formed Unicode: JSON's `\ud83d` escape decodes to a lone surrogate, which no
 * UTF-8 encoder can write, so a device would get U+FFFD or, from a JSON frame, the surrogate itself.
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
  if (b.collapseKey !== undefined && b.collapseKey !== null) {
    if (typeof b.collapseKey !== 'string' || !ID_RE.test(b.collapseKey))
      throw invalid(`${prefix}collapseKey`, 'must be 1-128 characters of A-Z a-z 0-9 . _ - @');
    out.collapseKey = b.collapseKey;
  }
  if (b.excludeDevices !== undefined && b.excludeDevices !== null) out.excludeDevices = parseExcludeDevices(b.excludeDevices, prefix);
  checkPublishWellFormed(out, prefix);
  return out;
}

/** `excludeDevices`: an array of device ids (at most {@link MAX_EXCLUDED_DEVICES}), duplicates dropped. */
export function parseExcludeDevices(v: unknown, prefix = ''): string[] {
  const field = `${prefix}excludeDevices`;
  if (!Array.isArray(v)) throw invalid(field, 'must be an array of device ids');
  if (v.length > MAX_EXCLUDED_DEVICES) throw invalid(field, `must hold at most ${MAX_EXCLUDED_DEVICES} device ids`);
  v.forEach((d, i) => {
    if (typeof d !== 'string' || !ID_RE.test(d)) throw invalid(`${field}[${i}]`, 'must be 1-128 characters of A-Z a-z 0-9 . _ - @');
  });
  return [...new Set(v as string[])];
}

/**
 * The Unicode rule alone, for bodies the HTTP schema already checked: `title`, `message`,
 * `service`, `id` and everything in `data` must be well-formed.
 */
export function checkPublishWellFormed(input: PublishInput, prefix = ''): void {
  for (const name of ['title', 'message', 'service', 'id'] as const) {
    const v = input[name];
    if (typeof v === 'string' && !v.isWellFormed()) throw invalid(prefix + name, NOT_WELL_FORMED);
  }
  if (input.data !== undefined) checkWellFormed(input.data, `${prefix}data`);
}

/**
 * Throws naming the first string, or object key, of a JSON value that is not well-formed Unicode:
 * `data.a.b[2]` for a value, `data.a` (with the key made well-formed) for a key. Walks with its own
 * stack, so a deeply nested value cannot overflow the call stack.
 */
export function checkWellFormed(value: unknown, path: string): void {
  const stack: [unknown, string][] = [[value, path]];
  while (stack.length > 0) {
    const [v, at] = stack.pop() as [unknown, string];
    if (typeof v === 'string') {
      if (!v.isWellFormed()) throw invalid(at, NOT_WELL_FORMED);
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], `${at}[${i}]`]);
    } else if (typeof v === 'object' && v !== null) {
      const entries = Object.entries(v);
      for (const [k] of entries) if (!k.isWellFormed()) throw invalid(`${at}.${k.toWellFormed()}`, `key ${NOT_WELL_FORMED}`);
      for (let i = entries.length - 1; i >= 0; i--) stack.push([entries[i][1], `${at}.${entries[i][0]}`]);
    }
  }
}
