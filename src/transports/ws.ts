import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import type { Auth } from '../auth/auth.js';
import { decodeCursor } from '../core/cursor.js';
import { codeOf, type DisconnectReason } from '../core/disconnect.js';
import { HeraldError } from '../core/errors.js';
import type { Encoder } from '../core/frames.js';
import { parseStateInput, type StateInput } from '../core/inbox-input.js';
import type { HeraldNode } from '../core/node.js';
import type { Session, TransportConnection } from '../core/session.js';
import { deviceHandshake, handshakeRefusal } from './handshake.js';
import { Linger, StreamConnection } from './teardown.js';
import type { DeviceTransport } from './transport.js';
import { wsEncoder } from './ws-frames.js';

/** Close codes ws's receiver uses for bad input (protocol error, bad UTF-8, too big): all are 4400 here. */
const RECEIVER_CODES = new Set([1002, 1007, 1009]);
/** Batches above this are written frame by frame (no copy); below, as one buffer. */
const LARGE_BATCH = 64 * 1024;

/** The frame almost every inbound message is: recognised without parsing JSON. */
const PONG = Buffer.from('{"type":"pong"}');

const KIND = 'ws';

/** `GET /ws`, attached to the HTTP server's `upgrade` (src/transports/index.ts registers it). */
export const wsTransport: DeviceTransport = {
  kind: KIND,
  register({ node, auth, app, closeLingerMs }) {
    const ws = new WsTransport(node, auth, { closeLingerMs });
    ws.attach(app.server);
    return {
      close() {
        ws.detach(app.server);
        ws.close();
      },
    };
  },
};

/** One WebSocket stream as the core sees it. */
class WsConnection extends StreamConnection implements TransportConnection {
  readonly kind = KIND;
  readonly encoder: Encoder = wsEncoder;
  readonly ws: WebSocket;
  readonly socket: Duplex;
  readonly #transport: WsTransport;

  constructor(transport: WsTransport, ws: WebSocket, socket: Duplex) {
    super(socket);
    this.#transport = transport;
    this.ws = ws;
    this.socket = socket;
  }

  /**
   * The queue holds complete frames (see ws-frames.ts): one socket write per turn, one syscall.
   * Valid because compression is off, so `ws`'s Sender never holds a frame back that ours could
   * overtake; close frames and protocol pongs still go through `ws`, in socket order.
   */
  write(frames: Buffer[]): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    if (frames.length === 1) {
      this.socket.write(frames[0]);
      return;
    }
    let total = 0;
    for (const f of frames) total += f.length;
    if (total <= LARGE_BATCH) {
      this.socket.write(Buffer.concat(frames, total));
      return;
    }
    // Big batches: let the kernel gather them rather than copy them.
    this.socket.cork();
    for (const f of frames) this.socket.write(f);
    this.socket.uncork();
  }

  protected override destroy(): void {
    if (this.ws.readyState !== WebSocket.CLOSED) this.ws.terminate();
  }

  /** A close frame; the socket lingers until the peer answers it. */
  protected override close(reason: DisconnectReason): void {
    this.#transport.closing(this);
    closeWs(this.ws, codeOf(reason), reason);
  }
}

function destroyOnError(this: Duplex): void {
  this.destroy();
}

/** The original close, bypassing the per-instance override below. */
function closeWs(ws: WebSocket, code: number, reason: string): void {
  WebSocket.prototype.close.call(ws, code, reason);
}

/** Set by {@link wsTransport} from the node's configuration. */
export interface WsTransportOptions {
  /** How long a closed socket may take to answer our close frame before it is destroyed. */
  closeLingerMs: number;
}

/**
 * `GET /ws`: `ws` with `noServer` on the HTTP server's `upgrade`. Handshake faults are answered
 * with an HTTP status before the upgrade (PROTOCOL.md "Refusals before a stream starts").
 */
export class WsTransport {
  readonly #node: HeraldNode;
  readonly #auth: Auth;
  readonly #wss: WebSocketServer;
  /** Sockets we sent a close frame to: destroyed if the peer does not answer it in time. */
  readonly #closing: Linger<WsConnection>;
  /** Sockets between the HTTP upgrade and the session (handshake in progress). */
  readonly #handshaking = new Set<Duplex>();

