// `CasinoRealtime`: the same thin client in every page and on every rung (transport.js). It
// keeps what only the page can keep (the app's callbacks and its subscriptions) and speaks the
// messages of src/share/message.rs to the session's host, which reads and checks the options,
// runs the socket, the timers, decoding, de-duplication and batching, and answers with batches,
// statuses, errors and stats. Nothing here decides about the connection.
import { casinoRealtimeError } from './errors.js';
import { NAMES, split, toHost } from './messages.js';
import { CHECK_MS, Ladder, Watch } from './supervisor.js';
import { connect, generation, moveGeneration, rungs } from './transport.js';

/** The monotonic clock the watch runs on. */
const clock = () => (typeof performance === 'object' ? performance.now() : Date.now());

/** What the client keeps in the page; every other option is read and checked by the host. */
const CALLBACKS = ['onBatch', 'onStatus', 'onError', 'getAccessToken', 'logger'];
const PAGE_ONLY = [...CALLBACKS, 'accessToken', 'shareAcrossTabs', 'workerUrl', 'supabase'];

function describe(thrown) {
  if (thrown instanceof Error) return thrown.message;
  if (typeof thrown === 'string') return thrown;
  return thrown === null ? 'null' : typeof thrown;
}

function typeOf(value) {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'array' : typeof value;
}

function invalid(option, message) {
  return casinoRealtimeError('InvalidOptionsError', `CasinoRealtime options: ${message}`, { option });
}

/**
 * Reads the options object once: the page's own members checked here, the rest written as JSON
 * for the host. A getter that throws, or a member JSON cannot hold, is named.
 */
function readOptions(options) {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw invalid('options', 'pass an object: { url, apiKey, casinoId, ... }');
  }
  const page = {};
  const forHost = {};
  let keys;
  try {
    keys = Object.keys(options);
  } catch (thrown) {
    throw invalid('options', `reading its members threw: ${describe(thrown)}`);
  }
  for (const key of keys) {
    let value;
    try {
      value = options[key];
    } catch (thrown) {
      throw invalid(key, `reading '${key}' threw: ${describe(thrown)}`);
    }
    if (value === undefined || value === null) continue;
    if (PAGE_ONLY.includes(key)) {
      page[key] = value;
      continue;
    }
    let text;
    try {
      text = JSON.stringify(value);
    } catch (thrown) {
      throw invalid(key, `'${key}' cannot be written as JSON (${describe(thrown)})`);
    }
    if (text !== undefined) forHost[key] = JSON.parse(text);
  }
  for (const name of CALLBACKS) {
    if (page[name] !== undefined && typeof page[name] !== 'function') throw invalid(name, `'${name}' must be a function`);
  }
  if (page.accessToken !== undefined && typeof page.accessToken !== 'string') throw invalid('accessToken', "'accessToken' must be a string");
  if (page.shareAcrossTabs !== undefined && typeof page.shareAcrossTabs !== 'boolean') {
    throw invalid('shareAcrossTabs', "'shareAcrossTabs' must be a boolean");
  }
  if (page.workerUrl !== undefined && typeof page.workerUrl !== 'string' && !(page.workerUrl instanceof URL)) {
    throw invalid('workerUrl', "'workerUrl' must be a string or a URL");
  }
  // The host only needs to know there is a logger: it sends the lines.
  if (page.logger) forHost.logger = true;
  return { page, forHost };
}

/** An error the host reported, as the Error the app gets. */
function fromReport(body) {
  let report;
  try {
    report = JSON.parse(body);
  } catch {
    return null;
  }
  if (!report || typeof report.name !== 'string') return null;
  const { name, message, ...members } = report;
  const error = new Error(String(message ?? ''));
  error.name = name;
  Object.assign(error, members);
  return error;
}

function resourceId(options) {
  if (options === undefined || options === null) return null;
  if (typeof options !== 'object') throw new TypeError(`subscribe: pass { resourceId } or nothing, got ${typeOf(options)}`);
  let value;
  try {
    value = options.resourceId;
  } catch (thrown) {
    throw new TypeError(`subscribe: reading 'resourceId' threw: ${describe(thrown)}`);
  }
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw new TypeError(`subscribe: 'resourceId' must be a string, got ${typeOf(value)}`);
  if (!value || value.includes(':')) throw new TypeError("subscribe: 'resourceId' must be non-empty and without ':'");
  return value;
}

