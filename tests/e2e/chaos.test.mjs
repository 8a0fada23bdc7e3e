// The chaos suite: the built package in headless Chromium against the dev server (as hard as
// Supabase: refused joins answered after 5 s, one at a time), while a publisher sends catalog
// events through the database path and a fault schedule runs. Two managers in one page: A holds
// the list feed and two detail feeds with getAccessToken and 20-second tokens, its session shared
// (hosted in the SharedWorker); B holds the list feed with an accessToken only, renewed by setAuth
// when it expires, in a session of its own (`shareAcrossTabs: false`).
//
// Checked per event and manager: each event published on a channel it holds has all its keys
// in a batch flushed after it was published, or a resync batch came after it (0 lost); no key
// names the foreign casino (0 leaks); no wasm trap or uncaught error; after the faults stop a
// new event is in a batch within 1 s; every window is at most 550 ms (but one open while the
// page was frozen, when no script can run). Then the targets: producer clocks 3 s ahead and
// behind, 1.5 s publishing transactions (their `at` written before they begin, and at commit),
// each with drops every 4 s at 5 events/s, and a 3 s outage at 5 events/s, all recovered by
// replay, not resync. Prints the figures. (Here the managers have learnt the lag of producers
// 3 s behind, which alone covered a producer stamping at commit before `maxDeliveryDelayMs`;
// producers.test.mjs runs that producer against a manager that learnt nothing else.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { ROOT, browser, devserver, serve, token } from './harness.mjs';
import { initCasinoRealtime, planCacheActions } from '../../pkg/index.js';

const CASINO = 'c4a05000-ca51-4000-8000-00000000c4a0';
const FOREIGN = '0dd0dd00-ca51-4000-8000-000000000002'; // the dev server's foreign-casino fault
const DETAILS = ['d7a11000-0000-4000-8000-000000000001', 'd7a11000-0000-4000-8000-000000000002'];
const MAIN_MS = Number(process.env.CHAOS_MAIN_MS ?? 90_000);
const RATE = 25; // events per second in the main phase
const fixtures = JSON.parse(await readFile(new URL('../fixtures/events.json', import.meta.url), 'utf8'));
const cleanup = [];
let dev;
let page;
let cdp;
const pageErrors = [];

before(async () => {
  await initCasinoRealtime();
  // The rate limit is tripped on purpose below; left on at 100/s it would trip at random.
  dev = await devserver('--max-events-per-second', '1000');
  cleanup.push(async () => dev.stop());
  const site = await serve(ROOT);
  cleanup.push(async () => site.stop());
  const chrome = await browser();
  cleanup.push(() => chrome.close());
  page = await chrome.newPage();
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => {
    if (/RuntimeError|unreachable|panicked/.test(m.text())) pageErrors.push(m.text());
  });
  cdp = await page.context().newCDPSession(page);
  const apikey = await token(dev.url, { role: 'anon', staff_role: '', casino_id: '', ttl_s: 36_000 });
  const query = new URLSearchParams({ dev: dev.url, casino: CASINO, apikey, ttl: '20', ttlB: '30', details: DETAILS.join(',') });
  await page.goto(`${site.url}/tests/e2e/chaos/index.html?${query}`);
  await page.waitForFunction(() => document.title === 'ready', null, { timeout: 30_000 });
  await waitConnected(30_000);
});

after(async () => {
  for (const step of cleanup.reverse()) await step();
});

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const fault = (path) => fetch(`${dev.url}/_dev/faults/${path}`, { method: 'POST' }).then((r) => r.ok || Promise.reject(new Error(`${path}: ${r.status}`)));

async function waitConnected(ms) {
  await page.waitForFunction(() => {
    const s = window.__chaos.status();
    return s.a === 'connected' && s.b === 'connected';
  }, null, { timeout: ms, polling: 100 });
}

let serviceToken;
let counter = 0;
const published = [];

