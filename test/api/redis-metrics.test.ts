import { createECDH, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { deviceCall } from '../push/support.js';
import { parseExpositionStrict } from '../support/exposition.js';
import { publishTo, startTestHerald, until } from '../support/herald.js';
import { startRedis } from '../support/redis.js';

/** The `herald_redis_errors_total` samples by component, or null when the family is absent. */
async function redisErrors(url: string): Promise<Record<string, number> | null> {
  const families = parseExpositionStrict(await (await fetch(`${url}/metrics`)).text());
  const f = families.find((x) => x.name === 'herald_redis_errors_total');
  return f ? Object.fromEntries(f.samples.map((s) => [s.labels.component, s.value])) : null;
}

/** A PushSubscription JSON as a browser makes it (the push service is never called here). */
function browserSubscription() {
  const p256dh = createECDH('prime256v1');
  p256dh.generateKeys();
  return {
    endpoint: `https://push.example.com/send/${randomBytes(8).toString('hex')}`,
    keys: { p256dh: p256dh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') },
  };
}

describe('herald_redis_errors_total', () => {
  it('is absent on a node without Redis', async () => {
    await using h = await startTestHerald();
    expect(await redisErrors(h.url)).toBeNull();
  });

  it('counts the failed Redis commands of the store, the broker and push, each under its component', async () => {
    const redis = await startRedis();
    let stopped = false;
    try {
      await using h = await startTestHerald({ REDIS_URL: redis.url, NODE_HEARTBEAT_MS: 100, NODE_ID: `metrics-${process.pid}` });
      expect(await redisErrors(h.url)).toEqual({ store: 0, broker: 0, push: 0 });
      expect((await publishTo(h, 'rm-alice', { title: 't', message: 'm' })).status).toBe(202);

      await redis.stop();
      stopped = true;
      // The store: a publish it cannot keep (503). Push: a subscription it cannot save. The
      // broker: its node heartbeat, every NODE_HEARTBEAT_MS.
      expect((await publishTo(h, 'rm-alice', { title: 't', message: 'm' })).status).toBe(503);
      expect((await deviceCall(h, 'POST', '/me/devices/phone/push', 'rm-alice', browserSubscription())).status).toBe(500);
      await until(
        async () => {
          const counts = await redisErrors(h.url);
          return counts !== null && counts.store > 0 && counts.broker > 0 && counts.push > 0;
        },
        5000,
        'a failure counted for every component',
      );
    } finally {
      if (!stopped) await redis.stop();
    }
  });
});
