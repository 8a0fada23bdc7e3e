// The error contract and loading, as an app meets them: every error is a named `Error` with its
// kind's members (src/errors.rs), the guards narrow them, the planner loads in Node with no
// argument, a failed load is a `LoadError` that may be retried (the planner's, and a host's,
// which `ready` and `onError` report), options are checked by the host and said through
// `ready`, and the project URL supabase-js takes is accepted in place of the realtime endpoint.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFile } from 'node:fs/promises';
import WebSocket from 'ws';
import { startDevserver, token, publish, until } from './devserver.mjs';
import {
  initCasinoRealtime,
  planCacheActions,
  CacheRules,
  CasinoRealtime,
  ERROR_NAMES,
  isCasinoRealtimeError,
} from '../../pkg/index.js';

globalThis.WebSocket = WebSocket;
const run = promisify(execFile);
const PKG = new URL('../../pkg/index.js', import.meta.url).href;
const CASINO = '66666666-6666-4666-8666-666666666666';
const fixtures = JSON.parse(await readFile(new URL('../fixtures/events.json', import.meta.url), 'utf8'));
const options = { url: 'wss://x.supabase.co/realtime/v1', apiKey: 'k', casinoId: CASINO };
let server;

/** Runs `body` (an async function's text, given the package as `pkg`) in a fresh Node. */
async function fresh(body) {
  const script = `const pkg = await import(${JSON.stringify(PKG)}); const out = await (async () => { ${body} })(); console.log(JSON.stringify(out));`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script]);
  return JSON.parse(stdout);
}

before(async () => {
  server = await startDevserver();
});
after(() => server?.stop());

test('in Node, initCasinoRealtime() with no argument loads the planner from disk', async () => {
  const out = await fresh(`
    await pkg.initCasinoRealtime();
    return pkg.planCacheActions('table.deactivated', ${JSON.stringify(fixtures['table.deactivated'])}).map((a) => a.queryKey[0]);
  `);
  assert.deepEqual(out, ['table-context', 'table-context']);
});

test('a failed load rejects with a LoadError carrying the cause, and may be retried', async () => {
  const out = await fresh(`
    const first = await pkg.initCasinoRealtime({ plan: new Uint8Array([0, 1, 2, 3]) }).then(() => null, (e) => e);
    const { readFile } = await import('node:fs/promises');
    await pkg.initCasinoRealtime({ plan: await readFile(new URL('casino_realtime_plan_bg.wasm', ${JSON.stringify(PKG)})) });
    return { name: first?.name, guarded: pkg.isCasinoRealtimeError(first, 'LoadError'), cause: first?.cause instanceof Error,
      after: pkg.planCacheActions('table.deactivated', ${JSON.stringify(fixtures['table.deactivated'])}).length };
  `);
  assert.deepEqual(out, { name: 'LoadError', guarded: true, cause: true, after: 2 });
});

test('a host that cannot load says so through ready and onError, and a later manager may load it', async () => {
  const out = await fresh(`
    await pkg.initCasinoRealtime({ host: new Uint8Array([0, 1, 2, 3]) });
    const errors = [];
    const statuses = [];
    const options = { url: 'wss://x.supabase.co/realtime/v1', apiKey: 'k', casinoId: ${JSON.stringify(CASINO)},
      onError: (e) => errors.push(e.name), onStatus: (s) => statuses.push(s) };
    const broken = new pkg.CasinoRealtime(options);
    const first = await broken.ready.then(() => null, (e) => e);
    const { readFile } = await import('node:fs/promises');
    await pkg.initCasinoRealtime({ host: await readFile(new URL('casino_realtime_host_bg.wasm', ${JSON.stringify(PKG)})) });
    const working = await pkg.createCasinoRealtime(options);
    const mode = working.stats().mode;
    working.close();
    return { name: first?.name, cause: first?.cause instanceof Error, errors, statuses, broken: broken.status, mode };
  `);
  assert.deepEqual(out, {
    name: 'LoadError', cause: true, errors: ['LoadError'], statuses: ['closed', 'connecting', 'closed'], broken: 'closed', mode: 'local',
  });
});

test('an unknown module or a source that is none is a TypeError naming it', async () => {
  await assert.rejects(initCasinoRealtime({ hots: '/x.wasm' }), { name: 'TypeError', message: /unknown module 'hots'/ });
  await assert.rejects(initCasinoRealtime(42), { name: 'TypeError', message: /the host module must be a URL, a Response or bytes/ });
});

test('a synchronous call before loading is a NotInitializedError naming the function', async () => {
  const out = await fresh(`
    try { pkg.planCacheActions('table.deactivated', {}); } catch (e) {
      return { name: e.name, fn: e.function, guarded: pkg.isCasinoRealtimeError(e, 'NotInitializedError') };
    }
  `);
  assert.deepEqual(out, { name: 'NotInitializedError', fn: 'planCacheActions', guarded: true });
});

/** What `call` throws, which must be thrown. */
function thrown(call) {
  try {
    call();
  } catch (error) {
    return error;
  }
  assert.fail('it did not throw');
}

