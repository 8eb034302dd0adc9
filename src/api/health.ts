import type { FastifyInstance } from 'fastify';
import { connectionsSnapshot, heartbeatsSnapshot, staleSnapshot } from '../core/stats.js';

/** Operations endpoints (PROTOCOL.md "Operations"): no key. */
export function registerHealthRoutes(app: FastifyInstance): void {
  const { node, metrics } = app.herald;
  const tags = ['operations'];
  app.get('/health', { schema: { tags, summary: 'Liveness' } }, async () => ({ status: 'ok' }));
  app.get('/health/ready', { schema: { tags, summary: 'Readiness: 503 while draining' } }, async (_req, reply) => {
    const ready = node.state === 'running';
    return reply.code(ready ? 200 : 503).send({ ready });
  });
  app.get('/health/connections', { schema: { tags } }, async () => connectionsSnapshot(node));
  app.get('/health/heartbeats', { schema: { tags } }, async () => heartbeatsSnapshot(node));
  app.get('/health/stale', { schema: { tags } }, async () => staleSnapshot(node));
  app.get('/metrics', { schema: { tags, summary: 'Prometheus metrics' } }, async (_req, reply) => {
    return reply.header('content-type', metrics.contentType).send(await metrics.text());
  });
}
