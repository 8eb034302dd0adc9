import type { ServerResponse } from 'node:http';
import type { Writable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type Auth, bearer } from '../auth/auth.js';
import { codeOf, type DisconnectReason } from '../core/disconnect.js';
import { HeraldError, invalid } from '../core/errors.js';
import type { ControlFrame, Encoder, Outgoing } from '../core/frames.js';
import { checkId } from '../core/ids.js';
import type { HeraldNode } from '../core/node.js';
import type { TransportConnection } from '../core/session.js';
import type { InboxCounts } from '../core/types.js';
import { type DeviceHandshake, deviceHandshake } from './handshake.js';
import { type FrameBuffers, notificationEvent, retryLine, sseChunkEncoder, sseEncoder } from './sse-frames.js';
import { Linger, StreamConnection } from './teardown.js';
import type { DeviceTransport } from './transport.js';

const KIND = 'sse';

/** `GET /sse` and `POST /sse/ack` as routes of the HTTP app (src/transports/index.ts registers it). */
export const sseTransport: DeviceTransport = {
  kind: KIND,
  register({ node, auth, app, closeLingerMs }) {
    // A device whose stream dropped counts as gone after a pong timeout; an EventSource comes back
    // well within it (capped at 3 s, the browsers' own default).
    const sse = new SseTransport(node, auth, { retryMs: Math.min(3000, node.config.HEARTBEAT_TIMEOUT_MS), closeLingerMs });
    sse.register(app);
    return { close: () => sse.close() };
  },
};

/** Set by {@link sseTransport} from the node's configuration. */
export interface SseTransportOptions {
  /** Reconnect delay sent as `retry:`; each stream gets 50–100 % of it, so reconnects spread. */
  retryMs: number;
  /** How long an ended stream may take to flush its last bytes before its socket is destroyed. */
  closeLingerMs: number;
}

/**
 * Where a stream's bytes go once its headers are out, and in what encoding. Normally the socket
 * itself, every event an HTTP chunk of its own ({@link sseChunkEncoder}): a turn's events are one
 * `socket.write`, one syscall, without `res.write`'s chunk header, cork and next-tick uncork per
 * write. When Node does not chunk the body (an HTTP/1.0 client: the body ends with the connection)
 * the socket gets the events as they are. Through `res.write` only when the response has no socket
 * of its own yet (queued behind another response on its connection).
 */
interface StreamOut {
  readonly stream: Writable;
  readonly encoder: Encoder;
  /** The stream is the socket: nothing but the kernel holds on to what is written to it. */
  readonly socket: boolean;
}

function streamOut(res: ServerResponse): StreamOut {
  const socket = res.socket;
  if (socket === null) return { stream: res, encoder: sseEncoder, socket: false };
  return { stream: socket, encoder: res.chunkedEncoding ? sseChunkEncoder : sseEncoder, socket: true };
}

// Where a stream's reused notification buffer ({@link SseConnection.take}) stands:
/** Free to build the next notification in. */
const SCRATCH_FREE = 0;
/** Holds a notification in the session's queue: the next write() has it. */
const SCRATCH_QUEUED = 1;
/** Written, but the socket had to keep part of it: free once the socket's buffer is empty. */
const SCRATCH_IN_SOCKET = 2;

/** A stream's reused notification buffer: room for a typical event, and no bigger. */
const SCRATCH_MIN = 512;
const SCRATCH_MAX = 2048;

/**
 * One SSE stream as the core sees it. It is its own encoder so that it sees each ping go by: a
 * device without `?ack=1` cannot answer, and the moment its ping reaches the kernel stands in
 * for the answer (PROTOCOL.md "SSE liveness"). Every frame it encodes is in the body's framing
 * ({@link streamOut}): a new kind of frame goes through `#enc` too.
 */
class SseConnection extends StreamConnection implements TransportConnection, Encoder, FrameBuffers {
  readonly kind = KIND;
  readonly name = KIND;
  readonly encoder: Encoder = this;
  readonly res: ServerResponse;
  readonly #transport: SseTransport;
  readonly #out: Writable;
  readonly #enc: Encoder;
  readonly #chunked: boolean;
  /** Notifications are built in {@link #scratch} when it is free (only when writing to the socket itself). */
  readonly #reuse: boolean;
  /** No `?ack=1`: liveness is judged by the socket. */
  readonly #judgedBySocket: boolean;
  #pingQueued = false;
  /**
   * The buffer this stream's notifications are built in, one at a time (allocated with the first).
   * In a fan-out every device gets one event per broadcast, written at once and taken by the
   * kernel in the same write: a fresh buffer per delivery was only ever garbage (and external
   * memory, which V8 counts towards its next full collection).
   */
  #scratch: Buffer | null = null;
  /** The last event handed out of {@link #scratch}: its view is reused when the next one is as long. */
  #view: Buffer | null = null;
  #scratchState: number = SCRATCH_FREE;

