import type {
  CacheAction,
  CacheBatch,
  CasinoRealtimeOptions,
  RealtimeInspection,
  RealtimeStats,
  RealtimeStatus,
  RefetchType,
  RuleOverrides,
} from './casino_realtime_plan.js';
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
} from './casino_realtime_plan.js';

/**
 * A realtime manager for one casino: joins its channels, validates, de-duplicates and batches
 * events, and calls `onBatch` once per batch of TanStack Query cache actions. It is a thin client
 * of the session's host (the package's `SharedWorker`, a leading tab, or this page): every call
 * means the same wherever the host runs (`stats().mode` says where).
 *
 * ```ts
 * const realtime = new CasinoRealtime({ url, apiKey, casinoId, accessToken,
 *   onBatch: (batch) => applyCacheBatch(queryClient, batch),
 *   onStatus: (status) => setBadge(status) });
 * await realtime.ready;                                   // the host accepted the options
 * const unsubscribe = realtime.subscribe();               // the casino's list feed
 * const unsubscribeSlip = realtime.subscribe({ resourceId: slipId }); // a detail channel
 * ```
 */
export class CasinoRealtime {
  /**
   * Creates the manager and reaches its host; nothing connects to the server until the first
   * `subscribe()`. Throws `InvalidOptionsError` for what the page itself reads (not an object, a
   * callback that is not a function, a getter that throws); the host checks the rest: see
   * `ready`.
   */
  constructor(options: CasinoRealtimeOptions);
  /**
   * Resolves when the host has read and accepted the options; rejects with the
   * `InvalidOptionsError`, `InvalidRulesError` or `LoadError` that stopped it (the manager is
   * then closed, and `onError` was told too).
   */
  readonly ready: Promise<void>;
  /**
   * Subscribes to the casino's list feed, or to the detail channel of `resourceId`, and returns
   * a function that ends the subscription (safe to call twice, fits a React effect cleanup). Two
   * subscriptions to one channel share its join, in this tab or across tabs; it is left a second
   * after the last ends. Throws `ClosedError` after `close()`, and a `TypeError` for options that
   * are not `{ resourceId?: string }`.
   */
  subscribe(options?: { resourceId?: string }): () => void;
  /**
   * A new access token (after the app refreshed its session): joined channels get it at once,
   * and channels waiting for a token or refused join again with it. Throws a `TypeError` for
   * anything but a string.
   */
  setAuth(token: string): void;
  /**
   * Asks the host to deliver this manager's pending batch now instead of at the end of its
   * window; resolves once that batch (if anything was pending) was handed to `onBatch`.
   */
  flush(): Promise<void>;
  /** The current status, as last reported (`onStatus`). */
  readonly status: RealtimeStatus;
  /**
   * Counts and channel states as of the host's last snapshot (sent at most every 200 ms after a
   * change), with this manager's current `status`, `mode` and `shared`.
   */
  stats(): RealtimeStats;
  /**
   * With `debug` (or a `logger`): the recent events and batches, oldest first, as of the host's
   * last snapshot; `null` otherwise, and after `close()`.
   */
  inspect(): RealtimeInspection | null;
  /**
   * Ends this manager: the host forgets it (what was pending for it is dropped), listeners are
   * removed, `onStatus` is told `closed`. Final: later calls do nothing, `subscribe()` throws
   * `ClosedError`.
   */
  close(): void;
}

/** The default rules with an app's changes, validated when constructed (`InvalidRulesError`).
 *  Needs the planner loaded (`await initCasinoRealtime()`), as `planCacheActions` does. */
export class CacheRules {
  constructor(overrides: RuleOverrides);
  /** As `planCacheActions`, with these rules. */
  plan<E extends EventName>(event: E, payload: EventPayloads[E]): CacheAction[];
  /**
   * Releases the rules' wasm memory now instead of when they are garbage-collected; later calls
   * on them throw. Rarely needed.
   */
  free(): void;
}

/** Where a `.wasm` module comes from: a URL (resolved against the page), a `Response`, or bytes. */
export type WasmSource = string | URL | Request | Response | ArrayBuffer | ArrayBufferView;

/** `initCasinoRealtime`'s argument: the host module's source, or each module's. */
export type InitInput = WasmSource | { host?: WasmSource; debug?: WasmSource; plan?: WasmSource };

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
 * Says where the package's `.wasm` modules are, when the app serves them itself (one source is
 * the session host's, the module the shared worker and a hosting page load; or
 * `{ host, debug, plan }`), and loads the cache planner so `planCacheActions` and `CacheRules`
 * work synchronously. Managers need none of it: each host fetches its own module, from the
 * source given here or the default beside the package. Rejects with a `LoadError` (its `cause`
 * says why), or a `TypeError` for a source that is none; a later call tries again.
 */
export function initCasinoRealtime(input?: InitInput | Promise<InitInput>): Promise<void>;

/**
 * Validates `payload` as catalog event `event` and returns its cache actions: the default rules,
 * or `rules`. Synchronous; throws `NotInitializedError` before `initCasinoRealtime()` (which
 * loads the planner) resolved,
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
 * Creates a realtime manager, from options or from the app's supabase-js client, and resolves
 * once its host has accepted the options; rejects with the `InvalidOptionsError`,
 * `InvalidRulesError` or `LoadError` that stopped it.
 *
 * ```ts
 * const realtime = await createCasinoRealtime({ supabase, casinoId,
 *   onBatch: (batch) => applyCacheBatch(queryClient, batch) });
 * const unsubscribe = realtime.subscribe();
 * ```
 */
export function createCasinoRealtime(options: CasinoRealtimeOptions | SupabaseRealtimeOptions): Promise<CasinoRealtime>;
