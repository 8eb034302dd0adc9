import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { z } from 'zod';
import { HeraldError } from './errors.js';

/**
 * Every setting of a Herald node. Each has an environment variable `HERALD_<NAME>` and a flag
 * `--<name>` of `herald serve` (flags win). The same table generates the README's configuration
 * section (`test/core/docs.test.ts` fails when the two drift).
 */
const ms = (def: number) => z.coerce.number().int().min(0).default(def);
const positive = (def: number) => z.coerce.number().int().min(1).default(def);
const optionalString = z.string().min(1).optional();

/** The receipt webhooks `WEBHOOK_RECEIPTS` can turn on. */
export const RECEIPT_KINDS = ['delivered', 'read'] as const;
export type ReceiptKind = (typeof RECEIPT_KINDS)[number];

function splitList(s: string): string[] {
  return s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
}

interface Spec {
  schema: z.ZodType;
  doc: string;
  /** Shown in the README instead of the literal default when the default is computed. */
  shownDefault?: string;
}

export const CONFIG_SPEC = {
  HOST: { schema: z.string().default('127.0.0.1'), doc: 'Address the HTTP, WebSocket and SSE listener binds.' },
  PORT: { schema: z.coerce.number().int().min(0).max(65535).default(8080), doc: 'HTTP, WebSocket and SSE port; 0 picks a free port (printed).' },
  GRPC_PORT: {
    schema: z.union([z.literal('off'), z.coerce.number().int().min(0).max(65535)]).default(50051),
    doc: 'gRPC port; 0 picks a free port; `off` disables gRPC.',
  },
  API_KEY: { schema: optionalString, doc: 'Publisher/operator API key (`Authorization: Bearer`). Generated on a loopback bind when absent.' },
  JWT_SECRET: { schema: optionalString, doc: 'HS256 secret (UTF-8 bytes) for device tokens. Generated on a loopback bind when absent.' },
  JWT_PUBLIC_KEY: { schema: optionalString, doc: 'PEM public key (RS256/ES256) for device tokens, instead of a secret. `@path` reads a file.' },
  JWKS_URL: { schema: optionalString, doc: 'JWKS URL for device tokens, instead of a secret.' },
  JWT_CLOCK_SKEW_MS: { schema: ms(30_000), doc: "Clock skew allowed on a device token's `exp`, at connect and while connected." },
  REDIS_URL: { schema: optionalString, doc: 'Redis URL; absent = single node with the in-memory store.' },
  REDIS_CLUSTER: {
    schema: z.enum(['false', 'true']).default('false'),
    doc: '`true`: `REDIS_URL` is any node of a Redis Cluster of several shards; Herald then uses a cluster client (credentials and `rediss:` of the URL apply to every shard). Needs `REDIS_URL`. Not needed for a single server, cluster-mode or not, owning every slot. Sharded pub/sub is used on Redis ≥ 7 either way.',
  },
  DATABASE_URL: {
    schema: optionalString,
    doc: 'PostgreSQL URL (`postgres://user:password@host:port/db`): the durable store. With `REDIS_URL` as well, Redis carries the cluster and PostgreSQL the data.',
  },
  DATABASE_SCHEMA: {
    schema: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,47}$/, 'must be 1-48 characters of a-z 0-9 _, not starting with a digit')
      .default('herald'),
    doc: "PostgreSQL schema of Herald's tables and of `publish()`; created and migrated at start.",
  },
  DEVICE_RETENTION_MS: {
    schema: positive(2_592_000_000),
    doc: 'PostgreSQL devices table: registrations detached (or not refreshed) longer than this are purged (30 days).',
  },
  NODE_ID: { schema: optionalString, doc: "This node's id in a cluster.", shownDefault: 'host name + pid' },
  HEARTBEAT_INTERVAL_MS: { schema: positive(30_000), doc: 'Application `ping` interval per connection.' },
  HEARTBEAT_TIMEOUT_MS: { schema: positive(10_000), doc: 'How long a `pong` may take before the ping counts as missed.' },
  HEARTBEAT_MAX_MISSED: { schema: positive(3), doc: 'Consecutive missed pongs before a connection is closed as a zombie (4004).' },
  MAX_DEVICES_PER_CLIENT: { schema: positive(5), doc: 'Attached devices per client.' },
  CLIENT_LIMIT_POLICY: {
    schema: z.enum(['evict-oldest', 'reject']).default('evict-oldest'),
    doc: '`evict-oldest` closes the oldest device with 4008; `reject` refuses the new one with HTTP 429.',
  },
  MAX_CONNECTIONS: {
    schema: z.coerce.number().int().min(1).optional(),
    doc: 'Attached connections on this node (HTTP 503 beyond).',
    shownDefault: 'open-file limit − 512',
  },
  IDLE_TIMEOUT_MS: {
    schema: ms(0),
    doc: 'Close a connection with no inbound frame but `pong` and no notification for this long (4010); 0 = off. The seeds used 300000.',
  },
  SEND_QUEUE_BYTES: { schema: positive(1_048_576), doc: 'Per-connection send queue in bytes (overflow closes 4009).' },
  SEND_QUEUE_MESSAGES: { schema: positive(1000), doc: 'Per-connection send queue in messages (overflow closes 4009).' },
  MAX_FRAME_BYTES: { schema: positive(65_536), doc: 'Largest inbound WebSocket frame (larger closes 4400).' },
  MAX_BODY_BYTES: { schema: positive(65_536), doc: 'Largest publish body (HTTP 413 beyond). The batch endpoint allows 1000 ×.' },
  RETENTION_MESSAGES: { schema: positive(1000), doc: 'Notifications kept per client (and for broadcasts) for replay.' },
  RETENTION_MS: { schema: positive(86_400_000), doc: 'How long notifications are kept for replay.' },
  PRESENCE_GRACE_MS: { schema: ms(2000), doc: 'A client goes offline only after having no attached device for this long.' },
  WEBHOOK_URL: { schema: optionalString, doc: 'Where presence and device events are POSTed.' },
  WEBHOOK_RETRY_MS: {
    schema: positive(500),
    doc: 'First retry delay of a failed webhook; doubles up to 30 s. Events are retried until delivered (order per client kept).',
  },
  WEBHOOK_QUEUE: { schema: positive(10_000), doc: 'Webhook events held while the receiver is slow or down; beyond it the oldest are dropped (counted).' },
  WEBHOOK_SECRET: { schema: optionalString, doc: 'HMAC-SHA256 key of the `Herald-Signature` header.' },
  WEBHOOK_RECEIPTS: {
    schema: z
      .string()
      .default('')
      .refine((v) => splitList(v).every((k) => RECEIPT_KINDS.includes(k as ReceiptKind)), { message: 'a comma list of: delivered, read' }),
    doc: 'Receipt webhooks to send, a comma list of `delivered` (`notification.delivered`, once per device and notification, when the device acknowledges it) and `read` (`notification.read`).',
    shownDefault: 'none',
  },
  DETACHED_TTL_MS: { schema: ms(90_000), doc: 'How long a detached registration (and its cursor) is kept.' },
  TOKEN_GRACE_MS: { schema: ms(30_000), doc: 'After `token-expired`, how long before the connection is closed 1008.' },
  ALLOWED_ORIGINS: { schema: z.string().default('*'), doc: 'Comma-separated browser origins allowed on device endpoints; `*` = any.' },
  NODE_HEARTBEAT_MS: { schema: positive(5000), doc: 'Cluster: how often a node announces itself.' },
  NODE_DEAD_AFTER_MS: { schema: positive(15_000), doc: 'Cluster: a node silent this long is dead; its devices become detached.' },
  STALE_SWEEP_MS: { schema: positive(60_000), doc: 'Backstop sweep over the registry for stale attached and expired detached entries.' },
  VAPID_PUBLIC_KEY: { schema: optionalString, doc: 'Web Push VAPID public key (base64url). Generated when absent.' },
  VAPID_PRIVATE_KEY: { schema: optionalString, doc: 'Web Push VAPID private key (base64url).' },
  VAPID_SUBJECT: { schema: z.string().default('mailto:admin@localhost'), doc: 'Web Push VAPID `sub` claim.' },
  PUSH_ALLOWED_ENDPOINTS: { schema: z.string().default('https://'), doc: 'Comma-separated URL prefixes a push subscription endpoint must start with.' },
  DRAIN_TIMEOUT_MS: { schema: ms(30_000), doc: 'Shutdown: window over which connections are told to reconnect elsewhere and closed in batches.' },
  FORCE_CLOSE_TIMEOUT_MS: { schema: ms(60_000), doc: 'Shutdown: hard bound after which everything left is closed and the process exits.' },
  FLUSH_TIMEOUT_MS: { schema: ms(5000), doc: 'Shutdown: how long queued messages may take to flush before connections close.' },
  LOG_LEVEL: { schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'), doc: 'pino log level.' },
} satisfies Record<string, Spec>;

