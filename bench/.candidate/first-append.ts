import { Redis } from 'ioredis';
import { RedisStore } from '../../src/store/redis-store.js';
import { startRedis } from '../../test/support/redis.js';
const srv = await startRedis();
const admin = new Redis(srv.url);
const store = await RedisStore.connect({ url: srv.url, retentionMessages: 1000, retentionMs: 86_400_000 });
const body = (i: number) => ({ title: 'Bench', message: 'targeted message', data: { _t: Date.now(), _s: i } });
const pub = (c: string) => ({ command: 'SPUBLISH' as const, channel: `herald:{${c}}:ch`, registry: `herald:{${c}}:reg`, head: '{"k":"e","o":"n0","p":"', tail: '}', pushSubscriptions: `herald:{${c}}:push` });
async function run(label: string, clients: number, n: number, prefix: string) {
  await admin.config('RESETSTAT');
  let i = 0;
  await Promise.all(Array.from({ length: 32 }, async () => {
    while (i < n) { const k = i++; const c = `${prefix}${k % clients}`; await store.append({ kind: 'client', clientId: c }, body(k), Date.now(), pub(c)); }
  }));
  const st = /cmdstat_evalsha:calls=(\d+),usec=(\d+),usec_per_call=([\d.]+)/.exec(await admin.info('commandstats'));
  const px = /cmdstat_pexpire:calls=(\d+)/.exec(await admin.info('commandstats'));
  console.log(label.padEnd(44), st?.[3], 'µs/call inside Redis; pexpire calls', px?.[1] ?? 0);
}
for (let r = 0; r < 2; r++) {
  await run('9000 new clients, first append each', 9000, 9000, `new${r}-`);
  await run('same 9000 clients, second append each', 9000, 9000, `new${r}-`);
  await run('300 clients, many appends', 300, 9000, `hot${r}-`);
}
await store.close(); admin.disconnect(); await srv.stop();
