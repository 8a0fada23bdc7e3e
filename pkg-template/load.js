// Where the .wasm comes from when initCasinoRealtime() is called with nothing: in a browser or a
// bundle, the wasm-bindgen glue fetches `casino_realtime_wasm_bg.wasm` beside it (bundlers rewrite
// that URL). Node gets `load.node.js` instead, through the `#load` import's `node` condition.
export function defaultWasm() {
  return undefined;
}
