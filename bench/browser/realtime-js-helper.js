// What an app writes around @supabase/realtime-js to do the SDK's job, as a typical app would:
// skip events seen before (a Set of ids), map each event to its query keys with a switch, and
// debounce the invalidations by 250 ms. The benchmark runs it and measures its shipped size.
import { RealtimeClient } from '@supabase/realtime-js';

// A typical app's hand-written glue for realtime-js: skip events seen before (a Set of ids),
// map each event to its query keys with a switch, and debounce invalidations by 250 ms.
function keysFor(event, p) {
  switch (event) {
    case 'visit.created':
    case 'visit.checked_in':
      return [['visit', 'list', p.casino_id], ['visit', 'by-player', p.player_id]];
    case 'visit.closed':
    case 'visit.checked_out':
      return [['visit', 'list', p.casino_id], ['visit', 'detail', p.visit_id], ['visit', 'by-player', p.player_id]];
    case 'visit.converted':
      return [['visit', 'detail', p.visit_id], ['visit', 'list', p.casino_id]];
    case 'rating_slip.created':
      return [['rating-slip', 'list', p.casino_id], ['rating-slip', 'by-visit', p.visit_id]];
    case 'rating_slip.updated':
      return [['rating-slip', 'detail', p.rating_slip_id], ['rating-slip', 'by-visit', p.visit_id]];
    case 'rating_slip.closed':
      return [['rating-slip', 'detail', p.rating_slip_id], ['rating-slip', 'list', p.casino_id], ['rating-slip', 'by-visit', p.visit_id]];
    case 'loyalty.ledger_appended':
      return [['loyalty', 'ledger', 'by-player', p.player_id], ['player', 'loyalty', 'balance', p.player_id, p.casino_id]];
    case 'table.inventory_open':
    case 'table.inventory_close':
      return [['table-context', 'inventory', p.casino_id], ['table-context', 'table', p.table_id, 'inventory']];
    case 'table.inventory_rundown_recorded':
      return [['table-context', 'table', p.table_id, 'inventory']];
    case 'table.fill_requested':
    case 'table.fill_completed':
      return [['table-context', 'fills', p.casino_id], ['table-context', 'table', p.table_id, 'custody']];
    case 'table.credit_requested':
    case 'table.credit_completed':
      return [['table-context', 'credits', p.casino_id], ['table-context', 'table', p.table_id, 'custody']];
    case 'table.drop_removed':
    case 'table.drop_delivered':
      return [['table-context', 'drops', p.casino_id], ['table-context', 'table', p.table_id, 'custody']];
    case 'table.activated':
    case 'table.deactivated':
      return [['table-context', 'tables', p.casino_id], ['table-context', 'table', p.table_id]];
    case 'floor_layout.activated':
      return [['floor-layout', 'active', p.casino_id], ['table-context', 'tables', p.casino_id]];
    case 'finance.transaction_created':
      return [['finance', 'transactions', p.player_id], ['finance', 'gaming-day', p.casino_id, p.gaming_day]];
    default:
      return [];
  }
}

export async function realtimeJs({ url, casino, queryClient, token, batched }) {
  const client = new RealtimeClient(url, { params: { apikey: 'key' }, accessToken: async () => token });
  const seen = new Set();
  const pending = new Map();
  const balances = new Map();
  let timer = null;
  let opened = 0;
  const flush = () => {
    timer = null;
    for (const key of pending.values()) queryClient.invalidateQueries({ queryKey: key, refetchType: 'active' });
    for (const [key, balance] of balances) queryClient.setQueryData(JSON.parse(key), balance);
    batched(pending.size, balances.size, performance.now() - opened);
    pending.clear();
    balances.clear();
  };
  await new Promise((resolve) => {
    client
      .channel(casino, { config: { private: true } })
      .on('broadcast', { event: '*' }, ({ event, payload, meta }) => {
        const id = meta?.id ?? `${event}:${payload.at}`;
        if (seen.has(id)) return;
        seen.add(id);
        if (payload.casino_id !== casino) return;
        if (event === 'loyalty.balance_updated') {
          balances.set(JSON.stringify(['player', 'loyalty', 'balance', payload.player_id, payload.casino_id]), payload.balance);
        } else {
          for (const key of keysFor(event, payload)) pending.set(JSON.stringify(key), key);
        }
        if (timer === null) opened = performance.now();
        clearTimeout(timer);
        timer = setTimeout(flush, 250);
      })
      .subscribe((status) => status === 'SUBSCRIBED' && resolve());
  });
}

