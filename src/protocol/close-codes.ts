/**
 * The close-code table (PROTOCOL.md "Close codes"), shared by the server and the client SDK:
 * the server closes with these codes (WebSocket close, SSE `event: close`, gRPC `close` message),
 * and the SDK decides from `reconnect` whether to try again on its own.
 */
export const DISCONNECTS = {
  normal: { code: 1000, reconnect: false },
  unauthorized: { code: 1008, reconnect: true },
  restart: { code: 1012, reconnect: true },
  full: { code: 1013, reconnect: true },
  replaced: { code: 4002, reconnect: false },
  removed: { code: 4003, reconnect: false },
  zombie: { code: 4004, reconnect: true },
  'client-limit': { code: 4008, reconnect: false },
  'slow-consumer': { code: 4009, reconnect: true },
  idle: { code: 4010, reconnect: true },
  'bad-frame': { code: 4400, reconnect: false },
} as const;

/** A close name of the table: the `reason` of a close and the label of `herald_disconnects_total`. */
export type DisconnectReason = keyof typeof DISCONNECTS;

const BY_CODE = new Map<number, DisconnectReason>(Object.entries(DISCONNECTS).map(([name, d]) => [d.code, name as DisconnectReason]));

/** The close name of a code, or undefined for a code not in the table (1006, a proxy's own, …). */
export function reasonOfCode(code: number): DisconnectReason | undefined {
  return BY_CODE.get(code);
}

/** The code a close name is sent with. */
export function codeOf(reason: DisconnectReason): number {
  return DISCONNECTS[reason].code;
}
