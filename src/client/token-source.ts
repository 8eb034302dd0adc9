import { SERVER_CLOCK_SKEW_MS, tokenClaims } from './token.js';

/** Returns a fresh device JWT (the `getToken` option). */
export type GetToken = () => string | Promise<string>;

/**
 * The device token a connection presents: a static `token`, or `getToken`'s, fetched when there is
 * none yet, after the server refused or expired the current one ({@link markStale}), and once the
 * current one's `exp` has passed — so a reconnect never offers a token known to be dead.
 */
export class TokenSource {
  readonly #get: GetToken | null;
  #token: string | null;
  #stale = false;

  constructor(token: string | null, getToken: GetToken | null) {
    this.#token = token;
    this.#get = getToken;
  }

  /** Whether a refused or expiring token can be replaced (`getToken` was given). */
  get refreshable(): boolean {
    return this.#get !== null;
  }

  /** The token last handed out (null while `getToken` was never called). */
  get last(): string | null {
    return this.#token;
  }

  /** The token to use now; rejects when `getToken` fails or returns no token. */
  async current(): Promise<string> {
    const get = this.#get;
    if (get) {
      const exp = this.#token === null ? undefined : tokenClaims(this.#token)?.exp;
      const expired = typeof exp === 'number' && exp * 1000 <= Date.now();
      if (this.#token === null || this.#stale || expired) {
        const fresh = await get();
        if (typeof fresh !== 'string' || fresh === '') throw new TypeError('getToken returned no token');
        this.#token = fresh;
        this.#stale = false;
      }
    }
    return this.#token as string;
  }

  /** The server refused the token (1008, 401) or said it expires: the next {@link current} asks `getToken`. */
  markStale(): void {
    this.#stale = true;
  }

  /** A static token the server would refuse (its `exp` plus the server's clock skew has passed): connecting is pointless. */
  deadForGood(token: string, now = Date.now()): boolean {
    const exp = tokenClaims(token)?.exp;
    return !this.#get && typeof exp === 'number' && exp * 1000 + SERVER_CLOCK_SKEW_MS <= now;
  }
}
