// A unit test as an app would write it with Vitest (README: "Unit tests with Vitest"): no
// browser, no socket. In Node, initCasinoRealtime() reads the .wasm from disk by itself; an app
// imports from 'casino-realtime' where this file imports the built package.
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { QueryClient, QueryObserver } from '@tanstack/query-core';
import { casinoKeys, initCasinoRealtime, invalidateByDomainEvent, planCacheActions } from '../../pkg/index.js';

const CASINO = '11111111-1111-4111-8111-111111111111';
const SLIP = '44444444-4444-4444-8444-444444444444';
const VISIT = '22222222-2222-4222-8222-222222222222';

beforeAll(() => initCasinoRealtime());

/** An active query (as a mounted useQuery) that counts its fetches. */
async function activeQuery(client: QueryClient, queryKey: readonly unknown[]) {
  const fetches = { count: 0 };
  const queryFn = async () => ++fetches.count;
  await client.fetchQuery({ queryKey, queryFn });
  new QueryObserver(client, { queryKey, queryFn, staleTime: Infinity }).subscribe(() => {});
  return fetches;
}

describe('closing a rating slip', () => {
  it('refetches the casino slip list, as the realtime event would', async () => {
    const client = new QueryClient();
    const list = await activeQuery(client, casinoKeys.ratingSlip.list(CASINO));
    const closed = {
      rating_slip_id: SLIP, casino_id: CASINO, visit_id: VISIT, status: 'closed' as const,
      end_time: '2025-12-20T11:00:00Z', total_duration: 3600, average_bet: null, at: '2025-12-20T11:00:00Z',
    };
    expect(planCacheActions('rating_slip.closed', closed).map((a) => a.queryKey)).toContainEqual(casinoKeys.ratingSlip.list(CASINO));
    await invalidateByDomainEvent(client, 'rating_slip.closed', closed);
    expect(list.count).toBe(2);
  });

  it('does not fail a saved mutation when the payload is a table row, not a catalog event', async () => {
    const client = new QueryClient();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const onError = vi.fn();
    const row = { id: SLIP, casino_id: CASINO, status: 'closed' };
    // @ts-expect-error: a row is not the catalog's payload (the types say so too)
    await expect(invalidateByDomainEvent(client, 'rating_slip.closed', row, { onError })).resolves.toBeUndefined();
    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ name: 'InvalidEventError', field: 'rating_slip_id' }));
    expect(warn).toHaveBeenCalledOnce();
    warn.mockRestore();
  });
});
