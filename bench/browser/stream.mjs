// The workload every client of the browser benchmark receives, frame for frame: catalog events
// built from tests/fixtures/events.json with fresh ids and times (seeded, so every run and every
// client sees the same bytes), a share of them sent again as replays, encoded as Supabase's
// vsn 2.0.0 binary user-broadcast frames (kind 4: topic, event, meta, JSON payload).
import { readFileSync } from 'node:fs';

const FIXTURES = JSON.parse(readFileSync(new URL('../../tests/fixtures/events.json', import.meta.url), 'utf8'));
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A small seeded generator (mulberry32): the same stream in every run. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function uuid(random) {
  const hex = (n) => Array.from({ length: n }, () => Math.floor(random() * 16).toString(16)).join('');
  return `${hex(8)}-${hex(4)}-4${hex(3)}-8${hex(3)}-${hex(12)}`;
}

/** One frame as Supabase sends a broadcast from the database (kind 4, JSON payload). */
export function frame(topic, event, meta, payload) {
  const parts = [topic, event, JSON.stringify(meta)].map((s) => Buffer.from(s));
  const body = Buffer.from(JSON.stringify(payload));
  const head = Buffer.from([4, parts[0].length, parts[1].length, parts[2].length, 1]);
  return Buffer.concat([head, ...parts, body]);
}

/**
 * `total` frames for `casino`: unique events, each id field drawn from a pool (a floor has a few
 * hundred tables, players and slips, so keys repeat across events as they do in use), and
 * `replayShare` of the frames a copy of an earlier frame (same meta.id and payload).
 */
export function workload({ casino, total, replayShare = 0.2, seed = 7 }) {
  const random = rng(seed);
  // finance.outbox_processed is a worker-monitoring event on an internal channel, not a casino's.
  const names = Object.keys(FIXTURES).filter((name) => name !== 'finance.outbox_processed');
  const pools = new Map();
  const pick = (field) => {
    if (!pools.has(field)) pools.set(field, Array.from({ length: 300 }, () => uuid(random)));
    const pool = pools.get(field);
    return pool[Math.floor(random() * pool.length)];
  };
  const topic = `realtime:${casino}`;
  // Every `at` in the past, one ms apart, as a busy floor's would be.
  const start = Date.now() - total - 60_000;
  const frames = [];
  let unique = 0;
  while (frames.length < total) {
    if (frames.length > 100 && random() < replayShare) {
      frames.push(frames[Math.floor(random() * frames.length)]);
      continue;
    }
    unique += 1;
    const name = names[Math.floor(random() * names.length)];
    const payload = { ...FIXTURES[name] };
    for (const [field, value] of Object.entries(payload)) {
      if (field !== 'casino_id' && typeof value === 'string' && UUID.test(value)) payload[field] = pick(field);
    }
    if ('casino_id' in payload) payload.casino_id = casino;
    if ('request_id' in payload) payload.request_id = `req-${unique}`;
    payload.at = new Date(start + unique).toISOString();
    frames.push(frame(topic, name, { id: `m-${seed}-${unique}` }, payload));
  }
  return { frames, unique };
}
