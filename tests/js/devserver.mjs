// The dev server for the package's JS tests: started on a free port, with helpers to mint
// tokens, read its status and publish through its database path.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** Starts target/debug/devserver with `args`; resolves to `{ url, ws, stop }`. */
export async function startDevserver(args = []) {
  const binary = fileURLToPath(new URL('../../target/debug/devserver', import.meta.url));
  const child = spawn(binary, ['--port', '0', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`devserver exited with ${code}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const match = line.match(/^devserver listening on (http:\/\/\S+)$/);
      if (match) resolve(match[1]);
    });
  });
  return { url, ws: `${url.replace('http', 'ws')}/realtime/v1`, stop: () => child.kill() };
}

export async function token(server, query) {
  const response = await fetch(`${server.url}/_dev/token?${new URLSearchParams(query)}`, { method: 'POST' });
  return (await response.json()).token;
}

export async function status(server) {
  return (await fetch(`${server.url}/_dev/status`)).json();
}

/** Publishes as `realtime.send` would, with a service-role token. */
export async function publish(server, topic, event, payload) {
  const service = await token(server, { role: 'service_role', staff_role: '', casino_id: '' });
  const response = await fetch(`${server.url}/realtime/v1/api/db/send`, {
    method: 'POST',
    headers: { authorization: `Bearer ${service}`, 'content-type': 'application/json' },
    body: JSON.stringify({ topic, event, payload }),
  });
  if (!response.ok) throw new Error(`publish: ${response.status}`);
}

/** Polls `check` every 20 ms until it holds, or fails after `ms`. */
export async function until(what, check, ms = 20_000, tick = (f) => f()) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await tick(() => new Promise((resolve) => setTimeout(resolve, 20)));
  }
  throw new Error(`timed out waiting for ${what}`);
}
