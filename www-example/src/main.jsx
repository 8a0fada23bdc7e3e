import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { CasinoRealtimeProvider } from 'casino-realtime/react';
import { App } from './App.jsx';
import { DEVSERVER, anonKey, devToken } from './api.js';

// ?casino=<uuid> picks the floor's casino; ?tokenCasino=<uuid> signs in as staff of another one
// (the connection badge then says "denied"); ?inspect shows the SDK's inspector (`debug`: such a
// manager runs its own session instead of sharing the other tabs' one).
// ?table=<label> shows that table alone, as a second screen would: only its channel, no list
// feed. Open several tabs: they share one connection (the badge's tooltip says how).
const params = new URLSearchParams(location.search);
const inspect = params.has('inspect');
const table = params.get('table');
const casinoId = params.get('casino') ?? 'c0ffee00-ca51-4000-8000-000000000001';
const tokenCasino = params.get('tokenCasino') ?? casinoId;
const queryClient = new QueryClient({ defaultOptions: { queries: { staleTime: 60_000 } } });

let accessToken;
let apiKey;
try {
  accessToken = await devToken({ staff_role: 'pit_boss', casino_id: tokenCasino, ttl_s: 12 * 3600 });
  // The project's key is the same in every tab, as a Supabase project's is: the tabs then share
  // one connection (`stats().mode` says how).
  apiKey = await anonKey();
} catch (error) {
  document.getElementById('root').textContent = `Cannot reach the dev server at ${DEVSERVER} (${error.message}). Is it running? Reload when it is.`;
  throw error;
}
// Counted here, where every batch passes: the dashboard shows keys per batch.
const batchStats = { batches: 0, keys: 0 };
const onBatch = (batch) => {
  // The end-to-end tests read every batch of a page (they create the list).
  window.__batches?.push(batch);
  batchStats.batches += 1;
  batchStats.keys += batch.actions.length;
};

// The dev server's project URL, as an app passes its Supabase URL (the realtime endpoint is
// derived from it).
createRoot(document.getElementById('root')).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <CasinoRealtimeProvider url={DEVSERVER} apiKey={apiKey} accessToken={accessToken} casinoId={casinoId} onBatch={onBatch} debug={inspect} listFeed={!table}>
        <App casinoId={casinoId} batchStats={batchStats} only={table} />
      </CasinoRealtimeProvider>
    </QueryClientProvider>
  </StrictMode>,
);
