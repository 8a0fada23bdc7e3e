// Which tab hosts the sessions when there is no shared worker: an election over Web Locks and a
// BroadcastChannel, with no browser global of its own (the locks, the channel and the clock are
// given), so tests/js/election.test.mjs runs it natively over interleavings of beats, freezes,
// closes and late timers. transport.js carries the sessions' messages beside it.
//
// The tab holding the host lock leads; the others wait in line for it. The leader announces
// itself every `BEAT_MS` with its term (when it began leading, later than any term it saw); a
// tab follows only a leader of a later term than the one it knows, so a frozen leader that wakes
// up demotes itself instead of fighting back. When the leader closes, its lock goes to the next
// in line; when it freezes (its beats stop for `SILENT_MS`), one tab at a time (through a second
// lock) steals the host lock. A tab whose own timer fired late (it was frozen itself) gives the
// leader one clean period before judging it silent.

/** How often a leading tab says it is alive, and how long its silence is borne (ms). */
export const BEAT_MS = 400;
export const SILENT_MS = 1_200;
/** A watch this much later than asked means this tab itself was frozen. */
export const LATE_MS = 800;

/**
 * `me`: this tab's id; `locks`: Web Locks (`request(name, [options], callback)`); `channel`: a
 * BroadcastChannel; `clock`: `{ now(), every(ms, fn) }` (`every` returns a function that stops
 * it); `names`: `{ hostLock, stealLock }`. `on`: `lead(term)` (this tab leads: start its host),
 * `stepDown()` (it no longer does: stop it), `host(id)` (a host to say hello to, this tab's or
 * another's), `message(data)` (what the channel carries beside the election).
 */
export function createElection({ me, locks, channel, clock, names }, on) {
  let closed = false;
  let leading = false;
  // The host followed, and the term of the tabs' current host.
  let hostId = null;
  let term = 0;
  let lastBeat = clock.now();
  let lastWatch = clock.now();
  let releaseLead = null;
  let stopBeating = null;
  let inLine = false;

  const announce = () => channel.postMessage({ kind: 'host', id: me, term });

  function lead() {
    if (closed || leading) return;
    leading = true;
    // Later than any term seen, even within the same millisecond.
    term = Math.max(clock.now(), term + 1);
    hostId = me;
    on.lead(term);
    announce();
    stopBeating = clock.every(BEAT_MS, announce);
    on.host(me);
  }

  // Stops leading: its host stops, and the lock goes to the next in line.
  function stepDown() {
    if (!leading) return;
    leading = false;
    stopBeating?.();
    stopBeating = null;
    on.stepDown();
    releaseLead?.();
    releaseLead = null;
  }

  function demote() {
    stepDown();
    if (!closed) candidate();
  }

  const holdLead = () => {
    if (closed || leading) return undefined;
    lead();
    return new Promise((resolve) => {
      releaseLead = resolve;
    });
  };

  // Waits in line to lead, once at a time; a lock stolen from this tab rejects its request.
  function candidate() {
    if (inLine || closed) return;
    inLine = true;
    locks.request(names.hostLock, holdLead).then(
      () => {
        inLine = false;
      },
      () => {
        inLine = false;
        demote();
      },
    );
  }

  // The leader is silent (frozen, or its machine asleep): one tab at a time takes over.
  function watch() {
    const now = clock.now();
    const late = now - lastWatch > BEAT_MS + LATE_MS;
    lastWatch = now;
    if (late) {
      // This tab was frozen: the beats it missed prove nothing about the leader.
      lastBeat = now;
      return;
    }
    if (closed || leading || !hostId || now - lastBeat <= SILENT_MS) return;
    locks.request(names.stealLock, { ifAvailable: true }, (lock) => {
      if (!lock || closed || leading || clock.now() - lastBeat <= SILENT_MS) return undefined;
      return new Promise((done) => {
        locks
          .request(names.hostLock, { steal: true }, () => {
            const held = holdLead();
            done();
            return held;
          })
          .catch(() => {
            done();
            demote();
          });
      });
    });
  }
  const stopWatching = clock.every(BEAT_MS, watch);

  channel.onmessage = ({ data }) => {
    if (closed || !data) return;
    if (data.kind === 'host') {
      if (data.term < term || (data.term === term && data.id === hostId)) {
        if (data.id === hostId) lastBeat = clock.now();
        return;
      }
      // A host that began leading later than ours: it is the one now.
      lastBeat = clock.now();
      term = data.term;
      hostId = data.id;
      if (leading) demote();
      on.host(hostId);
      return;
    }
    if (data.kind === 'who') {
      if (leading) announce();
      return;
    }
    on.message(data);
  };

  return {
    /** Joins the election: in line to lead, and asks who leads now. */
    start() {
      if (closed) return;
      candidate();
      channel.postMessage({ kind: 'who' });
    },
    /** Leaves it: leading, the lock goes to the next in line. */
    close() {
      closed = true;
      stopWatching();
      stepDown();
    },
    /** This tab leads. */
    leading: () => leading,
    /** The host followed (this tab's id when it leads). */
    hostId: () => hostId,
    /** A message from the host followed was heard (its beats count as the leader's too). */
    heard(from) {
      if (from === hostId) lastBeat = clock.now();
    },
  };
}
