// The forecaster on synthetic series (pure functions: no mounts, no mocks).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FORECAST, forecast, netdataRate, predictLinear, segmentStartIndex } from '../src/agent/forecast.js';
import { theilSen } from '../src/agent/forecast-stats.js';
import type { Point } from '../src/agent/types.js';

const H = 3600, D = 86400, STEP = 15, LIMIT = 44_492;

/** A seeded PRNG (mulberry32) and Gaussian noise, so every run sees the same series. */
function noise(seed: number): () => number {
  let a = seed >>> 0;
  const u = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

/** Samples every 15 s from `from` to `to` of f(t), with Gaussian jitter of sd `sd`. */
function series(f: (t: number) => number, to: number, sd = 20, seed = 1, from = 0, limit: number | null = LIMIT): Point[] {
  const g = noise(seed);
  const pts: Point[] = [];
  for (let t = from; t <= to; t += STEP) pts.push({ t, used: Math.max(0, Math.round(f(t) + sd * g())), limit });
  return pts;
}

describe('forecast', () => {
  test('steady leak: filling, exhaustion within 20% of the truth, earliest before it', () => {
    const rate = (LIMIT - 500) / (36 * H); // full at 36 h
    for (const at of [9 * H, 18 * H, 27 * H]) {
      const f = forecast('inodes', '/tmp', series((t) => 500 + rate * t, at), at);
      assert.equal(f.state, 'filling');
      const truth = 36 * H - at;
      assert.ok(Math.abs(f.exhaustionAt! - at - truth) / truth < 0.2, `at ${at / H} h: ${(f.exhaustionAt! - at) / H} h against ${truth / H} h`);
      assert.ok(f.earliestAt! <= f.exhaustionAt!);
      assert.ok(f.slopeLow! > 0 && f.slopeLow! <= f.slopePerSecond! && f.slopePerSecond! <= f.slopeHigh!);
      assert.equal(f.segmentStart, 0);
    }
  });

  test('sawtooth with no net growth (fill 5 h, clean): not_growing', () => {
    const saw = (t: number): number => 2_000 + 20_000 * ((t % (5 * H)) / (5 * H));
    for (const at of [24 * H, 36.5 * H, 50 * H, 73 * H]) {
      const f = forecast('inodes', '/tmp', series(saw, at, 30), at);
      assert.equal(f.state, 'not_growing', `at ${at / H} h`);
      assert.equal(f.exhaustionAt, undefined);
    }
  });

  test('sawtooth with a slow net growth: filling, from the floor, and full when a peak reaches the limit', () => {
    const saw = (t: number): number => 2_000 + 3_000 * t / D + 20_000 * ((t % (5 * H)) / (5 * H));
    let truth = 0;
    while (saw(truth) < LIMIT) truth += STEP;
    for (const at of [2 * D + 2 * H, 4 * D + 1 * H]) {
      const f = forecast('inodes', '/tmp', series(saw, at, 30), at);
      assert.equal(f.state, 'filling', `at ${at / H} h`);
      assert.ok(Math.abs(f.slopePerSecond! - 3_000 / D) / (3_000 / D) < 0.1, `floor slope ${f.slopePerSecond! * D}/day`);
      assert.ok(Math.abs(f.exhaustionAt! - truth) / (truth - at) < 0.2, `${(f.exhaustionAt! - at) / H} h against ${(truth - at) / H} h`);
    }
  });

  test('a burst then flat: not_growing once the burst is an hour or more old', () => {
    const burst = (t: number): number => 3_000 + 15_000 * Math.min(1, Math.max(0, (t - 12 * H) / 1800));
    for (const at of [14 * H, 16 * H, 20 * H, 3 * D]) {
      assert.equal(forecast('inodes', '/tmp', series(burst, at, 30), at).state, 'not_growing', `at ${at / H} h`);
    }
  });

  test('a reboot (segment marker) starts a new segment: insufficient_data with needSamples', () => {
    const before = series((t) => 500 + 0.3 * t, D);
    const after = series((t) => 300 + 0.3 * (t - D - STEP), D + 5 * 60, 20, 2, D + STEP);
    after[0]!.reset = true;
    const f = forecast('inodes', '/tmp', [...before, ...after], D + 5 * 60);
    assert.equal(f.state, 'insufficient_data');
    assert.equal(f.segmentStart, D + STEP);
    assert.equal(f.samples, after.length);
    assert.equal(f.needSamples, FORECAST.minSamples - after.length);
    assert.ok(f.needSeconds! >= FORECAST.minSpanSeconds - 5 * 60 - STEP);
    assert.equal(f.slopePerSecond, null);
    assert.equal(f.exhaustionAt, undefined);
    // 3 h later it grows, but 41 h to full is more than 4 times the 3 h seen: it says how long to wait
    const fill = (LIMIT - 300) / 0.3;
    const later = series((t) => 300 + 0.3 * (t - D - STEP), D + 14 * H, 20, 2, D + STEP);
    later[0]!.reset = true;
    const all = [...before, ...later];
    const g = forecast('inodes', '/tmp', all, D + 3 * H);
    assert.equal(g.state, 'insufficient_data');
    assert.equal(g.needSamples, 0);
    assert.ok(Math.abs(g.needSeconds! - (fill - 3 * H) / 4 + 3 * H) < H, `needSeconds ${g.needSeconds! / H} h`);
    assert.ok(Math.abs(g.slopePerSecond! - 0.3) < 0.03);
    assert.equal(g.exhaustionAt, undefined);
    // and once it has waited, only the new segment is judged
    const h = forecast('inodes', '/tmp', all, D + 14 * H);
    assert.equal(h.state, 'filling');
    assert.equal(h.segmentStart, D + STEP);
    assert.ok(Math.abs(h.exhaustionAt! - (D + STEP + fill)) < 0.2 * (fill - 14 * H));
  });

  test('a change of the limit starts a segment', () => {
    const old = series((t) => 40_000 + 0.05 * t, 2 * D, 20, 1, 0, 44_492);
    const remounted = series(() => 40_000, 2 * D + 2 * H, 20, 3, 2 * D + STEP, 200_000);
    const pts = [...old, ...remounted];
    assert.equal(segmentStartIndex(pts), old.length);
    const f = forecast('inodes', '/tmp', pts, 2 * D + 2 * H);
    assert.equal(f.segmentStart, 2 * D + STEP);
    assert.equal(f.state, 'not_growing'); // the old segment grew; the new one does not
    const early = forecast('inodes', '/tmp', pts, 2 * D + 10 * 60);
    assert.equal(early.state, 'insufficient_data');
    assert.ok(early.needSamples! > 0 || early.needSeconds! > 0);
  });

  test('too few points or too short a span: insufficient_data, never a number', () => {
    const few = series((t) => 500 + t, 5 * STEP);
    const f = forecast('inodes', '/tmp', few, 5 * STEP);
    assert.equal(f.state, 'insufficient_data');
    assert.equal(f.needSamples, FORECAST.minSamples - few.length);
    assert.equal(f.needSeconds, FORECAST.minSpanSeconds - 5 * STEP);
    assert.equal(f.exhaustionAt, undefined);
    assert.equal(f.earliestAt, undefined);
    // enough samples, too short a span
    const short = series((t) => 500 + t, 10 * 60);
    const g = forecast('inodes', '/tmp', short, 10 * 60);
    assert.equal(g.state, 'insufficient_data');
    assert.equal(g.needSamples, 0);
    assert.equal(g.needSeconds, 20 * 60);
    // nothing at all
    const none = forecast('inodes', '/tmp', [], 1000);
    assert.equal(none.state, 'insufficient_data');
    assert.equal(none.needSamples, FORECAST.minSamples);
  });

  test('a history that stopped (the agent did) says nothing about now: insufficient_data', () => {
    const rate = (LIMIT - 500) / (36 * H);
    const pts = series((t) => 500 + rate * t, 9 * H);
    assert.equal(forecast('inodes', '/tmp', pts, 9 * H + FORECAST.staleSeconds - 60).state, 'filling');
    const f = forecast('inodes', '/tmp', pts, 9 * H + 3 * D);
    assert.equal(f.state, 'insufficient_data');
    assert.equal(f.exhaustionAt, undefined);
    assert.equal(f.needSamples, FORECAST.minSamples);
  });

  test('no limit: a state, no exhaustion', () => {
    const f = forecast('pattern', '/tmp:magick-*', series((t) => 500 + 0.5 * t, 6 * H, 20, 1, 0, null), 6 * H);
    assert.equal(f.state, 'filling');
    assert.equal(f.exhaustionAt, undefined);
    assert.equal(f.earliestAt, undefined);
    assert.ok(f.slopePerSecond! > 0.45 && f.slopePerSecond! < 0.55);
  });

  test('a leak that starts after a quiet day is caught within the hour', () => {
    const late = (t: number): number => 3_000 + 3 * Math.max(0, t - D);
    const at = D + 50 * 60;
    const f = forecast('inodes', '/tmp', series(late, at), at);
    assert.equal(f.state, 'filling');
    const truth = (LIMIT - 3_000) / 3 - 50 * 60;
    assert.ok(Math.abs(f.exhaustionAt! - at - truth) / truth < 0.2, `${(f.exhaustionAt! - at) / H} h against ${truth / H} h`);
  });

  test('a busy series that wanders (no growth) is not extrapolated', () => {
    for (let seed = 1; seed <= 5; seed++) {
      const g = noise(seed * 31), phi = Math.exp(-STEP / (3 * H)), sd = 2_000 * Math.sqrt(1 - phi * phi);
      let w = 0;
      const pts: Point[] = [];
      for (let t = 0; t <= 3 * D; t += STEP) { w = phi * w + sd * g(); pts.push({ t, used: Math.round(10_000 + w + 30 * g()), limit: LIMIT }); }
      for (const at of [D, 2 * D, 3 * D]) assert.notEqual(forecast('inodes', '/tmp', pts, at).state, 'filling', `seed ${seed} at ${at / H} h`);
    }
  });

  test('points after now are ignored, and the order does not matter', () => {
    const pts = series((t) => 500 + 0.3 * t, 12 * H);
    const a = forecast('inodes', '/tmp', pts, 6 * H);
    const b = forecast('inodes', '/tmp', pts.slice(0, 6 * H / STEP + 1).reverse(), 6 * H);
    assert.deepEqual(a, b);
  });
});

describe('the comparisons', () => {
  test('predictLinear: least squares over the window, anchored at the evaluation time', () => {
    const pts: Point[] = [0, 10, 20, 30].map((t) => ({ t, used: 100 + 2 * t, limit: null }));
    const p = predictLinear(pts, 25, 10, 30)!; // the window (5, 30]: t = 10, 20, 30
    assert.equal(p.slope, 2);
    assert.equal(p.intercept, 160);
    assert.equal(p.value, 180);
    assert.equal(predictLinear(pts, 5, 10, 30), null); // one point: nothing, as in Prometheus
  });

  test('netdataRate: the highest use 60 to 50 min ago to now, per second over the hour', () => {
    const pts = series((t) => 1000 + t, 2 * H, 0);
    assert.equal(netdataRate(pts), (2 * H + 1000 - (H + 600 + 1000)) / 3600);
    assert.equal(netdataRate(pts.slice(0, 100)), null);
  });

  test('theilSen: ignores a few outliers; its interval holds the slope', () => {
    const ts = Array.from({ length: 50 }, (_, i) => i), ys = ts.map((t) => 3 * t);
    ys[10] = 1_000; ys[40] = -1_000;
    const tr = theilSen(ts, ys)!;
    assert.equal(tr.slope, 3);
    assert.ok(tr.low <= 3 && tr.high >= 3);
  });
});
