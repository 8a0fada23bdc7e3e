// The packed tarball in a fresh Next.js 16 app (App Router, TypeScript strict, tests/e2e/next-app):
// `next build` type-checks and prerenders it; the server render shows the provider `idle` and
// opens nothing; a Route Handler plans cache actions in Node with no argument to
// initCasinoRealtime(); in headless Chromium the hydrated page connects to the dev server and an
// event refetches the table list.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cp, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CASINO, ROOT, browser, devserver, publish, run, token } from './harness.mjs';

const cleanup = [];
after(async () => {
  for (const step of cleanup.reverse()) await step();
});

/** A free loopback port. */
function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

test('Next.js: builds strict, renders idle on the server, plans in a Route Handler, goes live in the browser', async () => {
  const work = await mkdtemp(join(tmpdir(), 'casino-next-'));
  cleanup.push(() => rm(work, { recursive: true, force: true }));
  await run('npm', ['pack', '--silent', '--pack-destination', work], { cwd: join(ROOT, 'pkg'), stdio: ['ignore', 'ignore', 'inherit'] });
  const tarball = (await readdir(work)).find((f) => f.endsWith('.tgz'));
  const app = join(work, 'app');
  await cp(join(ROOT, 'tests/e2e/next-app'), app, { recursive: true });
  // The versions the rest of the repository pins; Next and its types beside them.
  const pinned = JSON.parse(await (await import('node:fs/promises')).readFile(join(ROOT, 'package.json'), 'utf8')).devDependencies;
  await writeFile(
    join(app, 'package.json'),
    JSON.stringify({
      name: 'next-check',
      private: true,
      dependencies: {
        'casino-realtime': `file:../${tarball}`,
        next: pinned.next,
        react: pinned.react,
        'react-dom': pinned['react-dom'],
        '@tanstack/react-query': pinned['@tanstack/react-query'],
      },
      devDependencies: {
        typescript: pinned.typescript,
        '@types/react': pinned['@types/react'],
        '@types/react-dom': pinned['@types/react-dom'],
        '@types/node': pinned['@types/node'],
      },
    }),
  );
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--silent'], { cwd: app });
  const env = { ...process.env, NEXT_TELEMETRY_DISABLED: '1' };
  await run(join(app, 'node_modules/.bin/next'), ['build'], { cwd: app, env });

  const port = await freePort();
  const server = spawn(join(app, 'node_modules/.bin/next'), ['start', '-p', String(port), '-H', '127.0.0.1'], { cwd: app, env, stdio: ['ignore', 'pipe', 'inherit'] });
  cleanup.push(() => server.kill());
  const site = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i += 1) {
    if (await fetch(site).then((r) => r.ok, () => false)) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }

  // The server render: the provider is idle and nothing was opened.
  const html = await (await fetch(site)).text();
  assert.match(html, /status <b id="status">idle<\/b>/);

  // A Route Handler in Node: the .wasm loads from disk with no argument.
  const planned = await (await fetch(`${site}/api/plan?casino=${CASINO}`)).json();
  assert.deepEqual(planned.map((a) => a.queryKey[1]), ['tables', 'table'], JSON.stringify(planned));

  const dev = await devserver();
  cleanup.push(async () => dev.stop());
  const chrome = await browser();
  cleanup.push(() => chrome.close());
  const access = await token(dev.url, { staff_role: 'pit_boss', casino_id: CASINO });
  const page = await chrome.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${site}/?${new URLSearchParams({ url: dev.url, token: access, casino: CASINO })}`);
  await page.waitForFunction(() => document.getElementById('status')?.textContent === 'connected', null, { timeout: 30_000 });
  await page.waitForFunction(() => Number(document.getElementById('fetches')?.textContent) >= 1, null, { timeout: 10_000 });
  const payload = { event: 'table.deactivated', casino_id: CASINO, table_id: '5ab1e000-0000-4000-8000-000000000001', at: new Date().toISOString() };
  await publish(dev.url, [{ topic: CASINO, event: 'table.deactivated', payload }]);
  await page.waitForFunction(() => Number(document.getElementById('fetches')?.textContent) >= 2, null, { timeout: 10_000 });
  assert.deepEqual(errors, [], 'no error on the page (hydration included)');
  // Next's bundler found worker.js and its .wasm: the session runs in the SharedWorker.
  assert.equal(await page.evaluate(() => document.getElementById('mode')?.textContent), 'worker');
  await page.close();
});
