import { useEffect, useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { casinoKeys } from 'casino-realtime';
import { useRealtimeChannel, useRealtimeStatus } from 'casino-realtime/react';
import { fetchCount, get } from './api.js';
import { Counters } from './Counters.jsx';
import { Inspector } from './Inspector.jsx';

function money(cents) {
  return `$${(cents / 100).toLocaleString('en-US')}`;
}

// Every key comes from casinoKeys, the factory generated from the rules: a key the events do not
// keep fresh cannot be written here. What a card shows is read only under keys events refresh:
// custody under the table's key, open slips from the slip list.
function TableCard({ table, casinoId, openSlips, stale }) {
  useRealtimeChannel(table.id);
  const { data } = useQuery({
    queryKey: casinoKeys.tableContext.table.custody(table.id),
    queryFn: () => get(`tables/${table.id}`),
    initialData: table,
  });
  return (
    <div className={`table ${data.active ? '' : 'inactive'} ${stale ? 'stale' : ''}`} data-testid={`table-${data.label}`}>
      <div className="label">{data.label} <small>{data.game}</small></div>
      <div className="pit">{data.pit} · <span data-testid="open-slips">{openSlips}</span> slip(s)</div>
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
    queryKey: casinoKeys.ratingSlip.detail(slip.id),
    queryFn: () => get(`slips/${slip.id}`),
    initialData: slip,
  });
  return (
    <tr data-testid="slip" data-slip={slip.id}>
      <td>{data.table_label}</td>
      <td>{data.game_type}</td>
      <td className="num">{data.minutes_played} min</td>
      <td className="num">${Number(data.average_bet).toFixed(2)}</td>
      <td>{data.status}</td>
    </tr>
  );
}

function Balance({ player, casinoId }) {
  // Balances are published on the player's channel only.
  useRealtimeChannel(player.id);
  const { data } = useQuery({
    queryKey: casinoKeys.player.loyalty.balance(player.id, casinoId),
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

export function App({ casinoId, batchStats, only }) {
  const { realtime, status, stats, staleSince } = useRealtimeStatus();
  // A channel's own staleness, for its panel (a detail channel can be refused alone).
  const staleChannel = (resourceId) =>
    stats.channels.find((c) => c.topic === `realtime:${casinoId}:${resourceId}`)?.staleSince != null;
  const tables = useQuery({ queryKey: casinoKeys.tableContext.tables(casinoId), queryFn: () => get('tables') });
  const slips = useQuery({ queryKey: casinoKeys.ratingSlip.list(casinoId), queryFn: () => get('slips') });
  const visits = useQuery({ queryKey: casinoKeys.visit.list(casinoId), queryFn: () => get('visits') });
  // The roster is fixed for the floor's life: no event changes it, so no rule key is needed.
  const players = useQuery({ queryKey: ['players', casinoId], queryFn: () => get('players'), staleTime: Infinity });
  const openSlips = (tableId) => (slips.data ?? []).filter((s) => s.table_id === tableId).length;
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
    <main className={staleSince ? 'stale' : ''}>
      <header>
        <h1>Casino floor <small>{casinoId}</small></h1>
        <span className={`badge ${status}`} data-testid="status" title={stats.mode ? `session: ${stats.mode}` : ''}>{status}</span>
        {staleSince && (
          <span className="stale-since" data-testid="stale">
            Data may be stale since {new Date(staleSince).toLocaleTimeString('en-GB')} ({Math.max(0, Math.round((Date.now() - staleSince) / 1000))} s)
          </span>
        )}
      </header>
      <Counters stats={stats} batches={batchStats} fetches={fetchCount.value} />
      <Inspector realtime={realtime} />
      <section>
        <h2>Tables and chip custody</h2>
        <div className="tables" data-testid="tables">
          {(tables.data ?? []).filter((t) => !only || t.label === only).map((t) => <TableCard key={t.id} table={t} casinoId={casinoId} openSlips={openSlips(t.id)} stale={staleChannel(t.id)} />)}
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
            <tr key={v.id} data-testid="visit" data-visit={v.id}><td>{v.visit_kind.replaceAll('_', ' ')}</td><td>{v.player_id ? v.player_id.slice(0, 8) : 'ghost'}</td><td>{v.started_at.slice(11, 19)}</td></tr>
          ))}</tbody></table>
        </section>
        {!only && (
          <section>
            <h2>Loyalty balances</h2>
            <table><tbody>{(players.data ?? []).slice(0, 12).map((p) => <Balance key={p.id} player={p} casinoId={casinoId} />)}</tbody></table>
          </section>
        )}
      </div>
    </main>
  );
}
