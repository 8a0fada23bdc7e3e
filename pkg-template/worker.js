// The SharedWorker that hosts the realtime sessions of every tab of the app (transport.js starts
// it): one socket per session, its timers never throttled like a hidden tab's. It loads the
// host's .wasm from where the first page says (`{ boot: { wasm } }`: the URL the page resolved,
// or bytes), so an app that serves the .wasm itself is obeyed here too. It hosts only while it
// holds the host lock, the one a leading tab holds too: a worker that starts late, after its tabs
// gave up on it and elected a leader, waits instead of opening a second socket, and lets the
// lock go when no manager is left. A trap in its wasm closes it: its tabs find it silent and
// start a fresh worker. Each page's port then carries the messages of src/share/message.rs as
// strings; an object `{ lock }` names a lock the page holds while its manager lives, which the
// worker asks for, so it learns when it is gone.
import init, { SessionHost } from './casino_realtime_host.js';
import { NAMES } from './messages.js';

let loading = null; // the glue, initialised
let serving = null; // the host, once the host lock is held
let stop = null; // lets the lock go (or stops waiting for it)
/** How long a worker waits for the host lock before telling its tabs that another host serves
 *  this browser (a leading tab): they follow it instead. */
const LOCK_WAIT_MS = 3_000;
const ports = new Map();
let next = 0;

// A host that threw (a trap in its wasm, or an exception through it, which leaves its state
// half-changed) is not trusted again: the worker closes, its lock goes, and its tabs, finding it
// silent, start a fresh one.
const fatal = () => self.close();
self.addEventListener('error', fatal);

function guarded(f) {
  try {
    f();
  } catch {
    fatal();
  }
}

/** The host, once the glue is loaded (from `wasm`) and the host lock held. A worker of a later
 *  generation (`steal`) takes the lock from the one it replaces, which then closes. */
function host(wasm, steal) {
  if (!loading) {
    const attempt = init({ module_or_path: wasm }).catch((cause) => {
      // The next page to connect may give a source that loads.
      if (loading === attempt) loading = null;
      throw cause;
    });
    loading = attempt;
  }
  return loading.then(() => {
    if (serving) return serving;
    serving = new Promise((resolve, reject) => {
      // An insecure origin has no Web Locks (and no leader rung): the worker hosts alone.
      if (!navigator.locks) return resolve(new SessionHost());
      const abort = new AbortController();
      let granted = false;
      let release = () => {};
      stop = () => {
        abort.abort();
        release();
      };
      const waited = setTimeout(() => {
        if (!granted) reject(Object.assign(new Error('another host serves this browser\'s tabs'), { refused: true }));
      }, LOCK_WAIT_MS);
      navigator.locks
        .request(NAMES.hostLock, steal ? { steal: true } : { signal: abort.signal }, () => {
          granted = true;
          clearTimeout(waited);
          resolve(new SessionHost());
          return new Promise((done) => { release = done; });
        })
        // Taken by a later generation while hosting: two hosts must never run at once.
        .catch((cause) => (granted ? fatal() : reject(cause)));
    });
    const attempt = serving;
    attempt.catch(() => {
      if (serving === attempt) serving = null;
      stop?.();
      stop = null;
    });
    return attempt;
  });
}

/** No manager left: the sessions close and the lock goes (to a leading tab, or this worker's next
 *  page). */
function idle() {
  const held = serving;
  serving = null;
  stop?.();
  stop = null;
  held?.then((h) => guarded(() => { h.close(); h.free(); }), () => {});
}

self.onconnect = (event) => {
  const port = event.ports[0];
  const id = ++next;
  let mine = null;
  port.onmessage = ({ data }) => {
    if (typeof data === 'string') {
      mine?.then((h) => guarded(() => h.receive(id, data)), () => {});
    } else if (data?.boot && !mine) {
      ports.set(id, port);
      mine = host(data.boot.wasm, data.boot.steal === true).then(
        (h) => {
          guarded(() => h.open(id, (text) => port.postMessage(text)));
          return h;
        },
        (cause) => {
          ports.delete(id);
          const refused = cause?.refused === true;
          const message = refused
            ? `casino-realtime: the shared worker does not host: ${cause.message}`
            : `casino-realtime: the shared worker could not load the host .wasm: ${cause?.message ?? cause}`;
          port.postMessage(`refused\n${JSON.stringify({ name: 'HostError', message, reason: refused ? 'refused' : 'load' })}`);
          throw cause;
        },
      );
      mine.catch(() => {});
    } else if (typeof data?.lock === 'string') {
      navigator.locks?.request(data.lock, () => {
        const was = mine;
        mine = null;
        ports.delete(id);
        was?.then((h) => guarded(() => h.disconnect(id)), () => {});
        if (ports.size === 0) idle();
      });
    }
  };
  port.start();
};
