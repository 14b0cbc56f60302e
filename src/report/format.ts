// Small formatting helpers shared by the human renderers.

export function num(n: number): string {
  return n.toLocaleString('en-US');
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

/** A duration in seconds as `3d`, `5h`, `12m`, `40s`. */
export function span(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s >= 86400 * 2) return `${Math.round(s / 86400)}d`;
  if (s >= 3600 * 2) return `${Math.round(s / 3600)}h`;
  if (s >= 120) return `${Math.round(s / 60)}m`;
  return `${s}s`;
}

export function iso(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace('.000Z', 'Z');
}

/** Right-aligned and left-aligned columns. */
export function table(rows: string[][], alignRight: boolean[]): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => { widths[i] = Math.max(widths[i] ?? 0, [...c].length); });
  return rows.map((r) => r.map((c, i) => {
    if (i === r.length - 1 && !alignRight[i]) return c;
    const pad = ' '.repeat((widths[i] ?? 0) - [...c].length);
    return alignRight[i] ? pad + c : c + pad;
  }).join('  ').trimEnd());
}

/** `table` with its first row (the header) dimmed, every line after `indent`. */
export function headedTable(rows: string[][], alignRight: boolean[], s: Style, indent = ''): string[] {
  return table(rows, alignRight).map((l, i) => (i === 0 ? s.dim(indent + l) : indent + l));
}

export interface Style { bold(s: string): string; dim(s: string): string; red(s: string): string; yellow(s: string): string }

/** ANSI styles when `color`, else identity. */
export function style(color: boolean): Style {
  const wrap = (code: number) => (s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  return { bold: wrap(1), dim: wrap(2), red: wrap(31), yellow: wrap(33) };
}

/** Colour only on a terminal, and never when NO_COLOR is set. */
export function wantColor(stream: NodeJS.WriteStream): boolean {
  return stream.isTTY === true && !process.env['NO_COLOR'] && process.env['TERM'] !== 'dumb';
}
