import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * What the proxy does with one request:
 * - `forward`: passes it to the target and its answer back;
 * - `{ status, retryAfter? }`: answers it itself (e.g. 503), never forwarding it;
 * - `drop-after-forward`: forwards it, waits for the target's answer, then destroys the client's
 *   socket without a byte of it (the request was acted on; the caller saw a reset);
 * - `hold-after-forward`: forwards it and never answers the caller (a timeout on their side);
 * - `drop`: destroys the socket at once, nothing forwarded.
 */
export type ProxyStep = 'forward' | 'drop-after-forward' | 'hold-after-forward' | 'drop' | { status: number; retryAfter?: string; body?: string };

export interface SeenRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: any;
  step: ProxyStep;
}

export interface FlakyProxy extends AsyncDisposable {
  readonly url: string;
  /** Every request, in arrival order, with its parsed JSON body. */
  readonly seen: SeenRequest[];
  close(): Promise<void>;
}

/**
 * A real HTTP intermediary in front of `target` (a Herald node) that misbehaves on purpose:
 * request number `i` (from 0) gets `plan[i]`, later ones are forwarded.
 */
export async function startFlakyProxy(target: string, plan: ProxyStep[]): Promise<FlakyProxy> {
  const seen: SeenRequest[] = [];
  const to = new URL(target);
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const step = plan[seen.length] ?? 'forward';
    let body: unknown;
    try {
      body = raw.length ? JSON.parse(raw.toString()) : undefined;
    } catch {
      body = raw.toString();
    }
    seen.push({ method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body, step });
    if (step === 'drop') return void req.socket.destroy();
    if (typeof step === 'object') {
      const headers: Record<string, string> = { 'content-type': step.body?.startsWith('{') ? 'application/json' : 'text/plain' };
      if (step.retryAfter !== undefined) headers['retry-after'] = step.retryAfter;
      res.writeHead(step.status, headers).end(step.body ?? 'upstream unavailable');
      return;
    }
    const upstream = await forward(to, req, raw);
    if (step === 'drop-after-forward') return void req.socket.destroy();
    if (step === 'hold-after-forward') return; // never answered; closed with the proxy
    res.writeHead(upstream.status, upstream.headers).end(upstream.body);
  });
  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  const close = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return { url: `http://127.0.0.1:${port}`, seen, close, [Symbol.asyncDispose]: close };
}

function forward(to: URL, req: IncomingMessage, body: Buffer): Promise<{ status: number; headers: Record<string, string | string[]>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const headers = { ...req.headers, host: to.host };
    delete headers.connection;
    const up = request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers }, async (res) => {
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      const out: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(res.headers))
        if (v !== undefined && k !== 'connection' && k !== 'keep-alive' && k !== 'transfer-encoding') out[k] = v;
      resolve({ status: res.statusCode ?? 502, headers: out, body: Buffer.concat(chunks) });
    });
    up.on('error', reject);
    up.end(body);
  });
}
