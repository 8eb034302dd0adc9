import type { Server as HttpServer } from 'node:http';
import http2, { type Http2ServerRequest, type Http2ServerResponse, type Http2Session } from 'node:http2';
import type { Socket } from 'node:net';

/** What every HTTP/2 connection without TLS starts with ("prior knowledge", RFC 9113 §3.3); no HTTP/1 method is `PRI`. */
const PREFACE_START = Buffer.from('PRI ');

/** HTTP/2 served beside HTTP/1.1 on one port: {@link acceptH2c}. */
export interface H2cListener {
  /** Open HTTP/2 sessions. */
  readonly sessions: ReadonlySet<Http2Session>;
  /**
   * Drops connections that have not said what they speak, asks every open HTTP/2 session to close
   * (GOAWAY), then destroys those still open after `graceMs`.
   */
  close(graceMs: number): Promise<void>;
}

/**
 * Cleartext HTTP/2 with prior knowledge on an HTTP/1.1 server's port: a connection that opens with
 * the HTTP/2 preface goes to an HTTP/2 server of its own (`handler` answers its requests); any
 * other goes to the HTTP/1.1 server as before (Fastify, the WebSocket upgrade). The first bytes are
 * read, then put back, so whichever server takes the socket reads it from the start.
 *
 * Installed before the HTTP/1.1 server listens: it takes over the server's `connection` listener.
 */
export function acceptH2c(server: HttpServer, handler: (req: Http2ServerRequest, res: Http2ServerResponse) => void): H2cListener {
  const h2 = http2.createServer({}, handler);
  const sessions = new Set<Http2Session>();
  h2.on('session', (s) => {
    sessions.add(s);
    s.once('close', () => sessions.delete(s));
  });
  const http1 = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');
  // Sockets that have not said which protocol they speak: neither server knows them yet, so their
  // time limit and their end at shutdown are this listener's.
  const undecided = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    let head: Buffer = Buffer.alloc(0);
    undecided.add(socket);
    const silent = () => socket.destroy();
    socket.setTimeout(server.headersTimeout || 60_000, silent);
    const onData = (chunk: Buffer) => {
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      if (head.length < PREFACE_START.length && head.equals(PREFACE_START.subarray(0, head.length))) return;
      undecided.delete(socket);
      socket.setTimeout(0);
      socket.off('timeout', silent);
      socket.off('data', onData);
      socket.pause();
      socket.unshift(head);
      if (head.subarray(0, PREFACE_START.length).equals(PREFACE_START)) h2.emit('connection', socket);
      else {
        for (const l of http1) l.call(server, socket);
        socket.resume();
      }
    };
    socket.on('data', onData);
    socket.once('close', () => undecided.delete(socket));
    // A socket that fails before saying anything needs no server.
    socket.once('error', () => socket.destroy());
  });
  return {
    sessions,
    async close(graceMs) {
      for (const socket of undecided) socket.destroy();
      const open = [...sessions];
      for (const s of open) s.close();
      if (open.length === 0) return;
      await Promise.race([
        Promise.all(open.map((s) => new Promise((r) => (s.closed ? r(null) : s.once('close', r))))),
        new Promise((r) => setTimeout(r, graceMs).unref()),
      ]);
      for (const s of sessions) s.destroy();
    },
  };
}
