import type { HeraldConfig } from '../core/config.js';

/**
 * How long an ended stream's last bytes get to leave before it is destroyed: about one pong
 * timeout, within [1 s, 10 s]. Long enough for a close frame behind a full socket buffer; short
 * enough that a peer that stopped reading cannot hold a socket, or the shutdown, for long.
 */
export function closeLingerMs(config: Pick<HeraldConfig, 'HEARTBEAT_TIMEOUT_MS'>): number {
  return Math.min(10_000, Math.max(1000, config.HEARTBEAT_TIMEOUT_MS));
}
