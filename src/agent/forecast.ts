// Honest forecasts for one series (issue 15 point 3): when will `used` reach `limit`, or why that
// cannot be said yet. Only the current segment is judged (a reboot, remount or change of the limit
// starts a new one). The trend is Theil-Sen with Sen's interval (widened for serial correlation)
// over windows from 1 h to 7 days back: the last hour must grow, so a burst followed by a plateau
// stops being `filling` within the hour, and so must a longer window, so a series that wanders is
// not extrapolated; no window is extrapolated beyond 4 times its span (a week's excepted). The
// expected exhaustion comes from the longest growing window (over whole days, and with the day to
// day growth of the rate when that is clear), the earliest from the high end of any window's
// interval. Cleanup cycles (fill, clean fast, fill) are found with a zigzag and judged by their
// floors, means and peaks, which must all rise.
//
// Also here, for the benchmark's comparison: Prometheus' predict_linear and Netdata's hourly rate.
import type { Forecast, Point, Resource } from './types.js';
import { bin, levelAt, median, quantile, stepNoise, theilSen, zigzag, type Bin, type Pivot, type Trend } from './forecast-stats.js';

/** The thresholds, in one place (docs/benchmarks.md says how they were chosen). */
export const FORECAST = {
  /** fewer samples or a shorter span in the segment: insufficient_data */
  minSamples: 20,
  minSpanSeconds: 30 * 60,
  /** the newest sample is older than this: the history stopped, insufficient_data */
  staleSeconds: 15 * 60,
  /** the windows judged, back from now (clipped to the segment); the first is the recent one */
  windowsSeconds: [3600, 3 * 3600, 8 * 3600, 86400, 3 * 86400, 7 * 86400],
  /** a window's trend is extrapolated at most this many times its span (the full week's, any distance) */
  horizonFactor: 4,
  /** how far back cleanup cycles are looked for, and how many of the last ones are judged */
  cycleWindowSeconds: 7 * 86400,
  minCycles: 4,
  maxCycles: 12,
  /** a drop counts as a cleanup when at least this many step-noise units, and this share of the range */
  dropNoise: 8,
  dropShare: 0.1,
  /** a drop is a cleanup when it takes at most this share of the rise before it */
  cleanupShare: 0.25,
  /** the current cycle has lasted this many typical cycles: the cleanups stopped, judge it alone */
  stoppedCycles: 1.5,
  /** a shorter window's rate is the rate now when its interval is above this many times the longer one's */
  rateChange: 2,
  /** a growing rate is extrapolated from the slopes of at least this many whole days */
  accelMinDays: 2,
  /** bins for the pairwise slopes (cost ~ bins^2 / 2) and for finding cycles */
  trendBins: 300,
  cycleBins: 2000,
} as const;

interface Series { ts: Float64Array; ys: Float64Array }

type Base = Pick<Forecast, 'resource' | 'target' | 'segmentStart'>;

function series(points: Point[]): Series {
  return { ts: Float64Array.from(points, (p) => p.t), ys: Float64Array.from(points, (p) => p.used) };
}

/** Index of the first point of the current segment (points sorted by time). */
export function segmentStartIndex(points: Point[]): number {
  for (let i = points.length - 1; i > 0; i--) {
    if (points[i]!.reset || points[i]!.limit !== points[i - 1]!.limit) return i;
  }
  return 0;
}

/** The points at or after `from` (sorted): where they start. */
function firstAtOrAfter(ts: Float64Array, from: number): number {
  let lo = 0, hi = ts.length;
  while (lo < hi) { const m = (lo + hi) >> 1; if (ts[m]! < from) lo = m + 1; else hi = m; }
  return lo;
}

function trendOf(s: Series, from: number, to: number, bins: number = FORECAST.trendBins): Trend | null {
  const b = bin(s.ts.subarray(from, to), s.ys.subarray(from, to), bins);
  return theilSen(b.map((x) => x.t), b.map((x) => x.y), true);
}

