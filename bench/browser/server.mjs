// The browser benchmarks' server: the built package (pkg/) and a few pages over HTTP, and the
// Supabase protocol over WebSocket on the same port, as much as the clients need: joins and
// heartbeats answered, nothing else. Each joined socket is handed to `onJoin`, which sends it
// the stream.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TYPES = { js: 'text/javascript', wasm: 'application/wasm', html: 'text/html' };

/**
 * Serves `routes` (`{ '/path': [type, body] }`) and pkg/ (its .wasm from `wasm` when given);
 * resolves with its base URL, `onJoin(callback)` and `close()`.
 */
export async function startServer({ routes = {}, wasm } = {}) {
  const http = createServer(async (request, response) => {
    const path = new URL(request.url, 'http://x').pathname;
    if (routes[path]) return response.writeHead(200, { 'content-type': TYPES[routes[path][0]] }).end(routes[path][1]);
    if (path === '/favicon.ico') return response.writeHead(204).end();
    // The package's files, its wasm-bindgen snippets included; nothing outside pkg/.
    const file = path.match(/^\/pkg\/((?:[\w-]+\/)*[\w.-]+\.(js|wasm))$/);
    if (!file) return response.writeHead(404).end();
    try {
      const served = wasm && file[1] === 'casino_realtime_host_bg.wasm' ? wasm : `${ROOT}pkg/${file[1]}`;
      response.writeHead(200, { 'content-type': TYPES[file[2]] }).end(await readFile(served));
    } catch {
      response.writeHead(404).end();
    }
  });
  const sockets = new WebSocketServer({ server: http });
  let onJoin = null;
  sockets.on('connection', (socket) => {
    socket.on('message', (data, binary) => {
      if (binary) return;
      const [joinRef, ref, topic, event] = JSON.parse(data.toString());
      const reply = (response) => socket.send(JSON.stringify([joinRef, ref, topic, 'phx_reply', { status: 'ok', response }]));
      if (event === 'phx_join') {
        reply({ postgres_changes: [] });
        onJoin?.(socket);
      } else {
        reply({});
      }
    });
  });
  await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${http.address().port}`,
    onJoin: (callback) => (onJoin = callback),
    close: () => {
      sockets.close();
      http.close();
    },
  };
}

/** Sends `frames` as fast as the socket takes them, or at `rate` frames a second. */
export async function send(socket, frames, rate) {
  const started = performance.now();
  let n = 0;
  while (n < frames.length) {
    const due = rate ? Math.min(frames.length, Math.floor(((performance.now() - started) * rate) / 1000) + 1) : frames.length;
    while (n < due && socket.bufferedAmount < 4_000_000) socket.send(frames[n++]);
    await new Promise((resolve) => setTimeout(resolve, rate ? 5 : 1));
  }
}

/** A JWT the benchmark server takes (it checks nothing). */
export function fakeJwt(claims) {
  return ['{"alg":"HS256","typ":"JWT"}', JSON.stringify(claims), 'x'].map((s) => Buffer.from(s).toString('base64url')).join('.');
}
