import { Redis } from 'ioredis';
import { RedisStore } from '../../src/store/redis-store.js';
import { startRedis } from '../../test/support/redis.js';
// Paced, one op in flight (like a paced publisher): Redis CPU per op, Socket.IO-adapter-like PUBLISH vs Herald's append+publish.
const RATE = 1000, SECS = 4;
async function cpu(r: Redis) {
  const info = await r.info('cpu');
  const g = (k: string) => Number(new RegExp(`${k}:([\\d.]+)`).exec(info)?.[1]);
  return (g('used_cpu_sys') + g('used_cpu_user')) * 1e6;
}
const srv = await startRedis();
const admin = new Redis(srv.url);
const subs = await Promise.all([0, 1, 2].map(async () => { const s = new Redis(srv.url); await s.subscribe('sio'); return s; }));
const hsub = new Redis(srv.url);
await hsub.ssubscribe(...Array.from({ length: 300 }, (_, k) => `herald:{u${k}}:ch`));
const store = await RedisStore.connect({ url: srv.url, retentionMessages: 1000, retentionMs: 86_400_000 });
const reg = new Redis(srv.url);
for (let k = 0; k < 300; k++) await reg.hset(`herald:{u${k}}:reg`, 'phone', JSON.stringify({ n: 'n1', s: 'x', st: 'a', c: 1, t: 'ws' }));
const pubc = new Redis(srv.url);
pubc.defineCommand('trivial', { lua: 'return 1' });
const body = (i: number) => ({ title: 'Bench', message: 'targeted message', data: { _t: Date.now(), _s: i } });
async function paced(label: string, fn: (i: number) => Promise<unknown>) {
  const c0 = await cpu(admin);
  const n = RATE * SECS;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const due = t0 + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    await fn(i);
  }
  const c1 = await cpu(admin);
  console.log(`${label.padEnd(40)} ${((c1 - c0) / n).toFixed(1)} µs Redis CPU / op`);
}
for (let round = 0; round < 2; round++) {
  await paced('PUBLISH to 3 subscribers', (i) => pubc.publish('sio', JSON.stringify({ type: 2, data: ['notification', body(i)], nsp: '/', rooms: [`u${i % 300}`] })));
  await paced('append + SPUBLISH to 1 (one script)', (i) => store.append({ kind: 'client', clientId: `u${i % 300}` }, body(i), Date.now(), { command: 'SPUBLISH', channel: `herald:{u${i % 300}}:ch`, registry: `herald:{u${i % 300}}:reg`, head: '{"k":"e","o":"n0","p":"', tail: '}', pushSubscriptions: `herald:{u${i % 300}}:push` }));
  await paced('EVALSHA return 1', () => (pubc as any).trivial(0));
  await paced('XADD + PUBLISH (MULTI, no Lua)', (i) => pubc.multi().xadd(`herald:{u${i % 300}}:zs`, 'MAXLEN', '~', '1000', '*', 'j', JSON.stringify(body(i))).publish('sio1', JSON.stringify(body(i))).exec());
  await paced('append, no publication', (i) => store.append({ kind: 'client', clientId: `u${i % 300}` }, body(i), Date.now()));
  await paced('idle (no ops, same duration)', async () => {});
}
await store.close(); for (const s of [admin, reg, pubc, hsub, ...subs]) s.disconnect(); await srv.stop();
