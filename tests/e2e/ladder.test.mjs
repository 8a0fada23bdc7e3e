// A supervised host and a fallback ladder that is taken (docs/tabs.md), in headless Chromium with
// the built package against the dev server. Each fault of issue 20, reproduced and recovered from:
// - the worker script missing (404), and the SharedWorker constructor throwing: the manager warns
//   once (HostError, mode worker) and its tabs elect a leader: one socket, events flow;
// - the worker closed from inside, and its host throwing (an exception through its wasm), while
//   two pages of one browser are live and events stream: each page says it is stale within 3 s,
//   a new shared worker (the next generation) serves them, an event published after the fault
//   reaches every page within 10 s, every event is applied or covered by a resync, none twice;
// - setAuth with a shorter-lived token after a refusal, on every rung: the channel joins again;
// - two versions of the package in one browser: each meets its own, never the other's, and a tab
//   sent to the other's worker is refused and takes the next rung.
// Times to stale and to recover are printed; no timing tighter than those bounds is asserted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CASINO, ROOT, anonKey, browser, layOutHostsPage, devserver, publish, run, serve, token } from './harness.mjs';

const FIXTURES = JSON.parse(await readFile(join(ROOT, 'tests/fixtures/events.json'), 'utf8'));
let chrome;
let dev;
let work;
const cleanup = [];

before(async () => {
  chrome = await browser();
  dev = await devserver();
  work = await mkdtemp(join(tmpdir(), 'casino-ladder-'));
  await layOutHostsPage(join(work, 'page'));
  // The same site without worker.js: a deploy that forgot it, a path the server does not serve.
  await cp(join(work, 'page'), join(work, 'no-worker'), { recursive: true });
  await rm(join(work, 'no-worker/pkg/worker.js'));
});

after(async () => {
  for (const step of cleanup.reverse()) await step();
  await chrome?.close();
  dev?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const uuid = (n) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const event = (name, casino, fields = {}) => ({ ...FIXTURES[name], casino_id: casino, at: new Date().toISOString(), ...fields });
const isPrefix = (prefix, key) => {
  const [p, k] = [JSON.parse(prefix), JSON.parse(key)];
  return p.length <= k.length && p.every((e, i) => JSON.stringify(e) === JSON.stringify(k[i]));
};

async function until(what, check, ms = 20_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function context(init) {
  const ctx = await chrome.newContext();
  cleanup.push(() => ctx.close());
  if (init) await ctx.addInitScript(init);
  return ctx;
}

async function site(dir) {
  const s = await serve(join(work, dir));
  cleanup.push(async () => s.stop());
  return s;
}

async function open(ctx, s, path = '/') {
  const page = await ctx.newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(error.message));
  await page.goto(`${s.url}${path}`);
  await page.waitForFunction(() => window.ready === true, null, { timeout: 30_000 });
  return { page, problems };
}

async function options(casino, extra = {}) {
  const access = await token(dev.url, { staff_role: 'pit_boss', casino_id: casino, ttl_s: 3_600, ...extra });
  return { url: dev.url, apiKey: await anonKey(dev.url), accessToken: access, casinoId: casino };
}

const start = (page, opts) => page.evaluate((o) => window.start(o), opts);
const log = (page, i = 0) => page.evaluate((n) => window.managers[n].log, i);
const call = (page, method, ...args) => page.evaluate(([m, a]) => window.managers[0].realtime[m](...a), [method, args]);
const status = (page) => page.evaluate(() => window.managers[0].realtime.status);
const mode = (page) => page.evaluate(() => window.managers[0].realtime.stats().mode);
const sockets = async () => (await (await fetch(`${dev.url}/_dev/status`)).json()).sockets.length;

/** `pages` each a manager of `casino` on its list feed, connected. */
async function managers(pages, casino) {
  for (const { page } of pages) {
    await start(page, await options(casino));
    await call(page, 'subscribe');
  }
  for (const { page } of pages) await until('connected', async () => (await status(page)) === 'connected');
}

/** Evaluates `expression` inside the shared worker of the site at `origin` (DevTools protocol;
 *  other tests' workers may still run in the browser). */
async function inWorker(origin, expression) {
  const cdp = await chrome.newBrowserCDPSession();
  try {
    const { targetInfos } = await cdp.send('Target.getTargets');
    const worker = targetInfos.find((t) => t.type === 'shared_worker' && t.url.startsWith(origin));
    assert.ok(worker, `a shared worker of ${origin} runs`);
    const { sessionId } = await cdp.send('Target.attachToTarget', { targetId: worker.targetId, flatten: false });
    const reply = new Promise((resolve) => {
      cdp.on('Target.receivedMessageFromTarget', (e) => {
        const message = JSON.parse(e.message);
        if (message.id === 1) resolve(message);
      });
    });
    await cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id: 1, method: 'Runtime.evaluate', params: { expression } }) });
    await Promise.race([reply, sleep(2_000)]);
  } finally {
    await cdp.detach().catch(() => {});
  }
}

