// The built example app against the dev server's floor, in headless Chromium (playwright-core):
// it renders, follows events, coalesces a burst, recovers from a dropped connection, and says
// "denied" for another casino's staff. Saves a screenshot to target/e2e/dashboard.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CASINO, ROOT, browser, burst, devserver, publish, run, serve } from './harness.mjs';

let dev;
let site;
let chrome;
let outDir;

before(async () => {
  dev = await devserver('--scenario', 'floor', '--rate', '5');
  outDir = await mkdtemp(join(tmpdir(), 'casino-e2e-'));
  const vite = join(ROOT, 'www-example/node_modules/.bin/vite');
  await run(vite, ['build', '--logLevel', 'warn', '--outDir', outDir, '--emptyOutDir'], {
    cwd: join(ROOT, 'www-example'),
    env: { ...process.env, DEVSERVER_URL: dev.url },
  });
  site = await serve(outDir);
  chrome = await browser();
});

after(async () => {
  await chrome?.close();
  site?.stop();
  dev?.stop();
  if (outDir) await rm(outDir, { recursive: true, force: true });
});

async function open(query = '') {
  const page = await chrome.newPage({ viewport: { width: 1400, height: 980 } });
  await page.goto(`${site.url}/${query}`);
  return page;
}

const status = (page) => page.getByTestId('status');

async function waitStatus(page, value) {
  await page.waitForFunction((v) => document.querySelector('[data-testid="status"]')?.textContent === v, value, { timeout: 20_000 });
}

async function stats(page) {
  return page.evaluate(() => window.__realtimeStats?.());
}

/** Waits until the page's manager has joined `topic`: events published before would be missed. */
async function waitJoined(page, topic) {
  await page.waitForFunction(
    (t) => window.__realtimeStats?.()?.channels.some((c) => c.topic === t && c.state === 'joined'),
    topic,
    { timeout: 20_000 },
  );
}

test('the floor renders and follows events', async () => {
  const page = await open('?inspect');
  await waitStatus(page, 'connected');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="tables"] > .table').length === 12);

  // A balance event writes the new value into the cache: the UI shows it without a fetch.
  const player = await page.locator('tr[data-player]').first().getAttribute('data-player');
  await waitJoined(page, `realtime:${CASINO}:${player}`);
  // Dated ahead of the floor's own balance events, so it is the newest write for that key.
  const balance = { event: 'loyalty.balance_updated', player_id: player, casino_id: CASINO, balance: 987654, balance_delta: 1, tier: 'gold', at: new Date(Date.now() + 60_000).toISOString() };
  await publish(dev.url, [{ topic: `${CASINO}:${player}`, event: 'loyalty.balance_updated', payload: balance }]);
  await page.locator(`tr[data-player="${player}"] [data-testid="balance"]`).filter({ hasText: '987,654' }).waitFor({ timeout: 10_000 });

  // A fill request invalidates the table's custody query: it refetches.
  const tables = await (await fetch(`${dev.url}/api/floor/tables`)).json();
  const table = tables[0];
  await waitJoined(page, `realtime:${CASINO}`);
  const refetch = page.waitForResponse((r) => r.url().endsWith(`/api/floor/tables/${table.id}`), { timeout: 10_000 });
  const fill = { event: 'table.fill_requested', casino_id: CASINO, table_id: table.id, request_id: 'e2e-fill-1', amount_cents: 100000, chipset: { 100: 10 }, requested_by: null, slip_no: null, at: new Date().toISOString() };
  await publish(dev.url, [{ topic: CASINO, event: 'table.fill_requested', payload: fill }]);
  await refetch;

  // The floor's own events (fills, credits, drops) refetch a table's custody, and the card then
  // shows the server's new figures.
  const custody = () =>
    page.evaluate(() =>
      Object.fromEntries(
        [...document.querySelectorAll('[data-testid^="table-"]')].map((el) => [el.dataset.testid, el.querySelector('.custody').textContent]),
      ),
    );
  const initial = await custody();
  await page.waitForFunction(
    (first) => [...document.querySelectorAll('[data-testid^="table-"]')].some((el) => el.querySelector('.custody').textContent !== first[el.dataset.testid]),
    initial,
    { timeout: 60_000 },
  );
  const changed = Object.entries(await custody()).find(([id, text]) => text !== initial[id]);
  const label = changed[0].slice('table-'.length);
  // The floor keeps moving: the card and the server agree once the latest refetch landed.
  let agreed = false;
  for (let i = 0; i < 100 && !agreed; i += 1) {
    const server = (await (await fetch(`${dev.url}/api/floor/tables`)).json()).find((t) => t.label === label);
    const shown = (await custody())[changed[0]];
    agreed = shown === `fills ${server.fills}credits ${server.credits}drops ${server.drops}`;
    if (!agreed) await page.waitForTimeout(100);
  }
  assert.ok(agreed, `${label} shows the server's custody figures`);

  // The inspector panel (the provider's `debug`) lists what became of events and why keys refetched.
  await page.locator('[data-testid="inspector"] tr.applied').first().waitFor({ timeout: 10_000 });
  const causes = await page.locator('[data-testid="inspector"] td').allTextContents();
  assert.ok(causes.some((c) => /^table\.|^rating_slip\.|^visit\.|^loyalty\./.test(c)), 'a key is shown with the event behind it');

  await mkdir(join(ROOT, 'target/e2e'), { recursive: true });
  await page.screenshot({ path: join(ROOT, 'target/e2e/dashboard.png') });
  await page.close();
});

