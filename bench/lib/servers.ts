import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CpuSample, MemorySample, StartedServer } from '../servers/control.js';
import { DEFAULT_SERVER_SETTINGS, type ServerKind, type ServerSettings } from '../servers/kinds.js';
import { type Spawned, spawnBenchProcess } from './children.js';

export interface ProfileRequest {
  dir: string;
  name: string;
}

/** A measured stretch of a scenario, in the server's monotonic clock (µs). */
export interface MeasureWindow {
  label: string;
  fromUs: number;
  toUs: number;
}

export interface WindowCost {
  pctOfCore: number;
  cpuUs: number;
  wallMs: number;
  /** GC pause time inside the window, how many, and the longest. */
  gcMs: number;
  gcCount: number;
  gcMaxMs: number;
  /** The server's longest event-loop stall inside the window. */
  loopDelayMaxMs: number;
}

/** What {@link ServerHandle.begin} hands back to {@link ServerHandle.end}. */
export interface OpenWindow {
  label: string;
  at: CpuSample;
}

/** A server under test, in its own process, with `--expose-gc` so memory is read after a full GC. */
export class ServerHandle {
  readonly kind: ServerKind;
  readonly port: number;
  readonly info: Record<string, unknown>;
  readonly #proc: Spawned;
  readonly #profile: ProfileRequest | undefined;
  readonly windows: MeasureWindow[] = [];
  /** GC pauses inside the measured windows, by window label. */
  readonly gc: Record<string, { count: number; totalMs: number; maxMs: number; loopDelayMaxMs: number }> = {};

  private constructor(kind: ServerKind, proc: Spawned, started: StartedServer, profile: ProfileRequest | undefined) {
    this.kind = kind;
    this.#proc = proc;
    this.#profile = profile;
    this.port = started.port;
    this.info = started.info ?? {};
  }

  static async start(kind: ServerKind, settings: Partial<ServerSettings> = {}, profile?: ProfileRequest, env: NodeJS.ProcessEnv = {}): Promise<ServerHandle> {
    const execArgv = ['--expose-gc'];
    if (profile) {
      // Node's own file names (pid and thread id): tsx's loader thread writes a profile too, and
      // with one fixed name it would overwrite the main thread's.
      mkdirSync(rawProfileDir(profile), { recursive: true });
      execArgv.push('--cpu-prof', '--cpu-prof-dir', rawProfileDir(profile));
    }
    const proc = spawnBenchProcess(`servers/${kind.script}`, kind.id, execArgv, env);
    try {
      const started = await proc.rpc.call<StartedServer>('start', { settings: { ...DEFAULT_SERVER_SETTINGS, ...kind.settings, ...settings } }, 60_000);
      return new ServerHandle(kind, proc, started, profile);
    } catch (err) {
      proc.child.kill('SIGKILL');
      throw new Error(`${kind.label} did not start: ${(err as Error).message}\n${proc.stderrTail()}`);
    }
  }

  mem(): Promise<MemorySample> {
    return this.#proc.rpc.call<MemorySample>('mem', {}, 60_000);
  }

  cpu(): Promise<CpuSample> {
    return this.#proc.rpc.call<CpuSample>('cpu', {}, 30_000);
  }

  /** Starts a measured window: CPU is counted from here, and a profile is summarised over such windows. */
  async begin(label: string): Promise<OpenWindow> {
    return { label, at: await this.cpu() };
  }

  /** Ends a window: the server's CPU over it, and its GC pauses. */
  async end(w: OpenWindow): Promise<WindowCost> {
    const now = await this.cpu();
    this.windows.push({ label: w.label, fromUs: w.at.hrUs, toUs: now.hrUs });
    const cost = {
      ...cpuBetween(w.at, now),
      gcMs: now.gcTotalMs - w.at.gcTotalMs,
      gcCount: now.gcCount - w.at.gcCount,
      gcMaxMs: now.gcMaxMs,
      loopDelayMaxMs: now.loopDelayMaxMs,
    };
    this.gc[w.label] ??= { count: 0, totalMs: 0, maxMs: 0, loopDelayMaxMs: 0 };
    const g = this.gc[w.label];
    g.count += cost.gcCount;
    g.totalMs += cost.gcMs;
    g.maxMs = Math.max(g.maxMs, cost.gcMaxMs);
    g.loopDelayMaxMs = Math.max(g.loopDelayMaxMs, cost.loopDelayMaxMs);
    return cost;
  }

  /** Writes a heap snapshot of the server to `path` (seconds, and memory, for a big heap). */
  heapSnapshot(path: string): Promise<string> {
    return this.#proc.rpc.call<string>('heap-snapshot', { path }, 300_000);
  }

  get pid(): number | undefined {
    return this.#proc.child.pid;
  }

  async stop(): Promise<void> {
    if (this.#proc.rpc.exited) return;
    await this.#proc.rpc.call('stop', {}, 5000).catch(() => undefined);
    // A profile of a busy process can take a few seconds to write.
    await this.#proc.waitExit(20_000);
    if (this.#profile) {
      keepMainThreadProfile(this.#profile);
      writeFileSync(join(this.#profile.dir, `${this.#profile.name}.windows.json`), `${JSON.stringify(this.windows)}\n`);
    }
  }

  stderrTail(): string {
    return this.#proc.stderrTail();
  }
}

function rawProfileDir(p: ProfileRequest): string {
  return join(p.dir, `${p.name}.raw`);
}

/** `CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile`: thread 0 is the main thread, the server's. */
function keepMainThreadProfile(p: ProfileRequest): void {
  const raw = rawProfileDir(p);
  const main = readdirSync(raw).find((f) => f.split('.')[4] === '0');
  if (main) renameSync(join(raw, main), join(p.dir, `${p.name}.cpuprofile`));
  rmSync(raw, { recursive: true, force: true });
}

/** CPU between two samples: share of one core, and the µs of CPU spent. */
export function cpuBetween(a: CpuSample, b: CpuSample): { pctOfCore: number; cpuUs: number; wallMs: number } {
  const cpuUs = b.userUs - a.userUs + (b.systemUs - a.systemUs);
  const wallMs = b.atMs - a.atMs;
  return { pctOfCore: wallMs > 0 ? (cpuUs / 1000 / wallMs) * 100 : 0, cpuUs, wallMs };
}
