import type { ChildProcess } from 'node:child_process';

/**
 * Request/answer over a child process's IPC channel. Every bench process (server wrappers, load
 * workers, publishers) is driven this way, so the orchestrator never parses anyone's stdout.
 */
export interface IpcRequest {
  rpc: number;
  type: string;
  [key: string]: unknown;
}

export interface IpcAnswer {
  rpc: number;
  ok: boolean;
  error?: string;
  value?: unknown;
}

/** An unsolicited message from a child (e.g. "seq 12 complete"). */
export interface IpcEvent {
  event: string;
  [key: string]: unknown;
}

export class RpcClient {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  readonly #listeners = new Map<string, Set<(e: IpcEvent) => void>>();
  #next = 1;
  #exited: string | null = null;

  constructor(
    child: ChildProcess,
    readonly name: string,
  ) {
    this.#child = child;
    child.on('message', (m: unknown) => this.#onMessage(m));
    child.on('exit', (code, signal) => {
      this.#exited = `${name} exited (code ${code}, signal ${signal})`;
      for (const p of this.#pending.values()) {
        clearTimeout(p.timer);
        p.reject(new Error(this.#exited));
      }
      this.#pending.clear();
    });
  }

  #onMessage(m: unknown): void {
    if (typeof m !== 'object' || m === null) return;
    if ('event' in m) {
      const e = m as IpcEvent;
      for (const fn of this.#listeners.get(e.event) ?? []) fn(e);
      return;
    }
    const a = m as IpcAnswer;
    const p = this.#pending.get(a.rpc);
    if (!p) return;
    this.#pending.delete(a.rpc);
    clearTimeout(p.timer);
    if (a.ok) p.resolve(a.value);
    else p.reject(new Error(`${this.name}: ${a.error}`));
  }

  call<T>(type: string, payload: Record<string, unknown> = {}, timeoutMs = 120_000): Promise<T> {
    if (this.#exited) return Promise.reject(new Error(this.#exited));
    const rpc = this.#next++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(rpc);
        reject(new Error(`${this.name}: ${type} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(rpc, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.#child.send({ rpc, type, ...payload } satisfies IpcRequest);
    });
  }

  on(event: string, fn: (e: IpcEvent) => void): () => void {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(fn);
    return () => set.delete(fn);
  }

  get exited(): boolean {
    return this.#exited !== null;
  }
}

type Handler = (req: IpcRequest) => unknown;

/**
 * The child side: answers requests with the handler of their type. The child exits when its
 * parent goes away (IPC disconnect) and, as a last resort, after `maxLifetimeMs`, so no bench
 * process outlives a crashed or interrupted run.
 */
export function serveRpc(handlers: Record<string, Handler>, maxLifetimeMs: number): void {
  if (!process.send) throw new Error('bench child started without an IPC channel (use child_process.fork)');
  process.on('disconnect', () => process.exit(0));
  setTimeout(() => {
    process.stderr.write(`bench child ${process.pid}: lifetime of ${maxLifetimeMs} ms reached, exiting\n`);
    process.exit(3);
  }, maxLifetimeMs).unref();
  process.on('message', (m: IpcRequest) => {
    const handler = handlers[m.type];
    const answer = (a: Omit<IpcAnswer, 'rpc'>) => process.send?.({ rpc: m.rpc, ...a });
    if (!handler) {
      answer({ ok: false, error: `unknown request ${m.type}` });
      return;
    }
    Promise.resolve()
      .then(() => handler(m))
      .then(
        (value) => answer({ ok: true, value }),
        (err: unknown) => answer({ ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
      );
  });
}

/** Sends an unsolicited event to the parent. */
export function emitEvent(event: string, payload: Record<string, unknown> = {}): void {
  process.send?.({ event, ...payload });
}
