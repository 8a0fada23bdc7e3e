// One connection per browser (docs/tabs.md), in headless Chromium, one browser context per test,
// against the dev server:
// - five pages of the example (its Vite build) on the list feed and different tables: one socket,
//   one join per channel, each page's batches exactly its channels' actions, closing pages leaves
//   the others live (SharedWorker mode);
// - leader mode (SharedWorker removed from the pages): the leader frozen, then the next one closed,
//   during a stream of 600 unique events: another page leads each time; every event's key reaches
//   every page alive at the end, applied or resynced (0 lost), and no page applies one twice;
// - two pages signed in to different casinos: two sessions, nothing crosses;
// - a page frozen (headless Chromium can neither hide nor lifecycle-freeze a page, so its script is
//   stopped in the debugger, as a hidden tab's is once the browser freezes it): the SharedWorker's
//   heartbeats keep their period, a session of the page's own sends none (printed).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CASINO, ROOT, browser, devserver, publish, run, serve } from './harness.mjs';

const OTHER = '0dd0dd00-ca51-4000-8000-000000000002';
const FIXTURES = JSON.parse(await readFile(join(ROOT, 'tests/fixtures/events.json'), 'utf8'));
const pkg = await import(join(ROOT, 'pkg/index.js'));
await pkg.initCasinoRealtime();

let chrome;
let work;
const cleanup = [];

before(async () => {
  chrome = await browser();
  work = await mkdtemp(join(tmpdir(), 'casino-tabs-'));
  // The test page and the package beside it, served unbundled: worker.js found by import.meta.url.
  await cp(join(ROOT, 'pkg'), join(work, 'page/pkg'), { recursive: true });
  await cp(join(ROOT, 'tests/e2e/tabs/index.html'), join(work, 'page/index.html'));
});

