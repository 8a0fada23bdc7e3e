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
  type CasinoRealtimeErrorName,
  ERROR_NAMES,
  isCasinoRealtimeError,
  casinoKeys,
  type RealtimeInspection,
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
  await initCasinoRealtime('/assets/casino_realtime_host_bg.wasm');
  await initCasinoRealtime({ host: new URL('https://cdn.example/host.wasm'), plan: new Uint8Array(8) });
  // @ts-expect-error: the modules are host, debug and plan
  await initCasinoRealtime({ hots: '/x.wasm' });
  await invalidateByDomainEvent(client, 'rating_slip.updated', slip);
  // @ts-expect-error: a string where the catalog says number
  await invalidateByDomainEvent(client, 'rating_slip.updated', { ...slip, minutes_played: 'ten' });
  // @ts-expect-error: not a catalog event
  await invalidateByDomainEvent(client, 'rating_slip.exploded', slip);
  const rules = new CacheRules({ 'visit.created': { replace: [{ type: 'invalidate', queryKey: ['v', '{casino_id}'] }] } });
  // @ts-expect-error: refetchType is one of three words
  new CacheRules({ 'visit.created': { extend: [{ type: 'invalidate', queryKey: [], refetchType: 'soon' }] } });
  // @ts-expect-error: a typo'd event name
  new CacheRules({ 'visit.craeted': { extend: [] } });
  // @ts-expect-error: '{casino}' is not a field of visit.created (it is '{casino_id}')
  new CacheRules({ 'visit.created': { extend: [{ type: 'invalidate', queryKey: ['v', '{casino}'] }] } });
  // @ts-expect-error: 'pits' is an array and cannot stand in a key
  new CacheRules({ 'floor_layout.activated': { extend: [{ type: 'invalidate', queryKey: ['{pits}'] }] } });
  // @ts-expect-error: extend or replace, not both
  new CacheRules({ 'visit.created': { extend: [], replace: [] } });
  // @ts-expect-error: merged fields are the event's own
  new CacheRules({ 'rating_slip.updated': { extend: [{ type: 'mergeQueryData', queryKey: ['s'], fields: ['minutes'] }] } });
  new CacheRules({
    'floor_layout.activated': { extend: [{ type: 'invalidate', queryKey: ['layout', '{layout_id}', 1, null, true, ''] }] },
    'rating_slip.updated': { replace: [{ type: 'mergeQueryData', queryKey: ['s', '{rating_slip_id}'], fields: ['minutes_played'] }] },
    'loyalty.balance_updated': { extend: [{ type: 'setQueryData', queryKey: ['b', '{player_id}'], field: 'balance' }] },
  });
  rules.plan('rating_slip.updated', slip);
  // @ts-expect-error: plan checks the payload against the event
  rules.plan('rating_slip.updated', { ...slip, minutes_played: 'ten' });
  // @ts-expect-error: plan takes catalog events only
  rules.plan('rating_slip.exploded', slip);
  const name: EventName = 'table.activated';
  try {
    return planCacheActions(name, { casino_id: 'c', table_id: 't', label: 'BJ', type: 'baccarat', at: 'x' }, rules);
  } catch (e) {
    if (isCasinoRealtimeError(e, 'InvalidEventError')) throw new Error(`${e.event}: ${e.field ?? e.reason}`);
    if (isCasinoRealtimeError(e, 'InvalidRulesError')) throw new Error(e.path);
    // @ts-expect-error: `path` is a rules error's, not every error's
    if (isCasinoRealtimeError(e)) throw new Error(e.path);
    throw e;
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
    debug: { events: 50 },
    workerUrl: '/casino-realtime-worker.js',
    logger: (kind, message, record) => console.debug(kind, message, record.seq),
  });
  const unsubscribe: () => void = realtime.subscribe({ resourceId: 'slip-1' });
  realtime.subscribe();
  unsubscribe();
  const ready: Promise<void> = realtime.ready;
  const flushed: Promise<void> = realtime.flush();
  await Promise.all([ready, flushed]);
  // @ts-expect-error: ready is the host's answer, not a setter
  realtime.ready = Promise.resolve();
  // @ts-expect-error: the status is one of eight words
  if (realtime.status === 'offline') return 'closed';
  const partial: RealtimeStatus = 'partial';
  const waiting: RealtimeStatus = 'awaiting-token';
  const channel = realtime.stats().channels[0];
  const reason: string | null = channel.reason;
  // @ts-expect-error: a channel state is not a manager status
  const state: RealtimeChannelState = 'partial';
  const inspection: RealtimeInspection | null = realtime.inspect();
  const fates = inspection?.events.map((e) => e.fate) ?? [];
  const causes = inspection?.batches.flatMap((b) => b.keys.flatMap((k) => k.causes)) ?? [];
  realtime.close();
  return [partial, waiting, reason, state, fates, causes].length ? realtime.status : 'closed';
}

