/** JSON schemas of the publisher API (also the source of the OpenAPI document). */

export const ID_PATTERN = '^[A-Za-z0-9._@-]{1,128}$';
/** Notification ids: server-minted, or a publisher's idempotency key (which allows `:`). */
export const KEY_PATTERN = '^[A-Za-z0-9._:@-]{1,128}$';

export const publishBody = {
  type: 'object',
  required: ['title', 'message'],
  properties: {
    title: { type: 'string', maxLength: 1024 },
    message: { type: 'string' },
    service: { type: 'string', maxLength: 128 },
    data: {},
    id: { type: 'string', pattern: KEY_PATTERN, description: 'Idempotency key: the same key within retention returns the same notification.' },
    ttlMs: { type: 'integer', minimum: 0, description: 'Not replayed once older than this; 0 = live only.' },
    priority: { type: 'string', enum: ['very-low', 'low', 'normal', 'high'] },
    collapseKey: {
      type: 'string',
      pattern: ID_PATTERN,
      description: "Replaces the client's previous inbox item with this key: it leaves listings and counts; the new notification frame names it in `replaces`.",
    },
    excludeDevices: {
      type: 'array',
      maxItems: 1000,
      items: { type: 'string', pattern: ID_PATTERN },
      description: 'Devices that get no frame (live or on resume) and no push for it; it is still in their inbox listing. Not for broadcasts.',
    },
  },
} as const;

export const batchBody = {
  type: 'object',
  required: ['items'],
  properties: {
    items: {
      type: 'array',
      minItems: 1,
      maxItems: 1000,
      // Items are validated one by one in the handler, so one bad item fails alone with its index.
      items: { type: 'object' },
    },
  },
} as const;

export const publishResult = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    cursor: { type: 'string' },
    delivered: { type: 'integer' },
    stored: { type: 'boolean' },
  },
} as const;

export const errorBody = {
  type: 'object',
  properties: {
    statusCode: { type: 'integer' },
    code: { type: 'string' },
    error: { type: 'string' },
    message: { type: 'string' },
    field: { type: 'string' },
  },
} as const;

export const clientParams = {
  type: 'object',
  required: ['client'],
  properties: { client: { type: 'string', pattern: ID_PATTERN } },
} as const;

export const deviceParams = {
  type: 'object',
  required: ['client', 'device'],
  properties: { client: { type: 'string', pattern: ID_PATTERN }, device: { type: 'string', pattern: ID_PATTERN } },
} as const;

export const myDeviceParams = {
  type: 'object',
  required: ['device'],
  properties: { device: { type: 'string', pattern: ID_PATTERN } },
} as const;

// ---- the inbox (PROTOCOL.md "Inbox") ----

const nullableMs = { type: ['integer', 'null'], description: 'ms since the epoch, or null' } as const;

/** An inbox item: the notification's fields, its version, and the client's state of it. */
export const inboxItem = {
  type: 'object',
  additionalProperties: true,
  properties: {
    id: { type: 'string' },
    clientId: { type: 'string' },
    deviceId: { type: 'string', description: 'Set on a device-targeted item.' },
    broadcast: { type: 'boolean', description: 'Set on a broadcast.' },
    title: { type: 'string' },
    message: { type: 'string' },
    service: { type: 'string' },
    data: {},
    ts: { type: 'integer' },
    version: { type: 'integer', description: '1, then +1 per update.' },
    updatedAt: { type: 'integer' },
    collapseKey: { type: 'string' },
    seenAt: nullableMs,
    readAt: nullableMs,
    archivedAt: nullableMs,
  },
} as const;

export const inboxPage = {
  type: 'object',
  properties: {
    items: { type: 'array', items: inboxItem, description: 'Newest first.' },
    unseen: { type: 'integer' },
    unread: { type: 'integer' },
    next: { type: ['string', 'null'], description: 'Pass as `before` for the next page; null on the last.' },
  },
} as const;

const listQueryProperties = {
  limit: { type: 'string', pattern: '^[0-9]{1,4}$', description: 'Page size 1..100 (default 20).' },
  before: { type: 'string', description: 'The `next` of the previous page.' },
  filter: { type: 'string', enum: ['unread', 'archived', 'all'], description: 'Default: what is not archived.' },
} as const;

/** `GET /api/v1/clients/<c>/notifications`: `device` optional (without it: every device's items). */
export const listQuery = {
  type: 'object',
  properties: { device: { type: 'string', pattern: ID_PATTERN, description: 'List as this device sees it.' }, ...listQueryProperties },
} as const;

/** `GET /me/notifications`: `device` required; the token may come as `?token=`. */
export const myListQuery = {
  type: 'object',
  required: ['device'],
  properties: { device: { type: 'string', pattern: ID_PATTERN }, ...listQueryProperties, token: { type: 'string', description: 'The device JWT.' } },
} as const;

const stateProperties = {
  ids: { type: 'array', maxItems: 1000, items: { type: 'string', pattern: KEY_PATTERN }, description: 'The items to change (or `all`).' },
  all: { type: 'boolean', enum: [true], description: 'Every item the view can list, archived or not (or `ids`).' },
  seen: { type: 'boolean' },
  read: { type: 'boolean', description: '`read: true` also marks seen.' },
  archived: { type: 'boolean' },
} as const;

/** `POST /api/v1/clients/<c>/notifications/state`: `device` optional (the view `all` covers). */
export const stateBody = {
  type: 'object',
  properties: { device: { type: 'string', pattern: ID_PATTERN, description: 'Change as this device sees the inbox.' }, ...stateProperties },
} as const;

/** `POST /me/notifications/state`. */
export const myStateBody = {
  type: 'object',
  required: ['device'],
  properties: { device: { type: 'string', pattern: ID_PATTERN }, ...stateProperties },
} as const;

export const stateResult = {
  type: 'object',
  properties: {
    updated: { type: 'integer', description: 'Items whose state changed (an id given twice counts once).' },
    unseen: { type: 'integer' },
    unread: { type: 'integer' },
  },
} as const;

export const patchBody = {
  type: 'object',
  properties: { title: { type: 'string', maxLength: 1024 }, message: { type: 'string' }, data: {} },
} as const;

export const updateResult = {
  type: 'object',
  properties: { id: { type: 'string' }, version: { type: 'integer' }, cursor: { type: 'string' } },
} as const;

export const itemParams = {
  type: 'object',
  required: ['client', 'id'],
  properties: { client: { type: 'string', pattern: ID_PATTERN }, id: { type: 'string', pattern: KEY_PATTERN } },
} as const;

export const broadcastItemParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: KEY_PATTERN } },
} as const;
