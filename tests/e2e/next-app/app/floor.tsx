'use client';
// The pattern the README shows for the App Router: QueryClientProvider and CasinoRealtimeProvider
// in a client component, the QueryClient made once per browser tab, keys from casinoKeys.
import { useEffect, useState } from 'react';
import { QueryClient, QueryClientProvider, useQuery } from '@tanstack/react-query';
import { casinoKeys, isCasinoRealtimeError, type CasinoRealtimeError } from 'casino-realtime';
import { CasinoRealtimeProvider, useRealtimeStatus } from 'casino-realtime/react';

interface Config {
  url: string;
  token: string;
  casinoId: string;
}

function Status() {
  const { status, stats } = useRealtimeStatus();
  return (
    <p>
      status <b id="status">{status}</b> applied <b id="applied">{stats.applied}</b> mode <b id="mode">{stats.mode}</b>
    </p>
  );
}

function Tables({ casinoId }: { casinoId: string }) {
  const [fetches, setFetches] = useState(0);
  useQuery({
    queryKey: casinoKeys.tableContext.tables(casinoId),
    queryFn: async () => {
      setFetches((n) => n + 1);
      return [];
    },
  });
  return (
    <p>
      table list fetched <b id="fetches">{fetches}</b> time(s)
    </p>
  );
}

// The error union narrows by name in a strict app.
function report(error: CasinoRealtimeError) {
  if (error.name === 'ChannelDeniedError') console.warn('refused', error.topic, error.reason);
  else if (isCasinoRealtimeError(error, 'InvalidEventError')) console.warn(error.event, error.field);
}

export function Floor() {
  const [queryClient] = useState(() => new QueryClient());
  // Read in an effect: the server render has no location (and needs none).
  const [config, setConfig] = useState<Config | null>(null);
  useEffect(() => {
    const q = new URLSearchParams(window.location.search);
    setConfig({ url: q.get('url') ?? '', token: q.get('token') ?? '', casinoId: q.get('casino') ?? '' });
  }, []);
  return (
    <QueryClientProvider client={queryClient}>
      <CasinoRealtimeProvider
        enabled={config !== null}
        url={config?.url ?? ''}
        apiKey={config?.token ?? ''}
        accessToken={config?.token}
        casinoId={config?.casinoId ?? ''}
        onError={report}
        rules={{ 'table.deactivated': { extend: [{ type: 'invalidate', queryKey: ['closed-tables', '{casino_id}'] }] } }}
      >
        <Status />
        {config && <Tables casinoId={config.casinoId} />}
      </CasinoRealtimeProvider>
    </QueryClientProvider>
  );
}