// Every name narrows to its own members; a name added in src/errors.rs without a case here
// fails the `never` check.
export function narrow(error: CasinoRealtimeError): string {
  switch (error.name) {
    case 'UnknownEventError': {
      const reason: 'unknown_event' = error.reason;
      return `${reason} ${error.event} ${error.topic ?? ''}`;
    }
    case 'InvalidEventError': {
      const event: EventName = error.event;
      return `${event} ${error.reason} ${error.field ?? ''} ${error.topic ?? ''}`;
    }
    case 'InvalidRulesError':
      return `${error.reason} ${error.path}`;
    case 'InvalidOptionsError':
      return error.option;
    case 'ChannelDeniedError': {
      const topic: string = error.topic;
      return `${topic}: ${error.reason}`;
    }
    case 'TokenError':
      return error.reason;
    case 'ConnectionError': {
      const reason: 'unauthorized' | 'forbidden' | 'not-found' | 'rate-limited' | 'server-error' | 'websocket-blocked' | 'unreachable' | 'refused' = error.reason;
      const status: number = error.status;
      return `${reason} ${status}`;
    }
    case 'ProtocolError':
      return `${error.reason} ${String(error.cause)}`;
    case 'ForeignCasinoError':
      return `${error.topic} ${error.event} ${error.casinoId}`;
    case 'CallbackError': {
      const callback: 'onBatch' | 'onStatus' | 'logger' = error.callback;
      return `${callback} ${String(error.cause)}`;
    }
    case 'ClosedError':
      // @ts-expect-error: a closed manager's error has no topic
      return error.topic;
    case 'NotInitializedError':
      return error.function;
    case 'LoadError':
      return String(error.cause);
    case 'PublishError': {
      const event: EventName = error.event;
      return `${event} ${error.reason}`;
    }
    case 'HostError': {
      const mode: 'worker' | 'leader' | 'follower' | 'local' = error.mode;
      const reason: 'start' | 'load' | 'no-answer' | 'lost' | 'refused' = error.reason;
      return `${mode} ${reason}`;
    }
    default: {
      const unreachable: never = error;
      return unreachable;
    }
  }
}

export function guards(value: unknown): string {
  // @ts-expect-error: not a name casino-realtime uses
  if (isCasinoRealtimeError(value, 'NoSuchError')) return '';
  if (isCasinoRealtimeError(value, 'ForeignCasinoError')) return value.casinoId;
  const names: readonly CasinoRealtimeErrorName[] = ERROR_NAMES;
  return isCasinoRealtimeError(value) ? narrow(value) : names.join();
}

export function keys(): readonly unknown[] {
  const list: readonly ['rating-slip', 'list', string] = casinoKeys.ratingSlip.list('c');
  const custody = casinoKeys.tableContext.table.custody('t');
  const table: readonly ['table-context', 'table', string] = casinoKeys.tableContext.table('t');
  // @ts-expect-error: not a key the rules keep fresh
  casinoKeys.ratingSlip.lists('c');
  // @ts-expect-error: the balance key needs the player and the casino
  casinoKeys.player.loyalty.balance('p');
  return [list, custody, table];
}

export async function mutationPattern(): Promise<void> {
  // Non-strict by default (resolves); strict rejects; both take onError.
  await invalidateByDomainEvent(client, 'rating_slip.updated', slip, { onError: (e) => console.warn(e.name) });
  await invalidateByDomainEvent(client, 'rating_slip.updated', slip, { strict: true });
  // @ts-expect-error: strict is a boolean
  await invalidateByDomainEvent(client, 'rating_slip.updated', slip, { strict: 'yes' });
}

import { createElement } from 'react';
import { createClient } from '@supabase/supabase-js';
import { CasinoRealtimeProvider, useRealtimeChannel, useRealtimeStatus, type ProviderStatus } from '../../pkg/react.js';

export async function fromSupabase(): Promise<void> {
  // A real supabase-js client is accepted as it is (its url and key are protected members).
  const supabase = createClient('https://abc.supabase.co', 'anon');
  const realtime = await createCasinoRealtime({ supabase, casinoId: 'c', onBatch: (b) => void applyCacheBatch(client, b) });
  realtime.subscribe();
  // @ts-expect-error: without supabase, url and apiKey are required
  await createCasinoRealtime({ casinoId: 'c' });
}

export function Floor(props: { slipId?: string }): string {
  const { status, stats, error, realtime, staleSince } = useRealtimeStatus();
  const since: number | null = staleSince ?? stats.staleSince;
  useRealtimeChannel(props.slipId);
  useRealtimeChannel(props.slipId, { enabled: status === 'connected' });
  const idle: ProviderStatus = 'idle';
  // @ts-expect-error: stats are numbers
  const wrong: string = stats.applied;
  const why = error?.name === 'LoadError' ? String(error.cause) : '';
  return `${status} ${idle} ${stats.duplicates} ${wrong} ${why} ${realtime?.status ?? ''} ${since}`;
}

export function Root(): unknown {
  const supabase = createClient('https://abc.supabase.co', 'anon');
  return [
    createElement(CasinoRealtimeProvider, { supabase, casinoId: 'c', enabled: false, children: null }),
    createElement(CasinoRealtimeProvider, { url: 'ws://127.0.0.1:54330/realtime/v1', apiKey: 'k', casinoId: 'c', accessToken: 't', batch: { maxWaitMs: 400 } }),
    // @ts-expect-error: a casino is required
    createElement(CasinoRealtimeProvider, { supabase }),
  ];
}

// casino-realtime/server: typed per event, `at` and `event` optional, a supabase-js client.
import { publishEvent } from '../../pkg/server.js';
async function publishing() {
  const supabase = createClient('http://localhost:54321', 'anon');
  const ids: string[] = await publishEvent(supabase, 'rating_slip.closed', {
    rating_slip_id: 's',
    casino_id: 'c',
    visit_id: 'v',
    end_time: '2025-12-20T10:15:00Z',
    total_duration: 60,
    average_bet: null,
    status: 'closed',
  });
  // @ts-expect-error a field of the wrong type
  await publishEvent(supabase, 'rating_slip.updated', { ...slip, minutes_played: 'ten' });
  // @ts-expect-error a required field missing
  await publishEvent(supabase, 'table.deactivated', { casino_id: 'c' });
  // @ts-expect-error not a catalog event
  await publishEvent(supabase, 'table.exploded', {});
  return ids;
}
void publishing;
