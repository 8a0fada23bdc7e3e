// One connection per browser: how a manager reaches the session it shares with the app's other
// tabs. The session itself (socket, timers, decoding, dedup, each tab's batches) runs in the wasm
// `SessionHost`; this file only carries its messages (strings, src/share/message.rs) and decides
// where the host runs:
//   1. a SharedWorker (worker.js), whose timers are not throttled like a hidden tab's;
//   2. else one tab, elected with Web Locks, serving the others over a BroadcastChannel; when it
//      closes (its lock is released) or freezes (its beats stop), another takes over and every
//      tab says hello again, so the new host resyncs what may have been missed;
//   3. else nothing here: each manager runs its own session (CasinoRealtime falls back).
import { SessionHost } from './casino_realtime_wasm.js';

const LEADER_LOCK = 'casino-realtime:leader';
const STEAL_LOCK = 'casino-realtime:steal';
const CHANNEL = 'casino-realtime';
/** How often a leading tab says it is alive, and how long its silence is borne (ms). */
const BEAT_MS = 400;
const SILENT_MS = 1200;

function workerAvailable() {
  return typeof SharedWorker === 'function';
}

function leaderAvailable() {
  return typeof BroadcastChannel === 'function' && typeof navigator === 'object' && !!navigator.locks;
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

/** The transport `initCasinoRealtime()` registers with the wasm (`__setTabTransport`). */
export const tabTransport = {
  available: () => workerAvailable() || leaderAvailable(),
  connect: (onMessage, onHost) => (workerAvailable() ? viaWorker(onMessage, onHost) : viaLeader(onMessage, onHost)),
  /** The mode a manager not connected yet (waiting for its first token) is in. */
  mode: () => (workerAvailable() ? 'worker' : 'follower'),
};

function viaWorker(onMessage, onHost) {
  // The pattern Vite and webpack 5 rewrite: the worker and its .wasm are bundled with the app.
  const worker = new SharedWorker(new URL('./worker.js', import.meta.url), { type: 'module', name: 'casino-realtime' });
  const port = worker.port;
  const life = lifeLock();
  worker.onerror = (event) => {
    const message = `casino-realtime: the shared worker failed: ${event?.message ?? 'it could not start'}`;
    onMessage(`error\n${JSON.stringify({ name: 'LoadError', message })}`);
  };
  port.onmessage = ({ data }) => onMessage(data);
  port.start();
  life.held.then(() => {
    port.postMessage({ lock: life.name });
    onHost();
  });
  return {
    post: (text) => port.postMessage(text),
    // The goodbye is posted already; the lock's release tells the worker even if it is lost.
    close: () => life.release(),
    mode: () => 'worker',
  };
}

function viaLeader(onMessage, onHost) {
  const me = randomId();
  const channel = new BroadcastChannel(CHANNEL);
  const life = lifeLock();
  let closed = false;
  // The host this manager talks to, and when the tabs' current host began leading.
  let hostId = null;
  let term = 0;
  let lastBeat = 0;
  // Set while this manager leads.
  let host = null;
  let beat = null;
  let releaseLead = null;
  const ports = new Map();
  let nextPort = 1;

  const announce = () => channel.postMessage({ kind: 'host', id: me, term });

  function lead() {
    if (closed || host) return;
    host = new SessionHost();
    term = Date.now();
    hostId = me;
    ports.clear();
    // This manager is a client of its own host too (port 0), without the channel.
    host.open(0, (text) => queueMicrotask(() => { if (!closed) onMessage(text); }));
    announce();
    beat = setInterval(announce, BEAT_MS);
    onHost();
  }

  // Stops hosting: its sessions and sockets close, and the lock goes to the next in line.
  function stepDown() {
    if (!host) return;
    clearInterval(beat);
    host.close();
    host.free();
    host = null;
    releaseLead?.();
    releaseLead = null;
  }

  function demote() {
    stepDown();
    if (!closed) candidate();
  }

  const holdLead = () => {
    if (closed || host) return undefined;
    lead();
    return new Promise((resolve) => { releaseLead = resolve; });
  };

  // Waits in line to lead; a lock stolen from a frozen leader rejects its request.
  function candidate() {
    navigator.locks.request(LEADER_LOCK, holdLead).catch(() => demote());
  }

  // The leader is silent (frozen, or its machine asleep): one tab at a time takes over.
  function stealIfSilent() {
    if (closed || host || !hostId || Date.now() - lastBeat <= SILENT_MS) return;
    navigator.locks.request(STEAL_LOCK, { ifAvailable: true }, (lock) => {
      if (!lock || closed || host || Date.now() - lastBeat <= SILENT_MS) return undefined;
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
        if (host) demote();
        onHost();
        return;
      case 'who':
        if (host) announce();
        return;
      case 'to-host':
        if (host && data.host === me) fromFollower(data.from, data.lock, data.text);
        return;
      case 'to-tab':
        if (data.to === me) { lastBeat = Date.now(); onMessage(data.text); }
        return;
    }
  };

  function fromFollower(from, lock, text) {
    let port = ports.get(from);
    if (port === undefined) {
      port = nextPort++;
      ports.set(from, port);
      host.open(port, (reply) => channel.postMessage({ kind: 'to-tab', to: from, text: reply }));
      const leading = host;
      navigator.locks.request(lock, () => { if (host === leading) host.disconnect(port); ports.delete(from); });
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
      if (host) queueMicrotask(() => host?.receive(0, text));
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
    mode: () => (host ? 'leader' : 'follower'),
  };
}
