// The browser benchmark: the SDK (built package) in its default mode (the session in the
// package's SharedWorker, the page a thin client) and with a session of the page's own,
// @supabase/realtime-js with a typical app's helper, and a bare WebSocket (the floor), side by
// side in headless Chromium against one local server that speaks the Supabase protocol and sends
// every client the same seeded stream. CPU is the page's main thread (CDP ThreadTime) and the
// browser's, every process (SystemInfo.getProcessInfo: pages, worker, browser, network).
// Prints medians of interleaved runs and ratios to realtime-js; exits 1 when a budget is broken.
//   node bench/browser/run.mjs [--runs 3] [--events 20000] [--memory-events 200000] [--quick]
// Needs pkg/ (scripts/build-pkg.sh) and Debian's chromium. See README "Size and speed".
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';
import { browser as launch } from '../../tests/e2e/harness.mjs';
import { add, bundled, sizes } from '../bundle.mjs';
import { fakeJwt, send, startServer } from './server.mjs';
import { workload } from './stream.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const HERE = fileURLToPath(new URL('.', import.meta.url));
const CASINO = '11111111-1111-4111-8111-111111111111';
const CLIENTS = ['floor', 'realtime-js', 'sdk', 'sdk-worker'];

const { values: flags } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    events: { type: 'string', default: '20000' },
    'paced-rate': { type: 'string', default: '1000' },
    'paced-seconds': { type: 'string', default: '5' },
    'memory-events': { type: 'string', default: '200000' },
    quick: { type: 'boolean', default: false },
    'no-budgets': { type: 'boolean', default: false },
    // A CPU profile of one client's burst instead of the table; --wasm serves another build of
    // the package's .wasm (one that keeps its names: bench/profile.sh).
    profile: { type: 'string' },
    wasm: { type: 'string' },
  },
});
const quick = flags.quick;
const RUNS = quick ? 1 : Number(flags.runs);
const EVENTS = quick ? 2_000 : Number(flags.events);
const PACED_RATE = Number(flags['paced-rate']);
const PACED_EVENTS = PACED_RATE * (quick ? 1 : Number(flags['paced-seconds']));
const MEMORY_EVENTS = quick ? 40_000 : Number(flags['memory-events']);
const CHECKPOINT = Math.min(20_000, MEMORY_EVENTS / 2);

// Budgets (issue 10). The window budget is the SDK's 500 ms cap plus timer slack.
const BUDGET = { aboveFloorRatio: 0.5, windowMs: 550, shippedGzip: 40_000 };

// ---- the page, its bundle and the package, served over HTTP; the protocol over WebSocket ----

const bundle = await esbuild.build({
  entryPoints: [`${HERE}clients.js`],
  bundle: true,
  format: 'esm',
  minify: true,
  write: false,
  external: ['/pkg/*'],
  logLevel: 'error',
});
const PAGE = '<!doctype html><meta charset="utf-8"><title>bench</title><script type="module" src="/bundle.js"></script>';
const server = await startServer({ routes: { '/': ['html', PAGE], '/bundle.js': ['js', bundle.outputFiles[0].contents] }, wasm: flags.wasm });
const BASE = server.base;
let onJoin = null;
server.onJoin((socket) => onJoin?.(socket));

// ---- one client, one stream, in a fresh browser context ----

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const TOKEN = fakeJwt({ sub: 'bench', role: 'authenticated', exp: Math.floor(Date.now() / 1000) + 86_400 });

async function metric(cdp, name) {
  const { metrics } = await cdp.send('Performance.getMetrics');
  const found = metrics.find((m) => m.name === name);
  if (!found) throw new Error(`no ${name} in Performance.getMetrics (${metrics.map((m) => m.name).join(', ')})`);
  return found.value;
}

/** Every Chromium process's CPU time so far, in seconds. */
async function browserCpu(system) {
  const { processInfo } = await system.send('SystemInfo.getProcessInfo');
  return processInfo.reduce((sum, p) => sum + p.cpuTime, 0);
}

async function heap(cdp) {
  await cdp.send('HeapProfiler.collectGarbage');
  return (await cdp.send('Runtime.getHeapUsage')).usedSize;
}

/**
 * Runs `client` on `frames` (in `segments`: frame counts after which memory is read) and returns
 * its CPU time, its page's report and the memory read at each segment's end.
 */
