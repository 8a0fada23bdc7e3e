import { useEffect, useRef, useState } from 'react';

const WINDOW = 60;

/** Live counters and a chart of events/s against refetches/s: the coalescing, made visible. */
export function Counters({ stats, batches, fetches }) {
  const last = useRef(null);
  const [series, setSeries] = useState([]);
  useEffect(() => {
    const now = { events: stats.eventsReceived, fetches, batches: batches.batches, at: Date.now() };
    if (last.current && now.at - last.current.at >= 900) {
      const seconds = (now.at - last.current.at) / 1000;
      const point = {
        events: (now.events - last.current.events) / seconds,
        refetches: (now.fetches - last.current.fetches) / seconds,
        batches: (now.batches - last.current.batches) / seconds,
      };
      setSeries((s) => [...s.slice(-(WINDOW - 1)), point]);
      last.current = now;
    } else if (!last.current) {
      last.current = now;
    }
  });
  const latest = series.at(-1) ?? { events: 0, refetches: 0, batches: 0 };
  const peak = Math.max(1, ...series.flatMap((p) => [p.events, p.refetches]));
  const line = (key) => series.map((p, i) => `${(i / (WINDOW - 1)) * 300},${60 - (p[key] / peak) * 56}`).join(' ');
  return (
    <section className="counters" data-testid="counters">
      <dl>
        <div><dt>events/s</dt><dd>{latest.events.toFixed(1)}</dd></div>
        <div><dt>duplicates dropped</dt><dd data-testid="duplicates">{stats.duplicates}</dd></div>
        <div><dt>batches/s</dt><dd>{latest.batches.toFixed(1)}</dd></div>
        <div><dt>keys per batch</dt><dd>{batches.batches ? (batches.keys / batches.batches).toFixed(1) : '0'}</dd></div>
        <div><dt>refetches triggered</dt><dd data-testid="refetches">{fetches}</dd></div>
        <div><dt>events applied</dt><dd data-testid="applied">{stats.applied}</dd></div>
      </dl>
      <svg viewBox="0 0 300 60" role="img" aria-label="events per second against refetches per second">
        <polyline points={line('events')} className="events" />
        <polyline points={line('refetches')} className="refetches" />
      </svg>
      <p className="legend"><span className="events">events/s</span> <span className="refetches">refetches/s</span></p>
    </section>
  );
}
