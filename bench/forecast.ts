// Benchmark: enospc's forecaster against Prometheus' predict_linear (6 h window) and Netdata's
// hourly two-point rate, on replayable synthetic series (15 s samples, seeded noise): steady leaks
// (case 000's 4.0M-inode tmpfs, case 001's 44,492 inodes), an accelerating leak, cleanup cycles
// with and without a slow leak, a burst then a plateau, a reboot, a busy mount that wanders. Each is
// judged at 25%, 50% and 75% of the way to exhaustion (or of its length), for BENCH_SEEDS seeds
// (default 20). Also: when enospc first warns on a steady leak, against node-mixin's
// NodeFilesystemFilesFillingUp. Pure computation, no root. Writes the bench:forecast section.
import fs from 'node:fs';
import os from 'node:os';
import { build, log, median, writeDoc } from './common.js';
import { FORECAST, forecast, netdataRate, predictLinear } from '../src/agent/forecast.js';
import type { Point } from '../src/agent/types.js';

const H = 3600, D = 86400, STEP = 15;
const SEEDS = Number(process.env['BENCH_SEEDS'] ?? 20);

/** mulberry32: a small seeded PRNG, so every run replays the same series. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const gauss = (r: () => number): number => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());

interface Scenario {
  name: string;
  what: string;
  limit: number;
  /** the use without noise at time t (s from the start); u in [0, 1) differs by seed (the phase of cleanups) */
  clean: (t: number, u: number) => number;
  /** simulated length (s) when the series never fills */
  length: number;
  /** where the way to exhaustion starts (default: the last reboot, or 0) */
  start?: number;
  /** reboots (s): a new segment, the random walk starts again */
  reboots?: number[];
  /** noise: a random walk (AR(1) with coefficient phi) of step sd `walk`, plus sd `jitter` per sample */
  walk: number; phi?: number; jitter: number;
  /** when to judge, if not 25/50/75% of the way (from the last reboot) to exhaustion or of the length */
  evalAt?: number[];
}

const P = 5 * H; // cleanup period (not a divisor of a day, so the judging times fall all over the cycle)
const phase = (t: number, u: number): number => ((t + u * P) % P) / P;
const accel0 = 990_000 / (8 * D); // the rate triples in 4 days: r0 (1 + t / 2 days)
const r000 = 3_980_000 / (6 * D), r001 = 43_992 / (36 * H);

const SCENARIOS: Scenario[] = [
  { name: 'steady leak, case 000', what: '4,000,000 inodes, 20,000 to full in 6 days', limit: 4_000_000, clean: (t) => 20_000 + r000 * t, length: 0, walk: Math.sqrt(r000 * STEP), jitter: 200 },
  { name: 'steady leak, case 001', what: '44,492 inodes, 500 to full in 36 h', limit: 44_492, clean: (t) => 500 + r001 * t, length: 0, walk: Math.sqrt(r001 * STEP), jitter: 20 },
  { name: 'accelerating leak', what: '1,000,000 inodes, the rate triples in 4 days, full then', limit: 1_000_000, clean: (t) => 10_000 + accel0 * (t + t * t / (4 * D)), length: 0, walk: 3, jitter: 100 },
  { name: 'sawtooth, no growth', what: '44,492 inodes, +20,000 in 5 h, then a cleanup', limit: 44_492, clean: (t, u) => 2_000 + 20_000 * phase(t, u), length: 4 * D, walk: 0, jitter: 30 },
  { name: 'sawtooth, slow leak', what: 'the same, and the floor rises 3,000 a day (full in ~7.5 days)', limit: 44_492, clean: (t, u) => 2_000 + 3_000 * t / D + 20_000 * phase(t, u), length: 0, walk: 0, jitter: 30 },
  { name: 'burst then flat', what: '3,000, +15,000 in 30 min at 12 h, then flat', limit: 44_492, clean: (t) => 3_000 + 15_000 * Math.min(1, Math.max(0, (t - 12 * H) / 1800)), length: 4 * D, walk: 0, jitter: 30 },
  { name: 'burst then flat, soon after', what: 'the same, soon after the burst', limit: 44_492, clean: (t) => 3_000 + 15_000 * Math.min(1, Math.max(0, (t - 12 * H) / 1800)), length: 4 * D, walk: 0, jitter: 30, evalAt: [14.5 * H, 16.5 * H, 20.5 * H] },
  { name: 'reboot reset', what: 'a slow leak for a day, a reboot (tmpfs empty), then 1.5 files/s: full 8.2 h later', limit: 44_492, clean: (t) => (t < D ? 500 + 0.25 * t : 300 + 1.5 * (t - D)), reboots: [D], length: 0, walk: 1, jitter: 20 },
  { name: 'leak starts late', what: '3,000 inodes, flat for 2 days, then 3 files/s (full 3.8 h later)', limit: 44_492, clean: (t) => 3_000 + 3 * Math.max(0, t - 2 * D), start: 2 * D, length: 0, walk: 1, jitter: 20 },
  { name: 'leak by day, case 000', what: 'as case 000, but the rate follows the day (0.2x at night to 1.8x)', limit: 4_000_000, clean: (t) => 20_000 + r000 * (t + 0.8 * D / (2 * Math.PI) * (1 - Math.cos(2 * Math.PI * t / D))), length: 0, walk: Math.sqrt(r000 * STEP), jitter: 200 },
  { name: 'busy, no growth', what: '10,000 inodes that wander (sd 2,000, 3 h time constant)', limit: 44_492, clean: () => 10_000, length: 4 * D, walk: 2_000 * Math.sqrt(1 - Math.exp(-2 * STEP / (3 * H))), phi: Math.exp(-STEP / (3 * H)), jitter: 30 },
];