/** Calls `moved(n)` when another tab writes a later shared worker generation. */
function generationListener(moved) {
  if (typeof window !== 'object' || typeof window.addEventListener !== 'function') return () => {};
  const listener = (event) => {
    if (event.key === NAMES.generation && Number(event.newValue) > 0) moved(Number(event.newValue));
  };
  window.addEventListener('storage', listener);
  return () => window.removeEventListener('storage', listener);
}

/** The page's events that matter to a connection, each turned into a message for the host;
 *  shown again, the page also looks at its host at once (`visible`). */
function pageListeners(post, visible) {
  if (typeof window !== 'object' || typeof window.addEventListener !== 'function') return () => {};
  const listeners = [
    [window, 'online', () => post(toHost.online(true))],
    [window, 'offline', () => post(toHost.online(false))],
    [window, 'pageshow', () => post(toHost.resumed())],
    [window, 'focus', () => post(toHost.resumed())],
  ];
  if (typeof document === 'object') {
    listeners.push([document, 'resume', () => post(toHost.resumed())]);
    listeners.push([document, 'visibilitychange', () => {
      const shown = document.visibilityState === 'visible';
      post(toHost.visible(shown));
      if (shown) visible();
    }]);
  }
  for (const [target, kind, listener] of listeners) target.addEventListener(kind, listener);
  return () => {
    for (const [target, kind, listener] of listeners) target.removeEventListener(kind, listener);
  };
}

const NO_STATS = Object.freeze({
  eventsReceived: 0, applied: 0, duplicates: 0, malformed: 0, foreignCasino: 0, unreadableFrames: 0,
  batches: 0, reconnects: 0, replays: 0, resyncs: 0, channels: [], staleSince: null,
});

/**
 * A realtime manager for one casino: joins its channels, validates, de-duplicates and batches
 * events (in the session's host), and calls `onBatch` once per batch of cache actions.
 */
export class CasinoRealtime {
  #callbacks;
  #hello;
  #debug;
  #link;
  #attempt = 0;
  #ladder;
  #watch;
  #checker;
  #answered = false;
  #stopListening;
  #status = 'connecting';
  #staleSince = null;
  #stats = null;
  #inspection = null;
  #hosted = false;
  #served = false;
  #lastHeard = null;
  #closed = false;
  #nextSubscription = 0;
  #nextFlush = 0;
  #flushes = new Map();
  #settle;

  /**
   * Creates the manager and reaches its host; nothing connects to the server until the first
   * `subscribe()`. Throws `InvalidOptionsError` for what the page itself reads (the options are
   * not an object, a callback is not a function, a getter throws); the host checks the rest,
   * and `ready` says what it found.
   */
  constructor(options) {
    const { page, forHost } = readOptions(options);
    this.#callbacks = page;
    this.#debug = Boolean(forHost.debug) || Boolean(page.logger);
    this.#hello = {
      options: forHost,
      token: page.accessToken ?? null,
      tokenSource: typeof page.getAccessToken === 'function',
      subs: [],
      missedSince: null,
    };
    /** Resolves when the host has read and accepted the options; rejects with the
     *  `InvalidOptionsError`, `InvalidRulesError` or `LoadError` that stopped it. */
    this.ready = new Promise((resolve, reject) => {
      this.#settle = { resolve, reject };
    });
    // Handled here, so a manager nobody asks about is not an unhandled rejection.
    this.ready.catch(() => {});
    const share = page.shareAcrossTabs ?? true;
    this.#ladder = new Ladder(rungs({ share, debug: this.#debug }), generation());
    this.#open();
    // The host's silence is judged every CHECK_MS (supervisor.js); in Node the timer does not
    // keep the process alive.
    this.#checker = setInterval(() => this.#check(), CHECK_MS);
    this.#checker.unref?.();
    const stopPage = pageListeners((message) => this.#post(message), () => this.#check());
    const stopStorage = generationListener((n) => this.#generationMoved(n));
    this.#stopListening = () => {
      stopPage();
      stopStorage();
    };
  }

