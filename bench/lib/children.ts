import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RpcClient } from './ipc.js';

export const BENCH_DIR = fileURLToPath(new URL('..', import.meta.url));
export const REPO_DIR = fileURLToPath(new URL('../..', import.meta.url));

/** Every process this run started, so an interrupted run ends them (by pid, nothing else). */
const children = new Set<ChildProcess>();
let verbose = false;

export function setVerbose(v: boolean): void {
  verbose = v;
}

export interface Spawned {
  child: ChildProcess;
  rpc: RpcClient;
  /** The last lines the process wrote to stderr (shown when it fails). */
  stderrTail(): string;
  /** Asks nothing: waits for the exit, then kills if it did not come within `graceMs`. */
  waitExit(graceMs: number): Promise<void>;
}

/**
 * Forks a bench module (TypeScript through tsx) with an IPC channel. stdout is dropped, stderr kept
 * in a short ring for diagnostics.
 */
export function spawnBenchProcess(relPath: string, name: string, extraExecArgv: string[] = [], env: NodeJS.ProcessEnv = {}): Spawned {
  const child = fork(fileURLToPath(new URL(`../${relPath}`, import.meta.url)), [], {
    cwd: REPO_DIR,
    execArgv: ['--import', 'tsx', ...extraExecArgv],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, ...env },
    serialization: 'advanced',
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  const tail: string[] = [];
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (s: string) => {
    for (const line of s.split('\n')) {
      if (!line) continue;
      tail.push(line);
      if (tail.length > 40) tail.shift();
      if (verbose) process.stderr.write(`  [${name}] ${line}\n`);
    }
  });
  child.stdout?.resume();
  const rpc = new RpcClient(child, name);
  return {
    child,
    rpc,
    stderrTail: () => tail.join('\n'),
    waitExit: (graceMs) =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
        }, graceMs);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}

/** Ends every child still running (interrupted or failed run). */
export function killAllChildren(): void {
  for (const c of children) c.kill('SIGKILL');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
