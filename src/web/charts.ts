// The page's charts (uPlot, served by the agent itself): a mount's inode and block use in % of
// their limits, with the forecast drawn ahead to the limit (expected, and at the earliest); a
// watched path's top patterns by file count. Every chart has its data as a table beside it for
// screen readers (and for anyone who wants the figures).
import uPlot from './vendor/uPlot.esm.js';
import { el, table } from './dom.js';
import { num, when } from './format.js';
import type { Forecast, Point } from './types.js';

export interface Line { label: string; points: Point[]; forecast?: Forecast | undefined; color: string }

const COLORS = ['#1f5fa8', '#b3541e', '#2e7d32', '#7b1fa2', '#6d4c41'];
export const color = (i: number) => COLORS[i % COLORS.length]!;

/** The aligned data of some lines, in % of their limits or as counts, with the forecasts ahead. */
function aligned(lines: Line[], asShare: boolean): { data: uPlot.AlignedData; names: string[]; colors: string[]; dashed: boolean[] } {
  const ts = new Set<number>();
  const value = (p: Point) => (asShare ? (p.limit ? (100 * p.used) / p.limit : null) : p.used);
  const cols: Array<Map<number, number | null>> = [];
  const names: string[] = [], colors: string[] = [], dashed: boolean[] = [];
  for (const l of lines) {
    const m = new Map<number, number | null>();
    for (const p of l.points) { ts.add(p.t); m.set(p.t, value(p)); }
    cols.push(m); names.push(l.label); colors.push(l.color); dashed.push(false);
    const last = l.points[l.points.length - 1];
    const f = l.forecast;
    if (!last || f?.state !== 'filling' || f.exhaustionAt === undefined) continue;
    const top = asShare ? 100 : (last.limit ?? null);
    if (top === null) continue;
    for (const [label, at] of [['expected', f.exhaustionAt], ['earliest', f.earliestAt]] as const) {
      if (at === undefined) continue;
      const fm = new Map<number, number | null>([[last.t, value(last)], [at, top]]);
      ts.add(last.t); ts.add(at);
      cols.push(fm); names.push(`${l.label}: full, ${label}`); colors.push(l.color); dashed.push(true);
    }
  }
  const xs = [...ts].sort((a, b) => a - b);
  return { data: [xs, ...cols.map((m) => xs.map((t) => (m.has(t) ? m.get(t)! : null)))] as uPlot.AlignedData, names, colors, dashed };
}

export interface ChartOptions { lines: Line[]; asShare: boolean; from: number; to: number; width: number }

/** A chart and its data table, in a figure. */
export function chart(box: HTMLElement, o: ChartOptions): uPlot {
  const { data, names, colors, dashed } = aligned(o.lines, o.asShare);
  const plot = new uPlot({
    width: Math.max(260, Math.floor(o.width)), height: 220,
    scales: { x: { time: true, range: () => [o.from, o.to] }, y: o.asShare ? { range: [0, 100] } : { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
    axes: [{}, { values: (_u, v) => v.map((x) => (o.asShare ? `${x}%` : num(x))), size: 60 }],
    series: [{}, ...names.map((label, i) => ({
      label, stroke: colors[i], width: dashed[i] ? 1.5 : 2, spanGaps: dashed[i], points: { show: false },
      ...(dashed[i] ? { dash: [6, 4] } : {}),
      value: (_u: uPlot, v: number | null) => (v === null ? '–' : o.asShare ? `${v.toFixed(1)}%` : num(v)),
    }))],
    legend: { live: false },
    cursor: { drag: { x: false, y: false } },
  }, data, box);
  return plot;
}

/** The figures of a chart as a table (the last 20 points of each line, and the forecasts). */
export function chartTable(caption: string, lines: Line[], asShare: boolean, now: number): HTMLElement {
  const rows: string[][] = [];
  for (const l of lines) {
    for (const p of l.points.slice(-20)) {
      rows.push([when(p.t, now), l.label, num(p.used), p.limit === null ? 'none' : num(p.limit), asShare && p.limit ? `${((100 * p.used) / p.limit).toFixed(1)}%` : '']);
    }
  }
  return el('details', { class: 'data' }, el('summary', {}, 'The figures as a table'),
    table(caption, ['time', 'series', 'used', 'limit', 'share'], rows, [false, false, true, true, true]));
}
