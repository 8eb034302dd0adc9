import swagger from '@fastify/swagger';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Auth } from '../auth/auth.js';
import { originAllowed } from '../auth/origin.js';
import { HeraldError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { HeraldNode } from '../core/node.js';
import { registerDashboardRoutes } from './dashboard.js';
import { registerDemoRoutes } from './demo.js';
import { registerDeviceRoutes } from './device-routes.js';
import { registerDocsRoutes } from './docs.js';
import { registerHealthRoutes } from './health.js';
import { sendError } from './http.js';
import { registerInboxRoutes } from './inbox-routes.js';
import { registerJsonParser } from './json-body.js';
import { Metrics } from './metrics.js';
import { registerPublisherRoutes } from './publisher.js';
import { registerRedisMetrics } from './redis-metrics.js';

/** The HTTP side of a node: publisher API, device endpoints, health and metrics. */
export async function buildApp(node: HeraldNode, auth: Auth, logger: Logger): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: logger as unknown as FastifyBaseLogger,
    bodyLimit: node.config.MAX_BODY_BYTES,
    // Ids are up to 128 characters: longer path params are answered 400 by the schema, not 414.
    routerOptions: { maxParamLength: 512 },
    // Keep-alive publishers: long-lived sockets, closed promptly at shutdown.
    keepAliveTimeout: 72_000,
    forceCloseConnections: true,
    return503OnClosing: false,
    logController: new LogController({ disableRequestLogging: true }),
    ajv: { customOptions: { removeAdditional: false, allErrors: false, coerceTypes: false } },
  });
  const metrics = new Metrics(node);
  app.decorate('herald', { node, auth, metrics });
  registerRedisMetrics(metrics.registry, Boolean(node.config.REDIS_URL), () => ({
    store: node.store,
    broker: node.broker,
    push: app.herald.push?.store,
  }));

  registerJsonParser(app);
  app.setErrorHandler((err, _req, reply) => sendError(reply, err));
  app.setNotFoundHandler((req, reply) => sendError(reply, new HeraldError('HERALD_ERR_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`)));

  // Browsers on the device endpoints (PROTOCOL.md "CORS/Origin"); the publisher API sends none.
  app.addHook('onRequest', async (req, reply) => {
    const path = req.url;
    if (!(path.startsWith('/me/') || path.startsWith('/sse') || path.startsWith('/push/'))) return;
    const origin = req.headers.origin;
    if (!originAllowed(origin, node.config.ALLOWED_ORIGINS)) throw new HeraldError('HERALD_ERR_FORBIDDEN', `origin ${origin} is not allowed`);
    if (origin) {
      reply.header('access-control-allow-origin', node.config.ALLOWED_ORIGINS === '*' ? '*' : origin);
      reply.header('vary', 'Origin');
    }
    if (req.method === 'OPTIONS') {
      reply
        .header('access-control-allow-methods', 'GET, POST, DELETE, OPTIONS')
        .header('access-control-allow-headers', 'authorization, content-type, last-event-id')
        .header('access-control-max-age', '600')
        .code(204)
        .send();
    }
  });

  await app.register(swagger, {
    openapi: {
      info: { title: 'Herald publisher API', version: '1', description: 'Publish notifications to clients and devices; inspect and manage devices.' },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'The API key' } } },
    },
  });
  app.get('/docs/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  registerPublisherRoutes(app);
  registerDeviceRoutes(app);
  registerInboxRoutes(app);
  registerHealthRoutes(app);
  registerDashboardRoutes(app);
  registerDocsRoutes(app);
  registerDemoRoutes(app);
  return app;
}