test('with the floor running for 30 s, every value the dashboard shows equals the server\'s within 1 s of the last event', async () => {
  const page = await open();
  await waitStatus(page, 'connected');
  await waitJoined(page, `realtime:${CASINO}`);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="tables"] > .table').length === 12);
  const before = (await stats(page)).applied;
  await page.waitForTimeout(30_000);
  await fetch(`${dev.url}/_dev/scenario?running=false`, { method: 'POST' });
  try {
    // The scenario ticks at 5/s: a held-back event goes out on the next tick, then nothing.
    await page.waitForTimeout(250);
    await page.waitForTimeout(1000);
    const applied = (await stats(page)).applied - before;
    const get = async (path) => (await fetch(`${dev.url}/api/floor/${path}`)).json();
    const [tables, slips, visits, players] = await Promise.all(['tables', 'slips', 'visits', 'players'].map(get));
    const shown = await page.evaluate(() => {
      const text = (root, selector) => root.querySelector(selector)?.textContent ?? null;
      return {
        tables: [...document.querySelectorAll('[data-testid^="table-"]')].map((el) => ({
          label: el.dataset.testid.slice('table-'.length),
          custody: text(el, '.custody'),
          openSlips: text(el, '[data-testid="open-slips"]'),
          active: !el.classList.contains('inactive'),
          pending: [...el.querySelectorAll('.pending')].map((p) => p.textContent),
        })),
        slips: [...document.querySelectorAll('[data-testid="slip"]')].map((el) => ({ id: el.dataset.slip, cells: [...el.cells].map((c) => c.textContent) })),
        slipCount: text(document, '[data-testid="slip-count"]'),
        visitCount: text(document, '[data-testid="visit-count"]'),
        visits: [...document.querySelectorAll('[data-testid="visit"]')].map((el) => el.dataset.visit),
        balances: [...document.querySelectorAll('tr[data-player]')].map((el) => ({ id: el.dataset.player, balance: text(el, '[data-testid="balance"]') })),
      };
    });
    const money = (cents) => `$${(cents / 100).toLocaleString('en-US')}`;
    const wrong = [];
    const check = (what, got, want) => {
      if (JSON.stringify(got) !== JSON.stringify(want)) wrong.push(`${what}: shown ${JSON.stringify(got)}, server ${JSON.stringify(want)}`);
    };
    check('tables', shown.tables.map((t) => t.label).sort(), tables.map((t) => t.label).sort());
    for (const table of tables) {
      const card = shown.tables.find((t) => t.label === table.label);
      if (!card) continue;
      check(`${table.label} custody`, card.custody, `fills ${table.fills}credits ${table.credits}drops ${table.drops}`);
      check(`${table.label} open slips`, card.openSlips, String(table.open_slips));
      check(`${table.label} active`, card.active, table.active);
      const pending = [
        table.fill_pending && `fill requested: ${money(table.fill_pending.amount_cents)}`,
        table.credit_pending && `credit requested: ${money(table.credit_pending.amount_cents)}`,
        table.drop_pending && `drop box out: ${table.drop_pending}`,
        !table.active && 'closed',
      ].filter(Boolean);
      check(`${table.label} pending`, card.pending, pending);
    }
    check('slip count', shown.slipCount, String(slips.length));
    check('slips', shown.slips.map((s) => s.id).sort(), slips.map((s) => s.id).sort());
    for (const slip of slips) {
      const row = shown.slips.find((s) => s.id === slip.id);
      if (row) check(`slip ${slip.id.slice(0, 8)}`, row.cells, [slip.table_label, slip.game_type, `${slip.minutes_played} min`, `$${Number(slip.average_bet).toFixed(2)}`, slip.status]);
    }
    check('visit count', shown.visitCount, String(visits.length));
    check('visits', shown.visits, visits.slice(0, 12).map((v) => v.id));
    for (const row of shown.balances) {
      const player = players.find((p) => p.id === row.id);
      check(`balance ${row.id.slice(0, 8)}`, row.balance, player.balance.toLocaleString('en-US'));
    }
    console.log(`consistency: ${applied} events applied in 30 s; ${tables.length} tables, ${slips.length} slips, ${visits.length} visits, ${shown.balances.length} balances compared; ${wrong.length} differ`);
    assert.ok(applied >= 50, `the floor moved: ${applied} events applied`);
    assert.deepEqual(wrong, [], 'every value shown is the server\'s');
  } finally {
    await fetch(`${dev.url}/_dev/scenario?running=true`, { method: 'POST' });
    await page.close();
  }
});

