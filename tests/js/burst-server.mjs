// A minimal Realtime server for the burst test, in its own process: it answers joins and
// heartbeats, then sends BURST (argv[2]) unique catalog events as kind-4 frames, as fast as the
// socket takes them. Prints "listening <port>".
import { WebSocketServer } from 'ws';
import { readFileSync } from 'node:fs';

const total = Number(process.argv[2] ?? 200_000);
const fixture = JSON.parse(readFileSync(new URL('../fixtures/events.json', import.meta.url), 'utf8'))['rating_slip.updated'];
const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });

function frame(topic, event, n) {
  // Every event its own slip, so every event has keys of its own.
  const slip = `77777777-7777-4777-8777-${String(n).padStart(12, '0')}`;
  const payload = Buffer.from(JSON.stringify({ ...fixture, rating_slip_id: slip, minutes_played: n % 500 }));
  const meta = Buffer.from(JSON.stringify({ id: `m-${n}` }));
  const head = Buffer.from([4, Buffer.byteLength(topic), Buffer.byteLength(event), meta.length, 1]);
  return Buffer.concat([head, Buffer.from(topic), Buffer.from(event), meta, payload]);
}

server.on('connection', (socket) => {
  socket.on('message', (data, binary) => {
    if (binary) return;
    const [joinRef, ref, topic, event] = JSON.parse(data.toString());
    if (topic === 'phoenix' && event === 'heartbeat') {
      socket.send(JSON.stringify([null, ref, 'phoenix', 'phx_reply', { status: 'ok', response: {} }]));
    } else if (event === 'phx_join') {
      socket.send(JSON.stringify([joinRef, ref, topic, 'phx_reply', { status: 'ok', response: { postgres_changes: [] } }]));
      let n = 0;
      const send = () => {
        while (n < total && socket.bufferedAmount < 4_000_000) {
          n += 1;
          socket.send(frame(topic, 'rating_slip.updated', n));
        }
        if (n < total) setTimeout(send, 1);
      };
      setTimeout(send, 50);
    }
  });
});
server.on('listening', () => console.log(`listening ${server.address().port}`));
