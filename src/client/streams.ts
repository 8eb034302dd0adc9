import { type DeviceFrame, SERVER_FRAME_TYPES, type ServerFrame } from '../protocol/frames.js';

/**
 * A WebSocket constructor: the browser's, Node's global one (Node ≥ 22), or the `ws` package's
 * (`import WebSocket from 'ws'`). Typed loosely so that all three fit; the SDK only uses
 * `onopen`/`onmessage`/`onclose`/`onerror`, `send(string)`, `close(code)` and `readyState`.
 */
export type WebSocketConstructor = new (url: string) => object;

/**
 * An EventSource constructor: the browser's, or the `eventsource` package's in Node
 * (`import { EventSource } from 'eventsource'`). The SDK uses `addEventListener(type)`,
 * `onopen`/`onerror` and `close()`.
 */
export type EventSourceConstructor = new (url: string) => object;

/** What a stream reports to its connection. Nothing is reported after `end` or after `close()`. */
export interface StreamEvents {
  /** The transport is up (upgrade done / HTTP 200); the welcome follows. */
  open(): void;
  /** Any byte-level sign of life: called before `frame`, and for frames that do not parse. */
  data(): void;
  frame(frame: ServerFrame): void;
  /**
   * The stream is over. `code` is the close code (WebSocket close, SSE `event: close`), null when
   * the socket just went away; `status` is an HTTP status when a handshake refusal was visible
   * (Node clients only; browsers hide it).
   */
  end(info: { code: number | null; reason: string; status?: number }): void;
}

/** One device stream, whatever the transport. */
export interface DeviceStream {
  readonly kind: 'ws' | 'sse';
  /** Answers a server `ping`; on SSE the answer may carry an ack. */
  pong(ackCursor: string | null): void;
  ack(cursor: string): void;
  /** Asks the server for a sign of life (used on wake-ups). Returns false when the transport cannot be asked. */
  probe(): boolean;
  /** Closes without reporting `end`. */
  close(): void;
}

interface WsLike {
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: { message?: string; error?: unknown }) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

const WS_CONNECTING = 0;
const WS_OPEN = 1;
const noop = () => {};

function parse(text: unknown): ServerFrame | null {
  if (typeof text !== 'string') return null;
  try {
    const f = JSON.parse(text) as unknown;
    return typeof f === 'object' && f !== null && typeof (f as { type?: unknown }).type === 'string' ? (f as ServerFrame) : null;
  } catch {
    // Not JSON: not a frame of ours. Its arrival still counted as a sign of life (data()).
    return null;
  }
}

/** `GET /ws`: JSON text frames both ways. */
export class WsStream implements DeviceStream {
  readonly kind = 'ws' as const;
  readonly #ws: WsLike;
  #events: StreamEvents | null;
  #status: number | undefined;

  constructor(Ctor: WebSocketConstructor, url: string, events: StreamEvents) {
    this.#events = events;
    this.#ws = new Ctor(url) as WsLike;
    this.#ws.onopen = () => {
      this.#events?.data();
      this.#events?.open();
    };
    this.#ws.onmessage = (ev) => {
      const e = this.#events;
      if (!e) return;
      e.data();
      const f = parse(ev.data);
      if (f) e.frame(f);
    };
    // Browsers report nothing useful here; `ws` names the refused handshake's HTTP status.
    this.#ws.onerror = (ev) => {
      const text = ev?.message ?? (ev?.error instanceof Error ? ev.error.message : '');
      const m = /Unexpected server response: (\d{3})/.exec(text);
      if (m) this.#status = Number(m[1]);
    };
    this.#ws.onclose = (ev) => {
      const e = this.#events;
      this.#detach();
      e?.end({ code: ev.code === 1005 || ev.code === 1006 ? null : ev.code, reason: ev.reason, status: this.#status });
    };
  }

  #send(obj: DeviceFrame): void {
    if (this.#ws.readyState === WS_OPEN) this.#ws.send(JSON.stringify(obj));
  }

  pong(ackCursor: string | null): void {
    this.#send({ type: 'pong' });
    if (ackCursor !== null) this.ack(ackCursor);
  }

  ack(cursor: string): void {
    this.#send({ type: 'ack', cursor });
  }

  probe(): boolean {
    if (this.#ws.readyState !== WS_OPEN) return false;
    this.#send({ type: 'ping' });
    return true;
  }

  #detach(): void {
    this.#events = null;
    this.#ws.onopen = null;
    this.#ws.onmessage = null;
    this.#ws.onclose = null;
    // Keep an error listener: `ws` throws an unhandled 'error' otherwise.
    this.#ws.onerror = noop;
  }

  close(): void {
    this.#detach();
    const state = this.#ws.readyState;
    if (state === WS_OPEN || state === WS_CONNECTING) {
      try {
        this.#ws.close(1000);
      } catch {
        // `ws` refuses to close a socket mid-handshake by throwing in some versions; it is dropped anyway.
      }
    }
  }
}

