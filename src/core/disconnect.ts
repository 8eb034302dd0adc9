/**
 * The server's side of the close-code table. The table itself is wire protocol, shared with the
 * SDK, and lives in `protocol/close-codes.ts`; this module adds what only the server needs.
 */
export { codeOf, DISCONNECTS, type DisconnectReason, reasonOfCode } from '../protocol/close-codes.js';

import type { DisconnectReason } from '../protocol/close-codes.js';

/** Close reasons that are not decided by the server: the peer went away (socket closed/errored). */
export type CloseReason = DisconnectReason | 'gone';
