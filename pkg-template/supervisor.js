// How a manager judges its host and where it goes next: two state machines with no timers, no
// transport and no clock of their own (time is an input), tested natively in
// tests/js/supervisor.test.mjs. client.js feeds them and carries out what they say.

/** The host beats this often when it has nothing else to say (src/share/hub.rs, `BEAT_MS`). */
export const BEAT_MS = 750;
/** A host unheard this long (more than two beats) is lost: the manager knows within 2.5 s (the
 *  check's period on top), inside the 3 s it promises. */
export const SILENT_MS = 2_000;
/** A host that does not answer a hello (ready or refused) within this is given up. */
export const ANSWER_MS = 10_000;
/** How often the manager looks. */
export const CHECK_MS = 500;
/** A look this much later than asked means this page itself was frozen (a background tab, a
 *  sleeping machine): the host is given one clean period before being judged. */
export const LATE_MS = 1_000;

/**
 * The silence of one host, from a manager's side: `hello(now)` when a hello is sent, `answered`
 * on `ready` (or a refusal), `heard(now)` on any message; `check(now)` every `CHECK_MS` says
 * `no-answer`, `silent` or nothing.
 */
export class Watch {
  constructor(now) {
    this.sent = now;
    this.lastHeard = now;
    this.lastCheck = now;
    this.grace = now;
    this.answered = false;
  }

  hello(now) {
    this.sent = now;
    this.lastHeard = now;
    this.grace = now;
    this.answered = false;
  }

  heard(now) {
    this.lastHeard = Math.max(this.lastHeard, now);
  }

  answer(now) {
    this.answered = true;
    this.heard(now);
  }

  /** `no-answer`, `silent` or `null`. */
  check(now) {
    const late = now - this.lastCheck > CHECK_MS + LATE_MS;
    this.lastCheck = now;
    if (late) {
      // This page's own timers stopped: what it did not hear meanwhile proves nothing yet.
      this.grace = now;
      return null;
    }
    if (!this.answered) return now - Math.max(this.sent, this.grace) > ANSWER_MS ? 'no-answer' : null;
    return now - Math.max(this.lastHeard, this.grace) > SILENT_MS ? 'silent' : null;
  }
}

/** Failures of one rung this close together move a manager down the ladder. */
export const LOSS_WINDOW_MS = 60_000;
/** How many losses of a serving host within `LOSS_WINDOW_MS` a rung is given before the next. */
export const LOSSES = 2;

/**
 * Where a manager's host runs, and where it goes when that fails: the shared worker (a new
 * generation when one is lost or silent), then a tab elected leader, then a host of its own.
 * `failed(reason, now)` says where to go next and the warning to give, or `null` when no rung is
 * left. Reasons: `start` (the rung cannot start: its constructor threw, its script failed),
 * `load` (its `.wasm` failed), `refused` (another version), `no-answer` (no answer to the hello),
 * `lost` (a host that served went silent).
 */
export class Ladder {
  /** `rungs`: the available ones, in order (`worker`, `leader`, `local`); `generation`: the
   *  shared worker's generation the app's tabs use now. */
  constructor(rungs, generation = 1) {
    this.rungs = rungs;
    this.index = 0;
    this.generation = generation;
    this.losses = [];
  }

  /** The rung in use: `{ mode, generation }`. */
  current() {
    return { mode: this.rungs[this.index], generation: this.generation };
  }

  /** Another tab moved the shared worker to generation `n`: follow (never back). */
  seen(n) {
    if (n > this.generation) this.generation = n;
  }

  failed(reason, now) {
    const mode = this.rungs[this.index];
    const warning = { mode, reason };
    const stay = () => ({ ...this.current(), warning });
    const down = () => {
      this.losses = [];
      this.index += 1;
      return this.index < this.rungs.length ? { ...this.current(), warning } : null;
    };
    if (reason === 'start' || reason === 'load' || reason === 'refused') return down();
    // A host that went silent or never answered: the same rung once more (a fresh worker, a new
    // election, a new host of its own), unless it keeps failing.
    this.losses = this.losses.filter((t) => now - t < LOSS_WINDOW_MS);
    this.losses.push(now);
    if (this.losses.length > LOSSES || (reason === 'no-answer' && this.losses.length > 1)) return down();
    if (mode === 'worker') this.generation += 1;
    return stay();
  }
}