/**
 * Whether the rate itself grows: the slopes of the whole days of the window (whole days, so a
 * day's cycle of use is not taken for a growing rate), and their own Theil-Sen trend (use per
 * s^2). Only an acceleration whose interval is above 0 counts; with two days, the second day's
 * interval must be above the first's.
 */
function acceleration(s: Series, from: number, to: number): Trend | null {
  const last = s.ts[to - 1]!, days = Math.min(7, Math.floor((last - s.ts[from]!) / 86400));
  if (days < FORECAST.accelMinDays) return null;
  const mids: number[] = [], day: Trend[] = [];
  for (let k = days; k >= 1; k--) {
    const a = firstAtOrAfter(s.ts, last - k * 86400), b = k === 1 ? to : firstAtOrAfter(s.ts, last - (k - 1) * 86400);
    const tr = b - a >= 3 ? trendOf(s, a, b, 150) : null;
    if (tr) { mids.push((s.ts[a]! + s.ts[b - 1]!) / 2); day.push(tr); }
  }
  if (day.length === 2) {
    const [d1, d2] = day as [Trend, Trend], dt = mids[1]! - mids[0]!;
    return d2.low > d1.high ? { slope: (d2.slope - d1.slope) / dt, low: (d2.low - d1.high) / dt, high: (d2.high - d1.low) / dt, n: 2 } : null;
  }
  const acc = day.length >= 3 ? theilSen(mids, day.map((d) => d.slope)) : null;
  return acc && acc.low > 0 ? acc : null;
}

/** Time for `left` more at rate v now and acceleration a: left = v*x + a*x^2/2. */
function timeTo(left: number, v: number, a: number): number {
  return (2 * left) / (v + Math.sqrt(Math.max(0, v * v + 2 * a * left)));
}

function insufficient(base: Base, samples: number, span: number, needSamples: number, needSeconds: number, trend: Trend | null = null): Forecast {
  return {
    ...base, state: 'insufficient_data', needSamples: Math.max(0, Math.ceil(needSamples)), needSeconds: Math.max(0, Math.ceil(needSeconds)),
    slopePerSecond: trend?.slope ?? null, slopeLow: trend?.low ?? null, slopeHigh: trend?.high ?? null, samples, spanSeconds: span,
  };
}

/**
 * The verdict from a trend, the level it has reached now, and the limit. With an acceleration
 * (`lag`: how long before now the trend's slope was the rate), the time solves the quadratic.
 */
function verdict(base: Base, growing: boolean, trend: Trend, level: number, limit: number | null, now: number, samples: number, span: number,
  accel: Trend | null = null, lag = 0): Forecast {
  const f: Forecast = {
    ...base, state: growing ? 'filling' : 'not_growing',
    slopePerSecond: trend.slope, slopeLow: trend.low, slopeHigh: trend.high, samples, spanSeconds: span,
  };
  if (growing && limit !== null) {
    const left = Math.max(0, limit - level);
    const a = accel?.slope ?? 0, aHigh = accel ? Math.max(accel.high, a) : 0;
    f.exhaustionAt = now + timeTo(left, trend.slope + a * lag, a);
    f.earliestAt = now + timeTo(left, Math.max(trend.high, trend.slope) + aHigh * lag, aHigh);
  }
  return f;
}

interface Window { from: number; trend: Trend; span: number }

/**
 * No cleanup cycles: Theil-Sen over windows of 1 h, 3 h, 8 h, 1 day, 3 days and 7 days back from
 * now (clipped to the segment). `filling` needs the last hour to grow, and a longer window too,
 * and a window's trend is extrapolated at most 4 times its span (a full week's, any distance): a
 * leak that started lately is caught, a series that wanders is not extrapolated far, and a young
 * segment growing towards a distant limit is insufficient_data until its history is long enough.
 */
