import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { LocalBroker } from '../../src/cluster/local-broker.js';
import type { StoredNotification } from '../../src/core/types.js';
import { apiKeyMd, grpcClient, type RpcError, rpc } from '../support/grpc.js';
import { api, publishTo, refusedHandshake, startTestHerald, token, wsUrl } from '../support/herald.js';
import { refusedSse } from '../support/sse.js';

/** A broker with a bug: it throws a plain error for a notification titled `boom` and at the handshake of device `boom`. */
class FaultyBroker extends LocalBroker {
  override async route(n: StoredNotification): Promise<number> {
    if (n.title === 'boom') throw new TypeError('route exploded');
    return super.route(n);
  }

  async admit(_clientId: string, deviceId: string): Promise<void> {
    if (deviceId === 'boom') throw new TypeError('admit exploded');
  }
}

/** A node whose error logs are kept (pino's logMethod hook sees each call's arguments). */
async function startFaulty() {
  const logged: { obj: Record<string, unknown>; msg: unknown }[] = [];
  const logger = {
    level: 'error',
    hooks: {
      logMethod(args: unknown[]) {
        logged.push({ obj: args[0] as Record<string, unknown>, msg: args[1] });
      },
    },
  };
  const h = await startTestHerald({ GRPC_PORT: 0 }, { broker: new FaultyBroker(), logger });
  return Object.assign(h, { logged });
}

const loggedError = (logged: { obj: Record<string, unknown> }[], message: string) => logged.some((l) => (l.obj.err as Error | undefined)?.message === message);

describe('an unexpected error is HERALD_ERR_INTERNAL at every door, logged with its stack', () => {
  it('HTTP route: 500 without details', async () => {
    await using h = await startFaulty();
    const r = await publishTo(h, 'alice', { title: 'boom', message: 'm' });
    expect(r.status).toBe(500);
    expect(r.body).toEqual({ statusCode: 500, code: 'HERALD_ERR_INTERNAL', error: 'internal error', message: 'internal error' });
    expect(loggedError(h.logged, 'route exploded')).toBe(true);
  });

  it('batch item: 500 for that item alone (not 503)', async () => {
    await using h = await startFaulty();
    const r = await api(h, 'POST', '/api/v1/batch', {
      items: [
        { clientId: 'alice', title: 'fine', message: 'm' },
        { clientId: 'alice', title: 'boom', message: 'm' },
      ],
    });
    expect(r.status).toBe(200);
    expect(r.body.accepted).toBe(1);
    expect(r.body.results[1]).toEqual({ index: 1, status: 500, code: 'HERALD_ERR_INTERNAL', error: 'internal error' });
    expect(loggedError(h.logged, 'route exploded')).toBe(true);
  });

  it('WebSocket and SSE handshakes: 500 with the same body (not 400)', async () => {
    await using h = await startFaulty();
    const params = { device: 'boom', token: await token('alice') };
    const ws = await refusedHandshake(wsUrl(h, params));
    const sse = await refusedSse(h, params);
    for (const r of [ws, sse]) {
      expect(r.status).toBe(500);
      expect(r.body).toEqual({ statusCode: 500, code: 'HERALD_ERR_INTERNAL', error: 'internal error', message: 'internal error' });
    }
    expect(h.logged.filter((l) => (l.obj.err as Error | undefined)?.message === 'admit exploded')).toHaveLength(2);
  });

  it('gRPC: INTERNAL with the stable code in metadata', async () => {
    await using h = await startFaulty();
    const client = grpcClient(h);
    try {
      const err = (await rpc(client, 'SendNotification', { client_id: 'alice', title: 'boom', message: 'm' }, apiKeyMd()).catch(
        (e: RpcError) => e,
      )) as RpcError;
      expect(err.code).toBe(grpc.status.INTERNAL);
      expect(err.details).toBe('internal error');
      expect(err.metadata.get('herald-error-code')).toEqual(['HERALD_ERR_INTERNAL']);
      expect(loggedError(h.logged, 'route exploded')).toBe(true);
    } finally {
      client.close();
    }
  });
});
