import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { buildApp } from './api/app.js';
import { registerPushRoutes } from './api/push-routes.js';
import { WebhookSender } from './api/webhooks.js';
import { Auth, randomSecret } from './auth/auth.js';
import { createBroker } from './cluster/create.js';
import type { Broker } from './core/broker.js';
import { type ConfigInput, type HeraldConfig, resolveConfig } from './core/config.js';
import type { Logger } from './core/logger.js';
import { HeraldNode } from './core/node.js';
import type { Store } from './core/types.js';
import { registerPushMetrics } from './push/metrics.js';
import { RedisPushSubscriptionStore } from './push/redis-subscriptions.js';
import { createPush, type PushOptions, type WebPush } from './push/web-push.js';
import { createStore } from './store/create.js';
import { MemoryStore } from './store/memory-store.js';
import { wirePostgres } from './store/postgres/node-wiring.js';
import { PostgresStore } from './store/postgres-store.js';
import { registerTransports } from './transports/index.js';

export interface StartOptions {
  /** pino options or `false` for no logs. @default { level: config.LOG_LEVEL } */
  logger?: object | false;
  /** Replaces the store chosen from config (tests, embedding). */
  store?: Store;
  /** Replaces the broker chosen from config. */
  broker?: Broker;
  /** Web Push tuning (tests). */
  push?: PushOptions;
}

/** A running Herald node: what `herald serve` starts and what tests and embedders hold. */
export interface Herald {
  readonly node: HeraldNode;
  readonly config: HeraldConfig;
  readonly app: FastifyInstance;
  readonly auth: Auth;
  readonly push: WebPush;
  /** `http://host:port` */
  readonly url: string;
  readonly port: number;
  readonly grpcPort: number | null;
  /** Graceful shutdown (drain); resolves when everything is closed. Idempotent. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts a node: validates the configuration once, fills generated secrets on a loopback bind,
 * builds store → broker → node → HTTP API → transports, and listens.
 */
export async function startHerald(input: ConfigInput | HeraldConfig = {}, opts: StartOptions = {}): Promise<Herald> {
  const config = 'generatedSecrets' in input ? input : resolveConfig(input);
  if (!config.API_KEY) config.API_KEY = randomSecret();
  if (!config.JWT_SECRET && !config.JWT_PUBLIC_KEY && !config.JWKS_URL) config.JWT_SECRET = randomSecret(32);
  const loggerOpts = opts.logger === undefined ? { level: config.LOG_LEVEL } : opts.logger;
  const auth = new Auth(config);
  // The app's pino logger is the node's logger too: one structured stream.
  const log = (loggerOpts === false ? pino({ level: 'silent' }) : pino(loggerOpts)) as unknown as Logger;
  const store = opts.store ?? (await createStore(config, log));
  const broker = opts.broker ?? (await createBroker(config, log, store));
  const node = new HeraldNode(config, store, broker, log);
  const app = await buildApp(node, auth, log);
  await node.start();
  if (store instanceof PostgresStore) await wirePostgres(node, store, config);
  if (config.WEBHOOK_URL) {
    const webhooks = new WebhookSender({
      url: config.WEBHOOK_URL,
      secret: config.WEBHOOK_SECRET,
      retryMs: config.WEBHOOK_RETRY_MS,
      queueLimit: config.WEBHOOK_QUEUE,
      log,
    });
    node.hub.presence.on('event', webhooks.push);
    // Receipts are computed only while someone listens: here, when WEBHOOK_RECEIPTS names them.
    if (config.WEBHOOK_RECEIPTS.length > 0) node.receipts.on('receipt', webhooks.push);
    // Registered first, so it runs last at shutdown: the final offline events get their chance.
    node.onClose(() => webhooks.close(2000));
  }
  const pushStore =
    opts.push?.store ?? (config.REDIS_URL ? new RedisPushSubscriptionStore(config.REDIS_URL, undefined, config.REDIS_CLUSTER === 'true') : undefined);
  const push = createPush(node, config, log, { ...opts.push, store: pushStore });
  registerPushRoutes(app, push);
  app.herald.push = push;
  registerPushMetrics(app.herald.metrics.registry, push);
  node.onClose(async () => {
    await push.close();
    if (pushStore && !opts.push?.store) await pushStore.close();
  });
  const transports = registerTransports({ node, auth, app });
  if (node.store instanceof MemoryStore) {
    const memory = node.store;
    const prune = setInterval(() => memory.prune(Date.now()), Math.min(config.STALE_SWEEP_MS, 60_000));
    prune.unref();
    node.onClose(() => clearInterval(prune));
  }
  await app.listen({ host: config.HOST, port: config.PORT });
  const started = await transports.start();
  const addr = app.server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  node.onClose(async () => {
    await started.close();
    app.herald.metrics.close();
    await app.close();
  });
  const close = () => node.shutdown();
  return {
    node,
    config,
    app,
    auth,
    push,
    url: `http://${host}:${addr.port}`,
    port: addr.port,
    grpcPort: started.grpcPort,
    close,
    [Symbol.asyncDispose]: close,
  };
}
