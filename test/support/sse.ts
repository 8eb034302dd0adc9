import { EventSource } from 'eventsource';
import { SERVER_FRAME_TYPES } from '../../src/protocol/frames.js';
import type { Herald } from '../../src/server.js';
import { type CloseInfo, DeviceClient, type Frame, token } from './device-client.js';

/**
 * The network between an EventSource and Herald, as a `fetch` the `eventsource` package uses: it
 * records every request (to see `Last-Event-ID`), can stop reading (the socket backs up), cut the
 * stream as a network failure would (the EventSource reconnects) and refuse to connect while down.
 */
export class SseLink {
  readonly requests: { url: string; headers: Headers }[] = [];
  /** New connections fail while down (a network error: the EventSource keeps retrying). */
  down = false;
  #paused = false;
  #resumers: (() => void)[] = [];
  #cut: (() => void) | null = null;

  readonly fetch = async (url: string | URL, init?: RequestInit): Promise<Response> => {
    this.requests.push({ url: String(url), headers: new Headers(init?.headers) });
    if (this.down) throw new TypeError('network is down (test)');
    const res = await fetch(url, init);
    if (!res.body) return res;
    const reader = res.body.getReader();
    let controller: ReadableStreamDefaultController<Uint8Array> | null = null;
    const body = new ReadableStream<Uint8Array>(
      {
        start: (c) => {
          controller = c;
        },
        pull: async (c) => {
          while (this.#paused) await new Promise<void>((r) => this.#resumers.push(r));
          try {
            const { done, value } = await reader.read();
            if (done) c.close();
            else c.enqueue(value);
          } catch (err) {
            try {
              c.error(err);
            } catch {}
          }
        },
        cancel: (reason) => reader.cancel(reason),
      },
      // Pull only when the EventSource reads: a paused link leaves the bytes in the socket.
      { highWaterMark: 0 },
    );
    this.#cut = () => {
      try {
        controller?.error(new TypeError('connection cut (test)'));
      } catch {}
      reader.cancel().catch(() => {});
    };
    return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  };

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    for (const r of this.#resumers.splice(0)) r();
  }

  /** Drops the current stream like a network failure (not an abort: the EventSource reconnects). */
  cut(): void {
    this.#cut?.();
    this.#cut = null;
  }

  get lastEventIds(): (string | null)[] {
    return this.requests.map((r) => r.headers.get('last-event-id'));
  }
}

/** Every event type the server sends (inbox frames included). */
const EVENTS = SERVER_FRAME_TYPES;

export interface SseConnectOptions {
  cursor?: string;
  token?: string;
  /** `?ack=1`: the device answers pings with POST /sse/ack (the SDK's mode). @default true */
  ack?: boolean;
  /**
   * Keep the EventSource reconnecting after a `close` event (a plain EventSource does); by default
   * the client closes on it like the SDK.
   */
  reconnect?: boolean;
  headers?: Record<string, string>;
}

/** A device on `GET /sse` with the `eventsource` package. */
export class SseDevice extends DeviceClient {
  readonly transport = 'sse' as const;
  readonly es: EventSource;
  readonly link: SseLink;
  readonly #h: Herald;
  readonly #deviceId: string;
  readonly #token: string;
  readonly errors: { code?: number; message?: string }[] = [];

  constructor(h: Herald, deviceId: string, tok: string, opts: SseConnectOptions) {
    super();
    this.#h = h;
    this.#deviceId = deviceId;
    this.#token = tok;
    this.autoPong = opts.ack !== false;
    const params = new URLSearchParams({ device: deviceId, token: tok });
    if (opts.cursor) params.set('cursor', opts.cursor);
    if (opts.ack !== false) params.set('ack', '1');
    this.link = new SseLink();
    const extra = opts.headers ?? {};
    const linkFetch = this.link.fetch;
    this.es = new EventSource(`${h.url}/sse?${params}`, {
      fetch: (url, init) => linkFetch(url, { ...init, headers: { ...(init?.headers as Record<string, string>), ...extra } }),
    });
    this.es.addEventListener('error', (e) => this.errors.push({ code: (e as { code?: number }).code, message: (e as { message?: string }).message }));
    for (const type of EVENTS) {
      this.es.addEventListener(type, (e) => {
        const frame = JSON.parse((e as MessageEvent).data) as Frame;
        if (type === 'close') {
          if (!opts.reconnect) this.es.close();
          this.settle({ code: frame.code as number, reason: frame.reason as string });
        }
        this.receive(frame);
      });
    }
  }

  protected answerPing(): void {
    void this.ack();
  }

  /** `POST /sse/ack`: a pong, with a cursor also an ack. */
  async ack(cursor?: string): Promise<number> {
    const res = await fetch(`${this.#h.url}/sse/ack`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.#token}`, 'content-type': 'application/json' },
      body: JSON.stringify(cursor ? { device: this.#deviceId, cursor } : { device: this.#deviceId }),
    }).catch(() => null);
    await res?.arrayBuffer();
    return res?.status ?? 0;
  }

  stopReading(): void {
    this.link.pause();
  }

  resumeReading(): void {
    this.link.resume();
  }

  close(): void {
    this.es.close();
    this.link.resume();
    this.settle({ code: -1, reason: 'closed by the client' });
  }

  protected dispose(): Promise<void> {
    this.close();
    return Promise.resolve();
  }
}

export async function connectSse(h: Herald, clientId: string, deviceId: string, opts: SseConnectOptions = {}): Promise<SseDevice> {
  const d = new SseDevice(h, deviceId, opts.token ?? (await token(clientId)), opts);
  try {
    await d.waitFor((f) => f.type === 'welcome');
  } catch (err) {
    d.close();
    throw new Error(`SSE connect failed: ${JSON.stringify(d.errors)}`, { cause: err });
  }
  return d;
}

/** `GET /sse` expecting a refusal: the HTTP status and JSON body. */
export async function refusedSse(h: Herald, params: Record<string, string>, headers?: Record<string, string>): Promise<{ status: number; body: any }> {
  const ac = new AbortController();
  const res = await fetch(`${h.url}/sse?${new URLSearchParams(params)}`, { headers, signal: ac.signal });
  if (res.status === 200) {
    ac.abort();
    return { status: 200, body: null };
  }
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

export type { CloseInfo };
