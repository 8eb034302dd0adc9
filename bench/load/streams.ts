import { connect } from 'node:net';
import { Client, credentials, Metadata, status } from '@grpc/grpc-js';
import { WebSocket } from 'ws';
import type { Sender } from './protocols.js';

/**
 * One device's stream, whatever the transport: WebSocket (`ws`), SSE (a minimal raw-HTTP reader)
 * or gRPC (`@grpc/grpc-js` with raw codecs). Each hands the load worker whole frames (a WebSocket
 * message, an SSE event, a gRPC message) as bytes, so the same byte checks find the bench stamp in
 * all of them and no transport pays for a parse the others do not.
 */
export interface Conn extends Sender {
  close(): void;
}

export interface ConnEvents {
  /** The transport is up (WebSocket open, SSE 200 headers, gRPC call started). */
  open(): void;
  frame(data: Buffer): void;
  /** A refusal or failure before or after open; `close` follows for an open stream. */
  error(why: string): void;
  /** The stream ended (WebSocket close code; 1006 for SSE and gRPC ends). */
  close(code: number): void;
}

export function openWs(url: string, localAddress: string, timeoutMs: number, ev: ConnEvents): Conn {
  const ws = new WebSocket(url, { localAddress, perMessageDeflate: false, skipUTF8Validation: true, handshakeTimeout: timeoutMs });
  ws.on('open', () => ev.open());
  ws.on('message', (data: Buffer) => ev.frame(data));
  ws.on('unexpected-response', (_req, res) => ev.error(`HTTP ${res.statusCode}`));
  ws.on('error', (err) => ev.error(err.message));
  ws.on('close', (code) => ev.close(code));
  return { send: (t) => ws.send(t), close: () => ws.terminate() };
}

const HEAD_END = Buffer.from('\r\n\r\n');
const EVENT_END = Buffer.from('\n\n');

/**
 * A minimal SSE reader on a raw socket (chosen over the `eventsource` package, which costs a
 * parser, an EventTarget and a fetch per stream: too much for 10 000 streams in one process
 * beside the server). It sends one GET, checks the status line, then cuts the body at blank lines.
 * Transfer-Encoding chunk-size lines stay in the bytes between events; the byte checks ignore them.
 */
export function openSse(url: string, localAddress: string, timeoutMs: number, ev: ConnEvents): Conn {
  const u = new URL(url);
  const socket = connect({ host: u.hostname, port: Number(u.port), localAddress, noDelay: true });
  let head = true;
  let buf: Buffer = Buffer.alloc(0);
  let ended = false;
  const timer = setTimeout(() => {
    if (head) socket.destroy(new Error('headers timeout'));
  }, timeoutMs);
  socket.on('connect', () => {
    socket.write(`GET ${u.pathname}${u.search} HTTP/1.1\r\nhost: ${u.host}\r\naccept: text/event-stream\r\ncache-control: no-cache\r\n\r\n`);
  });
  socket.on('data', (d: Buffer) => {
    buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
    if (head) {
      const end = buf.indexOf(HEAD_END);
      if (end < 0) return;
      const statusCode = Number(buf.toString('latin1', 9, 12));
      if (statusCode !== 200) {
        ev.error(`HTTP ${statusCode}`);
        socket.destroy();
        return;
      }
      head = false;
      clearTimeout(timer);
      buf = buf.subarray(end + 4);
      ev.open();
    }
    let from = 0;
    for (;;) {
      const i = buf.indexOf(EVENT_END, from);
      if (i < 0) break;
      ev.frame(buf.subarray(from, i));
      from = i + 2;
    }
    buf = from === 0 ? buf : from >= buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(from));
  });
  socket.on('error', (err) => ev.error(err.message));
  socket.on('close', () => {
    clearTimeout(timer);
    if (ended) return;
    ended = true;
    ev.close(1006);
  });
  return { send: () => undefined, close: () => socket.destroy() };
}