after(async () => {
  for (const step of cleanup.reverse()) await step();
  await chrome?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function devStatus(dev) {
  return (await fetch(`${dev.url}/_dev/status`)).json();
}

/** `event`'s catalog sample, for `casino`, now, with `fields` changed. */
function sample(event, casino, fields = {}) {
  return { ...FIXTURES[event], casino_id: casino, at: new Date().toISOString(), ...fields };
}

const uuid = (n) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const keysOf = (event, payload) => pkg.planCacheActions(event, payload).map((a) => JSON.stringify(a.queryKey));
const isPrefix = (prefix, key) => {
  const [p, k] = [JSON.parse(prefix), JSON.parse(key)];
  return p.length <= k.length && p.every((e, i) => JSON.stringify(e) === JSON.stringify(k[i]));
};

/**
 * A page's batches hold exactly `expected` (keys as JSON): each key given is one expected, and
 * each expected is given or folded under a given prefix (a window folds a table's custody key
 * under the table's key).
 */
function assertExactly(given, expected, what) {
  for (const key of given) assert.ok(expected.includes(key), `${what}: ${key} is not its channels' (${expected})`);
  for (const key of expected) assert.ok(given.some((g) => isPrefix(g, key)), `${what}: ${key} missing from ${given}`);
}

async function batchKeys(page) {
  return page.evaluate(() => [...new Set(window.__batches.flatMap((b) => b.actions.map((a) => JSON.stringify(a.queryKey))))]);
}

test('five pages of the example share one socket; each gets exactly its channels', async () => {
  const dev = await devserver('--scenario', 'floor', '--rate', '5');
  cleanup.push(async () => dev.stop());
  await fetch(`${dev.url}/_dev/scenario?running=false`, { method: 'POST' });
  const out = join(work, 'example');
  await run(join(ROOT, 'www-example/node_modules/.bin/vite'), ['build', '--logLevel', 'warn', '--outDir', out, '--emptyOutDir'], {
    cwd: join(ROOT, 'www-example'),
    env: { ...process.env, DEVSERVER_URL: dev.url },
  });
  const site = await serve(out);
  cleanup.push(async () => site.stop());
  const context = await chrome.newContext({ viewport: { width: 1200, height: 900 } });
  cleanup.push(() => context.close());
  await context.addInitScript(() => { window.__batches = []; });
  const tables = (await (await fetch(`${dev.url}/api/floor/tables`)).json()).slice(0, 4);
  assert.equal(tables.length, 4, 'the floor has tables');
  const open = async (query) => {
    const page = await context.newPage();
    await page.goto(`${site.url}/${query}`);
    return page;
  };
  const floor = await open('');
  const detail = [];
  for (const t of tables) detail.push(await open(`?table=${encodeURIComponent(t.label)}`));
  const pages = [floor, ...detail];
  for (const page of pages) {
    await page.waitForFunction(() => document.querySelector('[data-testid="status"]')?.textContent === 'connected', null, { timeout: 30_000 });
  }
  for (const page of pages) assert.equal(await page.evaluate(() => window.__realtimeStats().mode), 'worker');

  const topic = (id) => `realtime:${CASINO}${id ? `:${id}` : ''}`;
  let status = await devStatus(dev);
  assert.equal(status.sockets.length, 1, 'one WebSocket for five pages');
  const topics = status.sockets[0].topics;
  assert.equal(new Set(topics).size, topics.length, `one join per channel: ${topics}`);
  for (const t of [null, ...tables.map((t) => t.id)]) assert.ok(topics.includes(topic(t)), `${topic(t)} joined`);
  console.log(`# five pages: ${status.sockets.length} socket, ${topics.length} channels joined once each`);

  // One event on each table's channel only, and one on the list feed only.
  await sleep(1_000);
  for (const page of pages) await page.evaluate(() => { window.__batches.length = 0; });
  const events = tables.map((t, i) => ['table.fill_requested', sample('table.fill_requested', CASINO, { table_id: t.id, request_id: `tabs-fill-${i}` }), t.id]);
  const listOnly = ['table.deactivated', sample('table.deactivated', CASINO, { table_id: uuid(99) }), null];
  for (const [event, payload, resource] of [...events, listOnly]) {
    await publish(dev.url, [{ topic: resource ? `${CASINO}:${resource}` : CASINO, event, payload }]);
  }
  const expectFloor = [...events, listOnly].flatMap(([e, p]) => keysOf(e, p));
  await floor.waitForFunction((n) => window.__batches.reduce((s, b) => s + b.events, 0) >= n, 5, { timeout: 10_000 });
  for (let i = 0; i < detail.length; i += 1) {
    await detail[i].waitForFunction(() => window.__batches.length > 0, null, { timeout: 10_000 });
  }
  await sleep(700);
  assertExactly(await batchKeys(floor), expectFloor, 'the floor');
  for (let i = 0; i < detail.length; i += 1) {
    assertExactly(await batchKeys(detail[i]), keysOf(events[i][0], events[i][1]), `table ${tables[i].label}`);
  }

  // Pages go; the others stay live on the same socket.
  await detail[0].close();
  await floor.close();
  await sleep(2_500);
  for (const page of detail.slice(1)) await page.evaluate(() => { window.__batches.length = 0; });
  const late = sample('table.fill_requested', CASINO, { table_id: tables[2].id, request_id: 'tabs-fill-late' });
  await publish(dev.url, [{ topic: `${CASINO}:${tables[2].id}`, event: 'table.fill_requested', payload: late }]);
  await detail[2].waitForFunction(() => window.__batches.length > 0, null, { timeout: 10_000 });
  await sleep(700);
  assertExactly(await batchKeys(detail[2]), keysOf('table.fill_requested', late), 'a page left open');
  assert.deepEqual(await batchKeys(detail[1]), [], 'not its channel');
  status = await devStatus(dev);
  assert.equal(status.sockets.length, 1);
  const left = status.sockets[0].topics;
  assert.ok(!left.includes(topic(tables[0].id)), `a closed page's channel is left: ${left}`);
  assert.ok(!left.includes(topic(null)), 'the list feed, held only by the floor, is left');
  assert.ok(left.includes(topic(tables[3].id)));
});

/** A dev server, the test page served, and a browser context; all gone after the tests. */
async function testSite() {
  const dev = await devserver();
  cleanup.push(async () => dev.stop());
  const site = await serve(join(work, 'page'));
  cleanup.push(async () => site.stop());
  const context = await chrome.newContext();
  cleanup.push(() => context.close());
  return { dev, site, context };
}

/** A page of tests/e2e/tabs/index.html in `context`. */
async function testPage(context, site, dev, query) {
  const page = await context.newPage();
  page.on('pageerror', (error) => console.log(`# page error: ${error.message}`));
  await page.goto(`${site.url}/?${new URLSearchParams({ dev: dev.url, casino: CASINO, ...query })}`);
  await page.waitForFunction(() => window.ready && window.realtime.status === 'connected', null, { timeout: 30_000 });
  return page;
}

const mode = (page) => page.evaluate(() => window.realtime.stats().mode);

/** Stops the page's script (timers, messages) until `thaw`: a frozen tab. */
async function freeze(context, page) {
  const cdp = await context.newCDPSession(page);
  await cdp.send('Debugger.enable');
  await cdp.send('Debugger.pause');
  return async () => {
    // A page whose script never ran meanwhile (its session is in the worker) never paused.
    await cdp.send('Debugger.resume').catch(() => {});
    await cdp.detach();
  };
}

/** Waits until one of `pages` leads; resolves with the ms it took. */
async function newLeader(pages, since) {
  for (;;) {
    for (const page of pages) if ((await mode(page)) === 'leader') return Date.now() - since;
    if (Date.now() - since > 20_000) throw new Error('no page leads');
    await sleep(25);
  }
}

test('leader mode: a frozen leader, then a closed one, lose nothing and apply nothing twice', async () => {
  const { dev, site, context } = await testSite();
  await context.addInitScript(() => { delete window.SharedWorker; });
  const pages = [];
  for (let i = 0; i < 3; i += 1) pages.push(await testPage(context, site, dev, {}));
  const modes = await Promise.all(pages.map(mode));
  assert.deepEqual(modes, ['leader', 'follower', 'follower']);
  assert.equal((await devStatus(dev)).sockets.length, 1);

  // 600 unique events; each makes a key of its own (its slip's detail).
  const N = 600;
  const published = [];
  const leaderships = [];
  let frozen = null;
  let closed = null;
  let thaw = null;
  for (let i = 0; i < N; i += 1) {
    const payload = sample('rating_slip.updated', CASINO, { rating_slip_id: uuid(10_000 + i), visit_id: uuid(50_000 + i) });
    await publish(dev.url, [{ topic: CASINO, event: 'rating_slip.updated', payload }]);
    published.push([Date.now(), JSON.stringify(['rating-slip', 'detail', payload.rating_slip_id])]);
    if (i === 150) {
      frozen = pages[0];
      thaw = await freeze(context, frozen);
      leaderships.push(['frozen', await newLeader(pages.slice(1), Date.now())]);
    }
    if (i === 400) {
      const leaders = [];
      for (const page of pages.slice(1)) if ((await mode(page)) === 'leader') leaders.push(page);
      closed = leaders[0];
      const since = Date.now();
      await closed.close();
      leaderships.push(['closed', await newLeader(pages.slice(1).filter((p) => p !== closed), since)]);
    }
    if (i % 50 === 0) await sleep(20);
  }
  await thaw();
  const alive = pages.filter((p) => p !== closed);
  for (const page of alive) {
    await page.waitForFunction(() => {
      const s = window.realtime.stats();
      return s.status === 'connected' && s.staleSince === null;
    }, null, { timeout: 30_000 });
  }
  await sleep(1_500);
  console.log(`# leader mode: a new page led ${leaderships.map(([how, ms]) => `${ms} ms after the leader was ${how}`).join(', ')}`);
  assert.equal((await devStatus(dev)).sockets.length, 1, 'the old leader let its socket go');

  for (const page of alive) {
    const batches = await page.evaluate(() => window.batches.map((b) => ({ reason: b.reason, at: b.flushedAt, keys: b.actions.map((a) => JSON.stringify(a.queryKey)) })));
    const resyncs = batches.filter((b) => b.reason === 'resync' || b.reason === 'poll');
    let applied = 0;
    let resynced = 0;
    for (const [at, key] of published) {
      const times = batches.filter((b) => b.reason !== 'resync' && b.reason !== 'poll' && b.keys.includes(key)).length;
      assert.ok(times <= 1, `${key} applied ${times} times`);
      if (times === 1) applied += 1;
      else {
        const covered = resyncs.some((b) => b.at >= at && b.keys.some((k) => isPrefix(k, key)));
        assert.ok(covered, `${key} neither applied nor resynced after it was published`);
        resynced += 1;
      }
    }
    const role = page === frozen ? 'the frozen leader' : 'the last page';
    console.log(`# leader mode, ${role}: ${applied} events applied, ${resynced} covered by ${resyncs.length} resync batch(es), 0 lost`);
  }
});

test('pages signed in to different casinos get separate sessions and nothing crosses', async () => {
  const { dev, site, context } = await testSite();
  const ours = await testPage(context, site, dev, { casino: CASINO });
  const theirs = await testPage(context, site, dev, { casino: OTHER });
  assert.equal((await devStatus(dev)).sockets.length, 2, 'two sessions');
  assert.deepEqual(await Promise.all([ours, theirs].map(mode)), ['worker', 'worker']);
  const a = sample('table.deactivated', CASINO, { table_id: uuid(1) });
  const b = sample('table.deactivated', OTHER, { table_id: uuid(2) });
  await publish(dev.url, [{ topic: CASINO, event: 'table.deactivated', payload: a }, { topic: OTHER, event: 'table.deactivated', payload: b }]);
  for (const page of [ours, theirs]) await page.waitForFunction(() => window.batches.length > 0, null, { timeout: 10_000 });
  await sleep(700);
  const keys = (page) => page.evaluate(() => window.batches.flatMap((x) => x.actions.map((y) => JSON.stringify(y.queryKey))));
  assert.deepEqual((await keys(ours)).sort(), keysOf('table.deactivated', a).sort());
  assert.deepEqual((await keys(theirs)).sort(), keysOf('table.deactivated', b).sort());
  const channels = (page) => page.evaluate(() => window.realtime.stats().channels.map((c) => c.topic));
  assert.deepEqual(await channels(ours), [`realtime:${CASINO}`]);
  assert.deepEqual(await channels(theirs), [`realtime:${OTHER}`]);
});

test('a frozen page: the worker keeps the heartbeat period, a session of its own does not', async () => {
  const dev = await devserver();
  cleanup.push(async () => dev.stop());
  const site = await serve(join(work, 'page'));
  cleanup.push(async () => site.stop());
  const PERIOD = 2_000;
  const FROZEN = 9_000;
  const gaps = {};
  for (const share of ['1', '0']) {
    const context = await chrome.newContext();
    const page = await testPage(context, site, dev, { share, heartbeat: String(PERIOD) });
    assert.equal(await mode(page), share === '1' ? 'worker' : 'local');
    const thawPage = await freeze(context, page);
    const from = Date.now();
    await sleep(FROZEN);
    const beats = (await devStatus(dev)).sockets.flatMap((s) => s.heartbeats).filter((t) => t >= from && t <= from + FROZEN);
    const times = [from, ...beats.sort((x, y) => x - y), from + FROZEN];
    gaps[share] = { beats: beats.length, longest: Math.max(...times.slice(1).map((t, i) => t - times[i])) };
    await thawPage();
    // The page's own timers ran late: it gives its host a clean period, and finds it alive (no
    // false alarm after a freeze).
    await sleep(3_000);
    const errors = await page.evaluate(() => window.errors);
    assert.deepEqual(errors.filter((e) => e.startsWith('HostError')), [], `no host was given up after the freeze (${share})`);
    assert.equal(await page.evaluate(() => window.realtime.status), 'connected');
    await context.close();
    await sleep(500);
  }
  console.log(`# frozen page, heartbeat period ${PERIOD} ms, ${FROZEN} ms frozen: worker ${gaps['1'].beats} heartbeats (longest gap ${gaps['1'].longest} ms); own session ${gaps['0'].beats} (longest gap ${gaps['0'].longest} ms)`);
  assert.ok(gaps['1'].beats >= 3, `the worker kept beating: ${JSON.stringify(gaps)}`);
  assert.ok(gaps['0'].beats < gaps['1'].beats, `a frozen page's own session cannot: ${JSON.stringify(gaps)}`);
});
