// Trouble the app must be told about (issue 21), in headless Chromium with the built package
// against the dev server, on the default path (the shared worker hosts the session):
// - a `getAccessToken` that keeps giving expired tokens: within 30 s the manager reads
//   `awaiting-token` and has said so once with a TokenError; the token source is asked on a
//   backoff, and joins are not sent faster than it answers;
// - a wrong `apiKey` (the server refuses every upgrade with 401 after its 2 s connect delay):
//   within 30 s one ConnectionError with `reason: "unauthorized"`, `status: 401` and the server's
//   words, found by one HTTP request (browsers hide a refused upgrade's status); the sockets
//   keep to the backoff.
// Counts over the 30 s are printed; the bounds asserted are loose (a slow machine does less).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { anonKey, browser, devserver, hostsPage } from './harness.mjs';

let chrome;
let dev;
let site;

before(async () => {
  chrome = await browser();
  // Supabase's delays: refused joins and connects are answered after 5 s and 2 s.
  dev = await devserver();
  site = await hostsPage();
});

after(async () => {
  await chrome?.close();
  await site?.stop();
  dev?.stop();
});

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const uuid = (n) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const counters = async () => (await (await fetch(`${dev.url}/_dev/status`)).json());

async function page() {
  const ctx = await chrome.newContext();
  const p = await ctx.newPage();
  const problems = [];
  p.on('pageerror', (error) => problems.push(error.message));
  await p.goto(site.url);
  await p.waitForFunction(() => window.ready === true, null, { timeout: 30_000 });
  return { ctx, page: p, problems };
}

const log = (p) => p.evaluate(() => window.managers[0].log);
const status = (p) => p.evaluate(() => window.managers[0].realtime.status);

test('a getAccessToken that keeps giving expired tokens: awaiting-token and one TokenError within 30 s', async () => {
  const { ctx, page: p, problems } = await page();
  const casino = uuid(3001);
  const before = await counters();
  const started = Date.now();
  await p.evaluate(([o, how]) => window.start(o, how), [
    { url: dev.url, apiKey: await anonKey(dev.url), casinoId: casino },
    { tokens: { dev: dev.url, casino, ttl_s: -120 } },
  ]);
  await p.evaluate(() => window.managers[0].realtime.subscribe());
  await sleep(30_000 - (Date.now() - started));
  const { errors, asked, statuses } = await log(p);
  const joins = (await counters()).joins - before.joins;
  const tokenErrors = errors.filter((e) => e.name === 'TokenError');
  console.log(`# expired tokens, 30 s: ${tokenErrors.length} TokenError (after ${tokenErrors[0] ? tokenErrors[0].at - started : '-'} ms), getAccessToken asked ${asked} times, ${joins} joins, status ${await status(p)}`);
  assert.equal(tokenErrors.length, 1, JSON.stringify(errors));
  assert.match(tokenErrors[0].message, /expired/i);
  assert.equal(await status(p), 'awaiting-token', JSON.stringify(statuses));
  assert.ok(!statuses.some(([s]) => s === 'connected'), 'never connected over refused tokens');
  // One join per token it was given, at most: the token source's backoff paces them (1 s, 2 s,
  // 4 s, ... up to a minute; Supabase answers each refusal after 5 s).
  assert.ok(asked >= 2 && asked <= 8, `getAccessToken asked ${asked} times`);
  assert.ok(joins <= asked + 1, `${joins} joins for ${asked} tokens`);
  assert.deepEqual(problems, []);
  await p.evaluate(() => window.managers[0].realtime.close());
  await ctx.close();
});

test('a wrong apiKey: one ConnectionError (unauthorized, 401, the server\'s words) within 30 s', async () => {
  const { ctx, page: p, problems } = await page();
  const casino = uuid(3002);
  const before = await counters();
  const started = Date.now();
  await p.evaluate((o) => window.start(o), { url: dev.url, apiKey: 'not-a-jwt', casinoId: casino, accessToken: 'not-a-jwt' });
  await p.evaluate(() => window.managers[0].realtime.subscribe());
  await sleep(30_000 - (Date.now() - started));
  const { errors } = await log(p);
  const refused = (await counters()).refused_upgrades - before.refused_upgrades;
  const connection = errors.filter((e) => e.name === 'ConnectionError');
  console.log(`# wrong apiKey, 30 s: ${connection.length} ConnectionError (after ${connection[0] ? connection[0].at - started : '-'} ms): ${connection[0]?.message}; ${refused} upgrades refused, status ${await status(p)}`);
  assert.equal(connection.length, 1, JSON.stringify(errors));
  assert.equal(connection[0].reason, 'unauthorized');
  assert.equal(connection[0].status, 401);
  assert.match(connection[0].message, /not a valid JWT/);
  // Each refusal takes the server's 2 s; the backoff adds up to 1 s, then more: at most 15.
  assert.ok(refused >= 3 && refused <= 15, `${refused} upgrades refused`);
  assert.notEqual(await status(p), 'connected');
  assert.deepEqual(problems, []);
  await p.evaluate(() => window.managers[0].realtime.close());
  await ctx.close();
});
