import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { HeraldError } from '../core/errors.js';
import { packageRoot } from './package-root.js';

export interface DemoRoutesOptions {
  /** The package root: the page is `<root>/public/demo`, the SDK `<root>/dist/client`. @default found upward from this file */
  root?: string;
}

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};

/** Plain file names only: no path separators, no dot files, so a request cannot leave its folder. */
const FILE_RE = /^[a-z0-9][a-z0-9-]*\.(html|js|css)$/;
const SDK_FILE_RE = /^[a-z0-9][a-z0-9-]*\.js$/;

/**
 * The demo page (`herald serve --demo`): `/demo/?token=…&device=…&transport=ws|sse` shows the
 * notifications a device receives and its connection state. The page imports the SDK as plain
 * ESM compiled by `tsc` (no bundler): `dist/client/*.js` under `/demo/sdk/client/`, and the wire
 * types it imports, `dist/protocol/*.js`, under `/demo/sdk/protocol/` — the same relative layout
 * as in `dist/`, so the SDK's own `../protocol/close-codes.js` import resolves.
 */
export function registerDemoRoutes(app: FastifyInstance, opts: DemoRoutesOptions = {}): void {
  const root = opts.root ?? packageRoot();
  const pageDir = join(root, 'public', 'demo');
  const distDir = join(root, 'dist');

  app.get('/demo', { schema: { hide: true } }, async (req, reply) => {
    const q = req.url.indexOf('?');
    return reply.redirect(q === -1 ? '/demo/' : `/demo/${req.url.slice(q)}`);
  });
  app.get('/demo/', { schema: { hide: true } }, async (_req, reply) => sendFile(reply, join(pageDir, 'index.html'), 'html'));
  app.get<{ Params: { file: string } }>('/demo/:file', { schema: { hide: true } }, async (req, reply) => {
    const m = FILE_RE.exec(req.params.file);
    if (!m) throw notFound(req.params.file);
    return sendFile(reply, join(pageDir, req.params.file), m[1]);
  });
  app.get<{ Params: { file: string } }>('/demo/sdk/client/:file', { schema: { hide: true } }, async (req, reply) => {
    if (!SDK_FILE_RE.test(req.params.file)) throw notFound(req.params.file);
    return sendFile(reply, join(distDir, 'client', req.params.file), 'js');
  });
  app.get<{ Params: { file: string } }>('/demo/sdk/protocol/:file', { schema: { hide: true } }, async (req, reply) => {
    if (!SDK_FILE_RE.test(req.params.file)) throw notFound(req.params.file);
    return sendFile(reply, join(distDir, 'protocol', req.params.file), 'js');
  });
}

async function sendFile(reply: FastifyReply, path: string, ext: string): Promise<FastifyReply> {
  let body: Buffer;
  try {
    body = await readFile(path);
  } catch (err) {
    throw new HeraldError('HERALD_ERR_NOT_FOUND', `${path.split(/[\\/]/).slice(-2).join('/')} not found (the SDK is served from dist/: run npm run build)`, {
      cause: err,
    });
  }
  return reply.header('content-type', TYPES[ext]).header('cache-control', 'no-cache').header('x-content-type-options', 'nosniff').send(body);
}

function notFound(file: string): HeraldError {
  return new HeraldError('HERALD_ERR_NOT_FOUND', `no demo file ${file}`);
}
