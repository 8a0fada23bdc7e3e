// casino-realtime/react in a jsdom React tree against the dev server: the provider owns one
// manager (batches applied to the client: an active query refetches after an event), detail
// channels are joined for a component's lifetime, StrictMode's double effects do not churn
// joins, `idle` while disabled or server-rendered, option changes take effect (a token through
// setAuth, re-authorizing every channel; anything else by replacing the manager), and failures
// are a status, not a throw.
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
const { CasinoRealtimeProvider, useRealtimeChannel, useRealtimeStatus } = await import('../../pkg/react.js');
const { renderToString } = await import('react-dom/server');

const h = React.createElement;
const CASINO = '33333333-3333-4333-8333-333333333333';
const fixtures = JSON.parse(await readFile(new URL('../fixtures/events.json', import.meta.url), 'utf8'));
let server;

before(async () => {
  await initCasinoRealtime();
  server = await startDevserver();
});

after(() => server?.stop());

const token = (query) => devToken(server, query);

async function channels() {
  return (await status(server)).channels.map((c) => c.topic).sort();
}

const until = (what, check) => untilDone(what, check, 20_000, (f) => act(f));


/** Renders `element` into a fresh root; returns `{ render, unmount }`, unmounting on failure too. */
async function mount(element) {
  const container = document.createElement('div');
  document.body.append(container);
  const root = createRoot(container);
  let mounted = true;
  await act(async () => root.render(element));
  return {
    render: (next) => act(async () => root.render(next)),
    async unmount() {
      if (!mounted) return;
      mounted = false;
      await act(async () => root.unmount());
      container.remove();
    },
  };
}

/** A component that reports what useRealtimeStatus() gives into `seen`. */
function Reader({ seen }) {
  const state = useRealtimeStatus();
  seen.status = state.status;
  seen.error = state.error;
  if (state.realtime) seen.realtimes.add(state.realtime);
  seen.realtime = state.realtime;
  return h('span', null, state.status);
}

test('the provider applies batches to the QueryClient and joins detail channels for a lifetime', async () => {
  const accessToken = await token({ staff_role: 'pit_boss', casino_id: CASINO });
  const options = { url: server.ws, apiKey: accessToken, accessToken, casinoId: CASINO };
  const queryClient = new QueryClient();
  let fetches = 0;
  const seen = { status: null, realtimes: new Set() };

  function Fills() {
    useQuery({ queryKey: ['table-context', 'fills', CASINO], queryFn: async () => ++fetches });
    return h(Reader, { seen });
  }
  function Table({ id }) {
    useRealtimeChannel(id);
    return null;
  }
  const app = (showTable) =>
    h(React.StrictMode, null, h(QueryClientProvider, { client: queryClient },
      h(CasinoRealtimeProvider, options, h(Fills), h(Fills), showTable ? h(Table, { id: 'table-9' }) : null)));

  const view = await mount(app(true));
  try {
    await until('connected', () => seen.status === 'connected');
    await until('both channels joined', async () => (await channels()).length === 2);
    assert.deepEqual(await channels(), [`realtime:${CASINO}`, `realtime:${CASINO}:table-9`], 'one join each, StrictMode or not');
    assert.equal(seen.realtimes.size, 1, 'one manager for the provider');
    await until('the first fetch', () => fetches >= 1);
    const before = fetches;

    await publish(server, CASINO, 'table.fill_requested', { ...fixtures['table.fill_requested'], casino_id: CASINO });
    await until('the invalidated query refetched', () => fetches > before);

    await view.render(app(false));
    await until('the detail channel left', async () => (await channels()).length === 1);
    await view.unmount();
    await until('the manager closed', async () => (await channels()).length === 0);
  } finally {
    await view.unmount();
    queryClient.clear();
  }
});

test('idle on the server and while disabled; enabling connects', async () => {
  const accessToken = await token({ staff_role: 'pit_boss', casino_id: CASINO });
  const options = { url: server.ws, apiKey: accessToken, accessToken, casinoId: CASINO };
  const queryClient = new QueryClient();
  const seen = { status: null, realtimes: new Set() };
  const app = (enabled) => h(QueryClientProvider, { client: queryClient }, h(CasinoRealtimeProvider, { ...options, enabled }, h(Reader, { seen })));

  // A server render: no window access, nothing opened, `idle`.
  assert.equal(renderToString(app(true)), '<span>idle</span>');
  const view = await mount(app(false));
  try {
    assert.equal(seen.status, 'idle');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal((await status(server)).connections, 0, 'disabled: no socket');
    await view.render(app(true));
    await until('connected', () => seen.status === 'connected');
    await view.render(app(false));
    await until('idle again, and closed', async () => seen.status === 'idle' && (await status(server)).connections === 0);
  } finally {
    await view.unmount();
  }
});

