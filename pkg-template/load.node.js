// Node (server renders, Route Handlers, Vitest/Jest): `fetch` cannot read a `file:` URL, so the
// .wasm beside this file is read from disk. Chosen by the `#load` import's `node` condition; no
// browser bundle sees this file.
import { readFile } from 'node:fs/promises';

export function defaultWasm() {
  return readFile(new URL('./casino_realtime_wasm_bg.wasm', import.meta.url));
}
