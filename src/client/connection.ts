import type { DeleteFrame, HeraldNotification, ServerFrame, StateFrame, UpdateFrame, WelcomeFrame } from '../protocol/frames.js';
import { CursorStore } from './cursor-store.js';
import { DeviceHttp } from './device-http.js';
import { Emitter } from './emitter.js';
import type { ClosedInfo, ConnectionState, HeraldEvents } from './events.js';
import { Inbox, type InboxFeed } from './inbox.js';
import { LivenessWatch } from './liveness.js';
import { type ConnectOptions, endpoint, type Resolved, resolveOptions } from './options.js';
import { type PushSubscriptionLike, registerPush, type ServiceWorkerRegistrationLike } from './push.js';
import { RecentIds } from './recent-ids.js';
import { afterEnd, ReconnectPolicy, type StreamEnd } from './reconnect.js';
import { type DeviceStream, type EventSourceConstructor, SseStream, type StreamEvents, type WebSocketConstructor, WsStream } from './streams.js';
import { TokenSource } from './token-source.js';

type Timer = ReturnType<typeof setTimeout>;

/**
 * One device's live connection to Herald, kept up across network drops, frozen tabs, node
 * restarts and token expiry. Create it with {@link connect}. It composes the parts that each own
 * one concern: where the device stands ({@link CursorStore}), what it authenticates with
 * ({@link TokenSource}), when to try again ({@link ReconnectPolicy}), the stream itself
 * (streams.ts) and the dead-server watch (liveness.ts); this class runs the lifecycle and acks.
 */
export class HeraldConnection extends Emitter<HeraldEvents> {
  readonly #o: Resolved;
  #state: ConnectionState = 'connecting';
  readonly #cursors: CursorStore;
  #ackedCursor: string | null = null;
  readonly #ids: RecentIds;
  readonly #tokens: TokenSource;
  readonly #policy: ReconnectPolicy;
  #stream: DeviceStream | null = null;
  #welcome: WelcomeFrame | null = null;
  #retryTimer: Timer | null = null;
  /** The waiting retry honours a draining node's hint: a wake-up does not cut it short. */
  #retryIsHint = false;
  #ackTimer: Timer | null = null;
  #closed: ClosedInfo | null = null;
  /** Bumped whenever an attempt is superseded, so late async results are dropped. */
  #gen = 0;
  readonly #liveness: LivenessWatch;
  readonly #lifecycle = new AbortController();
  readonly #inbox: Inbox;
  #feed!: InboxFeed;

