// casino-realtime: the package's entry. A manager (`CasinoRealtime`, client.js) is a thin client
// of the session's host, which runs in the package's SharedWorker, a leading tab or the page
// itself (transport.js); the cache planner is a small module of its own (planner.js). This file
// wires them into a TanStack QueryClient. Importing it loads nothing.
import { CasinoRealtime } from './client.js';
import { CacheRules, loadPlanner, planCacheActions } from './planner.js';
import { setSources } from './sources.js';

export { CacheRules, CasinoRealtime, planCacheActions };
export { ERROR_NAMES, isCasinoRealtimeError } from './errors.js';
export { casinoKeys } from './keys.js';

/**
 * Says where the package's .wasm modules are, when the app serves them itself (one source is the
 * host's; or `{ host, debug, plan }`, each a URL, a `Response` or bytes), and loads the cache
 * planner, so `planCacheActions` and `CacheRules` can be used synchronously. Managers do not need
 * it: each host loads its own module (the shared worker, a page that hosts), from the source given
 * here or the default beside the package. Rejects with a `LoadError` (its `cause` says why) or a
 * `TypeError` for a source that is none; a later call tries again.
 */
export async function initCasinoRealtime(input) {
  await setSources(input);
  await loadPlanner();
}

function isPlainObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Whether `keys` (JSON texts of query keys of scalars, as every rule writes them) holds a prefix
 * of `queryKey`: TanStack's match for `invalidateQueries({ queryKey })`, where a key matches every
 * query it prefixes, element by element with `===` (a scalar never matches an object).
 */
function prefixIn(keys, queryKey) {
  if (keys.has('[]')) return true;
  let text = '[';
  for (let i = 0; i < queryKey.length; i++) {
    const part = queryKey[i];
    if (part === undefined || (part !== null && typeof part === 'object')) return false;
    text += (i ? ',' : '') + JSON.stringify(part);
    if (keys.has(text + ']')) return true;
  }
  return false;
}

/**
 * Applies cache actions to a QueryClient now, in order. Invalidations use their `refetchType`; a
 * merge touches only a cached object (a cached value that is not an object is invalidated
 * instead). Resolves when the refetches it started have settled.
 *
 * A run of invalidations is applied as one `invalidateQueries` per `refetchType`, whose predicate
 * matches what each key would (its prefixes): one pass over the cache instead of one per key,
 * and a query matched by several keys is refetched once.
 */
export function applyCacheActions(queryClient, actions) {
  const refetches = [];
  let pending = null; // refetchType -> Set of key texts, for the invalidations not yet applied
  const invalidatePending = () => {
    if (!pending) return;
    for (const [refetchType, keys] of pending) {
      const predicate = (query) => prefixIn(keys, query.queryKey);
      refetches.push(queryClient.invalidateQueries({ predicate, refetchType }));
    }
    pending = null;
  };
  for (const action of actions) {
    if (action.type === 'invalidate') {
      pending ??= new Map();
      let keys = pending.get(action.refetchType);
      if (!keys) pending.set(action.refetchType, (keys = new Set()));
      keys.add(JSON.stringify(action.queryKey));
      continue;
    }
    // A write after invalidations: those come first, as listed.
    invalidatePending();
    if (action.type === 'setQueryData') {
      queryClient.setQueryData(action.queryKey, action.data);
    } else if (action.type === 'mergeQueryData') {
      const cached = queryClient.getQueryData(action.queryKey);
      if (isPlainObject(cached)) {
        queryClient.setQueryData(action.queryKey, { ...cached, ...action.data });
      } else if (cached !== undefined) {
        refetches.push(queryClient.invalidateQueries({ queryKey: action.queryKey, exact: true, refetchType: 'active' }));
      }
    }
  }
  invalidatePending();
  return Promise.all(refetches).then(() => undefined);
}

/** Applies one `onBatch` batch to a QueryClient. */
export function applyCacheBatch(queryClient, batch) {
  return applyCacheActions(queryClient, batch.actions);
}

/**
 * A manager's options from a supabase-js client: its realtime endpoint and key, and its session's
 * token (falling back to the key, as supabase-js does). Options given beside `supabase` win.
 */
