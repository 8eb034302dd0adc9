import WebSocket from 'ws';
import type { Herald } from '../../src/server.js';
import { connectWeb, refusedWeb } from './connect.js';
import { DeviceClient, type TransportName, token } from './device-client.js';
import { connectGrpc, refusedGrpc } from './grpc.js';
import { refusedHandshake, wsUrl } from './herald.js';
import { connectSse, refusedSse } from './sse.js';

export type { TransportName };
export const TRANSPORTS: TransportName[] = ['ws', 'sse', 'grpc', 'grpc-web', 'connect'];

/**
 * The transport kind the server records for a test transport: gRPC-Web and Connect are both
 * `grpc-web` (the HTTP port's herald.v1.Notifications).
 */
export function kindOf(t: TransportName): string {
  return t === 'connect' ? 'grpc-web' : t;
}

/** A device on `GET /ws` with the `ws` package. */
export class WsDevice extends DeviceClient {
  readonly transport = 'ws' as const;
  readonly ws: WebSocket;

  constructor(ws: WebSocket) {
    super();
    this.ws = ws;
    ws.on('error', () => {});
    ws.on('message', (data) => this.receive(JSON.parse(data.toString())));
    ws.once('close', (code, reason) => this.settle({ code, reason: reason.toString() }));
  }

  send(obj: unknown): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(obj));
  }

  protected answerPing(): void {
    this.send({ type: 'pong' });
  }

  async ack(cursor?: string): Promise<void> {
    this.send(cursor ? { type: 'ack', cursor } : { type: 'pong' });
  }

  // ws keeps its socket private; pausing it is what a device that stopped reading looks like.
  get #socket(): { pause(): void; resume(): void } | undefined {
    return (this.ws as unknown as { _socket?: { pause(): void; resume(): void } })._socket;
  }

  stopReading(): void {
    this.#socket?.pause();
  }

  resumeReading(): void {
    this.#socket?.resume();
  }

  close(): void {
    this.ws.close();
  }

  protected async dispose(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    this.ws.terminate();
    await this.closed;
  }
}

export interface ConnectOptions {
  cursor?: string;
  token?: string;
}

async function connectWs(h: Herald, clientId: string, deviceId: string, opts: ConnectOptions): Promise<WsDevice> {
  const params: Record<string, string> = { device: deviceId, token: opts.token ?? (await token(clientId)) };
  if (opts.cursor) params.cursor = opts.cursor;
  const d = new WsDevice(new WebSocket(wsUrl(h, params)));
  await d.waitFor((f) => f.type === 'welcome');
  return d;
}

/** Connects a device over `transport` and waits for its welcome. */
export function connectVia(transport: TransportName, h: Herald, clientId: string, deviceId: string, opts: ConnectOptions = {}): Promise<DeviceClient> {
  switch (transport) {
    case 'ws':
      return connectWs(h, clientId, deviceId, opts);
    case 'sse':
      return connectSse(h, clientId, deviceId, opts);
    case 'grpc':
      return connectGrpc(h, clientId, deviceId, opts);
    case 'grpc-web':
    case 'connect':
      return connectWeb(transport, h, clientId, deviceId, opts);
  }
}

/** What a refusal before the stream starts looks like on each transport (PROTOCOL.md). */
const GRPC_STATUS_OF_HTTP: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  503: 'UNAVAILABLE',
};

export function refusalOf(transport: TransportName, httpStatus: number): number | string {
  return transport === 'ws' || transport === 'sse' ? httpStatus : GRPC_STATUS_OF_HTTP[httpStatus];
}

/** Tries to connect a device expected to be refused: the HTTP status, or the gRPC status name. */
export async function refusedVia(transport: TransportName, h: Herald, clientId: string, deviceId: string, opts: ConnectOptions = {}): Promise<number | string> {
  const tok = opts.token ?? (await token(clientId));
  switch (transport) {
    case 'ws': {
      const params: Record<string, string> = { device: deviceId, token: tok };
      if (opts.cursor) params.cursor = opts.cursor;
      return (await refusedHandshake(wsUrl(h, params))).status;
    }
    case 'sse': {
      const params: Record<string, string> = { device: deviceId, token: tok };
      if (opts.cursor) params.cursor = opts.cursor;
      return (await refusedSse(h, params)).status;
    }
    case 'grpc':
      return refusedGrpc(h, clientId, deviceId, { ...opts, token: tok });
    case 'grpc-web':
    case 'connect':
      return refusedWeb(transport, h, clientId, deviceId, { ...opts, token: tok });
  }
}