function plain(base: Base, s: Series, from: number, limit: number | null, now: number): Forecast {
  const n = s.ts.length - from;
  const span = n > 0 ? s.ts[s.ts.length - 1]! - s.ts[from]! : 0;
  if (n < FORECAST.minSamples || span < FORECAST.minSpanSeconds) {
    const rate = n > 1 ? span / (n - 1) : 0; // time per sample, to say how long the missing samples take
    return insufficient(base, n, span, FORECAST.minSamples - n, Math.max(FORECAST.minSpanSeconds - span, (FORECAST.minSamples - n) * rate));
  }
  const end = s.ts.length, last = s.ts[end - 1]!;
  const wins: Window[] = [];
  for (const rung of FORECAST.windowsSeconds) {
    let f = Math.max(from, firstAtOrAfter(s.ts, now - rung));
    if (wins.length === 0) f = Math.min(f, end - FORECAST.minSamples); // the recent window: enough samples
    if (wins.length && f >= wins[wins.length - 1]!.from) continue; // clipped to the segment: as long as a shorter one
    const trend = trendOf(s, f, end);
    if (trend) wins.push({ from: f, trend, span: last - s.ts[f]! });
  }
  const recent = wins[0], longest = wins[wins.length - 1];
  if (!recent || !longest) return insufficient(base, n, span, 0, FORECAST.minSpanSeconds);
  const recentTs = s.ts.subarray(recent.from), recentYs = s.ys.subarray(recent.from);
  const levelFor = (w: Window): number => levelAt(recentTs, recentYs, w.trend.slope, now);
  const ttf = (w: Window): number => limit === null ? 0 : Math.max(0, limit - levelFor(w)) / w.trend.slope;
  const week = longest.span >= 0.99 * FORECAST.windowsSeconds[FORECAST.windowsSeconds.length - 1]!;
  const qualifies = (w: Window): boolean => w.trend.low > 0 && (ttf(w) <= FORECAST.horizonFactor * w.span || (w === longest && week));
  const ok = recent.trend.low > 0 ? wins.filter(qualifies) : [];
  if (ok.length === 0) {
    // growing all along, but too short a history to extrapolate that far: say how much more it needs
    if (recent.trend.low > 0 && longest.trend.low > 0) {
      return insufficient(base, end - longest.from, longest.span, 0, ttf(longest) / FORECAST.horizonFactor - longest.span, longest.trend);
    }
    return verdict(base, false, longest.trend, 0, limit, now, end - longest.from, longest.span);
  }

  // the longest window that grows, and a growing rate in it extrapolated; else a shorter window
  // whose rate is far higher (its interval above twice the longer one's: the rate changed, not the
  // time of day) is the rate now. The earliest exhaustion is the earliest any of them gives.
  let chosen = ok[ok.length - 1]!;
  const accel = acceleration(s, chosen.from, end);
  if (!accel) for (const w of ok.slice(0, -1).reverse()) if (w.trend.low > FORECAST.rateChange * chosen.trend.high) chosen = w;
  const days = Math.floor(chosen.span / 86400);
  if (days >= 1 && chosen.span % 86400 > 0) {
    // the rate over a day or more is taken over whole days: a day's cycle of use (busy by day,
    // quiet at night) then weighs the same whatever the time of day
    const f = firstAtOrAfter(s.ts, last - days * 86400), trend = trendOf(s, f, end);
    if (trend && trend.low > 0) chosen = { from: f, trend, span: last - s.ts[f]! };
  }
  const lag = now - (s.ts[chosen.from]! + last) / 2;
  const f = verdict(base, true, chosen.trend, levelFor(chosen), limit, now, end - chosen.from, chosen.span, accel, lag);
  if (f.earliestAt !== undefined && limit !== null) {
    for (const w of ok) f.earliestAt = Math.min(f.earliestAt, now + Math.max(0, limit - levelFor(w)) / w.trend.high);
  }
  return f;
}

/**
 * Forecast one series at time `now` (Unix s). Points after `now` are ignored; points need not be
 * sorted. Point.reset (set by the history on a new boot ID or mount ID) or a change of the limit
 * starts a new segment, and only the last one is judged.
 */