/** A fresh copy of a fixture: every id its own, dated by the producer's clock. */
function uniqueEvent(name, n, skewMs, table) {
  const payload = structuredClone(fixtures[name]);
  for (const [key, value] of Object.entries(payload)) {
    if (key === 'casino_id' || key === 'event') continue;
    if (typeof value === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-4/.test(value)) {
      payload[key] = `${value.slice(0, 24)}${String(n).padStart(12, '0')}`;
    } else if (typeof value === 'string' && /_id$/.test(key)) {
      payload[key] = `${value}-${n}`;
    }
  }
  if (table && 'table_id' in payload) payload.table_id = table;
  payload.casino_id = CASINO;
  payload.at = new Date(Date.now() + skewMs).toISOString();
  return payload;
}

const EVENTS = Object.keys(fixtures).filter((name) => name !== 'finance.outbox_processed');

/** Publishes one unique event as `realtime.send` would, on the list feed and, for a table of a
 *  detail feed, on that feed too. */
async function publishOne({ skewMs = 0, transactionMs = 0, atCommit = false, phase }) {
  counter += 1;
  const name = EVENTS[counter % EVENTS.length];
  const table = counter % 10 === 0 ? DETAILS[(counter / 10) % 2] : null;
  const payload = uniqueEvent(name, counter, skewMs, table);
  const topics = [CASINO];
  if (table && 'table_id' in payload) topics.push(`${CASINO}:${table}`);
  const keys = planCacheActions(name, payload).map((a) => JSON.stringify(a.queryKey));
  const at = Date.now();
  serviceToken ??= await token(dev.url, { role: 'service_role', staff_role: '', casino_id: '', ttl_s: 36_000 });
  for (const topic of topics) {
    const query = `transaction_ms=${transactionMs}&at=${atCommit ? 'commit' : 'start'}`;
    const response = await fetch(`${dev.url}/realtime/v1/api/db/send?${query}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${serviceToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ topic, event: name, payload }),
    });
    assert.equal(response.status, 200, `publish ${name}`);
  }
  published.push({ n: counter, name, at, keys, topics, phase });
  return published.at(-1);
}

/** Publishes at `rate` per second for `ms`, running due faults; returns when done. */
async function stream({ ms, rate, phase, schedule = [], event = () => ({}) }) {
  const start = Date.now();
  const pending = [...schedule].sort((x, y) => x[0] - y[0]);
  let i = 0;
  while (Date.now() - start < ms) {
    const elapsed = Date.now() - start;
    while (pending.length && pending[0][0] <= elapsed) await pending.shift()[1]();
    await publishOne({ phase, ...event(i) });
    i += 1;
    await maybeRefreshB();
    const next = start + (i * 1000) / rate;
    await sleep(Math.max(0, next - Date.now()));
  }
  for (const [, run] of pending) await run();
}

let bRefreshed = 0;
/** B has no getAccessToken: when its token expired, the app gives it one with setAuth. */
async function maybeRefreshB() {
  if (frozen) return;
  const status = await page.evaluate(() => window.__chaos.status().b);
  if (status === 'awaiting-token') {
    bRefreshed += 1;
    await page.evaluate(() => window.__chaos.refreshB());
  }
}

let frozen = false;
const freezes = [];
async function freeze(ms) {
  frozen = true;
  const from = Date.now();
  // Headless Chromium ignores Page.setWebLifecycleState: the page's script is stopped in the
  // debugger instead (timers, socket events and messages wait), as a frozen tab's is.
  await cdp.send('Debugger.enable');
  await cdp.send('Debugger.pause');
  await sleep(ms);
  await cdp.send('Debugger.resume').catch(() => {});
  freezes.push([from, Date.now()]);
  frozen = false;
}

/** Whether a batch holding `keys` refetches `key`: the same key, or a prefix of it. */
function covers(keys, key) {
  return keys.some((k) => k === key || key.startsWith(`${k.slice(0, -1)},`));
}

/** The events of `phase` (all when null) that manager `log` holds, not covered. */
function lost(log, holds, phase = null) {
  const resyncs = log.batches.filter((b) => b.reason === 'resync').map((b) => b.flushedAt);
  return published
    .filter((e) => (phase === null || e.phase === phase) && e.topics.some(holds))
    .filter((e) => {
      if (resyncs.some((at) => at >= e.at)) return false;
      const later = log.batches.filter((b) => b.flushedAt >= e.at);
      return !e.keys.every((key) => later.some((b) => covers(b.keys, key)));
    })
    .map((e) => `${e.n} ${e.name} (${e.phase})`);
}

const holdsA = (topic) => topic === CASINO || DETAILS.some((d) => topic === `${CASINO}:${d}`);
const holdsB = (topic) => topic === CASINO;

/** What a failure message needs to be explained from a CI log alone. */
function diagnosis() {
  return page.evaluate(() => {
    const tail = (log) => ({ statuses: log.statuses.slice(-8), errors: log.errors.slice(-8), batches: log.batches.slice(-3).map((b) => ({ ...b, keys: b.keys.length })) });
    return { now: Date.now(), stats: window.__chaos.stats(), a: tail(window.__chaos.a), b: tail(window.__chaos.b) };
  });
}

async function recoveries() {
  const s = await page.evaluate(() => window.__chaos.stats());
  return { replays: s.a.replays + s.b.replays, resyncs: s.a.resyncs + s.b.resyncs, reconnects: s.a.reconnects + s.b.reconnects };
}

test('catalog events through a fault schedule: nothing lost, nothing leaked, no trap, live after, windows held', async () => {
  const list = `realtime:${CASINO}`;
  const schedule = [
    [3_000, () => fault('drop-connections')],
    [6_000, () => fault(`foreign-casino?topic=${CASINO}`).then(() => fault(`schema-violation?topic=${CASINO}`))],
    [8_000, () => fault('malformed-frame').then(() => fault('oversized-frame?bytes=6000000'))],
    // The channels that next get a message are closed; they rejoin after a minute and resync.
    [12_000, () => fault('rate-limit?trip=true')],
    [12_500, () => fault('rate-limit?trip=false')],
    // A transient Unauthorized on a rejoin: the channel reads denied until a new token revives it.
    [20_000, () => fault('joins?unauthorized=1').then(() => fault(`crash-channel?topic=${list}:${DETAILS[0]}`))],
    // Not awaited: the publisher goes on while the page is frozen.
    [26_000, () => void freeze(4_000)],
    [34_000, () => fault('half-open')],
    [40_000, () => fault('presence')],
    [46_000, () => fault('heartbeats?answer=false')],
    [52_000, () => fault('drop-connections')],
    [58_000, () => fault('outage?ms=3000')],
    [66_000, () => fault(`crash-channel?topic=${list}`)],
    [72_000, () => fault('drop-connections')],
    [78_000, () => fault('heartbeats?answer=true')],
  ].filter(([at]) => at < MAIN_MS);
  // Producer clocks 3 s ahead and behind, and 1.5 s transactions, mixed in.
  const mixed = (i) => ({ skewMs: [0, 3_000, -3_000][i % 3], transactionMs: i % 7 === 0 ? 1_500 : 0, atCommit: i % 14 === 0 });
  await stream({ ms: MAIN_MS, rate: RATE, phase: 'main', schedule, event: mixed });
  await fault('reset');
  await waitConnected(150_000).catch(async (e) => {
    throw new Error(`${e.message}: ${JSON.stringify(await diagnosis())}`);
  });

  // Liveness: a new event is in a batch within a second.
  const probe = await publishOne({ phase: 'liveness' });
  const probeKey = probe.keys[0];
  // A batch after the probe: its first key may be a list key earlier events refetched too.
  const seen = ([key, at]) => window.__chaos.a.batches.find((b) => b.flushedAt >= at && b.keys.includes(key));
  await page.waitForFunction(seen, [probeKey, probe.at], { timeout: 10_000, polling: 20 })
    .catch(async (e) => {
      throw new Error(`${e.message}: the probe ${probeKey} never came; ${JSON.stringify(await diagnosis())}`);
    });
  const arrival = (await page.evaluate(seen, [probeKey, probe.at])).flushedAt;
  const liveness = arrival - probe.at;

  // The targets, each at 5 events/s.
  const targets = {};
  const drops = (ms) => Array.from({ length: Math.floor(ms / 4_000) }, (_, k) => [(k + 1) * 4_000 - 1_000, () => fault('drop-connections')]);
  for (const [phase, event, schedule] of [
    ['clock +3 s', () => ({ skewMs: 3_000 }), drops(20_000)],
    ['clock -3 s', () => ({ skewMs: -3_000 }), drops(20_000)],
    ['1.5 s transactions', () => ({ transactionMs: 1_500 }), drops(20_000)],
    ['1.5 s, at at commit', () => ({ transactionMs: 1_500, atCommit: true }), drops(20_000)],
    ['3 s outage', () => ({}), [[5_000, () => fault('outage?ms=3000')]]],
  ]) {
    const before = await recoveries();
    await stream({ ms: phase === '3 s outage' ? 15_000 : 20_000, rate: 5, phase, schedule, event });
    await sleep(3_000);
    await waitConnected(60_000);
    const now = await recoveries();
    targets[phase] = { replays: now.replays - before.replays, resyncs: now.resyncs - before.resyncs, reconnects: now.reconnects - before.reconnects };
    if (targets[phase].resyncs > 0) targets[phase].diagnosis = await diagnosis();
  }
  await sleep(1_000);

  const data = await page.evaluate(() => ({ a: window.__chaos.a, b: window.__chaos.b, stats: window.__chaos.stats() }));
  const lostA = lost(data.a, holdsA);
  const lostB = lost(data.b, holdsB);
  const all = [...data.a.batches, ...data.b.batches];
  const leaks = all.filter((b) => b.keys.some((k) => k.includes(FOREIGN))).length;
  const duringFreeze = (b) => freezes.some(([from, to]) => b.openedAt <= to && b.flushedAt >= from);
  const windows = all.filter((b) => !duringFreeze(b)).map((b) => b.flushedAt - b.openedAt);
  const worst = Math.max(...windows);
  const errors = [...data.a.errors, ...data.b.errors].map(([, name]) => name);
  const count = (names) => Object.fromEntries([...new Set(names)].map((n) => [n, names.filter((x) => x === n).length]));
  const s = data.stats;

  console.log('chaos suite');
  console.log(`  events published        ${published.length} (${published.filter((e) => e.phase === 'main').length} in the ${MAIN_MS / 1000} s fault schedule)`);
  console.log(`  lost                    ${lostA.length + lostB.length} (A: ${lostA.length}, B: ${lostB.length})`);
  console.log(`  leaked foreign keys     ${leaks}`);
  console.log(`  page errors             ${pageErrors.length}`);
  console.log(`  reconnects              A ${s.a.reconnects}, B ${s.b.reconnects}`);
  console.log(`  gaps replayed/resynced  A ${s.a.replays}/${s.a.resyncs}, B ${s.b.replays}/${s.b.resyncs}`);
  console.log(`  batches                 ${all.length}, worst window ${worst} ms (${all.length - windows.length} spanning the page freeze left out)`);
  console.log(`  liveness after faults   ${liveness} ms`);
  console.log(`  errors reported         ${JSON.stringify(count(errors))}`);
  console.log(`  B renewed by setAuth    ${bRefreshed} time(s)`);
  for (const [phase, r] of Object.entries(targets)) {
    const lostHere = lost(data.a, holdsA, phase).length + lost(data.b, holdsB, phase).length;
    console.log(`  target ${phase.padEnd(19)} ${lostHere} lost, ${r.reconnects} reconnects, ${r.replays} ended in replay, ${r.resyncs} in resync`);
  }

  assert.deepEqual(pageErrors, [], 'no wasm trap, no uncaught error');
  assert.deepEqual(lostA, [], 'manager A lost events');
  assert.deepEqual(lostB, [], 'manager B lost events');
  assert.equal(leaks, 0, 'a key named the foreign casino');
  assert.ok(published.length >= 2_000, `${published.length} events published`);
  assert.ok(liveness <= 1_000, `the first event after the faults took ${liveness} ms`);
  assert.ok(worst <= 550, `a window of ${worst} ms`);
  assert.ok(bRefreshed >= 1, 'B waited for a token and got it by setAuth');
  assert.ok(!errors.includes('CallbackError'));
  for (const name of ['ProtocolError', 'ForeignCasinoError', 'InvalidEventError', 'ChannelDeniedError']) {
    assert.ok(errors.includes(name), `${name} reported: ${JSON.stringify(count(errors))}`);
  }
  for (const [phase, r] of Object.entries(targets)) {
    assert.equal(r.resyncs, 0, `${phase}: recovered by resync rather than replay: ${JSON.stringify(r.diagnosis)}`);
    assert.ok(r.replays > 0, `${phase}: no reconnect ended in replay`);
  }
});
