import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

interface LockEntry {
  version?: string;
  dev?: boolean;
  engines?: { node?: string } | string[];
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

/** Where npm finds `dep` for the package installed at `path`: its own node_modules, then each parent's. */
function resolveInLock(packages: Record<string, LockEntry>, path: string, dep: string): string | undefined {
  let base = path;
  for (;;) {
    const candidate = base ? `${base}/node_modules/${dep}` : `node_modules/${dep}`;
    if (packages[candidate]) return candidate;
    if (!base) return undefined;
    const cut = base.lastIndexOf('/node_modules/');
    base = cut < 0 ? '' : base.slice(0, cut);
  }
}

type Version = [number, number, number];
const parse = (v: string): Version => {
  const [a = 0, b = 0, c = 0] = v.split('.').map(Number);
  return [a, b, c];
};
const cmp = (a: Version, b: Version) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

/**
 * Whether `version` is in an npm `engines` range, for the forms the lock holds: `||`, space-joined
 * comparators (`>=`, `>`, `<=`, `<`, `=`), `^`, `~`, `x.*` and partial versions.
 */
function satisfies(version: string, range: string): boolean {
  const v = parse(version);
  return range.split('||').some((alt) =>
    alt
      .trim()
      .replace(/([<>=^~]+)\s+/g, '$1')
      .split(/\s+/)
      .every((c) => {
        const m = /^([<>]=?|=|\^|~)?v?(\d+)(?:\.(\d+|[x*]))?(?:\.(\d+|[x*]))?$/.exec(c);
        if (!m) throw new Error(`range ${range}: cannot read ${c}`);
        const [, op = '', major, minor, patch] = m;
        const given = [major, minor, patch].filter((p) => p !== undefined && p !== 'x' && p !== '*').length;
        const low = parse([major, minor, patch].slice(0, given).join('.'));
        // The first version past a partial or caret/tilde range.
        const bump = (i: number): Version => {
          const up: Version = [...low];
          up[i]++;
          for (let j = i + 1; j < 3; j++) up[j] = 0;
          return up;
        };
        switch (op) {
          case '>=':
            return cmp(v, low) >= 0;
          case '>':
            return given === 3 ? cmp(v, low) > 0 : cmp(v, bump(given - 1)) >= 0;
          case '<':
            return cmp(v, low) < 0;
          case '<=':
            return given === 3 ? cmp(v, low) <= 0 : cmp(v, bump(given - 1)) < 0;
          case '^':
            return cmp(v, low) >= 0 && cmp(v, bump(low[0] > 0 || given === 1 ? 0 : low[1] > 0 || given === 2 ? 1 : 2)) < 0;
          case '~':
            return cmp(v, low) >= 0 && cmp(v, bump(given === 1 ? 0 : 1)) < 0;
          default:
            return cmp(v, low) >= 0 && cmp(v, bump(given - 1)) < 0;
        }
      }),
  );
}

describe('supported Node versions', () => {
  const pkg = JSON.parse(read('package.json')) as { engines: { node: string } };
  const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, LockEntry> };
  /** The lowest version of each line package.json admits, and the newest line: what must work. */
  const supported = ['20.19.0', '22.12.0', '24.0.0'];

  it('package.json names the Node lines the toolchain supports (vite and rolldown: ^20.19.0 || >=22.12.0)', () => {
    expect(pkg.engines.node).toBe('^20.19.0 || >=22.12.0');
    for (const v of supported) expect(satisfies(v, pkg.engines.node), v).toBe(true);
    for (const v of ['18.20.0', '20.18.3', '21.7.0', '22.11.0']) expect(satisfies(v, pkg.engines.node), v).toBe(false);
    expect(satisfies(process.versions.node, pkg.engines.node), `running Node ${process.versions.node}`).toBe(true);
  });

  it('the README says which versions are supported and tested', () => {
    const readme = read('README.md');
    expect(readme).toContain('Node.js 20.19+, 22.12+ and 24');
    expect(readme).toContain(`\`engines\`: \`${pkg.engines.node}\``);
  });

  // cookie@2 (fastify → light-my-request) declares node >=22. light-my-request is fastify's
  // inject(), loaded only when inject() is called: Herald never calls it, a test does, on Node 20 too.
  const exceptions: Record<string, string> = { 'node_modules/cookie': 'fastify inject() only' };

  it('every locked package accepts the lowest supported version of each line (but the one exception)', () => {
    const refused: string[] = [];
    for (const [path, entry] of Object.entries(lock.packages)) {
      const range = !Array.isArray(entry.engines) ? entry.engines?.node : undefined;
      if (!path || !range || path in exceptions || (entry as { optional?: boolean }).optional) continue;
      for (const v of supported) if (!satisfies(v, range)) refused.push(`${path}@${entry.version} (${range}) refuses ${v}`);
    }
    expect(refused).toEqual([]);
    expect(lock.packages['node_modules/cookie']?.engines).toEqual({ node: '>=22' });
  });

  it('cookie@2 loads and works on the running Node: inject() sends the cookies it is given', async () => {
    const { default: fastify } = await import('fastify');
    await using app = Object.assign(fastify(), { [Symbol.asyncDispose]: () => app.close() });
    app.get('/', (req) => ({ cookie: req.headers.cookie }));
    const res = await app.inject({ url: '/', cookies: { a: 'b c', d: 'e' } });
    expect(res.json()).toEqual({ cookie: 'a=b%20c; d=e' });
  });

  it('the range reader reads the forms the lock holds', () => {
    expect(satisfies('20.19.0', '^20.19.0 || >=22.12.0')).toBe(true);
    expect(satisfies('22.11.9', '^20.19.0 || >=22.12.0')).toBe(false);
    expect(satisfies('14.0.0', '^10 || ^12 || ^13.7 || ^14 || >=15.0.1')).toBe(true);
    expect(satisfies('13.6.0', '^10 || ^12 || ^13.7 || ^14 || >=15.0.1')).toBe(false);
    expect(satisfies('8.1.0', '6.* || 8.* || >= 10.*')).toBe(true);
    expect(satisfies('9.0.0', '6.* || 8.* || >= 10.*')).toBe(false);
    expect(satisfies('20.0.0', '>= 0.6')).toBe(true);
    expect(satisfies('19.9.9', '>=20')).toBe(false);
    expect(satisfies('0.2.5', '^0.2.3')).toBe(true);
    expect(satisfies('0.3.0', '^0.2.3')).toBe(false);
    expect(satisfies('1.2.9', '~1.2.3')).toBe(true);
    expect(satisfies('1.3.0', '~1.2.3')).toBe(false);
  });
});

