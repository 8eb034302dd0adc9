import type { ServerId } from '../servers/kinds.js';

/**
 * How a bench device speaks to each server. All three run over the same `ws` client with the same
 * cheap byte checks, so the load generator costs the same per message whoever it drives (on two
 * cores its CPU is taken from the server under test). Socket.IO's protocol is spoken directly
 * (Engine.IO v4 over WebSocket: `0{…}` open, `40{auth}` connect, `2`/`3` ping/pong, `42[…]` events);
 * socket.io-client would add its own per-socket cost to one server only.
 */
/** Where a protocol answers heartbeats: a WebSocket, or a stand-in for the other transports. */
export interface Sender {
  send(text: string): void;
}

/** What a protocol may know of the device it speaks for (Socket.IO's recovery state). */
export interface DeviceState {
  clientId: string;
  /** Socket.IO connection-state recovery: the session's private id and the last offset received. */
  sioPid?: string | null;
  sioOffset?: string | null;
}

export interface DeviceProtocol {
  /** `cursor`: resume from it (Herald). */
  url(port: number, clientId: string, token: string | null, cursor?: string | null): string;
  /** Ready when the socket opens (otherwise on a frame that {@link control} reports as 'ready'). */
  readyOnOpen: boolean;
  needsToken: boolean;
  /** A frame that is not a notification: answers heartbeats; says when the stream is ready or refused. */
  control(ws: Sender, data: Buffer, device: DeviceState): 'ready' | 'refused' | 'ping' | null;
}

const HERALD_WELCOME = Buffer.from('{"type":"welcome"');
const APP_PING = Buffer.from('{"type":"ping"');
const APP_PONG = '{"type":"pong"}';

function startsWith(data: Buffer, prefix: Buffer): boolean {
  return data.length >= prefix.length && data.compare(prefix, 0, prefix.length, 0, prefix.length) === 0;
}

const herald: DeviceProtocol = {
  url: (port, _clientId, token, cursor) => `ws://127.0.0.1:${port}/ws?device=d&token=${token}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
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
  control(ws, data, device) {
    const t = data[0];
    if (t === C2 && data.length === 1) {
      ws.send('3');
      return 'ping';
    }
    if (t === C0) {
      // With a previous session, socket.io-client sends its pid and last offset: the server restores it.
      const auth = device.sioPid ? { user: device.clientId, pid: device.sioPid, offset: device.sioOffset } : { user: device.clientId };
      ws.send(`40${JSON.stringify(auth)}`);
      return null;
    }
    if (t === C4 && data[1] === C0) return 'ready';
    if (t === C4 && data[1] === C4) return 'refused';
    return null;
  },
};

const SSE_WELCOME = Buffer.from('event: welcome');
const SSE_REFUSED = Buffer.from('event: close');

/** SSE (Herald's `/sse` and the node:http baseline): ready on the welcome event; pings need no answer without `?ack=1`. */
const sse = (path: (port: number, clientId: string, token: string | null, cursor?: string | null) => string): DeviceProtocol => ({
  url: path,
  readyOnOpen: false,
  needsToken: true,
  control(_ws, data) {
    if (data.indexOf(SSE_WELCOME) >= 0) return 'ready';
    if (data.indexOf(SSE_REFUSED) >= 0) return 'refused';
    return null;
  },
});

const heraldSse = sse(
  (port, _c, token, cursor) => `http://127.0.0.1:${port}/sse?device=d&token=${token}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
);
const nodeSse = sse((port, clientId) => `http://127.0.0.1:${port}/sse?user=${clientId}`);

/** gRPC `Notification` messages, raw: field 7 (`type`) is a length-delimited string, tag 0x3a. */
const GRPC_WELCOME = Buffer.from([0x3a, 7, ...Buffer.from('welcome')]);
const GRPC_HEARTBEAT = Buffer.from([0x3a, 9, ...Buffer.from('heartbeat')]);
const GRPC_CLOSE = Buffer.from([0x3a, 5, ...Buffer.from('close')]);

/** gRPC StreamNotifications: ready on `welcome`; a `heartbeat` is answered with the Ack RPC (the sender's `send('ack')`). */
const heraldGrpc: DeviceProtocol = {
  url: () => '',
  readyOnOpen: false,
  needsToken: true,
  control(ws, data) {
    if (data.indexOf(GRPC_HEARTBEAT) >= 0) {
      ws.send('ack');
      return 'ping';
    }
    if (data.indexOf(GRPC_WELCOME) >= 0) return 'ready';
    if (data.indexOf(GRPC_CLOSE) >= 0) return 'refused';
    return null;
  },
};

export const PROTOCOLS: Record<ServerId, DeviceProtocol> = {
  herald,
  ws: rawWs,
  socketio,
  'herald-sse': heraldSse,
  'herald-grpc': heraldGrpc,
  // The same Notification messages, framed by gRPC-Web.
  'herald-grpc-web': heraldGrpc,
  'sse-node': { ...nodeSse, needsToken: false },
  'herald-redis': herald,
  'socketio-recovery': socketio,
  'herald-cluster': herald,
  'socketio-cluster': socketio,
  'herald-postgres': herald,
};

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
