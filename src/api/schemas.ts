/** JSON schemas of the publisher API (also the source of the OpenAPI document). */

export const ID_PATTERN = '^[A-Za-z0-9._@-]{1,128}$';
const KEY_PATTERN = '^[A-Za-z0-9._:@-]{1,128}$';

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
  properties: { id: { type: 'string' }, cursor: { type: 'string' }, delivered: { type: 'integer' }, stored: { type: 'boolean' } },
} as const;

export const errorBody = {
  type: 'object',
  properties: { statusCode: { type: 'integer' }, code: { type: 'string' }, error: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' } },
} as const;

/** Path parameters that are all client or device ids (PROTOCOL.md "Identifiers"). */
function idParams(...names: string[]) {
  return { type: 'object', required: names, properties: Object.fromEntries(names.map((name) => [name, { type: 'string', pattern: ID_PATTERN }])) };
}

export const clientParams = idParams('client');
export const deviceParams = idParams('client', 'device');
export const myDeviceParams = idParams('device');