  /** Reaches a host on the ladder's current rung (a new link: what came from an old one is
   *  ignored); `replacing` when it replaces a shared worker this manager lost. */
  #open(replacing = false) {
    this.#link?.close();
    this.#hosted = false;
    this.#answered = false;
    this.#ladder.seen(generation());
    const rung = this.#ladder.current();
    if (rung.mode === 'worker') moveGeneration(rung.generation);
    const attempt = ++this.#attempt;
    const mine = (f) => (...args) => { if (attempt === this.#attempt && !this.#closed) f(...args); };
    this.#watch = new Watch(clock());
    this.#link = connect(
      rung,
      { debug: this.#debug, workerUrl: this.#callbacks.workerUrl, replacing },
      mine((text) => this.#received(text)),
      mine(() => this.#hostArrived()),
      mine((reason, error) => this.#failed(reason, error)),
    );
  }

  /** Every CHECK_MS: a host that never answered, or went silent, is left. */
  #check() {
    if (this.#closed) return;
    const verdict = this.#watch.check(clock());
    if (verdict === 'no-answer') this.#failed('no-answer', new Error(`no answer to its hello in ${Math.round((clock() - this.#watch.sent) / 1000)} s`));
    else if (verdict === 'silent') this.#failed('lost', new Error(`nothing heard for ${Math.round((clock() - this.#watch.lastHeard) / 1000)} s`));
  }

  /** The host on this rung failed: the app is warned once, what this manager shows becomes stale
   *  from when it last heard from a host, and the next host is reached (a new shared worker, the
   *  election, a host of its own). With no rung left, the manager ends. */
  #failed(reason, cause) {
    const { mode } = this.#ladder.current();
    const shown = mode === 'leader' ? this.#link.mode() : mode;
    const next = this.#ladder.failed(reason, clock());
    const what = { start: 'could not start', load: 'could not load its .wasm', 'no-answer': 'did not answer', lost: 'went silent', refused: 'refused this manager' }[reason] ?? reason;
    if (this.#served && this.#status !== 'closed') {
      // Since it last heard from a host, nothing vouches for what the cache shows.
      const since = this.#staleSince ?? this.#lastHeard ?? Date.now();
      if (this.#status !== 'reconnecting' || this.#staleSince !== since) {
        this.#status = 'reconnecting';
        this.#staleSince = since;
        this.#call('onStatus', 'reconnecting', { staleSince: since });
      }
    }
    if (!next) {
      // No rung left: the manager ends, with what stopped the last one.
      const error = cause?.name === 'LoadError' ? cause
        : casinoRealtimeError('LoadError', `casino-realtime: no host could serve this manager (${shown} ${what})`, { cause });
      return this.#refused(error);
    }
    const replacing = next.mode === 'worker' && mode === 'worker';
    const where = replacing ? `a new shared worker (generation ${next.generation})` : `the ${next.mode} rung`;
    const message = `casino-realtime: the session's host (${shown}) ${what}: ${cause?.message ?? cause}; now on ${where}`;
    this.#report(casinoRealtimeError('HostError', message, { mode: shown, reason, cause }));
    this.#open(replacing);
  }

  /** Another tab moved the app's shared worker to a later generation (it lost the one this
   *  manager uses): follow it now rather than when this one falls silent. */
  #generationMoved(generation) {
    if (this.#closed || this.#ladder.current().mode !== 'worker' || generation <= this.#ladder.current().generation) return;
    this.#ladder.seen(generation);
    const cause = new Error('another tab of the app lost it');
    this.#report(casinoRealtimeError('HostError', `casino-realtime: the session's host (worker) is being replaced: ${cause.message}; now on a new shared worker (generation ${generation})`, { mode: 'worker', reason: 'lost', cause }));
    if (this.#served) {
      const since = this.#staleSince ?? this.#lastHeard ?? Date.now();
      this.#status = 'reconnecting';
      this.#staleSince = since;
      this.#call('onStatus', 'reconnecting', { staleSince: since });
    }
    this.#open();
  }

  /** Sends a message once a host was told hello; before, the hello carries the state (and
   *  the flushes not answered yet follow it). */
  #post(text) {
    if (this.#closed || !this.#hosted) return;
    this.#link.post(text);
  }

  /** A host is there (the first, or one that took over): say hello with everything, then ask
   *  again for every flush not answered (a host that went took its answers with it). */
  #hostArrived() {
    if (this.#closed) return;
    const missedSince = this.#served ? this.#lastHeard ?? Date.now() : null;
    this.#hosted = true;
    this.#answered = false;
    this.#watch.hello(clock());
    this.#link.post(toHost.hello({ ...this.#hello, missedSince }));
    for (const id of this.#flushes.keys()) this.#link.post(toHost.flush(id));
  }

  #received(text) {
    const message = split(text);
    if (this.#closed || !message) return;
    const [kind, body] = message;
    this.#lastHeard = Date.now();
    this.#watch.heard(clock());
    switch (kind) {
      case 'batch':
        return this.#call('onBatch', JSON.parse(body));
      case 'status': {
        const { status, staleSince } = JSON.parse(body);
        this.#status = status;
        this.#staleSince = staleSince;
        return this.#call('onStatus', status, { staleSince });
      }
      case 'error':
        return this.#report(fromReport(body));
      case 'token':
        return this.#askToken(Number(body));
      case 'stats':
        this.#stats = body;
        return;
      case 'inspect':
        this.#inspection = body;
        return;
      case 'log': {
        const { kind: what, message, record } = JSON.parse(body);
        return this.#call('logger', what, message, record);
      }
      case 'ready':
        this.#watch.answer(clock());
        this.#answered = true;
        this.#served = true;
        return this.#settle.resolve();
      case 'refused': {
        const error = fromReport(body);
        if (!error) return;
        this.#watch.answer(clock());
        // A host that cannot serve (another version, too many tabs, a .wasm it could not
        // load) is a rung's failure; options it refused are the manager's end.
        if (error.name === 'HostError') return this.#failed(error.reason === 'load' ? 'load' : 'refused', error);
        return this.#refused(error);
      }
      case 'flushed': {
        const id = Number(body);
        this.#flushes.get(id)?.();
        this.#flushes.delete(id);
        return;
      }
    }
  }

  /** The host cannot serve this manager: before `ready`, it ends (its options are wrong, or no
   *  host could load); later, the app is told. */
  #refused(error) {
    if (!error) return;
    this.#settle.reject(error);
    this.#report(error);
    this.close();
  }

  #report(error) {
    const onError = this.#callbacks.onError;
    if (!error || !onError) return;
    try {
      onError(error);
    } catch (thrown) {
      console.error(thrown);
    }
  }

  /** Calls callback `name`; what it throws is reported to `onError` as a `CallbackError`. */
  #call(name, ...args) {
    const callback = this.#callbacks[name];
    if (!callback) return;
    try {
      callback(...args);
    } catch (thrown) {
      const error = casinoRealtimeError('CallbackError', `casino-realtime: ${name} threw: ${describe(thrown)}`, { callback: name, cause: thrown });
      this.#report(error);
    }
  }

  /** Asks `getAccessToken` for the host's request `id`, and answers the host that asked (an
   *  answer for a host this manager has left is dropped). */
  #askToken(id) {
    const get = this.#callbacks.getAccessToken;
    if (!get) return;
    const attempt = this.#attempt;
    const answer = (text) => { if (attempt === this.#attempt) this.#post(text); };
    const failed = (why) => answer(toHost.tokenFailed(id, why));
    let result;
    try {
      result = get();
    } catch (thrown) {
      return failed(`getAccessToken failed: ${describe(thrown)}`);
    }
    Promise.resolve(result).then(
      (token) => {
        if (typeof token !== 'string') return failed('getAccessToken gave no token');
        this.#hello.token = token;
        answer(toHost.token(id, token));
      },
      (thrown) => failed(`getAccessToken failed: ${describe(thrown)}`),
    );
  }

  /**
   * Subscribes to the casino's list feed, or to the detail channel of `resourceId`, and returns
   * a function that ends the subscription (safe to call twice, fits a React effect cleanup).
   * Two subscriptions to one channel share its join, in this tab or across tabs; it is left a
   * second after the last ends. Throws `ClosedError` after `close()`, and a `TypeError` for
   * options that are not `{ resourceId?: string }`.
   */
  subscribe(options) {
    const resource = resourceId(options);
    if (this.#closed) {
      throw casinoRealtimeError('ClosedError', 'subscribe: this CasinoRealtime was closed; create a new one');
    }
    const id = ++this.#nextSubscription;
    this.#hello.subs.push([id, resource]);
    this.#post(toHost.subscribe(id, resource));
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      const before = this.#hello.subs.length;
      this.#hello.subs = this.#hello.subs.filter(([s]) => s !== id);
      if (this.#hello.subs.length !== before) this.#post(toHost.unsubscribe(id));
    };
  }

  /**
   * A new access token (after the app refreshed its session): joined channels get it at once,
   * and channels waiting for a token or refused join again with it; the session takes it for
   * all its tabs (another user's token moves this manager to that user's session). Throws a
   * `TypeError` for anything but a string.
   */
  setAuth(token) {
    if (typeof token !== 'string') throw new TypeError(`setAuth: the token must be a string, got ${typeOf(token)}`);
    this.#hello.token = token;
    this.#post(toHost.setAuth(token));
  }

  /**
   * Asks the host to deliver this manager's pending batch now instead of at the end of its
   * window. Resolves once that batch (if anything was pending) has been handed to `onBatch`;
   * resolves at once after `close()`.
   */
  flush() {
    if (this.#closed) return Promise.resolve();
    const id = ++this.#nextFlush;
    const done = new Promise((resolve) => this.#flushes.set(id, resolve));
    this.#post(toHost.flush(id));
    return done;
  }

  /** The current status, as last reported by the host (`onStatus`). */
  get status() {
    return this.#closed ? 'closed' : this.#status;
  }

  /**
   * Counts and channel states: the host's last snapshot (sent at most every 200 ms after a
   * change; a fresh one is asked for by this call), with this manager's own current `status`
   * and `staleSince`, `mode` (where the host runs) and `shared`.
   */
  stats() {
    let stats;
    try {
      stats = this.#stats ? JSON.parse(this.#stats) : { ...NO_STATS, staleSince: this.#staleSince };
    } catch {
      stats = { ...NO_STATS };
    }
    this.#post(toHost.stats());
    const mode = this.#link.mode();
    // The status and `staleSince` are this manager's own, as of now (the host says each change).
    return { ...stats, status: this.status, staleSince: this.#staleSince, mode, shared: mode !== 'local' };
  }

  /**
   * With `debug`: the recent events (what became of each) and batches (each key with the events
   * behind it), oldest first, as of the host's last snapshot; `null` otherwise, and after
   * `close()`.
   */
  inspect() {
    if (!this.#debug || this.#closed) return null;
    try {
      return this.#inspection ? JSON.parse(this.#inspection) : { events: [], batches: [] };
    } catch {
      return null;
    }
  }

  /**
   * Ends this manager: the host forgets it (what was pending for it is dropped; the socket
   * closes when no other manager uses the session), listeners are removed, and `onStatus` is
   * told `closed`. Final: later calls do nothing, `subscribe()` throws `ClosedError`.
   */
  close() {
    if (this.#closed) return;
    this.#post(toHost.bye());
    this.#closed = true;
    clearInterval(this.#checker);
    this.#link.close();
    this.#stopListening();
    for (const resolve of this.#flushes.values()) resolve();
    this.#flushes.clear();
    this.#settle.reject(casinoRealtimeError('ClosedError', 'casino-realtime: closed before the host answered'));
    this.#status = 'closed';
    this.#staleSince = null;
    const onStatus = this.#callbacks.onStatus;
    if (onStatus) {
      try {
        onStatus('closed', { staleSince: null });
      } catch (thrown) {
        this.#report(casinoRealtimeError('CallbackError', `casino-realtime: onStatus threw: ${describe(thrown)}`, { callback: 'onStatus', cause: thrown }));
      }
    }
  }
}
