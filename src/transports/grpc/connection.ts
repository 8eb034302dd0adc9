import type { ServerWritableStream } from '@grpc/grpc-js';
import { codeOf, type DisconnectReason } from '../../core/disconnect.js';
import type { TransportConnection } from '../../core/session.js';
import type { SubscribeRequest } from '../../gen/herald/v1/notifications_pb.js';
import { StreamConnection } from '../teardown.js';
import { NotificationEncoder } from './encoder.js';

/** The transport's kind, in device views, stats keys and metric labels. */
export const GRPC_KIND = 'grpc';

/** A `StreamNotifications` call: its messages are bytes this transport encoded (./service.ts). */
export type NotificationCall = ServerWritableStream<SubscribeRequest, Buffer>;

/**
 * One native `StreamNotifications` call as the core sees it. Its messages come from the
 * {@link NotificationEncoder} (./encoder.ts), which the gRPC-Web/Connect stream shares.
 */
export class GrpcConnection extends StreamConnection implements TransportConnection {
  readonly kind = GRPC_KIND;
  readonly encoder: NotificationEncoder;
  readonly call: NotificationCall;
  /** Bytes handed to the call and not yet taken by HTTP/2 (flow control holds them when the peer does not read). */
  #pendingBytes = 0;
  readonly #pendingSizes: number[] = [];

  constructor(call: NotificationCall, clientId: string, connectionId: string) {
    super(call);
    this.call = call;
    this.encoder = new NotificationEncoder(clientId, connectionId);
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
    this.call.write(this.encoder.control({ type: 'close', code: codeOf(reason), reason }));
    this.call.end();
  }
}
