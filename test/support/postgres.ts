import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, chownSync, constants, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/**
 * A private PostgreSQL for tests: `initdb` into a temporary directory, `postgres` on a free port of
 * 127.0.0.1 with its unix socket in that directory, fsync off (unless `durable`), trust authentication for the
 * bootstrap user `herald`. Never the machine's PostgreSQL on 5432, never a database it did not
 * create. PostgreSQL refuses to run as root: when the tests run as root, initdb and postgres run as
 * the `postgres` user and the directory is chowned to it.
 *
 * {@link TestPostgres.stop} shuts the server down and keeps its data, {@link TestPostgres.start}
 * brings it back on the same port (fault tests); dispose stops it and removes the directory.
 */
export interface TestPostgres {
  readonly port: number;
  /** `postgres://herald@127.0.0.1:<port>/herald` */
  readonly url: string;
  /** The running server process (null while stopped). */
  readonly process: ChildProcess | null;
  /** Fast shutdown (SIGINT), keeping the data directory; `signal` SIGKILL simulates a crash. */
  stop(signal?: 'SIGINT' | 'SIGKILL'): Promise<void>;
  /** Starts the stopped server again on the same port. */
  start(): Promise<void>;
  /** A `psql`-free one-shot query as the superuser (tests' own checks). */
  query(sql: string): Promise<string>;
  destroy(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface TestPostgresOptions {
  /** How long to wait for the server to accept connections. @default 20000 */
  startTimeoutMs?: number;
  /**
   * PostgreSQL's own defaults for durability (fsync, synchronous commit, full page writes) instead
   * of the tests' fast settings: what the bench measures against. @default false
   */
  durable?: boolean;
}

const VERSIONS_DIR = '/usr/lib/postgresql';

/**
 * The directory holding `initdb` and `postgres`: `PG_BIN` if set, else PATH, else Debian's
 * /usr/lib/postgresql/<version>/bin (highest version), where the postgresql package keeps them.
 */
export function findPostgresBin(): string {
  const explicit = process.env.PG_BIN;
  const dirs = explicit ? [explicit] : (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  if (!explicit) {
    try {
      const versions = readdirSync(VERSIONS_DIR)
        .filter((v) => /^\d+$/.test(v))
        .sort((a, b) => Number(b) - Number(a));
      dirs.push(...versions.map((v) => join(VERSIONS_DIR, v, 'bin')));
    } catch {}
  }
  for (const d of dirs) {
    try {
      accessSync(join(d, 'initdb'), constants.X_OK);
      accessSync(join(d, 'postgres'), constants.X_OK);
      return d;
    } catch {}
  }
  throw new Error(
    `initdb/postgres not found (${explicit ? `PG_BIN=${explicit}` : `PATH and ${VERSIONS_DIR}/*/bin`}). ` +
      'The PostgreSQL tests start their own server: install it (Debian/Ubuntu: apt-get install postgresql) or set PG_BIN.',
  );
}

/** uid/gid of the `postgres` user when running as root (PostgreSQL refuses root), else undefined. */
function runAs(): { uid: number; gid: number } | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('running as root and there is no postgres user to run PostgreSQL as (PostgreSQL refuses root)');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = new Socket();
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(300, () => done(false));
    s.once('error', () => done(false));
    s.connect(port, '127.0.0.1', () => done(true));
  });
}

const SETTINGS = ['listen_addresses=127.0.0.1', 'max_connections=200', 'log_min_messages=warning', 'logging_collector=off'];
/** Tests need no durability: nothing survives the test run anyway. */
const FAST = ['fsync=off', 'synchronous_commit=off', 'full_page_writes=off', 'shared_buffers=32MB'];

/** initdb (once per call) and starts the server; resolves when it accepts queries. */
export async function startPostgres(opts: TestPostgresOptions = {}): Promise<TestPostgres> {
  const bin = findPostgresBin();
  const user = runAs();
  const dir = mkdtempSync(join(tmpdir(), 'herald-pg-'));
  const data = join(dir, 'data');
  if (user) chownSync(dir, user.uid, user.gid);
  try {
    execFileSync(join(bin, 'initdb'), ['-D', data, '-U', 'herald', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: dir,
      ...user,
    });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    const e = err as { stderr?: Buffer; message: string };
    throw new Error(`initdb failed: ${e.stderr?.toString() || e.message}`);
  }
  let child: ChildProcess | null = null;
  let exited: Promise<unknown> = Promise.resolve();
  let port = 0;
  const timeoutMs = opts.startTimeoutMs ?? 20_000;
  const orphanGuard = () => child?.kill('SIGKILL');

  const launch = async (fixedPort?: number) => {
    const deadline = Date.now() + timeoutMs;
    for (let attempt = 1; ; attempt++) {
      port = fixedPort ?? (await freePort());
      const settings = opts.durable ? SETTINGS : [...SETTINGS, ...FAST];
      const args = ['-D', data, '-p', String(port), '-k', dir, ...settings.flatMap((s) => ['-c', s])];
      const proc = spawn(join(bin, 'postgres'), args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir, ...user });
      let output = '';
      const keep = (d: Buffer) => {
        output = (output + d.toString()).slice(-4000);
      };
      proc.stdout?.on('data', keep);
      proc.stderr?.on('data', keep);
      let gone = false;
      const procExited = once(proc, 'exit').then(() => {
        gone = true;
      });
      // "ready" means a query runs, not only that the port is open: startup recovery comes first.
      const ready = async () =>
        (await portOpen(port)) &&
        (await superuserQuery(port, 'SELECT 1').then(
          () => true,
          () => false,
        ));
      while (!gone && Date.now() < deadline && !(await ready())) await new Promise((r) => setTimeout(r, 30));
      if (!gone && Date.now() < deadline) {
        child = proc;
        exited = procExited;
        process.once('exit', orphanGuard);
        return;
      }
      if (!gone) proc.kill('SIGKILL');
      await procExited;
      if (fixedPort === undefined && attempt < 5 && Date.now() < deadline) continue;
      throw new Error(`postgres did not start on port ${port}: ${output.trim() || 'no output'}`);
    }
  };

  const stop = async (signal: 'SIGINT' | 'SIGKILL' = 'SIGINT') => {
    const proc = child;
    if (!proc) return;
    process.off('exit', orphanGuard);
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill(signal);
      const hard = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(hard);
    }
    child = null;
    if (signal === 'SIGKILL') {
      // The postmaster's children outlive a SIGKILL of it for a moment; wait until the port is free.
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && (await portOpen(port))) await new Promise((r) => setTimeout(r, 30));
    }
  };

  try {
    await launch();
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const destroy = async () => {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  };
  return {
    get port() {
      return port;
    },
    get url() {
      return `postgres://herald@127.0.0.1:${port}/postgres`;
    },
    get process() {
      return child;
    },
    stop,
    start: () => launch(port),
    query: (sql: string) => superuserQuery(port, sql),
    destroy,
    [Symbol.asyncDispose]: destroy,
  };
}

/** One simple query over the wire protocol (startup as `herald`, trust auth); the first column of the first row. */
async function superuserQuery(port: number, sql: string): Promise<string> {
  const pg = await import('pg');
  const client = new pg.default.Client({ host: '127.0.0.1', port, user: 'herald', database: 'postgres', connectionTimeoutMillis: 2000 });
  client.on('error', () => {});
  try {
    await client.connect();
    const r = await client.query({ text: sql, rowMode: 'array' });
    const first = r.rows[0]?.[0];
    return first === undefined || first === null ? '' : String(first);
  } finally {
    await client.end().catch(() => {});
  }
}

let schemaCounter = 0;

/** A schema name no other test (in this or another worker) uses: `t<pid>_<n>_<random>`. */
export function uniqueSchema(): string {
  return `t${process.pid}_${++schemaCounter}_${Math.random().toString(36).slice(2, 8)}`;
}
