// The built package (pkg/) against a real TanStack QueryClient: invalidateByDomainEvent applies
// the same mapping realtime uses, immediately.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { QueryClient, QueryObserver } from '@tanstack/query-core';
import {
  initCasinoRealtime,
  invalidateByDomainEvent,
  planCacheActions,
  applyCacheActions,
  CacheRules,
  casinoKeys,
} from '../../pkg/index.js';

const fixtures = JSON.parse(await readFile(new URL('../fixtures/events.json', import.meta.url), 'utf8'));
const C = '11111111-1111-4111-8111-111111111111';
const T = '55555555-5555-4555-8555-555555555555';
const S = '44444444-4444-4444-8444-444444444444';

before(async () => {
  await initCasinoRealtime();
});

/** A query with a fetch counter; `observe` makes it active, as a mounted useQuery would. */
async function seed(client, queryKey, data, { observe = false } = {}) {
  const counter = { fetches: 0 };
  const queryFn = async () => {
    counter.fetches += 1;
    return data;
  };
  await client.fetchQuery({ queryKey, queryFn });
  if (observe) new QueryObserver(client, { queryKey, queryFn, staleTime: Infinity }).subscribe(() => {});
  return counter;
}

test('invalidation refetches active queries and marks inactive ones stale', async () => {
  const client = new QueryClient();
  const fills = await seed(client, ['table-context', 'fills', C], [], { observe: true });
  const custody = await seed(client, ['table-context', 'table', T, 'custody'], {});
  const other = await seed(client, ['table-context', 'fills', 'another-casino'], [], { observe: true });

  await invalidateByDomainEvent(client, 'table.fill_requested', fixtures['table.fill_requested']);

  assert.equal(fills.fetches, 2, 'the active list refetched');
  assert.equal(custody.fetches, 1, 'the inactive query was not refetched');
  assert.equal(client.getQueryState(['table-context', 'table', T, 'custody']).isInvalidated, true);
  assert.equal(other.fetches, 1, 'another casino untouched');
  client.clear();
});

test('balance_updated sets the cached balance', async () => {
  const client = new QueryClient();
  const payload = fixtures['loyalty.balance_updated'];
  await invalidateByDomainEvent(client, 'loyalty.balance_updated', payload);
  assert.equal(client.getQueryData(['player', 'loyalty', 'balance', payload.player_id, C]), 1200);
});

test('rating_slip.updated merges into a cached slip and creates nothing when none is cached', async () => {
  const client = new QueryClient();
  const detail = ['rating-slip', 'detail', S];
  await invalidateByDomainEvent(client, 'rating_slip.updated', fixtures['rating_slip.updated']);
  assert.equal(client.getQueryData(detail), undefined);

  client.setQueryData(detail, { id: S, table: 'BJ-04', minutes_played: 10, status: 'open' });
  await invalidateByDomainEvent(client, 'rating_slip.updated', { ...fixtures['rating_slip.updated'], minutes_played: 55 });
  assert.deepEqual(client.getQueryData(detail), {
    id: S,
    table: 'BJ-04',
    minutes_played: 55,
    status: 'open',
    average_bet: 25.5,
    game_type: 'blackjack',
  });
});

test('a merge into a cached non-object invalidates it instead', async () => {
  const client = new QueryClient();
  const detail = ['rating-slip', 'detail', S];
  const counter = await seed(client, detail, 'legacy string value', { observe: true });
  await applyCacheActions(client, [{ type: 'mergeQueryData', queryKey: detail, data: { status: 'closed' } }]);
  assert.equal(counter.fetches, 2);
  assert.equal(client.getQueryData(detail), 'legacy string value');
  client.clear();
});

test('strict: bad input rejects with a named Error that says what and where', async () => {
  const client = new QueryClient();
  await assert.rejects(
    invalidateByDomainEvent(client, 'rating_slip.updated', { ...fixtures['rating_slip.updated'], minutes_played: 'ten' }, { strict: true }),
    (err) => {
      assert.ok(err instanceof Error);
      assert.equal(err.name, 'InvalidEventError');
      assert.equal(err.message, `rating_slip.updated: field 'minutes_played' must be a number, got "ten"`);
      assert.equal(err.field, 'minutes_played');
      return true;
    },
  );
  await assert.rejects(invalidateByDomainEvent(client, 'table.exploded', {}, { strict: true }), { name: 'UnknownEventError' });
  assert.equal(client.getQueryCache().getAll().length, 0, 'nothing touched');
});

test('by default a row that is not a catalog event is reported, and the mutation still succeeds', async () => {
  const client = new QueryClient();
  const list = await seed(client, ['rating-slip', 'list', C], [], { observe: true });
  // What a supabase update returns: the table's row, not the catalog's event.
  const row = { id: S, casino_id: C, visit_id: '22222222-2222-4222-8222-222222222222', status: 'closed', updated_at: '2025-12-20T10:15:00Z' };
  const reported = [];
  const warnings = [];
  const warn = console.warn;
  console.warn = (...args) => warnings.push(args.join(' '));
  try {
    const result = await invalidateByDomainEvent(client, 'rating_slip.closed', row, { onError: (e) => reported.push(e) });
    assert.equal(result, undefined, 'resolved');
  } finally {
    console.warn = warn;
  }
  assert.deepEqual(reported.map((e) => [e.name, e.reason, e.field]), [['InvalidEventError', 'missing_field', 'rating_slip_id']]);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /rating_slip\.closed.*invalidated nothing.*rating_slip_id/);
  assert.equal(list.fetches, 1, 'nothing was refetched');

  // The same event built from the row, as the README shows, invalidates what realtime would.
  const event = { rating_slip_id: row.id, casino_id: row.casino_id, visit_id: row.visit_id, status: 'closed',
    end_time: row.updated_at, total_duration: 3600, average_bet: null, at: row.updated_at };
  await invalidateByDomainEvent(client, 'rating_slip.closed', event, { strict: true });
  assert.equal(list.fetches, 2, 'the active list refetched once');
});

