import type { WebSocket } from 'ws';
import type { ServerId } from '../servers/kinds.js';

/**
 * How a bench device speaks to each server. All three run over the same `ws` client with the same
 * cheap byte checks, so the load generator costs the same per message whoever it drives (on two
 * cores its CPU is taken from the server under test). Socket.IO's protocol is spoken directly
 * (Engine.IO v4 over WebSocket: `0{…}` open, `40{auth}` connect, `2`/`3` ping/pong, `42[…]` events);
 * socket.io-client would add its own per-socket cost to one server only.
 */
export interface DeviceProtocol {
  url(port: number, clientId: string, token: string | null): string;
  /** Ready when the socket opens (otherwise on a frame that {@link control} reports as 'ready'). */
  readyOnOpen: boolean;
  needsToken: boolean;
  /** A frame that is not a notification: answers heartbeats; says when the stream is ready or refused. */
  control(ws: WebSocket, data: Buffer, clientId: string): 'ready' | 'refused' | 'ping' | null;
}

const HERALD_WELCOME = Buffer.from('{"type":"welcome"');
const APP_PING = Buffer.from('{"type":"ping"');
const APP_PONG = '{"type":"pong"}';

function startsWith(data: Buffer, prefix: Buffer): boolean {
  return data.length >= prefix.length && data.compare(prefix, 0, prefix.length, 0, prefix.length) === 0;
}

const herald: DeviceProtocol = {
  url: (port, _clientId, token) => `ws://127.0.0.1:${port}/ws?device=d&token=${token}`,
  readyOnOpen: false,
  needsToken: true,
  control(ws, data) {
    if (startsWith(data, APP_PING)) {
      ws.send(APP_PONG);
      return 'ping';
    }
    return startsWith(data, HERALD_WELCOME) ? 'ready' : null;
  },
};

const rawWs: DeviceProtocol = {
  url: (port, clientId) => `ws://127.0.0.1:${port}/?user=${clientId}`,
  readyOnOpen: true,
  needsToken: false,
  control(ws, data) {
    if (startsWith(data, APP_PING)) {
      ws.send(APP_PONG);
      return 'ping';
    }
    return null;
  },
};

const C0 = 0x30;
const C2 = 0x32;
const C4 = 0x34;

const socketio: DeviceProtocol = {
  url: (port) => `ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`,
  readyOnOpen: false,
  needsToken: false,
  control(ws, data, clientId) {
    const t = data[0];
    if (t === C2 && data.length === 1) {
      ws.send('3');
      return 'ping';
    }
    if (t === C0) {
      ws.send(`40${JSON.stringify({ user: clientId })}`);
      return null;
    }
    if (t === C4 && data[1] === C0) return 'ready';
    if (t === C4 && data[1] === C4) return 'refused';
    return null;
  },
};

export const PROTOCOLS: Record<ServerId, DeviceProtocol> = { herald, ws: rawWs, socketio };

const T_MARK = Buffer.from('"_t":');
const S_MARK = Buffer.from('"_s":');

/**
 * The bench stamp of a notification frame: `data._t` (publish time, ms) and `data._s` (sequence).
 * Found with a native byte search rather than parsing the frame, whatever its envelope.
 */
export function readStamp(data: Buffer): { t: number; s: number } | null {
  const i = data.indexOf(T_MARK);
  if (i < 0) return null;
  const t = readNumber(data, i + T_MARK.length);
  const j = data.indexOf(S_MARK, i);
  const s = j < 0 ? -1 : readNumber(data, j + S_MARK.length);
  return { t, s };
}

function readNumber(data: Buffer, from: number): number {
  let end = from;
  while (end < data.length) {
    const c = data[end];
    // digits, '.', '-', '+', 'e'
    if ((c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x2d || c === 0x2b || c === 0x65) end++;
    else break;
  }
  return Number(data.toString('latin1', from, end));
}
