// Type-checked with `tsc --noEmit` against the built package: the public types work with a real
// QueryClient and catch wrong payloads and rules at compile time.
import { QueryClient } from '@tanstack/query-core';
import {
  applyCacheBatch,
  createCasinoRealtime,
  type RealtimeStatus,
  type RealtimeChannelState,
  CacheRules,
  initCasinoRealtime,
  invalidateByDomainEvent,
  planCacheActions,
  type CacheAction,
  type CasinoRealtimeError,
  type EventName,
  type RatingSlipUpdatedPayload,
} from '../../pkg/index.js';

const client = new QueryClient();
const slip: RatingSlipUpdatedPayload = {
  rating_slip_id: 's',
  casino_id: 'c',
  visit_id: 'v',
  average_bet: null,
  minutes_played: 10,
  game_type: 'poker',
  status: 'paused',
  at: '2025-12-20T10:00:00Z',
};

export async function usage(): Promise<CacheAction[]> {
  await initCasinoRealtime();
  await invalidateByDomainEvent(client, 'rating_slip.updated', slip);
  // @ts-expect-error: a string where the catalog says number
  await invalidateByDomainEvent(client, 'rating_slip.updated', { ...slip, minutes_played: 'ten' });
  // @ts-expect-error: not a catalog event
  await invalidateByDomainEvent(client, 'rating_slip.exploded', slip);
  const rules = new CacheRules({ 'visit.created': { replace: [{ type: 'invalidate', queryKey: ['v', '{casino_id}'] }] } });
  // @ts-expect-error: refetchType is one of three words
  new CacheRules({ 'visit.created': { extend: [{ type: 'invalidate', queryKey: [], refetchType: 'soon' }] } });
  const name: EventName = 'table.activated';
  try {
    return planCacheActions(name, { casino_id: 'c', table_id: 't', label: 'BJ', type: 'baccarat', at: 'x' }, rules);
  } catch (e) {
    const err = e as CasinoRealtimeError;
    throw new Error(`${err.name}: ${err.field ?? err.path ?? ''}`);
  }
}

export async function live(): Promise<RealtimeStatus> {
  const realtime = await createCasinoRealtime({
    url: 'wss://example.supabase.co/realtime/v1',
    apiKey: 'anon',
    casinoId: 'c',
    getAccessToken: async () => 'jwt',
    onBatch: (batch) => void applyCacheBatch(client, batch),
    onError: (error) => console.warn(error.name, error.message),
    batch: { debounceMs: 100 },
  });
  const unsubscribe: () => void = realtime.subscribe({ resourceId: 'slip-1' });
  realtime.subscribe();
  unsubscribe();
  // @ts-expect-error: the status is one of eight words
  if (realtime.status === 'offline') return 'closed';
  const partial: RealtimeStatus = 'partial';
  const waiting: RealtimeStatus = 'awaiting-token';
  const channel = realtime.stats().channels[0];
  const reason: string | null = channel.reason;
  // @ts-expect-error: a channel state is not a manager status
  const state: RealtimeChannelState = 'partial';
  realtime.close();
  return [partial, waiting, reason, state].length ? realtime.status : 'closed';
}

export function narrow(error: CasinoRealtimeError): string {
  if (error.name === 'ChannelDeniedError') return `${error.topic}: ${error.reason}`;
  if (error.name === 'ClosedError' || error.name === 'TokenError') return error.message;
  // @ts-expect-error: not a name casino-realtime uses
  if (error.name === 'NoSuchError') return '';
  return String(error.cause);
}

import { useCasinoRealtime, useRealtimeChannel } from '../../pkg/react.js';

export function Dashboard(props: { casinoId: string; slipId?: string }): string {
  const { realtime, status, stats } = useCasinoRealtime({ url: 'ws://127.0.0.1:54330/realtime/v1', apiKey: 'k', casinoId: props.casinoId, queryClient: client });
  useRealtimeChannel(realtime, props.slipId);
  // @ts-expect-error: stats are numbers
  const wrong: string = stats.applied;
  return `${status} ${stats.duplicates} ${wrong}`;
}
