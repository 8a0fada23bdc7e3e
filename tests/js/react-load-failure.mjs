// Run by react.test.mjs in a fresh Node (the .wasm loads once per process): WebAssembly cannot
// instantiate, as on a page whose .wasm is blocked; the provider must report it, not throw.
// Prints what the tree saw as JSON.
import { JSDOM } from 'jsdom';

const dom = new JSDOM('<!doctype html><div id="root"></div>');
globalThis.window = dom.window;
globalThis.document = dom.window.document;
if (!globalThis.navigator) globalThis.navigator = dom.window.navigator;
globalThis.IS_REACT_ACT_ENVIRONMENT = true;
// Only the SDK's host fails (told by its bytes: its glue's import names are short and say
// nothing): Node's own fetch instantiates wasm too.
const { readFile } = await import('node:fs/promises');
const host = await readFile(new URL('../../pkg/casino_realtime_host_bg.wasm', import.meta.url));
const { instantiate, instantiateStreaming } = WebAssembly;
const isHost = (source) => ArrayBuffer.isView(source) && Buffer.compare(Buffer.from(source.buffer, source.byteOffset, source.byteLength), host) === 0;
const blocked = (real) => (source, imports) =>
  isHost(source) ? Promise.reject(new Error('blocked by the page')) : real.call(WebAssembly, source, imports);
WebAssembly.instantiate = blocked(instantiate);
WebAssembly.instantiateStreaming = blocked(instantiateStreaming);

const React = await import('react');
const { createRoot } = await import('react-dom/client');
const { QueryClient, QueryClientProvider } = await import('@tanstack/react-query');
const { CasinoRealtimeProvider, useRealtimeStatus } = await import('../../pkg/react.js');
const h = React.createElement;

const seen = [];
const reported = [];
function Reader() {
  const { status, error } = useRealtimeStatus();
  seen.push({ status, error: error && { name: error.name, cause: error.cause?.message } });
  return null;
}
const root = createRoot(document.getElementById('root'));
const options = { url: 'ws://127.0.0.1:9/realtime/v1', apiKey: 'k', casinoId: '11111111-1111-4111-8111-111111111111', onError: (e) => reported.push(e.name) };
await React.act(async () => root.render(h(QueryClientProvider, { client: new QueryClient() }, h(CasinoRealtimeProvider, options, h(Reader)))));
for (let i = 0; i < 500 && seen.at(-1)?.status !== 'error'; i += 1) {
  await React.act(() => new Promise((resolve) => setTimeout(resolve, 20)));
}
await React.act(async () => root.unmount());
console.log(JSON.stringify({ first: seen[0], last: seen.at(-1), reported }));
