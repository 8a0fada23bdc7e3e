// A manager's lifetime under the garbage collector, against the dev server: an app that keeps
// only the unsubscribe function (`const stop = (await createCasinoRealtime(o)).subscribe()`)
// keeps a live feed until it calls it. Before, the manager was collected and its socket closed
// with no `closed` status, and the feed stopped silently.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import WebSocket from 'ws';
import { startDevserver, token, status, publish, until } from './devserver.mjs';
import { initCasinoRealtime, createCasinoRealtime } from '../../pkg/index.js';

setFlagsFromString('--expose_gc');
const gc = runInNewContext('gc');
globalThis.WebSocket = WebSocket;

const CASINO = '44444444-4444-4444-8444-444444444444';
const fixtures = JSON.parse(await readFile(new URL('../fixtures/events.json', import.meta.url), 'utf8'));
let server;

before(async () => {
  await initCasinoRealtime();
  server = await startDevserver();
});

after(() => server?.stop());

/** Collects garbage until finalizers have run (they run after a turn of the event loop). */
async function collect() {
  for (let i = 0; i < 5; i += 1) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const connections = async () => (await status(server)).connections;

test('a manager held only through its unsubscribe function keeps delivering until it is called', async () => {
  const accessToken = await token(server, { staff_role: 'pit_boss', casino_id: CASINO });
  const batches = [];
  const statuses = [];
  // The manager itself is not kept: only the function subscribe() returned.
  let stop = (
    await createCasinoRealtime({
      url: server.ws,
      apiKey: accessToken,
      accessToken,
      casinoId: CASINO,
      onBatch: (batch) => batches.push(batch),
      onStatus: (s) => statuses.push(s),
    })
  ).subscribe();
  await until('connected', () => statuses.at(-1) === 'connected');
  await collect();
  assert.equal(await connections(), 1, 'the socket is still open after a collection');

  await publish(server, CASINO, 'table.fill_requested', { ...fixtures['table.fill_requested'], casino_id: CASINO });
  await until('a batch after the collection', () => batches.length > 0);

  stop();
  stop(); // twice is fine
  stop = null;
  await until('the channel left and the socket closed', async () => {
    await collect();
    return (await connections()) === 0;
  });
});
