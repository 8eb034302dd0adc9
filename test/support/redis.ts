import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/**
 * A private `redis-server` for tests: its own free port on 127.0.0.1, its own temporary `--dir`,
 * no snapshots. Never the machine's Redis on 6379. Stop it with `await using` or {@link stop}.
 */
export interface TestRedis {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly process: ChildProcess;
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface TestRedisOptions {
  /** Turn the append-only file on (for tests that restart Redis itself). @default false */
  appendonly?: boolean;
  /**
   * Cluster mode: one node owning all 16384 slots. Scripts and multi-key commands whose keys are
   * in different slots then fail with CROSSSLOT, as they would in a real Redis Cluster.
   * @default false
   */
  cluster?: boolean;
  /** Cluster mode: the slots this node owns. @default every slot, [0, 16383] */
  slots?: [number, number];
  /** A fixed port (to bring a stopped server back on the same address); else a free one. */
  port?: number;
  /** How long to wait for the server to answer PING. @default 10000 */
  startTimeoutMs?: number;
}

/** `REDIS_SERVER` if set, else `redis-server` found on PATH (or /usr/bin, /usr/local/bin). */
function findRedisServer(): string {
  const explicit = process.env.REDIS_SERVER;
  const candidates = explicit ? [explicit] : [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/local/bin'].map((d) => join(d, 'redis-server'));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {}
  }
  throw new Error(
    `redis-server not found (${explicit ? `REDIS_SERVER=${explicit} is not executable` : 'not on PATH'}). ` +
      'The Redis tests start their own server: install it (Debian/Ubuntu: apt-get install redis-server) or set REDIS_SERVER=/path/to/redis-server.',
  );
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

/** One command over a raw socket (RESP); resolves with the raw reply text, or null on failure. */
function command(port: number, ...args: string[]): Promise<string | null> {
  return new Promise((resolve) => {
    const s = new Socket();
    const done = (reply: string | null) => {
      s.destroy();
      resolve(reply);
    };
    s.setTimeout(500, () => done(null));
    s.once('error', () => done(null));
    s.once('data', (d) => done(d.toString()));
    s.connect(port, '127.0.0.1', () => s.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`));
  });
}

async function ping(port: number): Promise<boolean> {
  return (await command(port, 'PING'))?.startsWith('+PONG') ?? false;
}

/** Starts a redis-server on a free port and waits until it answers PING. */
export async function startRedis(opts: TestRedisOptions = {}): Promise<TestRedis> {
  const bin = findRedisServer();
  const deadline = Date.now() + (opts.startTimeoutMs ?? 10_000);
  // The port is free when we look and taken when Redis binds it; another process may win the
  // race in between, so a server that exits early is retried on a new port.
  for (let attempt = 1; ; attempt++) {
    const port = opts.port ?? (await freePort());
    const dir = mkdtempSync(join(tmpdir(), 'herald-redis-'));
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', opts.appendonly ? 'yes' : 'no', '--dir', dir];
    // The cluster bus gets a free port of its own (by default it is port + 10000, which may be taken).
    if (opts.cluster) args.push('--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf'), '--cluster-port', String(await freePort()));
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (d) => {
      output = (output + d.toString()).slice(-4000);
    });
    child.stderr?.on('data', (d) => {
      output = (output + d.toString()).slice(-4000);
    });
    const exited = once(child, 'exit').then(() => true);
    let exitedEarly = false;
    void exited.then(() => {
      exitedEarly = true;
    });
    while (!exitedEarly && Date.now() < deadline && !(await ping(port))) await new Promise((r) => setTimeout(r, 20));
    if (opts.cluster && !exitedEarly) {
      const [from, to] = opts.slots ?? [0, 16383];
      await command(port, 'CLUSTER', 'ADDSLOTSRANGE', String(from), String(to));
      while (!opts.slots && Date.now() < deadline && !(await command(port, 'CLUSTER', 'INFO'))?.includes('cluster_state:ok'))
        await new Promise((r) => setTimeout(r, 20));
    }
    if (!exitedEarly && Date.now() < deadline) {
      // A test process that dies without stopping its servers takes them with it.
      const orphanGuard = () => child.kill('SIGKILL');
      process.once('exit', orphanGuard);
      const stop = async () => {
        process.off('exit', orphanGuard);
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const hard = setTimeout(() => child.kill('SIGKILL'), 5000);
          await exited;
          clearTimeout(hard);
        }
        rmSync(dir, { recursive: true, force: true });
      };
      return { port, url: `redis://127.0.0.1:${port}`, process: child, stop, [Symbol.asyncDispose]: stop };
    }
    if (!exitedEarly) child.kill('SIGKILL');
    await exited;
    rmSync(dir, { recursive: true, force: true });
    if (exitedEarly && opts.port === undefined && attempt < 5 && Date.now() < deadline) continue;
    throw new Error(`redis-server did not start on port ${port}: ${output.trim() || 'no output'}`);
  }
}

let prefixCounter = 0;

/** A key prefix no other test (in this or another worker) uses: `t<pid>-<n>-<random>:`. */
export function uniquePrefix(): string {
  return `t${process.pid}-${++prefixCounter}-${Math.random().toString(36).slice(2, 8)}:`;
}

/** A Redis Cluster of several shards (one master each, no replicas), every node a {@link TestRedis}. */
export interface TestRedisCluster {
  readonly nodes: TestRedis[];
  /** The first node's URL: a seed for a cluster client. */
  readonly url: string;
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts `shards` cluster-mode redis-servers, splits the 16384 slots between them, joins them
 * (CLUSTER MEET) and waits until every node reports the cluster ok and knows the others.
 */
export async function startRedisCluster(shards = 3, timeoutMs = 15_000): Promise<TestRedisCluster> {
  const size = Math.ceil(16384 / shards);
  const nodes = await Promise.all(
    Array.from({ length: shards }, (_, i) => startRedis({ cluster: true, slots: [i * size, Math.min(16383, (i + 1) * size - 1)] })),
  );
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.stop()));
  };
  try {
    const busPort = async (n: TestRedis) => {
      const reply = (await command(n.port, 'CONFIG', 'GET', 'cluster-port')) ?? '';
      return (
        reply
          .split('\r\n')
          .filter((l) => /^\d+$/.test(l))
          .pop() ?? ''
      );
    };
    for (const n of nodes.slice(1)) await command(nodes[0].port, 'CLUSTER', 'MEET', '127.0.0.1', String(n.port), await busPort(n));
    const deadline = Date.now() + timeoutMs;
    const ready = async (n: TestRedis) => {
      const info = (await command(n.port, 'CLUSTER', 'INFO')) ?? '';
      return info.includes('cluster_state:ok') && info.includes(`cluster_known_nodes:${shards}`);
    };
    while (!(await Promise.all(nodes.map(ready))).every(Boolean)) {
      if (Date.now() > deadline) throw new Error(`the ${shards}-shard test cluster did not come up within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { nodes, url: nodes[0].url, stop, [Symbol.asyncDispose]: stop };
}