  constructor(options: ConnectOptions) {
    super();
    this.#o = resolveOptions(options);
    this.#cursors = new CursorStore(this.#o, options.cursor ?? null);
    this.#tokens = new TokenSource(this.#o.token, this.#o.getToken);
    const http = new DeviceHttp(this.#o.url, this.#tokens, this.#o.fetch);
    const inboxOpts = { http, device: this.#o.device, max: this.#o.inboxSize, onError: (err: Error) => this.emit('error', err) };
    this.#inbox = new Inbox(inboxOpts, (feed) => {
      this.#feed = feed;
    });
    this.#policy = new ReconnectPolicy(this.#o.backoff, this.#o.random);
    this.#ids = new RecentIds(options.dedupeSize ?? 2048);
    this.#liveness = new LivenessWatch((why) => this.#onDead(why));
    if (options.lifecycle !== false) this.#listenToPage();
    queueMicrotask(() => void this.#open());
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** The last cursor: where a reconnect resumes. */
  get cursor(): string | null {
    return this.#cursors.current;
  }

  get device(): string {
    return this.#o.device;
  }

  get transport(): 'ws' | 'sse' {
    return this.#o.transport;
  }

  /** The current stream's welcome (null before the first). */
  get welcome(): WelcomeFrame | null {
    return this.#welcome;
  }

  /** Why the connection is closed, once it is. */
  get closedInfo(): ClosedInfo | null {
    return this.#closed;
  }

  /**
   * This device's inbox: the client's notifications with their read/seen/archived state, shared
   * live by all of its devices (list, mark read, archive; items and counts kept current by the
   * stream's `state`, `update` and `delete` frames).
   */
  get inbox(): Inbox {
    return this.#inbox;
  }

  /** Resolves when the connection is open (at once if it is); rejects if it closes first. */
  whenOpen(): Promise<void> {
    if (this.#state === 'open') return Promise.resolve();
    if (this.#closed) return Promise.reject(new Error(`connection closed: ${this.#closed.reason}`));
    return new Promise((resolve, reject) => {
      const offs = [
        this.on('welcome', () => {
          for (const off of offs) off();
          resolve();
        }),
        this.on('closed', (info) => {
          for (const off of offs) off();
          reject(new Error(`connection closed: ${info.reason}`));
        }),
      ];
    });
  }

  /**
   * Acknowledges up to `cursor` (default: the last received) now instead of at the end of the
   * batch window. With `autoAck: false` this is how the application confirms what it processed.
   */
  ack(cursor: string | null = this.#cursors.current): void {
    if (this.#ackTimer !== null) clearTimeout(this.#ackTimer);
    this.#ackTimer = null;
    if (cursor === null) return;
    this.#cursors.save(cursor);
    if (cursor === this.#ackedCursor || this.#state !== 'open' || !this.#stream) return;
    this.#stream.ack(cursor);
    this.#ackedCursor = cursor;
  }

  /** Closes for good (acks what arrived first). The device stays registered and resumes next time. */
  close(): void {
    if (this.#closed) return;
    if (this.#o.autoAck) this.ack();
    this.#finish({ reason: 'client', code: 1000 });
  }

  /**
   * Web Push for this device (a fallback while the page is frozen or closed): subscribes the
   * service worker with Herald's VAPID key and registers the subscription. The service worker
   * uses {@link pushHandler} to show and ack what arrives.
   */
  registerPush(registration: ServiceWorkerRegistrationLike): Promise<PushSubscriptionLike> {
    return registerPush(registration, { url: this.#o.url, device: this.#o.device, token: () => this.#tokens.current(), fetch: this.#o.fetch });
  }

  /** Logs the device out: closes, then unregisters it (`DELETE /me/devices/<device>`). */
  async leave(): Promise<void> {
    const token = this.#tokens.last;
    if (!this.#closed) {
      if (this.#o.autoAck) this.ack();
      this.#finish({ reason: 'left', code: 1000 });
    }
    if (token === null) return;
    const res = await this.#o.fetch(endpoint(this.#o.url, `/me/devices/${encodeURIComponent(this.#o.device)}`, {}), {
      method: 'DELETE',
      headers: { authorization: `Bearer ${token}` },
    });
    if (res.status !== 204) throw new Error(`DELETE /me/devices answered ${res.status}`);
  }

  // ---- connecting ----

  async #open(): Promise<void> {
    const gen = ++this.#gen;
    this.#retryTimer = null;
    this.#retryIsHint = false;
    if (this.#closed) return;
    if (this.#state !== 'connecting') this.#setState('reconnecting');
    let token: string;
    try {
      token = await this.#tokens.current();
    } catch (err) {
      if (gen !== this.#gen || this.#closed) return;
      this.emit('error', new Error('getToken failed', { cause: err }));
      this.#retry({ code: null, reason: 'token-refresh' });
      return;
    }
    if (gen !== this.#gen || this.#closed) return;
    if (this.#tokens.deadForGood(token)) {
      this.#finish({ reason: 'unauthorized', code: 1008 });
      return;
    }
    this.#cursors.load(token);
    this.#openStream(token);
  }

  /** A stream over the chosen transport, resuming from the current cursor; retried if it cannot even be created. */
  #openStream(token: string): void {
    const params: Record<string, string> = { device: this.#o.device, token };
    const cursor = this.#cursors.current;
    if (cursor !== null) params.cursor = cursor;
    const events: StreamEvents = {
      open: () => {},
      data: () => this.#liveness.data(),
      frame: (f) => this.#onFrame(f),
      end: (info) => this.#onEnd(info),
    };
    try {
      if (this.#o.transport === 'ws') {
        this.#stream = new WsStream(this.#o.WebSocket as WebSocketConstructor, endpoint(this.#o.url, '/ws', params), events);
      } else {
        params.ack = '1';
        const ackUrl = endpoint(this.#o.url, '/sse/ack', {});
        const opts = { ackUrl, device: this.#o.device, token, fetch: this.#o.fetch, onAckError: (err: Error) => this.emit('error', err) };
        this.#stream = new SseStream(this.#o.EventSource as EventSourceConstructor, endpoint(this.#o.url, '/sse', params), opts, events);
      }
    } catch (err) {
      this.emit('error', new Error('could not open a stream', { cause: err }));
      this.#retry({ code: null, reason: 'gone' });
      return;
    }
    this.#liveness.start({ limitMs: this.#o.connectTimeoutMs });
  }

  // ---- frames ----

  #onFrame(f: ServerFrame): void {
    switch (f.type) {
      case 'welcome':
        this.#onWelcome(f);
        return;
      case 'notification':
        this.#onNotification(f);
        return;
      case 'state':
      case 'update':
      case 'delete':
        this.#onInboxFrame(f);
        return;
      case 'ping': {
        // SSE answers by POST: carry the pending ack along instead of a second request.
        const cursor = this.#cursors.current;
        const ack = this.#o.transport === 'sse' && this.#o.autoAck && cursor !== this.#ackedCursor && this.#state === 'open' ? cursor : null;
        this.#stream?.pong(ack);
        if (ack !== null) {
          this.#ackedCursor = ack;
          this.#cursors.save(ack);
        }
        return;
      }
      case 'shutdown':
        // The node closes the stream around then; the reconnect goes no earlier than the hint.
        this.#policy.hint(f.reconnectAfterMs);
        this.emit('shutdown', f);
        // The next node resumes from the stored cursor too: make it current.
        if (this.#o.autoAck) this.ack();
        return;
      case 'token-expired':
        this.emit('token-expired', f);
        if (this.#tokens.refreshable) this.#reconnectWithFreshToken();
        return;
      default:
        // `pong` (the answer to a probe) and anything newer: the data itself was the point.
        return;
    }
  }

  #onWelcome(w: WelcomeFrame): void {
    this.#welcome = w;
    this.#policy.opened();
    // With nothing pending, the welcome's cursor is where this device stands: resuming from it
    // also gets broadcasts missed later (a device that never received anything has no other).
    if (w.pending === 0 && typeof w.cursor === 'string') this.#cursors.set(w.cursor);
    const hb = w.heartbeat;
    const limitMs = hb && hb.intervalMs > 0 ? hb.intervalMs * this.#o.heartbeatMisses + hb.timeoutMs : this.#o.connectTimeoutMs;
    this.#liveness.start({ limitMs });
    this.#feed.welcome(w);
    this.#setState('open');
    this.emit('welcome', w);
    if (this.#o.autoAck && this.#cursors.current !== this.#ackedCursor) this.#scheduleAck();
  }

  #onNotification(n: HeraldNotification): void {
    if (typeof n.cursor === 'string') this.#cursors.set(n.cursor);
    const fresh = typeof n.id !== 'string' || this.#ids.add(n.id);
    if (this.#o.autoAck) this.#scheduleAck();
    // The inbox first, so that a notification listener renders from an inbox that holds it.
    this.#feed.notification(n);
    if (fresh) this.emit('notification', n);
  }

  /** Inbox changes take a cursor in the stream like notifications: resume replays them in order. */
  #onInboxFrame(f: StateFrame | UpdateFrame | DeleteFrame): void {
    if (typeof f.cursor === 'string') this.#cursors.set(f.cursor);
    if (this.#o.autoAck) this.#scheduleAck();
    this.#feed.frame(f);
  }

  #scheduleAck(): void {
    if (this.#ackTimer === null) this.#ackTimer = setTimeout(() => this.ack(), this.#o.ackDelayMs);
  }

  // ---- losing a stream ----

  #onEnd(end: StreamEnd): void {
    this.#stream = null;
    this.#liveness.stop();
    const wasOpen = this.#state === 'open';
    if (this.#closed) return;
    const verdict = afterEnd(end, this.#tokens.refreshable);
    if (verdict.kind === 'finish') {
      this.#finish(verdict.info);
      return;
    }
    if (!verdict.refreshToken) {
      this.#retry(verdict.info);
      return;
    }
    this.#tokens.markStale();
    // A token that ran out mid-stream is refreshed and used at once; a refused fresh one backs off.
    this.#retry(verdict.info, wasOpen ? 0 : undefined);
  }

  readonly #onDead = (_why: 'silent' | 'probe'): void => {
    const stream = this.#stream;
    if (!stream) return;
    stream.close();
    this.#onEnd({ code: null, reason: 'timeout' });
  };

  #reconnectWithFreshToken(): void {
    if (this.#closed) return;
    if (this.#o.autoAck) this.ack();
    this.#tokens.markStale();
    this.#stream?.close();
    this.#stream = null;
    this.#liveness.stop();
    this.#retry({ code: null, reason: 'token-refresh' }, 0);
  }

  /** Schedules the next attempt: the server's hint if it gave one, else the backoff. */
  #retry(info: StreamEnd, delayMs?: number): void {
    if (this.#ackTimer !== null) clearTimeout(this.#ackTimer);
    this.#ackTimer = null;
    this.#gen++;
    const { delayMs: delay, hinted } = this.#policy.next(delayMs);
    this.#setState('reconnecting');
    this.emit('disconnected', { ...info, reconnect: true, delayMs: delay });
    if (this.#closed) return;
    if (this.#retryTimer !== null) clearTimeout(this.#retryTimer);
    this.#retryIsHint = hinted;
    // No timer for "now": a background tab's timers are throttled to a second or more.
    if (delay === 0) {
      const gen = this.#gen;
      queueMicrotask(() => {
        if (gen === this.#gen && !this.#closed) void this.#open();
      });
      return;
    }
    this.#retryTimer = setTimeout(() => void this.#open(), delay);
  }

  #finish(info: ClosedInfo): void {
    if (this.#closed) return;
    this.#closed = info;
    this.#gen++;
    if (this.#retryTimer !== null) clearTimeout(this.#retryTimer);
    if (this.#ackTimer !== null) clearTimeout(this.#ackTimer);
    this.#retryTimer = null;
    this.#ackTimer = null;
    this.#liveness.stop();
    this.#stream?.close();
    this.#stream = null;
    this.#lifecycle.abort();
    const cursor = this.#cursors.current;
    if (cursor !== null) this.#cursors.save(cursor);
    this.#setState('closed');
    if (info.reason !== 'client' && info.reason !== 'left')
      this.emit('disconnected', { code: info.code, reason: info.reason, status: info.status, reconnect: false, delayMs: null });
    this.emit('closed', info);
  }

  #setState(state: ConnectionState): void {
    const previous = this.#state;
    if (previous === state) return;
    this.#state = state;
    this.emit('state', { state, previous });
  }

  // ---- the page's lifecycle (browsers) ----

  #listenToPage(): void {
    const g = globalThis as { addEventListener?: EventTarget['addEventListener']; document?: Document };
    if (typeof g.addEventListener !== 'function') return;
    const opts = { signal: this.#lifecycle.signal };
    g.addEventListener('online', () => this.#wake('online'), opts);
    g.addEventListener('offline', () => this.#wake('offline'), opts);
    g.addEventListener('pageshow', () => this.#wake('pageshow'), opts);
    const doc = g.document;
    if (doc && typeof doc.addEventListener === 'function') {
      doc.addEventListener('visibilitychange', () => doc.visibilityState === 'visible' && this.#wake('visible'), opts);
      // Page Lifecycle API: fired when a frozen page runs again.
      doc.addEventListener('resume', () => this.#wake('resume'), opts);
    }
  }

  /**
   * The page woke up or the network changed. A waiting reconnect goes now (unless it waits for
   * a draining node's hint, or there is no network); an open stream is asked for a sign of life,
   * since the socket may have died while the page slept.
   */
  #wake(why: 'online' | 'offline' | 'pageshow' | 'visible' | 'resume'): void {
    if (this.#closed) return;
    if (why !== 'offline') this.#policy.woke();
    if (this.#retryTimer !== null) {
      if (why === 'offline' || this.#retryIsHint) return;
      clearTimeout(this.#retryTimer);
      this.#retryTimer = null;
      void this.#open();
      return;
    }
    if (this.#state === 'open' && this.#stream?.probe()) {
      const timeout = this.#welcome?.heartbeat?.timeoutMs ?? 5000;
      this.#liveness.probe(Math.min(Math.max(timeout, 1000), 10_000));
    }
  }
}

/**
 * Connects a device to Herald and keeps it connected.
 *
 * @example
 * const conn = connect({ url: 'https://herald.example.com', device: 'laptop', getToken: fetchToken });
 * conn.on('notification', (n) => show(n.title, n.message));
 * conn.on('state', ({ state }) => badge(state));
 */
export function connect(options: ConnectOptions): HeraldConnection {
  return new HeraldConnection(options);
}
