#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { signDeviceToken } from './auth/auth.js';
import { CONFIG_NAMES, type ConfigInput, configFromEnv, flagName, resolveConfig } from './core/config.js';
import { HeraldError } from './core/errors.js';
import { startHerald } from './server.js';
import { PostgresStore } from './store/postgres-store.js';

const USAGE = `herald — real-time notification gateway

  herald serve [--<setting> <value> ...]     start a node (every HERALD_<NAME> has a --<name> flag)
  herald token --client <id> [--ttl <seconds>] print a device JWT signed with JWT_SECRET
  herald send --client <id> [--device <id>] --title <t> --message <m> [--url <http://host:port>]
                                             publish with API_KEY
  herald migrate [--database-url <url>] [--database-schema <name>]
                                             create or migrate the PostgreSQL schema, then exit

Configuration: see the README's table; flags win over HERALD_* environment variables.`;

/** Config from the environment, overridden by `--name value` flags. */
function configInput(args: string[]): { input: ConfigInput; rest: Record<string, string | boolean | undefined> } {
  const options: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const name of CONFIG_NAMES) options[flagName(name)] = { type: 'string' };
  for (const extra of ['client', 'device', 'title', 'message', 'url', 'ttl', 'service', 'data']) options[extra] = { type: 'string' };
  options.help = { type: 'boolean' };
  const { values } = parseArgs({ args, options, strict: true, allowPositionals: false });
  const input = configFromEnv(process.env);
  for (const name of CONFIG_NAMES) {
    const v = values[flagName(name)];
    if (typeof v === 'string') input[name] = v;
  }
  return { input, rest: values };
}

async function serve(args: string[]): Promise<void> {
  const { input } = configInput(args);
  const config = resolveConfig(input);
  const herald = await startHerald(config);
  const grpc = herald.grpcPort === null ? 'off' : `${config.HOST}:${herald.grpcPort}`;
  const host = new URL(herald.url).host;
  process.stdout.write(`herald listening http=${host} grpc=${grpc} node=${config.NODE_ID} store=${herald.node.store.kind}\n`);
  if (config.generatedSecrets) {
    const token = await herald.auth.signDevice('demo', 24 * 3600);
    const wsUrl = `${herald.url.replace(/^http/, 'ws')}/ws?device=laptop&token=${token}`;
    process.stdout.write(
      [
        '',
        'No secrets configured: generated for this run (loopback only).',
        `  API key:    ${config.API_KEY}`,
        `  JWT secret: ${config.JWT_SECRET}`,
        '',
        'A device of client "demo" (token valid 24 h):',
        `  ${wsUrl}`,
        `A browser device (the demo page): ${herald.url}/demo/?token=${token}&device=browser`,
        `The operator dashboard (paste the API key): ${herald.url}/dashboard/`,
        'Publish to it:',
        `  curl -X POST ${herald.url}/api/v1/clients/demo/notifications -H 'Authorization: Bearer ${config.API_KEY}' -H 'Content-Type: application/json' -d '{"title":"Hello","message":"from Herald"}'`,
        '',
      ].join('\n'),
    );
  }
  if (herald.push.vapid.generated) {
    process.stdout.write(
      `VAPID keys generated (push subscriptions break at restart unless set):\n  HERALD_VAPID_PUBLIC_KEY=${herald.push.vapid.publicKey}\n  HERALD_VAPID_PRIVATE_KEY=${herald.push.vapid.privateKey}\n`,
    );
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      process.stderr.write(`herald: ${signal} again, exiting now\n`);
      process.exit(1);
    }
    stopping = true;
    herald.node.log.info({ signal }, 'graceful shutdown');
    herald.close().then(
      () => process.exit(0),
      (err) => {
        process.stderr.write(`herald: shutdown failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

async function token(args: string[]): Promise<void> {
  const { input, rest } = configInput(args);
  const client = rest.client;
  if (typeof client !== 'string') throw new HeraldError('HERALD_ERR_INVALID', 'token: --client <id> is required', { field: 'client' });
  const secret = input.JWT_SECRET;
  if (!secret) throw new HeraldError('HERALD_ERR_CONFIG', "token: set HERALD_JWT_SECRET or --jwt-secret (the server's secret)");
  const ttl = rest.ttl === undefined ? 3600 : Number(rest.ttl);
  if (!Number.isInteger(ttl) || ttl < 0) throw new HeraldError('HERALD_ERR_INVALID', 'token: --ttl must be whole seconds (0 = no expiry)', { field: 'ttl' });
  process.stdout.write(`${await signDeviceToken(String(secret), client, ttl)}\n`);
}

async function send(args: string[]): Promise<void> {
  const { input, rest } = configInput(args);
  const { client, device, title, message, service } = rest as Record<string, string | undefined>;
  if (!client || title === undefined || message === undefined) {
    throw new HeraldError('HERALD_ERR_INVALID', 'send: --client, --title and --message are required', {
      field: !client ? 'client' : title === undefined ? 'title' : 'message',
    });
  }
  const key = input.API_KEY;
  if (!key) throw new HeraldError('HERALD_ERR_CONFIG', 'send: set HERALD_API_KEY or --api-key');
  const base = (rest.url as string | undefined) ?? `http://${input.HOST ?? '127.0.0.1'}:${input.PORT ?? 8080}`;
  const path = device
    ? `/api/v1/clients/${encodeURIComponent(client)}/devices/${encodeURIComponent(device)}/notifications`
    : `/api/v1/clients/${encodeURIComponent(client)}/notifications`;
  const body: Record<string, unknown> = { title, message };
  if (service) body.service = service;
  if (rest.data) body.data = JSON.parse(String(rest.data));
  const res = await fetch(base + path, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  process.stdout.write(`${text}\n`);
  if (!res.ok) process.exitCode = 1;
}

/** Applies the PostgreSQL migrations (what `serve` also does at start, under the same advisory lock). */
async function migrateCommand(args: string[]): Promise<void> {
  const { input } = configInput(args);
  const config = resolveConfig(input);
  if (!config.DATABASE_URL) throw new HeraldError('HERALD_ERR_CONFIG', 'migrate: set HERALD_DATABASE_URL or --database-url');
  const store = await PostgresStore.connect({
    url: config.DATABASE_URL,
    schema: config.DATABASE_SCHEMA,
    retentionMessages: config.RETENTION_MESSAGES,
    retentionMs: config.RETENTION_MS,
    transactional: 'off',
    maintenanceMs: 0,
    migrate: false,
    poolSize: 1,
  });
  try {
    const { applied, version } = await store.migrate();
    const what = applied.length ? `applied ${applied.join(', ')}` : 'already current';
    process.stdout.write(`herald migrate: schema ${config.DATABASE_SCHEMA} at version ${version} (${what})\n`);
  } finally {
    await store.close();
  }
}

async function main(argv: string[]): Promise<void> {
  const [command, ...args] = argv;
  switch (command) {
    case 'serve':
      return serve(args);
    case 'token':
      return token(args);
    case 'send':
      return send(args);
    case 'migrate':
      return migrateCommand(args);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`);
      return;
    default:
      process.stderr.write(`herald: unknown command ${command}\n\n${USAGE}\n`);
      process.exitCode = 2;
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const msg = err instanceof Error ? err.message : String(err);
  process.stderr.write(`herald: ${msg}\n`);
  process.exit(err instanceof HeraldError && err.code === 'HERALD_ERR_CONFIG' ? 78 : 1);
});
