import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_END, CONFIG_START, ERRORS_END, ERRORS_START, errorsTableMarkdown } from '../../scripts/gen-readme-config.js';
import { CONFIG_NAMES, configFromEnv, configTableMarkdown, resolveConfig } from '../../src/core/config.js';
import { ERROR_CODES, HeraldError } from '../../src/core/errors.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const between = (start: string, end: string) => readme.slice(readme.indexOf(start) + start.length, readme.indexOf(end)).trim();

describe('documentation stays true', () => {
  it('the README configuration table is the one the schema generates (npm run docs)', () => {
    expect(between(CONFIG_START, CONFIG_END)).toBe(configTableMarkdown());
  });

  it('the README lists every error code', () => {
    expect(between(ERRORS_START, ERRORS_END)).toBe(errorsTableMarkdown());
    for (const code of Object.keys(ERROR_CODES)) expect(readme).toContain(code);
  });

  it('every configuration name of the contract exists', () => {
    const contract = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');
    const section = contract.slice(contract.indexOf('## Configuration names'));
    const names = [...section.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]).filter((n) => !n.endsWith('_'));
    expect(names.length).toBeGreaterThan(30);
    for (const n of names) expect(CONFIG_NAMES as string[]).toContain(n);
  });
});

describe('configuration', () => {
  it('reads HERALD_* variables, validates, and names every bad setting', () => {
    const input = configFromEnv({ HERALD_PORT: '9000', HERALD_HEARTBEAT_INTERVAL_MS: 'soon', HERALD_CLIENT_LIMIT_POLICY: 'kick' });
    expect(input.PORT).toBe('9000');
    try {
      resolveConfig(input);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(HeraldError);
      expect((e as Error).message).toContain('HEARTBEAT_INTERVAL_MS');
      expect((e as Error).message).toContain('CLIENT_LIMIT_POLICY');
    }
  });

  it('has the contract defaults', () => {
    const c = resolveConfig({});
    expect(c).toMatchObject({
      HOST: '127.0.0.1',
      PORT: 8080,
      GRPC_PORT: 50051,
      HEARTBEAT_INTERVAL_MS: 30_000,
      HEARTBEAT_TIMEOUT_MS: 10_000,
      HEARTBEAT_MAX_MISSED: 3,
      MAX_DEVICES_PER_CLIENT: 5,
      CLIENT_LIMIT_POLICY: 'evict-oldest',
      IDLE_TIMEOUT_MS: 0,
      SEND_QUEUE_BYTES: 1_048_576,
      SEND_QUEUE_MESSAGES: 1000,
      MAX_FRAME_BYTES: 65_536,
      MAX_BODY_BYTES: 65_536,
      RETENTION_MESSAGES: 1000,
      RETENTION_MS: 86_400_000,
      PRESENCE_GRACE_MS: 2000,
      DETACHED_TTL_MS: 90_000,
      TOKEN_GRACE_MS: 30_000,
      ALLOWED_ORIGINS: '*',
      NODE_HEARTBEAT_MS: 5000,
      NODE_DEAD_AFTER_MS: 15_000,
      STALE_SWEEP_MS: 60_000,
      DRAIN_TIMEOUT_MS: 30_000,
      FORCE_CLOSE_TIMEOUT_MS: 60_000,
      FLUSH_TIMEOUT_MS: 5000,
      PUSH_ALLOWED_ENDPOINTS: ['https://'],
    });
    expect(c.MAX_CONNECTIONS).toBeGreaterThan(0);
    expect(resolveConfig({ GRPC_PORT: 'off' }).GRPC_PORT).toBe('off');
  });

  it('refuses a non-loopback bind without configured secrets', () => {
    expect(() => resolveConfig({ HOST: '0.0.0.0' })).toThrow(/refusing to bind/);
    expect(resolveConfig({ HOST: '0.0.0.0', API_KEY: 'k', JWT_SECRET: 's' }).generatedSecrets).toBe(false);
  });
});
