// One host, thin clients (docs/tabs.md), in headless Chromium against the dev server, with the
// package served unbundled:
// - a page in worker mode instantiates no WebAssembly module (every WebAssembly entry point is
//   hooked) and fetches none of the host's files, and still gets its batches; what it fetched
//   is printed;
// - every .wasm served from the app's own path (the package's files not served) works on every
//   rung: worker, leader, local;
// - the manager's calls mean the same on every rung: a join and its batch, duplicates dropped, a
//   denial with the server's words, a dropped connection recovered, a callback that closes its
//   manager and throws, a resumed page replacing a silent connection.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CASINO, ROOT, anonKey, browser, layOutHostsPage, devserver, publish, serve, token } from './harness.mjs';

const FIXTURES = JSON.parse(await readFile(join(ROOT, 'tests/fixtures/events.json'), 'utf8'));
const RUNGS = ['worker', 'leader', 'local'];
let chrome;
let dev;
let work;
const cleanup = [];

before(async () => {
  chrome = await browser();
  dev = await devserver();
  work = await mkdtemp(join(tmpdir(), 'casino-hosts-'));
  // The page and the package beside it, as the tabs test serves them.
  await layOutHostsPage(join(work, 'page'));
  // The same, with every .wasm moved to the app's own path under another name.
  await cp(join(work, 'page'), join(work, 'custom'), { recursive: true });
  await mkdir(join(work, 'custom/assets/wasm'), { recursive: true });
  for (const [module, name] of [['host', 'h'], ['debug', 'd'], ['plan', 'p']]) {
    await rename(join(work, `custom/pkg/casino_realtime_${module}_bg.wasm`), join(work, `custom/assets/wasm/${name}.wasm`));
  }
});

