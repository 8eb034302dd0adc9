import { Redis } from 'ioredis';
import { APPEND_LUA } from '../../src/store/redis-scripts.js';
import { startRedis } from '../../test/support/redis.js';
const N = 10000;
const srv = await startRedis();
const r = new Redis(srv.url);
const variants: Record<string, string> = {
  full: APPEND_LUA,
  noCount: APPEND_LUA.replace("local reg = KEYS[5]", "local reg = nil"),
  noMsg: APPEND_LUA.replace(/local msg = ARGV\[16\][^\n]*\n/, "local msg = ARGV[7]\n").replace("if replaced ~= '' then msg = msg .. ',\"replaces\":' .. cjson.encode(replaced) end", ""),
  cheapMsg: APPEND_LUA.replace(/local msg = ARGV\[16\][^\n]*\n/, `local msg = ARGV[16] .. id .. '","v":"' .. (last or '') .. '","e":"' .. epoch .. '","j":' .. ARGV[7] .. ARGV[17]\n`).replace("if replaced ~= '' then msg = msg .. ',\"replaces\":' .. cjson.encode(replaced) end", ""),
  cheapMsgHvals: APPEND_LUA.replace(/local msg = ARGV\[16\][^\n]*\n/, `local msg = ARGV[16] .. id .. '","v":"' .. (last or '') .. '","e":"' .. epoch .. '","j":' .. ARGV[7] .. ARGV[17]\n`).replace("if replaced ~= '' then msg = msg .. ',\"replaces\":' .. cjson.encode(replaced) end", "").replace(/local excluded = \{\}[\s\S]*?if ARGV\[8\] ~= '' then/, "if ARGV[8] ~= '' then local excluded = {}").replace("local all = redis.call('HGETALL', reg)\n      for i = 1, #all, 2 do\n        if not excluded[all[i]] and string.find(all[i + 1], '\"st\":\"a\"', 1, true) then reached = reached + 1 end\n      end", "for _, v in ipairs(redis.call('HVALS', reg)) do if string.find(v, '\"st\":\"a\"', 1, true) then reached = reached + 1 end end"),
  noPub: APPEND_LUA.replace("if ARGV[14] and ARGV[14] ~= '' then", "if false then"),
  noPubNoRenewCheck: APPEND_LUA.replace("if ARGV[14] and ARGV[14] ~= '' then", "if false then").replace("local renew = ", "local renew = false and "),
};
for (const [k, lua] of Object.entries(variants)) r.defineCommand(`v_${k}`, { lua });
for (let u = 0; u < 300; u++) await r.hset(`herald:{u${u}}:reg`, 'phone', JSON.stringify({ n: 'n1', s: 'x', st: 'a', c: 1, t: 'ws' }));
const body = (i: number) => JSON.stringify({ id: `id-${i}-xxxxxxxxxxxxxxxxxxxxxx`, title: 'Bench', message: 'targeted message', service: 'default', data: { _t: Date.now(), _s: i }, ts: Date.now() });
for (let round = 0; round < 4; round++)
for (const k of Object.keys(variants)) {
  await r.config('RESETSTAT');
  let i = 0;
  await Promise.all(Array.from({ length: 32 }, async () => {
    while (i < N) {
      const n = i++;
      const c = `u${n % 300}`;
      const keys = [`herald:{${c}}:s`, `herald:{${c}}:m`, `herald:{${c}}:i:`, `herald:{${c}}:x`, `herald:{${c}}:reg`];
      const args = [Date.now(), 1000, 86400000, 172800000, '0', '1', body(n), '', '', 'abcdefgh', `id-${n}`, '', '', 'SPUBLISH', `herald:{${c}}:ch`, '{"k":"n","o":"n0","n":', `,"clientId":"${c}","deviceId":null,"expiresAt":null,"version":1`, '}'];
      await (r as any)[`v_${k}`](keys.length, ...keys, ...args);
    }
  }));
  const st = /cmdstat_evalsha:calls=(\d+),usec=(\d+),usec_per_call=([\d.]+)/.exec(await r.info('commandstats'));
  console.log(k.padEnd(20), st?.[3], 'µs per call inside Redis');
}
r.disconnect(); await srv.stop();