test('every thrown error is of a declared kind, with its members', async () => {
  await initCasinoRealtime();
  const cases = [
    [() => planCacheActions('rating_slip.exploded', {}), 'UnknownEventError', { reason: 'unknown_event', event: 'rating_slip.exploded' }],
    [() => planCacheActions('table.deactivated', { ...fixtures['table.deactivated'], casino_id: 'x' }), 'InvalidEventError',
      { reason: 'invalid_field', event: 'table.deactivated', field: 'casino_id' }],
    [() => planCacheActions('table.deactivated', 'text'), 'InvalidEventError', { reason: 'not_an_object', event: 'table.deactivated' }],
    [() => new CacheRules({ 'visit.created': { extend: [{ type: 'invalidate', queryKey: ['{nope}'] }] } }), 'InvalidRulesError', { reason: 'invalid_rule' }],
    [() => new CasinoRealtime(null), 'InvalidOptionsError', { option: 'options' }],
    [() => new CasinoRealtime({ ...options, onBatch: 'apply' }), 'InvalidOptionsError', { option: 'onBatch' }],
    [() => new CasinoRealtime({ ...options, accessToken: 7 }), 'InvalidOptionsError', { option: 'accessToken' }],
    [() => new CasinoRealtime({ ...options, shareAcrossTabs: 'yes' }), 'InvalidOptionsError', { option: 'shareAcrossTabs' }],
    [() => new CasinoRealtime({ ...options, rules: { self: 10n } }), 'InvalidOptionsError', { option: 'rules' }],
    [() => { const r = new CasinoRealtime(options); r.close(); r.subscribe(); }, 'ClosedError', {}],
  ];
  for (const [call, name, members] of cases) {
    const error = thrown(call);
    assert.ok(error instanceof Error, name);
    assert.equal(error.name, name);
    assert.ok(ERROR_NAMES.includes(name));
    assert.ok(isCasinoRealtimeError(error) && isCasinoRealtimeError(error, name), name);
    assert.ok(!isCasinoRealtimeError(error, name === 'ClosedError' ? 'LoadError' : 'ClosedError'));
    for (const [key, value] of Object.entries(members)) assert.equal(error[key], value, `${name}.${key}`);
  }
  assert.match(thrown(cases[3][0]).path, /visit\.created/);
  assert.ok(!isCasinoRealtimeError(new TypeError('x')) && !isCasinoRealtimeError({ name: 'ClosedError' }));
});

test('the host checks every other option and says what is wrong through ready and onError', async () => {
  const cases = [
    [{ url: 'ftp://x' }, 'InvalidOptionsError', { option: 'url' }],
    [{ batch: { maxWaitMs: 0 } }, 'InvalidOptionsError', { option: 'batch.maxWaitMs' }],
    [{ casinoId: 'c' }, 'InvalidOptionsError', { option: 'casinoId' }],
    [{ fallbackPollMs: 500 }, 'InvalidOptionsError', { option: 'fallbackPollMs' }],
    [{ fallbackPollMs: 1.5 }, 'InvalidOptionsError', { option: 'fallbackPollMs' }],
    [{ resyncJitterMs: 120_000 }, 'InvalidOptionsError', { option: 'resyncJitterMs' }],
    [{ rules: { 'visit.created': { extend: [{ type: 'invalidate', queryKey: ['{nope}'] }] } } }, 'InvalidRulesError', { reason: 'invalid_rule' }],
  ];
  for (const [change, name, members] of cases) {
    const reported = [];
    const realtime = new CasinoRealtime({ ...options, ...change, onError: (e) => reported.push(e) });
    const error = await realtime.ready.then(() => assert.fail(`${JSON.stringify(change)} was accepted`), (e) => e);
    assert.ok(isCasinoRealtimeError(error, name), `${name}: ${error?.name} ${error?.message}`);
    for (const [key, value] of Object.entries(members)) assert.equal(error[key], value, `${name}.${key}`);
    assert.deepEqual(reported, [error], 'onError was told the same');
    assert.equal(realtime.status, 'closed');
    assert.throws(() => realtime.subscribe(), { name: 'ClosedError' });
  }
  // createCasinoRealtime rejects with it.
  const { createCasinoRealtime } = await import('../../pkg/index.js');
  await assert.rejects(createCasinoRealtime({ ...options, dedup: { capacity: 0 } }), { name: 'InvalidOptionsError', option: 'dedup.capacity' });
});

