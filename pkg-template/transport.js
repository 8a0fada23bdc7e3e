// How a manager (client.js) reaches the host of its session, on the rung the manager's ladder
// (supervisor.js) chose. Every manager is the same client on every rung; this file only carries
// its messages (strings, src/share/message.rs) and starts the host where the rung says:
//   1. `worker`: the package's SharedWorker (worker.js) of the current generation, whose timers
//      are not throttled like a hidden tab's; the page loads no .wasm at all;
//   2. `leader` / `follower`: one tab, elected (election.js, loaded only on this rung), hosts the
//      sessions of every tab and serves the others over a BroadcastChannel; only the leading tab
//      loads the host's .wasm;
//   3. `local`: the page hosts its own manager.
// A link is `{ post(text), close(), mode() }`; it calls `onMessage(text)` for each message from
// the host, `onHost()` when a host is there to say hello to (again, after a takeover), and
// `onFailed(reason, error)` when its rung cannot start (`start`: the worker's script; `load`: the
// host's .wasm). Messages in both directions are delivered asynchronously on every rung, as a
// port would. The host beats; judging its silence is the manager's (supervisor.js).
import { startHost } from './host.js';
import { NAMES } from './messages.js';
import { loadError, sourceOf } from './sources.js';

/** A page (not Node, which has Web Locks and BroadcastChannel too, nor a worker). */
function inPage() {
  return typeof window === 'object' && typeof document === 'object';
}

/** The rungs this browser offers a manager, in the order they are tried. */
export function rungs({ share, debug }) {
  const out = [];
  if (share && !debug && inPage()) {
    if (typeof SharedWorker === 'function') out.push('worker');
    if (typeof BroadcastChannel === 'function' && typeof navigator === 'object' && navigator.locks) out.push('leader');
  }
  out.push('local');
  return out;
}

/** The shared worker's generation the app's tabs use now (localStorage; 1 without it). */
export function generation() {
  try {
    return Math.max(1, Number(globalThis.localStorage?.getItem(NAMES.generation)) || 1);
  } catch {
    return 1;
  }
}

