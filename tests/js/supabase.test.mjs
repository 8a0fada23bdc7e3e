// A real @supabase/supabase-js client against the dev server (its `/auth/v1/user` and
// `/auth/v1/logout` stand in for GoTrue): the manager takes the client's URL and key, joins with
// the client's session token, and follows the session: a different user signing in re-authorizes
// every channel (what they may not read is refused), and signing out falls back to the key.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { createClient } from '@supabase/supabase-js';
import { startDevserver, token, status, until } from './devserver.mjs';
import { createCasinoRealtime } from '../../pkg/index.js';

globalThis.WebSocket = WebSocket;
const CASINO = '88888888-8888-4888-8888-888888888888';
let server;

before(async () => {
  server = await startDevserver();
});
after(() => server?.stop());

const joined = async () => (await status(server)).channels.map((c) => c.topic).sort();

test('a manager built from a supabase-js client joins with its session and follows it', async () => {
  const anonKey = await token(server, { role: 'anon', staff_role: '', casino_id: '' });
  const pitBoss = await token(server, { staff_role: 'pit_boss', casino_id: CASINO, sub: 'pit-boss-1' });
  const dealer = await token(server, { staff_role: 'dealer', casino_id: CASINO, sub: 'dealer-7' });
  // The project URL, as an app passes it to supabase-js.
  const supabase = createClient(server.url, anonKey, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
  });
  const signedIn = await supabase.auth.setSession({ access_token: pitBoss, refresh_token: 'dev-refresh' });
  assert.equal(signedIn.error, null, 'the dev server answered /auth/v1/user');
  assert.equal(signedIn.data.user.id, 'pit-boss-1');

  const errors = [];
  const realtime = await createCasinoRealtime({ supabase, casinoId: CASINO, onError: (e) => errors.push(e) });
  const stopList = realtime.subscribe();
  const stopTable = realtime.subscribe({ resourceId: 'table-1' });
  try {
    // The list feed is a pit boss's to read, not the anon key's: joined means the session's token.
    await until('both channels joined', async () => (await joined()).length === 2);
    // The server joins before its reply reaches the manager.
    await until('connected', () => realtime.status === 'connected');

    // A dealer signs in on the same terminal: supabase-js says SIGNED_IN, the manager re-authorizes.
    await supabase.auth.setSession({ access_token: dealer, refresh_token: 'dev-refresh' });
    await until('the list feed refused', () =>
      realtime.stats().channels.some((c) => c.topic === `realtime:${CASINO}` && c.state === 'denied'));
    assert.deepEqual(await joined(), [`realtime:${CASINO}:table-1`]);
    assert.ok(errors.some((e) => e.name === 'ChannelDeniedError'));

    // Signed out: the key (anon) is all there is, and it may read neither channel.
    await supabase.auth.signOut();
    await until('nothing joined', async () => (await joined()).length === 0);
  } finally {
    stopList();
    stopTable();
    realtime.close();
  }
  // close() stopped following the session: a later sign-in changes nothing (and does not throw).
  await supabase.auth.setSession({ access_token: pitBoss, refresh_token: 'dev-refresh' });
  assert.equal(realtime.status, 'closed');
});
