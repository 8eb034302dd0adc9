import * as grpc from '@grpc/grpc-js';
import { type Auth, bearer, type DeviceIdentity } from '../../auth/auth.js';
import { HeraldError, invalid } from '../../core/errors.js';
import { checkId, connectionIdOf, parseConnectionId } from '../../core/ids.js';
import type { HeraldNode, PublishResult } from '../../core/node.js';
import { parsePublishInput } from '../../core/publish-input.js';
import { statsSnapshot } from '../../core/stats.js';
import type { PublishInput, Target } from '../../core/types.js';
import { Linger } from '../teardown.js';
import { GRPC_KIND, GrpcConnection, type NotificationCall } from './connection.js';
import type { AckRequest__Output } from './gen/herald/v1/AckRequest.js';
import type { AckResponse } from './gen/herald/v1/AckResponse.js';
import type { AddConnectionRequest__Output } from './gen/herald/v1/AddConnectionRequest.js';
import type { BroadcastRequest__Output } from './gen/herald/v1/BroadcastRequest.js';
import type { ConnectionResponse } from './gen/herald/v1/ConnectionResponse.js';
import type { GetStatsRequest__Output } from './gen/herald/v1/GetStatsRequest.js';
import type { PublishResponse } from './gen/herald/v1/PublishResponse.js';
import type { RemoveConnectionRequest__Output } from './gen/herald/v1/RemoveConnectionRequest.js';
import type { RemoveConnectionResponse } from './gen/herald/v1/RemoveConnectionResponse.js';
import type { SendNotificationRequest__Output } from './gen/herald/v1/SendNotificationRequest.js';
import type { Stats } from './gen/herald/v1/Stats.js';
import { MALFORMED_UTF8, notificationsService } from './service.js';
import { toStatus } from './status.js';

/** Set by `grpcTransport` (./index.ts) from the node's configuration. */
export interface GrpcTransportOptions {
  host: string;
  /** 0 = any free port. */
  port: number;
  /** HTTP/2 PING every this many ms, below the application heartbeat: finds peers whose TCP is gone. */
  keepaliveTimeMs: number;
  /** A PING unanswered this long drops the HTTP/2 connection (its streams close as 'gone'). */
  keepaliveTimeoutMs: number;
  /** How long shutdown lets HTTP/2 sessions close before it forces them. */
  shutdownGraceMs: number;
}

/** Names of the publish input as the proto spells them, for INVALID_ARGUMENT messages. */
const PROTO_FIELD: Record<string, string> = { service: 'service_name', ttlMs: 'ttl_ms' };

/**
 * `herald.v1.Notifications` on its own port with `@grpc/grpc-js` (PROTOCOL.md "gRPC"). Device RPCs
 * take the device JWT in metadata `authorization: Bearer`, publisher RPCs the API key;
 * RemoveConnection either. gRPC-Web is not served: grpc-js speaks HTTP/2 gRPC only.
 */
export class GrpcTransport {
  readonly #node: HeraldNode;
  readonly #auth: Auth;
  readonly #opts: GrpcTransportOptions;
  readonly #server: grpc.Server;

