// Numbers, sizes, durations and times as the page shows them: the terminal's own helpers
// (src/shared/units.ts, served beside the page), with 'unknown' for what the agent could not read.

import { bytes as sharedBytes, elapsed, num as sharedNum, span as sharedSpan } from '../shared/units.js';

/** A whole number as the terminal spells it; 'unknown' for what the agent could not read. */
export function num(n: number | null | undefined): string {
  return n === null || n === undefined || !Number.isFinite(n) ? 'unknown' : sharedNum(Math.round(n));
}

export function pct(used: number | null, limit: number | null): string {
  if (used === null || !limit) return '';
  const p = (100 * used) / limit;
  return `${p >= 99.95 && used < limit ? '99.9' : p.toFixed(p < 10 ? 1 : 0)}%`;
}

export function bytes(n: number | null): string {
  return n === null ? 'unknown' : sharedBytes(n);
}

/** A span of seconds as the terminal spells it ("3 h 20 min"); under a second in ms (a 200 ms interval). */
export function span(s: number): string {
  if (!Number.isFinite(s)) return 'unknown';
  return s > 0 && s < 1 ? elapsed(s * 1000) : sharedSpan(s);
}

const pad = (n: number) => String(n).padStart(2, '0');

/** A moment: the time of day when today, a date and time within 30 days, a date past them. */
export function when(t: number, now: number): string {
  const d = new Date(t * 1000), today = new Date(now * 1000);
  const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  const date = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  if (Math.abs(t - now) > 30 * 86400) return date;
  return d.toDateString() === today.toDateString() ? hm : `${date} ${hm}`;
}

/** "in 3 h 20 min (at 14:05)". */
export function inTime(t: number, now: number): string {
  return t <= now ? `now (${when(t, now)})` : `in ${span(t - now)} (${when(t, now)})`;
}

/** The time of day to the second (the last sample). */
export function clock(t: number): string {
  const d = new Date(t * 1000);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
