import type { IncomingMessage } from 'node:http';
import { type Http2ServerRequest, constants as h2 } from 'node:http2';
import type { ConnectRouter, HandlerContext } from '@connectrpc/connect';
import { createContextKey } from '@connectrpc/connect';
import type { Logger } from '../../core/logger.js';
import { Notifications } from '../../gen/herald/v1/notifications_pb.js';
import type { NotificationsRules } from '../grpc/rules.js';
import type { Linger } from '../teardown.js';
import { ConnectConnection } from './connection.js';
import { toConnectError } from './status.js';

/** The Node request under a call (HTTP/1.1 or HTTP/2), so a stream that never drains can be dropped. */
export const RAW_REQUEST = createContextKey<IncomingMessage | Http2ServerRequest | undefined>(undefined);

export interface RoutesOptions {
  rules: NotificationsRules;
  log: Logger;
  /** Holds gracefully closed streams until their last messages left. */
  linger: Linger<ConnectConnection>;
  /** Transport kinds whose streams `Ack` may answer besides this one's (native gRPC's). */
  ackKinds: readonly string[];
}

const authorization = (ctx: HandlerContext) => ctx.requestHeader.get('authorization') ?? undefined;

/**
 * `herald.v1.Notifications` for Connect's router (gRPC-Web and Connect): each method hands its
 * decoded request to the one set of rules (../grpc/rules.ts), as the native gRPC server does, and
 * maps what they throw with ./status.ts.
 */
export function notificationsRoutes(o: RoutesOptions): (router: ConnectRouter) => void {
  const { rules, log } = o;
  const unary =
    <Req, Res>(fn: (req: Req, authorization: string | undefined) => Promise<Res> | Res) =>
    async (req: Req, ctx: HandlerContext): Promise<Res> => {
      try {
        return await fn(req, authorization(ctx));
      } catch (err) {
        throw toConnectError(err, log);
      }
    };
  return (router) =>
    router.service(Notifications, {
      addConnection: unary((req, a) => rules.addConnection(req, a)),
      removeConnection: unary((req, a) => rules.removeConnection(req, a)),
      ack: unary((req, a) => rules.ack(req, a, o.ackKinds)),
      sendNotification: unary((req, a) => rules.sendNotification(req, a)),
      broadcast: unary((req, a) => rules.broadcast(req, a)),
      getStats: unary((_req, a) => rules.getStats(a)),
      listNotifications: unary((req, a) => rules.listNotifications(req, a)),
      setState: unary((req, a) => rules.setState(req, a)),
      /** Refusals before the stream starts end the call with their status; after it, the close codes apply. */
      async *streamNotifications(req, ctx) {
        let conn: ConnectConnection | null = null;
        try {
          await rules.stream(req, authorization(ctx), (clientId, connectionId) => {
            if (ctx.signal.aborted) return null;
            const c = new ConnectConnection(clientId, connectionId, o.linger, () => dropRequest(ctx.values.get(RAW_REQUEST)));
            ctx.signal.addEventListener('abort', () => (c.session ? c.session.close('gone') : c.end('gone')), { once: true });
            conn = c;
            return c;
          });
        } catch (err) {
          throw toConnectError(err, log);
        }
        // JSON calls (connect+json, grpc-web+json) need decoded messages; binary ones take the bytes as they are.
        const binary = !/json/i.test(ctx.requestHeader.get('content-type') ?? '');
        if (conn) yield* (conn as ConnectConnection).messages(binary);
      },
    });
}

/** Drops the HTTP stream under a call: the HTTP/2 stream alone, or the HTTP/1.1 connection. */
function dropRequest(req: IncomingMessage | Http2ServerRequest | undefined): void {
  if (req === undefined) return;
  if ('stream' in req) req.stream.close(h2.NGHTTP2_CANCEL);
  else req.socket.destroy();
}