test('an option change replaces the manager; a token change does not', async () => {
  const accessToken = await token({ staff_role: 'pit_boss', casino_id: CASINO });
  const options = { url: server.ws, apiKey: accessToken, accessToken, casinoId: CASINO };
  const queryClient = new QueryClient();
  const seen = { status: null, realtimes: new Set() };
  const app = (extra) => h(QueryClientProvider, { client: queryClient }, h(CasinoRealtimeProvider, { ...options, ...extra }, h(Reader, { seen })));
  const view = await mount(app({}));
  try {
    await until('connected', () => seen.status === 'connected');
    const first = seen.realtime;
    // A re-render with equal options (new objects) keeps it.
    await view.render(app({ batch: undefined }));
    assert.equal(seen.realtime, first);
    await view.render(app({ batch: { debounceMs: 50, maxWaitMs: 300 } }));
    await until('a new manager, connected', () => seen.realtime && seen.realtime !== first && seen.status === 'connected');
    // Any option the manager is made of counts, the newer ones too.
    const withBatch = seen.realtime;
    await view.render(app({ batch: { debounceMs: 50, maxWaitMs: 300 }, fallbackPollMs: 2000 }));
    await until('replaced for fallbackPollMs', () => seen.realtime && seen.realtime !== withBatch && seen.status === 'connected');
    await view.render(app({ batch: { debounceMs: 50, maxWaitMs: 300 } }));
    await until('and back', () => seen.status === 'connected' && seen.realtime.status === 'connected');
    assert.equal(first.status, 'closed', 'the old one is closed');
    await until('one socket', async () => (await status(server)).connections === 1);
    const second = seen.realtime;
    const refreshed = await token({ staff_role: 'pit_boss', casino_id: CASINO, ttl_s: 7200 });
    await view.render(app({ batch: { debounceMs: 50, maxWaitMs: 300 }, accessToken: refreshed }));
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(seen.realtime, second, 'a token goes through setAuth');
    assert.equal(seen.status, 'connected');
  } finally {
    await view.unmount();
  }
});

test('when the user changes, every channel is re-authorized and what the new user may not read stops', async () => {
  const pitBoss = await token({ staff_role: 'pit_boss', casino_id: CASINO, sub: 'pit-boss-1' });
  const dealer = await token({ staff_role: 'dealer', casino_id: CASINO, sub: 'dealer-7' });
  const queryClient = new QueryClient();
  const seen = { status: null, realtimes: new Set() };
  const fetches = { list: 0, table: 0 };
  const TABLE = '5ab1e000-0000-4000-8000-000000000003';
  function Floor() {
    useRealtimeChannel(TABLE);
    useQuery({ queryKey: ['table-context', 'fills', CASINO], queryFn: async () => ++fetches.list });
    useQuery({ queryKey: ['table-context', 'table', TABLE, 'custody'], queryFn: async () => ++fetches.table });
    return h(Reader, { seen });
  }
  const errors = [];
  const app = (accessToken) => h(QueryClientProvider, { client: queryClient },
    h(CasinoRealtimeProvider, { url: server.ws, apiKey: pitBoss, accessToken, casinoId: CASINO, onError: (e) => errors.push(e) }, h(Floor)));
  const view = await mount(app(pitBoss));
  try {
    await until('both channels joined', async () => (await channels()).length === 2);
    const listEvent = { ...fixtures['table.fill_requested'], casino_id: CASINO };
    await until('first fetches', () => fetches.list >= 1 && fetches.table >= 1);
    let before = { ...fetches };
    await publish(server, CASINO, 'table.fill_requested', listEvent);
    await until('the pit boss sees the list feed', () => fetches.list > before.list);

    // The dealer signs in on the same terminal: the list feed is not theirs to read.
    await view.render(app(dealer));
    await until('the list feed refused', () =>
      seen.realtime?.stats().channels.some((c) => c.topic === `realtime:${CASINO}` && c.state === 'denied'));
    assert.ok(errors.some((e) => e.name === 'ChannelDeniedError' && e.topic === `realtime:${CASINO}`), 'reported');
    assert.deepEqual(await channels(), [`realtime:${CASINO}:${TABLE}`], 'only the detail channel is still joined');
    before = { ...fetches };
    await publish(server, CASINO, 'table.fill_requested', listEvent);
    await new Promise((resolve) => setTimeout(resolve, 1200));
    assert.deepEqual(fetches, before, 'nothing from the refused list feed reached the dealer');
    // The table's own channel, which a dealer may read, still delivers.
    const custody = { ...fixtures['table.fill_completed'], casino_id: CASINO, table_id: TABLE };
    await publish(server, `${CASINO}:${TABLE}`, 'table.fill_completed', custody);
    await until('the dealer sees the table channel', () => fetches.table > before.table);
  } finally {
    await view.unmount();
  }
});

