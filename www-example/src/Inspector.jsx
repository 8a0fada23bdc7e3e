// The SDK's inspector (`debug` on the provider), as a panel: the last events with what became
// of each, and the last batches with each key and the events that caused it. The same record
// is in the console: `__casinoRealtime.inspect()`.
export function Inspector({ realtime }) {
  const record = realtime?.inspect();
  if (!record) return null;
  const events = record.events.slice(-8).reverse();
  const batches = record.batches.slice(-3).reverse();
  return (
    <section className="inspector" data-testid="inspector">
      <h2>Inspector <small>last events and batches</small></h2>
      <div className="columns">
        <table>
          <tbody>
            {events.map((e) => (
              <tr key={e.seq} className={e.fate}>
                <td>{e.fate}</td>
                <td>{e.event}</td>
                <td title={e.reason ?? ''}>{e.topic.split(':').slice(2).join(':') || 'list'}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <table>
          <tbody>
            {batches.flatMap((b) =>
              b.keys.map((k, i) => (
                <tr key={`${b.seq}-${i}`}>
                  <td>{i === 0 ? `#${b.seq} ${b.reason}` : ''}</td>
                  <td>{k.type === 'invalidate' ? 'refetch' : 'write'} {JSON.stringify(k.queryKey.slice(0, 3))}</td>
                  <td>{k.causes.join(', ')}</td>
                </tr>
              )),
            )}
          </tbody>
        </table>
      </div>
    </section>
  );
}
