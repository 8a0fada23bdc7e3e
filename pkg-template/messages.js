// The messages between a manager (client.js) and its session's host (src/share/message.rs): a
// client writes JSON objects `{ t: kind, ... }`, the host answers `kind\nbody`, the body the JSON
// the client hands on (a batch is written once, by the host, and parsed once, here). Both sides'
// tests read tests/fixtures/tab-messages.json, so neither can drift from the other.

/** The version of the messages (src/share/message.rs, `PROTOCOL`): a client says it in its hello,
 *  and a host refuses another. */
export const PROTOCOL = 1;

const PREFIX = `casino-realtime-v${PROTOCOL}`;

/** The names tabs meet under, each with the version in it: tabs of two versions of the package
 *  never share a worker, a lock or a channel. */
export const NAMES = {
  /** The shared worker of generation `n` (a new one when a worker is lost). */
  worker: (n) => `${PREFIX}-g${n}`,
  /** Held by whichever hosts the sessions (the shared worker or a leading tab): one at a time. */
  hostLock: `${PREFIX}:host`,
  /** Taken by the one tab stealing the lead from a silent leader. */
  stealLock: `${PREFIX}:steal`,
  /** The leading tab and its followers. */
  channel: PREFIX,
  /** Held by a manager while it lives: its host learns it is gone when granted it. */
  lifeLock: (id) => `${PREFIX}:tab:${id}`,
  /** Where tabs keep the shared worker's generation (localStorage). */
  generation: `${PREFIX}:worker-generation`,
};

/** What a client says, by kind. */
export const toHost = {
  hello: ({ options, token, tokenSource, subs, missedSince }) =>
    JSON.stringify({ t: 'hello', v: PROTOCOL, options, token, tokenSource, subs, missedSince }),
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