export function forecast(resource: Resource, target: string, points: Point[], now: number): Forecast {
  let pts = points.filter((p) => p.t <= now && Number.isFinite(p.used));
  if (pts.some((p, i) => i > 0 && p.t < pts[i - 1]!.t)) pts = [...pts].sort((a, b) => a.t - b.t);
  const seg = pts.slice(segmentStartIndex(pts));
  const base: Base = { resource, target, segmentStart: seg[0]?.t ?? now };
  const limit = seg.length ? seg[seg.length - 1]!.limit : null;
  const s = series(seg);
  const n = seg.length;
  // a history that stopped (the agent did, or the series has no figures: a mount that does not
  // answer) says nothing about now: as many samples as a new segment are needed
  if (n && now - s.ts[n - 1]! > FORECAST.staleSeconds) return insufficient(base, n, s.ts[n - 1]! - s.ts[0]!, FORECAST.minSamples, FORECAST.minSpanSeconds);
  if (n < FORECAST.minSamples || s.ts[n - 1]! - s.ts[0]! < FORECAST.minSpanSeconds) return plain(base, s, 0, limit, now);

  // cleanup cycles over the last week: drops found by a zigzag on the binned series
  const from = firstAtOrAfter(s.ts, now - FORECAST.cycleWindowSeconds);
  const bins = bin(s.ts.subarray(from), s.ys.subarray(from), FORECAST.cycleBins);
  const ys = bins.map((b) => b.y);
  const range = quantile(ys, 0.99) - quantile(ys, 0.01);
  const noise = stepNoise(ys);
  const { peaks, troughs, pending } = cleanups(bins, Math.max(FORECAST.dropNoise * noise, FORECAST.dropShare * range, 1), noise);
  if (peaks.length === 0) return plain(base, s, 0, limit, now);

  const cycleStart = pending ? pending.t : troughs[troughs.length - 1]!.t;
  const gaps = troughs.slice(1).map((p, k) => p.t - troughs[k]!.t);
  const sinceStart = firstAtOrAfter(s.ts, cycleStart);
  if (troughs.length < FORECAST.minCycles) {
    // one or two cleanups: too few to judge their floor. Once the current cycle has outlasted every
    // earlier one (the first is at least as long as the rise before the first drop), judge it alone.
    const longest = Math.max(peaks[0]!.t - bins[0]!.t, ...gaps);
    if (now - cycleStart >= longest) return plain(base, s, sinceStart, limit, now);
    return insufficient(base, n, s.ts[n - 1]! - s.ts[0]!, 0, cycleStart + longest - now);
  }
  if (!pending && now - cycleStart > FORECAST.stoppedCycles * median(gaps)) return plain(base, s, sinceStart, limit, now);
  return sawtooth(base, s, bins, peaks, troughs.slice(-FORECAST.maxCycles), limit, now);
}

/**
 * The zigzag's drops that look like cleanups: fast (down within a quarter of the time the rise
 * before took) and far beyond what the series' own steps add up to over the drop's duration
 * (dropNoise * noise * sqrt(bins)), unlike a series that wanders down as it went up. Their peaks,
 * their troughs (each the floor a cycle starts from), and the trough of a drop still under way.
 */
function cleanups(bins: Bin[], theta: number, noise: number): { peaks: Pivot[]; troughs: Pivot[]; pending: Pivot | null } {
  const zz = zigzag(bins, theta);
  const peaks: Pivot[] = [], troughs: Pivot[] = [];
  let pending: Pivot | null = null;
  zz.peaks.forEach((peak, k) => {
    const trough = zz.troughs[k] ?? zz.pendingTrough;
    if (!trough) return;
    let riseFrom = k > 0 ? zz.troughs[k - 1]!.i : 0;
    if (k === 0) for (let i = 0; i < peak.i; i++) if (bins[i]!.y < bins[riseFrom]!.y) riseFrom = i;
    let j = peak.i;
    while (j < trough.i && bins[j]!.y > trough.y + 0.2 * (peak.y - trough.y)) j++;
    if (bins[j]!.t - peak.t > FORECAST.cleanupShare * (peak.t - bins[riseFrom]!.t)) return;
    if (peak.y - trough.y < FORECAST.dropNoise * noise * Math.sqrt(Math.max(1, j - peak.i))) return;
    peaks.push(peak);
    if (zz.troughs[k]) troughs.push(trough); else pending = trough;
  });
  return { peaks, troughs, pending };
}

