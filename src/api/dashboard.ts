import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { HeraldError } from '../core/errors.js';
import { TRANSPORT_KINDS } from '../transports/index.js';
import { clusterNodes, DashboardFeed, type DashboardFeedOptions } from './dashboard-feed.js';
import { DeviceIndex } from './device-index.js';
import { requireApiKey } from './http.js';
import { packageRoot } from './package-root.js';
import { errorBody } from './schemas.js';

/** Options of {@link registerDashboardRoutes} (tests tune the feed's timing). */
export interface DashboardRoutesOptions extends DashboardFeedOptions {
  /** The package root: the page is served from `<root>/public/dashboard`. @default found upward from this file */
  root?: string;
}

const security = [{ apiKey: [] }];
const tags = ['dashboard'];
const errors = { 400: errorBody, 401: errorBody };

/** Plain file names only: no separators, no dot files, so a request cannot leave the folder. */
const FILE_RE = /^[a-z0-9][a-z0-9-]*\.(html|js|css|svg)$/;
const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
};
/** The page loads only its own files and talks only to this origin; the key never leaves it. */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const feeds = new WeakMap<FastifyInstance, DashboardFeed>();

/** The live feed behind `GET /api/v1/events` of an app (tests check it stops when nobody watches). */
export function dashboardFeed(app: FastifyInstance): DashboardFeed | undefined {
  return feeds.get(app);
}

const deviceRow = {
  type: 'object',
  properties: {
    clientId: { type: 'string' },
    deviceId: { type: 'string' },
    connectionId: { type: 'string' },
    transport: { type: 'string', enum: [...TRANSPORT_KINDS] },
    state: { type: 'string', enum: ['attached', 'detached'] },
    node: { type: 'string' },
    connectedAt: { type: 'integer', description: 'ms since epoch' },
    lastHeartbeatAt: { type: ['integer', 'null'] },
    rttMs: { type: ['number', 'null'], description: 'Last heartbeat round trip' },
    lastNotificationAt: { type: ['integer', 'null'] },
    notificationCount: { type: 'integer' },
    queuedBytes: { type: 'integer', description: 'Bytes waiting in the send queue' },
    firstOfClient: { type: 'boolean', description: 'First listed device of its client (the tree shows the client on this row)' },
    clientDevices: { type: 'integer', description: "How many listed devices belong to this row's client" },
  },
} as const;

const devicePage = {
  type: 'object',
  description: 'One page of devices',
  properties: {
    node: { type: 'string' },
    version: { type: 'integer', description: 'Registry version; changes when a device registers, attaches, detaches or goes away' },
    total: { type: 'integer', description: 'Devices matching the filter' },
    clients: { type: 'integer', description: 'Clients matching the filter' },
    offset: { type: 'integer' },
    limit: { type: 'integer' },
    devices: { type: 'array', items: deviceRow },
  },
} as const;

const devicesQuery = {
  type: 'object',
  properties: {
    offset: { type: 'string', pattern: '^[0-9]{1,9}$', description: 'First row (default 0)' },
    limit: { type: 'string', pattern: '^[0-9]{1,4}$', description: 'Rows, 1 to 500 (default 50)' },
    q: { type: 'string', maxLength: 128, description: 'Case-insensitive part of a client id or device id' },
    state: { type: 'string', enum: ['attached', 'detached'] },
  },
} as const;

const nodeList = {
  type: 'object',
  description: 'The live nodes',
  properties: {
    broker: { type: 'string', enum: ['local', 'redis'] },
    self: { type: 'string' },
    nodes: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          connections: { type: 'integer', description: 'Attached device streams' },
          self: { type: 'boolean' },
          lastSeenAt: { type: 'integer', description: 'Last cluster heartbeat, ms since epoch' },
        },
      },
    },
  },
} as const;

/**
 * The operator dashboard: static page at `/dashboard/` (no key needed to load it; every data call
 * carries the API key the operator typed, kept in the tab's sessionStorage, never in a URL), and
 * its data API: a paged, searchable device list of this node, the cluster's nodes, and a live
 * stream (`GET /api/v1/events`, Server-Sent Events read with `fetch()` so the key can travel in
 * the `Authorization` header).
 */
