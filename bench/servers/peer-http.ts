import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** What a peer server does with a publish; returns how many connections it was handed to. */
export interface PeerSink {
  broadcast(msg: object): number;
  toUser(user: string, msg: object): number;
}

interface PublishBody {
  title?: unknown;
  message?: unknown;
  service?: unknown;
  data?: unknown;
}

/**
 * The peers' publish API, shaped like Herald's (broadcast, per user, batch) so the same publisher
 * drives every server. The message carries the fields Herald's does, minus the store's cursor, so
 * the bytes on the wire stay comparable.
 */
export function peerPublishHandler(sink: PeerSink): (req: IncomingMessage, res: ServerResponse) => void {
  const frame = (b: PublishBody, clientId: string | null): object => ({
    type: 'notification',
    id: randomUUID(),
    ...(clientId === null ? { broadcast: true } : {}),
    title: b.title,
    message: b.message,
    service: b.service ?? 'default',
    data: b.data ?? null,
    ts: Date.now(),
    ...(clientId === null ? {} : { clientId }),
  });
  const valid = (b: PublishBody) => typeof b.title === 'string' && typeof b.message === 'string';
  const reply = (res: ServerResponse, status: number, body: object) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  return (req, res) => {
    if (req.method !== 'POST') return reply(res, 404, { error: 'not found' });
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: PublishBody & { items?: (PublishBody & { clientId?: unknown })[] };
      try {
        body = JSON.parse(Buffer.concat(chunks).toString());
      } catch {
        return reply(res, 400, { error: 'bad json' });
      }
      const url = req.url ?? '/';
      if (url === '/broadcast') {
        if (!valid(body)) return reply(res, 400, { error: 'title and message required' });
        return reply(res, 202, { delivered: sink.broadcast(frame(body, null)) });
      }
      if (url.startsWith('/publish/')) {
        const user = url.slice('/publish/'.length);
        if (!valid(body)) return reply(res, 400, { error: 'title and message required' });
        return reply(res, 202, { delivered: sink.toUser(user, frame(body, user)) });
      }
      if (url === '/batch' && Array.isArray(body.items)) {
        const results = body.items.map((it, index) =>
          valid(it) && typeof it.clientId === 'string'
            ? { index, status: 202, delivered: sink.toUser(it.clientId, frame(it, it.clientId)) }
            : { index, status: 400 },
        );
        return reply(res, 200, { accepted: results.filter((r) => r.status === 202).length, results });
      }
      reply(res, 404, { error: 'not found' });
    });
  };
}
