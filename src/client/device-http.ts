import { endpoint } from './options.js';
import type { TokenSource } from './token-source.js';

/**
 * An HTTP answer that was not a success, as the server described it (PROTOCOL.md: the error body
 * `{statusCode, code, error, message, field?}`).
 */
export class HeraldRequestError extends Error {
  /** The HTTP status. */
  readonly status: number;
  /** The stable error code, e.g. `HERALD_ERR_INVALID`, when the server named one. */
  readonly code: string | null;
  /** The request field the server refused (a 400), when it named one. */
  readonly field: string | null;

  constructor(status: number, message: string, code: string | null = null, field: string | null = null) {
    super(message);
    this.name = 'HeraldRequestError';
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

/**
 * JSON requests to the device's own routes (`/me/...`) with its token in `Authorization: Bearer`.
 * A 401 is retried once with a fresh token when one can be had (`getToken`).
 */
export class DeviceHttp {
  readonly #url: string;
  readonly #tokens: TokenSource;
  readonly #fetch: typeof fetch;

  constructor(url: string, tokens: TokenSource, fetchFn: typeof fetch) {
    this.#url = url;
    this.#tokens = tokens;
    this.#fetch = fetchFn;
  }

  async request<T>(method: 'GET' | 'POST', path: string, query: Record<string, string>, body?: unknown): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const token = await this.#tokens.current();
      const headers: Record<string, string> = { authorization: `Bearer ${token}` };
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await this.#fetch(endpoint(this.#url, path, query), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
      });
      if (res.status === 401 && attempt === 0 && this.#tokens.refreshable) {
        await res.body?.cancel();
        this.#tokens.markStale();
        continue;
      }
      const text = await res.text();
      let json: unknown = null;
      try {
        json = text === '' ? null : JSON.parse(text);
      } catch {
        // Not ours (a proxy's error page?): described by its status below.
      }
      if (res.ok && json !== null) return json as T;
      const e = (typeof json === 'object' && json !== null ? json : {}) as { message?: unknown; code?: unknown; field?: unknown };
      const message = typeof e.message === 'string' ? e.message : `${method} ${path} answered ${res.status}`;
      throw new HeraldRequestError(res.status, message, typeof e.code === 'string' ? e.code : null, typeof e.field === 'string' ? e.field : null);
    }
  }
}