test('the project URL (as supabase-js takes it) reaches the realtime endpoint', async () => {
  await initCasinoRealtime();
  const accessToken = await token(server, { staff_role: 'pit_boss', casino_id: CASINO });
  const batches = [];
  const errors = [];
  // `server.url` is http://127.0.0.1:<port>: the dev server's project URL.
  const realtime = new CasinoRealtime({
    url: server.url,
    apiKey: accessToken,
    accessToken,
    casinoId: CASINO,
    onBatch: (batch) => batches.push(batch),
    onError: (error) => errors.push(error),
  });
  const stop = realtime.subscribe();
  try {
    await realtime.ready;
    await until('joined', () => realtime.stats().channels.some((c) => c.state === 'joined'));
    const other = '77777777-7777-4777-8777-777777777777';
    await publish(server, CASINO, 'table.deactivated', { ...fixtures['table.deactivated'], casino_id: other });
    await publish(server, CASINO, 'table.deactivated', { ...fixtures['table.deactivated'], casino_id: CASINO });
    await until('a batch', () => batches.length > 0);
    await until('the foreign event reported', () => errors.length > 0);
    const [foreign] = errors;
    assert.ok(isCasinoRealtimeError(foreign, 'ForeignCasinoError'));
    assert.deepEqual([foreign.topic, foreign.event, foreign.casinoId], [`realtime:${CASINO}`, 'table.deactivated', other]);
  } finally {
    stop();
    realtime.close();
  }
});

test('debug: inspect() and the logger say what became of each event and why each key was refetched', async () => {
  const { createCasinoRealtime } = await import('../../pkg/index.js');
  const accessToken = await token(server, { staff_role: 'pit_boss', casino_id: CASINO });
  const lines = [];
  const realtime = await createCasinoRealtime({
    url: server.ws,
    apiKey: accessToken,
    accessToken,
    casinoId: CASINO,
    debug: { events: 50 },
    logger: (kind, message, record) => lines.push({ kind, message, record }),
    onError: () => {},
  });
  const stop = realtime.subscribe();
  try {
    await until('joined', () => realtime.stats().channels.some((c) => c.state === 'joined'));
    const event = { ...fixtures['table.deactivated'], casino_id: CASINO };
    await publish(server, CASINO, 'table.deactivated', event);
    await publish(server, CASINO, 'table.deactivated', event);
    await publish(server, CASINO, 'table.deactivated', { ...event, casino_id: '77777777-7777-4777-8777-777777777777' });
    await publish(server, CASINO, 'table.deactivated', { ...event, table_id: 'seven' });
    await until('four events and a batch', () => {
      const seen = realtime.inspect();
      return seen.events.length === 4 && seen.batches.length >= 1;
    });
    const { events, batches } = realtime.inspect();
    assert.deepEqual(events.map((e) => e.fate), ['applied', 'duplicate', 'foreign', 'malformed']);
    assert.match(events[3].reason, /table_id/);
    assert.equal(events[0].batch, batches[0].seq, 'the applied event names its batch');
    const keys = batches[0].keys.map((k) => [k.queryKey[1], k.causes]);
    assert.deepEqual(keys, [['tables', ['table.deactivated']], ['table', ['table.deactivated']]]);
    // The logger heard the same, as it happened.
    assert.deepEqual(lines.map((l) => l.kind), ['event', 'event', 'event', 'event', 'batch']);
    assert.match(lines[1].message, /^duplicate table\.deactivated on realtime:/);
    assert.equal(lines[4].record.seq, batches[0].seq);
    // And from the console while the manager is open.
    const listed = globalThis.__casinoRealtime.inspect();
    assert.ok(listed.some((m) => m.casinoId === CASINO && m.events.length === 4));
  } finally {
    stop();
    realtime.close();
  }
  assert.ok(!globalThis.__casinoRealtime.managers.some((m) => m.realtime === realtime), 'closed: no longer listed');
  assert.equal(realtime.inspect(), null);
  // Off by default: the default host has no inspector at all.
  const quiet = await createCasinoRealtime({ ...options });
  assert.equal(quiet.inspect(), null);
  quiet.close();
});

test('while the socket cannot recover, poll batches refetch what the channels feed, and stop once fresh', async () => {
  await initCasinoRealtime();
  const accessToken = await token(server, { staff_role: 'pit_boss', casino_id: CASINO });
  const batches = [];
  const realtime = new CasinoRealtime({
    url: server.ws, apiKey: accessToken, accessToken, casinoId: CASINO, fallbackPollMs: 1000,
    onBatch: (batch) => batches.push({ ...batch, at: Date.now() }),
  });
  const stop = realtime.subscribe();
  try {
    await until('joined', () => realtime.stats().staleSince === null && realtime.status === 'connected');
    await fetch(`${server.url}/_dev/faults/outage?ms=4000`, { method: 'POST' });
    await until('two polls while down', () => batches.filter((b) => b.reason === 'poll').length >= 2, 10_000);
    const poll = batches.find((b) => b.reason === 'poll');
    assert.ok(poll.actions.every((a) => a.type === 'invalidate' && a.refetchType === 'active' && a.queryKey.length === 1), 'key families, active only');
    await until('fresh again', () => realtime.stats().staleSince === null, 20_000);
    // A poll already in the open window (at most 500 ms) may still go out.
    await new Promise((resolve) => setTimeout(resolve, 600));
    const polled = batches.filter((b) => b.reason === 'poll').length;
    await new Promise((resolve) => setTimeout(resolve, 2500));
    assert.equal(batches.filter((b) => b.reason === 'poll').length, polled, 'no poll once fresh');
  } finally {
    stop();
    realtime.close();
  }
});
