// The client's half of the contract in tests/fixtures/tab-messages.json: it writes every message
// exactly as the host reads it (src/share/message.rs checks its half against the same file), and
// reads every message the host writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { PROTOCOL, split, toHost } from '../../pkg/messages.js';

const fixture = JSON.parse(await readFile(new URL('../fixtures/tab-messages.json', import.meta.url), 'utf8'));
const options = { url: 'ws://x/realtime/v1', apiKey: 'k', casinoId: 'c' };

test('the client writes each message as the host reads it', () => {
  const written = {
    hello: toHost.hello({ options, token: 'jwt', tokenSource: true, subs: [[1, null], [2, 'table-1']], missedSince: 1766224800000 }),
    helloWithoutToken: toHost.hello({ options, token: null, tokenSource: false, subs: [], missedSince: null }),
    subscribeDetail: toHost.subscribe(3, 'slip-"9"'),
    subscribeList: toHost.subscribe(4, null),
    unsubscribe: toHost.unsubscribe(3),
    setAuth: toHost.setAuth('t2'),
    flush: toHost.flush(6),
    token: toHost.token(7, 't3'),
    tokenFailed: toHost.tokenFailed(8, 'getAccessToken failed: boom'),
    offline: toHost.online(false),
    visible: toHost.visible(true),
    resumed: toHost.resumed(),
    stats: toHost.stats(),
    bye: toHost.bye(),
  };
  assert.deepEqual(Object.keys(written).sort(), Object.keys(fixture.toHost).sort(), 'every message of the fixture, and only those');
  for (const [name, text] of Object.entries(written)) assert.equal(text, fixture.toHost[name], name);
});

test('the client speaks the version the host does', () => {
  assert.equal(PROTOCOL, fixture.protocol);
});

test('the client reads each message the host writes', () => {
  const kinds = { batch: 'batch', status: 'status', statusFresh: 'status', error: 'error', requestToken: 'token', stats: 'stats',
    ready: 'ready', refused: 'refused', flushed: 'flushed', inspect: 'inspect', log: 'log', beat: 'beat' };
  assert.deepEqual(Object.keys(kinds).sort(), Object.keys(fixture.toTab).sort());
  for (const [name, text] of Object.entries(fixture.toTab)) {
    const [kind, body] = split(text);
    assert.equal(kind, kinds[name], name);
    assert.doesNotThrow(() => JSON.parse(body), name);
  }
  assert.equal(split('no kind'), null);
  assert.equal(split(42), null);
});
