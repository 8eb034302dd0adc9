import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Http2ServerRequest, type Http2ServerResponse, constants as h2 } from 'node:http2';
import { fromBinary } from '@bufbuild/protobuf';
import { codeOf, type DisconnectReason } from '../../core/disconnect.js';
import { type HeraldError, invalid, toHeraldError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { TransportConnection } from '../../core/session.js';
import { SubscribeRequestSchema } from '../../gen/herald/v1/notifications_pb.js';
import { NotificationEncoder } from '../grpc/encoder.js';
import type { NotificationsRules } from '../grpc/rules.js';
import { malformedUtf8Field, stringFields } from '../grpc/service.js';
import { printableAscii } from '../grpc/status.js';
import { type Linger, StreamConnection } from '../teardown.js';
import { GRPC_WEB_KIND } from './connection.js';

type NodeRequest = IncomingMessage | Http2ServerRequest;
type NodeResponse = ServerResponse | Http2ServerResponse;

/** The two binary framings of a server stream on the HTTP port. */
export type Framing = 'grpc-web' | 'connect';

const CONTENT_TYPE: Record<Framing, string> = { 'grpc-web': 'application/grpc-web+proto', connect: 'application/connect+proto' };

/**
 * Which framing a `StreamNotifications` request can be answered with here, or null for Connect's
 * own handler: binary gRPC-Web or Connect, uncompressed, without a deadline. Everything else
 * (JSON, text, a compressed request, `grpc-timeout` / `connect-timeout-ms`) goes through Connect.
 */
export function framingOf(headers: NodeRequest['headers']): Framing | null {
  const type = (headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  const framing: Framing | null =
    type === 'application/grpc-web' || type === 'application/grpc-web+proto' ? 'grpc-web' : type === 'application/connect+proto' ? 'connect' : null;
  if (framing === null) return null;
  const encoding = headers[framing === 'grpc-web' ? 'grpc-encoding' : 'connect-content-encoding'];
  if (encoding !== undefined && encoding !== 'identity') return null;
  if (headers['grpc-timeout'] !== undefined || headers['connect-timeout-ms'] !== undefined) return null;
  return framing;
}

/** A message frame: flags 0, big-endian length, the message (both framings). */
const FRAME_HEAD = 5;
/** gRPC-Web's trailer frame; Connect's end-of-stream frame. */
const END_FLAG: Record<Framing, number> = { 'grpc-web': 0x80, connect: 0x02 };

function endFrame(framing: Framing, err: HeraldError | null): Buffer {
  let body: string;
  if (framing === 'grpc-web') {
    body = 'grpc-status: 0\r\n';
    if (err) {
      body = `grpc-status: ${GRPC_CODE[err.grpcStatus] ?? 13}\r\ngrpc-message: ${encodeURIComponent(err.message)}\r\nherald-error-code: ${err.code}\r\n`;
      if (err.field) body += `herald-error-field: ${printableAscii(err.field)}\r\n`;
    }
  } else {
    const metadata: Record<string, string[]> = {};
    if (err) {
      metadata['herald-error-code'] = [err.code];
      if (err.field) metadata['herald-error-field'] = [printableAscii(err.field)];
    }
    body = JSON.stringify(err ? { error: { code: err.grpcStatus.toLowerCase(), message: err.message }, metadata } : {});
  }
  const text = Buffer.from(body);
  const frame = Buffer.allocUnsafe(FRAME_HEAD + text.length);
  frame[0] = END_FLAG[framing];
  frame.writeUInt32BE(text.length, 1);
  text.copy(frame, FRAME_HEAD);
  return frame;
}

/** gRPC status numbers by name (the same as Connect's codes). */
const GRPC_CODE: Record<string, number> = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
};

const SUBSCRIBE_STRINGS = stringFields(SubscribeRequestSchema);

/** The response's outbound side, for backpressure (an HTTP/2 stream's, or the HTTP/1.1 response's). */
function outbound(res: NodeResponse): { readonly writableLength: number; readonly writableNeedDrain: boolean } {
  return 'stream' in res ? res.stream : res;
}

/**
 * `StreamNotifications` over binary gRPC-Web or Connect, framed here rather than by Connect's
 * handler: the encoder's `herald.v1.Notification` bytes go out as message frames, every frame a
 * session flush queued in one write, like the WebSocket and SSE transports write. Connect's
 * streaming pipeline costs a chain of async iterators and a write per message per device, which
 * made a broadcast's fan-out several times slower (README "Benchmarks"); the framing itself is five
 * bytes. The rules are the same as everywhere ({@link NotificationsRules.stream}).
 */
export class FramedStreamConnection extends StreamConnection implements TransportConnection {
  readonly kind = GRPC_WEB_KIND;
  readonly encoder: NotificationEncoder;
  readonly #req: NodeRequest;
  readonly #res: NodeResponse;
  readonly #framing: Framing;
  readonly #linger: Linger<FramedStreamConnection>;

  constructor(clientId: string, connectionId: string, req: NodeRequest, res: NodeResponse, framing: Framing, linger: Linger<FramedStreamConnection>) {
    super(outbound(res));
    this.encoder = new NotificationEncoder(clientId, connectionId);
    this.#req = req;
    this.#res = res;
    this.#framing = framing;
    this.#linger = linger;
  }

  /** Every frame of one flush in one buffer, one write. */
  write(frames: Buffer[]): void {
    if (this.#res.writableEnded || this.#res.destroyed) return;
    let size = 0;
    for (const f of frames) size += FRAME_HEAD + f.length;
    const buf = Buffer.allocUnsafe(size);
    let pos = 0;
    for (const f of frames) {
      buf[pos] = 0;
      buf.writeUInt32BE(f.length, pos + 1);
      f.copy(buf, pos + FRAME_HEAD);
      pos += FRAME_HEAD + f.length;
    }
    (this.#res as ServerResponse).write(buf);
  }

  /** The linger time ran out (or shutdown ended): drop the HTTP stream with what is left. */
  abort(): void {
    if ('stream' in this.#req) this.#req.stream.close(h2.NGHTTP2_CANCEL);
    else this.#req.socket.destroy();
  }

  /** The peer is gone: nothing to send. */
  protected override destroy(): void {}

  /** The final `close` message and the end of the stream (status OK), then the response lingers until it left. */
  protected override close(reason: DisconnectReason): void {
    const res = this.#res;
    if (res.writableEnded || res.destroyed) return;
    this.write([this.encoder.control({ type: 'close', code: codeOf(reason), reason })]);
    (res as ServerResponse).end(endFrame(this.#framing, null));
    this.#linger.add(this);
  }

  /** The response was handed to the kernel, or its connection closed: nothing left to linger for. */
  settled(): void {
    this.#linger.finished(this);
  }
}

/** What {@link serveFramedStream} needs of the transport. */
export interface FramedStreamOptions {
  rules: NotificationsRules;
  linger: Linger<FramedStreamConnection>;
  log: Logger;
  /** Largest request body read. */
  maxBytes: number;
}

/**
 * Answers one binary `StreamNotifications` call (see {@link framingOf}): reads the enveloped
 * request, starts the stream through the rules, and ends the call with their refusal as the
 * framing's status (gRPC-Web trailers, Connect's end-of-stream error) when they refuse it.
 * `headers` are sent with the answer (CORS).
 */
export async function serveFramedStream(
  o: FramedStreamOptions,
  framing: Framing,
  req: NodeRequest,
  res: NodeResponse,
  headers: Record<string, string | string[] | number>,
): Promise<void> {
  let conn = null as FramedStreamConnection | null;
  let gone = false;
  res.once('close', () => {
    // Closed before this side ended it: the peer left (an HTTP/2 response also says 'finish' then).
    gone = !res.writableEnded;
    if (conn === null) return;
    conn.settled();
    if (gone) conn.session ? conn.session.close('gone') : conn.end('gone');
  });
  res.once('finish', () => conn?.settled());
  try {
    const body = await readBody(req, o.maxBytes);
    if (body.length < FRAME_HEAD || body[0] !== 0 || body.readUInt32BE(1) !== body.length - FRAME_HEAD) {
      throw invalid('request', 'must be one uncompressed SubscribeRequest message');
    }
    const message = body.subarray(FRAME_HEAD);
    const field = malformedUtf8Field(message, SUBSCRIBE_STRINGS);
    if (field) throw invalid(field, 'must be well-formed UTF-8');
    let request: ReturnType<typeof fromBinary<typeof SubscribeRequestSchema>>;
    try {
      request = fromBinary(SubscribeRequestSchema, message);
    } catch {
      throw invalid('request', 'is not a SubscribeRequest');
    }
    res.writeHead(200, { ...headers, 'content-type': CONTENT_TYPE[framing] });
    res.on('drain', () => conn?.session?.drained());
    await o.rules.stream(request, header(req, 'authorization'), (clientId, connectionId) => {
      if (gone) return null;
      conn = new FramedStreamConnection(clientId, connectionId, req, res, framing, o.linger);
      return conn;
    });
  } catch (err) {
    if (res.writableEnded || res.destroyed) return;
    if (!res.headersSent) res.writeHead(200, { ...headers, 'content-type': CONTENT_TYPE[framing] });
    (res as ServerResponse).end(endFrame(framing, toHeraldError(err, o.log, 'gRPC-Web/Connect stream')));
  }
}

function header(req: NodeRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The request body, at most `max` bytes (a larger one is refused). */
async function readBody(req: NodeRequest, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) throw invalid('request', 'is over the configured limit');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
