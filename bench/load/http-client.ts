import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';

/** One HTTP answer as the publisher needs it. */
export interface HttpAnswer {
  status: number;
  body: string;
}

export interface HttpClient {
  post(path: string, body: string): Promise<HttpAnswer>;
  close(): void;
}

export interface HttpClientOptions {
  port: number;
  localAddress: string;
  headers: Record<string, string>;
  connections: number;
  /** Requests in flight per connection (HTTP/1.1 pipelining; 1 = plain keep-alive). */
  pipelining: number;
}

/**
 * `node:http` with a keep-alive Agent: what most backends use. Measured here at ~55–65 µs of CPU
 * per request, as much as the servers under test spend, so on two cores it cannot ask 20 000/s.
 */
export function agentClient(o: HttpClientOptions): HttpClient {
  const agent = new Agent({ keepAlive: true, maxSockets: o.connections, keepAliveMsecs: 10_000 });
  return {
    post: (path, body) =>
      new Promise((resolve) => {
        const req = request(
          {
            agent,
            host: '127.0.0.1',
            port: o.port,
            method: 'POST',
            path,
            localAddress: o.localAddress,
            headers: { ...o.headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
            res.on('error', () => resolve({ status: -1, body: '' }));
          },
        );
        req.on('error', (err) => resolve({ status: -1, body: err.message }));
        req.end(body);
      }),
    close: () => agent.destroy(),
  };
}

const CRLFCRLF = Buffer.from('\r\n\r\n');
const CONTENT_LENGTH = /\r\ncontent-length:\s*(\d+)/i;

/** One keep-alive connection: requests written back to back, answers matched in order (HTTP/1.1). */
class LeanConnection {
  readonly #socket: Socket;
  readonly #waiting: ((a: HttpAnswer) => void)[] = [];
  #buf: Buffer = Buffer.alloc(0);
  #corked = false;
  #dead: string | null = null;

  constructor(o: HttpClientOptions) {
    this.#socket = connect({ host: '127.0.0.1', port: o.port, localAddress: o.localAddress, noDelay: true });
    this.#socket.on('data', (d: Buffer) => this.#onData(d));
    const fail = (why: string) => {
      this.#dead = why;
      for (const w of this.#waiting.splice(0)) w({ status: -1, body: why });
    };
    this.#socket.on('error', (e) => fail(e.message));
    this.#socket.on('close', () => fail('connection closed'));
  }

  get inFlight(): number {
    return this.#waiting.length;
  }

  send(text: string): Promise<HttpAnswer> {
    if (this.#dead) return Promise.resolve({ status: -1, body: this.#dead });
    // Requests made in the same turn leave in one write.
    if (!this.#corked) {
      this.#corked = true;
      this.#socket.cork();
      process.nextTick(() => {
        this.#corked = false;
        this.#socket.uncork();
      });
    }
    this.#socket.write(text);
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  #onData(d: Buffer): void {
    this.#buf = this.#buf.length === 0 ? d : Buffer.concat([this.#buf, d]);
    for (;;) {
      const end = this.#buf.indexOf(CRLFCRLF);
      if (end < 0) return;
      const head = this.#buf.toString('latin1', 0, end);
      const m = CONTENT_LENGTH.exec(head);
      if (!m) {
        this.#socket.destroy(new Error('answer without content-length (the lean client does not read chunked bodies)'));
        return;
      }
      const total = end + 4 + Number(m[1]);
      if (this.#buf.length < total) return;
      const status = Number(head.slice(9, 12));
      const body = this.#buf.toString('utf8', end + 4, total);
      this.#buf = this.#buf.subarray(total);
      this.#waiting.shift()?.({ status, body });
    }
  }

  close(): void {
    this.#socket.destroy();
  }
}

/**
 * A minimal HTTP/1.1 keep-alive client on raw sockets, optionally pipelined (as undici's Pool
 * can be): a few µs of CPU per request, so the publisher leaves the server its core. It sends
 * only POSTs with JSON bodies and reads only Content-Length answers, which is all the bench needs.
 */
export function leanClient(o: HttpClientOptions): HttpClient {
  const conns = Array.from({ length: o.connections }, () => new LeanConnection(o));
  const fixed = Object.entries({ host: `127.0.0.1:${o.port}`, 'content-type': 'application/json', ...o.headers })
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  let rr = 0;
  return {
    post(path, body) {
      // Least loaded connection, round robin among equals.
      let best = conns[rr++ % conns.length];
      for (const c of conns) if (c.inFlight < best.inFlight) best = c;
      return best.send(`POST ${path} HTTP/1.1\r\n${fixed}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    },
    close() {
      for (const c of conns) c.close();
    },
  };
}
