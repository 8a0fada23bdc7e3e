// The SharedWorker that hosts the realtime sessions of every tab of the app (transport.js starts
// it): one socket per session, its timers never throttled like a hidden tab's. It loads the
// host's .wasm from where the first page says (`{ boot: { wasm } }`: the URL the page resolved,
// or bytes), so an app that serves the .wasm itself is obeyed here too. Each page's port then
// carries the messages of src/share/message.rs as strings; an object `{ lock }` names a lock the
// page holds while its manager lives, which the worker asks for, so it learns when it is gone.
import init, { SessionHost } from './casino_realtime_host.js';

let host = null;
let next = 0;

function load(wasm) {
  return init({ module_or_path: wasm }).then(() => new SessionHost());
}

self.onconnect = (event) => {
  const port = event.ports[0];
  const id = ++next;
  let mine = null;
  port.onmessage = ({ data }) => {
    if (typeof data === 'string') {
      mine?.then((h) => h.receive(id, data), () => {});
    } else if (data?.boot && !mine) {
      // A load already under way is shared; one that failed is tried again with this page's
      // source.
      const shared = (host ??= load(data.boot.wasm));
      mine = shared.catch(() => {
        if (host === shared) host = load(data.boot.wasm);
        return host;
      }).then(
        (h) => {
          h.open(id, (text) => port.postMessage(text));
          return h;
        },
        (cause) => {
          // The next page to connect may give a source that loads.
          host = null;
          const message = `casino-realtime: the shared worker could not load the host .wasm: ${cause?.message ?? cause}`;
          port.postMessage(`refused\n${JSON.stringify({ name: 'LoadError', message })}`);
          throw cause;
        },
      );
      mine.catch(() => {});
    } else if (typeof data?.lock === 'string') {
      navigator.locks?.request(data.lock, () => mine?.then((h) => h.disconnect(id), () => {}));
    }
  };
  port.start();
};
