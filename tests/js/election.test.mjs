// The election (pkg-template/election.js) run natively over a simulated browser: Web Locks with
// its exclusive, ifAvailable and steal semantics, a BroadcastChannel, and tabs whose clocks and
// deliveries can be frozen (a background tab, a sleeping machine) and thawed late. Interleavings
// of beats, freezes, closes and late timers; after each, exactly one tab leads, and the others
// follow it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BEAT_MS, SILENT_MS, createElection } from '../../pkg/election.js';

const NAMES = { hostLock: 'host', stealLock: 'steal' };
const STEP = 50;

/** The browser: one clock, locks and a channel shared by tabs. */
class World {
  constructor() {
    this.t = 1_000_000;
    this.tabs = [];
    this.held = new Map(); // lock name -> holder { tab, release, reject }
    this.queue = new Map(); // lock name -> [request]
  }

  async settle() {
    for (let i = 0; i < 20; i += 1) await Promise.resolve();
  }

  /** Runs time forward: due timers of tabs that are not frozen, and what they set off. */
  async advance(ms) {
    const end = this.t + ms;
    while (this.t < end) {
      this.t += STEP;
      for (const tab of this.tabs) if (!tab.frozen && !tab.closed) tab.runTimers(this.t);
      await this.settle();
      for (const tab of this.tabs) for (const f of tab.waking?.splice(0) ?? []) tab.later(f);
      await this.settle();
    }
  }

  // ---- Web Locks, as the browser keeps them: exclusive, in order ----

  request(tab, name, ...args) {
    const callback = args.pop();
    const options = args[0] ?? {};
    return new Promise((resolve, reject) => {
      const request = { tab, callback, resolve, reject };
      const holder = this.held.get(name);
      if (options.ifAvailable && (holder || this.queue.get(name)?.length)) {
        tab.later(() => Promise.resolve(callback(null)).then(resolve, reject));
        return;
      }
      if (options.steal && holder) {
        this.held.delete(name);
        holder.reject(Object.assign(new Error('stolen'), { name: 'AbortError' }));
        this.grant(name, request);
        return;
      }
      if (!holder) this.grant(name, request);
      else this.queue.set(name, [...(this.queue.get(name) ?? []), request]);
    });
  }

  grant(name, request) {
    const holder = { tab: request.tab, reject: request.reject };
    this.held.set(name, holder);
    request.tab.later(() => {
      let result;
      try {
        result = request.callback({ name });
      } catch (error) {
        result = Promise.reject(error);
      }
      Promise.resolve(result).then(
        (value) => {
          if (this.held.get(name) === holder) this.release(name);
          request.resolve(value);
        },
        (error) => {
          if (this.held.get(name) === holder) this.release(name);
          request.reject(error);
        },
      );
    });
  }

  release(name) {
    this.held.delete(name);
    const waiting = (this.queue.get(name) ?? []).filter((r) => !r.tab.closed);
    const next = waiting.shift();
    this.queue.set(name, waiting);
    if (next) this.grant(name, next);
  }

  /** A tab gone: its locks are released, its requests dropped. */
  drop(tab) {
    for (const [name, holder] of [...this.held]) if (holder.tab === tab) this.release(name);
    for (const [name, list] of this.queue) this.queue.set(name, list.filter((r) => r.tab !== tab));
  }

  leaders() {
    return this.tabs.filter((t) => !t.closed && t.election.leading());
  }
}

/** One tab: its election, its timers, and what it was told. */
class Tab {
  constructor(world, id) {
    Object.assign(this, { world, id, frozen: false, closed: false, timers: [], deferred: [], led: 0, steppedDown: 0, hosts: [] });
    const tab = this;
    this.channel = {
      onmessage: null,
      postMessage(data) {
        for (const other of world.tabs) {
          if (other !== tab && !other.closed) other.later(() => other.channel.onmessage?.({ data: structuredClone(data) }));
        }
      },
    };
    const locks = { request: (...args) => world.request(tab, ...args) };
    const clock = {
      now: () => world.t,
      every: (ms, fn) => {
        const timer = { ms, fn, due: world.t + ms };
        tab.timers.push(timer);
        return () => { tab.timers = tab.timers.filter((x) => x !== timer); };
      },
    };
    this.election = createElection({ me: id, locks, channel: this.channel, clock, names: NAMES }, {
      lead: () => { this.led += 1; },
      stepDown: () => { this.steppedDown += 1; },
      host: (hostId) => this.hosts.push(hostId),
      message: () => {},
    });
    world.tabs.push(this);
    this.election.start();
  }

  /** Runs `f` in this tab: now, or when it thaws. */
  later(f) {
    if (this.closed) return;
    if (this.frozen) this.deferred.push(f);
    else queueMicrotask(f);
  }