after(async () => {
  for (const step of cleanup.reverse()) await step();
  await chrome?.close();
  dev?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const post = (path) => fetch(`${dev.url}${path}`, { method: 'POST' });

/** A fresh browser context (its own SharedWorker) on `rung`, the WebAssembly entry points hooked. */
async function context(rung) {
  const ctx = await chrome.newContext();
  cleanup.push(() => ctx.close());
  await ctx.addInitScript((leader) => {
    if (leader) delete window.SharedWorker;
    window.__wasm = [];
    for (const name of ['instantiate', 'instantiateStreaming', 'compile', 'compileStreaming']) {
      const real = WebAssembly[name];
      WebAssembly[name] = function hooked(...args) {
        window.__wasm.push(name);
        return real.apply(this, args);
      };
    }
    for (const name of ['Module', 'Instance']) {
      WebAssembly[name] = new Proxy(WebAssembly[name], {
        construct(target, args) {
          window.__wasm.push(name);
          return new target(...args);
        },
      });
    }
  }, rung === 'leader');
  return ctx;
}

async function open(ctx, dir = 'page', query = '') {
  const site = await serve(join(work, dir));
  cleanup.push(async () => site.stop());
  const page = await ctx.newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(error.message));
  await page.goto(`${site.url}/?${query}`);
  await page.waitForFunction(() => window.ready === true, null, { timeout: 30_000 });
  return { page, problems };
}

/** Options for a manager of `casino` signed in as staff of `tokenCasino`, on `rung`. */
async function options(rung, casino, tokenCasino = casino) {
  const access = await token(dev.url, { staff_role: 'pit_boss', casino_id: tokenCasino });
  return { url: dev.url, apiKey: await anonKey(dev.url), accessToken: access, casinoId: casino, shareAcrossTabs: rung !== 'local' };
}

const start = (page, opts, how) => page.evaluate(([o, h]) => window.start(o, h), [opts, how ?? {}]);
const log = (page, i) => page.evaluate((n) => window.managers[n].log, i);
const call = (page, i, method, ...args) => page.evaluate(([n, m, a]) => window.managers[n].realtime[m](...a), [i, method, args]);
const lastStatus = async (page, i) => (await log(page, i)).statuses.at(-1)?.[0];

async function until(what, check, ms = 20_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

const uuid = (n) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const event = (name, casino, fields = {}) => ({ ...FIXTURES[name], casino_id: casino, at: new Date().toISOString(), ...fields });
const keysOf = (batches) => batches.flatMap((b) => b.actions.map((a) => JSON.stringify(a.queryKey)));

test('a page in worker mode compiles no WebAssembly and fetches none of the host, and gets its batches', async () => {
  const ctx = await context('worker');
  const { page, problems } = await open(ctx);
  const casino = uuid(1001);
  const i = await start(page, await options('worker', casino));
  await call(page, i, 'subscribe');
  await until('connected', async () => (await lastStatus(page, i)) === 'connected');
  assert.equal((await page.evaluate((n) => window.managers[n].realtime.stats().mode, i)), 'worker');
  await publish(dev.url, [{ topic: casino, event: 'table.deactivated', payload: event('table.deactivated', casino) }]);
  await until('a batch', async () => (await log(page, i)).batches.length > 0);
  assert.deepEqual(keysOf((await log(page, i)).batches), [
    JSON.stringify(['table-context', 'tables', casino]),
    JSON.stringify(['table-context', 'table', FIXTURES['table.deactivated'].table_id]),
  ]);
  const calls = await page.evaluate(() => window.__wasm);
  assert.deepEqual(calls, [], 'no WebAssembly entry point was called in the page');
  const fetched = await page.evaluate(() => performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname));
  const own = fetched.filter((p) => p.startsWith('/pkg/'));
  assert.ok(!own.some((p) => /casino_realtime_(host|debug|plan)/.test(p)), `the page fetched no module of the host or planner: ${own}`);
  let raw = 0;
  let gzip = 0;
  for (const path of own.filter((p) => p.endsWith('.js'))) {
    const body = await readFile(join(work, 'page', path));
    raw += body.length;
    gzip += gzipSync(body, { level: 9 }).length;
  }
  console.log(`# worker mode, unbundled: the page fetched ${own.length} files of the package (${own.map((p) => p.slice(5)).join(', ')}), ${raw} B raw, ${gzip} B gzip (each file gzipped alone); 0 WebAssembly calls`);
  assert.deepEqual(problems, []);
});

for (const rung of RUNGS) {
  test(`every .wasm from the app's own path, on the ${rung} rung`, async () => {
    const ctx = await context(rung);
    const { page, problems } = await open(ctx, 'custom', 'wasm=custom');
    const casino = uuid(1100 + RUNGS.indexOf(rung));
    const i = await start(page, await options(rung, casino));
    await call(page, i, 'subscribe');
    await until('connected', async () => (await lastStatus(page, i)) === 'connected');
    const mode = await page.evaluate((n) => window.managers[n].realtime.stats().mode, i);
    assert.equal(mode, rung, 'the rung asked for');
    await publish(dev.url, [{ topic: casino, event: 'table.activated', payload: event('table.activated', casino) }]);
    await until('a batch', async () => (await log(page, i)).batches.length > 0);
    // The planner, from its own path too.
    const planned = await page.evaluate((p) => window.sdk.planCacheActions('table.activated', p).length, event('table.activated', casino));
    assert.equal(planned, 2);
    // A debug manager runs on the debug host, from its own path.
    const d = await start(page, { ...(await options(rung, casino)), debug: true });
    await call(page, d, 'subscribe');
    await until('the debug manager connected', async () => (await lastStatus(page, d)) === 'connected');
    assert.equal(await page.evaluate((n) => window.managers[n].realtime.stats().mode, d), 'local');
    assert.deepEqual((await log(page, i)).errors, []);
    assert.deepEqual(problems, []);
  });
}

for (const rung of ['worker', 'local']) {
  test(`the manager's calls mean the same on the ${rung} rung`, async () => {
    const ctx = await context(rung);
    const { page, problems } = await open(ctx);
    const base = 1200 + 10 * RUNGS.indexOf(rung);

    // A join and its batch: the keys of the event, in a window batch.
    let casino = uuid(base + 1);
    let i = await start(page, await options(rung, casino));
    await call(page, i, 'subscribe');
    await until('connected', async () => (await lastStatus(page, i)) === 'connected');
    await publish(dev.url, [{ topic: casino, event: 'table.fill_requested', payload: event('table.fill_requested', casino) }]);
    await until('a batch', async () => (await log(page, i)).batches.length > 0);
    let batch = (await log(page, i)).batches[0];
    assert.equal(batch.reason, 'window');
    assert.ok(keysOf([batch]).includes(JSON.stringify(['table-context', 'fills', casino])), keysOf([batch]));
    await call(page, i, 'close');

    // Duplicates dropped: the same meta.id twice, and the same event under another id.
    casino = uuid(base + 2);
    i = await start(page, await options(rung, casino));
    await call(page, i, 'subscribe');
    await until('connected', async () => (await lastStatus(page, i)) === 'connected');
    const service = await token(dev.url, { role: 'service_role', staff_role: '', casino_id: '' });
    const payload = event('visit.checked_in', casino);
    for (const id of ['same-id', 'same-id', 'other-id']) {
      const response = await fetch(`${dev.url}/realtime/v1/api/broadcast`, {
        method: 'POST',
        headers: { authorization: `Bearer ${service}`, 'content-type': 'application/json' },
        body: JSON.stringify({ messages: [{ topic: casino, event: 'visit.checked_in', payload, private: true, id }] }),
      });
      assert.equal(response.status, 202);
    }
    await sleep(200);
    await call(page, i, 'flush');
    await until('the counts', async () => {
      const stats = await call(page, i, 'stats');
      return stats.eventsReceived === 3;
    });
    const stats = await call(page, i, 'stats');
    assert.deepEqual([stats.eventsReceived, stats.applied, stats.duplicates], [3, 1, 2]);
    batch = (await log(page, i)).batches.at(-1);
    assert.ok(batch, 'the flushed batch was delivered');
    await call(page, i, 'close');

    // A denial, with the server's words.
    casino = uuid(base + 3);
    i = await start(page, await options(rung, casino, uuid(base + 4)));
    await call(page, i, 'subscribe');
    await until('denied', async () => (await lastStatus(page, i)) === 'denied');
    const denied = (await log(page, i)).errors[0];
    assert.equal(denied.name, 'ChannelDeniedError');
    assert.ok(denied.message.includes(`Unauthorized: You do not have permissions to read from this Channel topic: ${casino}`), denied.message);
    assert.equal(await page.evaluate((n) => window.managers[n].realtime.status, i), 'denied');
    await call(page, i, 'close');

    // A dropped connection is recovered, channels rejoined.
    casino = uuid(base + 5);
    i = await start(page, await options(rung, casino));
    await call(page, i, 'subscribe');
    await call(page, i, 'subscribe', { resourceId: 'table-7' });
    await until('connected', async () => (await lastStatus(page, i)) === 'connected');
    await post('/_dev/faults/drop-connections');
    await until('reconnecting', async () => (await log(page, i)).statuses.some(([s]) => s === 'reconnecting'));
    await until('connected again', async () => (await lastStatus(page, i)) === 'connected' && (await call(page, i, 'stats')).reconnects >= 1);
    await until('every channel joined', async () => (await call(page, i, 'stats')).channels.every((c) => c.state === 'joined'));
    await publish(dev.url, [{ topic: casino, event: 'table.deactivated', payload: event('table.deactivated', casino) }]);
    await until('a batch after the reconnect', async () => (await log(page, i)).batches.length > 0);
    await call(page, i, 'close');
    assert.equal(await lastStatus(page, i), 'closed');

    // A callback closes its manager and throws: reported, and the manager is closed.
    casino = uuid(base + 6);
    i = await start(page, await options(rung, casino), { closeOnBatch: true });
    await call(page, i, 'subscribe');
    await until('connected', async () => (await lastStatus(page, i)) === 'connected');
    await publish(dev.url, [{ topic: casino, event: 'table.activated', payload: event('table.activated', casino) }]);
    await until("the callback's error", async () => (await log(page, i)).errors.length > 0);
    const thrown = (await log(page, i)).errors[0];
    assert.deepEqual([thrown.name, thrown.callback, thrown.cause], ['CallbackError', 'onBatch', true]);
    assert.equal(await lastStatus(page, i), 'closed');
    assert.equal(await page.evaluate((n) => window.managers[n].realtime.status, i), 'closed');

    // A resumed page replaces a silent connection within seconds (the probe's 5 s, then a
    // reconnect; without the resume it takes 25-50 s).
    casino = uuid(base + 7);
    i = await start(page, await options(rung, casino));
    await call(page, i, 'subscribe');
    await until('connected', async () => (await lastStatus(page, i)) === 'connected');
    await post('/_dev/faults/heartbeats?answer=false');
    try {
      await page.evaluate(() => document.dispatchEvent(new Event('resume')));
      await until('replaced after the resume', async () => (await call(page, i, 'stats')).reconnects === 1, 8_000);
    } finally {
      await post('/_dev/faults/heartbeats?answer=true');
    }
    await call(page, i, 'close');
    assert.deepEqual(problems, []);
  });
}