export function registerDashboardRoutes(app: FastifyInstance, opts: DashboardRoutesOptions = {}): void {
  const { node } = app.herald;
  const root = opts.root ?? packageRoot();
  const pageDir = join(root, 'public', 'dashboard');
  const index = new DeviceIndex(node);
  const feed = new DashboardFeed(node, index, opts);
  feeds.set(app, feed);
  // End the streams before the server closes, so close() does not wait on them.
  app.addHook('preClose', async () => feed.close());
  const auth = { onRequest: requireApiKey };

  app.get('/dashboard', { schema: { hide: true } }, async (_req, reply) => reply.redirect('/dashboard/'));
  app.get('/dashboard/', { schema: { hide: true } }, async (_req, reply) => sendStatic(reply, pageDir, 'index.html', 'html'));
  app.get<{ Params: { file: string } }>('/dashboard/:file', { schema: { hide: true } }, async (req, reply) => {
    const m = FILE_RE.exec(req.params.file);
    if (!m) throw new HeraldError('HERALD_ERR_NOT_FOUND', `no dashboard file ${req.params.file}`);
    return sendStatic(reply, pageDir, req.params.file, m[1]);
  });

  app.get<{ Querystring: { offset?: string; limit?: string; q?: string; state?: 'attached' | 'detached' } }>(
    '/api/v1/devices',
    {
      ...auth,
      schema: {
        tags,
        summary: "This node's devices, sorted by client then device, one page at a time",
        description: 'The dashboard pages through this with the rows it shows; `version` tells it when to fetch again.',
        security,
        querystring: devicesQuery,
        response: { 200: devicePage, ...errors },
      },
    },
    async (req) => {
      const offset = Number(req.query.offset ?? 0);
      const limit = Number(req.query.limit ?? 50);
      if (limit < 1 || limit > 500) throw new HeraldError('HERALD_ERR_INVALID', 'limit: must be 1 to 500', { field: 'limit' });
      return index.page({ offset, limit, q: req.query.q, state: req.query.state });
    },
  );

  app.get(
    '/api/v1/nodes',
    {
      ...auth,
      schema: {
        tags,
        summary: 'The nodes of the cluster and their connections (local broker: this node)',
        security,
        response: { 200: nodeList, 401: errorBody },
      },
    },
    async () => ({ broker: node.broker.kind, self: node.config.NODE_ID, nodes: await clusterNodes(node) }),
  );

  app.get(
    '/api/v1/events',
    {
      ...auth,
      schema: {
        tags,
        summary: 'Live dashboard feed (Server-Sent Events)',
        description:
          'Events: `history` (recent samples, once), `update` (at most once a second: totals, rates from counter deltas, send-queue bytes, ' +
          'heartbeat RTT, nodes, registry `version`), `devices` (`{version}`, as soon as the registry changed between updates). ' +
          'Authorised by the `Authorization` header: read it with `fetch()`, not `EventSource`.',
        security,
        response: {
          200: { description: 'An event stream', content: { 'text/event-stream': { schema: { type: 'string' } } } },
          401: errorBody,
        },
      },
    },
    async (req, reply) => {
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        'x-accel-buffering': 'no',
        'x-content-type-options': 'nosniff',
      });
      res.socket?.setNoDelay(true);
      const leave = feed.add({
        write: (chunk) => res.write(chunk),
        buffered: () => res.writableLength,
        end: () => res.end(),
      });
      res.once('close', leave);
      req.raw.once('error', leave);
    },
  );
}

async function sendStatic(reply: FastifyReply, dir: string, file: string, ext: string): Promise<FastifyReply> {
  let body: Buffer;
  try {
    body = await readFile(join(dir, file));
  } catch {
    throw new HeraldError('HERALD_ERR_NOT_FOUND', `no dashboard file ${file}`);
  }
  return reply
    .header('content-type', TYPES[ext])
    .header('cache-control', 'no-cache')
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('content-security-policy', CSP)
    .send(body);
}
