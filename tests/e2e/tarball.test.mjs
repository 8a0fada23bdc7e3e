// The package as users get it: `npm pack`, installed from the tarball into a fresh project, built
// with Vite and with webpack 5 (no plugins, no config beyond the entry), and with esbuild (which
// does not bundle `new URL('./worker.js', import.meta.url)`: the worker is bundled as an entry of
// its own and named with the `workerUrl` option, the host's .wasm copied beside the bundle), each
// loaded in headless Chromium until an event arrives as a batch, its session hosted in the
// SharedWorker. Also: importing the installed package in Node (as a server render would) does not
// throw.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CASINO, ROOT, browser, devserver, publish, run, serve, token } from './harness.mjs';

const cleanup = [];
after(async () => {
  for (const step of cleanup.reverse()) await step();
});

async function buildWithWebpack(app) {
  const { default: webpack } = await import('webpack');
  const compiler = webpack({ mode: 'production', context: app, entry: './main.js', output: { path: join(app, 'dist-webpack') } });
  const stats = await new Promise((resolve, reject) => compiler.run((err, result) => (err ? reject(err) : resolve(result))));
  await new Promise((resolve) => compiler.close(resolve));
  assert.ok(!stats.hasErrors(), stats.toString('errors-only'));
  await writeFile(join(app, 'dist-webpack/index.html'), '<!doctype html><title>waiting</title><body><script src="main.js"></script>');
}

/** The esbuild setup the README shows: the app, the worker as an entry of its own, the .wasm copied. */
async function buildWithEsbuild(app) {
  const esbuild = join(ROOT, 'node_modules/.bin/esbuild');
  const out = join(app, 'dist-esbuild');
  const main = (await readFile(join(app, 'main.js'), 'utf8')).replace('onStatus:', "workerUrl: '/casino-realtime-worker.js', onStatus:");
  await writeFile(join(app, 'main-esbuild.js'), main);
  await run(esbuild, ['main-esbuild.js', '--bundle', '--format=esm', '--splitting', '--outdir=dist-esbuild', '--log-level=warning'], { cwd: app });
  await run(esbuild, ['node_modules/casino-realtime/worker.js', '--bundle', '--format=esm', '--outfile=dist-esbuild/casino-realtime-worker.js', '--log-level=warning'], { cwd: app });
  await mkdir(out, { recursive: true });
  await copyFile(join(app, 'node_modules/casino-realtime/casino_realtime_host_bg.wasm'), join(out, 'casino_realtime_host_bg.wasm'));
  await writeFile(join(out, 'index.html'), '<!doctype html><title>waiting</title><script type="module" src="/main-esbuild.js"></script>');
}

