import { postJson } from './http.js';
import type { ServerHandle } from './servers.js';

/**
 * One broadcast through the server's publisher API, stamped for the devices' latency and sequence
 * tracking (`data._t` the send time in ms, `data._s` its sequence number); throws unless 202.
 */
export async function postBroadcast(server: ServerHandle, message: string, at: number, seq: number): Promise<void> {
  const res = await postJson(server.port, server.kind.paths.broadcast, { title: 'Bench', message, data: { _t: at, _s: seq } }, server.kind.headers);
  if (res.status !== 202) throw new Error(`${server.kind.label}: broadcast answered ${res.status}: ${res.body}`);
}
