// A replay that assumes nothing about where producers stamp `at` (issue 21), in headless
// Chromium with the built package against the dev server: a fresh manager (no skew learnt from
// other producers), 5 events/s published through the database path in 1.5 s transactions whose
// payload `at` is written at commit (a Server Action that stamps `at` after its writes), the
// socket dropped every 6 s. Kept messages are stamped `inserted_at` at the start of their
// transaction, as Supabase's are. Every event must reach a batch or be covered by a resync after
// it; the replays and resyncs are printed. Before `maxDeliveryDelayMs`, about one event in
// fifteen was lost here without a word.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT, anonKey, browser, devserver, hostsPage, token } from './harness.mjs';

const MS = Number(process.env.PRODUCERS_MS ?? 45_000);
const CASINO = '00000000-0000-4000-8000-000000004001';
const fixture = JSON.parse(await readFile(join(ROOT, 'tests/fixtures/events.json'), 'utf8'))['rating_slip.updated'];
let chrome;
let dev;
let site;

before(async () => {
  chrome = await browser();
  dev = await devserver('--transaction-ms', '1500', '--at-at-commit');
  site = await hostsPage();
});

after(async () => {
  await chrome?.close();
  await site?.stop();
  dev?.stop();
});

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const slip = (n) => `44444444-4444-4444-8444-${String(n).padStart(12, '0')}`;

test('producers stamping `at` at the commit of 1.5 s transactions, sockets dropped every 6 s: nothing lost', async () => {
  const ctx = await chrome.newContext();
  const page = await ctx.newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(error.message));
  await page.goto(site.url);
  await page.waitForFunction(() => window.ready === true, null, { timeout: 30_000 });
  const access = await token(dev.url, { staff_role: 'pit_boss', casino_id: CASINO, ttl_s: 3_600 });
  await page.evaluate((o) => window.start(o), { url: dev.url, apiKey: await anonKey(dev.url), accessToken: access, casinoId: CASINO });
  await page.evaluate(() => window.managers[0].realtime.subscribe());
  await page.waitForFunction(() => window.managers[0].realtime.status === 'connected', null, { timeout: 30_000 });

  const service = await token(dev.url, { role: 'service_role', staff_role: '', casino_id: '', ttl_s: 3_600 });
  const published = [];
  const start = Date.now();
  let nextDrop = start + 6_000;
  // Each publish holds its request for the transaction's 1.5 s: they overlap, as a busy floor's do.
  const inFlight = [];
  for (let n = 1; Date.now() - start < MS; n += 1) {
    if (Date.now() >= nextDrop) {
      nextDrop += 6_000;
      await fetch(`${dev.url}/_dev/faults/drop-connections`, { method: 'POST' });
    }
    const payload = { ...fixture, casino_id: CASINO, rating_slip_id: slip(n), at: new Date().toISOString() };
    const at = Date.now();
    published.push({ n, at, key: JSON.stringify(['rating-slip', 'detail', slip(n)]) });
    inFlight.push(fetch(`${dev.url}/realtime/v1/api/db/send`, {
      method: 'POST',
      headers: { authorization: `Bearer ${service}`, 'content-type': 'application/json' },
      body: JSON.stringify({ topic: CASINO, event: 'rating_slip.updated', payload }),
    }).then((r) => assert.equal(r.status, 200)));
    await sleep(Math.max(0, start + (n * 1000) / 5 - Date.now()));
  }
  await Promise.all(inFlight);
  await sleep(3_000);
  await page.waitForFunction(() => window.managers[0].realtime.status === 'connected', null, { timeout: 60_000 });
  await sleep(2_000);

  const { batches } = await page.evaluate(() => window.managers[0].log);
  const stats = await page.evaluate(() => window.managers[0].realtime.stats());
  const resyncs = batches.filter((b) => b.reason === 'resync').map((b) => b.receivedAt);
  const keysAfter = (at) => new Set(batches.filter((b) => b.receivedAt >= at).flatMap((b) => b.actions.map((a) => JSON.stringify(a.queryKey))));
  // A resync covers an event only if it came after the event's commit (1.5 s after publishing).
  const lost = published.filter((e) => !resyncs.some((t) => t >= e.at + 1_500) && !keysAfter(e.at).has(e.key)).map((e) => e.n);
  const channel = stats.channels[0] ?? {};
  console.log(`# at at commit, 1.5 s transactions: ${published.length} events, ${lost.length} lost, ${stats.reconnects} reconnects, ${stats.replays} replays, ${stats.resyncs} resyncs${lost.length ? `; lost: ${lost.join(' ')}` : ''}`);
  assert.deepEqual(lost, [], `events lost: ${JSON.stringify({ lost, channel })}`);
  assert.ok(stats.reconnects >= 3, `${stats.reconnects} reconnects`);
  assert.ok(stats.replays >= 1, 'gaps were replayed');
  assert.deepEqual(problems, []);
  await page.evaluate(() => window.managers[0].realtime.close());
  await ctx.close();
});
