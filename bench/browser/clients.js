// The page side of the browser benchmark: three clients of the same stream, each feeding a real
// TanStack QueryClient. Bundled by bench/browser/run.mjs with esbuild; the SDK is loaded from the
// built package (pkg/) as an app would load it.
import { realtimeJs } from './realtime-js-helper.js';
import { QueryClient } from '@tanstack/query-core';

// Every client's socket is counted the same way, in constant memory (the memory run reads the
// heap after 200,000 frames): messages, and the first arrival since the last batch, which waits
// longest for the next one.
let arrived = 0;
let waiting = null; // arrival of the oldest message no batch has followed yet
let unflushed = 0;
let worstWait = 0;
let longestWindow = null;
const counts = { batches: 0, invalidations: 0, writes: 0 };
const Native = window.WebSocket;
window.WebSocket = class Counted extends Native {
  constructor(...args) {
    super(...args);
    this.addEventListener('message', (e) => {
      if (typeof e.data === 'string') return;
      arrived += 1;
      unflushed += 1;
      waiting ??= performance.now();
    });
  }
};

export function batched(invalidations, writes, window) {
  if (waiting !== null) worstWait = Math.max(worstWait, performance.now() - waiting);
  waiting = null;
  unflushed = 0;
  longestWindow = Math.max(longestWindow ?? 0, window);
  counts.batches += 1;
  counts.invalidations += invalidations;
  counts.writes += writes;
}

/** The floor: a bare WebSocket that decodes each frame and parses its JSON, nothing more. */
async function floor({ url }) {
  const socket = new WebSocket(`${url}/websocket?vsn=2.0.0`);
  socket.binaryType = 'arraybuffer';
  const decoder = new TextDecoder();
  let ref = 0;
  const push = (topic, event, payload) => socket.send(JSON.stringify([String(ref), String(++ref), topic, event, payload]));
  socket.onmessage = (e) => {
    if (typeof e.data === 'string') return JSON.parse(e.data);
    const bytes = new Uint8Array(e.data);
    let at = 5;
    const text = (n) => decoder.decode(bytes.subarray(at, (at += n)));
    const topic = text(bytes[1]);
    const event = text(bytes[2]);
    const meta = JSON.parse(text(bytes[3]));
    const payload = JSON.parse(decoder.decode(bytes.subarray(at)));
    return [topic, event, meta, payload];
  };
  await new Promise((resolve) => (socket.onopen = resolve));
  push(`realtime:${window.bench.casino}`, 'phx_join', { config: { private: true } });
  setInterval(() => push('phoenix', 'heartbeat', {}), 25_000);
}

let sdk;
// In the default mode the socket is the SharedWorker's, not the page's: what arrived is what the
// batches say they carried (events applied, and replays dropped as duplicates).
let carried = 0;
async function casinoRealtime({ url, casino, queryClient }, shared) {
  sdk = await import('/pkg/index.js');
  const realtime = await sdk.createCasinoRealtime({
    url,
    apiKey: 'key',
    accessToken: window.bench.token,
    casinoId: casino,
    // `sdk`: one tab's engine on the page's main thread, where the others run; `sdk-worker`: the
    // default, the session in the SharedWorker (bench/browser/tabs.mjs measures several tabs).
    shareAcrossTabs: shared,
    onBatch: (batch) => {
      let writes = 0;
      for (const action of batch.actions) if (action.type !== 'invalidate') writes += 1;
      carried += batch.events + batch.duplicates;
      sdk.applyCacheBatch(queryClient, batch);
      batched(batch.actions.length - writes, writes, batch.flushedAt - batch.openedAt);
    },
  });
  realtime.subscribe();
  window.bench.stats = () => realtime.stats();
  window.bench.shared = shared;
  while (realtime.status !== 'connected') await new Promise((resolve) => setTimeout(resolve, 10));
}

const CLIENTS = {
  floor,
  'realtime-js': (o) => realtimeJs({ ...o, batched }),
  sdk: (o) => casinoRealtime(o, false),
  'sdk-worker': (o) => casinoRealtime(o, true),
};

window.bench = {
  /** Connects `name` and resolves once its channel is joined. */
  async start(name, options) {
    Object.assign(window.bench, options);
    await CLIENTS[name]({ ...options, queryClient: new QueryClient() });
  },
  arrived: () => (window.bench.shared ? carried : arrived),
  /** Per-client figures, read once the stream is over. */
  report() {
    const stats = window.bench.stats?.();
    return {
      ...counts,
      arrivals: arrived,
      longestWindow,
      // Arrivals are seen only where the socket is: not in the page in the default mode.
      worstWait: counts.batches && !window.bench.shared ? worstWait : null,
      unflushed: window.bench.shared ? 0 : unflushed,
      rejected: stats ? stats.malformed + stats.foreignCasino : null,
    };
  },
  async wasmMemory() {
    if (!sdk || window.bench.shared) return null;
    const glue = await import('/pkg/casino_realtime_host.js');
    return (await glue.default()).memory.buffer.byteLength;
  },
};
