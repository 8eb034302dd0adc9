import { Redis } from 'ioredis';
import { RedisStore } from '../../src/store/redis-store.js';
import { startRedis } from '../../test/support/redis.js';

const N = Number(process.env.N ?? 20000);
const CONC = 32;
async function cpu(r: Redis) {
  const info = await r.info('cpu');
  const g = (k: string) => Number(new RegExp(`${k}:([\\d.]+)`).exec(info)?.[1]);
  return (g('used_cpu_sys') + g('used_cpu_user')) * 1e6;
}
async function run(label: string, fn: (i: number) => Promise<unknown>, admin: Redis) {
  const c0 = await cpu(admin);
  const t0 = performance.now();
  let i = 0;
  await Promise.all(Array.from({ length: CONC }, async () => { while (i < N) await fn(i++); }));
  const ms = performance.now() - t0;
  const c1 = await cpu(admin);
  const stats = (await admin.info('commandstats')).split('\n').filter((l) => /evalsha|publish|xadd|hgetall|hmget|hset|xlen|hlen/.test(l)).map((l) => l.replace(/,rejected.*$/, '').replace('cmdstat_', '')).join(' | ');
  await admin.config('RESETSTAT');
  console.log(`${label}: ${((c1 - c0) / N).toFixed(1)} µs Redis CPU / op, ${(N / ms * 1000).toFixed(0)} ops/s\n   ${stats}`);
}
const srv = await startRedis();
const admin = new Redis(srv.url);
const subs = await Promise.all([0, 1, 2].map(async (k) => { const s = new Redis(srv.url); await s.ssubscribe(`herald:{u${k}}:ch`); await s.subscribe('sio'); return s; }));
const store = await RedisStore.connect({ url: srv.url, retentionMessages: 1000, retentionMs: 86_400_000 });
const reg = new Redis(srv.url);
for (let k = 0; k < 300; k++) await reg.hset(`herald:{u${k}}:reg`, 'phone', JSON.stringify({ n: 'n1', s: 'x', st: 'a', c: 1, t: 'ws' }));
const body = (i: number) => ({ title: 'Bench', message: 'targeted message', data: { _t: Date.now(), _s: i } });
const pubAdmin = new Redis(srv.url);
for (let round = 0; round < 2; round++) {
  await run('socket.io-like PUBLISH (3 subscribers)', (i) => pubAdmin.publish('sio', JSON.stringify({ ...body(i), room: `u${i % 300}` })), admin);
  await run('append, no publication', (i) => store.append({ kind: 'client', clientId: `u${i % 300}` }, body(i), Date.now()), admin);
  await run('append + publication (SPUBLISH, count)', (i) => store.append({ kind: 'client', clientId: `u${i % 300}` }, body(i), Date.now(), { command: 'SPUBLISH', channel: `herald:{u${i % 300}}:ch`, registry: `herald:{u${i % 300}}:reg`, head: '{"k":"n","o":"n0","n":', tail: '}' }), admin);
}
await store.close(); for (const s of [admin, reg, pubAdmin, ...subs]) s.disconnect(); await srv.stop();
