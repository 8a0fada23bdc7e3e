// casino-realtime/react in a jsdom React tree against the dev server: one manager per QueryClient
// and casino, batches applied to the client (an active query refetches after an event), detail
// channels joined for a component's lifetime, and StrictMode's double effects not churning joins.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { JSDOM } from 'jsdom';
import WebSocket from 'ws';

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
let child;

before(async () => {
  await initCasinoRealtime(await readFile(new URL('../../pkg/casino_realtime_wasm_bg.wasm', import.meta.url)));
  const binary = fileURLToPath(new URL('../../target/debug/devserver', import.meta.url));
  child = spawn(binary, ['--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  server = await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`devserver exited with ${code}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const match = line.match(/^devserver listening on (http:\/\/\S+)$/);
      if (match) resolve(match[1]);
    });
  });
});

after(() => child?.kill());

async function token(query) {
  const response = await fetch(`${server}/_dev/token?${new URLSearchParams(query)}`, { method: 'POST' });
  return (await response.json()).token;
}

async function channels() {
  const status = await (await fetch(`${server}/_dev/status`)).json();
  return status.channels.map((c) => c.topic).sort();
}

async function until(what, check) {
  for (let i = 0; i < 1000; i += 1) {
    if (await check()) return;
    await act(() => new Promise((resolve) => setTimeout(resolve, 20)));
  }
  assert.fail(`timed out waiting for ${what}`);
}

test('the hook applies batches to the QueryClient and joins detail channels for a lifetime', async () => {
  const accessToken = await token({ staff_role: 'pit_boss', casino_id: CASINO });
  const options = { url: `${server.replace('http', 'ws')}/realtime/v1`, apiKey: accessToken, accessToken, casinoId: CASINO };
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

  const service = await token({ role: 'service_role', staff_role: '', casino_id: '' });
  const payload = { ...fixtures['table.fill_requested'], casino_id: CASINO };
  await fetch(`${server}/realtime/v1/api/db/send`, {
    method: 'POST',
    headers: { authorization: `Bearer ${service}`, 'content-type': 'application/json' },
    body: JSON.stringify({ topic: CASINO, event: 'table.fill_requested', payload }),
  });
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