/** Every published event is applied once on `page`, or covered by a resync or poll batch after it. */
async function nothingLost(page, published, what) {
  const batches = (await log(page)).batches.map((b) => ({ reason: b.reason, at: b.receivedAt, keys: b.actions.map((a) => JSON.stringify(a.queryKey)) }));
  const resyncs = batches.filter((b) => b.reason === 'resync' || b.reason === 'poll');
  let applied = 0;
  let resynced = 0;
  for (const [at, key] of published) {
    const times = batches.filter((b) => b.reason !== 'resync' && b.reason !== 'poll' && b.keys.includes(key)).length;
    assert.ok(times <= 1, `${what}: ${key} applied ${times} times`);
    if (times === 1) applied += 1;
    else {
      assert.ok(resyncs.some((b) => b.at >= at && b.keys.some((k) => isPrefix(k, key))), `${what}: ${key} neither applied nor resynced after it was published`);
      resynced += 1;
    }
  }
  return { applied, resynced };
}

for (const [fault, dir, init] of process.env.ONLY_VERSIONS ? [] : [
  ['the worker script missing (404)', 'no-worker', null],
  ['the SharedWorker constructor throwing', 'page', () => {
    window.SharedWorker = function SharedWorker() {
      throw new DOMException('blocked by the test', 'SecurityError');
    };
  }],
]) {
  test(`${fault}: one warning, the tabs elect a leader, one socket, events flow`, async () => {
    const ctx = await context(init);
    const s = await site(dir);
    const pages = [await open(ctx, s), await open(ctx, s)];
    const casino = uuid(2001 + (dir === 'page' ? 1 : 0));
    const before = await sockets();
    await managers(pages, casino);
    const modes = (await Promise.all(pages.map(({ page }) => mode(page)))).sort();
    assert.deepEqual(modes, ['follower', 'leader']);
    assert.equal((await sockets()) - before, 1, 'one socket for both');
    for (const { page } of pages) {
      const warnings = (await log(page)).errors.filter((e) => e.name === 'HostError');
      assert.equal(warnings.length, 1, JSON.stringify(warnings));
      assert.deepEqual([warnings[0].mode, warnings[0].reason], ['worker', 'start']);
    }
    await publish(dev.url, [{ topic: casino, event: 'table.activated', payload: event('table.activated', casino) }]);
    for (const { page } of pages) await until('a batch', async () => (await log(page)).batches.length > 0, 10_000);
    for (const { page } of pages) await call(page, 'close');
    for (const { problems } of pages) assert.deepEqual(problems, []);
    console.log(`# ${fault}: ${modes.join(' + ')}, 1 socket, the event on both pages`);
  });
}