/** Tells the app's other tabs that the shared worker moved to generation `n`. */
export function moveGeneration(n) {
  try {
    if (generation() < n) globalThis.localStorage?.setItem(NAMES.generation, String(n));
  } catch {
    // No storage (a sandboxed frame): the tabs still meet, a little later, by trying.
  }
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
 * A link to a host on `rung` (`{ mode, generation }`): `debug` for the debug host, `workerUrl`
 * where the app serves the worker's script, `replacing` when the worker replaces one this manager
 * lost (it takes the host lock from that one).
 */
export function connect(rung, { debug, workerUrl, replacing }, onMessage, onHost, onFailed) {
  if (rung.mode === 'worker') return viaWorker(rung.generation, replacing, workerUrl, onMessage, onHost, onFailed);
  if (rung.mode === 'leader') return viaLeader(onMessage, onHost, onFailed);
  return viaOwnHost(debug, onMessage, onHost, onFailed);
}

/** A host in this page for one manager (`local`). */
function viaOwnHost(debug, onMessage, onHost, onFailed) {
  let host = null;
  let closed = false;
  const toClient = inbox((text) => { if (!closed) onMessage(text); });
  const toHost = inbox((text) => {
    try {
      host?.receive(0, text);
    } catch {
      // A host that trapped says nothing more: the manager's watch finds it silent.
    }
  });
  startHost(debug).then(
    (started) => {
      if (closed) return started.free();
      host = started;
      host.open(0, toClient);
      onHost();
    },
    (error) => { if (!closed) onFailed('load', error); },
  );
  return {
    post: toHost,
    close: () => {
      closed = true;
      try {
        host?.close();
        host?.free();
      } catch {
        // A host that trapped cannot be closed: it is dropped.
      }
      host = null;
    },
    mode: () => 'local',
  };
}

function randomId() {
  return Math.random().toString(36).slice(2) + Date.now().toString(36);
}

/**
 * Holds a lock named for this manager while it lives: the host asks for the same lock, so it is
 * granted to the host exactly when the manager is gone (closed, or its tab closed or crashed).
 * The host is told its name only once it is `held`: asked first, the host would get it at once.
 */
function lifeLock() {
  const name = NAMES.lifeLock(randomId());
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

/** What the worker is told: the host's .wasm to load (an absolute URL, or its bytes), and, when it
 *  replaces a worker this tab lost, to take the host lock from that one. */
async function boot(steal) {
  return { wasm: await sourceOf('host'), steal };
}

function viaWorker(generation, steal, workerUrl, onMessage, onHost, onFailed) {
  let closed = false;
  let worker;
  try {
    // The literal form is the one Vite, webpack 5 and Next.js rewrite: the worker and its glue
    // are bundled with the app. `workerUrl` is for setups that do not (esbuild, Rollup, a CDN
    // copy). The name carries the messages' version and the generation.
    worker = workerUrl
      ? new SharedWorker(workerUrl, { type: 'module', name: NAMES.worker(generation) })
      : new SharedWorker(new URL('./worker.js', import.meta.url), { type: 'module', name: NAMES.worker(generation) });
  } catch (cause) {
    // A URL of another origin, a policy that forbids it: the next rung, never a throw.
    queueMicrotask(() => { if (!closed) onFailed('start', loadError('the shared worker script', cause)); });
    return { post: () => {}, close: () => { closed = true; }, mode: () => 'worker' };
  }
  const port = worker.port;
  const life = lifeLock();
  worker.onerror = (event) => {
    const cause = new Error(event?.message || 'it did not start (not served, or forbidden by the page: worker-src)');
    if (!closed) onFailed('start', loadError('the shared worker script', cause));
  };
  port.onmessage = ({ data }) => { if (!closed) onMessage(data); };
  port.start();
  Promise.all([boot(steal), life.held]).then(([message]) => {
    if (closed) return;
    port.postMessage({ boot: message });
    port.postMessage({ lock: life.name });
    onHost();
  });
  return {
    post: (text) => { if (!closed) port.postMessage(text); },
    // The goodbye is posted already; the lock's release tells the worker even if it is lost.
    close: () => {
      closed = true;
      life.release();
      port.close();
    },
    mode: () => 'worker',
  };
}

const realClock = {
  now: () => Date.now(),
  every: (ms, fn) => {
    const timer = setInterval(fn, ms);
    return () => clearInterval(timer);
  },
};

function viaLeader(onMessage, onHost, onFailed) {
  const me = randomId();
  const channel = new BroadcastChannel(NAMES.channel);
  const life = lifeLock();
  let closed = false;
  // While this manager leads: its host (once loaded), what came for it before, its followers.
  let host = null;
  let early = [];
  let leadTerm = 0;
  const ports = new Map();
  let nextPort = 1;
  const toSelf = inbox((text) => { if (!closed) onMessage(text); });

  /** Runs `deliver` on this tab's host now, or once it has loaded. */
  function atHost(deliver) {
    if (host) {
      try {
        deliver();
      } catch {
        // A host that trapped says nothing more: its clients find it silent.
      }
    } else if (election.leading()) {
      early.push(deliver);
    }
  }

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

  // Until election.js has loaded, this manager neither leads nor follows anyone.
  let election = { leading: () => false, hostId: () => null, heard: () => {}, close: () => {} };
  const elected = (createElection) => createElection({ me, locks: navigator.locks, channel, clock: realClock, names: NAMES }, {
    lead(term) {
      leadTerm = term;
      ports.clear();
      early = [];
      // Only the leading tab loads the host; what comes meanwhile waits for it.
      startHost(false).then(
        (started) => {
          if (!election.leading() || leadTerm !== term) return started.free();
          host = started;
          // This manager is a client of its own host too (port 0), without the channel.
          host.open(0, toSelf);
          for (const deliver of early.splice(0)) atHost(deliver);
        },
        (error) => { if (!closed && election.leading() && leadTerm === term) onFailed('load', error); },
      );
    },
    stepDown() {
      try {
        host?.close();
        host?.free();
      } catch {
        // A host that trapped cannot be closed: it is dropped.
      }
      host = null;
      early = [];
    },
    host: () => { if (!closed) onHost(); },
    message(data) {
      if (data.kind === 'to-host') {
        if (election.leading() && data.host === me) atHost(() => fromFollower(data.from, data.lock, data.text));
      } else if (data.kind === 'to-tab') {
        // Only from the host followed now: a frozen leader that woke up may still speak.
        if (data.to === me && data.from === election.hostId()) {
          election.heard(data.from);
          onMessage(data.text);
        }
      }
    },
  });

  Promise.all([import('./election.js'), life.held]).then(
    ([{ createElection }]) => {
      if (closed) return;
      election = elected(createElection);
      election.start();
    },
    (error) => { if (!closed) onFailed('start', error); },
  );
  return {
    post: (text) => {
      if (closed) return;
      if (election.leading()) queueMicrotask(() => atHost(() => host.receive(0, text)));
      else if (election.hostId()) channel.postMessage({ kind: 'to-host', host: election.hostId(), from: me, lock: life.name, text });
    },
    close: () => {
      // Leading, the others need a new host: the lock goes to the next in line.
      closed = true;
      election.close();
      life.release();
      channel.close();
    },
    mode: () => (election.leading() ? 'leader' : 'follower'),
  };
}
