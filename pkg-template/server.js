// casino-realtime/server: publishing catalog events from server code (Next.js Server Actions,
// Route Handlers, jobs), Node only. `publishEvent` checks the payload with the same wasm catalog
// the browser SDK validates with, so a bad payload fails here, before the database is asked;
// then it calls `casino_realtime.emit` (supabase/migrations/ in this package) through the app's
// supabase-js client, inside which the database checks it again, stamps `at` with the
// transaction's time when absent, and sends it to every channel the catalog lists.
import { casinoRealtimeError } from './errors.js';
import { loadPlanner, planCacheActions } from './planner.js';

function isNode() {
  return typeof process === 'object' && typeof process.versions?.node === 'string';
}

/**
 * Publishes one catalog event; resolves with the `realtime.messages` ids, one per channel.
 * Throws `UnknownEventError` or `InvalidEventError` (nothing sent), or `PublishError` when the
 * database refuses.
 */
export async function publishEvent(supabase, event, payload) {
  if (!isNode()) {
    throw new TypeError('casino-realtime/server: publishEvent runs in server code (Node), not in a browser');
  }
  if (typeof supabase?.schema !== 'function') {
    throw new TypeError('casino-realtime/server: publishEvent needs a supabase-js client (createClient from @supabase/supabase-js)');
  }
  await loadPlanner();
  // `at` may be left out (the database writes the transaction's time): checked with a stand-in.
  const plain = payload !== null && typeof payload === 'object' && !Array.isArray(payload);
  const checked = plain && payload.at === undefined ? { ...payload, at: new Date().toISOString() } : payload;
  planCacheActions(event, checked);
  const { data, error } = await supabase.schema('casino_realtime').rpc('emit', { event, payload });
  if (error) {
    throw casinoRealtimeError('PublishError', `casino-realtime: the database did not publish ${event}: ${error.message}`, {
      event,
      reason: String(error.code ?? ''),
      cause: error,
    });
  }
  return data;
}