/**
 * Cleanup cycles: the floor (each cycle's trough), each whole cycle's mean and the peaks must all
 * rise (three views of the same cycles, whose noise differs: one rising by chance is not enough).
 * The slope is the floor's; the level is the peaks' line, since a cycle runs out at its peak.
 */
function sawtooth(base: Base, s: Series, bins: Bin[], peaks: Pivot[], troughs: Pivot[], limit: number | null, now: number): Forecast {
  const floor = theilSen(troughs.map((p) => p.t), troughs.map((p) => p.y))!;
  const mt: number[] = [], my: number[] = [];
  for (let k = 0; k + 1 < troughs.length; k++) {
    let w = 0, sum = 0, tw = 0;
    for (let i = troughs[k]!.i; i < troughs[k + 1]!.i; i++) { w += bins[i]!.n; sum += bins[i]!.y * bins[i]!.n; tw += bins[i]!.t * bins[i]!.n; }
    mt.push(tw / w); my.push(sum / w);
  }
  const cycles = theilSen(mt, my)!;
  const first = troughs[0]!.t;
  const recentPeaks = peaks.filter((p) => p.t > first);
  const pt = recentPeaks.map((p) => p.t), py = recentPeaks.map((p) => p.y);
  const top = theilSen(pt, py);
  const level = levelAt(pt, py, floor.slope, now);
  const from = firstAtOrAfter(s.ts, first);
  const growing = floor.low > 0 && cycles.low > 0 && top !== null && top.low > 0;
  return verdict(base, growing, floor, level, limit, now, s.ts.length - from, s.ts[s.ts.length - 1]! - first);
}

/**
 * Prometheus' predict_linear(v[window], horizon) evaluated at `at` (default: the last point):
 * ordinary least squares over the points in (at - window, at], the line's value at `at + horizon`.
 * Null with fewer than two points (Prometheus returns nothing then).
 */
export function predictLinear(points: Point[], window: number, horizon: number, at = points[points.length - 1]?.t ?? 0): { value: number; slope: number; intercept: number } | null {
  let n = 0, st = 0, sy = 0, stt = 0, sty = 0;
  for (const p of points) {
    if (p.t <= at - window || p.t > at) continue;
    const x = p.t - at;
    n++; st += x; sy += p.used; stt += x * x; sty += x * p.used;
  }
  if (n < 2) return null;
  const cov = sty - (st * sy) / n, vr = stt - (st * st) / n;
  const slope = vr === 0 ? 0 : cov / vr;
  const intercept = sy / n - slope * (st / n);
  return { value: intercept + slope * horizon, slope, intercept };
}

/**
 * Netdata's disk_fill_rate: (the highest use 60 to 50 minutes before `at`, i.e. the lowest
 * `avail` there) to the use at `at`, per second over the hour. Null without a point in both places.
 */
export function netdataRate(points: Point[], at = points[points.length - 1]?.t ?? 0): number | null {
  let then = -Infinity, nowUsed: number | null = null, nowT = -Infinity;
  for (const p of points) {
    if (p.t >= at - 3600 && p.t <= at - 3000 && p.used > then) then = p.used;
    if (p.t <= at && p.t > nowT) { nowT = p.t; nowUsed = p.used; }
  }
  if (nowUsed === null || then === -Infinity) return null;
  return (nowUsed - then) / 3600;
}