describe('a fresh clone installs with npm ci', () => {
  const lock = JSON.parse(read('package-lock.json')) as { lockfileVersion: number; packages: Record<string, LockEntry> };
  const pkg = JSON.parse(read('package.json')) as LockEntry;

  it('the lock file names the same dependencies as package.json', () => {
    expect(lock.lockfileVersion).toBe(3);
    expect(lock.packages[''].dependencies).toEqual(pkg.dependencies);
    expect(lock.packages[''].devDependencies).toEqual(pkg.devDependencies);
  });

  // npm ci refuses a lock that lacks an optional dependency of a locked package, even one for
  // another platform (Biome's @biomejs/cli-<os>-<cpu>): the lock must list all of them.
  it('the lock file holds every optional (platform) package of every locked package', () => {
    const missing: string[] = [];
    for (const [path, entry] of Object.entries(lock.packages)) {
      for (const dep of Object.keys(entry.optionalDependencies ?? {})) {
        if (!resolveInLock(lock.packages, path, dep)) missing.push(`${path || '(root)'} → ${dep}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('the README installs with npm ci and .ci/run runs exactly its test command', () => {
    const readme = read('README.md');
    expect(readme).not.toMatch(/npm install\b/);
    expect(readme).toContain('```sh\nnpm ci && npm start\n```');
    const testCommand = /Install and run the whole test suite[^\n]*\n\n```sh\n([^\n]+)\n```/.exec(readme)?.[1];
    expect(testCommand).toBe('npm ci && npm test');
    const script = read('.ci/run').trimEnd().split('\n');
    expect(script.at(-1)).toBe(testCommand);
  });

  it('what the build and the tests write is ignored by git', () => {
    const written = ['node_modules/x', 'dist/cli.js', 'test-artifacts/dashboard.png', 'bench/results/profiles/run/x.heapsnapshot', 'x.cpuprofile'];
    const ignored = execFileSync('git', ['check-ignore', '--no-index', ...written], { cwd: ROOT, encoding: 'utf8' })
      .trim()
      .split('\n');
    expect(ignored).toEqual(written);
  });
});

describe('.ci/run on a machine that lacks PostgreSQL', () => {
  const stubs = mkdtempSync(join(tmpdir(), 'herald-ci-run-'));
  const log = join(stubs, 'calls.log');
  afterAll(() => rmSync(stubs, { recursive: true, force: true }));

  const stub = (name: string, body: string) => {
    writeFileSync(join(stubs, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(stubs, name), 0o755);
  };
  /** Runs .ci/run with apt-get and npm recorded instead of run; returns the calls. */
  const run = () => {
    rmSync(log, { force: true });
    // /usr/local/bin is left out so that only the stubs decide whether initdb is on PATH.
    execFileSync('bash', [join(ROOT, '.ci/run')], { env: { PATH: `${stubs}:/usr/bin:/bin`, CALLS: log }, stdio: 'pipe' });
    return readFileSync(log, 'utf8').trim().split('\n');
  };
  stub('apt-get', 'echo "apt-get $*" >> "$CALLS"');
  stub('npm', 'echo "npm $*" >> "$CALLS"');

  it('installs postgresql with apt when initdb is neither on PATH nor under /usr/lib/postgresql', () => {
    stub('ls', 'exit 2'); // no /usr/lib/postgresql/*/bin/initdb
    const calls = run();
    expect(calls.find((c) => c.startsWith('apt-get install'))?.split(' ')).toContain('postgresql');
    expect(calls.slice(-2)).toEqual(['npm ci', 'npm test']);
  });

  it('does not when initdb is there', () => {
    stub('initdb', 'exit 0');
    const calls = run();
    expect(calls.filter((c) => c.includes('postgresql'))).toEqual([]);
    expect(calls.slice(-2)).toEqual(['npm ci', 'npm test']);
  });
});
