import type { MessageInitShape } from '@bufbuild/protobuf';
import { type Auth, bearer, type DeviceIdentity } from '../../auth/auth.js';
import { HeraldError, invalid } from '../../core/errors.js';
import { checkId, connectionIdOf, parseConnectionId } from '../../core/ids.js';
import type { HeraldNode } from '../../core/node.js';
import { parsePublishInput } from '../../core/publish-input.js';
import type { Session, TransportConnection, TransportKind } from '../../core/session.js';
import { statsSnapshot } from '../../core/stats.js';
import type { InboxFilter, InboxItem, PublishInput, StateChange, Target } from '../../core/types.js';
import type {
  AckRequest,
  AddConnectionRequest,
  BroadcastRequest,
  ConnectionResponseSchema,
  InboxItemSchema,
  ListNotificationsRequest,
  ListNotificationsResponseSchema,
  PublishResponseSchema,
  RemoveConnectionRequest,
  RemoveConnectionResponseSchema,
  SendNotificationRequest,
  SetStateRequest,
  SetStateResponseSchema,
  StatsSchema,
  SubscribeRequest,
} from '../../gen/herald/v1/notifications_pb.js';

/** Names of the publish input as the proto spells them, for INVALID_ARGUMENT messages. */
const PROTO_FIELD: Record<string, string> = { service: 'service_name', ttlMs: 'ttl_ms' };

/** A page when the request leaves `limit` at 0 (PROTOCOL.md: `limit` defaults to 20). */
const DEFAULT_PAGE = 20;

/** A stream connection as {@link NotificationsRules.stream} attaches it: the transport's, with its session slot. */
export interface StreamConnectionHandle extends TransportConnection {
  session: Session | null;
}

/** The answers, as plain initialisers of the generated messages (each wire serialises them its way). */
export type ConnectionAnswer = MessageInitShape<typeof ConnectionResponseSchema>;
export type RemoveAnswer = MessageInitShape<typeof RemoveConnectionResponseSchema>;
export type PublishAnswer = MessageInitShape<typeof PublishResponseSchema>;
export type StatsAnswer = MessageInitShape<typeof StatsSchema>;
export type ListAnswer = MessageInitShape<typeof ListNotificationsResponseSchema>;
export type SetStateAnswer = MessageInitShape<typeof SetStateResponseSchema>;

/**
 * `herald.v1.Notifications`' rules, once, whatever wire a call came on: auth, ids, limits, the
 * stream's start, publishing, the inbox. The native gRPC server (./server.ts) and the gRPC-Web and
 * Connect handlers on the HTTP port (../connect/) each decode their wire into the generated
 * messages, hand them here with the call's `authorization` header, and map what is thrown (a
 * HeraldError, or anything else as INTERNAL) with their own status mapping.
 *
 * Device RPCs take the device JWT, publisher RPCs the API key, RemoveConnection either
 * (PROTOCOL.md "gRPC").
 */
export class NotificationsRules {
  readonly #node: HeraldNode;
  readonly #auth: Auth;
  /** The transport kind a registration made here is recorded with ('grpc', 'grpc-web'). */
  readonly kind: TransportKind;

  constructor(node: HeraldNode, auth: Auth, kind: TransportKind) {
    this.#node = node;
    this.#auth = auth;
    this.kind = kind;
  }

  // ---- auth ----

