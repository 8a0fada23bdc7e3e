// The manager's judgement of its host and its ladder (pkg-template/supervisor.js), natively with
// time as an input: a host that stops beating is known lost within 3 s; a page that was frozen
// itself gives the host one clean period; a hello nobody answers is given up; failures move the
// manager to a new shared worker, then down the ladder, never round in circles.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ANSWER_MS, BEAT_MS, CHECK_MS, LOSS_WINDOW_MS, Ladder, SILENT_MS, Watch } from '../../pkg/supervisor.js';

/** Checks `watch` every CHECK_MS from `from` to `to`; the first verdict and when. */
function run(watch, from, to, { beatsUntil = -Infinity } = {}) {
  for (let t = from; t <= to; t += CHECK_MS) {
    if (t <= beatsUntil && t % BEAT_MS === 0) watch.heard(t);
    const verdict = watch.check(t);
    if (verdict) return { verdict, at: t };
  }
  return null;
}

test('a host that answers and beats is never judged; one that stops is lost within 3 s', () => {
  const watch = new Watch(0);
  watch.hello(0);
  watch.answer(200);
  assert.equal(run(watch, 0, 60_000, { beatsUntil: 60_000 }), null);
  const lost = run(watch, 60_000 + CHECK_MS, 90_000, { beatsUntil: 60_000 });
  assert.equal(lost.verdict, 'silent');
  const after = lost.at - 60_000;
  assert.ok(after > SILENT_MS && after <= 3_000, `known ${after} ms after the last beat`);
});

test('a page frozen longer than the silence gives its host one clean period before judging', () => {
  const watch = new Watch(0);
  watch.hello(0);
  watch.answer(100);
  assert.equal(run(watch, 0, 10_000, { beatsUntil: 10_000 }), null);
  // Frozen for 20 s: no check ran, no message was read. The first check after is late.
  assert.equal(watch.check(30_000), null, 'a late check judges nothing');
  // The host's beats, queued meanwhile, arrive: all is well.
  watch.heard(30_010);
  assert.equal(run(watch, 30_000 + CHECK_MS, 40_000, { beatsUntil: 40_000 }), null);
  // Had the host died while the page was frozen: judged one clean period after waking.
  const dead = new Watch(0);
  dead.hello(0);
  dead.answer(100);
  run(dead, 0, 10_000, { beatsUntil: 10_000 });
  assert.equal(dead.check(30_000), null);
  const lost = run(dead, 30_000 + CHECK_MS, 40_000);
  assert.equal(lost.verdict, 'silent');
  assert.ok(lost.at - 30_000 > SILENT_MS && lost.at - 30_000 <= 3_000, `${lost.at - 30_000} ms after waking`);
});

test('a hello nobody answers is given up after its bound, however the host beats before', () => {
  const watch = new Watch(0);
  watch.hello(0);
  const given = run(watch, 0, 60_000, { beatsUntil: 60_000 });
  assert.equal(given.verdict, 'no-answer');
  assert.ok(given.at > ANSWER_MS && given.at <= ANSWER_MS + CHECK_MS);
});

test('a worker that is lost: a new generation once, then the leader, then a host of its own', () => {
  const ladder = new Ladder(['worker', 'leader', 'local'], 3);
  assert.deepEqual(ladder.current(), { mode: 'worker', generation: 3 });
  let next = ladder.failed('lost', 1_000);
  assert.deepEqual(next, { mode: 'worker', generation: 4, warning: { mode: 'worker', reason: 'lost' } });
  next = ladder.failed('lost', 5_000);
  assert.deepEqual([next.mode, next.generation], ['worker', 5]);
  next = ladder.failed('lost', 9_000);
  assert.equal(next.mode, 'leader', 'the third loss within a minute moves down');
  // Losses far apart are not a pattern.
  const patient = new Ladder(['worker', 'leader', 'local']);
  for (let i = 0; i < 10; i += 1) assert.equal(patient.failed('lost', i * (LOSS_WINDOW_MS + 1)).mode, 'worker');
  assert.equal(patient.current().generation, 11);
});

test('a rung that cannot start, cannot load or refuses is left at once; with none left, null', () => {
  for (const reason of ['start', 'load', 'refused']) {
    const ladder = new Ladder(['worker', 'leader', 'local']);
    assert.equal(ladder.failed(reason, 0).mode, 'leader', reason);
    assert.equal(ladder.failed(reason, 0).mode, 'local', reason);
    assert.equal(ladder.failed(reason, 0), null, reason);
  }
  const local = new Ladder(['local']);
  assert.equal(local.failed('lost', 0).mode, 'local', 'its own host is restarted');
  assert.equal(local.failed('lost', 1).mode, 'local');
  assert.equal(local.failed('lost', 2), null, 'but not for ever');
});

test('a hello nobody answers: one more try on the rung (a new worker), then down', () => {
  const ladder = new Ladder(['worker', 'leader', 'local']);
  const next = ladder.failed('no-answer', 0);
  assert.deepEqual([next.mode, next.generation], ['worker', 2]);
  assert.equal(ladder.failed('no-answer', 10_000).mode, 'leader');
  assert.equal(ladder.failed('no-answer', 20_000).mode, 'leader', 'a new election once');
  assert.equal(ladder.failed('no-answer', 30_000).mode, 'local');
});

test('another tab moved the workers on: follow, never back', () => {
  const ladder = new Ladder(['worker', 'leader', 'local'], 2);
  ladder.seen(5);
  ladder.seen(3);
  assert.equal(ladder.current().generation, 5);
});
