import { describe, expect, it } from 'vitest';
import { type QueuedAppend, WriteQueue } from '../../src/store/postgres/write-queue.js';

/** The PostgreSQL store's writer without PostgreSQL: batching, streams in flight, order, tasks. */
interface Item {
  stream: string;
  n: number;
}

function rig(maxInFlight = 4, maxBatch = 500) {
  const sent: { items: Item[]; release: () => void }[] = [];
  const events: string[] = [];
  const q = new WriteQueue<Item, number>({
    streamOf: (i) => i.stream,
    maxInFlight,
    maxBatch,
    flush: (batch: QueuedAppend<Item, number>[]) =>
      new Promise<void>((done) => {
        sent.push({
          items: batch.map((a) => a.item),
          release: () => {
            for (const a of batch) a.resolve(a.item.n);
            done();
          },
        });
      }),
  });
  const append = (stream: string, n: number) => q.append({ stream, n }).then((v) => events.push(`${stream}${v}`));
  return { q, sent, events, append };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('WriteQueue', () => {
  it('appends of one turn leave as one batch; later ones wait for their stream and keep their order', async () => {
    const { sent, events, append } = rig();
    const all = [append('a', 1), append('b', 1), append('a', 2)];
    await tick();
    expect(sent.map((s) => s.items.map((i) => `${i.stream}${i.n}`))).toEqual([['a1', 'b1', 'a2']]);
    all.push(append('a', 3), append('c', 1), append('a', 4));
    await tick();
    // c is free: it goes at once, beside the first batch; a waits for the batch holding a.
    expect(sent.map((s) => s.items.map((i) => `${i.stream}${i.n}`))).toEqual([['a1', 'b1', 'a2'], ['c1']]);
    sent[1].release();
    sent[0].release();
    await tick();
    expect(sent[2].items.map((i) => `${i.stream}${i.n}`)).toEqual(['a3', 'a4']);
    sent[2].release();
    await Promise.all(all);
    expect(events.filter((e) => e.startsWith('a'))).toEqual(['a1', 'a2', 'a3', 'a4']);
  });

  it('never more than maxInFlight batches, never two with one stream', async () => {
    const { q, sent, append } = rig(2, 1);
    const all = ['a', 'b', 'c', 'a'].map((s, i) => append(s, i));
    await tick();
    expect(sent.map((s) => s.items[0].stream)).toEqual(['a', 'b']);
    sent[0].release();
    await tick();
    // c (next free), not the second a (a was freed, but c is first in line and the limit is 2).
    expect(sent.map((s) => s.items[0].stream)).toEqual(['a', 'b', 'c']);
    sent[1].release();
    await tick();
    expect(sent.map((s) => s.items[0].stream)).toEqual(['a', 'b', 'c', 'a']);
    for (const s of sent.slice(2)) s.release();
    await Promise.all(all);
    expect(q.stats).toEqual({ batches: 4, items: 4, maxInFlight: 2 });
  });

  it('a task runs alone: after what is in flight, before what was queued after it', async () => {
    const { q, sent, events, append } = rig();
    const first = append('a', 1);
    await tick();
    const task = q.task(async () => {
      events.push('task');
    });
    const after = append('b', 1);
    await tick();
    expect(sent).toHaveLength(1);
    sent[0].release();
    await task;
    await tick();
    expect(sent).toHaveLength(2);
    sent[1].release();
    await Promise.all([first, after]);
    expect(events).toEqual(['a1', 'task', 'b1']);
  });

  it('a failed batch rejects its appends and the queue goes on', async () => {
    const q = new WriteQueue<Item, number>({
      streamOf: (i) => i.stream,
      flush: async (batch) => {
        if (batch.some((a) => a.item.n === 0)) throw new Error('down');
        for (const a of batch) a.resolve(a.item.n);
      },
    });
    await expect(q.append({ stream: 'a', n: 0 })).rejects.toThrow('down');
    expect(await q.append({ stream: 'a', n: 1 })).toBe(1);
  });
});
