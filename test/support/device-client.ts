import { token } from './herald.js';

export { token };

export type TransportName = 'ws' | 'sse' | 'grpc' | 'grpc-web' | 'connect';

/** A server → device event, in the WebSocket JSON shape whatever the transport carried it as. */
export interface Frame {
  type: string;
  [k: string]: unknown;
}

/** How the server ended the stream as the device saw it; code -1 = no close from the server. */
export interface CloseInfo {
  code: number;
  reason: string;
}

/**
 * What every test device can do, whichever transport it speaks: record frames, wait for them,
 * answer pings (or not), ack, stop reading, and close. Each transport fills in the wire.
 */
export abstract class DeviceClient implements AsyncDisposable {
  abstract readonly transport: TransportName;
  readonly frames: Frame[] = [];
  /** Answer pings (a well-behaved device); false makes it a zombie. */
  autoPong = true;
  readonly closed: Promise<CloseInfo>;
  #settle!: (c: CloseInfo) => void;
  #settled = false;
  #waiters: { pred: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];

  constructor() {
    this.closed = new Promise((resolve) => {
      this.#settle = resolve;
    });
  }

  get notifications(): Frame[] {
    return this.frames.filter((f) => f.type === 'notification');
  }

  get isClosed(): boolean {
    return this.#settled;
  }

  protected receive(f: Frame): void {
    this.frames.push(f);
    if (f.type === 'ping' && this.autoPong) this.answerPing();
    this.#waiters = this.#waiters.filter((w) => {
      if (!w.pred(f)) return true;
      w.resolve(f);
      return false;
    });
  }

  protected settle(c: CloseInfo): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#settle(c);
  }

  protected abstract answerPing(): void;
  /** A pong; with a cursor also an ack (WebSocket frame, POST /sse/ack, gRPC Ack). */
  abstract ack(cursor?: string): Promise<unknown>;
  /** Stop reading from the network: the server's writes back up. */
  abstract stopReading(): void;
  abstract resumeReading(): void;
  /** The device leaves on its own. */
  abstract close(): void;
  protected abstract dispose(): Promise<void>;

  /** Resolves with the first frame (already received or future) matching `pred`. */
  waitFor(pred: (f: Frame) => boolean, timeoutMs = 5000): Promise<Frame> {
    const seen = this.frames.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${this.transport}: timed out waiting for a frame; last frames ${JSON.stringify(this.frames.slice(-5))}`)),
        timeoutMs,
      );
      this.#waiters.push({
        pred,
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f);
        },
      });
    });
  }

  async waitForNotifications(n: number, timeoutMs = 5000): Promise<Frame[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.notifications.length < n) {
      if (Date.now() > deadline) throw new Error(`${this.transport}: expected ${n} notifications, got ${this.notifications.length}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    return this.notifications;
  }

  /** `closed`, bounded: a stream the server never closes fails the test instead of hanging it. */
  closedWithin(ms = 5000): Promise<CloseInfo> {
    return Promise.race([
      this.closed,
      new Promise<CloseInfo>((_, reject) =>
        setTimeout(() => reject(new Error(`${this.transport}: not closed within ${ms} ms; last frames ${JSON.stringify(this.frames.slice(-5))}`)), ms).unref(),
      ),
    ]);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.resumeReading();
    await this.dispose();
  }
}
