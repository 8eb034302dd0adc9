/**
 * Whether a browser origin may use the device endpoints (PROTOCOL.md "CORS/Origin"). A request
 * without an Origin header is not from a browser page and is not this check's business. Shared by
 * the HTTP API's CORS hook and the device handshake, so `/ws`, `/sse` and `/me/...` agree.
 */
export function originAllowed(origin: string | undefined, allowed: string[] | '*'): boolean {
  return origin === undefined || allowed === '*' || allowed.includes(origin);
}
