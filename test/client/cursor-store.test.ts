import { describe, expect, it } from 'vitest';
import { CursorStore } from '../../src/client/cursor-store.js';

/** A JWT-shaped token naming `sub` (the SDK reads it without verifying). */
const jwt = (sub: string) => `h.${Buffer.from(JSON.stringify({ sub })).toString('base64url')}.s`;

function memoryStorage(initial: Record<string, string> = {}) {
  const map = new Map(Object.entries(initial));
  const writes: [string, string][] = [];
  return {
    map,
    writes,
    getItem: (k: string) => map.get(k) ?? null,
    setItem: (k: string, v: string) => {
      writes.push([k, v]);
      map.set(k, v);
    },
  };
}

describe('CursorStore', () => {
  it('keeps the last cursor in memory when there is no storage', () => {
    const c = new CursorStore({ storage: null, storageKey: null, device: 'phone' }, null);
    c.load(jwt('alice'));
    expect(c.current).toBeNull();
    c.set('c1');
    c.save('c1');
    expect(c.current).toBe('c1');
  });

  it("reads the stored cursor once, under the token's client and the device, and writes only changes", () => {
    const storage = memoryStorage({ 'herald:cursor:alice:phone': 'stored' });
    const c = new CursorStore({ storage, storageKey: null, device: 'phone' }, null);
    c.save('too-early');
    expect(storage.writes).toEqual([]);
    c.load(jwt('alice'));
    expect(c.current).toBe('stored');
    c.save('stored');
    c.set('c2');
    c.save('c2');
    c.save('c2');
    c.load(jwt('bob'));
    expect(storage.writes).toEqual([['herald:cursor:alice:phone', 'c2']]);
  });

  it('lets the cursor option win over a stored one, and honours a storage key of its own', () => {
    const storage = memoryStorage({ mine: 'stored' });
    const c = new CursorStore({ storage, storageKey: 'mine', device: 'phone' }, 'given');
    c.load(jwt('alice'));
    expect(c.current).toBe('given');
    c.save('given');
    expect(storage.map.get('mine')).toBe('given');
  });

  it('falls back to memory when the storage throws (privacy mode, quota)', () => {
    const storage = {
      getItem: () => {
        throw new Error('denied');
      },
      setItem: () => {
        throw new Error('quota');
      },
    };
    const c = new CursorStore({ storage, storageKey: null, device: 'phone' }, null);
    c.load(jwt('alice'));
    c.set('c1');
    expect(() => c.save('c1')).not.toThrow();
    expect(c.current).toBe('c1');
  });
});