test('a burst of 1,000 events refetches a list no more often than there were batch windows', async () => {
  const page = await open();
  await waitStatus(page, 'connected');
  await waitJoined(page, `realtime:${CASINO}`);
  let listFetches = 0;
  page.on('request', (r) => {
    if (new URL(r.url()).pathname === '/api/floor/slips') listFetches += 1;
  });
  const before = await stats(page);
  const tables = await (await fetch(`${dev.url}/api/floor/tables`)).json();
  const visits = await (await fetch(`${dev.url}/api/floor/visits`)).json();
  const visit = visits[0]?.id ?? '00000000-0000-4000-8000-000000000000';
  const messages = Array.from({ length: 1000 }, (_, i) => ({
    topic: CASINO,
    event: 'rating_slip.created',
    private: true,
    payload: {
      event: 'rating_slip.created',
      rating_slip_id: `e2e00000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      casino_id: CASINO,
      visit_id: visit,
      table_id: tables[i % tables.length].id,
      status: 'open',
      at: new Date(Date.now() + i).toISOString(),
    },
  }));
  await burst(dev.url, messages);
  await page.waitForFunction((applied) => window.__realtimeStats().applied >= applied + 1000, before.applied, { timeout: 20_000 });
  await page.waitForTimeout(1500);
  const after = await stats(page);
  const batches = after.batches - before.batches;
  console.log(`burst: 1,000 events arrived in ${batches} batches and caused ${listFetches} refetch(es) of the slip list`);
  assert.ok(batches >= 1 && batches < 100, `1,000 events in ${batches} batches`);
  assert.ok(listFetches <= batches, `${listFetches} list refetches for ${batches} batches`);
  await page.close();
});

test('a dropped connection shows reconnecting, then recovers and catches up', async () => {
  const page = await open();
  await waitStatus(page, 'connected');
  const player = await page.locator('tr[data-player]').nth(1).getAttribute('data-player');
  await waitJoined(page, `realtime:${CASINO}:${player}`);
  const seen = page.waitForFunction(() => {
    window.__statuses ??= [];
    const s = document.querySelector('[data-testid="status"]')?.textContent;
    if (window.__statuses.at(-1) !== s) window.__statuses.push(s);
    return window.__statuses.includes('reconnecting');
  }, null, { polling: 10, timeout: 20_000 });
  await fetch(`${dev.url}/_dev/faults/drop-connections`, { method: 'POST' });
  // Published while the terminal is offline: it must arrive by replay.
  const balance = { event: 'loyalty.balance_updated', player_id: player, casino_id: CASINO, balance: 123456, balance_delta: 1, tier: 'gold', at: new Date(Date.now() + 120_000).toISOString() };
  await publish(dev.url, [{ topic: `${CASINO}:${player}`, event: 'loyalty.balance_updated', payload: balance }]);
  await seen;
  await waitStatus(page, 'connected');
  await page.locator(`tr[data-player="${player}"] [data-testid="balance"]`).filter({ hasText: '123,456' }).waitFor({ timeout: 15_000 });
  assert.ok((await stats(page)).reconnects >= 1);
  await page.close();
});

test('an outage shows "data may be stale since" with the time, greys the panels, and clears after recovery', async () => {
  const page = await open();
  await waitStatus(page, 'connected');
  await page.waitForFunction(() => !document.querySelector('[data-testid="stale"]'), null, { timeout: 20_000 });
  await fetch(`${dev.url}/_dev/faults/outage?ms=4000`, { method: 'POST' });
  const banner = page.getByTestId('stale');
  await banner.waitFor({ timeout: 10_000 });
  assert.match(await banner.textContent(), /^Data may be stale since \d\d:\d\d:\d\d \(\d+ s\)$/);
  assert.equal(await page.evaluate(() => document.querySelector('main').classList.contains('stale')), true, 'panels greyed');
  await banner.waitFor({ state: 'detached', timeout: 30_000 });
  await waitStatus(page, 'connected');
  await page.close();
});

test('a token for another casino shows denied', async () => {
  const page = await open('?tokenCasino=0dd0dd00-ca51-4000-8000-000000000002');
  await waitStatus(page, 'denied');
  assert.equal(await status(page).textContent(), 'denied');
  await page.close();
});
