import type { FastifyBaseLogger, FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Auth } from '../auth/auth.js';
import { errorBody, HeraldError, toHeraldError } from '../core/errors.js';
import type { HeraldNode } from '../core/node.js';
import type { Metrics } from './metrics.js';

/**
 * What every route of the HTTP API reads from `app.herald`. Declared here, beside the helpers the
 * route files share, so a route file imports this module and never `app.ts` (which imports the
 * route files to register them).
 */
export interface ApiContext {
  node: HeraldNode;
  auth: Auth;
  metrics: Metrics;
  /** Web Push, once wired (its routes register themselves). */
  push?: { devicesWithPush(clientId: string): Promise<Set<string>>; store?: unknown };
}

declare module 'fastify' {
  interface FastifyInstance {
    herald: ApiContext;
  }
}

/** preHandler for the publisher API: the API key in `Authorization: Bearer`. */
export async function requireApiKey(this: FastifyInstance, req: FastifyRequest): Promise<void> {
  if (!this.herald.auth.checkApiKey(req.headers.authorization)) throw new HeraldError('HERALD_ERR_UNAUTHORIZED', 'missing or wrong API key');
}

type FrameworkError = FastifyError & {
  validation?: { instancePath: string; params: Record<string, unknown>; message?: string }[];
  validationContext?: string;
};

/**
 * The one HTTP mapping: any error a route, hook or Fastify itself raised → the HeraldError it is
 * answered with. Schema failures are HERALD_ERR_INVALID naming the field; body parser faults
 * (empty, malformed, unsupported content type) name `body`; over the body limit is 413. Anything
 * else is HERALD_ERR_INTERNAL, logged once by {@link toHeraldError}. Used for whole requests
 * ({@link sendError}) and for the items of a batch.
 */
export function httpError(err: unknown, log: FastifyBaseLogger): HeraldError {
  if (err instanceof HeraldError) return err;
  const framework = typeof err === 'object' && err !== null ? fromFramework(err as FrameworkError) : null;
  return framework ?? toHeraldError(err, log, 'HTTP request failed');
}

/** Fastify's own client errors (validation, body parsing, URL), or null for anything else. */
function fromFramework(fe: FrameworkError): HeraldError | null {
  if (fe.validation?.length) {
    const v = fe.validation[0];
    const path = v.instancePath.replace(/^\//, '').replaceAll('/', '.');
    const field = (v.params.missingProperty as string | undefined) ?? (path || fe.validationContext || 'body');
    return new HeraldError('HERALD_ERR_INVALID', `${field}: ${v.message ?? 'invalid'}`, { field, cause: fe });
  }
  const status = fe.statusCode;
  // An unsupported content type is a body the API cannot read: 400 naming `body`, like malformed JSON.
  if (status === 400 || fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
    return new HeraldError('HERALD_ERR_INVALID', `body: ${fe.message}`, { field: 'body', cause: fe });
  if (status === 413) return new HeraldError('HERALD_ERR_TOO_LARGE', 'body is over the configured limit (MAX_BODY_BYTES)', { cause: fe });
  if (status === 415) return new HeraldError('HERALD_ERR_INVALID', `content-type: ${fe.message}`, { field: 'content-type', cause: fe });
  // Other client errors keep their status (414: a path parameter over maxParamLength).
  if (status !== undefined && status > 400 && status < 500) return new HeraldError('HERALD_ERR_INVALID', fe.message, { cause: fe, statusCode: status });
  return null;
}

/**
 * Answers a request with an error (PROTOCOL.md: `{statusCode, code, error, message, field?}`),
 * mapped by {@link httpError}; a 401 says `WWW-Authenticate: Bearer`. A request refused for a
 * server-side reason (store unavailable, draining) is logged with its cause: a publisher just
 * lost a publish.
 */
export function sendError(reply: FastifyReply, err: unknown): FastifyReply {
  const e = httpError(err, reply.log);
  if (e.statusCode >= 500 && e.code !== 'HERALD_ERR_INTERNAL') reply.log.error({ err: e.cause ?? e }, e.message);
  if (e.statusCode === 401 && !reply.hasHeader('www-authenticate')) reply.header('www-authenticate', 'Bearer');
  return reply.code(e.statusCode).send(errorBody(e));
}