type SpecOf = typeof CONFIG_SPEC;
type Raw = { [K in keyof SpecOf]: z.infer<SpecOf[K]['schema']> };

/** The validated configuration of a node (see {@link CONFIG_SPEC} for meanings and defaults). */
export interface HeraldConfig
  extends Omit<Raw, 'GRPC_PORT' | 'MAX_CONNECTIONS' | 'NODE_ID' | 'ALLOWED_ORIGINS' | 'PUSH_ALLOWED_ENDPOINTS' | 'WEBHOOK_RECEIPTS'> {
  GRPC_PORT: number | 'off';
  MAX_CONNECTIONS: number;
  NODE_ID: string;
  ALLOWED_ORIGINS: string[] | '*';
  PUSH_ALLOWED_ENDPOINTS: string[];
  /** The receipt webhooks turned on (none by default). */
  WEBHOOK_RECEIPTS: ReceiptKind[];
  /** Whether API_KEY / JWT_SECRET were generated at start (printed in the banner). */
  generatedSecrets: boolean;
}

export type ConfigInput = Partial<Record<keyof SpecOf, string | number | undefined>>;

export const CONFIG_NAMES = Object.keys(CONFIG_SPEC) as (keyof SpecOf)[];

/** `HEARTBEAT_INTERVAL_MS` → `heartbeat-interval-ms` */
export function flagName(name: string): string {
  return name.toLowerCase().replaceAll('_', '-');
}

