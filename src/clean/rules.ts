// tmpfiles.d(5) lines, as far as cleaning goes: `Type Path Mode User Group Age Argument`.
// Types e, d, D, and the subvolume forms v, q, Q (clean what is inside by age), r, R (remove
// the path; R with its contents),
// x, X (leave alone: with contents / the path itself only). Other types create things and are
// ignored here. Ages: `2h`, `1h30m`, `10d`, `~` (only below the first level), and an age-by
// prefix `abcmABCM:` picking the timestamps that must all be older than the cutoff.
import { displayText } from '../shared/text.js';
import { compileGlob, GlobError } from './glob.js';

export type RuleType = 'e' | 'd' | 'D' | 'v' | 'q' | 'Q' | 'r' | 'R' | 'x' | 'X';

/** Which timestamps decide the age, for files and for directories. */
export interface AgeBy { file: string; dir: string }
/** tmpfiles' default: every timestamp, except a directory's ctime (cleaning changes it). */
export const DEFAULT_AGE_BY: AgeBy = { file: 'abcm', dir: 'abm' };

export interface Rule {
  type: RuleType;
  path: string;
  /** ms; null: no age limit ("-") */
  age: number | null;
  ageBy: AgeBy;
  /** `~`: leave the entries directly in the directory, clean below them */
  belowFirst: boolean;
  file: string;
  line: number;
}

/** A line that does not parse. The message names the file and line, never the line's text (the file may be anything). */
export class RuleError extends Error {
  constructor(readonly file: string, readonly line: number, message: string) {
    super(`${displayText(file)}:${line}: ${message}`);
  }
}

/** A field of a bad line, quoted (escaped) when it is short enough to be a mistyped field, else only its length. */
function quoted(field: string): string {
  return field.length <= 24 ? `'${displayText(field)}'` : `(a field of ${field.length} characters)`;
}

const UNITS: Record<string, number> = {
  us: 0.001, usec: 0.001, ms: 1, msec: 1, s: 1000, sec: 1000, second: 1000, seconds: 1000,
  m: 60_000, min: 60_000, minute: 60_000, minutes: 60_000, h: 3_600_000, hr: 3_600_000, hour: 3_600_000, hours: 3_600_000,
  d: 86_400_000, day: 86_400_000, days: 86_400_000, w: 604_800_000, week: 604_800_000, weeks: 604_800_000,
};

/** A systemd time span (`2h`, `1h30m`, `90`, `10 d`) in ms, or null when it does not parse. */
export function parseSpan(text: string): number | null {
  const t = text.trim();
  if (!t) return null;
  if (/^\d+$/.test(t)) return Number(t) * 1000;
  let total = 0;
  const re = /(\d+(?:\.\d+)?)\s*([a-z]+)\s*/gy;
  let m: RegExpExecArray | null;
  let at = 0;
  while ((m = re.exec(t)) !== null) {
    const unit = UNITS[m[2]!];
    if (unit === undefined) return null;
    total += Number(m[1]) * unit;
    at = re.lastIndex;
  }
  return at === t.length ? total : null;
}

/** The Age field: `-`, `~2h`, `cm:2h`, `~abcm:1d`. */
export function parseAge(text: string): { age: number | null; ageBy: AgeBy; belowFirst: boolean } | string {
  if (text === '-') return { age: null, ageBy: DEFAULT_AGE_BY, belowFirst: false };
  let t = text;
  let ageBy = DEFAULT_AGE_BY;
  const colon = t.indexOf(':');
  if (colon >= 0) {
    const by = t.slice(0, colon);
    if (!/^[abcmABCM]+$/.test(by)) return `bad age-by ${quoted(by)} (letters abcm for files, ABCM for directories)`;
    ageBy = { file: by.replace(/[A-Z]/g, ''), dir: by.replace(/[a-z]/g, '').toLowerCase().replace('c', '') };
    t = t.slice(colon + 1);
  }
  const belowFirst = t.startsWith('~');
  if (belowFirst) t = t.slice(1);
  const age = parseSpan(t);
  if (age === null) return `bad age ${quoted(text)} (like 10d, 2h, 1h30m, ~1d, cm:2h)`;
  return { age, ageBy, belowFirst };
}

/** Split a line into fields: whitespace-separated, double quotes group, backslash escapes. */
function fields(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  let has = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '\\' && i + 1 < line.length) { cur += line[++i]; has = true; continue; }
    if (c === '"') { quoted = !quoted; has = true; continue; }
    if (!quoted && (c === ' ' || c === '\t')) {
      if (has) out.push(cur);
      cur = '';
      has = false;
      continue;
    }
    cur += c;
    has = true;
  }
  if (has) out.push(cur);
  return out;
}

const CLEANING = new Set(['e', 'd', 'D', 'v', 'q', 'Q', 'r', 'R', 'x', 'X']);
/** Types whose age cleans what is inside the directory (v, q, Q: d for a btrfs subvolume). */
export const CLEAN_INSIDE = new Set<RuleType>(['e', 'd', 'D', 'v', 'q', 'Q']);
const KNOWN = new Set(['f', 'w', 'd', 'D', 'e', 'v', 'q', 'Q', 'p', 'L', 'c', 'b', 'C', 'x', 'X', 'r', 'R', 'z', 'Z', 't', 'T', 'h', 'H', 'a', 'A']);

/**
 * Parse a tmpfiles.d file. Throws RuleError (file and line) on the first line that does not
 * parse; lines of types that only create things are skipped.
 */
export function parseRules(text: string, file: string): Rule[] {
  const rules: Rule[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const f = fields(line);
    const fail = (why: string): never => { throw new RuleError(file, i + 1, why); };
    if (f.length < 2) fail('a line needs at least a type and a path');
    const typeField = f[0]!;
    const type = typeField.replace(/[-+!=~^$?]+$/, '');
    if (type.length !== 1 || !KNOWN.has(type)) fail(`unknown type ${quoted(typeField)}`);
    const path = f[1]!;
    if (!path.startsWith('/')) fail('the path must be absolute');
    if (!CLEANING.has(type)) return;
    try {
      compileGlob(path);
    } catch (e) {
      if (e instanceof GlobError) fail(`the path is not a valid glob: ${displayText(e.message)}`);
      throw e;
    }
    const ageField = f[5] ?? '-';
    const a = parseAge(ageField);
    if (typeof a === 'string') fail(a);
    const parsed = a as Exclude<typeof a, string>;
    rules.push({ type: type as RuleType, path: tidyPath(path), ...parsed, file, line: i + 1 });
  });
  return rules;
}

/**
 * A rule's path with `.` components, repeated and trailing slashes taken out (`/tmp//./x/` is
 * `/tmp/x`). `..` stays: what it means depends on the directories it climbs out of (plan.ts).
 */
export function tidyPath(p: string): string {
  return '/' + p.split('/').filter((c) => c !== '' && c !== '.').join('/');
}

/** The path with `..` taken lexically too (`/tmp/..` is `/`): what a refusal is decided on. */
export function lexicalPath(p: string): string {
  const out: string[] = [];
  for (const c of tidyPath(p).split('/')) {
    if (c === '..') out.pop();
    else if (c) out.push(c);
  }
  return '/' + out.join('/');
}
