// The statistics the forecaster is built from, as pure functions on numbers: medians, binning a
// long series down to a bounded number of points, the Theil-Sen slope with Sen's (Kendall)
// confidence interval, and a zigzag that finds cleanup cycles (a drop, then a rise again).

/** A series reduced to a bounded number of points: mean time, median use, min and max of a bin. */
export interface Bin { t: number; y: number; lo: number; hi: number; n: number }

/** A robust straight line: median slope, its interval, and how many points it came from. */
export interface Trend { slope: number; low: number; high: number; n: number }

/** A turning point of the zigzag: index into the bins, time and value. */
export interface Pivot { i: number; t: number; y: number }

export function median(xs: ArrayLike<number>): number {
  const s = Float64Array.from(xs).sort();
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Quantile q (0..1) by linear interpolation. */
export function quantile(xs: ArrayLike<number>, q: number): number {
  const s = Float64Array.from(xs).sort();
  if (s.length === 0) return NaN;
  const pos = (s.length - 1) * q, a = Math.floor(pos), b = Math.ceil(pos);
  return s[a]! + (s[b]! - s[a]!) * (pos - a);
}

/**
 * At most `maxBins` bins of equal width over the points' time span (each point its own bin when
 * there are few enough). Points must be sorted by time.
 */
export function bin(ts: ArrayLike<number>, ys: ArrayLike<number>, maxBins: number): Bin[] {
  const n = ts.length;
  if (n === 0) return [];
  if (n <= maxBins) {
    const out: Bin[] = [];
    for (let i = 0; i < n; i++) out.push({ t: ts[i]!, y: ys[i]!, lo: ys[i]!, hi: ys[i]!, n: 1 });
    return out;
  }
  const t0 = ts[0]!, width = (ts[n - 1]! - t0) / maxBins || 1;
  const out: Bin[] = [];
  let start = 0;
  while (start < n) {
    const k = Math.min(maxBins - 1, Math.floor((ts[start]! - t0) / width));
    let end = start + 1;
    while (end < n && Math.min(maxBins - 1, Math.floor((ts[end]! - t0) / width)) === k) end++;
    let tSum = 0, lo = Infinity, hi = -Infinity;
    const vals = new Float64Array(end - start);
    for (let i = start; i < end; i++) {
      tSum += ts[i]!;
      vals[i - start] = ys[i]!;
      if (ys[i]! < lo) lo = ys[i]!;
      if (ys[i]! > hi) hi = ys[i]!;
    }
    out.push({ t: tSum / (end - start), y: median(vals), lo, hi, n: end - start });
    start = end;
  }
  return out;
}

/** Standard normal quantile for the two-sided 95% interval. */
export const Z95 = 1.959964;

/**
 * Theil-Sen: the median of the slopes of all pairs (pairs with equal times skipped), and Sen's
 * nonparametric interval from Kendall's S: with N slopes and C = z * sqrt(Var S), the interval
 * runs from the (N - C)/2-th to the (N + C)/2-th smallest slope. Var S = n(n-1)(2n+5)/18 assumes
 * independent residuals; with `serial`, it is multiplied by (1 + r)/(1 - r), r the lag-1
 * autocorrelation of the residuals (points evenly spaced), as a wandering series holds fewer
 * independent points than it has (at the most, the interval is the whole range of slopes).
 * Null with fewer than 2 distinct times. Cost: n^2/2, so bin first.
 */
export function theilSen(ts: ArrayLike<number>, ys: ArrayLike<number>, serial = false, z = Z95): Trend | null {
  const n = ts.length;
  const slopes = new Float64Array((n * (n - 1)) / 2);
  let k = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const dt = ts[j]! - ts[i]!;
      if (dt !== 0) slopes[k++] = (ys[j]! - ys[i]!) / dt;
    }
  }
  if (k === 0) return null;
  const s = slopes.subarray(0, k).sort();
  const med = k % 2 ? s[k >> 1]! : (s[(k >> 1) - 1]! + s[k >> 1]!) / 2;
  const r = serial ? lag1(ts, ys, med) : 0;
  const c = z * Math.sqrt(((n * (n - 1) * (2 * n + 5)) / 18) * ((1 + r) / (1 - r)));
  const lo = Math.max(0, Math.floor((k - c) / 2));
  const hi = Math.min(k - 1, Math.ceil((k + c) / 2));
  return { slope: med, low: s[lo]!, high: s[hi]!, n };
}

/** Lag-1 autocorrelation of the residuals from the line of slope `slope`, in [0, 0.999]. */
function lag1(ts: ArrayLike<number>, ys: ArrayLike<number>, slope: number): number {
  const n = ts.length;
  if (n < 4) return 0;
  const res = new Float64Array(n);
  for (let i = 0; i < n; i++) res[i] = ys[i]! - slope * ts[i]!;
  const m = median(res);
  let num = 0, den = 0;
  for (let i = 0; i < n; i++) {
    const d = res[i]! - m;
    den += d * d;
    if (i > 0) num += d * (res[i - 1]! - m);
  }
  return den === 0 ? 0 : Math.min(0.999, Math.max(0, num / den));
}

/** The line's value at time `at`: the median of y - slope * (t - at) (Theil-Sen's intercept). */
export function levelAt(ts: ArrayLike<number>, ys: ArrayLike<number>, slope: number, at: number): number {
  const r = new Float64Array(ts.length);
  for (let i = 0; i < ts.length; i++) r[i] = ys[i]! - slope * (ts[i]! - at);
  return median(r);
}

/** Robust scale of the step from one bin to the next (1.4826 * MAD of the differences). */
export function stepNoise(ys: ArrayLike<number>): number {
  if (ys.length < 3) return 0;
  const d = new Float64Array(ys.length - 1);
  for (let i = 1; i < ys.length; i++) d[i - 1] = ys[i]! - ys[i - 1]!;
  const m = median(d);
  for (let i = 0; i < d.length; i++) d[i] = Math.abs(d[i]! - m);
  return 1.4826 * median(d);
}

/**
 * Zigzag with threshold `theta`: a peak is confirmed when the series then falls by theta or more
 * (a cleanup), a trough when it then rises by theta again. A rise at the start confirms no trough
 * (nothing was cleaned before it), so every trough follows a drop: each is the floor of a cycle.
 * `pendingTrough`: the series is falling or at the bottom after a drop, its lowest point so far.
 */
export function zigzag(bins: Bin[], theta: number): { peaks: Pivot[]; troughs: Pivot[]; pendingTrough: Pivot | null } {
  const peaks: Pivot[] = [], troughs: Pivot[] = [];
  const at = (i: number): Pivot => ({ i, t: bins[i]!.t, y: bins[i]!.y });
  let dir = 0, hi = 0, lo = 0, ext = 0;
  for (let i = 1; i < bins.length; i++) {
    const y = bins[i]!.y;
    if (dir === 0) {
      if (y > bins[hi]!.y) hi = i;
      if (y < bins[lo]!.y) lo = i;
      if (bins[hi]!.y - y >= theta) { peaks.push(at(hi)); dir = -1; ext = i; }
      else if (y - bins[lo]!.y >= theta) { dir = 1; ext = i; }
    } else if (dir > 0) {
      if (y > bins[ext]!.y) ext = i;
      else if (bins[ext]!.y - y >= theta) { peaks.push(at(ext)); dir = -1; ext = i; }
    } else {
      if (y < bins[ext]!.y) ext = i;
      else if (y - bins[ext]!.y >= theta) { troughs.push(at(ext)); dir = 1; ext = i; }
    }
  }
  return { peaks, troughs, pendingTrough: dir < 0 ? at(ext) : null };
}
