// The dashboard's only door to Herald: every call carries the API key in the Authorization
// header. The key lives in this tab's sessionStorage, never in a URL or a cookie.

const KEY = 'herald.dashboard.apiKey';

export class Unauthorized extends Error {}

export const apiKey = {
  get: () => sessionStorage.getItem(KEY),
  set: (k) => sessionStorage.setItem(KEY, k),
  clear: () => sessionStorage.removeItem(KEY),
};

/** JSON request to the API; throws Unauthorized on 401, an Error with the server's message otherwise. */
export async function request(method, path, body, { signal, key = apiKey.get() } = {}) {
  if (!key) throw new Unauthorized('no API key');
  const headers = { authorization: `Bearer ${key}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal, cache: 'no-store' });
  if (res.status === 401) throw new Unauthorized('the API key was refused');
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  if (!res.ok) throw Object.assign(new Error(data?.message ?? `HTTP ${res.status}`), { status: res.status, data });
  return data;
}

export const seg = (id) => encodeURIComponent(id);

/**
 * Reads `GET /api/v1/events` with fetch() streaming (EventSource cannot send the Authorization
 * header) and reconnects with backoff. Calls onEvent(name, data) per event and onStatus(state)
 * with 'live' | 'reconnecting' | 'off'. A stream silent for `stallMs` is treated as dead: the
 * server writes at least once a second. Returns stop().
 */
export function openStream({ onEvent, onStatus, onUnauthorized, stallMs = 5000 }) {
  let stopped = false;
  let controller = null;
  let attempt = 0;

  async function once() {
    controller = new AbortController();
    const ctl = controller;
    let watchdog = setTimeout(() => ctl.abort(), stallMs);
    const res = await fetch('/api/v1/events', {
      headers: { authorization: `Bearer ${apiKey.get()}`, accept: 'text/event-stream' },
      signal: ctl.signal,
      cache: 'no-store',
    });
    if (res.status === 401) throw new Unauthorized('the API key was refused');
    if (!res.ok || !res.body) throw new Error(`events: HTTP ${res.status}`);
    onStatus('live');
    attempt = 0;
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        clearTimeout(watchdog);
        watchdog = setTimeout(() => ctl.abort(), stallMs);
        buf += value;
        let end = buf.indexOf('\n\n');
        while (end !== -1) {
          dispatch(buf.slice(0, end));
          buf = buf.slice(end + 2);
          end = buf.indexOf('\n\n');
        }
      }
    } finally {
      clearTimeout(watchdog);
    }
  }

  function dispatch(block) {
    let event = 'message';
    let data = '';
    for (const line of block.split('\n')) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data += line.slice(5).trimStart();
    }
    if (!data) return;
    try {
      onEvent(event, JSON.parse(data));
    } catch (err) {
      console.error('dashboard: bad event', event, err);
    }
  }

  (async () => {
    while (!stopped) {
      try {
        await once();
      } catch (err) {
        if (err instanceof Unauthorized) {
          stopped = true;
          onStatus('off');
          onUnauthorized();
          return;
        }
      }
      if (stopped) break;
      onStatus('reconnecting');
      // Backoff with jitter: 0.5 s, 1 s, 2 s … capped at 10 s.
      const delay = Math.min(10_000, 500 * 2 ** attempt++) * (0.5 + Math.random() / 2);
      await new Promise((r) => setTimeout(r, delay));
    }
    onStatus('off');
  })();

  return () => {
    stopped = true;
    controller?.abort();
  };
}
