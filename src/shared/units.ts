// Numbers, sizes, durations and times as people read them: one spelling everywhere (reports,
// finding titles, fixes).

/**
 * n with thousands separators and at most 3 decimals, exactly as n.toLocaleString('en-US') spells
 * it, without ICU: a long-running agent that formats numbers would otherwise map ~5 MB of
 * Node's ICU data for it.
 */
export function num(n: number): string {
  if (!Number.isFinite(n)) return Number.isNaN(n) ? 'NaN' : n > 0 ? '∞' : '-∞';
  const abs = Math.abs(n);
  if (abs >= 1e21) return n.toLocaleString('en-US'); // exponents in String(): rare enough
  // rounded half away from zero on the shortest decimal form of n (as ICU does: 1.0005 -> 1.001)
  const [i0, f0 = ''] = abs < 1e-6 ? ['0'] : String(abs).split('.');
  let scaled = BigInt(i0! + f0.slice(0, 3).padEnd(3, '0'));
  if ((f0[3] ?? '0') >= '5') scaled += 1n;
  const digits = scaled.toString().padStart(4, '0');
  const int = digits.slice(0, -3), frac = digits.slice(-3).replace(/0+$/, '');
  return `${n < 0 || Object.is(n, -0) ? '-' : ''}${int.replace(/\B(?=(\d{3})+$)/g, ',')}${frac ? '.' + frac : ''}`;
}

/** "1 image", "3 images" (plural by adding s, or the given plural). */
export function count(n: number, one: string, many = one + 's'): string {
  return `${num(n)} ${n === 1 ? one : many}`;
}

export function pct(part: number, whole: number): string {
  if (!whole) return '-';
  const p = (100 * part) / whole;
  return p >= 10 || p === 0 ? `${Math.round(p)}%` : `${p.toFixed(1)}%`;
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
export function bytes(n: number): string {
  let u = 0;
  let v = n;
  while (v >= 1024 && u < UNITS.length - 1) { v /= 1024; u++; }
  return u === 0 ? `${n} B` : `${v < 10 ? v.toFixed(1) : Math.round(v)} ${UNITS[u]}`;
}

/** A duration, in at most two units (docs/style.md): "45 s", "12 min", "3 h 20 min", "2 d 4 h". */
export function span(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  const hours = Math.round(m / 60);
  const d = Math.floor(hours / 24);
  return hours % 24 ? `${d} d ${hours % 24} h` : `${d} d`;
}

/** How long a run took: "12 ms" under 0.1 s, "0.4 s" (one decimal) under a minute, then as span. */
export function elapsed(ms: number): string {
  if (ms < 99.5) return `${Math.max(0, Math.round(ms))} ms`;
  return ms < 59_950 ? `${(ms / 1000).toFixed(1)} s` : span(ms / 1000);
}

/** An age (seconds since then): as span within 30 days, else the date it was (YYYY-MM-DD, UTC). */
export function ageOf(seconds: number, nowSeconds = Date.now() / 1000): string {
  return seconds <= 30 * 86400 ? span(seconds) : new Date((nowSeconds - seconds) * 1000).toISOString().slice(0, 10);
}

/** Text of at most `max` characters, shortened in the middle with an ellipsis (terminal output only, never JSON). */
export function middle(text: string, max: number): string {
  const chars = [...text];
  if (chars.length <= max) return text;
  const keep = max - 1, head = Math.ceil(keep / 2);
  return chars.slice(0, head).join('') + '…' + chars.slice(chars.length - (keep - head)).join('');
}

/** A duration in seconds exactly, in tmpfiles.d and `enospc clean --older-than` syntax: 1h, 90min, 2d, 45s. */
export function age(seconds: number): string {
  const s = Math.max(1, Math.round(seconds));
  for (const [unit, n] of [['d', 86400], ['h', 3600], ['min', 60]] as const) if (s % n === 0) return `${s / n}${unit}`;
  return `${s}s`;
}

/**
 * A count for a tmpfs size option (nr_inodes=): the kernel reads k, m and g as powers of 1024.
 * The largest suffix that writes it exactly: 1048576 -> 1m, 45056 -> 44k, 44492 -> 44492.
 */
export function countOption(n: number): string {
  for (const [unit, m] of [['g', 2 ** 30], ['m', 2 ** 20], ['k', 2 ** 10]] as const) if (n >= m && n % m === 0) return `${n / m}${unit}`;
  return String(n);
}

export function iso(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace('.000Z', 'Z');
}
