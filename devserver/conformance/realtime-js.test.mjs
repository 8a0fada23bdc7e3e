// The official client, @supabase/realtime-js (2.119.1), against the dev server: if Supabase's
// own client is happy, the protocol is right. Runs the binary cargo built (target/debug/devserver).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { RealtimeClient } from '@supabase/realtime-js';

const CASINO = '11111111-1111-4111-8111-111111111111';
const OTHER = '22222222-2222-4222-8222-222222222222';
const binary = fileURLToPath(new URL('../../target/debug/devserver', import.meta.url));
const servers = [];

async function startServer(...flags) {
  const child = spawn(binary, ['--port', '0', ...flags], { stdio: ['ignore', 'pipe', 'inherit'] });
  servers.push(child);
  const lines = createInterface({ input: child.stdout });
  const base = await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`devserver exited with ${code}`)));
    lines.on('line', (line) => {
      const match = line.match(/^devserver listening on (http:\/\/\S+)$/);
      if (match) resolve(match[1]);
    });
  });
  return { base, ws: `${base.replace('http', 'ws')}/realtime/v1` };
}

after(() => {
  for (const child of servers) child.kill();
});

async function token(server, query) {
  const response = await fetch(`${server.base}/_dev/token?${new URLSearchParams(query)}`, { method: 'POST' });
  assert.equal(response.status, 200);
  return (await response.json()).token;
}

const staff = (server, extra = {}) => token(server, { staff_role: 'pit_boss', casino_id: CASINO, ...extra });

function client(server, apikey, options = {}) {
  const c = new RealtimeClient(server.ws, { params: { apikey }, transport: WebSocket, ...options });
  return c;
}

/** Subscribes and resolves with the first terminal status and its error. */
function subscribe(channel) {
  return new Promise((resolve) => {
    channel.subscribe((status, err) => {
      if (status !== 'SUBSCRIBED' || !err) resolve({ status, err });
    });
  });
}

/** Collects broadcasts until `count` arrived. */
function collect(channel, count) {
  const got = [];
  let done;
  const all = new Promise((resolve) => {
    done = resolve;
  });
  channel.on('broadcast', { event: '*' }, (message) => {
    got.push(message);
    if (got.length === count) done(got);
  });
  return all;
}

async function post(server, path, bearer, body, contentType = 'application/json') {
  const response = await fetch(`${server.base}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${bearer}`, 'content-type': contentType },
    body: JSON.stringify(body),
  });
  return response.status;
}

const serviceToken = (server) => token(server, { role: 'service_role', staff_role: '', casino_id: '' });

test('connects, joins a private channel and receives broadcasts in both framings', async () => {
  const server = await startServer();
  const key = await staff(server);
  const c = client(server, key);
  const channel = c.channel(CASINO, { config: { private: true } });
  const received = collect(channel, 2);
  assert.deepEqual(await subscribe(channel), { status: 'SUBSCRIBED', err: undefined });

  const service = await serviceToken(server);
  // REST batch: a JSON text frame, with meta.id from `id`.
  const batch = { messages: [{ topic: CASINO, event: 'table.deactivated', payload: { n: 1 }, private: true, id: 'm-1' }] };
  assert.equal(await post(server, '/realtime/v1/api/broadcast', service, batch), 202);
  // As the database publishes: a binary kind-4 frame with meta.id.
  assert.equal(await post(server, '/realtime/v1/api/db/send', service, { topic: CASINO, event: 'visit.created', payload: { n: 2 } }), 200);

  const [first, second] = await received;
  assert.deepEqual(first, { type: 'broadcast', event: 'table.deactivated', payload: { n: 1 }, meta: { id: 'm-1' } });
  assert.equal(second.event, 'visit.created');
  assert.deepEqual(second.payload, { n: 2 });
  assert.match(second.meta.id, /^[0-9a-f-]{36}$/);
  await c.removeAllChannels();
  c.disconnect();
});

test('a wrong casino or role gets the exact denial reason', async () => {
  const server = await startServer();
  for (const [key, topic] of [
    [await staff(server), OTHER],
    [await staff(server, { staff_role: 'dealer' }), CASINO],
  ]) {
    const c = client(server, key);
    const { status, err } = await subscribe(c.channel(topic, { config: { private: true } }));
    assert.equal(status, 'CHANNEL_ERROR');
    assert.equal(err.message, `Unauthorized: You do not have permissions to read from this Channel topic: ${topic}`);
    c.disconnect();
  }
});