test('custom rules replace or extend the defaults', async () => {
  const rules = new CacheRules({
    'table.fill_requested': { extend: [{ type: 'invalidate', queryKey: ['fills', '{casino_id}'], refetchType: 'all' }] },
  });
  const actions = planCacheActions('table.fill_requested', fixtures['table.fill_requested'], rules);
  assert.deepEqual(actions.at(-1), { type: 'invalidate', queryKey: ['fills', C], refetchType: 'all' });

  const client = new QueryClient();
  const fills = await seed(client, ['fills', C], []);
  await invalidateByDomainEvent(client, 'table.fill_requested', fixtures['table.fill_requested'], { rules });
  assert.equal(fills.fetches, 2, "refetchType 'all' refetches an inactive query");

  assert.throws(
    () => new CacheRules({ 'table.fill_requested': { extend: [{ type: 'invalidate', queryKey: ['fills', '{casino}'] }] } }),
    (err) => err.name === 'InvalidRulesError' && err.path === 'rules["table.fill_requested"].extend[0].queryKey[1]',
  );
  client.clear();
});

test('a run of invalidations matches exactly what one invalidateQueries per key would', async () => {
  // Random caches and random invalidation keys: the grouped applier must leave every query as
  // TanStack's own per-key calls do (invalidated or not), and refetch the active ones among them.
  let seed32 = 7;
  const rand = (n) => {
    seed32 = (seed32 * 1103515245 + 12345) % 2 ** 31;
    return seed32 % n;
  };
  const parts = ['a', 'b', 1, 2, '1', null, true, { status: 'open' }];
  const randomKey = (max) => Array.from({ length: 1 + rand(max) }, () => parts[rand(parts.length)]);
  const scalars = (key) => key.map((p) => (p !== null && typeof p === 'object' ? 'a' : p));
  for (let round = 0; round < 40; round++) {
    const queryKeys = Array.from({ length: 30 }, () => randomKey(4));
    const actions = Array.from({ length: 1 + rand(6) }, () => ({
      type: 'invalidate',
      queryKey: scalars(randomKey(3)),
      refetchType: ['active', 'all', 'none'][rand(3)],
    }));
    const run = async (apply) => {
      const client = new QueryClient();
      const counters = [];
      for (const [i, queryKey] of queryKeys.entries()) {
        counters.push(await seed(client, queryKey, i, { observe: i % 3 === 0 }));
      }
      await apply(client);
      const states = queryKeys.map((k) => client.getQueryState(k).isInvalidated);
      const fetched = counters.map((c) => c.fetches > 1);
      client.clear();
      return { states, fetched };
    };
    const grouped = await run((client) => applyCacheActions(client, actions));
    const perKey = await run((client) =>
      Promise.all(actions.map((a) => client.invalidateQueries({ queryKey: a.queryKey, refetchType: a.refetchType }))),
    );
    assert.deepEqual(grouped.states, perKey.states, `round ${round}: ${JSON.stringify(actions)}`);
    assert.deepEqual(grouped.fetched, perKey.fetched, `round ${round}: refetched`);
  }
});

test('an invalidation listed before a write of the same key is applied before it', async () => {
  const client = new QueryClient();
  await seed(client, ['k', 1], 'old');
  await applyCacheActions(client, [
    { type: 'invalidate', queryKey: ['k'], refetchType: 'none' },
    { type: 'setQueryData', queryKey: ['k', 1], data: 'new' },
  ]);
  // setQueryData after the invalidation leaves the fresh value valid, as in that order.
  assert.equal(client.getQueryState(['k', 1]).isInvalidated, false);
  assert.equal(client.getQueryData(['k', 1]), 'new');
  client.clear();
});

test('every key the default rules give for the samples is one casinoKeys builds', () => {
  // Every factory function, called with the values the rules would put in its key.
  const functions = [];
  const walk = (node) => {
    for (const value of Object.values(node)) {
      if (typeof value === 'function') functions.push(value);
      if (value && (typeof value === 'object' || typeof value === 'function')) walk(value);
    }
  };
  walk(casinoKeys);
  assert.ok(functions.length >= 20, `${functions.length} key functions`);
  let checked = 0;
  for (const [event, payload] of Object.entries(fixtures)) {
    for (const { queryKey } of planCacheActions(event, payload)) {
      // Each function called with markers gives its template; one whose literals match the key's
      // is called again with the key's values in the marked places.
      const built = functions.map((f) => {
        const template = f(...Array.from({ length: f.length }, (_, i) => ({ slot: i })));
        if (template.length !== queryKey.length) return null;
        const args = [];
        for (let i = 0; i < template.length; i += 1) {
          if (typeof template[i] === 'object' && template[i] !== null) args[template[i].slot] = queryKey[i];
          else if (template[i] !== queryKey[i]) return null;
        }
        return f(...args);
      });
      assert.ok(built.some((key) => key && JSON.stringify(key) === JSON.stringify(queryKey)), `${event}: ${JSON.stringify(queryKey)} has a factory`);
      checked += 1;
    }
  }
  assert.ok(checked > 30, `${checked} keys checked`);
});