  constructor(node: HeraldNode, auth: Auth, opts: WsTransportOptions) {
    this.#node = node;
    this.#auth = auth;
    this.#closing = new Linger(opts.closeLingerMs, (conn) => conn.ws.terminate());
    this.#wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: node.config.MAX_FRAME_BYTES,
    });
  }

  attach(server: Server): void {
    server.on('upgrade', this.#onUpgrade);
  }

  detach(server: Server): void {
    server.off('upgrade', this.#onUpgrade);
  }

  readonly #onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    // A named function, not a closure: a closure here would keep this handshake's request (headers
    // and all) alive for as long as the socket lives.
    socket.on('error', destroyOnError);
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/ws') {
      const r = handshakeRefusal(new HeraldError('HERALD_ERR_NOT_FOUND', `no WebSocket endpoint at ${url.pathname}`), this.#node.log);
      refuse(socket, r.status, r.body);
      return;
    }
    this.#handshaking.add(socket);
    deviceHandshake(this.#node, this.#auth, url, req.headers).then(
      (hs) => {
        this.#handshaking.delete(socket);
        if (socket.destroyed) return;
        this.#wss.handleUpgrade(req, socket, head, (ws) => this.#onOpen(ws, socket, hs));
      },
      (err: unknown) => {
        this.#handshaking.delete(socket);
        const r = handshakeRefusal(err, this.#node.log);
        refuse(socket, r.status, r.body);
      },
    );
  };

  #onOpen(ws: WebSocket, socket: Duplex, hs: Awaited<ReturnType<typeof deviceHandshake>>): void {
    const conn = new WsConnection(this, ws, socket);
    // ws closes bad input itself with 1002/1007/1009; the contract says 4400 for all of them.
    ws.close = (code?: number, reason?: string | Buffer) => {
      if (code !== undefined && RECEIVER_CODES.has(code) && conn.session) conn.session.close('bad-frame');
      else closeWs(ws, code ?? 1000, typeof reason === 'string' ? reason : '');
    };
    ws.on('error', (err) => this.#node.log.debug({ err, connectionId: conn.session?.connectionId }, 'websocket error'));
    ws.on('close', () => {
      this.#closing.finished(conn);
      conn.session?.close('gone');
    });
    ws.on('message', (data, isBinary) => this.#onMessage(conn, data, isBinary));
    socket.on('drain', () => conn.session?.drained());
    conn.session = this.#node.connect({ clientId: hs.clientId, deviceId: hs.deviceId, conn, cursor: hs.cursor, tokenExpiresAt: hs.tokenExpiresAt });
  }

  #onMessage(conn: WsConnection, data: RawData, isBinary: boolean): void {
    const session = conn.session;
    if (!session) return;
    const now = Date.now();
    if (!isBinary && Buffer.isBuffer(data) && data.equals(PONG)) {
      session.inbound('pong', now);
      return;
    }
    if (isBinary) {
      session.close('bad-frame');
      return;
    }
    let msg: unknown;
    try {
      msg = JSON.parse(data.toString());
    } catch {
      session.close('bad-frame');
      return;
    }
    const type = typeof msg === 'object' && msg !== null ? (msg as { type?: unknown }).type : undefined;
    if (type === 'pong') session.inbound('pong', now);
    else if (type === 'ping') session.inbound('ping', now);
    else if (type === 'ack') {
      const raw = (msg as { cursor?: unknown }).cursor;
      const cursor = typeof raw === 'string' ? decodeCursor(raw) : undefined;
      if (!cursor) {
        session.close('bad-frame');
        return;
      }
      session.inbound('ack', now);
      session.ack(cursor);
    } else if (type === 'state') this.#onState(session, msg);
    else session.close('bad-frame');
  }

  /** `{"type":"state",…}`: the device changes item states; the answer is the `state` frame all its client's devices get. */
  #onState(session: Session, msg: unknown): void {
    let input: StateInput;
    try {
      input = parseStateInput(msg);
    } catch {
      session.close('bad-frame');
      return;
    }
    session.inbound('other', Date.now());
    const { clientId, deviceId } = session.device;
    this.#node.inbox
      .setState(clientId, { ...input, scope: deviceId, by: deviceId })
      .catch((err) => this.#node.log.warn({ err, clientId, deviceId }, 'state change from a WebSocket frame failed'));
  }

  /** @internal a close frame was sent; destroy the socket if the peer does not answer in time. */
  closing(conn: WsConnection): void {
    this.#closing.add(conn);
  }

  /** Destroys what is still closing or mid-handshake (end of shutdown). */
  close(): void {
    this.#closing.destroyAll();
    for (const s of this.#handshaking) s.destroy();
    this.#handshaking.clear();
    this.#wss.close();
  }
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  429: 'Too Many Requests',
  503: 'Service Unavailable',
};

/** Answers a handshake with an HTTP error instead of upgrading (ws's `abortHandshake` idea). */
function refuse(socket: Duplex, status: number, body: object): void {
  if (socket.destroyed) return;
  const json = JSON.stringify(body);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}`,
  );
}
