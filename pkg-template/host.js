// A session host in this page: what a page runs when it hosts its own managers (`local`) or the
// other tabs' (`leader`). The host's glue and .wasm are imported only then, so a page whose
// managers are served by the shared worker never fetches or compiles them.
import { loadError, sourceOf } from './sources.js';

const glues = new Map();

function glue(debug) {
  let loading = glues.get(debug);
  if (!loading) {
    const module = debug ? 'debug' : 'host';
    loading = (debug ? import('./casino_realtime_debug.js') : import('./casino_realtime_host.js'))
      .then(async (glue) => {
        await glue.default({ module_or_path: await sourceOf(module) });
        return glue;
      })
      .catch((cause) => {
        glues.delete(debug);
        throw loadError(`the ${module} .wasm`, cause);
      });
    glues.set(debug, loading);
  }
  return loading;
}

/** A new `SessionHost` (the debug one, with the inspector, for `debug` and `logger`). */
export async function startHost(debug) {
  const { SessionHost } = await glue(debug);
  return new SessionHost();
}