/** When the noiseless use first reaches the limit (null: not within 30 days). */
function truthOf(s: Scenario, u: number): number | null {
  for (let t = 0; t <= 30 * D; t += STEP) if (s.clean(t, u) >= s.limit) return t;
  return null;
}

function generate(s: Scenario, seed: number, u: number, until: number): Point[] {
  const r = prng(seed * 7919 + s.name.length);
  const pts: Point[] = [];
  let walk = 0, reboot = 0;
  for (let t = 0; t <= until; t += STEP) {
    const seg = s.reboots?.includes(t) ?? false;
    if (seg) { walk = 0; reboot++; }
    walk = (s.phi ?? 1) * walk + s.walk * gauss(r);
    const used = Math.round(Math.min(s.limit, Math.max(0, s.clean(t, u) + walk + s.jitter * gauss(r))));
    pts.push(seg ? { t, used, limit: s.limit, reset: true } : { t, used, limit: s.limit });
  }
  return pts;
}

interface Judged { ttf: number | null; filling: boolean }
type Method = (pts: Point[], at: number, limit: number) => Judged;

const METHODS: Array<[string, Method]> = [
  ['enospc', (pts, at) => {
    const f = forecast('inodes', 'bench', pts, at);
    return { ttf: f.exhaustionAt !== undefined ? f.exhaustionAt - at : null, filling: f.state === 'filling' };
  }],
  ['predict_linear 6h', (pts, at, limit) => {
    const p = predictLinear(pts, 6 * H, 0, at);
    return p && p.slope > 0 ? { ttf: (limit - p.intercept) / p.slope, filling: true } : { ttf: null, filling: false };
  }],
  ['Netdata 1h rate', (pts, at, limit) => {
    const r = netdataRate(pts, at);
    const used = pts[pts.length - 1]!.used;
    return r !== null && r > 0 ? { ttf: (limit - used) / r, filling: true } : { ttf: null, filling: false };
  }],
];

const pct = (x: number): string => (Number.isFinite(x) ? `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%` : '∞');
const hours = (s: number): string => `${(s / H).toFixed(1)} h`;

