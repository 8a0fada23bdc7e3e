// casino-realtime/react: one realtime manager per QueryClient and casino, wired to the client,
// for the components that need it.
import { useEffect, useSyncExternalStore } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { applyCacheBatch, createCasinoRealtime } from './index.js';

// QueryClient → Map(key → entry). An entry lives while components use it, plus a grace period,
// so React StrictMode's mount-unmount-mount does not close and reopen the connection.
const registry = new WeakMap();
const CLOSE_GRACE_MS = 1000;

const EMPTY_STATS = {
  status: 'connecting',
  eventsReceived: 0,
  applied: 0,
  duplicates: 0,
  malformed: 0,
  foreignCasino: 0,
  batches: 0,
  reconnects: 0,
  channels: [],
};

function entryFor(queryClient, options) {
  let byKey = registry.get(queryClient);
  if (!byKey) {
    byKey = new Map();
    registry.set(queryClient, byKey);
  }
  const key = `${options.url}|${options.casinoId}`;
  let entry = byKey.get(key);
  if (entry) return entry;
  entry = {
    realtime: null,
    error: null,
    status: 'connecting',
    stats: EMPTY_STATS,
    users: 0,
    closeTimer: null,
    listeners: new Set(),
    notify() {
      for (const listener of entry.listeners) listener();
    },
  };
  const refreshStats = () => {
    if (entry.realtime) entry.stats = entry.realtime.stats();
  };
  createCasinoRealtime({
    ...options,
    onBatch: (batch) => {
      applyCacheBatch(queryClient, batch);
      options.onBatch?.(batch);
      refreshStats();
      entry.notify();
    },
    onStatus: (status) => {
      entry.status = status;
      options.onStatus?.(status);
      refreshStats();
      entry.notify();
    },
    onError: options.onError,
  }).then(
    (realtime) => {
      if (entry.removed) return realtime.close();
      entry.realtime = realtime;
      // The casino's list feed, for as long as the manager lives.
      entry.stopList = realtime.subscribe();
      refreshStats();
      entry.notify();
    },
    (error) => {
      entry.error = error;
      entry.notify();
    },
  );
  entry.remove = () => {
    byKey.delete(key);
    entry.stopList?.();
    entry.realtime?.close();
    if (!entry.realtime) entry.removed = true;
  };
  byKey.set(key, entry);
  // Created during a render that may never mount: closed unless a component retains it.
  entry.closeTimer = setTimeout(() => entry.users === 0 && entry.remove(), 5 * CLOSE_GRACE_MS);
  return entry;
}

function retain(entry) {
  clearTimeout(entry.closeTimer);
  entry.users += 1;
  return () => {
    entry.users -= 1;
    if (entry.users === 0) entry.closeTimer = setTimeout(() => entry.users === 0 && entry.remove(), CLOSE_GRACE_MS);
  };
}

/**
 * The realtime manager for this QueryClient (the nearest `QueryClientProvider`'s unless
 * `options.queryClient` is given) and casino: created on first use, shared by every component,
 * closed a second after the last one unmounts. Batches are applied to the client.
 */
export function useCasinoRealtime(options) {
  const queryClient = useQueryClient(options.queryClient);
  const entry = entryFor(queryClient, options);
  useEffect(() => retain(entry), [entry]);
  useEffect(() => {
    if (options.accessToken && entry.realtime) entry.realtime.setAuth(options.accessToken);
  }, [entry, entry.realtime, options.accessToken]);
  const snapshot = useSyncExternalStore(
    (listener) => {
      entry.listeners.add(listener);
      return () => entry.listeners.delete(listener);
    },
    () => entry.stats,
    () => EMPTY_STATS,
  );
  if (entry.error) throw entry.error;
  return { realtime: entry.realtime, status: entry.status, stats: snapshot };
}

/**
 * Joins the detail channel of `resourceId` (a rating slip, a table, a player) while the
 * component is mounted. `realtime` is `useCasinoRealtime(...).realtime`; nothing happens while it
 * is still loading or when `resourceId` is empty.
 */
export function useRealtimeChannel(realtime, resourceId) {
  useEffect(() => {
    if (!realtime || !resourceId) return undefined;
    return realtime.subscribe({ resourceId });
  }, [realtime, resourceId]);
}
