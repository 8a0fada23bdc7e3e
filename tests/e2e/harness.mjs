// Shared by the end-to-end tests: the dev server, a static file server, headless Chromium.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createInterface } from 'node:readline';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CASINO = 'c0ffee00-ca51-4000-8000-000000000001';

/** Starts target/debug/devserver with `flags`; resolves with its http URL and a stop function. */
export async function devserver(...flags) {
  const child = spawn(join(ROOT, 'target/debug/devserver'), ['--port', '0', ...flags], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`devserver exited with ${code}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const match = line.match(/^devserver listening on (http:\/\/\S+)$/);
      if (match) resolve(match[1]);
    });
  });
  return { url, stop: () => child.kill() };
}

let databases = 0;
/** The dev server on a fresh database of the throwaway PostgreSQL that scripts/with-postgres.sh
 *  started (its `CASINO_REALTIME_DATABASE_URL`), prepared as a Supabase project is (Supabase's
 *  pieces, then supabase/migrations/): resolves as `devserver()` does, with `database` (its URL). */
export async function databaseDevserver(...flags) {
  const base = process.env.CASINO_REALTIME_DATABASE_URL;
  if (!base) throw new Error('CASINO_REALTIME_DATABASE_URL is not set: run this test through scripts/with-postgres.sh');
  databases += 1;
  const name = `casino_realtime_e2e_${process.pid}_${databases}`;
  await run('psql', [base, '-q', '-v', 'ON_ERROR_STOP=1', '-c', `create database ${name}`]);
  const database = `${base} dbname=${name}`;
  const server = await devserver('--database-url', database, '--prepare-database', ...flags);
  return { ...server, database };
}

/** A process run to completion; rejects on a non-zero exit. */
export function run(command, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'], ...options });
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited with ${code}`))));
  });
}

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.png': 'image/png' };

/** Serves `dir` on a free loopback port; resolves with its URL and a stop function. */
export async function serve(dir) {
  const server = createServer(async (request, response) => {
    const path = normalize(decodeURIComponent(new URL(request.url, 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    const file = join(dir, path.endsWith('/') ? `${path}index.html` : path);
    try {
      const body = await readFile(file);
      response.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
      response.end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, stop: () => server.close() };
}

/** Lays out the hosts test page (tests/e2e/hosts/index.html: `window.start(options, how)` makes
 *  a manager that records its batches, statuses and errors) with the built package beside it in
 *  `dir`, for tests that serve it as it is or change it first. */
export async function layOutHostsPage(dir) {
  await cp(join(ROOT, 'pkg'), join(dir, 'pkg'), { recursive: true });
  await cp(join(ROOT, 'tests/e2e/hosts/index.html'), join(dir, 'index.html'));
}

/** The hosts test page, served as it is from a folder of its own: `{ url, stop() }` (stop also
 *  removes the folder). */
export async function hostsPage() {
  const work = await mkdtemp(join(tmpdir(), 'casino-hosts-page-'));
  await layOutHostsPage(work);
  const site = await serve(work);
  return {
    url: site.url,
    stop: async () => {
      site.stop();
      await rm(work, { recursive: true, force: true });
    },
  };
}

/** Debian's Chromium, headless, as root. */
export function browser() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

export async function token(devserverUrl, query) {
  const response = await fetch(`${devserverUrl}/_dev/token?${new URLSearchParams(query)}`, { method: 'POST' });
  return (await response.json()).token;
}

/** The project's anon key: the same on every call, as a Supabase project's is. Tabs share a
 *  session only when their options match, `apiKey` included: a key minted per page (a token's
 *  `iat` is in seconds) would split them whenever two pages start across a second's edge. */
export async function anonKey(devserverUrl) {
  const response = await fetch(`${devserverUrl}/_dev/anon-key`);
  return (await response.json()).key;
}

/** Publishes `messages` ({topic, event, payload}) as the database would (meta.id, kind 4). */
export async function publish(devserverUrl, messages) {
  const service = await token(devserverUrl, { role: 'service_role', staff_role: '', casino_id: '' });
  for (const message of messages) {
    const response = await fetch(`${devserverUrl}/realtime/v1/api/db/send`, {
      method: 'POST',
      headers: { authorization: `Bearer ${service}`, 'content-type': 'application/json' },
      body: JSON.stringify(message),
    });
    if (!response.ok) throw new Error(`publish: HTTP ${response.status}`);
  }
}

/** Publishes a REST batch (one request, JSON frames): the fastest way to make a burst. */
export async function burst(devserverUrl, messages) {
  const service = await token(devserverUrl, { role: 'service_role', staff_role: '', casino_id: '' });
  const response = await fetch(`${devserverUrl}/realtime/v1/api/broadcast`, {
    method: 'POST',
    headers: { authorization: `Bearer ${service}`, 'content-type': 'application/json' },
    body: JSON.stringify({ messages }),
  });
  if (response.status !== 202) throw new Error(`burst: HTTP ${response.status}`);
}
