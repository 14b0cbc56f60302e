// Small formatting helpers shared by the human renderers.

import { middle } from '../shared/units.js';

export { num, count, pct, bytes, span, elapsed, ageOf, middle, iso } from '../shared/units.js';

/** A cell of a table other than its last is shortened in the middle past this many characters (docs/style.md). */
export const CELL_MAX = 60;

/** Right-aligned and left-aligned columns. */
export function table(rows: string[][], alignRight: boolean[]): string[] {
  rows = rows.map((r) => r.map((c, i) => (i < r.length - 1 ? middle(c, CELL_MAX) : c)));
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
