import type { IncomingHttpHeaders } from 'node:http';
import { type Auth, bearer } from '../auth/auth.js';
import { originAllowed } from '../auth/origin.js';
import type { Cursor } from '../core/cursor.js';
import { HeraldError } from '../core/errors.js';
import { checkId } from '../core/ids.js';
import type { HeraldNode } from '../core/node.js';

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
 * (503 / 503 / 429). Throws a HeraldError carrying the HTTP status.
 */
export async function deviceHandshake(node: HeraldNode, auth: Auth, url: URL, headers: IncomingHttpHeaders, extraCursor?: string): Promise<DeviceHandshake> {
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