/** A protobuf message of string fields (the requests the bench sends). */
function encodeStrings(fields: [number, string][]): Buffer {
  const parts: Buffer[] = [];
  for (const [no, value] of fields) {
    const v = Buffer.from(value);
    const len: number[] = [];
    let n = v.length;
    while (n > 0x7f) {
      len.push((n & 0x7f) | 0x80);
      n >>>= 7;
    }
    len.push(n);
    parts.push(Buffer.from([(no << 3) | 2, ...len]), v);
  }
  return Buffer.concat(parts);
}

const raw = (b: Buffer) => b;
const SERVICE = '/herald.v1.Notifications';

/**
 * A gRPC device: AddConnection, then StreamNotifications, with the device JWT in the metadata;
 * `heartbeat` messages are answered by the Ack RPC. Its own channel (a local subchannel pool), so
 * every device is its own HTTP/2 connection, as separate devices would be. grpc-js cannot bind a
 * source address: gRPC devices connect from 127.0.0.1.
 */
export function openGrpc(port: number, clientId: string, token: string, cursor: string | null, ev: ConnEvents): Conn {
  const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure(), {
    'grpc.use_local_subchannel_pool': 1,
    'grpc.max_receive_message_length': 4 * 2 ** 20,
  });
  const md = new Metadata();
  md.set('authorization', `Bearer ${token}`);
  const connectionId = `${clientId}:d`;
  let closed = false;
  let call: ReturnType<Client['makeServerStreamRequest']> | null = null;
  const end = (code: number) => {
    if (closed) return;
    closed = true;
    client.close();
    ev.close(code);
  };
  client.makeUnaryRequest(
    `${SERVICE}/AddConnection`,
    raw,
    raw,
    encodeStrings([
      [1, clientId],
      [2, 'd'],
      [3, 'bench'],
    ]),
    md,
    (err) => {
      if (closed) return;
      if (err) {
        ev.error(`AddConnection: ${status[err.code] ?? err.code}`);
        end(1006);
        return;
      }
      const c = client.makeServerStreamRequest(
        `${SERVICE}/StreamNotifications`,
        raw,
        raw,
        encodeStrings(
          cursor
            ? [
                [1, connectionId],
                [2, cursor],
              ]
            : [[1, connectionId]],
        ),
        md,
      );
      call = c;
      ev.open();
      c.on('data', (d: Buffer) => ev.frame(d));
      c.on('error', (e: Error & { code?: number }) => {
        if (e.code !== status.CANCELLED) ev.error(`stream: ${e.code === undefined ? e.message : (status[e.code] ?? e.code)}`);
        end(1006);
      });
      c.on('end', () => end(1000));
    },
  );
  return {
    send: () => {
      if (closed) return;
      client.makeUnaryRequest(`${SERVICE}/Ack`, raw, raw, encodeStrings([[1, connectionId]]), md, () => undefined);
    },
    close: () => {
      call?.cancel();
      end(1006);
    },
  };
}

/** A gRPC-Web message frame: flag 0, big-endian length, the message. */
function grpcWebFrame(msg: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(msg.length, 1);
  return Buffer.concat([head, msg]);
}

/** One gRPC-Web POST on a raw socket; the request of a unary call or of the stream. */
function grpcWebRequest(host: string, method: string, token: string, msg: Buffer, keepAlive: boolean): Buffer {
  const body = grpcWebFrame(msg);
  return Buffer.concat([
    Buffer.from(
      `POST ${SERVICE}/${method} HTTP/1.1\r\nhost: ${host}\r\ncontent-type: application/grpc-web+proto\r\nx-grpc-web: 1\r\n` +
        `authorization: Bearer ${token}\r\ncontent-length: ${body.length}\r\nconnection: ${keepAlive ? 'keep-alive' : 'close'}\r\n\r\n`,
    ),
    body,
  ]);
}

/**
 * A gRPC-Web device on the HTTP port, as a browser's client speaks it over HTTP/1.1, on raw
 * sockets like the SSE reader (a Connect client per device would cost the load process more than
 * the server): AddConnection on a short-lived socket, then StreamNotifications on its own socket
 * whose chunked body is cut into gRPC-Web frames; each message (flag 0) is handed over whole, the
 * trailer frame (flag 0x80) ends it. `heartbeat` messages are answered by Ack on a new socket.
 */
