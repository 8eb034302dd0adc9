import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import { runServer } from './control.js';
import { peerPublishHandler } from './peer-http.js';

const SEND_OPTS = { binary: false, compress: false, fin: true };

/** One device as the raw server tracks it: enough for per-user delivery and a pong check. */
interface Conn {
  ws: WebSocket;
  user: string;
  awaitingPong: boolean;
  missed: number;
}

/**
 * The ceiling: `ws` with the least a notification server needs — a user → sockets map, a
 * broadcast that encodes its frame once, and an application ping/pong (one interval over every
 * connection, answered by the same `{"type":"pong"}` Herald's devices send).
 */
runServer(async (s) => {
  const conns = new Set<Conn>();
  const users = new Map<string, Set<Conn>>();
  const server = createServer(
    peerPublishHandler({
      broadcast(msg) {
        const buf = Buffer.from(JSON.stringify(msg));
        for (const c of conns) c.ws.send(buf, SEND_OPTS);
        return conns.size;
      },
      toUser(user, msg) {
        const set = users.get(user);
        if (!set) return 0;
        const buf = Buffer.from(JSON.stringify(msg));
        for (const c of set) c.ws.send(buf, SEND_OPTS);
        return set.size;
      },
    }),
  );
  server.keepAliveTimeout = 72_000;
  const wss = new WebSocketServer({ server, perMessageDeflate: false, clientTracking: false });
  wss.on('connection', (ws, req) => {
    const user = new URL(req.url ?? '/', 'http://x').searchParams.get('user') ?? 'anonymous';
    const conn: Conn = { ws, user, awaitingPong: false, missed: 0 };
    conns.add(conn);
    let set = users.get(user);
    if (!set) {
      set = new Set();
      users.set(user, set);
    }
    set.add(conn);
    ws.on('message', (data: RawData) => {
      let msg: { type?: unknown };
      try {
        msg = JSON.parse(data.toString());
      } catch {
        ws.close(4400);
        return;
      }
      if (msg.type === 'pong') {
        conn.awaitingPong = false;
        conn.missed = 0;
      }
    });
    ws.on('error', () => ws.terminate());
    ws.on('close', () => {
      conns.delete(conn);
      set.delete(conn);
      if (set.size === 0) users.delete(user);
    });
  });
  const timer = setInterval(() => {
    const ping = Buffer.from(JSON.stringify({ type: 'ping', ts: Date.now() }));
    for (const c of conns) {
      if (c.awaitingPong && ++c.missed >= 3) {
        c.ws.terminate();
        continue;
      }
      c.awaitingPong = true;
      c.ws.send(ping, SEND_OPTS);
    }
  }, s.heartbeatMs);
  timer.unref();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, info: { heartbeat: 'one interval, application ping' } };
});
