// Hostile values at the JS boundary of the built package: every exported function takes any JS
// value and answers with a named error, leaks nothing, and keeps working. A million hostile
// calls of each kind, then a valid one: before, a non-string event name trapped with "memory
// access out of bounds", and a getter throwing a non-Error leaked a slot of wasm-bindgen's value
// table per call until, after 1,024, every call died with "table index is out of bounds".
// A manager's options are read by the page's client (what it keeps: callbacks, token, where the
// host runs) and written as JSON for the host, which checks the rest (src/options.rs, tested
// natively with every bad value): the client's part is hammered here.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import init from '../../pkg/casino_realtime_plan.js';
import { initCasinoRealtime, planCacheActions, CacheRules, CasinoRealtime } from '../../pkg/index.js';

const fixtures = JSON.parse(await readFile(new URL('../fixtures/events.json', import.meta.url), 'utf8'));
const CALLS = Number(process.env.HOSTILE_CALLS ?? 1_000_000);
let wasm;
let tableAtStart;

before(async () => {
  await initCasinoRealtime();
  wasm = await init(); // the planner's instance, loaded already: returns its exports
  tableAtStart = wasm.__wbindgen_externrefs.length;
});

// Error objects without stack traces: a million of them otherwise take minutes.
Error.stackTraceLimit = 0;

const nonStrings = [42, true, {}, Symbol('s'), 10n, null, undefined, [], () => 1, NaN];
const notObjects = nonStrings.filter((v) => v === null || typeof v !== 'object' || Array.isArray(v));
const notRules = [42, true, Symbol('s'), 10n, null, undefined, [], () => 1, NaN, 'rules', { nope: [] }];

function throwsGetter(value) {
  return Object.defineProperty({ ...fixtures['table.deactivated'] }, 'at', {
    enumerable: true,
    get() {
      throw value;
    },
  });
}

const options = {
  url: 'ws://127.0.0.1:1/realtime/v1',
  apiKey: 'k',
  casinoId: '11111111-1111-4111-8111-111111111111',
};

const kinds = {
  'planCacheActions with a non-string event': {
    name: 'TypeError',
    call: (i) => planCacheActions(nonStrings[i % nonStrings.length], fixtures['table.deactivated']),
  },
  'a payload whose getter throws a non-Error': {
    name: 'InvalidEventError',
    call: (i) => planCacheActions('table.deactivated', throwsGetter(i % 2 ? 'nope' : { no: 1 })),
  },
  'a payload whose toJSON throws': {
    name: 'InvalidEventError',
    call: (i) => planCacheActions('table.deactivated', { toJSON() { throw i % 2 ? 5 : new Error('x'); } }),
  },
  'a payload JSON cannot hold (BigInt, cycle, Symbol)': {
    name: 'InvalidEventError',
    call: (i) => {
      const payload = { ...fixtures['table.deactivated'] };
      if (i % 3 === 0) payload.seq = 5n;
      else if (i % 3 === 1) payload.self = payload;
      else return planCacheActions('table.deactivated', Symbol('p'));
      return planCacheActions('table.deactivated', payload);
    },
  },
  'CacheRules whose getter throws': {
    name: 'InvalidRulesError',
    call: (i) => new CacheRules({ get 'table.deactivated'() { throw i % 2 ? 'no' : undefined; } }),
  },
  'CacheRules from a non-object': {
    name: 'InvalidRulesError',
    call: (i) => new CacheRules(notRules[i % notRules.length]),
  },
  'CacheRules.plan with a non-string event': {
    name: 'TypeError',
    call: (() => {
      let rules;
      return (i) => {
        rules ??= new CacheRules({});
        return rules.plan(nonStrings[i % nonStrings.length], fixtures['table.deactivated']);
      };
    })(),
  },
  'CasinoRealtime options that throw, JSON cannot hold, or the page cannot use': {
    name: 'InvalidOptionsError',
    call: (i) => {
      const cycle = { ...options };
      cycle.rules = { self: cycle };
      const bad = [
        Object.defineProperty({ ...options }, 'url', { get() { throw 'no url'; } }),
        { ...options, batch: { get debounceMs() { throw new Error('no'); } } },
        { ...options, dedup: { capacity: 10n } },
        cycle,
        { ...options, onBatch: 'apply' },
        { ...options, getAccessToken: {} },
        { ...options, accessToken: 42 },
        { ...options, shareAcrossTabs: 1 },
        notObjects[i % notObjects.length],
      ];
      return new CasinoRealtime(bad[i % bad.length]);
    },
  },
};

for (const [kind, { name, call }] of Object.entries(kinds)) {
  test(`${CALLS.toLocaleString('en')} calls: ${kind}, then a valid call`, () => {
    for (let i = 0; i < CALLS; i += 1) {
      let thrown;
      try {
        call(i);
      } catch (e) {
        thrown = e;
      }
      if (!(thrown instanceof Error) || thrown.name !== name) {
        assert.fail(`call ${i}: expected a ${name}, got ${thrown?.name}: ${thrown?.message ?? String(thrown)}`);
      }
    }
    const actions = planCacheActions('table.fill_requested', fixtures['table.fill_requested']);
    assert.equal(actions.length, 2);
    new CacheRules({}).plan('table.activated', fixtures['table.activated']);
  });
}

test('a manager takes any value in subscribe and setAuth, and says which is wrong', async () => {
  const realtime = new CasinoRealtime(options);
  for (let i = 0; i < 100_000; i += 1) {
    const value = nonStrings[i % nonStrings.length];
    assert.throws(() => realtime.setAuth(value), { name: 'TypeError' });
    if (value !== null && value !== undefined) {
      assert.throws(() => realtime.subscribe(typeof value === 'object' ? { resourceId: 5 } : value), { name: 'TypeError' });
    }
  }
  assert.throws(
    () => realtime.subscribe(Object.defineProperty({}, 'resourceId', { get() { throw 1; } })),
    { name: 'TypeError', message: /reading 'resourceId' threw: number/ },
  );
  realtime.close();
  assert.throws(() => realtime.subscribe(), { name: 'ClosedError' });
  realtime.close(); // twice is fine
  await realtime.flush();
  assert.equal(realtime.status, 'closed');
});

test('the messages say what was wrong', async () => {
  assert.throws(() => planCacheActions(42, {}), {
    name: 'TypeError',
    message: 'planCacheActions: the event name must be a string, got number',
  });
  assert.throws(() => planCacheActions('table.deactivated', throwsGetter('nope')), {
    name: 'InvalidEventError',
    message: 'table.deactivated: payload cannot be written as JSON (nope)',
  });
  await assert.rejects(new CasinoRealtime({ ...options, dedup: { capacity: 1e12 } }).ready, {
    name: 'InvalidOptionsError',
    message: "CasinoRealtime options: 'dedup.capacity' must be a whole number from 1 to 1000000, got 1000000000000",
  });
  assert.throws(() => new CasinoRealtime({ get url() { throw new Error('boom'); } }), {
    name: 'InvalidOptionsError',
    message: "CasinoRealtime options: reading 'url' threw: boom",
  });
  assert.throws(() => new CasinoRealtime({ ...options, dedup: { capacity: 10n } }), {
    name: 'InvalidOptionsError',
    message: /^CasinoRealtime options: 'dedup' cannot be written as JSON \(.*BigInt/,
  });
});

test('the wasm value table did not grow with the hostile calls', () => {
  const slots = wasm.__wbindgen_externrefs.length;
  assert.ok(slots <= tableAtStart + 128, `value table: ${tableAtStart} slots at the start, ${slots} now`);
});
