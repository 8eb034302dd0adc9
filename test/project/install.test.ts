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