  /** Call once the headers are written: {@link streamOut} reads how Node frames the body. */
  constructor(transport: SseTransport, res: ServerResponse, judgedBySocket: boolean) {
    const out = streamOut(res);
    super(out.stream);
    this.#transport = transport;
    this.res = res;
    this.#out = out.stream;
    this.#enc = out.encoder;
    this.#chunked = out.encoder === sseChunkEncoder;
    this.#reuse = out.socket;
    this.#judgedBySocket = judgedBySocket;
  }

  /** Where 'drain' is emitted for this stream's writes. */
  get out(): Writable {
    return this.#out;
  }

  control(frame: ControlFrame): Buffer {
    if (frame.type === 'ping' && this.#judgedBySocket) this.#pingQueued = true;
    return this.#enc.control(frame);
  }

  notification(out: Outgoing, clientId: string, cursor: string): Buffer {
    return this.#reuse ? notificationEvent(out, clientId, cursor, this.#chunked, this) : this.#enc.notification(out, clientId, cursor);
  }

  /**
   * FrameBuffers: room for one notification event. {@link #scratch} when nothing still needs its
   * bytes (not queued, and not held by the socket), else a fresh buffer.
   */
  take(size: number): Buffer {
    if (this.#scratchState === SCRATCH_IN_SOCKET && this.#out.writableLength === 0) this.#scratchState = SCRATCH_FREE;
    if (this.#scratchState !== SCRATCH_FREE || size > SCRATCH_MAX) return Buffer.allocUnsafe(size);
    let scratch = this.#scratch;
    if (scratch === null || scratch.length < size) {
      scratch = Buffer.allocUnsafe(Math.min(SCRATCH_MAX, Math.max(SCRATCH_MIN, size * 2)));
      this.#scratch = scratch;
      this.#view = null;
    }
    let view = this.#view;
    if (view === null || view.length !== size) {
      view = scratch.subarray(0, size);
      this.#view = view;
    }
    this.#scratchState = SCRATCH_QUEUED;
    return view;
  }

  event(out: Outgoing, clientId: string, cursor: string, counts: InboxCounts | null): Buffer {
    // biome-ignore lint/style/noNonNullAssertion: both SSE encoders implement event()
    return this.#enc.event!(out, clientId, cursor, counts);
  }

  /** One write of the whole batch: the core calls this at most once per event-loop turn. */
  write(frames: Buffer[]): void {
    const res = this.res;
    if (res.destroyed || res.writableEnded) return;
    const chunk = frames.length === 1 ? frames[0] : Buffer.concat(frames);
    // The session writes its whole queue at once, so a queued ping is in this batch, and so is the
    // notification in #scratch, if there is one (copied by the concat, or written as it is).
    if (this.#pingQueued) {
      this.#pingQueued = false;
      this.#out.write(chunk, this.#pingWritten);
    } else this.#out.write(chunk);
    if (this.#scratchState === SCRATCH_QUEUED) {
      const view = this.#view;
      // Written as it is: taken by the kernel at once unless the socket had to buffer some of it.
      if (chunk === view) this.#scratchState = this.#out.writableLength === 0 ? SCRATCH_FREE : SCRATCH_IN_SOCKET;
      else if (view !== null && frames.includes(view)) this.#scratchState = SCRATCH_FREE; // copied by the concat
    }
  }

  readonly #pingWritten = (err?: Error | null): void => {
    if (!err) this.session?.pingWritten(Date.now());
  };

  protected override destroy(): void {
    this.res.destroy();
  }

  /**
   * A `close` event ends the response; it lingers until its bytes are out. It goes through Node,
   * which frames it and the body's end itself, behind our writes on the same socket.
   */
  protected override close(reason: DisconnectReason): void {
    const res = this.res;
    if (res.destroyed || res.writableEnded) return;
    res.end(sseEncoder.control({ type: 'close', code: codeOf(reason), reason }));
    this.#transport.linger(res);
  }
}

/**
 * `GET /sse` and `POST /sse/ack` as Fastify routes. Refusals are HTTP statuses from the shared
 * handshake (PROTOCOL.md "Refusals before a stream starts"); once accepted, the reply is hijacked
 * and the raw response becomes the stream — no compression, no Fastify serialisation, no timeout.
 */
export class SseTransport {
  readonly #node: HeraldNode;
  readonly #auth: Auth;
  readonly #opts: SseTransportOptions;
  /** Ended streams whose last bytes are still on their way; destroyed if they do not get out. */
  readonly #lingering: Linger<ServerResponse>;

  constructor(node: HeraldNode, auth: Auth, opts: SseTransportOptions) {
    this.#node = node;
    this.#auth = auth;
    this.#opts = opts;
    this.#lingering = new Linger(opts.closeLingerMs, (res) => res.destroy());
  }

  register(app: FastifyInstance): void {
    // No HEAD route: a HEAD request must not open a stream.
    app.get('/sse', { exposeHeadRoute: false, schema: { hide: true } }, (req, reply) => this.#onStream(req, reply));
    app.post('/sse/ack', { schema: { hide: true } }, (req, reply) => this.#onAck(req, reply));
  }

  async #onStream(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const url = new URL(req.url, 'http://localhost');
    // An EventSource reconnects to the URL it started with, so a `?cursor=` there is older than
    // the Last-Event-ID it sends: the header wins.
    const lastEventId = header(req.headers['last-event-id']);
    if (lastEventId) url.searchParams.delete('cursor');
    const hs = await deviceHandshake(this.#node, this.#auth, url, req.headers, lastEventId);
    reply.hijack();
    const res = reply.raw;
    if (res.destroyed || req.raw.socket.destroyed) return;
    this.#open(res, reply, hs);
  }

  #open(res: ServerResponse, reply: FastifyReply, hs: DeviceHandshake): void {
    const socket = res.socket;
    // A stream is silent between events by design: no inactivity timeout, no Nagle delay.
    socket?.setTimeout(0);
    socket?.setNoDelay(true);
    // Headers Fastify's hooks set (CORS) go out with ours: the reply itself is never sent.
    for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) res.setHeader(name, value);
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
      // When the stream ends, so does its connection: a zombie's socket must not idle on as keep-alive.
      connection: 'close',
    });
    // The headers go out with the retry line, through Node: from here on the body is ours to write.
    res.write(retryLine(this.#opts.retryMs * (0.5 + Math.random() * 0.5)));
    const conn = new SseConnection(this, res, hs.query.get('ack') !== '1');
    res.on('error', (err) => this.#node.log.debug({ err, connectionId: conn.session?.connectionId }, 'sse stream error'));
    res.on('close', () => {
      this.#lingering.finished(res);
      conn.session?.close('gone');
    });
    conn.out.on('drain', () => conn.session?.drained());
    conn.session = this.#node.connect({ clientId: hs.clientId, deviceId: hs.deviceId, conn, cursor: hs.cursor, tokenExpiresAt: hs.tokenExpiresAt });
  }

  /** `POST /sse/ack {"device","cursor"?}`: a pong, and an ack when a cursor is given (204). */
  async #onAck(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const query = req.query as { token?: string };
    const identity = await this.#auth.verifyDevice(bearer(req.headers.authorization) ?? query.token);
    const body = ackBody(req.body);
    const deviceId = checkId('device', body.device);
    if (body.cursor !== undefined && body.cursor !== null && typeof body.cursor !== 'string') throw invalid('cursor', 'must be a string');
    const cursor = this.#node.parseCursor(body.cursor as string | undefined);
    if (!(await this.#node.deviceAnswer(identity.clientId, deviceId, KIND, cursor))) {
      throw new HeraldError('HERALD_ERR_NOT_FOUND', `device ${deviceId} has no SSE stream`);
    }
    return reply.code(204).send();
  }

  /** @internal an ended stream: destroy its socket if the bytes do not get out in time. */
  linger(res: ServerResponse): void {
    if (res.writableFinished || res.destroyed) return;
    this.#lingering.add(res);
  }

  /** Destroys what is still lingering (end of shutdown). */
  close(): void {
    this.#lingering.destroyAll();
  }
}

function header(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return v === undefined || v === '' ? undefined : v;
}

/** JSON body; also as text/plain, which a browser can send without a CORS preflight. */
function ackBody(body: unknown): Record<string, unknown> {
  let parsed = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      throw invalid('body', 'must be JSON');
    }
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw invalid('body', 'must be an object {"device","cursor"?}');
  return parsed as Record<string, unknown>;
}
