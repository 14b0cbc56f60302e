// enospc history and enospc forecast, for a terminal and as JSON.
import type { Forecast, Point, Resource } from '../agent/types.js';
import { bytes, num, span } from '../shared/units.js';
import { displayText } from '../shared/text.js';
import { headedTable, style } from './format.js';

export const HISTORY_SCHEMA = 1 as const;
export const FORECAST_SCHEMA = 1 as const;

/** `enospc history --json` (docs/json.md). */
export interface HistoryJson {
  schema: typeof HISTORY_SCHEMA;
  since: number;
  series: Array<{ resource: Resource; target: string; points: Point[] }>;
}

/** `enospc forecast --json` (docs/json.md): every forecast with its state and evidence. */
export interface ForecastJson {
  schema: typeof FORECAST_SCHEMA;
  now: number;
  forecasts: Forecast[];
}

const BARS = '▁▂▃▄▅▆▇█';

/** A sparkline of `used` over `width` columns (the last value of each column), scaled to the limit when there is one. */
export function sparkline(points: Point[], width = 48): string {
  if (!points.length) return '';
  const t0 = points[0]!.t, t1 = points[points.length - 1]!.t;
  const cols: Array<number | null> = new Array(width).fill(null);
  for (const p of points) cols[Math.min(width - 1, Math.floor(((p.t - t0) / Math.max(1, t1 - t0)) * width))] = p.used;
  const top = Math.max(points[points.length - 1]!.limit ?? 0, ...points.map((p) => p.used), 1);
  let last: number | null = null;
  return cols.map((v) => {
    const x = v ?? last;
    last = x;
    return x === null ? ' ' : BARS[Math.min(BARS.length - 1, Math.floor((x / top) * BARS.length))]!;
  }).join('');
}

const ago = span;

export function historyHuman(j: HistoryJson, color: boolean): string {
  const s = style(color);
  if (!j.series.length) return 'no history yet (is `enospc agent` running, with this --db?)\n';
  const rows = j.series.map((x) => {
    const last = x.points[x.points.length - 1];
    const use = last ? `${num(last.used)}${last.limit ? ` of ${num(last.limit)} (${((last.used / last.limit) * 100).toFixed(1)}%)` : ''}` : '-';
    return [x.resource, displayText(x.target), use, sparkline(x.points), last ? `${num(x.points.length)} samples over ${ago(last.t - x.points[0]!.t)}` : ''];
  });
  return headedTable([['RESOURCE', 'TARGET', 'NOW', 'SINCE ' + new Date(j.since * 1000).toISOString().slice(0, 16).replace('T', ' '), 'DATA'], ...rows], [false, false, true, false, false], s).join('\n') + '\n';
}

/** "full in ~N h (earliest M h)", or the state in words. */
export function forecastWords(f: Forecast, now: number): string {
  if (f.state === 'filling' && f.exhaustionAt !== undefined) {
    return `${f.resource === 'inode_numbers' ? 'wraps' : 'full'} in ~${ago(Math.max(0, f.exhaustionAt - now))}${f.earliestAt !== undefined ? ` (earliest ${ago(Math.max(0, f.earliestAt - now))})` : ''}`;
  }
  if (f.state === 'filling') return 'filling (no limit known)';
  if (f.state === 'not_growing') return 'not growing';
  const need = [f.needSamples ? `${num(f.needSamples)} more samples` : '', f.needSeconds ? `${ago(f.needSeconds)} more` : ''].filter(Boolean).join(', ');
  return `not enough data${need ? ` (${need})` : ''}`;
}

/** What a series counts, after a rate; blocks are bytes. */
const NOUN: Record<Resource, string> = { inodes: ' inodes', blocks: '', inotify_watches: ' watches', pattern: ' files', inode_numbers: ' inode numbers' };

/** A rate (per second) of a resource, per hour: "+1,200/h", bytes for blocks ("+12 MiB/h"); `noun`: "+1,200 inodes/h". */
export function perHour(resource: Resource, perSecond: number, noun = false): string {
  const r = Math.round(perSecond * 3600);
  return `${r < 0 ? '-' : '+'}${resource === 'blocks' ? bytes(Math.abs(r)) : num(Math.abs(r))}${noun ? NOUN[resource] : ''}/h`;
}

/** "1,440 samples over 6 h": what a forecast was judged on. */
export const judgedOn = (f: Forecast): string => `${num(f.samples)} samples over ${ago(f.spanSeconds)}`;

/**
 * A forecast as the lines of a doctor finding: when it is full, then the evidence, the trend with
 * its interval and what it was judged on. Null when there is nothing to say: not filling, or
 * full already ("~0 min": the finding says so).
 */
export function forecastLines(f: Forecast, now: number): [string, string] | null {
  if (f.state !== 'filling' || f.slopePerSecond === null) return null;
  if (f.exhaustionAt !== undefined && f.exhaustionAt - now < 30) return null;
  const when = f.exhaustionAt === undefined ? 'growing, to no limit known' : forecastWords(f, now);
  const [low, high] = [f.slopeLow, f.slopeHigh].map((x) => (x === null ? null : perHour(f.resource, x)));
  const interval = low && high && low !== high ? ` (${low} to ${high})` : '';
  return [`at this rate, ${when}`, `trend ${perHour(f.resource, f.slopePerSecond, true)}${interval}, judged on ${judgedOn(f)} of the agent's history`];
}

export function forecastHuman(j: ForecastJson, color: boolean): string {
  const s = style(color);
  if (!j.forecasts.length) return 'no history yet (is `enospc agent` running, with this --db?)\n';
  const order = { filling: 0, not_growing: 1, insufficient_data: 2 } as const;
  const list = [...j.forecasts].sort((a, b) => order[a.state] - order[b.state] || (a.exhaustionAt ?? Infinity) - (b.exhaustionAt ?? Infinity));
  const rows = list.map((f) => [
    f.resource, displayText(f.target), f.state === 'filling' ? s.red(f.state) : f.state, forecastWords(f, j.now),
    f.slopePerSecond === null ? '-' : perHour(f.resource, f.slopePerSecond),
    judgedOn(f),
  ]);
  return headedTable([['RESOURCE', 'TARGET', 'STATE', 'WHEN', 'TREND', 'JUDGED ON'], ...rows], [false, false, false, false, true, false], s).join('\n') + '\n';
}