test('the status hook says since when data may be stale, and clears it once recovered', async () => {
  const accessToken = await token({ staff_role: 'pit_boss', casino_id: CASINO });
  const queryClient = new QueryClient();
  const seen = [];
  function Stale() {
    const { status, staleSince } = useRealtimeStatus();
    seen.push({ status, staleSince });
    return null;
  }
  const statuses = [];
  const view = await mount(h(QueryClientProvider, { client: queryClient },
    h(CasinoRealtimeProvider, { url: server.ws, apiKey: accessToken, accessToken, casinoId: CASINO, onStatus: (s, d) => statuses.push([s, d.staleSince]) }, h(Stale))));
  try {
    assert.equal(seen[0].staleSince, null, 'idle: nothing to vouch for');
    await until('connected and fresh', () => seen.at(-1).status === 'connected' && seen.at(-1).staleSince === null);
    const before = Date.now();
    await fetch(`${server.url}/_dev/faults/outage?ms=1500`, { method: 'POST' });
    await until('stale while the socket is down', () => typeof seen.at(-1).staleSince === 'number');
    const { staleSince } = seen.at(-1);
    assert.ok(staleSince <= Date.now() && staleSince >= before - 30_000, `staleSince ${staleSince} is a recent time`);
    assert.ok(statuses.some(([, since]) => since === staleSince), 'onStatus got it too');
    await until('fresh again after the replay', () => seen.at(-1).status === 'connected' && seen.at(-1).staleSince === null);
  } finally {
    await view.unmount();
  }
});

test('a replaced manager and a new channel in one render, a sign-out, and a throwing onStatus', async () => {
  const accessToken = await token({ staff_role: 'pit_boss', casino_id: CASINO });
  const queryClient = new QueryClient();
  const seen = { status: null, realtimes: new Set() };
  function Channel({ id }) {
    useRealtimeChannel(id);
    return null;
  }
  const errors = [];
  const app = (extra, id) => h(QueryClientProvider, { client: queryClient },
    h(CasinoRealtimeProvider, {
      url: server.ws, apiKey: accessToken, accessToken, casinoId: CASINO,
      onStatus: () => { throw new Error('app bug'); },
      onError: (e) => errors.push(e.name),
      ...extra,
    }, h(Reader, { seen }), h(Channel, { id })));
  const view = await mount(app({}, 'table-1'));
  try {
    // The app's onStatus throws: the hook still follows the manager.
    await until('connected despite a throwing onStatus', () => seen.status === 'connected');
    assert.ok(errors.includes('CallbackError'));
    const first = seen.realtime;
    // The provider's options and the child's channel change together: no ClosedError.
    await view.render(app({ batch: { maxWaitMs: 400 } }, 'table-2'));
    await until('the new manager joined table-2', async () =>
      seen.realtime !== first && (await channels()).includes(`realtime:${CASINO}:table-2`));
    // Signing out (no token any more) replaces the manager: the last user's channels are left.
    const signedIn = seen.realtime;
    await view.render(app({ batch: { maxWaitMs: 400 }, accessToken: undefined }, 'table-2'));
    await until('replaced on sign-out', () => seen.realtime && seen.realtime !== signedIn);
    assert.equal(signedIn.status, 'closed');
  } finally {
    await view.unmount();
  }
});

test('options that cannot make a manager are a status and an error, not a throw', async () => {
  const queryClient = new QueryClient();
  const seen = { status: null, realtimes: new Set() };
  const reported = [];
  const view = await mount(h(QueryClientProvider, { client: queryClient },
    h(CasinoRealtimeProvider, { url: server.ws, apiKey: 'k', casinoId: 'not-a-uuid', onError: (e) => reported.push(e) }, h(Reader, { seen }))));
  try {
    await until('error', () => seen.status === 'error');
    assert.equal(seen.error.name, 'InvalidOptionsError');
    assert.equal(seen.error.option, 'casinoId');
    assert.deepEqual(reported, [seen.error]);
  } finally {
    await view.unmount();
  }
});

test('a .wasm that cannot load is status error with a LoadError, not a throw in render', async () => {
  const { execFile } = await import('node:child_process');
  const script = new URL('./react-load-failure.mjs', import.meta.url).pathname;
  const stdout = await new Promise((resolve, reject) =>
    execFile(process.execPath, [script], (error, out, err) => (error ? reject(new Error(`${error.message}\n${err}`)) : resolve(out))));
  const { first, last, reported } = JSON.parse(stdout);
  assert.equal(first.status, 'idle');
  assert.deepEqual(last, { status: 'error', error: { name: 'LoadError', cause: 'blocked by the page' } });
  assert.deepEqual(reported, ['LoadError']);
});

test('a hook outside the provider says what is missing', async () => {
  function Lost() {
    useRealtimeStatus();
    return null;
  }
  assert.throws(() => renderToString(h(Lost)), /must be used inside a <CasinoRealtimeProvider>/);
});
