// `casino-realtime/server` (publishEvent) with supabase-js against the dev server on a real
// PostgreSQL: a valid event is published by `casino_realtime.emit` on every channel the catalog
// lists (a private realtime-js channel receives it with `meta.id` = a returned id); a bad payload
// is refused by the wasm catalog before the database is asked; the database's refusals (RLS,
// a function not exposed) come back as a PublishError carrying the database's code.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import WebSocket from 'ws';
import { createClient } from '@supabase/supabase-js';
import { ROOT, anonKey, databaseDevserver, token } from '../e2e/harness.mjs';
import { publishEvent } from '../../pkg/server.js';

const CASINO = '00000000-0000-4000-8000-00000000db11';
const fixtures = JSON.parse(await readFile(join(ROOT, 'tests/fixtures/events.json'), 'utf8'));
let dev;

before(async () => {
  dev = await databaseDevserver();
});

after(() => dev?.stop());

/** A supabase-js client acting as a staff member (the dev server is the project's URL). */
async function staffClient(staffRole) {
  const access = await token(dev.url, { staff_role: staffRole, casino_id: CASINO, ttl_s: 3_600 });
  const client = createClient(dev.url, await anonKey(dev.url), {
    accessToken: async () => access,
    realtime: { transport: WebSocket },
  });
  return { client, access };
}

test('a valid event is published on its channels and arrives with meta.id = a returned id', async () => {
  const { client, access } = await staffClient('pit_boss');
  client.realtime.setAuth(access);
  const received = [];
  const channel = client.channel(CASINO, { config: { private: true } })
    .on('broadcast', { event: 'table.fill_requested' }, (message) => received.push(message));
  await new Promise((resolve, reject) => channel.subscribe((status, err) => {
    if (status === 'SUBSCRIBED') resolve();
    else if (status === 'CHANNEL_ERROR' || status === 'TIMED_OUT') reject(err ?? new Error(status));
  }));
  const { at, event, ...payload } = { ...fixtures['table.fill_requested'], casino_id: CASINO };
  const ids = await publishEvent(client, 'table.fill_requested', payload);
  assert.equal(ids.length, 2, 'the list feed and the table\'s detail channel');
  for (let i = 0; i < 50 && received.length === 0; i += 1) await new Promise((r) => setTimeout(r, 100));
  assert.equal(received.length, 1);
  assert.equal(received[0].meta?.id, ids[0]);
  assert.equal(received[0].payload.table_id, payload.table_id);
  // `at` was the transaction's time, written by the database.
  assert.match(received[0].payload.at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  await client.removeAllChannels();
});

test('a bad payload is refused by the catalog before the database is asked', async () => {
  const calls = [];
  const recording = { schema: () => ({ rpc: async (...args) => { calls.push(args); return { data: [], error: null }; } }) };
  const bad = { ...fixtures['rating_slip.updated'], minutes_played: 'ten' };
  await assert.rejects(publishEvent(recording, 'rating_slip.updated', bad), (e) => {
    assert.equal(e.name, 'InvalidEventError');
    assert.equal(e.message, "rating_slip.updated: field 'minutes_played' must be a number, got \"ten\"");
    return true;
  });
  await assert.rejects(publishEvent(recording, 'table.exploded', {}), { name: 'UnknownEventError' });
  await assert.rejects(publishEvent({}, 'rating_slip.updated', bad), TypeError);
  assert.deepEqual(calls, []);
});

test('the database\'s refusals come back as a PublishError with its code', async () => {
  // A dealer may not publish: the RLS policy on realtime.messages says no (42501).
  const { client } = await staffClient('dealer');
  const payload = { ...fixtures['rating_slip.updated'], casino_id: CASINO };
  await assert.rejects(publishEvent(client, 'rating_slip.updated', payload), (e) => {
    assert.equal(e.name, 'PublishError');
    assert.equal(e.event, 'rating_slip.updated');
    assert.equal(e.reason, '42501');
    assert.match(e.message, /row-level security/);
    return true;
  });
  // A project where the schema is not exposed (PostgREST: no such function).
  const unexposed = { schema: () => ({ rpc: async () => ({ data: null, error: { code: 'PGRST202', message: 'Could not find the function casino_realtime.emit(event, payload) in the schema cache' } }) }) };
  await assert.rejects(publishEvent(unexposed, 'rating_slip.updated', payload), { name: 'PublishError', reason: 'PGRST202' });
});
