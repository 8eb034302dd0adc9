/**
 * The close-code table, shared by the server and the client SDK (PROTOCOL.md "Close codes").
 * `reconnect` says whether a client should try again on its own.
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

export type DisconnectReason = keyof typeof DISCONNECTS;

/** Close reasons that are not decided by the server: the peer went away (socket closed/errored). */
export type CloseReason = DisconnectReason | 'gone';

const BY_CODE = new Map<number, DisconnectReason>(Object.entries(DISCONNECTS).map(([name, d]) => [d.code, name as DisconnectReason]));

export function reasonOfCode(code: number): DisconnectReason | undefined {
  return BY_CODE.get(code);
}

export function codeOf(reason: DisconnectReason): number {
  return DISCONNECTS[reason].code;
}
