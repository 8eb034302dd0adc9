import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runServer } from './control.js';
import { peerPublishHandler } from './peer-http.js';

/**
 * The SSE baseline of issue 6: Server-Sent Events on plain `node:http`, what a careful hand-written
 * server does and no more. `GET /sse?user=<id>` opens a stream (`text/event-stream`, no
 * compression); a publish is one `event: notification` / `data:` frame built once and written to
 * each of the user's streams (a broadcast: to every stream); a `ping` event every heartbeat
 * interval, as Herald sends one. No store, no cursor, no auth, no liveness check: the floor
 * Herald's SSE transport is measured against.
 */
runServer(async (s) => {
  const streams = new Set<ServerResponse>();
  const users = new Map<string, Set<ServerResponse>>();
  const frame = (msg: object) => Buffer.from(`event: notification\ndata: ${JSON.stringify(msg)}\n\n`);
  const publish = peerPublishHandler({
    broadcast(msg) {
      const buf = frame(msg);
      for (const r of streams) r.write(buf);
      return streams.size;
    },
    toUser(user, msg) {
      const set = users.get(user);
      if (!set) return 0;
      const buf = frame(msg);
      for (const r of set) r.write(buf);
      return set.size;
    },
  });
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || !req.url?.startsWith('/sse')) return publish(req, res);
    const user = new URL(req.url, 'http://x').searchParams.get('user') ?? 'anonymous';
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
    res.write('retry: 1000\n\nevent: welcome\ndata: {"type":"welcome"}\n\n');
    streams.add(res);
    let set = users.get(user);
    if (!set) {
      set = new Set();
      users.set(user, set);
    }
    set.add(res);
    const gone = () => {
      streams.delete(res);
      set.delete(res);
      if (set.size === 0) users.delete(user);
    };
    res.on('close', gone);
    res.on('error', gone);
  });
  server.keepAliveTimeout = 72_000;
  server.requestTimeout = 0;
  server.headersTimeout = 20_000;
  const timer = setInterval(() => {
    const ping = Buffer.from(`event: ping\ndata: {"type":"ping","ts":${Date.now()}}\n\n`);
    for (const r of streams) r.write(ping);
  }, s.heartbeatMs);
  timer.unref();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', 511, r));
  return { port: (server.address() as AddressInfo).port, info: { framing: 'event: notification, one write per stream per publish' } };
});