async function run(browser, client, frames, { rate = 0, segments = [frames.length], profile = false } = {}) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
  await page.goto(BASE);
  await page.waitForFunction(() => window.bench);
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  const joined = new Promise((resolve) => (onJoin = resolve));
  await page.evaluate(([name, options]) => window.bench.start(name, options), [client, { url: `${BASE.replace('http', 'ws')}/realtime/v1`, casino: CASINO, token: TOKEN }]);
  const socket = await joined;
  await sleep(300);
  if (profile) {
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 100 });
    await cdp.send('Profiler.start');
  }
  const cpuStart = await metric(cdp, 'ThreadTime');
  const allStart = await browserCpu(system);
  const memory = [];
  let sent = 0;
  for (const end of segments) {
    await send(socket, frames.slice(sent, end), rate);
    sent = end;
    const deadline = Date.now() + 600_000;
    while ((await page.evaluate(() => window.bench.arrived())) < end) {
      if (Date.now() > deadline) throw new Error(`${client}: only part of the stream arrived`);
      await sleep(50);
    }
    await sleep(800); // the last window (SDK) or debounce (helper) closes
    if (segments.length > 1) memory.push({ events: end, heap: await heap(cdp), wasm: await page.evaluate(() => window.bench.wasmMemory()) });
  }
  const cpu = (await metric(cdp, 'ThreadTime')) - cpuStart;
  // The wait for the last window is in both; it costs every client the same idle time.
  const all = (await browserCpu(system)) - allStart;
  const cpuProfile = profile ? (await cdp.send('Profiler.stop')).profile : null;
  const report = await page.evaluate(() => window.bench.report());
  await context.close();
  if (errors.length) throw new Error(`${client}: page errors: ${errors.join('; ')}`);
  return { cpu: cpu * 1000, all: all * 1000, report, memory, cpuProfile };
}

