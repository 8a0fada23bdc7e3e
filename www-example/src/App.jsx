import { useEffect, useRef, useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { useCasinoRealtime, useRealtimeChannel } from 'casino-realtime/react';
import { fetchCount, get } from './api.js';
import { Counters } from './Counters.jsx';

function money(cents) {
  return `$${(cents / 100).toLocaleString('en-US')}`;
}

function TableCard({ table, casinoId, realtime }) {
  useRealtimeChannel(realtime, table.id);
  const { data } = useQuery({
    queryKey: ['table-context', 'table', table.id, 'custody'],
    queryFn: () => get(`tables/${table.id}`),
    initialData: table,
  });
  return (
    <div className={`table ${data.active ? '' : 'inactive'}`} data-testid={`table-${data.label}`}>
      <div className="label">{data.label} <small>{data.game}</small></div>
      <div className="pit">{data.pit} · {data.open_slips} slip(s)</div>
      <div className="custody">
        <span>fills <b data-testid="fills">{data.fills}</b></span>
        <span>credits <b>{data.credits}</b></span>
        <span>drops <b>{data.drops}</b></span>
      </div>
      {data.fill_pending && <div className="pending">fill requested: {money(data.fill_pending.amount_cents)}</div>}
      {data.credit_pending && <div className="pending">credit requested: {money(data.credit_pending.amount_cents)}</div>}
      {data.drop_pending && <div className="pending">drop box out: {data.drop_pending}</div>}
      {!data.active && <div className="pending">closed</div>}
      <span hidden>{casinoId}</span>
    </div>
  );
}

function SlipRow({ slip }) {
  const { data } = useQuery({
    queryKey: ['rating-slip', 'detail', slip.id],
    queryFn: () => get(`slips/${slip.id}`),
    initialData: slip,
  });
  return (
    <tr data-testid="slip">
      <td>{data.table_label}</td>
      <td>{data.game_type}</td>
      <td className="num">{data.minutes_played} min</td>
      <td className="num">${Number(data.average_bet).toFixed(2)}</td>
      <td>{data.status}</td>
    </tr>
  );
}

function Balance({ player, casinoId, realtime }) {
  // Balances are published on the player's channel only.
  useRealtimeChannel(realtime, player.id);
  const { data } = useQuery({
    queryKey: ['player', 'loyalty', 'balance', player.id, casinoId],
    queryFn: async () => (await get(`players/${player.id}`)).balance,
    initialData: player.balance,
  });
  return (
    <tr data-player={player.id}>
      <td>{player.id.slice(0, 8)}</td>
      <td>{player.tier}</td>
      <td className="num" data-testid="balance">{data.toLocaleString('en-US')}</td>
    </tr>
  );
}

export function App({ realtime: options, casinoId }) {
  const batchStats = useRef({ batches: 0, keys: 0 });
  const { realtime, status, stats } = useCasinoRealtime({
    ...options,
    onBatch: (batch) => {
      batchStats.current.batches += 1;
      batchStats.current.keys += batch.actions.length;
    },
  });
  const tables = useQuery({ queryKey: ['table-context', 'tables', casinoId], queryFn: () => get('tables') });
  const slips = useQuery({ queryKey: ['rating-slip', 'list', casinoId], queryFn: () => get('slips') });
  const visits = useQuery({ queryKey: ['visit', 'list', casinoId], queryFn: () => get('visits') });
  const players = useQuery({ queryKey: ['players', casinoId], queryFn: () => get('players') });
  // For the end-to-end tests: the manager's counters.
  useEffect(() => {
    window.__realtimeStats = () => realtime?.stats();
  }, [realtime]);
  const [, tick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => tick((n) => n + 1), 1000);
    return () => clearInterval(timer);
  }, []);

  return (
    <main>
      <header>
        <h1>Casino floor <small>{casinoId}</small></h1>
        <span className={`badge ${status}`} data-testid="status">{status}</span>
      </header>
      <Counters stats={stats} batches={batchStats.current} fetches={fetchCount.value} />
      <section>
        <h2>Tables and chip custody</h2>
        <div className="tables" data-testid="tables">
          {(tables.data ?? []).map((t) => <TableCard key={t.id} table={t} casinoId={casinoId} realtime={realtime} />)}
        </div>
      </section>
      <div className="columns">
        <section>
          <h2>Open rating slips <small data-testid="slip-count">{slips.data?.length ?? 0}</small></h2>
          <table><tbody>{(slips.data ?? []).map((s) => <SlipRow key={s.id} slip={s} />)}</tbody></table>
        </section>
        <section>
          <h2>Visits <small data-testid="visit-count">{visits.data?.length ?? 0}</small></h2>
          <table><tbody>{(visits.data ?? []).slice(0, 12).map((v) => (
            <tr key={v.id}><td>{v.visit_kind.replaceAll('_', ' ')}</td><td>{v.player_id ? v.player_id.slice(0, 8) : 'ghost'}</td><td>{v.rating_slip_id ? 'rated' : ''}</td></tr>
          ))}</tbody></table>
        </section>
        <section>
          <h2>Loyalty balances</h2>
          <table><tbody>{(players.data ?? []).slice(0, 12).map((p) => <Balance key={p.id} player={p} casinoId={casinoId} realtime={realtime} />)}</tbody></table>
        </section>
      </div>
    </main>
  );
}
