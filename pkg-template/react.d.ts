import type { ReactNode, ReactElement } from 'react';
import type { QueryClient } from '@tanstack/react-query';
import type {
  CasinoRealtime,
  CasinoRealtimeError,
  CasinoRealtimeOptions,
  RealtimeStats,
  RealtimeStatus,
  SupabaseRealtimeOptions,
} from './index.js';

/** The provider's status: the manager's, or `idle` (nothing runs: a server render, `enabled:
 *  false`, the `.wasm` still loading) or `error` (it could not be made: see `error`). */
export type ProviderStatus = RealtimeStatus | 'idle' | 'error';

/** `<CasinoRealtimeProvider>`'s props: the manager's options (or `supabase` in place of `url`
 *  and `apiKey`), plus what the provider itself does. */
export type CasinoRealtimeProviderProps = (CasinoRealtimeOptions | SupabaseRealtimeOptions) & {
  children?: ReactNode;
  /** False: nothing connects, status `idle` (default true). */
  enabled?: boolean;
  /** Join the casino's list feed for as long as the provider runs (default true). */
  listFeed?: boolean;
  /** The QueryClient batches are applied to (default: the nearest `QueryClientProvider`'s). */
  queryClient?: QueryClient;
};

/**
 * Owns one realtime manager for the tree below it, beside `QueryClientProvider`: options once,
 * batches applied to the QueryClient. A new `accessToken` is sent with `setAuth` (every channel
 * is re-authorized: when the user changes, what the new one may not read is refused); any other
 * option change replaces the manager. Load and option failures become status `error`.
 *
 * ```tsx
 * <QueryClientProvider client={queryClient}>
 *   <CasinoRealtimeProvider supabase={supabase} casinoId={casinoId}>
 *     <Floor />
 *   </CasinoRealtimeProvider>
 * </QueryClientProvider>
 * ```
 */
export function CasinoRealtimeProvider(props: CasinoRealtimeProviderProps): ReactElement;

/** What `useRealtimeStatus()` returns. */
export interface RealtimeState {
  status: ProviderStatus;
  /** Since when (ms since the epoch) the SDK cannot vouch that the cache reflects the server:
   *  a channel not joined, lost, waiting for a token, refused, or a gap not yet replayed or
   *  resynced. `null` when it can (and while idle). */
  staleSince: number | null;
  stats: Omit<RealtimeStats, 'status'> & { status: ProviderStatus };
  /** Why the manager could not be made (status `error`), else null. */
  error: CasinoRealtimeError | null;
  /** The manager, while one runs. */
  realtime: CasinoRealtime | null;
}

/** The provider's status, stats, error and manager; re-renders when they change. */
export function useRealtimeStatus(): RealtimeState;

/** Joins the detail channel of `resourceId` while mounted (nothing while it is empty, or
 *  `enabled` is false). */
export function useRealtimeChannel(resourceId: string | null | undefined, options?: { enabled?: boolean }): void;
