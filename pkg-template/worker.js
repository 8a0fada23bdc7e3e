// The SharedWorker that hosts the realtime sessions of every tab of the app (tabs.js starts it):
// one socket per session, its timers never throttled like a hidden tab's. Each tab's port
// carries the messages of src/share/message.rs as strings; an object `{ lock }` names a lock the
// tab holds while it lives, which the worker asks for, so it learns when the tab is gone.
import init, { SessionHost } from './casino_realtime_wasm.js';

const host = init({ module_or_path: new URL('./casino_realtime_wasm_bg.wasm', import.meta.url) }).then(() => new SessionHost());
let next = 0;

self.onconnect = (event) => {
  const port = event.ports[0];
  const id = ++next;
  host.then(
    (h) => h.open(id, (text) => port.postMessage(text)),
    (cause) => {
      const message = `casino-realtime: the shared worker could not load the .wasm: ${cause?.message ?? cause}`;
      port.postMessage(`error\n${JSON.stringify({ name: 'LoadError', message })}`);
    },
  );
  port.onmessage = ({ data }) => {
    if (typeof data === 'string') host.then((h) => h.receive(id, data));
    else if (typeof data?.lock === 'string') navigator.locks?.request(data.lock, () => host.then((h) => h.disconnect(id)));
  };
  port.start();
};
