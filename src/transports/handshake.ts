import type { IncomingHttpHeaders } from 'node:http';
import { type Auth, bearer } from '../auth/auth.js';
import { originAllowed } from '../auth/origin.js';
import type { Cursor } from '../core/cursor.js';
import { type ErrorBody, errorBody, HeraldError, toHeraldError } from '../core/errors.js';
import { checkId } from '../core/ids.js';
import type { Logger } from '../core/logger.js';
import type { HeraldNode } from '../core/node.js';

/** A device admitted to open its stream: who it is, where it resumes, when its token ends. */
export interface DeviceHandshake {
  clientId: string;
  deviceId: string;
  cursor: Cursor | null;
  tokenExpiresAt: number | null;
  query: URLSearchParams;
}

/**
 * Every check made before a device stream starts, in one place for WebSocket and SSE:
 * origin (403), ids (400), token (401), cursor (400), then draining / full / client limit
 * (503 / 503 / 429). Rejects only with a HeraldError carrying the HTTP status: anything
 * unexpected is logged and becomes HERALD_ERR_INTERNAL here, for both transports.
 */
export async function deviceHandshake(node: HeraldNode, auth: Auth, url: URL, headers: IncomingHttpHeaders, extraCursor?: string): Promise<DeviceHandshake> {
  try {
    return await checkHandshake(node, auth, url, headers, extraCursor);
  } catch (err) {
    throw toHeraldError(err, node.log, 'device handshake');
  }
}

async function checkHandshake(node: HeraldNode, auth: Auth, url: URL, headers: IncomingHttpHeaders, extraCursor?: string): Promise<DeviceHandshake> {
  if (!originAllowed(headers.origin, node.config.ALLOWED_ORIGINS)) {
    throw new HeraldError('HERALD_ERR_FORBIDDEN', `origin ${headers.origin} is not allowed`);
  }
  const q = url.searchParams;
  const deviceId = checkId('device', q.get('device') ?? undefined);
  const identity = await auth.verifyDevice(q.get('token') ?? bearer(headers.authorization));
  const cursor = node.parseCursor(q.get('cursor') ?? extraCursor);
  if (node.state !== 'running') throw new HeraldError('HERALD_ERR_DRAINING', 'node is draining; connect to another node');
  node.hub.admit(identity.clientId, deviceId);
  await node.broker.admit?.(identity.clientId, deviceId);
  return { clientId: identity.clientId, deviceId, cursor, tokenExpiresAt: identity.expiresAt, query: q };
}

/** The HTTP answer to a refused handshake, written before any upgrade. */
export interface HandshakeRefusal {
  status: number;
  body: ErrorBody;
}

/**
 * The one mapping of a handshake error to its refusal: the status and JSON body of the HTTP API's
 * errors (`core/errors.ts` errorBody), anything not a HeraldError logged and answered 500
 * HERALD_ERR_INTERNAL. WebSocket writes it on the raw socket; SSE's handshake runs in a Fastify
 * route, whose error handler (`api/http.ts`) answers the same status and body.
 */
export function handshakeRefusal(err: unknown, log: Pick<Logger, 'error'>): HandshakeRefusal {
  const e = toHeraldError(err, log, 'device handshake');
  return { status: e.statusCode, body: errorBody(e) };
}