/** Reads `HERALD_*` variables from an environment object. */
export function configFromEnv(env: NodeJS.ProcessEnv): ConfigInput {
  const out: ConfigInput = {};
  for (const name of CONFIG_NAMES) {
    const value = env[`HERALD_${name}`];
    if (value !== undefined && value !== '') out[name] = value;
  }
  return out;
}

/** The process's soft open-file limit, from /proc (Linux); undefined elsewhere. */
function openFileLimit(): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    const n = Number(soft);
    return Number.isFinite(n) ? n : undefined;
  } catch {
    // No /proc (not Linux): the limit is unknown and the caller falls back to its default.
    return undefined;
  }
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || host.startsWith('127.');
}

/**
 * Validates the input once, fills defaults and derived values. Throws a HeraldError
 * (`HERALD_ERR_CONFIG`) naming every bad setting.
 */
export function resolveConfig(input: ConfigInput = {}): HeraldConfig {
  const raw: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const name of CONFIG_NAMES) {
    const result = (CONFIG_SPEC[name].schema as z.ZodType).safeParse(input[name]);
    if (result.success) raw[name] = result.data;
    else problems.push(`${name} (HERALD_${name} / --${flagName(name)}): ${result.error.issues.map((i) => i.message).join('; ')}`);
  }
  if (problems.length) throw new HeraldError('HERALD_ERR_CONFIG', `invalid configuration:\n  ${problems.join('\n  ')}`);
  const r = raw as Raw;
  const hasDeviceKey = Boolean(r.JWT_SECRET || r.JWT_PUBLIC_KEY || r.JWKS_URL);
  if (!isLoopback(r.HOST) && (!r.API_KEY || !hasDeviceKey)) {
    throw new HeraldError(
      'HERALD_ERR_CONFIG',
      `refusing to bind ${r.HOST} without configured secrets: set HERALD_API_KEY and HERALD_JWT_SECRET (or JWT_PUBLIC_KEY / JWKS_URL)`,
    );
  }
  if (r.REDIS_CLUSTER === 'true' && !r.REDIS_URL) {
    throw new HeraldError(
      'HERALD_ERR_CONFIG',
      'REDIS_CLUSTER=true needs REDIS_URL (HERALD_REDIS_URL / --redis-url): a node of the Redis Cluster to start from',
    );
  }
  const limit = openFileLimit();
  return {
    ...r,
    GRPC_PORT: r.GRPC_PORT as number | 'off',
    MAX_CONNECTIONS: r.MAX_CONNECTIONS ?? Math.max(64, (limit ?? 20_000) - 512),
    NODE_ID: r.NODE_ID ?? `${hostname()}-${process.pid}`,
    ALLOWED_ORIGINS: r.ALLOWED_ORIGINS.trim() === '*' ? '*' : splitList(r.ALLOWED_ORIGINS),
    PUSH_ALLOWED_ENDPOINTS: splitList(r.PUSH_ALLOWED_ENDPOINTS),
    WEBHOOK_RECEIPTS: [...new Set(splitList(r.WEBHOOK_RECEIPTS) as ReceiptKind[])],
    generatedSecrets: !r.API_KEY || !hasDeviceKey,
  };
}

function defaultText(name: keyof SpecOf): string {
  const spec: Spec = CONFIG_SPEC[name];
  if (spec.shownDefault) return spec.shownDefault;
  const parsed = (spec.schema as z.ZodType).safeParse(undefined);
  if (!parsed.success || parsed.data === undefined) return '—';
  return `\`${String(parsed.data)}\``;
}

/** The README's configuration table, generated from {@link CONFIG_SPEC}. */
export function configTableMarkdown(): string {
  const rows = CONFIG_NAMES.map((name) => `| \`HERALD_${name}\` | \`--${flagName(name)}\` | ${defaultText(name)} | ${CONFIG_SPEC[name].doc} |`);
  return ['| environment | flag | default | meaning |', '|---|---|---|---|', ...rows].join('\n');
}
