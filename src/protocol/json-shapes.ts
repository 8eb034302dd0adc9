/**
 * The JSON bodies of the HTTP API that both sides type (PROTOCOL.md "Publisher API", "JSON
 * shapes"): the server reads and writes them from these types (`core/types.ts` names them for the
 * core) and `herald/publisher` sends and reads them, so the two cannot drift. The frames of a
 * device stream are in frames.ts. Fields a newer server adds pass through a reader untouched.
 */

/** Web Push `Urgency` for devices reached by push. */
export type Priority = 'very-low' | 'low' | 'normal' | 'high';

/** The body of a publish: to a client, one of its devices, or everyone. */
export interface PublishBody {
  title: string;
  message: string;
  /** The publishing service's name, shown to devices. @default 'default' (server side) */
  service?: string;
  /** Any JSON. */
  data?: unknown;
  /**
   * The idempotency key (1–128 of `A-Z a-z 0-9 . _ : - @`): the same key within retention is the
   * same notification, never a second one. @default a UUIDv7 the SDK generates per call
   */
  id?: string;
  /** Delivered live as usual, but not replayed once older than this; 0 = live only. */
  ttlMs?: number;
  /** Web Push `Urgency` for devices reached by push. */
  priority?: Priority;
  /** Replaces the client's previous inbox item with this key (1–128 of `A-Z a-z 0-9 . _ - @`). */
  collapseKey?: string;
  /** Devices that get no frame and no push for it (it is still in their inbox listing). */
  excludeDevices?: string[];
}

/** The answer to a publish: `202 {id, cursor, delivered, stored}`. */
export interface PublishResult {
  /** The notification's id: the idempotency key it was published with. */
  id: string;
  /** Everything up to this notification in its stream. */
  cursor: string;
  /** Devices it was handed to at once (0 for a repeat of a key already published). */
  delivered: number;
  /** Whether it was kept for replay (false for `ttlMs: 0`). */
  stored: boolean;
}

/** One device of `GET /api/v1/clients/<c>`, attached or detached. */
export interface DeviceView {
  deviceId: string;
  /** `<client>:<device>`. */
  connectionId: string;
  /** The transport of its (last) stream. */
  transport: 'ws' | 'sse' | 'grpc' | (string & {});
  state: 'attached' | 'detached';
  /** The node holding its stream, or that held it last. */
  node: string;
  /** Milliseconds since the epoch, like every time here. */
  connectedAt: number;
  lastHeartbeatAt: number | null;
  lastNotificationAt: number | null;
  notificationCount: number;
  /** Last heartbeat round trip in ms. */
  rttMs: number | null;
}

/**
 * `GET /api/v1/clients/<c>`: a client with no devices is `online: false, devices: []`. `D` is the
 * device as a reader sees it (the publisher SDK's adds the API's `push`).
 */
export interface ClientView<D extends DeviceView = DeviceView> {
  clientId: string;
  online: boolean;
  /** Per client, increasing: the same epoch as the presence webhooks'. */
  epoch: number;
  devices: D[];
}