  runTimers(now) {
    for (const timer of [...this.timers]) {
      if (timer.due > now) continue;
      // A timer fires once however late it is, then keeps its period from now.
      timer.due = now + timer.ms;
      timer.fn();
    }
  }

  freeze() {
    this.frozen = true;
  }

  /** Wakes the tab the worst way round: its late timers run first, and what was sent to it
   *  while frozen arrives only after (browsers promise no order between the two). */
  thaw() {
    this.frozen = false;
    const deferred = this.deferred.splice(0);
    this.runTimers(this.world.t);
    this.waking = deferred;
  }

  close() {
    this.election.close();
    this.closed = true;
    this.world.drop(this);
  }
}

async function world(n) {
  const w = new World();
  const tabs = [];
  for (let i = 0; i < n; i += 1) {
    tabs.push(new Tab(w, `tab-${i}`));
    await w.advance(STEP);
  }
  await w.advance(1_000);
  return { w, tabs };
}

function oneLeaderFollowed(w) {
  const leaders = w.leaders();
  assert.equal(leaders.length, 1, `one leader: ${leaders.map((t) => t.id)}`);
  const [leader] = leaders;
  for (const tab of w.tabs) {
    if (tab.closed || tab.frozen) continue;
    assert.equal(tab.election.hostId(), leader.id, `${tab.id} follows ${leader.id}`);
  }
  return leader;
}

test('three tabs: one leads, the others follow it and are told of it', async () => {
  const { w, tabs } = await world(3);
  const leader = oneLeaderFollowed(w);
  assert.equal(leader, tabs[0], 'the first in line');
  for (const tab of tabs) assert.equal(tab.hosts.at(-1), leader.id);
});

test('a leader that closes is followed by the next in line at once', async () => {
  const { w, tabs } = await world(3);
  tabs[0].close();
  await w.advance(BEAT_MS);
  const leader = oneLeaderFollowed(w);
  assert.notEqual(leader, tabs[0]);
  assert.equal(tabs[0].steppedDown, 1);
});

test('a frozen leader is replaced within its silence and a beat, and demotes itself when it wakes', async () => {
  const { w, tabs } = await world(3);
  tabs[0].freeze();
  const since = w.t;
  while (w.leaders().filter((t) => !t.frozen).length === 0) {
    await w.advance(STEP);
    assert.ok(w.t - since <= SILENT_MS + 3 * BEAT_MS, `a new leader within ${SILENT_MS + 3 * BEAT_MS} ms`);
  }
  const replaced = w.t - since;
  assert.ok(replaced > SILENT_MS - BEAT_MS, `not before its silence (its last beat came up to a beat before the freeze): ${replaced} ms`);
  tabs[0].thaw();
  await w.advance(2 * BEAT_MS);
  const leader = oneLeaderFollowed(w);
  assert.notEqual(leader, tabs[0], 'the woken leader follows the later term');
  assert.equal(tabs[0].steppedDown, 1);
  assert.equal(tabs[0].election.hostId(), leader.id);
});

test('a follower that was frozen does not steal from a leader that kept beating', async () => {
  const { w, tabs } = await world(3);
  const leader = oneLeaderFollowed(w);
  tabs[2].freeze();
  await w.advance(10_000);
  tabs[2].thaw();
  await w.advance(3 * BEAT_MS);
  assert.equal(oneLeaderFollowed(w), leader, 'its late watch gave the leader a clean period');
  assert.equal(tabs[2].led, 0);
});

test('a machine that slept: every tab frozen and woken together ends with one leader', async () => {
  const { w, tabs } = await world(4);
  for (const tab of tabs) tab.freeze();
  await w.advance(30_000);
  for (const tab of tabs) tab.thaw();
  await w.advance(5 * BEAT_MS);
  oneLeaderFollowed(w);
});

test('freezes and closes in random order never leave two leaders or none for long', async () => {
  for (let seed = 1; seed <= 20; seed += 1) {
    let x = seed;
    const random = () => ((x = (x * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const { w, tabs } = await world(4);
    for (let step = 0; step < 12; step += 1) {
      const alive = tabs.filter((t) => !t.closed);
      const tab = alive[Math.floor(random() * alive.length)];
      const roll = random();
      if (roll < 0.4 && tab.frozen) tab.thaw();
      else if (roll < 0.4) tab.freeze();
      else if (roll < 0.55 && alive.length > 2) tab.close();
      await w.advance(Math.floor(random() * 3_000));
    }
    for (const tab of tabs) if (tab.frozen) tab.thaw();
    await w.advance(SILENT_MS + 4 * BEAT_MS);
    try {
      oneLeaderFollowed(w);
    } catch (error) {
      error.message = `seed ${seed}: ${error.message}`;
      throw error;
    }
  }
});
