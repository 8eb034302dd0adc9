import type { ServerWritableStream } from '@grpc/grpc-js';
import { codeOf, type DisconnectReason } from '../../core/disconnect.js';
import type { ControlFrame, Encoder, Outgoing } from '../../core/frames.js';
import type { TransportConnection } from '../../core/session.js';
import { StreamConnection } from '../teardown.js';
import type { SubscribeRequest__Output } from './gen/herald/v1/SubscribeRequest.js';
import { concatWithAsciiField, encodeFields, type Field } from './protobuf.js';

/** Field numbers of `herald.v1.Notification` (proto/herald/v1/notifications.proto). */
const F = {
  id: 1,
  connection_id: 2,
  title: 3,
  message: 4,
  service_name: 5,
  timestamp: 6,
  type: 7,
  cursor: 8,
  data: 9,
  client_id: 10,
  device_id: 11,
  resumed: 12,
  pending: 13,
  reconnect_after_ms: 14,
  code: 15,
  reason: 16,
} as const;

/** The transport's kind, in device views, stats keys and metric labels. */
export const GRPC_KIND = 'grpc';

/** A `StreamNotifications` call: its messages are bytes this transport encoded (./service.ts). */
export type NotificationCall = ServerWritableStream<SubscribeRequest__Output, Buffer>;

/** The fields every device shares for one notification; cached on the Outgoing. */
function sharedNotification(out: Outgoing): Buffer {
  let shared = out.cache.grpc as Buffer | undefined;
  if (shared === undefined) {
    const n = out.n;
    shared = encodeFields([
      [F.type, 'notification'],
      [F.id, n.id],
      [F.title, n.title],
      [F.message, n.message],
      [F.service_name, n.service],
      [F.timestamp, n.ts],
      [F.data, n.data === null || n.data === undefined ? '' : JSON.stringify(n.data)],
      [F.device_id, n.deviceId],
    ]);
    out.cache.grpc = shared;
  }
  return shared;
}

/** The fields of a control message after its `type` and `connection_id`. */
function controlFields(frame: ControlFrame): Field[] {
  switch (frame.type) {
    case 'welcome':
      // The proto has no heartbeat fields; the settings travel as JSON in `data`.
      return [
        [F.cursor, frame.cursor],
        [F.resumed, frame.resumed],
        [F.pending, frame.pending],
        [F.data, JSON.stringify({ heartbeat: frame.heartbeat })],
      ];
    case 'ping':
    case 'pong':
      return [[F.timestamp, frame.ts]];
    case 'shutdown':
      return [[F.reconnect_after_ms, frame.reconnectAfterMs]];
    case 'token-expired':
      return [[F.data, JSON.stringify({ graceMs: frame.graceMs })]];
    case 'close':
      return [
        [F.code, frame.code],
        [F.reason, frame.reason],
      ];
  }
}

/**
 * One `StreamNotifications` call as the core sees it, and its encoder: a message is the
 * notification's shared bytes, then this connection's fixed fields (`connection_id`, `client_id`),
 * then the device's cursor.
 */
export class GrpcConnection extends StreamConnection implements TransportConnection, Encoder {
  readonly kind = GRPC_KIND;
  readonly name = GRPC_KIND;
  readonly encoder: Encoder = this;
  readonly call: NotificationCall;
  readonly connectionId: string;
  readonly #fixed: Buffer;
  /** Bytes handed to the call and not yet taken by HTTP/2 (flow control holds them when the peer does not read). */
  #pendingBytes = 0;
  readonly #pendingSizes: number[] = [];

  constructor(call: NotificationCall, clientId: string, connectionId: string) {
    super(call);
    this.call = call;
    this.connectionId = connectionId;
    this.#fixed = encodeFields([
      [F.connection_id, connectionId],
      [F.client_id, clientId],
    ]);
  }

  notification(out: Outgoing, _clientId: string, cursor: string): Buffer {
    return concatWithAsciiField(sharedNotification(out), this.#fixed, F.cursor, cursor);
  }

  /** A control message: its `type` (`heartbeat` for a ping) and the connection's id, then the frame's own fields. */
  control(frame: ControlFrame): Buffer {
    return encodeFields([[F.type, frame.type === 'ping' ? 'heartbeat' : frame.type], [F.connection_id, this.connectionId], ...controlFields(frame)]);
  }

  /**
   * One call.write per message (gRPC frames each message itself); HTTP/2 sends what one
   * event-loop turn wrote in one go.
   */
  write(frames: Buffer[]): void {
    if (this.call.cancelled || this.call.writableEnded) return;
    for (const f of frames) {
      this.#pendingBytes += f.length;
      this.#pendingSizes.push(f.length);
      this.call.write(f, this.#written);
    }
  }

  /** Write callbacks come in order: each releases the oldest pending message. */
  readonly #written = (): void => {
    this.#pendingBytes -= this.#pendingSizes.shift() ?? 0;
  };

  /** What HTTP/2 has not taken yet: the call's own buffer empties long before flow control lets go. */
  override bufferedBytes(): number {
    return this.#pendingBytes;
  }

  /** The call was cancelled: nothing to send, and grpc-js already let go of it. */
  protected override destroy(): void {}

  /** The final `close` message, then status OK; the server's shutdown grace covers the rest. */
  protected override close(reason: DisconnectReason): void {
    if (this.call.cancelled || this.call.writableEnded) return;
    this.call.write(this.control({ type: 'close', code: codeOf(reason), reason }));
    this.call.end();
  }
}
