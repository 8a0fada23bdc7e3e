// casino-realtime/react in a jsdom React tree against the dev server: one manager per QueryClient
// and casino, batches applied to the client (an active query refetches after an event), detail
// channels joined for a component's lifetime, and StrictMode's double effects not churning joins.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { JSDOM } from 'jsdom';
import WebSocket from 'ws';
import { startDevserver, token as devToken, status, publish, until as untilDone } from './devserver.mjs';

const dom = new JSDOM('<!doctype html><div id="root"></div>');
globalThis.window = dom.window;
globalThis.document = dom.window.document;
if (!globalThis.navigator) globalThis.navigator = dom.window.navigator;
globalThis.WebSocket = WebSocket;
globalThis.IS_REACT_ACT_ENVIRONMENT = true;

const React = await import('react');
const { createRoot } = await import('react-dom/client');
const { act } = React;
const { QueryClient, QueryClientProvider, useQuery } = await import('@tanstack/react-query');
const { initCasinoRealtime } = await import('../../pkg/index.js');
const { useCasinoRealtime, useRealtimeChannel } = await import('../../pkg/react.js');

const h = React.createElement;
const CASINO = '33333333-3333-4333-8333-333333333333';
const fixtures = JSON.parse(await readFile(new URL('../fixtures/events.json', import.meta.url), 'utf8'));
let server;

before(async () => {
  await initCasinoRealtime(await readFile(new URL('../../pkg/casino_realtime_wasm_bg.wasm', import.meta.url)));
  server = await startDevserver();
});

after(() => server?.stop());

const token = (query) => devToken(server, query);

async function channels() {
  return (await status(server)).channels.map((c) => c.topic).sort();
}

const until = (what, check) => untilDone(what, check, 20_000, (f) => act(f));

test('the hook applies batches to the QueryClient and joins detail channels for a lifetime', async () => {
  const accessToken = await token({ staff_role: 'pit_boss', casino_id: CASINO });
  const options = { url: server.ws, apiKey: accessToken, accessToken, casinoId: CASINO };
  const queryClient = new QueryClient();
  let fetches = 0;
  const seen = { status: null, realtimes: new Set() };

  function Fills() {
    const { realtime, status } = useCasinoRealtime(options);
    seen.status = status;
    if (realtime) seen.realtimes.add(realtime);
    useQuery({ queryKey: ['table-context', 'fills', CASINO], queryFn: async () => ++fetches });
    return h('span', null, status);
  }
  function Table({ id }) {
    const { realtime } = useCasinoRealtime(options);
    useRealtimeChannel(realtime, id);
    return null;
  }
  function App({ showTable }) {
    return h(React.StrictMode, null, h(QueryClientProvider, { client: queryClient }, h(Fills), h(Fills), showTable ? h(Table, { id: 'table-9' }) : null));
  }

  const root = createRoot(document.getElementById('root'));
  let mounted = true;
  try {
  await act(async () => root.render(h(App, { showTable: true })));
  await until('connected', () => seen.status === 'connected');
  await until('both channels joined', async () => (await channels()).length === 2);
  assert.deepEqual(await channels(), [`realtime:${CASINO}`, `realtime:${CASINO}:table-9`], 'one join each, StrictMode or not');
  assert.equal(seen.realtimes.size, 1, 'one manager for the client and casino');
  await until('the first fetch', () => fetches >= 1);
  const before = fetches;

  await publish(server, CASINO, 'table.fill_requested', { ...fixtures['table.fill_requested'], casino_id: CASINO });
  await until('the invalidated query refetched', () => fetches > before);

  await act(async () => root.render(h(App, { showTable: false })));
  await until('the detail channel left', async () => (await channels()).length === 1);
  await act(async () => root.unmount());
  mounted = false;
  await until('the manager closed', async () => (await channels()).length === 0);
  } finally {
    // A failed assertion must not leave a live manager keeping the process alive.
    if (mounted) await act(async () => root.unmount());
    queryClient.clear();
  }
});