function supabaseOptions({ supabase, ...options }) {
  const apiKey = options.apiKey ?? supabase.supabaseKey;
  const url = options.url ?? String(supabase.realtimeUrl ?? supabase.supabaseUrl ?? '');
  const sessionToken = async () => {
    // A client built with `accessToken` (third-party auth) has no `auth` to ask.
    if (typeof supabase.accessToken === 'function') return (await supabase.accessToken()) ?? apiKey;
    const { data } = await supabase.auth.getSession();
    return data.session?.access_token ?? apiKey;
  };
  return { ...options, url, apiKey, getAccessToken: options.getAccessToken ?? sessionToken };
}

/**
 * Follows the client's session as supabase-js's own realtime client does: a new or refreshed
 * token goes to `setAuth` (Supabase re-checks every channel against it), a sign-out falls back to
 * the key. Returns what stops following.
 */
function followSession(realtime, supabase, apiKey) {
  if (typeof supabase.accessToken === 'function' || !supabase.auth?.onAuthStateChange) return () => {};
  let current;
  const { data } = supabase.auth.onAuthStateChange((event, session) => {
    const token = event === 'SIGNED_OUT' ? apiKey : session?.access_token;
    if (!token || token === current) return;
    current = token;
    realtime.setAuth(token);
  });
  return () => data.subscription.unsubscribe();
}

/**
 * With `debug`, the manager is reachable from the browser console as long as it is open:
 * `__casinoRealtime.inspect()` gives every such manager's recent events and batches.
 */
function exposeForConsole(realtime, casinoId) {
  const registry = (globalThis.__casinoRealtime ??= {
    managers: [],
    inspect() {
      return this.managers.map(({ casinoId: id, realtime: r }) => ({ casinoId: id, ...r.inspect() }));
    },
  });
  const entry = { casinoId, realtime };
  registry.managers.push(entry);
  return () => {
    const i = registry.managers.indexOf(entry);
    if (i >= 0) registry.managers.splice(i, 1);
  };
}

/**
 * Creates a realtime manager, from options or from the app's supabase-js client, and resolves
 * once its host has accepted the options (rejects with the `InvalidOptionsError`,
 * `InvalidRulesError` or `LoadError` that stopped it). With `supabase` the URL, key and token come
 * from it and the manager follows its session until `close()`; with `debug` it is listed in
 * `__casinoRealtime` for the console until `close()`.
 */
export async function createCasinoRealtime(options) {
  const supabase = options?.supabase;
  const resolved = supabase ? supabaseOptions(options) : options;
  const realtime = new CasinoRealtime(resolved);
  const cleanups = [];
  // A `getAccessToken` of the app's own wins over the client's session.
  if (supabase && !options.getAccessToken) cleanups.push(followSession(realtime, supabase, resolved.apiKey));
  if (options?.debug) cleanups.push(exposeForConsole(realtime, options.casinoId));
  if (cleanups.length) {
    const close = realtime.close.bind(realtime);
    // An own property over the prototype's: closing also undoes what was set up here.
    realtime.close = () => {
      for (const cleanup of cleanups.splice(0)) cleanup();
      close();
    };
  }
  try {
    await realtime.ready;
  } catch (error) {
    realtime.close();
    throw error;
  }
  return realtime;
}

/**
 * The mapping realtime uses, for mutation success handlers: validates the payload, then applies
 * its actions immediately (no batching window).
 *
 *   onSuccess: (slip) => invalidateByDomainEvent(queryClient, 'rating_slip.closed', slip)
 *
 * A write that was saved must not end as a failed mutation: by default a payload that is not a
 * catalog event (or a .wasm that cannot load) is reported (a console warning, and `onError` when
 * given) and nothing is invalidated; `{ strict: true }` rejects instead.
 */
export async function invalidateByDomainEvent(queryClient, event, payload, options = {}) {
  let actions;
  try {
    await loadPlanner();
    actions = planCacheActions(event, payload, options.rules);
  } catch (error) {
    if (options.strict) throw error;
    console.warn(`casino-realtime: invalidateByDomainEvent(${JSON.stringify(String(event))}) invalidated nothing: ${error.message}`);
    options.onError?.(error);
    return;
  }
  return applyCacheActions(queryClient, actions);
}