  constructor(node: HeraldNode, auth: Auth, opts: GrpcTransportOptions) {
    this.#node = node;
    this.#auth = auth;
    this.#opts = opts;
    this.#server = new grpc.Server({
      'grpc.keepalive_time_ms': opts.keepaliveTimeMs,
      'grpc.keepalive_timeout_ms': opts.keepaliveTimeoutMs,
    });
    this.#server.addService(notificationsService(), {
      AddConnection: this.#unary((call) => this.#addConnection(call)),
      StreamNotifications: (call: NotificationCall) => void this.#streamNotifications(call),
      RemoveConnection: this.#unary((call) => this.#removeConnection(call)),
      Ack: this.#unary((call) => this.#ack(call)),
      SendNotification: this.#unary((call) => this.#sendNotification(call)),
      Broadcast: this.#unary((call) => this.#broadcast(call)),
      GetStats: this.#unary((call) => this.#getStats(call)),
    });
  }

  /** Binds and returns the port (the chosen one when 0 was asked). */
  listen(): Promise<number> {
    const host = this.#opts.host.includes(':') ? `[${this.#opts.host}]` : this.#opts.host;
    return new Promise((resolve, reject) => {
      this.#server.bindAsync(`${host}:${this.#opts.port}`, grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port)));
    });
  }

  /** Stops accepting; open HTTP/2 sessions get the grace period to close, then are forced. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      const linger = new Linger<grpc.Server>(this.#opts.shutdownGraceMs, (server) => {
        server.forceShutdown();
        resolve();
      });
      linger.add(this.#server);
      this.#server.tryShutdown(() => {
        linger.finished(this.#server);
        resolve();
      });
    });
  }

  /** A unary handler from an async function; errors become statuses. */
  #unary<Req, Res>(fn: (call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => {
      fn(call).then(
        (res) => callback(null, res),
        (err: unknown) => callback(this.#status(err)),
      );
    };
  }

  /** The status for an error (./status.ts: it logs what is not a HeraldError). */
  #status(err: unknown): grpc.StatusObject {
    return toStatus(err, this.#node.log);
  }

  // ---- auth ----

  #device(call: { metadata: grpc.Metadata }): Promise<DeviceIdentity> {
    return this.#auth.verifyDevice(bearer(authorization(call.metadata)));
  }

  #publisher(call: { metadata: grpc.Metadata }): void {
    if (!this.#auth.checkApiKey(authorization(call.metadata))) throw new HeraldError('HERALD_ERR_UNAUTHORIZED', 'missing or wrong API key');
  }

  #sameClient(identity: DeviceIdentity, clientId: string): void {
    if (identity.clientId !== clientId) throw new HeraldError('HERALD_ERR_FORBIDDEN', `the token is for client ${identity.clientId}, not ${clientId}`);
  }

  #running(): void {
    if (this.#node.state !== 'running') throw new HeraldError('HERALD_ERR_DRAINING', 'node is draining; connect to another node');
  }

  /** A connection id of the token's own client. */
  #ownConnection(identity: DeviceIdentity, connectionId: string): { clientId: string; deviceId: string } {
    const ids = parseConnectionId(connectionId);
    if (!ids) throw invalid('connection_id', connectionId ? 'must be <client_id>:<device_id>' : 'required');
    this.#sameClient(identity, ids.clientId);
    return ids;
  }

  // ---- device RPCs ----

  async #addConnection(call: grpc.ServerUnaryCall<AddConnectionRequest__Output, ConnectionResponse>): Promise<ConnectionResponse> {
    const identity = await this.#device(call);
    const clientId = checkId('client_id', call.request.client_id);
    const deviceId = checkId('device_id', call.request.device_id);
    this.#sameClient(identity, clientId);
    this.#running();
    const known = this.#node.hub.device(clientId, deviceId) !== undefined;
    const d = this.#node.hub.register(clientId, deviceId, GRPC_KIND, Date.now());
    return { success: true, connection_id: d.connectionId, message: known ? 'already registered' : 'registered' };
  }

  /** Refusals before the stream starts are statuses; after it, the close codes apply. */
  async #streamNotifications(call: NotificationCall): Promise<void> {
    try {
      const identity = await this.#device(call);
      const { clientId, deviceId } = this.#ownConnection(identity, call.request.connection_id);
      const cursor = this.#node.parseCursor(call.request.cursor);
      this.#running();
      if (!(await this.#registered(clientId, deviceId))) {
        throw new HeraldError('HERALD_ERR_NOT_FOUND', `unknown connection ${call.request.connection_id}: register it with AddConnection first`);
      }
      this.#node.hub.admit(clientId, deviceId);
      await this.#node.broker.admit?.(clientId, deviceId);
      if (call.cancelled) return;
      const conn = new GrpcConnection(call, clientId, connectionIdOf(clientId, deviceId));
      call.on('cancelled', () => conn.session?.close('gone'));
      call.on('drain', () => conn.session?.drained());
      conn.session = this.#node.connect({ clientId, deviceId, conn, cursor, tokenExpiresAt: identity.expiresAt });
    } catch (err) {
      call.emit('error', this.#status(err));
    }
  }

  /** Registered here, or (with Redis) anywhere in the cluster: a device may come back through another node. */
  async #registered(clientId: string, deviceId: string): Promise<boolean> {
    if (this.#node.hub.device(clientId, deviceId)) return true;
    return (await this.#node.clientView(clientId)).devices.some((d) => d.deviceId === deviceId);
  }

  /** A heartbeat answer; with a cursor also an ack (PROTOCOL.md "Stored cursor"). */
  async #ack(call: grpc.ServerUnaryCall<AckRequest__Output, AckResponse>): Promise<AckResponse> {
    const identity = await this.#device(call);
    const { clientId, deviceId } = this.#ownConnection(identity, call.request.connection_id);
    const cursor = this.#node.parseCursor(call.request.cursor);
    if (!(await this.#node.deviceAnswer(clientId, deviceId, GRPC_KIND, cursor))) {
      throw new HeraldError('HERALD_ERR_NOT_FOUND', `connection ${call.request.connection_id} has no gRPC stream`);
    }
    return {};
  }

  /** The backend (API key) or the device itself (its JWT, its own client only). */
  async #removeConnection(call: grpc.ServerUnaryCall<RemoveConnectionRequest__Output, RemoveConnectionResponse>): Promise<RemoveConnectionResponse> {
    const identity = this.#auth.checkApiKey(authorization(call.metadata)) ? null : await this.#device(call);
    const clientId = checkId('client_id', call.request.client_id);
    const deviceId = checkId('device_id', call.request.device_id);
    if (identity) this.#sameClient(identity, clientId);
    if (!(await this.#node.removeAnywhere(clientId, deviceId))) throw new HeraldError('HERALD_ERR_NOT_FOUND', `no device ${deviceId} of client ${clientId}`);
    return { success: true, message: `removed ${connectionIdOf(clientId, deviceId)}` };
  }

  // ---- publisher RPCs ----

  async #sendNotification(call: grpc.ServerUnaryCall<SendNotificationRequest__Output, PublishResponse>): Promise<PublishResponse> {
    this.#publisher(call);
    const r = wellFormedUtf8(call.request);
    const clientId = checkId('client_id', r.client_id);
    const target: Target = r.device_id ? { kind: 'device', clientId, deviceId: checkId('device_id', r.device_id) } : { kind: 'client', clientId };
    return this.#publish(target, r, r.ttl_ms);
  }

  async #broadcast(call: grpc.ServerUnaryCall<BroadcastRequest__Output, PublishResponse>): Promise<PublishResponse> {
    this.#publisher(call);
    return this.#publish({ kind: 'broadcast' }, wellFormedUtf8(call.request), undefined);
  }

  async #publish(
    target: Target,
    r: { title: string; message: string; service_name: string; data: string; id: string },
    ttlMs: number | undefined,
  ): Promise<PublishResult> {
    const size = Buffer.byteLength(r.title) + Buffer.byteLength(r.message) + Buffer.byteLength(r.data) + r.service_name.length + r.id.length;
    if (size > this.#node.config.MAX_BODY_BYTES) throw new HeraldError('HERALD_ERR_TOO_LARGE', 'notification is over the configured limit (MAX_BODY_BYTES)');
    let data: unknown;
    if (r.data !== '') {
      try {
        data = JSON.parse(r.data);
      } catch {
        throw invalid('data', 'must be JSON text');
      }
    }
    let input: PublishInput;
    try {
      input = parsePublishInput({ title: r.title, message: r.message, service: r.service_name || undefined, data, id: r.id || undefined, ttlMs });
    } catch (err) {
      const field = err instanceof HeraldError && err.field ? PROTO_FIELD[err.field] : undefined;
      throw field ? invalid(field, (err as HeraldError).message.replace(/^[^:]+: /, '')) : err;
    }
    return this.#node.publish(target, input);
  }

  async #getStats(call: grpc.ServerUnaryCall<GetStatsRequest__Output, Stats>): Promise<Stats> {
    this.#publisher(call);
    return snakeCase(statsSnapshot(this.#node)) as Stats;
  }
}

/** The request, unless one of its strings was not valid UTF-8 on the wire (./service.ts). */
function wellFormedUtf8<R extends object>(request: R): R {
  const field = (request as { [MALFORMED_UTF8]?: string })[MALFORMED_UTF8];
  if (field) throw invalid(field, 'must be well-formed UTF-8');
  return request;
}

function authorization(metadata: grpc.Metadata): string | undefined {
  const v = metadata.get('authorization')[0];
  return typeof v === 'string' ? v : undefined;
}

/** `/api/v1/stats` → GetStats: the same names in snake_case (map keys such as close names have no capitals). */
function snakeCase(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = snakeCase(v);
  return out;
}
