'use client';
// casino-realtime/react: a provider beside QueryClientProvider that owns one realtime manager
// (options once, for the whole tree), and hooks that read it. The manager is created in an
// effect, never during render: a server render, or a provider with `enabled: false`, reads
// `idle` and opens nothing.
import { createContext, createElement, useContext, useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { applyCacheBatch, createCasinoRealtime } from './index.js';

const IDLE_STATS = Object.freeze({
  status: 'idle',
  eventsReceived: 0,
  applied: 0,
  duplicates: 0,
  malformed: 0,
  foreignCasino: 0,
  unreadableFrames: 0,
  batches: 0,
  reconnects: 0,
  replays: 0,
  resyncs: 0,
  channels: Object.freeze([]),
  staleSince: null,
  mode: 'local',
  shared: false,
});

// What the hooks read where nothing runs: on the server, while disabled, before the effect.
const IDLE = Object.freeze({ status: 'idle', staleSince: null, stats: IDLE_STATS, error: null, realtime: null });

/** The provider's state, as `useSyncExternalStore` reads it: a new frozen object per change. */
function createStore() {
  let snapshot = IDLE;
  const listeners = new Set();
  return {
    get: () => snapshot,
    set(next) {
      snapshot = next === IDLE ? IDLE : Object.freeze({ ...snapshot, ...next });
      for (const listener of listeners) listener();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/**
 * What a manager is made of: when any of it changes the manager is replaced (closed, and a new
 * one opened). The token is not part of it (it goes through `setAuth`), nor are the callbacks
 * (the latest ones are always called).
 */
function identity(options) {
  const { accessToken, getAccessToken, onBatch, onStatus, onError, logger, supabase, ...made } = options;
  // Signing out (a token, then none) replaces the manager: nothing keeps the last user's channels.
  return JSON.stringify([made, Boolean(getAccessToken), Boolean(logger), Boolean(accessToken)]);
}

// A .wasm that failed to load is tried again when the browser is back online, or after this.
const LOAD_RETRY_MS = 30_000;

const Context = createContext(null);

/**
 * Owns the realtime manager for the tree below it: batches are applied to the QueryClient (the
 * nearest `QueryClientProvider`'s, or `queryClient`), the casino's list feed is joined unless
 * `listFeed` is false, and detail channels are joined by `useRealtimeChannel`. A new
 * `accessToken` goes to `setAuth` (every channel is re-authorized with it: when the signed-in
 * user changes, what the new user may not read is refused and stops); a change of any other
 * option replaces the manager. A manager that cannot be made (its host's `.wasm` did not load,
 * invalid options) is reported as status `error` with its `error`, and once to `onError`, never
 * thrown.
 */
export function CasinoRealtimeProvider({ children, enabled = true, listFeed = true, queryClient: client, ...options }) {
  const queryClient = useQueryClient(client);
  const [store] = useState(createStore);
  const latest = useRef(options);
  useEffect(() => {
    latest.current = options;
  });
  const ready = enabled && typeof window !== 'undefined' && Boolean(options.casinoId && (options.url || options.supabase));
  const key = ready ? identity(options) : null;
  const supabase = options.supabase;
  // Bumped to try a failed load again.
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    if (key === null) return store.set(IDLE);
    let cancelled = false;
    let realtime = null;
    let stopList = null;
    const refresh = () => {
      if (!realtime || cancelled) return;
      const stats = realtime.stats();
      store.set({ status: realtime.status, staleSince: stats.staleSince, stats });
    };
    const given = latest.current;
    let retry = null;
    // What the manager told onError already (a refusal is also how createCasinoRealtime rejects).
    let told = null;
    // The app's callbacks may throw (the manager reports a CallbackError): the state still updates.
    createCasinoRealtime({
      ...given,
      getAccessToken: given.getAccessToken && (() => latest.current.getAccessToken()),
      logger: given.logger && ((...args) => latest.current.logger?.(...args)),
      onBatch: (batch) => {
        try {
          applyCacheBatch(queryClient, batch);
          latest.current.onBatch?.(batch);
        } finally {
          refresh();
        }
      },
      onStatus: (status, detail) => {
        try {
          latest.current.onStatus?.(status, detail);
        } finally {
          refresh();
        }
      },
      onError: (error) => {
        told = error;
        try {
          latest.current.onError?.(error);
        } finally {
          // Dropped events are counted in stats: show the new counts.
          refresh();
        }
      },
    }).then(
      (created) => {
        if (cancelled) return created.close();
        realtime = created;
        // A token that changed while the .wasm loaded.
        const token = latest.current.accessToken;
        if (token && token !== given.accessToken) realtime.setAuth(token);
        if (listFeed) stopList = realtime.subscribe();
        store.set({ realtime, error: null });
        refresh();
      },
      (error) => {
        if (cancelled) return;
        store.set({ ...IDLE, status: 'error', stats: { ...IDLE_STATS, status: 'error' }, error });
        if (error?.name === 'LoadError') {
          const again = () => {
            window.removeEventListener('online', again);
            clearTimeout(timer);
            if (!cancelled) setAttempt((n) => n + 1);
          };
          const timer = setTimeout(again, LOAD_RETRY_MS);
          window.addEventListener('online', again);
          retry = again;
        }
        if (error !== told) latest.current.onError?.(error);
      },
    );
    return () => {
      cancelled = true;
      if (retry) window.removeEventListener('online', retry);
      stopList?.();
      realtime?.close();
      store.set(IDLE);
    };
  }, [key, supabase, queryClient, listFeed, store, attempt]);

  const { realtime } = useSyncExternalStore(store.subscribe, store.get, () => IDLE);
  const { accessToken } = options;
  useEffect(() => {
    // The same token again is a no-op in the manager.
    if (realtime && accessToken) realtime.setAuth(accessToken);
  }, [realtime, accessToken]);

  return createElement(Context.Provider, { value: store }, children);
}

function useStore(hook) {
  const store = useContext(Context);
  if (!store) throw new Error(`casino-realtime: ${hook}() must be used inside a <CasinoRealtimeProvider>`);
  return store;
}

/**
 * The provider's manager state: `status` (`idle` when nothing runs: a server render, disabled,
 * not loaded yet; `error` when it could not be made), `staleSince` (since when, in ms since the
 * epoch, the SDK cannot vouch that the cache reflects the server; null when it can), `stats`,
 * `error` and `realtime` (the manager, or null).
 */
export function useRealtimeStatus() {
  const store = useStore('useRealtimeStatus');
  return useSyncExternalStore(store.subscribe, store.get, () => IDLE);
}

/**
 * Joins the detail channel of `resourceId` (a rating slip, a table, a player) while the
 * component is mounted and `enabled` is not false. Nothing happens while `resourceId` is empty
 * or the manager is not running. StrictMode-safe: two subscriptions share one join, and a channel
 * is left a second after its last subscription ends.
 */
export function useRealtimeChannel(resourceId, { enabled = true } = {}) {
  const { realtime } = useRealtimeStatus();
  useEffect(() => {
    // A manager the provider just replaced is closed before this effect runs: its successor
    // comes with the next render.
    if (!realtime || !resourceId || !enabled || realtime.status === 'closed') return undefined;
    return realtime.subscribe({ resourceId });
  }, [realtime, resourceId, enabled]);
}
