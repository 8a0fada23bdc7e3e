// casino-realtime/server: publishing catalog events from server code (Node only).
import type { EventName, EventPayloads } from './catalog.js';

/** A payload to publish: as the catalog gives it, `at` and `event` optional (the database
 *  writes `at` = the publishing transaction's time, the right replay point, and `event`). */
export type PublishPayload<E extends EventName> = Omit<EventPayloads[E], 'at' | 'event'> & {
  at?: string;
  event?: E;
};

/** What `publishEvent` needs of a supabase-js client (`createClient(...)` from
 *  `@supabase/supabase-js`, acting as the caller whose role the RLS policies check). */
export interface SupabaseRpcClientLike {
  schema(schema: 'casino_realtime'): {
    rpc(fn: 'emit', args: { event: string; payload: unknown }): PromiseLike<{
      data: unknown;
      error: { message: string; code?: string; details?: string | null; hint?: string | null } | null;
    }>;
  };
}

/**
 * Publishes one catalog event inside the database (`casino_realtime.emit`, from this package's
 * `supabase/migrations/`) on every channel the catalog lists for it; resolves with the
 * `realtime.messages` ids, one per channel. The payload is checked with the SDK's own catalog
 * first: `UnknownEventError` or `InvalidEventError` (thrown, nothing sent) name the event and
 * field. `PublishError` (`reason`: the database's code) when the database refuses: `42501` the
 * caller's role may not publish there, `PGRST202` the function is not deployed or its schema is
 * not exposed.
 *
 * @example
 * // app/actions.ts
 * 'use server';
 * import { publishEvent } from 'casino-realtime/server';
 * export async function closeSlip(slip: Slip) {
 *   const supabase = await createServerClient();   // the signed-in staff member
 *   await publishEvent(supabase, 'rating_slip.closed', { ...slip, status: 'closed' });
 * }
 */
export function publishEvent<E extends EventName>(
  supabase: SupabaseRpcClientLike,
  event: E,
  payload: PublishPayload<E>,
): Promise<string[]>;
