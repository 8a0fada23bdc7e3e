// casino-realtime: the JS face of the wasm core. The core validates events against the catalog
// and plans cache actions; this file loads it and applies those actions to a TanStack QueryClient.
import init, { planCacheActions as planWithDefaults, CacheRules, CasinoRealtime, __setTabTransport } from './casino_realtime_wasm.js';
import { casinoRealtimeError } from './errors.js';
import { tabTransport } from './tabs.js';

export { CacheRules, CasinoRealtime };
export { ERROR_NAMES, isCasinoRealtimeError } from './errors.js';
export { casinoKeys } from './keys.js';

let loading = null;
let loaded = false;

/**
 * Loads the .wasm once; later calls return the same promise. Without an argument it is fetched
 * from `casino_realtime_wasm_bg.wasm` next to this file (bundlers rewrite that URL), or read from
 * disk in Node; pass a URL, a Response, bytes or a WebAssembly.Module to load it from elsewhere.
 * Rejects with a `LoadError` (its `cause` says why); a later call tries again.
 */
export function initCasinoRealtime(input) {
  if (!loading) {
    loading = Promise.resolve(input === undefined ? defaultWasm() : input)
      .then((source) => init(source === undefined ? undefined : { module_or_path: source }))
      .then(
        () => {
          // Managers share a session with the app's other tabs where the browser can (tabs.js).
          __setTabTransport(tabTransport);
          loaded = true;
        },
        (cause) => {
          loading = null;
          throw casinoRealtimeError('LoadError', `casino-realtime: the .wasm could not be loaded: ${describe(cause)}`, { cause });
        },
      );
  }
  return loading;
}

/**
 * Where the .wasm comes from when initCasinoRealtime() is called with nothing: in a browser or a
 * bundle, the wasm-bindgen glue fetches it from beside itself (bundlers rewrite that URL). In
 * Node (server renders, Route Handlers, Vitest/Jest) `fetch` cannot read a `file:` URL, so it is
 * read from disk. The specifier is not a literal and is marked ignored, so no bundler pulls
 * `node:fs` into a browser build, and a page importing the package unbundled still loads.
 */
async function defaultWasm() {
  if (typeof process !== 'object' || typeof process.versions?.node !== 'string') return undefined;
  const fs = 'node:fs/promises';
  const { readFile } = await import(/* webpackIgnore: true */ /* @vite-ignore */ fs);
  return readFile(new URL('./casino_realtime_wasm_bg.wasm', import.meta.url));
}

function describe(thrown) {
  return thrown instanceof Error ? thrown.message : String(thrown);
}

function notLoaded(name) {
  return casinoRealtimeError('NotInitializedError', `casino-realtime: ${name}() needs the wasm module; await initCasinoRealtime() first`, { function: name });
}

/** Validates an event and returns its cache actions (default rules, or `rules`). Synchronous. */
export function planCacheActions(event, payload, rules) {
  if (!loaded) throw notLoaded('planCacheActions');
  return rules ? rules.plan(event, payload) : planWithDefaults(event, payload);
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
 * Loads the wasm if needed and creates a realtime manager (`new CasinoRealtime(options)` needs
 * the wasm loaded already). With `supabase` (a supabase-js client) the URL, key and token come
 * from it and the manager follows its session until `close()`; with `debug` it is listed in
 * `__casinoRealtime` for the console until `close()`.
 */
export async function createCasinoRealtime(options) {
  await initCasinoRealtime();
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
      for (const cleanup of cleanups) cleanup();
      close();
    };
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
    await initCasinoRealtime();
    actions = planCacheActions(event, payload, options.rules);
  } catch (error) {
    if (options.strict) throw error;
    console.warn(`casino-realtime: invalidateByDomainEvent(${JSON.stringify(String(event))}) invalidated nothing: ${error.message}`);
    options.onError?.(error);
    return;
  }
  return applyCacheActions(queryClient, actions);
}