interface EsLike {
  onopen: ((ev: unknown) => void) | null;
  onerror: ((ev: { code?: number; message?: string }) => void) | null;
  addEventListener(type: string, listener: (ev: { data?: unknown }) => void): void;
  close(): void;
}

export interface SseStreamOptions {
  /** `…/sse/ack` */
  ackUrl: string;
  device: string;
  /** The device token for `Authorization: Bearer`. */
  token: string;
  fetch: typeof fetch;
  /** Reports HTTP answers to acks that are not 204 (the stream is still up). */
  onAckError(err: Error): void;
}

/**
 * `GET /sse?ack=1`: server frames as SSE events; the device's answers (pong, ack) go by
 * `POST /sse/ack`. The EventSource's own reconnect is not used: the first error ends the stream
 * and the connection decides (token, backoff, cursor), like for a WebSocket.
 */
export class SseStream implements DeviceStream {
  readonly kind = 'sse' as const;
  readonly #es: EsLike;
  readonly #opts: SseStreamOptions;
  #events: StreamEvents | null;

  constructor(Ctor: EventSourceConstructor, url: string, opts: SseStreamOptions, events: StreamEvents) {
    this.#opts = opts;
    this.#events = events;
    this.#es = new Ctor(url) as EsLike;
    this.#es.onopen = () => {
      this.#events?.data();
      this.#events?.open();
    };
    for (const type of SERVER_FRAME_TYPES) {
      this.#es.addEventListener(type, (ev) => {
        const e = this.#events;
        if (!e) return;
        e.data();
        const f = parse(ev.data);
        if (!f) return;
        if (f.type === 'close') {
          // The server's last word: end now, before the EventSource tries to reconnect by itself.
          this.#finish({ code: typeof f.code === 'number' ? f.code : null, reason: String(f.reason ?? '') });
          return;
        }
        e.frame(f);
      });
    }
    this.#es.onerror = (ev) => this.#finish({ code: null, reason: '', status: typeof ev?.code === 'number' ? ev.code : undefined });
  }

  #finish(info: { code: number | null; reason: string; status?: number }): void {
    const e = this.#events;
    this.close();
    e?.end(info);
  }

  #post(cursor: string | null): void {
    if (!this.#events) return;
    const body: { device: string; cursor?: string } = { device: this.#opts.device };
    if (cursor !== null) body.cursor = cursor;
    this.#opts
      .fetch(this.#opts.ackUrl, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.#opts.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
      .then(
        (res) => {
          if (res.status === 204 || !this.#events) return;
          // 404: the server holds no stream of ours (it closed it and the close is still on its
          // way, or it is gone); 401: the token is no longer good. Either way this stream is over.
          if (res.status === 404) this.#finish({ code: null, reason: 'gone', status: 404 });
          else if (res.status === 401) this.#finish({ code: 1008, reason: 'unauthorized', status: 401 });
          else this.#opts.onAckError(new Error(`POST /sse/ack answered ${res.status}`));
        },
        // A failed POST says little (offline for a moment?): the liveness watch decides.
        () => {},
      );
  }

  pong(ackCursor: string | null): void {
    this.#post(ackCursor);
  }

  ack(cursor: string): void {
    this.#post(cursor);
  }

  probe(): boolean {
    // The answer (204, or 404 when the server no longer holds this stream) is the probe.
    this.#post(null);
    return false;
  }

  close(): void {
    if (!this.#events) return;
    this.#events = null;
    this.#es.onopen = null;
    this.#es.onerror = null;
    this.#es.close();
  }
}