test('heartbeats are answered', async () => {
  const server = await startServer();
  const statuses = [];
  const c = client(server, await staff(server), {
    heartbeatIntervalMs: 200,
    heartbeatCallback: (status) => statuses.push(status),
  });
  c.connect();
  await new Promise((resolve) => setTimeout(resolve, 900));
  assert.ok(statuses.includes('ok'), `heartbeat statuses: ${statuses}`);
  c.disconnect();
});

test('an expiring token closes the channel; a refreshed one keeps it', async () => {
  const server = await startServer();
  const apikey = await staff(server);

  const expiring = client(server, apikey);
  await expiring.setAuth(await staff(server, { ttl_s: 2 }));
  const channel = expiring.channel(CASINO, { config: { private: true } });
  const system = new Promise((resolve) => channel.on('system', {}, resolve));
  const closed = new Promise((resolve) => {
    channel.subscribe((status) => {
      if (status === 'CLOSED') resolve(status);
    });
  });
  const message = await system;
  assert.equal(message.status, 'error');
  assert.match(message.message, /^Token has expired \d+ seconds ago$/);
  assert.equal(await closed, 'CLOSED');
  expiring.disconnect();

  const refreshed = client(server, apikey);
  await refreshed.setAuth(await staff(server, { ttl_s: 2 }));
  const kept = refreshed.channel(CASINO, { config: { private: true } });
  const statuses = [];
  kept.subscribe((status) => statuses.push(status));
  await new Promise((resolve) => setTimeout(resolve, 500));
  await refreshed.setAuth(await staff(server, { ttl_s: 600 }));
  await new Promise((resolve) => setTimeout(resolve, 3000));
  assert.deepEqual(statuses, ['SUBSCRIBED']);
  refreshed.disconnect();
});

test('missed database messages are replayed on join', async () => {
  const server = await startServer();
  const service = await serviceToken(server);
  const since = Date.now() - 1000;
  for (const n of [1, 2, 3]) {
    await post(server, '/realtime/v1/api/db/send', service, { topic: CASINO, event: 'rating_slip.updated', payload: { n } });
  }
  const c = client(server, await staff(server));
  const channel = c.channel(CASINO, { config: { private: true, broadcast: { replay: { since, limit: 25 } } } });
  const replayed = collect(channel, 3);
  assert.equal((await subscribe(channel)).status, 'SUBSCRIBED');
  const messages = await replayed;
  assert.deepEqual(messages.map((m) => m.payload.n), [1, 2, 3]);
  for (const m of messages) assert.equal(m.meta.replayed, true);
  c.disconnect();
});

test('client broadcasts (binary kind 3) reach others, with ack', async () => {
  const server = await startServer();
  const key = await staff(server);
  const sender = client(server, key);
  const receiver = client(server, key);
  const out = sender.channel(CASINO, { config: { private: true, broadcast: { ack: true } } });
  const into = receiver.channel(CASINO, { config: { private: true } });
  const got = collect(into, 1);
  assert.equal((await subscribe(out)).status, 'SUBSCRIBED');
  assert.equal((await subscribe(into)).status, 'SUBSCRIBED');
  assert.equal(await out.send({ type: 'broadcast', event: 'cursor', payload: { x: 1 } }), 'ok');
  const [message] = await got;
  assert.deepEqual([message.event, message.payload], ['cursor', { x: 1 }]);
  sender.disconnect();
  receiver.disconnect();
});

test('vsn 1.0.0 clients get JSON broadcasts', async () => {
  const server = await startServer();
  const c = client(server, await staff(server), { vsn: '1.0.0' });
  const channel = c.channel(CASINO, { config: { private: true } });
  const got = collect(channel, 1);
  assert.equal((await subscribe(channel)).status, 'SUBSCRIBED');
  await post(server, '/realtime/v1/api/db/send', await serviceToken(server), { topic: CASINO, event: 'visit.closed', payload: { v: 1 } });
  const [message] = await got;
  assert.deepEqual(message.payload, { v: 1 });
  c.disconnect();
});

test('the floor scenario streams catalog events to the real client', async () => {
  const server = await startServer('--scenario', 'floor', '--rate', '40', '--casino', CASINO);
  const c = client(server, await staff(server));
  const channel = c.channel(CASINO, { config: { private: true } });
  const got = collect(channel, 10);
  assert.equal((await subscribe(channel)).status, 'SUBSCRIBED');
  for (const message of await got) {
    assert.match(message.event, /^[a-z_]+\.[a-z_]+$/);
    assert.equal(message.payload.casino_id, CASINO);
    assert.ok(message.meta.id);
  }
  c.disconnect();
});