/** Self time per function of a CDP CPU profile, largest first. */
function selfTimes(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  for (let i = 0; i < profile.samples.length; i += 1) {
    const node = byId.get(profile.samples[i]);
    const { functionName, url } = node.callFrame;
    const where = url ? url.replace(/^.*\//, '') : '';
    const name = `${functionName || '(anonymous)'}${where ? `  [${where}]` : ''}`;
    self.set(name, (self.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  }
  return [...self].sort((a, b) => b[1] - a[1]);
}

// ---- the runs ----

const median = (xs) => {
  const s = xs.filter((x) => x !== null).sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : null;
};
const browser = await launch();
const system = await browser.newBrowserCDPSession();

const burst = workload({ casino: CASINO, total: EVENTS });
if (flags.profile) {
  const { cpu, cpuProfile } = await run(browser, flags.profile, burst.frames, { profile: true });
  await browser.close();
  server.close();
  const rows = selfTimes(cpuProfile);
  const total = rows.reduce((sum, [, ms]) => sum + ms, 0);
  console.log(`CPU profile of ${flags.profile} on a ${EVENTS.toLocaleString('en')}-frame burst: ${Math.round(cpu)} ms main-thread CPU, ${Math.round(total)} ms sampled; self time by function`);
  for (const [name, ms] of rows.slice(0, 45)) console.log(`  ${ms.toFixed(1).padStart(8)} ms  ${((100 * ms) / total).toFixed(1).padStart(5)}%  ${name.slice(0, 120)}`);
  process.exit(0);
}
const paced = workload({ casino: CASINO, total: PACED_EVENTS, seed: 11 });
const results = { burst: {}, paced: {} };
for (const c of CLIENTS) (results.burst[c] = []), (results.paced[c] = []);
console.error(`browser benchmark: ${RUNS} interleaved run(s) of a ${EVENTS}-frame burst and a ${PACED_EVENTS}-frame stream at ${PACED_RATE}/s, per client`);
for (let r = 0; r < RUNS; r += 1) {
  for (const c of CLIENTS) results.burst[c].push(await run(browser, c, burst.frames));
  for (const c of CLIENTS) results.paced[c].push(await run(browser, c, paced.frames, { rate: PACED_RATE }));
  console.error(`  run ${r + 1} of ${RUNS} done`);
}
const memoryStream = workload({ casino: CASINO, total: MEMORY_EVENTS, seed: 13 });
const memory = {};
for (const c of ['realtime-js', 'sdk']) memory[c] = (await run(browser, c, memoryStream.frames, { segments: [CHECKPOINT, MEMORY_EVENTS / 2, MEMORY_EVENTS] })).memory;
await browser.close();
server.close();

// ---- shipped bytes: what each client adds to an app (QueryClient not counted) ----

const entry = `${ROOT}bench/browser/app-entry.js`;
const page = await bundled(entry, ['@tanstack/query-core']);
const hostGlue = Object.entries(page.lazy).find(([n]) => /casino_realtime_host-/.test(n))[1];
const workerJs = (await bundled(`${ROOT}pkg/worker.js`)).eager;
const wasm = sizes(await readFile(`${ROOT}pkg/casino_realtime_host_bg.wasm`));
const rtJs = sizes((await esbuild.build({ entryPoints: [`${HERE}realtime-js-helper.js`], bundle: true, format: 'esm', minify: true, write: false, logLevel: 'error' })).outputFiles[0].contents);
// What the page fetches and compiles on its main thread, and what the browser fetches in all.
const onPage = { 'realtime-js': rtJs, sdk: add(page.eager, hostGlue, wasm), 'sdk-worker': page.eager };
const shipped = { 'realtime-js': rtJs, sdk: onPage.sdk, 'sdk-worker': add(page.eager, workerJs, wasm) };

// ---- the table ----

const figure = (scenario, c, pick) => median(results[scenario][c].map(pick));
const worst = (scenario, c, pick) => Math.max(...results[scenario][c].map(pick).filter((x) => x !== null));
const cpu = Object.fromEntries(CLIENTS.map((c) => [c, figure('burst', c, (x) => x.cpu)]));
const above = (c) => cpu[c] - cpu.floor;
const ratio = (x, base) => (x === null || base === null || base === 0 ? '' : ` (${(x / base).toFixed(2)}x)`);
const ms = (x) => (x === null || x === -Infinity ? '-' : `${Math.round(x).toLocaleString('en')} ms`);
const mib = (x) => (x === null || x === undefined ? '-' : `${(x / 1048576).toFixed(1)} MiB`);
const bytes = (x) => `${x.toLocaleString('en')} B`;

const rows = [];
const row = (name, floor, base, sdk, worker) => rows.push([name, floor, base, sdk, worker]);
const both = (pick, fmt, scenario = 'burst') => ['sdk', 'sdk-worker'].map((c) => {
  const x = figure(scenario, c, pick);
  return fmt(x) + ratio(x, figure(scenario, 'realtime-js', pick));
});
row('main-thread CPU, burst', ms(cpu.floor), ms(cpu['realtime-js']), ...both((x) => x.cpu, ms));
// Above the floor is what a client adds to a page that decodes the frames itself: the default
// mode's page decodes nothing (its line is the browser's CPU below).
row('CPU above the floor', '0', ms(above('realtime-js')), ms(above('sdk')) + ratio(above('sdk'), above('realtime-js')), '- (decodes nothing)');
const perEvent = (c) => `${((above(c) * 1000) / EVENTS).toFixed(1)} µs/event`;
row('  per event', '-', perEvent('realtime-js'), perEvent('sdk'), '-');
row('browser CPU, all processes, burst', ms(figure('burst', 'floor', (x) => x.all)), ms(figure('burst', 'realtime-js', (x) => x.all)), ...both((x) => x.all, ms));
row('main-thread CPU, paced stream', ms(figure('paced', 'floor', (x) => x.cpu)), ms(figure('paced', 'realtime-js', (x) => x.cpu)), ...both((x) => x.cpu, ms, 'paced'));
row('browser CPU, all processes, paced', ms(figure('paced', 'floor', (x) => x.all)), ms(figure('paced', 'realtime-js', (x) => x.all)), ...both((x) => x.all, ms, 'paced'));
for (const scenario of ['burst', 'paced']) {
  const label = scenario === 'burst' ? 'burst' : `${PACED_RATE}/s`;
  const w = (c, key) => ms(worst(scenario, c, (x) => x.report[key]));
  row(`longest window, ${label} (worst run)`, '-', w('realtime-js', 'longestWindow'), w('sdk', 'longestWindow'), w('sdk-worker', 'longestWindow'));
  row(`worst arrival-to-batch wait, ${label}`, '-', w('realtime-js', 'worstWait'), w('sdk', 'worstWait'), '- (arrives in the worker)');
}
for (const key of ['batches', 'invalidations', 'writes']) {
  row(`${key}, burst`, '-', ...['realtime-js', 'sdk', 'sdk-worker'].map((c) => String(figure('burst', c, (x) => x.report[key]))));
}
for (const i of memory.sdk.keys()) {
  const at = memory.sdk[i].events.toLocaleString('en');
  row(`JS heap after GC, ${at} frames`, '-', mib(memory['realtime-js'][i].heap), mib(memory.sdk[i].heap), '-');
  row(`wasm memory, ${at} frames`, '-', '-', mib(memory.sdk[i].wasm), '-');
}
const gz = (c, table) => bytes(table[c].gzip) + ratio(table[c].gzip, table['realtime-js'].gzip);
row('page fetches and compiles, gzip', '-', bytes(onPage['realtime-js'].gzip), gz('sdk', onPage), gz('sdk-worker', onPage));
row('browser fetches in all, gzip', '-', bytes(shipped['realtime-js'].gzip), gz('sdk', shipped), gz('sdk-worker', shipped));
row('  of it wasm / JS, gzip', '-', `- / ${bytes(rtJs.gzip)}`, `${bytes(wasm.gzip)} / ${bytes(shipped.sdk.gzip - wasm.gzip)}`, `${bytes(wasm.gzip)} / ${bytes(shipped['sdk-worker'].gzip - wasm.gzip)}`);
row('browser fetches in all, brotli', '-', bytes(shipped['realtime-js'].brotli), bytes(shipped.sdk.brotli), bytes(shipped['sdk-worker'].brotli));

const header = ['figure (median of runs)', 'bare WebSocket (floor)', 'realtime-js + helper', 'casino-realtime, own session', 'casino-realtime, default (worker)'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
console.log(`Browser benchmark: ${EVENTS.toLocaleString('en')}-frame burst (${burst.unique.toLocaleString('en')} unique events, the rest replays), ${PACED_EVENTS.toLocaleString('en')} frames at ${PACED_RATE}/s, memory over ${MEMORY_EVENTS.toLocaleString('en')} frames; medians of ${RUNS} interleaved run(s), headless Chromium`);
console.log(line(header));
console.log(line(widths.map((w) => '-'.repeat(w))));
for (const r of rows) console.log(line(r));

// ---- checks: the stream arrived whole and was handled; then the budgets ----

const breaches = [];
for (const scenario of ['burst', 'paced']) {
  for (const c of ['realtime-js', 'sdk', 'sdk-worker']) {
    for (const { report } of results[scenario][c]) {
      if (report.unflushed > 0) breaches.push(`${c} ${scenario}: ${report.unflushed} frames arrived after its last batch`);
      if (report.rejected) breaches.push(`${c} ${scenario}: ${report.rejected} events rejected (the stream is all valid)`);
    }
  }
}
if (!quick && !flags['no-budgets']) {
  const r = above('sdk') / above('realtime-js');
  if (!(r <= BUDGET.aboveFloorRatio)) breaches.push(`CPU above the floor ${r.toFixed(2)}x realtime-js's, budget ${BUDGET.aboveFloorRatio}x`);
  for (const scenario of ['burst', 'paced']) {
    const w = worst(scenario, 'sdk', (x) => x.report.longestWindow);
    if (w > BUDGET.windowMs) breaches.push(`${scenario}: a window of ${Math.round(w)} ms, budget ${BUDGET.windowMs} ms`);
  }
  const [early, late] = [memory.sdk[0], memory.sdk.at(-1)];
  if (late.wasm > early.wasm) breaches.push(`wasm memory grew from ${early.wasm} to ${late.wasm} bytes`);
  if (late.heap > early.heap * 1.25 + 262_144) breaches.push(`JS heap grew from ${early.heap} to ${late.heap} bytes`);
  const total = shipped['sdk-worker'].gzip;
  if (total > BUDGET.shippedGzip) breaches.push(`the default mode fetches ${total} B gzip in all, budget ${BUDGET.shippedGzip} B`);
}
if (breaches.length) {
  console.log(`\nbudgets and checks broken:\n${breaches.map((b) => `  - ${b}`).join('\n')}`);
  process.exit(1);
}
console.log(quick || flags['no-budgets'] ? `\nchecks passed (${quick ? 'quick run' : '--no-budgets'}: budgets not judged)` : '\nall budgets met');