test('the packed tarball installs, builds with Vite, webpack 5 and esbuild, and delivers an event in Chromium', async () => {
  const work = await mkdtemp(join(tmpdir(), 'casino-tarball-'));
  cleanup.push(() => rm(work, { recursive: true, force: true }));
  await run('npm', ['pack', '--silent', '--pack-destination', work], { cwd: join(ROOT, 'pkg'), stdio: ['ignore', 'ignore', 'inherit'] });
  const tarball = (await readdir(work)).find((f) => f.endsWith('.tgz'));
  assert.ok(tarball, 'npm pack wrote a tarball');

  const app = join(work, 'app');
  await run('mkdir', ['-p', app]);
  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'tarball-check', private: true, type: 'module', dependencies: { 'casino-realtime': `file:../${tarball}` } }));
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--silent'], { cwd: app });
  await writeFile(join(app, 'index.html'), '<!doctype html><title>waiting</title><script type="module" src="/main.js"></script>');
  await writeFile(
    join(app, 'main.js'),
    `import { createCasinoRealtime, casinoKeys, isCasinoRealtimeError } from 'casino-realtime';
const q = new URLSearchParams(location.search);
window.__keys = casinoKeys.tableContext.tables(q.get('casino'));
window.__guarded = isCasinoRealtimeError(Object.assign(new Error('x'), { name: 'ClosedError' }), 'ClosedError');
// The project URL, as supabase-js takes it.
const realtime = await createCasinoRealtime({
  url: q.get('url'), apiKey: q.get('token'), accessToken: q.get('token'), casinoId: q.get('casino'),
  onStatus: (s) => { document.body.dataset.status = s; },
  onBatch: (batch) => { document.title = 'batch ' + batch.actions.map((a) => a.queryKey[1]).join(','); },
});
realtime.subscribe();
window.__stats = () => realtime.stats();
`,
  );
  await run(join(ROOT, 'www-example/node_modules/.bin/vite'), ['build', '--logLevel', 'warn'], { cwd: app });
  const assets = await readdir(join(app, 'dist/assets'));
  assert.ok(assets.some((f) => f.endsWith('.wasm')), `the .wasm is emitted as an asset: ${assets}`);

  await buildWithWebpack(app);
  const webpackAssets = await readdir(join(app, 'dist-webpack'));
  assert.ok(webpackAssets.some((f) => f.endsWith('.wasm')), `webpack emits the .wasm: ${webpackAssets}`);
  await buildWithEsbuild(app);

  // In Node, importing the installed package loads nothing and does not throw; with no argument
  // initCasinoRealtime() reads the .wasm from disk.
  const installed = await import(join(app, 'node_modules/casino-realtime/index.js'));
  assert.equal(typeof installed.createCasinoRealtime, 'function');
  await installed.initCasinoRealtime();
  const sample = { casino_id: CASINO, table_id: '5ab1e000-0000-4000-8000-000000000001', at: '2025-12-20T10:15:00Z' };
  assert.equal(installed.planCacheActions('table.deactivated', sample).length, 2);
  const shipped = await readdir(join(app, 'node_modules/casino-realtime'));
  for (const file of ['LICENSE-MIT', 'LICENSE-APACHE', 'CHANGELOG.md', 'README.md', 'errors.d.ts']) {
    assert.ok(shipped.includes(file), `the tarball holds ${file}: ${shipped}`);
  }

  const dev = await devserver();
  cleanup.push(async () => dev.stop());
  const chrome = await browser();
  cleanup.push(() => chrome.close());
  const access = await token(dev.url, { staff_role: 'pit_boss', casino_id: CASINO });
  const query = new URLSearchParams({ url: dev.url, token: access, casino: CASINO });
  for (const dist of ['dist', 'dist-webpack', 'dist-esbuild']) {
    const site = await serve(join(app, dist));
    cleanup.push(async () => site.stop());
    const page = await chrome.newPage();
    await page.goto(`${site.url}/?${query}`);
    await page.waitForFunction(() => window.__stats?.().channels.some((c) => c.state === 'joined'), null, { timeout: 20_000 });
    const payload = { event: 'table.deactivated', casino_id: CASINO, table_id: '5ab1e000-0000-4000-8000-000000000001', at: new Date().toISOString() };
    await publish(dev.url, [{ topic: CASINO, event: 'table.deactivated', payload }]);
    await page.waitForFunction(() => document.title.startsWith('batch '), null, { timeout: 20_000 });
    assert.equal(await page.title(), 'batch tables,table', dist);
    assert.deepEqual(await page.evaluate(() => [window.__keys, window.__guarded]), [['table-context', 'tables', CASINO], true], dist);
    // The bundler found worker.js through `new SharedWorker(new URL(...))` (esbuild: `workerUrl`),
    // and the worker the .wasm the page named.
    assert.equal(await page.evaluate(() => window.__stats().mode), 'worker', dist);
    // The page itself compiled no WebAssembly: the worker runs the host.
    const wasmOnPage = await page.evaluate(() => performance.getEntriesByType('resource').filter((e) => e.name.endsWith('.wasm')).length);
    assert.equal(wasmOnPage, 0, `${dist}: the page fetched no .wasm`);
    await page.close();
  }
});
