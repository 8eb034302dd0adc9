/** What the SDK reads from a device JWT without verifying it: whom it names and when it ends. */
export interface TokenClaims {
  sub?: string;
  /** Seconds since the epoch. */
  exp?: number;
}

/** Decodes a JWT's payload (no verification: the server does that). Null when it is not a JWT. */
export function tokenClaims(token: string): TokenClaims | null {
  const part = token.split('.')[1];
  if (!part) return null;
  try {
    const b64 = part.replace(/-/g, '+').replace(/_/g, '/');
    const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
    const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes)) as unknown;
    return typeof claims === 'object' && claims !== null ? (claims as TokenClaims) : null;
  } catch {
    // Not a JWT the SDK can read (an opaque token): the server alone judges it.
    return null;
  }
}

/** The server accepts a token up to this long after its `exp` (PROTOCOL.md "JWT"). */
export const SERVER_CLOCK_SKEW_MS = 30_000;
