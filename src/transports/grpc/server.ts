import * as grpc from '@grpc/grpc-js';
import type { Auth } from '../../auth/auth.js';
import type { HeraldNode } from '../../core/node.js';
import type { TransportKind } from '../../core/session.js';
import type { SubscribeRequest } from '../../gen/herald/v1/notifications_pb.js';
import { Linger } from '../teardown.js';
import { GRPC_KIND, GrpcConnection, type NotificationCall } from './connection.js';
import { NotificationsRules } from './rules.js';
import { notificationsService, wellFormedUtf8 } from './service.js';
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
  /** Transport kinds whose streams the `Ack` RPC may answer besides this one's (gRPC-Web's). */
  ackKinds: readonly TransportKind[];
}

/** The unary methods: each takes its decoded request and the `authorization` metadata. */
type UnaryRule = (req: never, authorization: string | undefined) => Promise<object> | object;

/**
 * `herald.v1.Notifications` on its own port with `@grpc/grpc-js` (PROTOCOL.md "gRPC"): the native
 * wire of {@link NotificationsRules}, which hold every rule. This file only reads metadata,
 * turns calls into rule calls and errors into statuses (./status.ts). gRPC-Web and Connect are
 * served on the HTTP port (../connect/).
 */
export class GrpcTransport {
  readonly #node: HeraldNode;
  readonly #opts: GrpcTransportOptions;
  readonly #server: grpc.Server;
  readonly #rules: NotificationsRules;

  constructor(node: HeraldNode, auth: Auth, opts: GrpcTransportOptions) {
    this.#node = node;
    this.#opts = opts;
    this.#rules = new NotificationsRules(node, auth, GRPC_KIND);
    this.#server = new grpc.Server({
      'grpc.keepalive_time_ms': opts.keepaliveTimeMs,
      'grpc.keepalive_timeout_ms': opts.keepaliveTimeoutMs,
    });
    const r = this.#rules;
    this.#server.addService(notificationsService(), {
      AddConnection: this.#unary((req, a) => r.addConnection(req, a)),
      StreamNotifications: (call: NotificationCall) => void this.#streamNotifications(call),
      RemoveConnection: this.#unary((req, a) => r.removeConnection(req, a)),
      Ack: this.#unary((req, a) => r.ack(req, a, opts.ackKinds)),
      SendNotification: this.#unary((req, a) => r.sendNotification(req, a)),
      Broadcast: this.#unary((req, a) => r.broadcast(req, a)),
      GetStats: this.#unary((_req, a) => r.getStats(a)),
      ListNotifications: this.#unary((req, a) => r.listNotifications(req, a)),
      SetState: this.#unary((req, a) => r.setState(req, a)),
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

  /** A unary handler from a rule; errors become statuses. */
  #unary<Req extends object>(fn: (req: Req, authorization: string | undefined) => ReturnType<UnaryRule>): grpc.handleUnaryCall<Req, object> {
    return (call, callback) => {
      new Promise<object>((resolve) => resolve(fn(wellFormedUtf8(call.request), authorization(call.metadata)))).then(
        (res) => callback(null, res),
        (err: unknown) => callback(toStatus(err, this.#node.log)),
      );
    };
  }

  /** Refusals before the stream starts are statuses; after it, the close codes apply. */
  async #streamNotifications(call: NotificationCall): Promise<void> {
    try {
      await this.#rules.stream(wellFormedUtf8(call.request as SubscribeRequest), authorization(call.metadata), (clientId, connectionId) => {
        if (call.cancelled) return null;
        const conn = new GrpcConnection(call, clientId, connectionId);
        call.on('cancelled', () => conn.session?.close('gone'));
        call.on('drain', () => conn.session?.drained());
        return conn;
      });
    } catch (err) {
      call.emit('error', toStatus(err, this.#node.log));
    }
  }
}

function authorization(metadata: grpc.Metadata): string | undefined {
  const v = metadata.get('authorization')[0];
  return typeof v === 'string' ? v : undefined;
}