function main(): void {
  const built = build();
  const t0 = performance.now();
  const rows: string[] = [];
  const allErr = new Map<string, number[]>(METHODS.map(([m]) => [m, []]));
  const falseFill = new Map<string, number>(METHODS.map(([m]) => [m, 0]));
  let calls = 0, forecastMs = 0;
  for (const s of SCENARIOS) {
    const from = s.start ?? (s.reboots?.length ? s.reboots[s.reboots.length - 1]! : 0);
    const cells = new Map<string, { err: number[]; fill: number; soon: number }>(METHODS.map(([m]) => [m, { err: [], fill: 0, soon: 0 }]));
    const truths: number[] = [];
    let n = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const u = prng(seed)();
      const truth = truthOf(s, u);
      if (truth !== null) truths.push(truth);
      const evals = s.evalAt ?? [0.25, 0.5, 0.75].map((f) => Math.round((from + f * ((truth ?? s.length) - from)) / STEP) * STEP);
      const pts = generate(s, seed, u, Math.max(...evals));
      for (const at of evals) {
        const upto = pts.slice(0, at / STEP + 1);
        n++;
        for (const [m, fn] of METHODS) {
          const t1 = performance.now();
          const j = fn(upto, at, s.limit);
          if (m === 'enospc') { forecastMs += performance.now() - t1; calls++; }
          const c = cells.get(m)!;
          if (truth !== null) c.err.push(j.ttf === null ? Infinity : Math.abs(j.ttf - (truth - at)) / (truth - at));
          else { if (j.filling) c.fill++; if (j.ttf !== null && j.ttf <= 48 * H) c.soon++; }
        }
      }
    }
    const fills = truths.length > 0;
    const cellText = METHODS.map(([m]) => {
      const c = cells.get(m)!;
      if (!fills) { falseFill.set(m, falseFill.get(m)! + c.fill); return `${c.fill}/${n} false (${c.soon} within 48 h)`; }
      allErr.get(m)!.push(...c.err);
      const misses = c.err.filter((e) => !Number.isFinite(e)).length;
      return `${pct(median(c.err))}, worst ${pct(Math.max(...c.err))}${misses ? ` (${misses} without a time)` : ''}`;
    });
    const when = s.evalAt ? s.evalAt.map(hours).join(', ') : fills ? `25/50/75% of the way to full (at ${hours(median(truths))})` : `25/50/75% of ${hours(s.length)}`;
    rows.push(`| ${s.name} | ${s.what}; judged at ${when} | ${cellText.join(' | ')} |`);
    log(`${s.name}: ${cellText.join('; ')}`);
  }
  const overall = METHODS.map(([m]) => median(allErr.get(m)!));
  const warn = SCENARIOS.filter((s) => /^steady|^leak/.test(s.name)).map(earlyWarning);
  const cpu = fs.readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1]?.trim() ?? 'unknown CPU';
  const goalErr = overall[0]! <= overall[1]! / 2, goalFalse = falseFill.get('enospc') === 0;
  const section = [
    '## Forecasts (agent)',
    '',
    `Measured ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')} by \`bench/forecast.ts\` (commit ${built.commit}) on ${cpu}, ${os.cpus().length} cores, Node ${process.version}; ${((performance.now() - t0) / 1000).toFixed(1)} s in all, ${(forecastMs / calls).toFixed(1)} ms per enospc forecast.`,
    '',
    `Synthetic series, 15 s samples, seeded noise (a random walk of arrivals and per-sample jitter), ${SEEDS} seeds each. Exhausting series: median and worst relative error of the time to full (a method that gives no time counts as an infinite error). Series that never fill: how often a method says it is filling (enospc: state \`filling\`; predict_linear and Netdata: a positive slope, which they turn into a time to full), and how often that time is within 48 h.`,
    '',
    `| scenario | series | ${METHODS.map(([m]) => m).join(' | ')} |`,
    `|---|---|${METHODS.map(() => '--:').join('|')}|`,
    ...rows,
    `| **all exhausting series** | median relative error | ${overall.map(pct).join(' | ')} |`,
    '',
    `Goal: half of predict_linear's error or less (${pct(overall[0]!)} against ${pct(overall[1]!)}: ${goalErr ? 'MET' : 'MISSED'}), no false filling (${falseFill.get('enospc')}: ${goalFalse ? 'MET' : 'MISSED'}).`,
    '',
    'First warning on a leak (seed 1): enospc when the state is `filling` and the earliest exhaustion is within 24 h (checked every 5 min); node-mixin\'s NodeFilesystemFilesFillingUp when `free/total*100 < 40 and predict_linear(free[6h], 24h) < 0` has held for 1 h (checked every minute).',
    '',
    '| series | full at | enospc warns | node-mixin fires |',
    '|---|--:|--:|--:|',
    ...warn.map((w) => `| ${w.name} | ${hours(w.truth)} | ${w.enospc === null ? 'never' : `${hours(w.enospc)} (${hours(w.truth - w.enospc)} before)`} | ${w.mixin === null ? 'never' : `${hours(w.mixin)} (${hours(w.truth - w.mixin)} before)`} |`),
    '',
    `Thresholds: insufficient_data below ${FORECAST.minSamples} samples or ${FORECAST.minSpanSeconds / 60} min in the segment. Windows back from now: ${FORECAST.windowsSeconds.map((w) => hours(w)).join(', ')} (clipped to the segment); \`filling\` needs Sen's 95% interval (widened for serial correlation) above 0 in the first and in a longer one, and no window's trend is extrapolated beyond ${FORECAST.horizonFactor} times its span (the full week's excepted): growing beyond that is insufficient_data, with the time still needed. Cleanup cycles: drops of at least ${FORECAST.dropNoise} step-noise units (times the square root of the bins they take) and ${FORECAST.dropShare * 100}% of the range, taking at most ${FORECAST.cleanupShare * 100}% of the rise before, over the last ${FORECAST.cycleWindowSeconds / D} days; judged from ${FORECAST.minCycles} cycles on (the last ${FORECAST.maxCycles}) by their floors, means and peaks, and the current cycle alone once it lasts ${FORECAST.stoppedCycles} typical ones.`,
  ].join('\n');
  writeDoc('forecast', section);
  console.log(section);
}

/** When enospc first warns and when node-mixin's alert fires, on seed 1 of a steady leak. */
function earlyWarning(s: Scenario): { name: string; truth: number; enospc: number | null; mixin: number | null } {
  const truth = truthOf(s, 0)!;
  const pts = generate(s, 1, 0, truth);
  let enospc: number | null = null, mixin: number | null = null, heldSince: number | null = null;
  for (let at = 5 * 60; at < truth && enospc === null; at += 5 * 60) {
    const f = forecast('inodes', 'bench', pts, at); // it reads only the points up to `at`
    if (f.state === 'filling' && f.earliestAt !== undefined && f.earliestAt - at <= 24 * H) enospc = at;
  }
  for (let at = 60; at < truth && mixin === null; at += 60) {
    const free = s.limit - pts[at / STEP]!.used;
    const p = predictLinear(pts, 6 * H, 24 * H, at); // it reads only (at - 6h, at]
    const cond = free / s.limit * 100 < 40 && p !== null && s.limit - p.value < 0;
    if (!cond) heldSince = null;
    else if (heldSince === null) heldSince = at;
    else if (at - heldSince >= H) mixin = at;
  }
  return { name: s.name, truth, enospc, mixin };
}

main();
