// The messages between a manager (client.js) and its session's host (src/share/message.rs): a
// client writes JSON objects `{ t: kind, ... }`, the host answers `kind\nbody`, the body the JSON
// the client hands on (a batch is written once, by the host, and parsed once, here). Both sides'
// tests read tests/fixtures/tab-messages.json, so neither can drift from the other.

/** What a client says, by kind. */
export const toHost = {
  hello: ({ options, token, tokenSource, subs, missedSince }) =>
    JSON.stringify({ t: 'hello', options, token, tokenSource, subs, missedSince }),
  subscribe: (id, resource) => JSON.stringify({ t: 'sub', id, resource }),
  unsubscribe: (id) => JSON.stringify({ t: 'unsub', id }),
  setAuth: (token) => JSON.stringify({ t: 'auth', token }),
  flush: (id) => JSON.stringify({ t: 'flush', id }),
  token: (id, token) => JSON.stringify({ t: 'token', id, token }),
  tokenFailed: (id, error) => JSON.stringify({ t: 'token', id, error }),
  online: (value) => JSON.stringify({ t: 'online', value }),
  visible: (value) => JSON.stringify({ t: 'visible', value }),
  resumed: () => JSON.stringify({ t: 'resumed' }),
  stats: () => JSON.stringify({ t: 'stats' }),
  bye: () => JSON.stringify({ t: 'bye' }),
};

/** The host's message as `[kind, body]`, or `null` for what is not one. */
export function split(text) {
  if (typeof text !== 'string') return null;
  const cut = text.indexOf('\n');
  return cut < 0 ? null : [text.slice(0, cut), text.slice(cut + 1)];
}
