import http from 'node:http';
import { type Client, Code, ConnectError, createClient, type Transport } from '@connectrpc/connect';
import { createConnectTransport, createGrpcWebTransport } from '@connectrpc/connect-node';
import { type Notification, Notifications } from '../../src/gen/herald/v1/notifications_pb.js';
import type { Herald } from '../../src/server.js';
import { DeviceClient, type Frame, token } from './device-client.js';

/** The two wires of the HTTP port as the contract suite runs them: gRPC-Web over HTTP/1.1 (as browsers speak it), Connect over HTTP/2. */
export type ConnectWire = 'grpc-web' | 'connect';

/** A transport of `@connectrpc/connect-node` on its own connection(s): each test device is its own peer. */
export function connectTransportFor(h: Herald, wire: ConnectWire): { transport: Transport; close(): void } {
  if (wire === 'grpc-web') {
    const agent = new http.Agent({ keepAlive: true });
    return { transport: createGrpcWebTransport({ baseUrl: h.url, httpVersion: '1.1', nodeOptions: { agent } }), close: () => agent.destroy() };
  }
  const transport = createConnectTransport({ baseUrl: h.url, httpVersion: '2', idleConnectionTimeoutMs: 60_000 });
  return { transport, close: () => {} };
}

export function connectClient(h: Herald, wire: ConnectWire): { client: Client<typeof Notifications>; close(): void } {
  const t = connectTransportFor(h, wire);
  return { client: createClient(Notifications, t.transport), close: t.close };
}

export const bearerHeaders = (secret: string) => ({ authorization: `Bearer ${secret}` });

/** A Connect error's code as the gRPC status name (`INVALID_ARGUMENT`): the codes are gRPC's. */
export function statusName(err: unknown): string {
  const code = ConnectError.from(err).code;
  return Code[code].replace(/[A-Z]/g, (c, i: number) => (i === 0 ? c : `_${c}`)).toUpperCase();
}

/** A `herald.v1.Notification` (protobuf-es) as the WebSocket JSON frame of the same event. */
export function esToFrame(m: Notification): Frame {
  switch (m.type) {
    case 'welcome':
      return {
        type: 'welcome',
        connectionId: m.connectionId,
        cursor: m.cursor,
        resumed: m.resumed,
        pending: m.pending,
        unseen: m.unseen,
        unread: m.unread,
        heartbeat: (JSON.parse(m.data) as { heartbeat: unknown }).heartbeat,
      };
    case 'notification': {
      const f: Frame = {
        type: 'notification',
        id: m.id,
        cursor: m.cursor,
        clientId: m.clientId,
        title: m.title,
        message: m.message,
        service: m.serviceName,
        ts: Number(m.timestamp),
      };
      if (m.deviceId) f.deviceId = m.deviceId;
      if (m.data) f.data = JSON.parse(m.data);
      if (m.replaces) f.replaces = m.replaces;
      return f;
    }
    case 'heartbeat':
      return { type: 'ping', ts: Number(m.timestamp) };
    case 'shutdown':
      return { type: 'shutdown', reconnectAfterMs: Number(m.reconnectAfterMs) };
    case 'token-expired':
      return { type: 'token-expired', ...(JSON.parse(m.data) as object) };
    case 'close':
      return { type: 'close', code: m.code, reason: m.reason };
    // Inbox events: `data` is the WebSocket frame itself.
    case 'state':
    case 'update':
    case 'delete':
      return JSON.parse(m.data) as Frame;
    default:
      return { type: m.type, raw: m };
  }
}

/** A device on `StreamNotifications` over gRPC-Web or Connect, answering heartbeats with the `Ack` RPC. */
export class ConnectDevice extends DeviceClient {
  readonly transport: ConnectWire;
  readonly client: Client<typeof Notifications>;
  readonly connectionId: string;
  readonly raw: Notification[] = [];
  /** How the call ended: null = OK, else the error's status name. */
  readonly ended: Promise<string | null>;
  readonly #token: string;
  readonly #abort = new AbortController();
  readonly #close: () => void;
  #paused: { promise: Promise<void>; resume: () => void } | null = null;

  constructor(wire: ConnectWire, client: Client<typeof Notifications>, close: () => void, connectionId: string, tok: string, cursor?: string) {
    super();
    this.transport = wire;
    this.client = client;
    this.#close = close;
    this.connectionId = connectionId;
    this.#token = tok;
    const stream = client.streamNotifications({ connectionId, cursor: cursor ?? '' }, { headers: bearerHeaders(tok), signal: this.#abort.signal });
    this.ended = (async () => {
      try {
        for await (const m of stream) {
          this.raw.push(m);
          const f = esToFrame(m);
          if (f.type === 'close') this.settle({ code: f.code as number, reason: f.reason as string });
          this.receive(f);
          if (this.#paused) await this.#paused.promise;
        }
        return null;
      } catch (err) {
        return statusName(err);
      }
    })();
    void this.ended.then((s) => this.settle({ code: -1, reason: `ended without a close message: ${s ?? 'OK'}` }));
  }

  protected answerPing(): void {
    this.ack().catch(() => {});
  }

  ack(cursor?: string): Promise<unknown> {
    return this.client.ack({ connectionId: this.connectionId, cursor: cursor ?? '' }, { headers: bearerHeaders(this.#token) });
  }

  stopReading(): void {
    if (this.#paused) return;
    let resume = () => {};
    const promise = new Promise<void>((r) => {
      resume = r;
    });
    this.#paused = { promise, resume };
  }

  resumeReading(): void {
    const p = this.#paused;
    this.#paused = null;
    p?.resume();
  }

  close(): void {
    this.#abort.abort();
  }

  protected async dispose(): Promise<void> {
    this.#abort.abort();
    await this.ended;
    this.#close();
  }
}

export interface ConnectConnectOptions {
  cursor?: string;
  token?: string;
  /** Call AddConnection first. @default true */
  register?: boolean;
}

/** Registers (AddConnection) and streams over `wire`; resolves at the welcome, rejects with the status name when refused. */
export async function connectWeb(wire: ConnectWire, h: Herald, clientId: string, deviceId: string, opts: ConnectConnectOptions = {}): Promise<ConnectDevice> {
  const tok = opts.token ?? (await token(clientId));
  const { client, close } = connectClient(h, wire);
  let connectionId = `${clientId}:${deviceId}`;
  try {
    if (opts.register !== false) {
      const res = await client.addConnection({ clientId, deviceId, serviceName: 'test' }, { headers: bearerHeaders(tok) });
      connectionId = res.connectionId;
    }
  } catch (err) {
    close();
    throw Object.assign(new Error(`AddConnection refused: ${statusName(err)}`), { status: statusName(err) });
  }
  const d = new ConnectDevice(wire, client, close, connectionId, tok, opts.cursor);
  const first = await Promise.race([d.waitFor((f) => f.type === 'welcome', 10_000).then(() => null), d.ended.then((s) => s ?? 'OK')]);
  if (first !== null) {
    close();
    throw Object.assign(new Error(`StreamNotifications refused: ${first}`), { status: first });
  }
  return d;
}

/** The status name a connect attempt ends with before any message. */
export async function refusedWeb(wire: ConnectWire, h: Herald, clientId: string, deviceId: string, opts: ConnectConnectOptions = {}): Promise<string> {
  try {
    const d = await connectWeb(wire, h, clientId, deviceId, opts);
    await d[Symbol.asyncDispose]();
    return 'OK';
  } catch (err) {
    return (err as { status?: string }).status ?? String(err);
  }
}
