import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectDevice, publishTo, until } from '../support/herald.js';
import { PushServiceStandIn } from './push-service.js';
import { type PushHerald, sleep, startPushHerald, subscribe } from './support.js';

/** `excludeDevices` (PROTOCOL.md "Inbox"): an excluded device gets no push either, for a client or a device notification. */
let service: PushServiceStandIn;
beforeEach(async () => {
  service = await PushServiceStandIn.start();
});
afterEach(async () => {
  await service.close();
});

async function detached(h: PushHerald, clientId: string, deviceId: string) {
  const dev = await connectDevice(h, clientId, deviceId);
  const sub = await service.subscription();
  await subscribe(h, clientId, deviceId, sub);
  dev.close();
  await until(() => h.node.hub.device(clientId, deviceId)?.state === 'detached', 5000, 'detached');
  return sub;
}

describe('Web Push and excludeDevices', () => {
  it('no push to an excluded device; its detached sibling is pushed', async () => {
    await using h = await startPushHerald();
    const phone = await detached(h, 'alice', 'phone');
    const tablet = await detached(h, 'alice', 'tablet');
    const r = await publishTo(h, 'alice', { title: 'not the phone', message: 'm', excludeDevices: ['phone'] });
    expect(r.body.delivered).toBe(0);
    await publishTo(h, 'alice', { title: 'phone, targeted and excluded', message: 'm', excludeDevices: ['phone'] }, 'phone');
    await until(() => service.for(tablet).length === 1, 5000, 'the tablet push');
    await sleep(300);
    expect(service.for(tablet).map((p) => p.payload?.id)).toEqual([r.body.id]);
    expect(service.for(phone)).toEqual([]);
  });
});
