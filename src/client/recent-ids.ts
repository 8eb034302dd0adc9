/**
 * A bounded set of the most recent notification ids: a resume may hand over again what arrived
 * just before a connection broke, and the application should see each notification once. The
 * oldest id is forgotten when the set is full (a Set iterates in insertion order).
 */
export class RecentIds {
  readonly #ids = new Set<string>();
  readonly #max: number;

  /** @param max how many ids to remember @default 2048 */
  constructor(max = 2048) {
    this.#max = Math.max(1, Math.floor(max));
  }

  /** Records `id`; false when it was already there (a duplicate). */
  add(id: string): boolean {
    if (this.#ids.has(id)) return false;
    this.#ids.add(id);
    if (this.#ids.size > this.#max) {
      const oldest = this.#ids.values().next().value as string;
      this.#ids.delete(oldest);
    }
    return true;
  }

  has(id: string): boolean {
    return this.#ids.has(id);
  }

  get size(): number {
    return this.#ids.size;
  }
}
