// A saturating burst through the built package: 200,000 unique events sent as fast as a local
// server can (a reconnect replay, a busy floor). Every batch goes out within its window while
// the frames keep coming (before, the window's timer was re-created after every frame and
// never fired during a burst: windows of 1.6-11 s), no batch holds more than 2,000 actions, and
// wasm memory stays under 8 MiB (before, one batch held 29,806 events and memory reached
// 30.7 MiB, never given back). The window bound asserted here is loose (1 s, for a noisy CI
// machine); the benchmark prints the real figure.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import init from '../../pkg/casino_realtime_host.js';
import { createCasinoRealtime } from '../../pkg/index.js';

globalThis.WebSocket = WebSocket;
const TOTAL = Number(process.env.BURST_EVENTS ?? 200_000);
const CASINO = '11111111-1111-4111-8111-111111111111';
let wasm;
let child;
let port;

before(async () => {
  child = spawn(process.execPath, [fileURLToPath(new URL('./burst-server.mjs', import.meta.url)), String(TOTAL)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  port = await new Promise((resolve) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const match = line.match(/^listening (\d+)$/);
      if (match) resolve(match[1]);
    });
  });
});

after(() => child?.kill());

test(`${TOTAL.toLocaleString('en')} events in a burst: windows hold, batches are bounded, memory stays small`, async () => {
  const batches = [];
  // In Node the manager hosts its own session (`local`): the host's module is this process's.
  const realtime = await createCasinoRealtime({
    url: `ws://127.0.0.1:${port}/realtime/v1`,
    apiKey: 'key',
    casinoId: CASINO,
    onBatch: (batch) => batches.push({ window: batch.flushedAt - batch.openedAt, actions: batch.actions.length, events: batch.events }),
  });
  wasm = await init(); // loaded already: returns its exports
  realtime.subscribe();
  const started = Date.now();
  while (realtime.stats().applied < TOTAL) {
    assert.ok(Date.now() - started < 300_000, `only ${realtime.stats().applied} events after 5 minutes`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await realtime.flush();
  const memory = wasm.memory.buffer.byteLength;
  realtime.close();
  const events = batches.reduce((sum, b) => sum + b.events, 0);
  const worst = Math.max(...batches.map((b) => b.window));
  const largest = Math.max(...batches.map((b) => b.actions));
  console.log(`burst: ${TOTAL} events in ${batches.length} batches over ${Date.now() - started} ms; ` +
    `longest window ${worst} ms, largest batch ${largest} actions, wasm memory ${(memory / 1048576).toFixed(1)} MiB`);
  assert.equal(events, TOTAL, 'every event in a batch');
  assert.ok(batches.length > 10, `${batches.length} batches: handed out during the burst, not after it`);
  assert.ok(largest <= 2_000, `a batch of ${largest} actions`);
  assert.ok(worst <= 1_000, `a window of ${worst} ms`);
  assert.ok(memory < 8 * 1048576, `wasm memory ${memory} bytes`);
});
