import { type ControlFrame, type Encoder, eventJson, type Outgoing } from '../../core/frames.js';
import { inboxEvent } from '../../core/inbox.js';
import type { InboxCounts } from '../../core/types.js';
import { concatWithAsciiField, encodeFields } from './protobuf.js';

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
  unseen: 17,
  unread: 18,
  replaces: 19,
} as const;

/** The encoder's name: its cache key on an Outgoing, shared by every stream of `herald.v1.Notification`s. */
const NAME = 'grpc';

/** The fields every device shares for one notification; cached on the Outgoing. */
function sharedNotification(out: Outgoing): Buffer {
  let shared = out.cache[NAME] as Buffer | undefined;
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
      [F.replaces, n.replaces],
    ]);
    out.cache[NAME] = shared;
  }
  return shared;
}

/** The fields every device shares for one inbox event: its type and the item it is about; cached on the Outgoing. */
function sharedEvent(out: Outgoing): Buffer {
  const key = `${NAME}.event`;
  let shared = out.cache[key] as Buffer | undefined;
  if (shared === undefined) {
    const e = inboxEvent(out.n);
    if (e === null) throw new Error(`stream entry ${out.n.id} is not an inbox event`);
    shared = encodeFields([
      [F.type, e.kind],
      [F.id, e.kind === 'state' ? '' : e.event.id],
    ]);
    out.cache[key] = shared;
  }
  return shared;
}

/**
 * `herald.v1.Notification` messages of one stream, encoded by hand (./protobuf.ts): a
 * notification is its shared bytes (encoded once for every device it goes to), then this
 * stream's fixed fields (`connection_id`, `client_id`), then the device's cursor. The native gRPC
 * stream and the gRPC-Web/Connect one send the same bytes.
 */
export class NotificationEncoder implements Encoder {
  readonly name = NAME;
  readonly connectionId: string;
  readonly #fixed: Buffer;

  constructor(clientId: string, connectionId: string) {
    this.connectionId = connectionId;
    this.#fixed = encodeFields([
      [F.connection_id, connectionId],
      [F.client_id, clientId],
    ]);
  }

  notification(out: Outgoing, _clientId: string, cursor: string): Buffer {
    return concatWithAsciiField(sharedNotification(out), this.#fixed, F.cursor, cursor);
  }

  /**
   * An inbox event (`state`, `update`, `delete`): `data` is the WebSocket frame's JSON for this
   * device (core/frames.ts `eventJson`, its head shared), `cursor` the device's; a `state` event
   * also carries the device's counts as fields.
   */
  event(out: Outgoing, clientId: string, cursor: string, counts: InboxCounts | null): Buffer {
    const own = encodeFields([
      [F.cursor, cursor],
      [F.data, eventJson(out, clientId, cursor, counts)],
      [F.unseen, counts?.unseen],
      [F.unread, counts?.unread],
    ]);
    return Buffer.concat([sharedEvent(out), this.#fixed, own]);
  }

  control(frame: ControlFrame): Buffer {
    return encodeFields([[F.type, frame.type === 'ping' ? 'heartbeat' : frame.type], [F.connection_id, this.connectionId], ...controlFields(frame)]);
  }
}

/** The fields of a control message after its type and connection id. */
function controlFields(frame: ControlFrame): [number, string | number | boolean | null | undefined][] {
  switch (frame.type) {
    case 'welcome': {
      return [
        [F.cursor, frame.cursor],
        [F.resumed, frame.resumed],
        [F.pending, frame.pending],
        [F.unseen, frame.unseen],
        [F.unread, frame.unread],
        // The proto has no heartbeat fields; the settings travel as JSON in `data`.
        [F.data, JSON.stringify({ heartbeat: frame.heartbeat })],
      ];
    }
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