test('a worker given up on that starts late opens no second socket', async () => {
  // The host's .wasm is slow the first time only: the first worker answers after the manager gave
  // up on it (10 s), the next generation at once.
  const { createServer } = await import('node:http');
  let first = true;
  const root = join(work, 'page');
  const slow = createServer(async (request, response) => {
    const path = new URL(request.url, 'http://x').pathname;
    const file = join(root, path.endsWith('/') ? `${path}index.html` : path);
    if (path.endsWith('casino_realtime_host_bg.wasm') && first) {
      first = false;
      await sleep(13_000);
    }
    try {
      const body = await readFile(file);
      const type = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' }[file.slice(file.lastIndexOf('.'))] ?? 'application/octet-stream';
      response.writeHead(200, { 'content-type': type }).end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise((resolve) => slow.listen(0, '127.0.0.1', resolve));
  cleanup.push(() => new Promise((resolve) => slow.close(resolve)));
  const ctx = await context();
  const { page, problems } = await open(ctx, { url: `http://127.0.0.1:${slow.address().port}` });
  const casino = uuid(2050);
  const before = await sockets();
  await start(page, await options(casino));
  await call(page, 'subscribe');
  await until('connected on the next generation', async () => (await status(page)) === 'connected', 40_000);
  const warnings = (await log(page)).errors.filter((e) => e.name === 'HostError');
  assert.deepEqual(warnings.map((w) => [w.mode, w.reason]), [['worker', 'no-answer']]);
  assert.equal(await mode(page), 'worker');
  // The first worker's .wasm arrives now: it must not host beside the second.
  await sleep(8_000);
  assert.equal((await sockets()) - before, 1, 'one socket');
  await publish(dev.url, [{ topic: casino, event: 'table.activated', payload: event('table.activated', casino) }]);
  await until('a batch', async () => (await log(page)).batches.length > 0, 10_000);
  await call(page, 'close');
  assert.deepEqual(problems, []);
  console.log('# a worker that answered after 13 s: given up at 10 s, the next generation served; when the first loaded, still 1 socket');
});

for (const [fault, expression] of process.env.ONLY_VERSIONS ? [] : [
  ['the worker closed from inside', 'close()'],
  ['the host throwing in the worker (an exception through its wasm)', "performance.now = () => { throw new Error('injected fault'); }"],
]) {
  test(`${fault}: stale within 3 s, a new worker serves, nothing lost, none twice`, async () => {
    const ctx = await context();
    const s = await site('page');
    const pages = [await open(ctx, s), await open(ctx, s)];
    const casino = uuid(2100 + (expression === 'close()' ? 0 : 1));
    await managers(pages, casino);
    assert.deepEqual(await Promise.all(pages.map(({ page }) => mode(page))), ['worker', 'worker']);
    const published = [];
    const send = async (i) => {
      const payload = event('rating_slip.updated', casino, { rating_slip_id: uuid(60_000 + i), visit_id: uuid(70_000 + i) });
      await publish(dev.url, [{ topic: casino, event: 'rating_slip.updated', payload }]);
      published.push([Date.now(), JSON.stringify(['rating-slip', 'detail', payload.rating_slip_id])]);
    };
    let n = 0;
    for (; n < 40; n += 1) {
      await send(n);
      await sleep(25);
    }
    const died = Date.now();
    await inWorker(s.url, expression);
    // Events go on being published while the pages find out and recover.
    const stale = new Map();
    const fresh = new Map();
    const end = Date.now() + 15_000;
    while (Date.now() < end && fresh.size < pages.length) {
      await send(n++);
      for (const [i, { page }] of pages.entries()) {
        const statuses = (await log(page)).statuses;
        const lost = statuses.find(([st, since, at]) => at >= died && st === 'reconnecting' && since !== null);
        if (lost && !stale.has(i)) stale.set(i, lost[2] - died);
        if (stale.has(i) && !fresh.has(i)) {
          const now = await page.evaluate(() => window.managers[0].realtime.stats());
          if (now.status === 'connected' && now.staleSince === null) fresh.set(i, Date.now() - died);
        }
      }
      await sleep(50);
    }
    for (const i of pages.keys()) {
      assert.ok(stale.has(i), `page ${i} said it was stale`);
      assert.ok(stale.get(i) <= 3_000, `page ${i} said it was stale ${stale.get(i)} ms after the host died`);
      assert.ok(fresh.has(i), `page ${i} recovered`);
    }
    // An event after the fault reaches every page within 10 s.
    const last = event('table.deactivated', casino, { table_id: uuid(99_001) });
    const sent = Date.now();
    await publish(dev.url, [{ topic: casino, event: 'table.deactivated', payload: last }]);
    for (const { page } of pages) {
      await until('the event after the fault', async () => (await log(page)).batches.some((b) => b.actions.some((a) => a.queryKey[2] === last.table_id)), 10_000);
    }
    const delivered = Date.now() - sent;
    await sleep(1_500);
    const figures = [];
    for (const [i, { page }] of pages.entries()) {
      const { applied, resynced } = await nothingLost(page, published, `page ${i}`);
      figures.push(`page ${i}: stale after ${stale.get(i)} ms, fresh after ${fresh.get(i)} ms, ${applied} applied, ${resynced} resynced`);
      const warnings = (await log(page)).errors.filter((e) => e.name === 'HostError');
      assert.ok(warnings.some((w) => w.mode === 'worker' && w.reason === 'lost'), JSON.stringify(warnings));
    }
    assert.deepEqual(await Promise.all(pages.map(({ page }) => mode(page))), ['worker', 'worker'], 'a new shared worker');
    console.log(`# ${fault}: ${figures.join('; ')}; the next event on every page in ${delivered} ms; 0 lost, none twice`);
    for (const { page } of pages) await call(page, 'close');
    for (const { problems } of pages) assert.deepEqual(problems, []);
  });
}

test('tokens mean the same on every rung: a shorter-lived setAuth revives a refused channel, an expiry asks getAccessToken', async () => {
  const figures = [];
  const renewed = [];
  for (const rung of ['worker', 'leader', 'local']) {
    const ctx = await context(rung === 'leader' ? () => { delete window.SharedWorker; } : null);
    const s = await site('page');
    const { page, problems } = await open(ctx, s);
    const casino = uuid(2200 + figures.length);
    // A terminal that started with a twelve-hour token.
    const opts = await options(casino, { ttl_s: 43_200 });
    await start(page, { ...opts, shareAcrossTabs: rung !== 'local' });
    assert.equal(await mode(page), rung);
    // Supabase's transient Unauthorized (its policy check failed): the channel reads denied.
    await fetch(`${dev.url}/_dev/faults/joins?refuse=${encodeURIComponent('Unauthorized: You do not have permissions to read from this Channel topic')}`, { method: 'POST' });
    await call(page, 'subscribe');
    await until('denied', async () => (await status(page)) === 'denied');
    await fetch(`${dev.url}/_dev/faults/reset`, { method: 'POST' });
    // A fresh one-hour token, issued later, expiring sooner.
    await sleep(1_100);
    const fresh = await token(dev.url, { staff_role: 'pit_boss', casino_id: casino, ttl_s: 3_600 });
    assert.equal(await status(page), 'denied', 'still denied before the new token');
    const since = Date.now();
    await call(page, 'setAuth', fresh);
    await until('connected with the new token', async () => (await status(page)) === 'connected', 15_000);
    figures.push(`${rung} ${Date.now() - since} ms`);
    await call(page, 'close');
    // A manager with getAccessToken whose token the server expires: asked once, joined again.
    const j = await page.evaluate(([o, how]) => window.start(o, how), [{ ...(await options(casino)), shareAcrossTabs: rung !== 'local' }, { tokens: { dev: dev.url, casino } }]);
    await page.evaluate((n) => window.managers[n].realtime.subscribe(), j);
    const joined = async () => (await page.evaluate((n) => window.managers[n].realtime.status, j)) === 'connected';
    await until('connected', joined);
    await fetch(`${dev.url}/_dev/faults/expire-token`, { method: 'POST' });
    await until('getAccessToken asked', async () => (await log(page, j)).asked > 0, 15_000);
    await until('connected with the new token', joined, 15_000);
    renewed.push(`${rung}: asked ${(await log(page, j)).asked}`);
    await page.evaluate((n) => window.managers[n].realtime.close(), j);
    assert.deepEqual(problems, []);
  }
  console.log(`# tokens on every rung: setAuth with a shorter-lived token after a refusal, connected again: ${figures.join(', ')}; an expired token renewed through getAccessToken: ${renewed.join(', ')}`);
});

test('two versions of the package in one browser: each meets its own, a tab sent to the other is refused and moves on', async () => {
  // A host that speaks version 2 of the messages, built as the package builds its own.
  const target = join(ROOT, 'target/protocol-2');
  await run('cargo', ['build', '--quiet', '--release', '--target', 'wasm32-unknown-unknown', '-p', 'casino-realtime-host'], {
    cwd: ROOT,
    env: { ...process.env, CASINO_REALTIME_PROTOCOL: '2', CARGO_TARGET_DIR: target },
  });
  const v2 = join(work, 'two/v2/pkg');
  await cp(join(work, 'page'), join(work, 'two/v1'), { recursive: true });
  await cp(join(work, 'page'), join(work, 'two/v2'), { recursive: true });
  for (const file of await readdir(v2)) if (file.startsWith('casino_realtime_host')) await rm(join(v2, file));
  await run('wasm-bindgen', [join(target, 'wasm32-unknown-unknown/release/casino_realtime_host.wasm'), '--out-dir', v2, '--out-name', 'casino_realtime_host', '--target', 'web'], { cwd: ROOT });
  const messages = join(v2, 'messages.js');
  await writeFile(messages, (await readFile(messages, 'utf8')).replace('export const PROTOCOL = 1;', 'export const PROTOCOL = 2;'));
  // A third copy of version 2 whose tabs are sent to version 1's worker (its name, and its
  // script by `workerUrl` below).
  await cp(join(work, 'two/v2'), join(work, 'two/astray'), { recursive: true });
  const astray = join(work, 'two/astray/pkg/messages.js');
  await writeFile(astray, (await readFile(astray, 'utf8')).replace('worker: (n) => `${PREFIX}-g${n}`', 'worker: (n) => `casino-realtime-v1-g${n}`'));

  const s = await site('two');
  const casino = uuid(2300);
  const before = await sockets();
  // One browser with tabs of both versions.
  const ctx = await context();
  const v1Pages = [await open(ctx, s, '/v1/'), await open(ctx, s, '/v1/')];
  const v2Pages = [await open(ctx, s, '/v2/'), await open(ctx, s, '/v2/')];
  // Another, where a tab of version 2 is sent to version 1's worker (its own version has no
  // worker there, so it may lead).
  const other = await context();
  const v1There = await open(other, s, '/v1/');
  const strayed = await open(other, s, '/astray/');
  const all = [...v1Pages, ...v2Pages, v1There, strayed];
  await managers([...v1Pages, ...v2Pages, v1There], casino);
  // The same worker script and name as version 1's: they are one worker.
  await start(strayed.page, { ...(await options(casino)), workerUrl: '/v1/pkg/worker.js' });
  await call(strayed.page, 'subscribe');
  await until('the strayed tab connected', async () => (await status(strayed.page)) === 'connected');
  assert.deepEqual(await Promise.all([...v1Pages, ...v2Pages, v1There].map(({ page }) => mode(page))), ['worker', 'worker', 'worker', 'worker', 'worker']);
  for (const { page } of [...v1Pages, ...v2Pages, v1There]) assert.deepEqual((await log(page)).errors, [], 'nothing refused among tabs of one version');
  const warnings = (await log(strayed.page)).errors.filter((e) => e.name === 'HostError');
  assert.deepEqual(warnings.map((w) => [w.mode, w.reason]), [['worker', 'refused']], 'refused by the other version, once');
  assert.match(warnings[0].message, /version 2 of the messages, this host 1/);
  assert.equal(await mode(strayed.page), 'leader', 'the next rung: its own version\'s election');
  assert.equal((await sockets()) - before, 4, 'a worker per version in the first browser; in the second, version 1\'s worker and the strayed tab leading');
  await publish(dev.url, [{ topic: casino, event: 'table.activated', payload: event('table.activated', casino) }]);
  for (const { page } of all) await until('a batch', async () => (await log(page)).batches.length > 0, 10_000);
  for (const { page } of all) await call(page, 'close');
  for (const { problems } of all) assert.deepEqual(problems, []);
  console.log('# two versions in one browser: a worker each (v1, v2), never meeting; a v2 tab sent to the v1 worker was refused and led its own; every page got the event');
});
