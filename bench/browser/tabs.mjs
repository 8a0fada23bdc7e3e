// One connection per browser, measured: 1 tab and 5 tabs of an app, each on the casino's list
// feed, with each manager running its own session (`shareAcrossTabs: false`, as before sharing),
// sharing one in the SharedWorker, and sharing one in a leading tab (SharedWorker removed). The
// server streams the same seeded events to every socket that joined, as Supabase sends each
// connection its copy. Prints, per setup: sockets, the browser's CPU time while the stream was
// handled (every Chromium process: pages, worker, browser, network), and the memory of the
// renderer processes (pages and worker, proportional set size after GC).
//   node bench/browser/tabs.mjs [--events 3000] [--rate 500] [--quick]
// Needs pkg/ (scripts/build-pkg.sh) and Debian's chromium.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { browser as launch } from '../../tests/e2e/harness.mjs';
import { fakeJwt, send, startServer } from './server.mjs';
import { workload } from './stream.mjs';

const { values: flags } = parseArgs({
  options: {
    events: { type: 'string', default: '3000' },
    rate: { type: 'string', default: '500' },
    quick: { type: 'boolean', default: false },
  },
});
const EVENTS = flags.quick ? 500 : Number(flags.events);
const RATE = Number(flags.rate);
const CASINO = '11111111-1111-4111-8111-111111111111';

// A tab of the app: one manager on the list feed, counting the events its batches carry.
const PAGE = `<!doctype html><meta charset="utf-8"><title>tab</title><script type="module">
import { createCasinoRealtime } from '/pkg/index.js';
const q = new URLSearchParams(location.search);
window.applied = 0;
const realtime = await createCasinoRealtime({
  url: q.get('url'), apiKey: 'key', accessToken: q.get('token'), casinoId: q.get('casino'),
  shareAcrossTabs: q.get('share') === '1',
  onBatch: (batch) => { window.applied += batch.events; },
});
realtime.subscribe();
window.realtime = realtime;
</script>`;

const server = await startServer({ routes: { '/': ['html', PAGE] } });
const joined = [];
server.onJoin((socket) => joined.push(socket));
const token = fakeJwt({ sub: 'bench', role: 'authenticated', exp: Math.floor(Date.now() / 1000) + 86_400 });
const { frames, unique } = workload({ casino: CASINO, total: EVENTS, seed: 17 });
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const chrome = await launch();
const system = await chrome.newBrowserCDPSession();

/** Every Chromium process's CPU time so far (s), and the renderers' ids. */
async function processes() {
  const { processInfo } = await system.send('SystemInfo.getProcessInfo');
  return {
    cpu: processInfo.reduce((sum, p) => sum + p.cpuTime, 0),
    renderers: processInfo.filter((p) => p.type === 'renderer').map((p) => p.id),
  };
}

async function pss(pid) {
  try {
    const text = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8');
    return Number(text.match(/^Pss:\s+(\d+) kB/m)[1]) * 1024;
  } catch {
    return 0;
  }
}

async function measure(mode, tabs) {
  const context = await chrome.newContext();
  if (mode === 'leader') await context.addInitScript(() => { delete window.SharedWorker; });
  joined.length = 0;
  const pages = [];
  const query = new URLSearchParams({ url: `${server.base.replace('http', 'ws')}/realtime/v1`, token, casino: CASINO, share: mode === 'local' ? '0' : '1' });
  for (let i = 0; i < tabs; i += 1) {
    const page = await context.newPage();
    await page.goto(`${server.base}/?${query}`);
    await page.waitForFunction(() => window.realtime?.status === 'connected', null, { timeout: 30_000 });
    pages.push(page);
  }
  const modes = new Set(await Promise.all(pages.map((p) => p.evaluate(() => window.realtime.stats().mode))));
  await sleep(500);
  const before = await processes();
  const started = Date.now();
  await Promise.all(joined.map((socket) => send(socket, frames, RATE)));
  for (const page of pages) await page.waitForFunction((n) => window.applied >= n, unique, { timeout: 120_000, polling: 50 });
  const handled = Date.now() - started;
  const after = await processes();
  for (const page of pages) {
    const cdp = await context.newCDPSession(page);
    await cdp.send('HeapProfiler.collectGarbage');
    await cdp.detach();
  }
  await sleep(300);
  const memory = (await Promise.all(after.renderers.map(pss))).reduce((a, b) => a + b, 0);
  const result = { mode, tabs, sockets: joined.length, modes: [...modes].sort().join('+'), cpuMs: (after.cpu - before.cpu) * 1000, memory, handled };
  await context.close();
  await sleep(500);
  return result;
}

const results = [];
for (const mode of ['local', 'worker', 'leader']) {
  for (const tabs of [1, 5]) results.push(await measure(mode, tabs));
}
await chrome.close();
server.close();

const mib = (x) => `${(x / 1048576).toFixed(1)} MiB`;
const ms = (x) => `${Math.round(x).toLocaleString('en')} ms`;
const header = ['setup', 'tabs', 'sockets', 'stats().mode', 'browser CPU', 'CPU per tab', 'renderer memory'];
const rows = results.map((r) => [
  r.mode === 'local' ? 'own session per tab' : `shared (${r.mode})`,
  String(r.tabs),
  String(r.sockets),
  r.modes,
  ms(r.cpuMs),
  ms(r.cpuMs / r.tabs),
  mib(r.memory),
]);
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
console.log(`Tabs benchmark: ${EVENTS.toLocaleString('en')} frames (${unique.toLocaleString('en')} unique events) at ${RATE}/s to every socket, every tab on the list feed; headless Chromium, one run each${flags.quick ? ' (quick)' : ''}`);
console.log(line(header));
console.log(line(widths.map((w) => '-'.repeat(w))));
for (const r of rows) console.log(line(r));
const bad = results.filter((r) => (r.mode === 'local' ? r.sockets !== r.tabs : r.sockets !== 1));
if (bad.length) {
  console.log(`\nunexpected socket counts: ${bad.map((r) => `${r.mode} ${r.tabs} tabs: ${r.sockets}`).join(', ')}`);
  process.exit(1);
}
