'use client';
// casino-realtime/react: one realtime manager per QueryClient and casino, wired to the client,
// for the components that need it.
import { useEffect, useReducer, useRef, useSyncExternalStore } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { applyCacheBatch, createCasinoRealtime } from './index.js';

// QueryClient → Map(key → entry). An entry lives while components use it, plus a grace period,
// so React StrictMode's mount-unmount-mount does not close and reopen the connection.
const registry = new WeakMap();
const CLOSE_GRACE_MS = 1000;

const EMPTY_STATS = Object.freeze({
  status: 'connecting',
  eventsReceived: 0,
  applied: 0,
  duplicates: 0,
  malformed: 0,
  foreignCasino: 0,
  batches: 0,
  reconnects: 0,
  channels: [],
});

// What the hook returns where there is nothing to run: on the server, or before the options
// name a casino.
const IDLE = Object.freeze({ realtime: null, stats: EMPTY_STATS, listeners: new Set(), idle: true });

function entryFor(queryClient, options) {
  let byKey = registry.get(queryClient);
  if (!byKey) {
    byKey = new Map();
    registry.set(queryClient, byKey);
  }
  const key = `${options.url}|${options.casinoId}`;
  const existing = byKey.get(key);
  if (existing) return existing;
  const entry = {
    realtime: null,
    error: null,
    closed: false,
    stats: EMPTY_STATS,
    token: options.accessToken,
    // Every mounted user's latest options: callbacks go to all of them.
    users: new Set(),
    closeTimer: null,
    listeners: new Set(),
  };
  const notify = () => {
    entry.stats = entry.realtime ? entry.realtime.stats() : { ...entry.stats };
    for (const listener of entry.listeners) listener();
  };
  const each = (name, arg) => {
    for (const user of entry.users) user.current[name]?.(arg);
  };
  const latest = () => [...entry.users].at(-1)?.current ?? options;
  createCasinoRealtime({
    ...options,
    getAccessToken: options.getAccessToken && (() => latest().getAccessToken()),
    onBatch: (batch) => {
      applyCacheBatch(queryClient, batch);
      each('onBatch', batch);
      notify();
    },
    onStatus: (status) => {
      each('onStatus', status);
      notify();
    },
    onError: (error) => each('onError', error),
  }).then(
    (realtime) => {
      if (entry.closed) return realtime.close();
      entry.realtime = realtime;
      // The casino's list feed, for as long as the manager lives.
      entry.stopList = realtime.subscribe();
      notify();
    },
    (error) => {
      entry.error = error;
      notify();
    },
  );
  entry.remove = () => {
    entry.closed = true;
    if (byKey.get(key) === entry) byKey.delete(key);
    entry.stopList?.();
    entry.realtime?.close();
  };
  byKey.set(key, entry);
  // Created during a render that may never mount: closed unless a component retains it.
  entry.closeTimer = setTimeout(() => entry.users.size === 0 && entry.remove(), 5 * CLOSE_GRACE_MS);
  return entry;
}

function retain(entry, user) {
  clearTimeout(entry.closeTimer);
  entry.users.add(user);
  return () => {
    entry.users.delete(user);
    if (entry.users.size === 0) entry.closeTimer = setTimeout(() => entry.users.size === 0 && entry.remove(), CLOSE_GRACE_MS);
  };
}

/**
 * The realtime manager for this QueryClient (the nearest `QueryClientProvider`'s unless
 * `options.queryClient` is given) and casino: created on first use, shared by every component,
 * closed a second after the last one unmounts. Batches are applied to the client; every mounted
 * user's `onBatch`/`onStatus`/`onError` is called. Does nothing on the server, or until
 * `options.url` and `options.casinoId` are set.
 */
export function useCasinoRealtime(options) {
  const queryClient = useQueryClient(options.queryClient);
  const runnable = typeof window !== 'undefined' && Boolean(options.url && options.casinoId);
  const entry = runnable ? entryFor(queryClient, options) : IDLE;
  const user = useRef(options);
  user.current = options;
  const [, rerender] = useReducer((n) => n + 1, 0);
  useEffect(() => {
    if (entry.idle) return undefined;
    // A manager closed while this component was hidden: render again to get a new one.
    if (entry.closed) return void rerender();
    return retain(entry, user);
  }, [entry]);
  useEffect(() => {
    const token = options.accessToken;
    if (entry.idle || !token || token === entry.token || !entry.realtime) return;
    entry.token = token;
    entry.realtime.setAuth(token);
  }, [entry, entry.realtime, options.accessToken]);
  const stats = useSyncExternalStore(
    (listener) => {
      entry.listeners.add(listener);
      return () => entry.listeners.delete(listener);
    },
    () => entry.stats,
    () => EMPTY_STATS,
  );
  if (entry.error) throw entry.error;
  return { realtime: entry.realtime, status: stats.status, stats };
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
