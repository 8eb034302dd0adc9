import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { Herald } from '../../src/server.js';
import type { Notification__Output } from '../../src/transports/grpc/gen/herald/v1/Notification.js';
import type { NotificationsClient } from '../../src/transports/grpc/gen/herald/v1/Notifications.js';
import type { ProtoGrpcType } from '../../src/transports/grpc/gen/notifications.js';
import { type CloseInfo, DeviceClient, type Frame, token } from './device-client.js';
import { API_KEY } from './herald.js';

/** The proto, loaded the way any grpc-js client would: nothing of the server's encoding is shared. */
const PROTO = new URL('../../proto/herald/v1/notifications.proto', import.meta.url).pathname;
const pkg = grpc.loadPackageDefinition(
  protoLoader.loadSync(PROTO, { keepCase: true, longs: Number, defaults: true, oneofs: true }),
) as unknown as ProtoGrpcType;

/**
 * A client on its own HTTP/2 connection (no shared subchannel): each test device is its own
 * peer, as real devices are, so one that stops reading does not stall the others.
 */
export function grpcClient(h: Herald): NotificationsClient {
  if (h.grpcPort === null) throw new Error('gRPC is off in this node');
  return new pkg.herald.v1.Notifications(`127.0.0.1:${h.grpcPort}`, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
}

export function bearerMd(secret: string | null): grpc.Metadata {
  const md = new grpc.Metadata();
  if (secret !== null) md.set('authorization', `Bearer ${secret}`);
  return md;
}

export const apiKeyMd = (): grpc.Metadata => bearerMd(API_KEY);

export interface RpcError extends Error {
  code: grpc.status;
  details: string;
  metadata: grpc.Metadata;
}

/** A unary call as a promise. */
export function rpc<Res>(client: NotificationsClient, method: string, req: object, md: grpc.Metadata): Promise<Res> {
  const fn = (client as unknown as Record<string, (r: object, m: grpc.Metadata, cb: (err: RpcError | null, res: Res) => void) => void>)[method];
  return new Promise((resolve, reject) => fn.call(client, req, md, (err, res) => (err ? reject(err) : resolve(res))));
}

/** The status name a rejected call carries (`UNAUTHENTICATED`, …). */
export async function statusOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'OK';
  } catch (err) {
    return grpc.status[(err as RpcError).code];
  }
}

/** A `herald.v1.Notification` as the WebSocket JSON frame of the same event. */
export function toFrame(m: Notification__Output): Frame {
  switch (m.type) {
    case 'welcome':
      return {
        type: 'welcome',
        connectionId: m.connection_id,
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
        clientId: m.client_id,
        title: m.title,
        message: m.message,
        service: m.service_name,
        ts: m.timestamp,
      };
      if (m.device_id) f.deviceId = m.device_id;
      if (m.data) f.data = JSON.parse(m.data);
      if (m.replaces) f.replaces = m.replaces;
      return f;
    }
    case 'heartbeat':
      return { type: 'ping', ts: m.timestamp };
    case 'shutdown':
      return { type: 'shutdown', reconnectAfterMs: m.reconnect_after_ms };
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

/** A device on `StreamNotifications`, answering heartbeats with the `Ack` RPC. */
export class GrpcDevice extends DeviceClient {
  readonly transport = 'grpc' as const;
  readonly client: NotificationsClient;
  readonly call: grpc.ClientReadableStream<Notification__Output>;
  readonly connectionId: string;
  readonly raw: Notification__Output[] = [];
  /** The call's final status. */
  readonly status: Promise<grpc.StatusObject>;
  readonly #token: string;

  constructor(client: NotificationsClient, connectionId: string, tok: string, cursor?: string) {
    super();
    this.client = client;
    this.connectionId = connectionId;
    this.#token = tok;
    this.call = client.StreamNotifications({ connection_id: connectionId, cursor: cursor ?? '' }, bearerMd(tok));
    this.status = new Promise((resolve) => this.call.on('status', resolve));
    this.call.on('error', () => {});
    this.call.on('data', (m: Notification__Output) => {
      this.raw.push(m);
      const f = toFrame(m);
      if (f.type === 'close') this.settle({ code: f.code as number, reason: f.reason as string });
      this.receive(f);
    });
    void this.status.then((s) => this.settle({ code: -1, reason: `ended without a close message: ${grpc.status[s.code]} ${s.details}` }));
  }

  protected answerPing(): void {
    this.ack().catch(() => {});
  }

  ack(cursor?: string): Promise<unknown> {
    return rpc(this.client, 'Ack', { connection_id: this.connectionId, cursor: cursor ?? '' }, bearerMd(this.#token));
  }

  stopReading(): void {
    this.call.pause();
  }

  resumeReading(): void {
    this.call.resume();
  }

  close(): void {
    this.call.cancel();
  }

  protected async dispose(): Promise<void> {
    this.call.cancel();
    this.client.close();
  }
}

export interface GrpcConnectOptions {
  cursor?: string;
  token?: string;
  /** Call AddConnection first. @default true */
  register?: boolean;
}

export async function connectGrpc(h: Herald, clientId: string, deviceId: string, opts: GrpcConnectOptions = {}): Promise<GrpcDevice> {
  const tok = opts.token ?? (await token(clientId));
  const client = grpcClient(h);
  let connectionId = `${clientId}:${deviceId}`;
  try {
    if (opts.register !== false) {
      const res = await rpc<{ connection_id: string }>(
        client,
        'AddConnection',
        { client_id: clientId, device_id: deviceId, service_name: 'test' },
        bearerMd(tok),
      );
      connectionId = res.connection_id;
    }
  } catch (err) {
    client.close();
    throw err;
  }
  const d = new GrpcDevice(client, connectionId, tok, opts.cursor);
  const first = await Promise.race([d.waitFor((f) => f.type === 'welcome').then(() => null), d.status]);
  if (first !== null) {
    client.close();
    throw Object.assign(new Error(`StreamNotifications refused: ${grpc.status[first.code]} ${first.details}`), first);
  }
  return d;
}

/** The status name a StreamNotifications attempt ends with before any message (after AddConnection). */
export async function refusedGrpc(h: Herald, clientId: string, deviceId: string, opts: GrpcConnectOptions = {}): Promise<string> {
  try {
    const d = await connectGrpc(h, clientId, deviceId, opts);
    await d[Symbol.asyncDispose]();
    return 'OK';
  } catch (err) {
    const code = (err as { code?: number }).code;
    return code === undefined ? String(err) : grpc.status[code];
  }
}

export type { CloseInfo };
