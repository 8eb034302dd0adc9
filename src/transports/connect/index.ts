import { cors, createConnectRouter, createContextValues } from '@connectrpc/connect';
import { fastifyConnectPlugin } from '@connectrpc/connect-fastify';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { originAllowed } from '../../auth/origin.js';
import { HeraldError } from '../../core/errors.js';
import { Notifications } from '../../gen/herald/v1/notifications_pb.js';
import { GRPC_KIND } from '../grpc/connection.js';
import { NotificationsRules } from '../grpc/rules.js';
import { Linger } from '../teardown.js';
import type { DeviceTransport } from '../transport.js';
import { type ConnectConnection, GRPC_WEB_KIND } from './connection.js';
import { type FramedStreamConnection, framingOf, serveFramedStream } from './framed-stream.js';
import { isGrpcWebText, serveGrpcWebText } from './grpc-web-text.js';
import { acceptH2c } from './h2c.js';
import { notificationsRoutes, RAW_REQUEST } from './routes.js';

/** Every method's path starts with this (`/herald.v1.Notifications/StreamNotifications`). */
const PREFIX = `/${Notifications.typeName}/`;

/** What a browser may send and read on those paths (PROTOCOL.md "CORS/Origin", with gRPC-Web's and Connect's headers). */
const ALLOW_HEADERS = ['authorization', ...cors.allowedHeaders].map((h) => h.toLowerCase()).join(', ');
const EXPOSE_HEADERS = [...cors.exposedHeaders, 'herald-error-code', 'herald-error-field'].map((h) => h.toLowerCase()).join(', ');
const ALLOW_METHODS = [...cors.allowedMethods, 'OPTIONS'].join(', ');

/**
 * `herald.v1.Notifications` on the HTTP port as gRPC-Web and Connect (PROTOCOL.md "gRPC"), over
 * HTTP/1.1 (through Fastify, with `@connectrpc/connect-fastify`) and cleartext HTTP/2 (prior
 * knowledge, beside HTTP/1.1 on the same port: ./h2c.ts, with `@connectrpc/connect-node`), so a
 * browser uses the typed streaming client with no proxy. The rules are the native gRPC server's
 * (../grpc/rules.ts); streams count as transport `grpc-web` whichever of the two protocols they speak.
 */
export const connectTransport: DeviceTransport = {
  kind: GRPC_WEB_KIND,
  register({ node, auth, app, closeLingerMs }) {
    const linger = new Linger<ConnectConnection>(closeLingerMs, (c) => c.abort());
    const rules = new NotificationsRules(node, auth, GRPC_WEB_KIND);
    const routes = notificationsRoutes({ rules, log: node.log, linger, ackKinds: [GRPC_KIND] });
    // Binary streams are framed by Herald itself (./framed-stream.ts); the rest goes through Connect.
    const framedLinger = new Linger<FramedStreamConnection>(closeLingerMs, (c) => c.abort());
    const framed = { rules, linger: framedLinger, log: node.log, maxBytes: node.config.MAX_BODY_BYTES + 16 * 1024 };
    const STREAM_PATH = `${PREFIX}StreamNotifications`;
    const options = {
      routes,
      // Native gRPC has a port of its own (GRPC_PORT).
      grpc: false,
      // A publish's strings are checked against MAX_BODY_BYTES by the rules; this bounds the envelope.
      readMaxBytes: node.config.MAX_BODY_BYTES + 16 * 1024,
    };
    // gRPC-Web text (base64) is translated around Connect's gRPC-Web handlers (./grpc-web-text.ts).
    const textRouter = createConnectRouter({ ...options, connect: false });
    routes(textRouter);
    const textHandlers = new Map(textRouter.handlers.map((h) => [h.requestPath, h]));
    const serveText = (req: Parameters<typeof serveGrpcWebText>[1], res: Parameters<typeof serveGrpcWebText>[2]) =>
      serveGrpcWebText(textHandlers, req, res, createContextValues().set(RAW_REQUEST, req), options.readMaxBytes).catch((err: unknown) => {
        node.log.debug({ err }, 'gRPC-Web text call ended with an error');
        res.destroy();
        return true;
      });

    // In a scope of its own: Connect reads its bodies itself, in place of the API's JSON parser.
    app.register(async (scope) => {
      scope.removeAllContentTypeParsers();
      // Not part of the publisher API's OpenAPI document: the proto describes them.
      scope.addHook('onRoute', (route) => {
        route.schema = { ...route.schema, hide: true };
      });
      await scope.register(fastifyConnectPlugin, { ...options, contextValues: (req) => createContextValues().set(RAW_REQUEST, req.raw) });
    });

    // Browsers (PROTOCOL.md "CORS/Origin": ALLOWED_ORIGINS), with the headers gRPC-Web and Connect use.
    app.addHook('onRequest', async (req, reply) => {
      if (!req.url.startsWith(PREFIX)) return;
      const origin = req.headers.origin;
      if (!originAllowed(origin, node.config.ALLOWED_ORIGINS)) throw new HeraldError('HERALD_ERR_FORBIDDEN', `origin ${origin} is not allowed`);
      if (!origin) return;
      reply.header('access-control-allow-origin', node.config.ALLOWED_ORIGINS === '*' ? '*' : origin);
      reply.header('vary', 'Origin');
      reply.header('access-control-expose-headers', EXPOSE_HEADERS);
      if (req.method === 'OPTIONS') {
        reply
          .header('access-control-allow-methods', ALLOW_METHODS)
          .header('access-control-allow-headers', ALLOW_HEADERS)
          .header('access-control-max-age', '600')
          .code(204)
          .send();
      }
    });
    app.addHook('onRequest', async (req, reply) => {
      if (!req.url.startsWith(PREFIX) || req.method !== 'POST') return;
      const framing = req.url === STREAM_PATH ? framingOf(req.headers) : null;
      if (framing === null && !isGrpcWebText(req.headers['content-type'])) return;
      reply.hijack();
      const headers: Record<string, string | string[] | number> = {};
      for (const [k, v] of Object.entries(reply.getHeaders())) if (v !== undefined) headers[k] = v;
      if (framing !== null) return serveFramedStream(framed, framing, req.raw, reply.raw, headers);
      for (const [k, v] of Object.entries(headers)) reply.raw.setHeader(k, v);
      if (!(await serveText(req.raw, reply.raw))) reply.raw.writeHead(404).end();
    });

    // HTTP/2 without TLS comes from programs, not browsers: no CORS to answer there.
    const h2Adapter = connectNodeAdapter({
      ...options,
      contextValues: (req) => createContextValues().set(RAW_REQUEST, req),
      fallback: (_req, res) => notFound(res),
    });
    const h2c = acceptH2c(app.server, (req, res) => {
      const framing = req.method === 'POST' && req.url === STREAM_PATH ? framingOf(req.headers) : null;
      if (framing !== null) void serveFramedStream(framed, framing, req, res, {});
      else if (isGrpcWebText(req.headers['content-type'])) void serveText(req, res).then((found) => found || notFound(res));
      else h2Adapter(req, res);
    });
    return {
      async close() {
        linger.destroyAll();
        framedLinger.destroyAll();
        await h2c.close(closeLingerMs);
      },
    };
  },
};

function notFound(res: { writeHead(status: number, headers: Record<string, string>): unknown; end(body: string): unknown }): void {
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ statusCode: 404, code: 'HERALD_ERR_NOT_FOUND', error: 'Not Found', message: 'HTTP/2 serves herald.v1.Notifications only' }));
}