  #device(authorization: string | undefined): Promise<DeviceIdentity> {
    return this.#auth.verifyDevice(bearer(authorization));
  }

  #publisher(authorization: string | undefined): void {
    if (!this.#auth.checkApiKey(authorization)) throw new HeraldError('HERALD_ERR_UNAUTHORIZED', 'missing or wrong API key');
  }

  #sameClient(identity: DeviceIdentity, clientId: string): void {
    if (identity.clientId !== clientId) throw new HeraldError('HERALD_ERR_FORBIDDEN', `the token is for client ${identity.clientId}, not ${clientId}`);
  }

  #running(): void {
    if (this.#node.state !== 'running') throw new HeraldError('HERALD_ERR_DRAINING', 'node is draining; connect to another node');
  }

  /** A connection id of the token's own client. */
  #ownConnection(identity: DeviceIdentity, connectionId: string): { clientId: string; deviceId: string } {
    const ids = parseConnectionId(connectionId);
    if (!ids) throw invalid('connection_id', connectionId ? 'must be <client_id>:<device_id>' : 'required');
    this.#sameClient(identity, ids.clientId);
    return ids;
  }

  // ---- device RPCs ----

  async addConnection(req: AddConnectionRequest, authorization: string | undefined): Promise<ConnectionAnswer> {
    const identity = await this.#device(authorization);
    const clientId = checkId('client_id', req.clientId);
    const deviceId = checkId('device_id', req.deviceId);
    this.#sameClient(identity, clientId);
    this.#running();
    const known = this.#node.hub.device(clientId, deviceId) !== undefined;
    const d = this.#node.hub.register(clientId, deviceId, this.kind, Date.now());
    return { success: true, connectionId: d.connectionId, message: known ? 'already registered' : 'registered' };
  }

  /**
   * Starts a `StreamNotifications` stream. Refusals before it starts are thrown (the wire answers
   * them with a status); after it, the close codes apply. `open` makes the transport's connection
   * once everything is admitted, or returns null when the peer already left.
   */
  async stream(
    req: SubscribeRequest,
    authorization: string | undefined,
    open: (clientId: string, connectionId: string) => StreamConnectionHandle | null,
  ): Promise<void> {
    const identity = await this.#device(authorization);
    const { clientId, deviceId } = this.#ownConnection(identity, req.connectionId);
    const cursor = this.#node.parseCursor(req.cursor);
    this.#running();
    if (!(await this.#registered(clientId, deviceId))) {
      throw new HeraldError('HERALD_ERR_NOT_FOUND', `unknown connection ${req.connectionId}: register it with AddConnection first`);
    }
    this.#node.hub.admit(clientId, deviceId);
    await this.#node.broker.admit?.(clientId, deviceId);
    const conn = open(clientId, connectionIdOf(clientId, deviceId));
    if (conn === null) return;
    conn.session = this.#node.connect({ clientId, deviceId, conn, cursor, tokenExpiresAt: identity.expiresAt });
  }

  /** Registered here, or (with Redis) anywhere in the cluster: a device may come back through another node. */
  async #registered(clientId: string, deviceId: string): Promise<boolean> {
    if (this.#node.hub.device(clientId, deviceId)) return true;
    return (await this.#node.clientView(clientId)).devices.some((d) => d.deviceId === deviceId);
  }

  /**
   * A heartbeat answer; with a cursor also an ack (PROTOCOL.md "Stored cursor"). It answers the
   * device's stream on either gRPC wire: a device may stream over gRPC-Web and ack natively.
   */
  async ack(req: AckRequest, authorization: string | undefined, kinds: readonly TransportKind[]): Promise<Record<string, never>> {
    const identity = await this.#device(authorization);
    const { clientId, deviceId } = this.#ownConnection(identity, req.connectionId);
    const cursor = this.#node.parseCursor(req.cursor);
    for (const kind of [this.kind, ...kinds.filter((k) => k !== this.kind)]) {
      if (await this.#node.deviceAnswer(clientId, deviceId, kind, cursor)) return {};
    }
    throw new HeraldError('HERALD_ERR_NOT_FOUND', `connection ${req.connectionId} has no gRPC stream`);
  }

  /** The backend (API key) or the device itself (its JWT, its own client only). */
  async removeConnection(req: RemoveConnectionRequest, authorization: string | undefined): Promise<RemoveAnswer> {
    const identity = this.#auth.checkApiKey(authorization) ? null : await this.#device(authorization);
    const clientId = checkId('client_id', req.clientId);
    const deviceId = checkId('device_id', req.deviceId);
    if (identity) this.#sameClient(identity, clientId);
    if (!(await this.#node.removeAnywhere(clientId, deviceId))) throw new HeraldError('HERALD_ERR_NOT_FOUND', `no device ${deviceId} of client ${clientId}`);
    return { success: true, message: `removed ${connectionIdOf(clientId, deviceId)}` };
  }

  // ---- inbox (device JWT, its own client's inbox) ----

  async listNotifications(req: ListNotificationsRequest, authorization: string | undefined): Promise<ListAnswer> {
    const identity = await this.#device(authorization);
    const { clientId, deviceId } = this.#ownConnection(identity, req.connectionId);
    const page = await this.#node.inbox.list({
      clientId,
      deviceId,
      limit: req.limit === 0 ? DEFAULT_PAGE : req.limit,
      before: req.before || null,
      filter: (req.filter || undefined) as InboxFilter | undefined,
    });
    return { items: page.items.map(inboxItem), unseen: page.unseen, unread: page.unread, next: page.next ?? '' };
  }

  async setState(req: SetStateRequest, authorization: string | undefined): Promise<SetStateAnswer> {
    const identity = await this.#device(authorization);
    const { clientId, deviceId } = this.#ownConnection(identity, req.connectionId);
    // proto3 cannot tell an empty list from none: `all` decides, and ids beside it are refused.
    const change: StateChange = { scope: deviceId, by: deviceId };
    if (req.all) {
      if (req.ids.length > 0) throw invalid('ids', 'give ids or all, not both');
      change.all = true;
    } else change.ids = req.ids;
    if (req.seen !== undefined) change.seen = req.seen;
    if (req.read !== undefined) change.read = req.read;
    if (req.archived !== undefined) change.archived = req.archived;
    const r = await this.#node.inbox.setState(clientId, change);
    return { updated: r.updated, unseen: r.unseen, unread: r.unread };
  }

  // ---- publisher RPCs ----

  async sendNotification(req: SendNotificationRequest, authorization: string | undefined): Promise<PublishAnswer> {
    this.#publisher(authorization);
    const clientId = checkId('client_id', req.clientId);
    const target: Target = req.deviceId ? { kind: 'device', clientId, deviceId: checkId('device_id', req.deviceId) } : { kind: 'client', clientId };
    return this.#publish(target, req, req.ttlMs === undefined ? undefined : Number(req.ttlMs));
  }

  async broadcast(req: BroadcastRequest, authorization: string | undefined): Promise<PublishAnswer> {
    this.#publisher(authorization);
    return this.#publish({ kind: 'broadcast' }, req, undefined);
  }

  async #publish(
    target: Target,
    r: { title: string; message: string; serviceName: string; data: string; id: string },
    ttlMs: number | undefined,
  ): Promise<PublishAnswer> {
    const size = Buffer.byteLength(r.title) + Buffer.byteLength(r.message) + Buffer.byteLength(r.data) + r.serviceName.length + r.id.length;
    if (size > this.#node.config.MAX_BODY_BYTES) throw new HeraldError('HERALD_ERR_TOO_LARGE', 'notification is over the configured limit (MAX_BODY_BYTES)');
    let data: unknown;
    if (r.data !== '') {
      try {
        data = JSON.parse(r.data);
      } catch {
        throw invalid('data', 'must be JSON text');
      }
    }
    let input: PublishInput;
    try {
      input = parsePublishInput({ title: r.title, message: r.message, service: r.serviceName || undefined, data, id: r.id || undefined, ttlMs });
    } catch (err) {
      const field = err instanceof HeraldError && err.field ? PROTO_FIELD[err.field] : undefined;
      throw field ? invalid(field, (err as HeraldError).message.replace(/^[^:]+: /, '')) : err;
    }
    const res = await this.#node.publish(target, input);
    return { id: res.id, cursor: res.cursor, delivered: BigInt(res.delivered), stored: res.stored };
  }

  getStats(authorization: string | undefined): StatsAnswer {
    this.#publisher(authorization);
    const s = statsSnapshot(this.#node);
    return {
      node: s.node,
      state: s.state,
      total: BigInt(s.total),
      clients: BigInt(s.clients),
      byTransport: transportCounts(s.byTransport),
      devices: BigInt(s.devices),
      sent: BigInt(s.sent),
      answered: BigInt(s.answered),
      missed: BigInt(s.missed),
      zombies: BigInt(s.zombies),
      stale: BigInt(s.stale),
      cleaned: BigInt(s.cleaned),
      detached: BigInt(s.detached),
      connects: transportCounts(s.connects),
      disconnects: Object.fromEntries(Object.entries(s.disconnects).map(([k, v]) => [k, BigInt(v)])),
      notifications: {
        published: BigInt(s.notifications.published),
        delivered: BigInt(s.notifications.delivered),
        dropped: BigInt(s.notifications.dropped),
      },
      deliveredByTransport: transportCounts(s.deliveredByTransport),
    };
  }
}

/** A count by transport kind → `TransportCounts` (kinds spelled with `-` take `_`: `grpc-web` → `grpc_web`). */
function transportCounts(counts: Readonly<Record<string, number>>): MessageInitShape<typeof StatsSchema>['byTransport'] {
  const out: Record<string, bigint> = {};
  for (const [k, v] of Object.entries(counts)) out[k.replace(/-(\w)/g, (_, c: string) => c.toUpperCase())] = BigInt(v);
  return out;
}

/** An inbox item as `herald.v1.InboxItem`. */
function inboxItem(item: InboxItem): MessageInitShape<typeof InboxItemSchema> {
  return {
    id: item.id,
    clientId: item.clientId ?? '',
    deviceId: item.deviceId ?? '',
    broadcast: item.broadcast === true,
    title: item.title,
    message: item.message,
    serviceName: item.service,
    data: item.data === null || item.data === undefined ? '' : JSON.stringify(item.data),
    timestamp: BigInt(item.ts),
    version: item.version,
    updatedAt: BigInt(item.updatedAt),
    collapseKey: item.collapseKey ?? '',
    seenAt: item.seenAt === null ? undefined : BigInt(item.seenAt),
    readAt: item.readAt === null ? undefined : BigInt(item.readAt),
    archivedAt: item.archivedAt === null ? undefined : BigInt(item.archivedAt),
  };
}
