// How a manager (client.js) reaches the host of its session. Every manager is the same client on
// every rung; this file only carries its messages (strings, src/share/message.rs) and decides
// where the host runs:
//   1. `worker`: the package's SharedWorker (worker.js), whose timers are not throttled like a
//      hidden tab's; the page loads no .wasm at all;
//   2. `leader` / `follower`: one tab, elected with Web Locks, hosts the sessions of every tab
//      and serves the others over a BroadcastChannel; when it closes (its lock is released) or
//      freezes (its beats stop), another takes over and every tab says hello again, so the new
//      host resyncs what may have been missed. Only the leading tab loads the host's .wasm;
//   3. `local`: the page hosts its own manager (no SharedWorker nor Web Locks, or
//      `shareAcrossTabs: false`, or `debug`/`logger`, which use the debug host).
// A link is `{ post(text), close(), mode() }`; it calls `onMessage(text)` for each message from
// the host, `onHost()` when a host is there to say hello to (again, after a takeover), and
// `onFailed(error)` when no host can start (its script or .wasm could not load).
// Messages in both directions are delivered asynchronously on every rung, as a port would.
import { loadError, sourceOf } from './sources.js';
import { startHost } from './host.js';

const LEADER_LOCK = 'casino-realtime:leader';
const STEAL_LOCK = 'casino-realtime:steal';
const CHANNEL = 'casino-realtime';
const WORKER_NAME = 'casino-realtime';
/** How often a leading tab says it is alive, and how long its silence is borne (ms). */
const BEAT_MS = 400;
const SILENT_MS = 1200;

/** A page (not Node, which has Web Locks and BroadcastChannel too, nor a worker). */
function inPage() {
  return typeof window === 'object' && typeof document === 'object';
}

function workerAvailable() {
  return inPage() && typeof SharedWorker === 'function';
}

function leaderAvailable() {
  return inPage() && typeof BroadcastChannel === 'function' && typeof navigator === 'object' && !!navigator.locks;
}

function randomId() {
  return Math.random().toString(36).slice(2) + Date.now().toString(36);
}

/** Delivers `text`s to `to` in order, each in a microtask of its own turn. */
function inbox(to) {
  const queue = [];
  let scheduled = false;
  const drain = () => {
    scheduled = false;
    while (queue.length) to(queue.shift());
  };
  return (text) => {
    queue.push(text);
    if (!scheduled) {
      scheduled = true;
      queueMicrotask(drain);
    }
  };
}

/**
 * Where a manager's host runs: `{ share, debug, workerUrl }` are its options (`shareAcrossTabs`,
 * `debug` or a `logger`, `workerUrl`).
 */
export function connect({ share, debug, workerUrl }, onMessage, onHost, onFailed) {
  if (share && !debug && workerAvailable()) return viaWorker(workerUrl, onMessage, onHost, onFailed);
  if (share && !debug && leaderAvailable()) return viaLeader(onMessage, onHost, onFailed);
  return viaOwnHost(debug, onMessage, onHost, onFailed);
}

/** A host in this page for one manager (`local`). */
function viaOwnHost(debug, onMessage, onHost, onFailed) {
  let host = null;
  let closed = false;
  const toClient = inbox((text) => { if (!closed) onMessage(text); });
  const toHost = inbox((text) => host?.receive(0, text));
  startHost(debug).then(
    (started) => {
      if (closed) return started.free();
      host = started;
      host.open(0, toClient);
      onHost();
    },
    (error) => { if (!closed) onFailed(error); },
  );
  return {
    post: toHost,
    close: () => {
      closed = true;
      host?.close();
      host?.free();
      host = null;
    },
    mode: () => 'local',
  };
}

/**
 * Holds a lock named for this manager while it lives: the host asks for the same lock, so it is
 * granted to the host exactly when the manager is gone (closed, or its tab closed or crashed).
 * The host is told its name only once it is `held`: asked first, the host would get it at once.
 */
function lifeLock() {
  const name = `casino-realtime:tab:${randomId()}`;
  let release = () => {};
  let closed = false;
  const held = new Promise((granted) => {
    if (!navigator.locks) return granted();
    navigator.locks.request(name, () => {
      granted();
      return closed ? undefined : new Promise((resolve) => { release = resolve; });
    });
  });
  return { name, held, release: () => { closed = true; release(); } };
}

/** What the worker is told to load: the host's .wasm as an absolute URL, or its bytes. */
async function boot() {
  return { wasm: await sourceOf('host') };
}

function viaWorker(workerUrl, onMessage, onHost, onFailed) {
  // The literal form (options included: Vite reads them) is the one Vite, webpack 5 and Next.js
  // rewrite: the worker and its glue are bundled with the app. `workerUrl` is for setups that do
  // not (esbuild, Rollup, a CDN copy). Both name the worker alike, so their tabs share it.
  let worker;
  try {
    worker = workerUrl
      ? new SharedWorker(workerUrl, { type: 'module', name: WORKER_NAME })
      : new SharedWorker(new URL('./worker.js', import.meta.url), { type: 'module', name: 'casino-realtime' });
  } catch (cause) {
    // A URL of another origin, or a policy that forbids it: said through `ready`, never thrown.
    let closed = false;
    queueMicrotask(() => { if (!closed) onFailed(loadError('the shared worker script', cause)); });
    return { post: () => {}, close: () => { closed = true; }, mode: () => 'worker' };
  }
  const port = worker.port;
  const life = lifeLock();
  let closed = false;
  worker.onerror = (event) => {
    const cause = new Error(event?.message || 'it did not start (not served, or forbidden by the page: worker-src)');
    if (!closed) onFailed(loadError('the shared worker script', cause));
  };
  port.onmessage = ({ data }) => { if (!closed) onMessage(data); };
  port.start();
  Promise.all([boot(), life.held]).then(([message]) => {
    if (closed) return;
    port.postMessage({ boot: message });
    port.postMessage({ lock: life.name });
    onHost();
  });
  return {
    post: (text) => port.postMessage(text),
    // The goodbye is posted already; the lock's release tells the worker even if it is lost.
    close: () => {
      closed = true;
      life.release();
      port.close();
    },
    mode: () => 'worker',
  };
}

