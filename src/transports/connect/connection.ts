import { create, fromBinary } from '@bufbuild/protobuf';
import { WireType } from '@bufbuild/protobuf/wire';
import { codeOf, type DisconnectReason } from '../../core/disconnect.js';
import type { TransportConnection } from '../../core/session.js';
import { type Notification, NotificationSchema } from '../../gen/herald/v1/notifications_pb.js';
import { NotificationEncoder } from '../grpc/encoder.js';
import { type Linger, StreamConnection } from '../teardown.js';

/** The kind of a stream on the HTTP port, over gRPC-Web or Connect: in device views, stats keys and metric labels. */
export const GRPC_WEB_KIND = 'grpc-web';

/** Above this many queued bytes the session waits for the stream to take them ('drain'). */
const HIGH_WATER = 64 * 1024;

/** The queue a stream's response reads from: bytes not yet taken, for backpressure. */
class MessageQueue {
  readonly items: Buffer[] = [];
  bytes = 0;
  get writableLength(): number {
    return this.bytes;
  }
  get writableNeedDrain(): boolean {
    return this.bytes >= HIGH_WATER;
  }
}

/**
 * One `StreamNotifications` call on the HTTP port (gRPC-Web or Connect) as the core sees it. The
 * session writes the same `herald.v1.Notification` bytes as on the native gRPC port
 * ({@link NotificationEncoder}); the call's response reads them from a queue through
 * {@link messages}, at the pace the peer takes them (Connect writes the next message once the
 * previous one left), so a peer that stops reading fills the queue and is closed as a slow consumer.
 */
export class ConnectConnection extends StreamConnection implements TransportConnection {
  readonly kind = GRPC_WEB_KIND;
  readonly encoder: NotificationEncoder;
  readonly #queue: MessageQueue;
  readonly #linger: Linger<ConnectConnection>;
  readonly #abort: () => void;
  #done = false;
  #wake: (() => void) | null = null;

  /**
   * `linger` holds a stream that was closed gracefully until its last messages left; `abort`
   * drops the HTTP stream under the call (the peer stopped reading: it never will).
   */
  constructor(clientId: string, connectionId: string, linger: Linger<ConnectConnection>, abort: () => void) {
    const queue = new MessageQueue();
    super(queue);
    this.#queue = queue;
    this.#linger = linger;
    this.#abort = abort;
    this.encoder = new NotificationEncoder(clientId, connectionId);
  }

  /** The linger time ran out (or shutdown ended): the HTTP stream is dropped with what is left. */
  abort(): void {
    this.destroy();
    this.#abort();
  }

  write(frames: Buffer[]): void {
    if (this.#done) return;
    for (const f of frames) {
      this.#queue.items.push(f);
      this.#queue.bytes += f.length;
    }
    this.#notify();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  /**
   * The response's messages, until the stream ends. For a binary call each carries the encoder's
   * bytes as they are ({@link passThrough}); for a JSON call (`connect+json`, `grpc-web+json`) it
   * is decoded for Connect to write as JSON.
   */
  async *messages(binary: boolean): AsyncGenerator<Notification> {
    const q = this.#queue;
    for (;;) {
      const bytes = q.items.shift();
      if (bytes === undefined) {
        if (this.#done) {
          this.#linger.finished(this);
          return;
        }
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
        continue;
      }
      const wasFull = q.writableNeedDrain;
      q.bytes -= bytes.length;
      if (wasFull && !q.writableNeedDrain) this.session?.drained();
      yield binary ? passThrough(bytes) : fromBinary(NotificationSchema, bytes);
    }
  }

  /** The peer is gone: nothing more is sent, the response ends. */
  protected override destroy(): void {
    this.#queue.items.length = 0;
    this.#queue.bytes = 0;
    this.#done = true;
    this.#notify();
  }

  /** The final `close` message, then the call ends OK (gRPC-Web trailers, Connect's end of stream). */
  protected override close(reason: DisconnectReason): void {
    this.write([this.encoder.control({ type: 'close', code: codeOf(reason), reason })]);
    this.#done = true;
    this.#linger.add(this);
    this.#notify();
  }
}

/** The tag of `Notification.type` (field 7, length-delimited): every message of the encoder starts with it. */
const TYPE_TAG = (7 << 3) | WireType.LengthDelimited;

/**
 * A Notification that Connect's binary serializer writes as exactly `bytes`, without decoding and
 * encoding each device's copy: the bytes go in as one unknown field (protobuf-es writes unknown
 * fields verbatim, after the known ones, of which this message has none set). The encoder's
 * messages all start with the `type` field, whose tag the serializer writes back in front.
 */
export function passThrough(bytes: Buffer): Notification {
  if (bytes[0] !== TYPE_TAG) return fromBinary(NotificationSchema, bytes);
  const m = create(NotificationSchema);
  m.$unknown = [{ no: 7, wireType: WireType.LengthDelimited, data: bytes.subarray(1) }];
  return m;
}
