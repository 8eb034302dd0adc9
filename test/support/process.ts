import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { API_KEY, JWT_SECRET } from './herald.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

export interface HeraldProcess {
  child: ChildProcess;
  url: string;
  /** Everything the process printed so far. */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Starts `herald serve` from the built CLI (npm test builds first) and waits for its listening line. */
export async function spawnHerald(env: Record<string, string> = {}): Promise<HeraldProcess> {
  const child = spawn(process.execPath, [CLI, 'serve'], {
    env: {
      ...process.env,
      HERALD_PORT: '0',
      HERALD_GRPC_PORT: 'off',
      HERALD_API_KEY: API_KEY,
      HERALD_JWT_SECRET: JWT_SECRET,
      HERALD_LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      // Not left running: the caller never gets a handle to stop it.
      child.kill('SIGKILL');
      reject(new Error(`herald did not start:\n${out}`));
    }, 15_000);
    const check = () => {
      const m = /herald listening http=(\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout?.off('data', check);
        resolve(`http://${m[1]}`);
      }
    };
    child.stdout?.on('data', check);
    exited.then(() => reject(new Error(`herald exited before listening:\n${out}`)));
  });
  return {
    child,
    url,
    output: () => out,
    exited,
    async [Symbol.asyncDispose]() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}