function viaLeader(onMessage, onHost, onFailed) {
  const me = randomId();
  const channel = new BroadcastChannel(CHANNEL);
  const life = lifeLock();
  let closed = false;
  // The host this manager talks to, and when the tabs' current host began leading.
  let hostId = null;
  let term = 0;
  let lastBeat = 0;
  // Set while this manager leads: its host (once loaded), and what came for it before.
  let leading = false;
  let host = null;
  let early = [];
  let beat = null;
  let releaseLead = null;
  const ports = new Map();
  let nextPort = 1;
  const toSelf = inbox((text) => { if (!closed) onMessage(text); });

  const announce = () => channel.postMessage({ kind: 'host', id: me, term });

  function lead() {
    if (closed || leading) return;
    leading = true;
    // Later than any term seen, even within the same millisecond.
    term = Math.max(Date.now(), term + 1);
    hostId = me;
    ports.clear();
    early = [];
    const myTerm = term;
    // Only the leading tab loads the host; what comes meanwhile waits for it.
    startHost(false).then(
      (started) => {
        if (!leading || term !== myTerm) return started.free();
        host = started;
        // This manager is a client of its own host too (port 0), without the channel.
        host.open(0, toSelf);
        for (const deliver of early) deliver();
        early = [];
      },
      (error) => { if (!closed && leading && term === myTerm) onFailed(error); },
    );
    announce();
    beat = setInterval(announce, BEAT_MS);
    onHost();
  }

  // Stops hosting: its sessions and sockets close, and the lock goes to the next in line.
  function stepDown() {
    if (!leading) return;
    leading = false;
    clearInterval(beat);
    host?.close();
    host?.free();
    host = null;
    early = [];
    releaseLead?.();
    releaseLead = null;
  }

  function demote() {
    stepDown();
    if (!closed) candidate();
  }

  const holdLead = () => {
    if (closed || leading) return undefined;
    lead();
    return new Promise((resolve) => { releaseLead = resolve; });
  };

  // Waits in line to lead (once at a time); a lock stolen from a frozen leader rejects its
  // request.
  let inLine = false;
  function candidate() {
    if (inLine) return;
    inLine = true;
    navigator.locks.request(LEADER_LOCK, holdLead).then(
      () => { inLine = false; },
      () => { inLine = false; demote(); },
    );
  }

  // The leader is silent (frozen, or its machine asleep): one tab at a time takes over.
  function stealIfSilent() {
    if (closed || leading || !hostId || Date.now() - lastBeat <= SILENT_MS) return;
    navigator.locks.request(STEAL_LOCK, { ifAvailable: true }, (lock) => {
      if (!lock || closed || leading || Date.now() - lastBeat <= SILENT_MS) return undefined;
      return new Promise((done) => {
        navigator.locks
          .request(LEADER_LOCK, { steal: true }, () => {
            const held = holdLead();
            done();
            return held;
          })
          .catch(() => { done(); demote(); });
      });
    });
  }
  const watch = setInterval(stealIfSilent, BEAT_MS);

  /** Runs `deliver` on the host now, or once it has loaded. */
  function atHost(deliver) {
    if (host) deliver();
    else if (leading) early.push(deliver);
  }

  channel.onmessage = ({ data }) => {
    if (closed || !data) return;
    switch (data.kind) {
      case 'host':
        if (data.term < term || (data.term === term && data.id === hostId)) {
          if (data.id === hostId) lastBeat = Date.now();
          return;
        }
        // A host that began leading later than ours: it is the one now.
        lastBeat = Date.now();
        term = data.term;
        hostId = data.id;
        if (leading) demote();
        onHost();
        return;
      case 'who':
        if (leading) announce();
        return;
      case 'to-host':
        if (leading && data.host === me) atHost(() => fromFollower(data.from, data.lock, data.text));
        return;
      case 'to-tab':
        // Only from the host followed now: a frozen leader that woke up may still speak.
        if (data.to === me && data.from === hostId) { lastBeat = Date.now(); onMessage(data.text); }
        return;
    }
  };

  function fromFollower(from, lock, text) {
    let port = ports.get(from);
    if (port === undefined) {
      port = nextPort++;
      ports.set(from, port);
      host.open(port, (reply) => channel.postMessage({ kind: 'to-tab', to: from, from: me, text: reply }));
      const serving = host;
      navigator.locks.request(lock, () => { if (host === serving) host.disconnect(port); ports.delete(from); });
    }
    host.receive(port, text);
  }

  life.held.then(() => {
    if (closed) return;
    candidate();
    channel.postMessage({ kind: 'who' });
  });
  return {
    post: (text) => {
      if (leading) queueMicrotask(() => atHost(() => host?.receive(0, text)));
      else if (hostId) channel.postMessage({ kind: 'to-host', host: hostId, from: me, lock: life.name, text });
    },
    close: () => {
      // Leading, the others need a new host: the lock goes to the next in line.
      closed = true;
      clearInterval(watch);
      stepDown();
      life.release();
      channel.close();
    },
    mode: () => (leading ? 'leader' : 'follower'),
  };
}
