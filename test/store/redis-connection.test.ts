import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coalesceWrites } from '../../src/store/redis-connection.js';
import { startRedis, startRedisCluster, type TestRedis, type TestRedisCluster } from '../support/redis.js';

/**
 * Issue 17: what a node gives Redis in one event-loop turn leaves in one write. Each HTTP publish
 * arrives in an I/O callback of its own; the test stands them in with `setImmediate` callbacks of
 * one turn (Node completes a socket write between two such callbacks, as between two I/O
 * callbacks, so an uncorked client writes once per callback).
 */

/** Counts the writes that reach the socket (Node's `_write` / `_writev`, one syscall each). */
function countSocketWrites(redis: Redis): { writes: number } {
  const stream = (redis as unknown as { stream: { _write: (...a: unknown[]) => void; _writev?: (...a: unknown[]) => void } }).stream;
  const seen = { writes: 0 };
  const write = stream._write;
  stream._write = function (this: unknown, ...a: unknown[]) {
    seen.writes++;
    return write.apply(this, a);
  };
  const writev = stream._writev;
  if (writev) {
    stream._writev = function (this: unknown, ...a: unknown[]) {
      seen.writes++;
      return writev.apply(this, a);
    };
  }
  return seen;
}

/** Calls `send(i)` for i < n, each in a `setImmediate` callback of the same turn; resolves with the replies. */
function fromSeparateCallbacks<T>(n: number, send: (i: number) => Promise<T>): Promise<T[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => new Promise<T>((resolve, reject) => setImmediate(() => send(i).then(resolve, reject)))));
}

/** Redis's own count of reads it processed (INFO stats). */
async function readsProcessed(redis: Redis): Promise<number> {
  const m = /total_reads_processed:(\d+)/.exec(await redis.info('stats'));
  if (!m) throw new Error('no total_reads_processed in INFO stats');
  return Number(m[1]);
}

describe('coalesceWrites', () => {
  let server: TestRedis;
  const clients: Redis[] = [];
  // As Herald's store connects: a command in flight when the connection drops fails, never resent.
  const client = async (coalesce: boolean) => {
    const r = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 0, autoResendUnfulfilledCommands: false });
    clients.push(r);
    await r.connect();
    if (coalesce) coalesceWrites(r);
    return r;
  };
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    for (const r of clients) r.disconnect();
    await server?.stop();
  });

  it('commands from 40 callbacks of one turn leave in one write, and Redis reads them at once', async () => {
    const observer = await client(false);
    const plain = await client(false);
    const plainWrites = countSocketWrites(plain);
    await fromSeparateCallbacks(40, (i) => plain.set(`plain:${i}`, String(i)));
    // Without it: a write per callback (what the test stands for).
    expect(plainWrites.writes).toBeGreaterThanOrEqual(20);

    const r = await client(true);
    const writes = countSocketWrites(r);
    const before = await readsProcessed(observer);
    const replies = await fromSeparateCallbacks(40, (i) => r.incrby(`n:${i % 4}`, i));
    // Replies in order, each to its own command.
    const sums = [0, 0, 0, 0];
    expect(replies).toEqual(Array.from({ length: 40 }, (_, i) => (sums[i % 4] += i)));
    expect(writes.writes).toBe(1);
    // Redis's side: the 40 commands in one or two reads, beside the observer's own INFO.
    expect((await readsProcessed(observer)) - before).toBeLessThanOrEqual(3);
  });

  it('keeps order with pipelines and transactions in the same turn, and a lone command is answered', async () => {
    const r = await client(true);
    const out: string[] = [];
    await fromSeparateCallbacks(6, async (i) => {
      if (i === 2) {
        const res = await r.multi().set('km', 'multi').get('km').exec();
        out.push(`multi:${res?.[1]?.[1]}`);
      } else if (i === 4) {
        const res = await r.pipeline().set('kp', 'pipe').get('kp').exec();
        out.push(`pipe:${res?.[1]?.[1]}`);
      } else {
        const [set, got] = await Promise.all([r.set(`k${i}`, `plain${i}`), r.get(`k${i}`)]);
        out.push(`${set}:${got}`);
      }
    });
    expect(out.sort()).toEqual(['OK:plain0', 'OK:plain1', 'OK:plain3', 'OK:plain5', 'multi:multi', 'pipe:pipe'].sort());
    // One command alone in its turn: flushed at the turn's end, not held.
    expect(await r.ping()).toBe('PONG');
    // Applying it twice changes nothing (one cork per turn).
    coalesceWrites(r);
    const writes = countSocketWrites(r);
    await fromSeparateCallbacks(10, (i) => r.set(`again:${i}`, 'x'));
    expect(writes.writes).toBe(1);
  });

  it('a connection that drops with commands corked fails them and recovers', async () => {
    const r = await client(true);
    r.on('error', () => {});
    const pending = fromSeparateCallbacks(5, (i) => r.set(`drop:${i}`, 'x'));
    setImmediate(() => r.stream.destroy());
    await expect(pending).rejects.toThrow();
    await new Promise<void>((resolve) => r.once('ready', () => resolve()));
    expect(await r.set('after', 'y')).toBe('OK');
  });
});

describe('coalesceWrites on a Redis Cluster client: every shard connection', () => {
  let cluster: TestRedisCluster;
  let client: Cluster;
  beforeAll(async () => {
    cluster = await startRedisCluster(3);
    client = new Cluster([{ host: '127.0.0.1', port: cluster.nodes[0].port }], { lazyConnect: true });
    coalesceWrites(client as unknown as Redis);
    await client.connect();
  });
  afterAll(async () => {
    client?.disconnect();
    await cluster?.stop();
  });

  it('commands of one turn to one shard leave in one write on that shard', async () => {
    // Warm every shard connection (made lazily, each coalesced as it is added).
    await Promise.all(Array.from({ length: 30 }, (_, i) => client.set(`{w${i}}`, '1')));
    const nodes = client.nodes('master');
    expect(nodes.length).toBe(3);
    const counters = nodes.map((n) => countSocketWrites(n));
    // Keys of one slot (hash tag), so all on one shard.
    const replies = await fromSeparateCallbacks(20, (i) => client.set(`{same}:${i}`, String(i)));
    expect(replies.every((r) => r === 'OK')).toBe(true);
    expect(counters.map((c) => c.writes).sort()).toEqual([0, 0, 1]);
  });
});
