import type { DeviceView, PublishBody } from '../protocol/json-shapes.js';
import type { Cursor, StreamPos } from './cursor.js';

/** What a publisher sends (PROTOCOL.md "Publisher API"): the wire's publish body, validated. */
export type PublishInput = PublishBody;

/** Whom a notification is for: every device of a client, one device, or everyone (its own stream). */
export type Target = { kind: 'client'; clientId: string } | { kind: 'device'; clientId: string; deviceId: string } | { kind: 'broadcast' };

/** A notification as kept by the store and handed to sessions. */
export interface StoredNotification {
  readonly id: string;
  /** null for a broadcast */
  readonly clientId: string | null;
  /** set for a device-targeted notification */
  readonly deviceId: string | null;
  readonly title: string;
  readonly message: string;
  readonly service: string;
  readonly data: unknown;
  readonly ts: number;
  /** ms since epoch after which it is not replayed; null = retention only */
  readonly expiresAt: number | null;
  readonly priority?: PublishInput['priority'];
  /** Position in its stream (client's own, or broadcast). */
  readonly pos: StreamPos;
  /** The position before it in the same stream (null at the stream's start), to find gaps. */
  readonly prev: StreamPos | null;
  /** The generation of its stream (see cursor.ts): part of every cursor that names it. */
  readonly epoch: string;
}

/** What {@link Store.append} did with one publish. */
export interface AppendResult {
  notification: StoredNotification;
  /** The idempotency key matched an earlier notification: nothing new was stored or delivered. */
  duplicate: boolean;
  /** false when ttlMs was 0 (live only). */
  stored: boolean;
}

/** What a device missed: asked when a stream starts. */
export interface ReplayQuery {
  clientId: string;
  deviceId: string;
  /**
   * What the device has: its cursor on resume (`broadcasts: true`). For a device without one
   * (`broadcasts: false`), `c`/`ce` is the client's newest acknowledged position and the pending
   * client notifications after it are read (see placePending in store/streams.ts).
   */
  after: Cursor;
  /** Resume: replay the broadcast stream too. Otherwise a pending read, broadcasts skipped. */
  broadcasts: boolean;
}

/** The notifications a stream starts with, and where the device stands in both streams. */
export interface ReplayResult {
  /** In order within each stream; the two streams merged by time. */
  items: StoredNotification[];
  /** Current heads of both streams (with their epochs), after the items. */
  head: Cursor;
  /**
   * Where the device starts in each stream: `after` where it could be placed, the head where it
   * could not (PROTOCOL.md "A cursor the store cannot place"), or the broadcast head for a pending
   * read. The items follow it.
   */
  from: Cursor;
  /** Something the device should have had is no longer held, or its cursor could not be placed. */
  lost: boolean;
}

/**
 * The message store: append, replay after a cursor, device cursors, idempotency.
 * Memory (embedded default), Redis and PostgreSQL implement it; one contract suite runs against all.
 */
export interface Store {
  readonly kind: 'memory' | 'redis' | 'postgres';
  append(target: Target, input: PublishInput, now: number): Promise<AppendResult>;
  replay(q: ReplayQuery, now: number): Promise<ReplayResult>;
  /** Heads of the client's and the broadcast stream. */
  heads(clientId: string): Promise<Cursor>;
  /** Entries after `after` (exclusive) up to and including `upTo`, of one stream: repairs gaps. */
  range(clientId: string | null, after: StreamPos | null, upTo: StreamPos, now: number): Promise<StoredNotification[]>;
  /** The device's acknowledged cursor, if any. */
  getDeviceCursor(clientId: string, deviceId: string): Promise<Cursor | null>;
  /** The newest client-stream position any device of the client acknowledged, with its epoch. */
  getClientAcked(clientId: string): Promise<{ pos: StreamPos; epoch: string | null } | null>;
  /**
   * Saves a device's acknowledged cursor and the client's newest ack. Never moves backwards within
   * one stream epoch; a cursor of another epoch replaces the saved one.
   */
  saveDeviceCursor(clientId: string, deviceId: string, cursor: Cursor): Promise<void>;
  /** Forgets a removed device's cursor. */
  forgetDevice(clientId: string, deviceId: string): Promise<void>;
  /** Registrations the store keeps beyond a restart (PostgreSQL's devices table), for the operator API. */
  devices?(clientId: string): Promise<DeviceView[]>;
  /** Registrations purged after DEVICE_RETENTION_MS (PostgreSQL's devices table), for `/health/stale`. */
  readonly purgedDevices?: number;
  close(): Promise<void>;
}

/** A device and a client as the operator API shows them (PROTOCOL.md "JSON shapes"). */
export type { ClientView, DeviceView } from '../protocol/json-shapes.js';
