import type { QueryClient } from '@tanstack/react-query';
import type { CasinoRealtime, CasinoRealtimeOptions, RealtimeStats, RealtimeStatus } from './index.js';

/** `useCasinoRealtime`'s options: the manager's, plus the QueryClient (default: the context's). */
export interface UseCasinoRealtimeOptions extends CasinoRealtimeOptions {
  queryClient?: QueryClient;
}

/**
 * The realtime manager for this QueryClient and casino, shared by every component that asks,
 * applying its batches to the client and joined to the casino's list feed. Closed a second after
 * the last component using it unmounts.
 *
 * ```tsx
 * const { realtime, status, stats } = useCasinoRealtime({ url, apiKey, casinoId, accessToken });
 * ```
 */
export function useCasinoRealtime(options: UseCasinoRealtimeOptions): {
  realtime: CasinoRealtime | null;
  status: RealtimeStatus;
  stats: RealtimeStats;
};

/** Joins the detail channel of `resourceId` while the component is mounted (StrictMode-safe). */
export function useRealtimeChannel(realtime: CasinoRealtime | null, resourceId: string | null | undefined): void;
