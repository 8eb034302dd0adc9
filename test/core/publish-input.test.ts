import { describe, expect, it } from 'vitest';
import { HeraldError } from '../../src/core/errors.js';
import { checkWellFormed, parsePublishInput } from '../../src/core/publish-input.js';

const fieldOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(HeraldError);
    return (e as HeraldError).field;
  }
  return undefined;
};

describe('publish input: well-formed Unicode', () => {
  it('names the first malformed string in document order, keys before what they hold', () => {
    const data = { a: ['ok', { b: 'x\ud800' }], c: '\udfff' };
    expect(fieldOf(() => checkWellFormed(data, 'data'))).toBe('data.a[1].b');
    expect(fieldOf(() => checkWellFormed({ ok: { '\ud800k': 'fine' } }, 'data'))).toBe('data.ok.\ufffdk');
    expect(fieldOf(() => parsePublishInput({ title: 't', message: 'm', data }, 'items[4].'))).toBe('items[4].data.a[1].b');
    expect(fieldOf(() => parsePublishInput({ title: 't\udc00', message: 'm' }))).toBe('title');
    expect(fieldOf(() => checkWellFormed({ n: 1, t: true, z: null, s: 'é😀', l: [[[]]] }, 'data'))).toBeUndefined();
  });

  it('walks nesting deeper than the call stack allows', () => {
    let deep: unknown = '\ud800';
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(fieldOf(() => checkWellFormed(deep, 'data'))).toMatch(/^data(\[0\]){200000}$/);
  });
});
