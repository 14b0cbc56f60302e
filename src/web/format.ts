// Numbers, sizes, durations and times as the page shows them (the style of the terminal output:
// "2 d 4 h", a date past 30 days).

export function num(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return 'unknown';
  return Math.round(n).toLocaleString('en-US');
}

export function pct(used: number | null, limit: number | null): string {
  if (used === null || !limit) return '';
  const p = (100 * used) / limit;
  return `${p >= 99.95 && used < limit ? '99.9' : p.toFixed(p < 10 ? 1 : 0)}%`;
}

export function bytes(n: number | null): string {
  if (n === null) return 'unknown';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n, i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${v.toFixed(i === 0 || v >= 100 ? 0 : 1)} ${units[i]}`;
}

/** A span of seconds: "45 s", "12 min", "3 h 20 min", "2 d 4 h". */
export function span(s: number): string {
  if (!Number.isFinite(s)) return 'unknown';
  if (s > 0 && s < 1) return `${Math.round(s * 1000)} ms`;
  s = Math.max(0, Math.round(s));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
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
