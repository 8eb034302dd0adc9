import type { CursorStorage } from './options.js';
import { tokenClaims } from './token.js';

/**
 * Where a device stands: the last cursor received (in memory: what a reconnect resumes from),
 * kept across page loads in a {@link CursorStorage} (`localStorage`, …) when one is given. The
 * storage key names the token's client (`herald:cursor:<sub>:<device>`), so it is known only
 * once the first token is, and the stored cursor is read then, once.
 */
export class CursorStore {
  readonly #storage: CursorStorage | null;
  readonly #keyOption: string | null;
  readonly #device: string;
  #cursor: string | null;
  #saved: string | null = null;
  #key: string | null = null;

  /** `initial` is the `cursor` option: it wins over a stored one. */
  constructor(opts: { storage: CursorStorage | null; storageKey: string | null; device: string }, initial: string | null) {
    this.#storage = opts.storage;
    this.#keyOption = opts.storageKey;
    this.#device = opts.device;
    this.#cursor = initial;
  }

  /** The last cursor: where a reconnect resumes (null: the server's stored cursor, or what is pending). */
  get current(): string | null {
    return this.#cursor;
  }

  /** A cursor just received (memory only; {@link save} persists one that was acknowledged). */
  set(cursor: string): void {
    this.#cursor = cursor;
  }

  /** Before the first connect: fixes the storage key from the token and reads the stored cursor, if there is no cursor yet. */
  load(token: string): void {
    if (this.#key !== null || !this.#storage) return;
    this.#key = this.#keyOption ?? `herald:cursor:${tokenClaims(token)?.sub ?? ''}:${this.#device}`;
    if (this.#cursor !== null) return;
    try {
      this.#cursor = this.#storage.getItem(this.#key);
      this.#saved = this.#cursor;
    } catch {
      // Storage may be disabled (privacy modes): memory only, then.
    }
  }

  /** Keeps `cursor` in the storage (once the key is known; a cursor already there is not written again). */
  save(cursor: string): void {
    if (!this.#storage || this.#key === null || cursor === this.#saved) return;
    try {
      this.#storage.setItem(this.#key, cursor);
      this.#saved = cursor;
    } catch {
      // Quota or privacy mode: the memory cursor still serves reconnects.
    }
  }
}