export function openGrpcWeb(
  port: number,
  clientId: string,
  token: string,
  cursor: string | null,
  localAddress: string,
  timeoutMs: number,
  ev: ConnEvents,
): Conn {
  const host = `127.0.0.1:${port}`;
  const connectionId = `${clientId}:d`;
  let stream: ReturnType<typeof connect> | null = null;
  let closed = false;
  const end = (code: number) => {
    if (closed) return;
    closed = true;
    ev.close(code);
  };
  const unary = (method: string, msg: Buffer, done: (ok: boolean, why: string) => void) => {
    const s = connect({ host: '127.0.0.1', port, localAddress, noDelay: true });
    let buf: Buffer = Buffer.alloc(0);
    s.on('connect', () => s.write(grpcWebRequest(host, method, token, msg, false)));
    s.on('data', (d: Buffer) => {
      buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      const text = buf.toString('latin1');
      const ok = text.startsWith('HTTP/1.1 200') && /grpc-status: ?0\r?\n/.test(text);
      done(ok, ok ? '' : (/grpc-status: ?(\d+)/.exec(text)?.[1] ?? text.slice(9, 12)));
    });
  };
  const timer = setTimeout(() => {
    if (!closed && stream === null) ev.error('AddConnection timeout');
  }, timeoutMs);
  unary(
    'AddConnection',
    encodeStrings([
      [1, clientId],
      [2, 'd'],
      [3, 'bench'],
    ]),
    (ok, why) => {
      clearTimeout(timer);
      if (closed) return;
      if (!ok) {
        ev.error(`AddConnection: ${why}`);
        end(1006);
        return;
      }
      const s = connect({ host: '127.0.0.1', port, localAddress, noDelay: true });
      stream = s;
      let head = true;
      let chunked = false;
      let raw: Buffer = Buffer.alloc(0);
      let body: Buffer = Buffer.alloc(0);
      s.on('connect', () => {
        const fields: [number, string][] = cursor
          ? [
              [1, connectionId],
              [2, cursor],
            ]
          : [[1, connectionId]];
        s.write(grpcWebRequest(host, 'StreamNotifications', token, encodeStrings(fields), true));
      });
      s.on('data', (d: Buffer) => {
        raw = raw.length === 0 ? d : Buffer.concat([raw, d]);
        if (head) {
          const i = raw.indexOf(HEAD_END);
          if (i < 0) return;
          const statusCode = Number(raw.toString('latin1', 9, 12));
          if (statusCode !== 200) {
            ev.error(`HTTP ${statusCode}`);
            s.destroy();
            return;
          }
          chunked = /transfer-encoding: ?chunked/i.test(raw.toString('latin1', 0, i));
          head = false;
          raw = raw.subarray(i + 4);
          ev.open();
        }
        // De-chunk what is complete, then cut gRPC-Web frames.
        if (chunked) {
          for (;;) {
            const crlf = raw.indexOf('\r\n');
            if (crlf < 0) break;
            const size = Number.parseInt(raw.toString('latin1', 0, crlf), 16);
            if (raw.length < crlf + 2 + size + 2) break;
            body = Buffer.concat([body, raw.subarray(crlf + 2, crlf + 2 + size)]);
            raw = raw.subarray(crlf + 2 + size + 2);
          }
        } else {
          body = Buffer.concat([body, raw]);
          raw = Buffer.alloc(0);
        }
        let from = 0;
        while (body.length - from >= 5) {
          const len = body.readUInt32BE(from + 1);
          if (body.length - from < 5 + len) break;
          if ((body[from] & 0x80) === 0) ev.frame(body.subarray(from + 5, from + 5 + len));
          from += 5 + len;
        }
        body = from === 0 ? body : Buffer.from(body.subarray(from));
      });
      s.on('error', (err) => ev.error(err.message));
      s.on('close', () => end(1006));
    },
  );
  return {
    send: () => {
      if (!closed) unary('Ack', encodeStrings([[1, connectionId]]), () => undefined);
    },
    close: () => {
      stream?.destroy();
      end(1006);
    },
  };
}
