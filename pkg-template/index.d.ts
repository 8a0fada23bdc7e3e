import type {
  CacheAction,
  CacheBatch,
  CacheRules,
  CasinoRealtime,
  CasinoRealtimeOptions,
  InitInput,
  RefetchType,
} from './casino_realtime_wasm.js';
import type { EventName, EventPayloads } from './catalog.js';
import type { CasinoRealtimeError } from './errors.js';

export type * from './catalog.js';
export type * from './errors.js';
export { ERROR_NAMES, isCasinoRealtimeError } from './errors.js';
export { casinoKeys } from './keys.js';
export type {
  CacheAction,
  CacheBatch,
  CasinoRealtimeOptions,
  RealtimeChannelState,
  RealtimeStats,
  RealtimeStatus,
  InitInput,
  InspectedBatch,
  InspectedEvent,
  RealtimeInspection,
  RefetchType,
  RuleAction,
  RuleChange,
  RuleField,
  RuleKey,
  RuleLiteral,
  RuleOverrides,
  RulePlaceholder,
} from './casino_realtime_wasm.js';
export { CacheRules, CasinoRealtime } from './casino_realtime_wasm.js';

/** The part of TanStack Query's `QueryClient` this package uses (v5). */
export interface QueryClientLike {
  invalidateQueries(filters: {
    queryKey?: readonly unknown[];
    exact?: boolean;
    predicate?: (query: { queryKey: readonly unknown[] }) => boolean;
    refetchType?: RefetchType;
  }): Promise<void>;
  setQueryData(queryKey: readonly unknown[], data: unknown): unknown;
  getQueryData(queryKey: readonly unknown[]): unknown;
}

/**
 * Loads the `.wasm` once. Without an argument it is fetched from `casino_realtime_wasm_bg.wasm`
 * beside the package's JS (bundlers rewrite that URL), or read from disk in Node; pass a URL,
 * Response, bytes or a `WebAssembly.Module` to load it from elsewhere. Rejects with a
 * `LoadError`; a later call tries again.
 */
export function initCasinoRealtime(input?: InitInput | Promise<InitInput>): Promise<void>;

/**
 * Validates `payload` as catalog event `event` and returns its cache actions: the default rules,
 * or `rules`. Synchronous; throws `NotInitializedError` before `initCasinoRealtime()` resolved,
 * and a `CasinoRealtimeError` (`UnknownEventError`, `InvalidEventError`) for bad input.
 */
export function planCacheActions<E extends EventName>(event: E, payload: EventPayloads[E], rules?: CacheRules): CacheAction[];

/**
 * Applies cache actions to a QueryClient now; resolves when the refetches it started settle.
 */
export function applyCacheActions(queryClient: QueryClientLike, actions: readonly CacheAction[]): Promise<void>;

/** `invalidateByDomainEvent`'s options. */
export interface InvalidateOptions {
  /** The rules to plan with (default: the default rules). */
  rules?: CacheRules;
  /** Reject with the error when the payload is not a catalog event (default false: warn, report
   *  to `onError`, invalidate nothing and resolve, so a saved write stays a successful mutation). */
  strict?: boolean;
  /** Told of a payload that could not be planned (non-strict mode). */
  onError?: (error: CasinoRealtimeError) => void;
}

/**
 * Validates the payload and applies its cache actions immediately, as realtime would: for
 * mutation `onSuccess` handlers. The payload must be a catalog event (build it from the row the
 * mutation returned, see the README). A payload that is not one is reported (console warning,
 * `options.onError`) and invalidates nothing, and the promise still resolves: the write was saved.
 * With `{ strict: true }` it rejects with the `CasinoRealtimeError` instead.
 *
 * ```ts
 * useMutation({ mutationFn: closeSlip,
 *   onSuccess: (slip) => invalidateByDomainEvent(queryClient, "rating_slip.closed", slip) });
 * ```
 */
export function invalidateByDomainEvent<E extends EventName>(
  queryClient: QueryClientLike,
  event: E,
  payload: EventPayloads[E],
  options?: InvalidateOptions,
): Promise<void>;

/** Applies one `onBatch` batch to a QueryClient; resolves when its refetches settle. */
export function applyCacheBatch(queryClient: QueryClientLike, batch: CacheBatch): Promise<void>;

/** The part of a supabase-js client (v2) this package uses: its auth, to follow the session. */
export interface SupabaseClientLike {
  auth: {
    getSession(): Promise<{ data: { session: { access_token: string } | null } }>;
    onAuthStateChange(callback: (event: string, session: { access_token: string } | null) => void): {
      data: { subscription: { unsubscribe(): void } };
    };
  };
}

/**
 * A manager's options taken from a supabase-js client: its realtime endpoint (from the project
 * URL) and key, its session's token for every join, and its session followed (`SIGNED_IN`,
 * `TOKEN_REFRESHED` → `setAuth`; `SIGNED_OUT` → the key, as supabase-js does). `url`, `apiKey`
 * and `getAccessToken` given beside it win.
 */
export type SupabaseRealtimeOptions = Omit<CasinoRealtimeOptions, 'url' | 'apiKey'> & {
  supabase: SupabaseClientLike;
  url?: string;
  apiKey?: string;
};

/**
 * Loads the `.wasm` if needed and creates a realtime manager, from options or from the app's
 * supabase-js client.
 *
 * ```ts
 * const realtime = await createCasinoRealtime({ supabase, casinoId,
 *   onBatch: (batch) => applyCacheBatch(queryClient, batch) });
 * const unsubscribe = realtime.subscribe();
 * ```
 */
export function createCasinoRealtime(options: CasinoRealtimeOptions | SupabaseRealtimeOptions): Promise<CasinoRealtime>;
