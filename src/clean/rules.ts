// tmpfiles.d(5) lines, read as systemd-tmpfiles (252) reads them: `Type Path Mode User Group Age
// Argument`. Every line that parses is kept, whatever its type: a path that has a line of its
// own is left alone by every other line's cleaning (systemd's "a separate entry exists"). The
// ones that clean: d, D, v, q, Q, C (their path) and e, x, X (a glob) with an age clean what is
// inside by age; r, R remove their paths, only with --remove (as systemd-tmpfiles --remove).
// Type modifiers: `!` (boot only: the line is left out unless --boot), `-`, `=`, `+`, `^`, `~`.
// Specifiers are expanded (specifiers.ts). Age: `[~][age-by:]span`, age-by letters abcm for
// files and ABCM for directories, each kind defaulting to all of abcm / abm when not given.
// A line that does not parse is a warning naming FILE:LINE and is skipped, as systemd does;
// with `strict` it refuses the whole file (RuleError).
import fs from 'node:fs';
import { displayText } from '../shared/text.js';
import { gidOf, uidOf } from '../probe/users.js';
import { compileGlob, GlobError } from './glob.js';
import { Specifiers } from './specifiers.js';

export type RuleType = string;

/** Which timestamps decide the age, for files and for directories (letters of abcm). */
export interface AgeBy { file: string; dir: string }
/** tmpfiles' default: every timestamp, except a directory's ctime (cleaning changes it). */
export const DEFAULT_AGE_BY: AgeBy = { file: 'abcm', dir: 'abm' };

export interface Rule {
  type: RuleType;
  /** specifiers expanded, `.` and repeated slashes taken out */
  path: string;
  /** ms; null: no age ("-") */
  age: number | null;
  ageBy: AgeBy;
  /** `~`: leave the entries directly in the directory, clean below them */
  belowFirst: boolean;
  /** the Mode, User, Group and Argument fields as written: two lines for one path are the same line when these are */
  rest: string;
  /** the `+` modifier: another line for the same path is not a duplicate */
  force: boolean;
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

const SEC = 1000;
// systemd's parse_sec units, in its order (the first that the text starts with wins)
const UNITS: Array<[string, number]> = [
  ['seconds', SEC], ['second', SEC], ['sec', SEC], ['s', SEC],
  ['minutes', 60 * SEC], ['minute', 60 * SEC], ['min', 60 * SEC],
  ['months', 2_629_800 * SEC], ['month', 2_629_800 * SEC], ['M', 2_629_800 * SEC],
  ['msec', 1], ['ms', 1], ['m', 60 * SEC],
  ['hours', 3600 * SEC], ['hour', 3600 * SEC], ['hr', 3600 * SEC], ['h', 3600 * SEC],
  ['days', 86_400 * SEC], ['day', 86_400 * SEC], ['d', 86_400 * SEC],
  ['weeks', 604_800 * SEC], ['week', 604_800 * SEC], ['w', 604_800 * SEC],
  ['years', 31_557_600 * SEC], ['year', 31_557_600 * SEC], ['y', 31_557_600 * SEC],
  ['usec', 0.001], ['us', 0.001], ['µs', 0.001], ['μs', 0.001],
];

/** A systemd time span (`2h`, `1h 30min`, `90`, `1.5d`, `infinity`) in ms, or null when it does not parse. */
export function parseSpan(text: string): number | null {
  const t = text.trim();
  if (t === 'infinity') return Infinity;
  if (!t) return null;
  let total = 0;
  let i = 0;
  while (i < t.length) {
    const num = /^(\d+(?:\.\d*)?|\.\d+)\s*/.exec(t.slice(i));
    if (!num) return null;
    i += num[0].length;
    const rest = t.slice(i);
    const unit = UNITS.find(([u]) => rest.startsWith(u));
    if (unit) i += unit[0].length;
    total += Number(num[1]) * (unit ? unit[1] : SEC);
    while (i < t.length && /\s/.test(t[i]!)) i++;
  }
  return total;
}

/** The Age field: `-`, `2h`, `~2h`, `cm:2h`, `~mA:1d` (systemd's order: `~`, then the age-by, then the span). */
export function parseAge(text: string): { age: number | null; ageBy: AgeBy; belowFirst: boolean } | string {
  if (text === '-' || text === '') return { age: null, ageBy: DEFAULT_AGE_BY, belowFirst: false };
  let t = text;
  const belowFirst = t.startsWith('~');
  if (belowFirst) t = t.slice(1);
  let ageBy = DEFAULT_AGE_BY;
  const colon = t.indexOf(':');
  if (colon >= 0) {
    const by = t.slice(0, colon).replace(/\s/g, '');
    if (!/^[abcmABCM]+$/.test(by)) return `bad age-by ${quoted(t.slice(0, colon))} (letters abcm for files, ABCM for directories)`;
    const file = [...new Set(by.replace(/[A-Z]/g, ''))].join('');
    const dir = [...new Set(by.replace(/[a-z]/g, '').toLowerCase())].join('');
    ageBy = { file: file || DEFAULT_AGE_BY.file, dir: dir || DEFAULT_AGE_BY.dir };
    t = t.slice(colon + 1);
  }
  const age = parseSpan(t);
  if (age === null) return `bad age ${quoted(text)} (like 10d, 2h, 1h30m, ~1d, cm:2h, ~m:1d)`;
  return { age, ageBy, belowFirst };
}

/** Split a line into fields: whitespace-separated, double quotes group, backslash escapes. */
function fields(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quotedNow = false;
  let has = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '\\' && i + 1 < line.length) { cur += c + line[++i]; has = true; continue; }
    if (c === '"') { quotedNow = !quotedNow; has = true; continue; }
    if (!quotedNow && (c === ' ' || c === '\t')) {
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

/** Types whose age cleans what is inside their path (v, q, Q: d for a btrfs subvolume; C: a copied tree). */
export const CLEAN_INSIDE = new Set<RuleType>(['e', 'd', 'D', 'v', 'q', 'Q', 'C', 'x', 'X']);
/** Types whose path is a glob (systemd's needs_glob); the others name one path. */
export const GLOB_TYPES = new Set<RuleType>(['w', 'e', 't', 'T', 'a', 'A', 'h', 'H', 'x', 'X', 'r', 'R', 'z', 'Z', 'm']);
/** Types that own their path: two different lines of these for one path are a duplicate (systemd's takes_ownership). */
const OWNING = new Set<RuleType>(['f', 'F', 'd', 'D', 'v', 'q', 'Q', 'p', 'L', 'c', 'b', 'C', 'w', 'e', 'x', 'X', 'r', 'R']);
const KNOWN = new Set(['f', 'F', 'w', 'd', 'D', 'e', 'v', 'q', 'Q', 'p', 'L', 'c', 'b', 'C', 'x', 'X', 'r', 'R', 'z', 'Z', 't', 'T', 'h', 'H', 'a', 'A', 'm']);
const MODIFIERS = new Set(['!', '-', '=', '+', '^', '~']);

export interface ParseOptions {
  /** run `!` (boot-only) lines too */
  boot?: boolean;
  /** a line that does not parse refuses the whole file (RuleError) instead of being skipped */
  strict?: boolean;
}

/** Lines of a tmpfiles.d file that parse, and a warning (FILE:LINE: why) for each that does not. */
export interface Parsed { rules: Rule[]; warnings: string[] }

const specifiers = new Specifiers();

/** Parse a tmpfiles.d file: every line that parses, of any type; `!` lines only with `boot`. */
export function parseRules(text: string, file: string, opts: ParseOptions = {}): Parsed {
  const out: Parsed = { rules: [], warnings: [] };
  try {
    text.split('\n').forEach((raw, i) => {
      const line = raw.trim();
      if (!line || line.startsWith('#')) return;
      const why = parseLine(line, file, i + 1, opts, out.rules);
      if (why === null) return;
      if (opts.strict) throw new RuleError(file, i + 1, why);
      out.warnings.push(`${displayText(file)}:${i + 1}: ${why}; line skipped`);
    });
  } catch (e) {
    if (!(e instanceof FileRefused) || opts.strict) throw e;
    return { rules: [], warnings: [`${e.message}: the whole file is refused, as systemd does`] };
  }
  return out;
}

/** A line that makes systemd refuse its whole file. */
class FileRefused extends RuleError {}

/** The Mode, User and Group fields: a bad mode, or a user or group this host does not have, make the line invalid. */
function badOwnerOrMode(mode = '-', user = '-', group = '-'): string | null {
  if (mode !== '-' && !/^[~:]{0,2}[0-7]{1,4}$/.test(mode)) return `bad mode ${quoted(mode)}`;
  if (user !== '-' && uidOf(user) === undefined) return `unknown user ${quoted(user)}`;
  if (group !== '-' && gidOf(group) === undefined) return `unknown group ${quoted(group)}`;
  return null;
}


/** Adds the rule of one line (unless it is boot-only without `boot`); the reason when it does not parse. */
function parseLine(line: string, file: string, lineNo: number, opts: ParseOptions, into: Rule[]): string | null {
  const f = fields(line);
  if (f.length < 2) return 'a line needs at least a type and a path';
  const typeField = f[0]!;
  const type = typeField[0]!;
  if (!KNOWN.has(type)) return `unknown type ${quoted(typeField)}`;
  const mods = typeField.slice(1);
  for (const [k, m] of [...mods].entries()) {
    if (!MODIFIERS.has(m) || mods.indexOf(m) !== k) return `unknown modifier ${quoted(m)} in ${quoted(typeField)}`;
  }
  // ^: the argument is a credential's name; none is passed to enospc (with no name systemd refuses the whole file)
  if (mods.includes('^')) {
    if (f[6] === undefined || f[6] === '-') throw new FileRefused(file, lineNo, `${quoted(typeField)} without a credential name`);
    return `credential ${quoted(f[6])} not passed (enospc reads no credentials)`;
  }
  const bad = badOwnerOrMode(f[2], f[3], f[4]);
  if (bad) return bad;
  const unescaped = unescape(f[1]!);
  if ('error' in unescaped) return unescaped.error;
  const expanded = specifiers.expand(unescaped.text);
  if ('error' in expanded) return expanded.error;
  const path = expanded.text;
  if (!path.startsWith('/')) return `the path ${quoted(path)} is not absolute`;
  if (GLOB_TYPES.has(type)) {
    try {
      compileGlob(path);
    } catch (e) {
      if (e instanceof GlobError) return `the path is not a valid glob: ${displayText(e.message)}`;
      throw e;
    }
  }
  const ageField = f[5] ?? '-';
  const a = parseAge(ageField);
  if (typeof a === 'string') return a;
  // C: with no source there is nothing for the line to copy, and systemd skips it
  if (type === 'C' && !fs.existsSync(f[6] !== undefined && f[6] !== '-' ? f[6] : `/usr/share/factory${path}`)) return `no source to copy for ${quoted(path)}`;
  if (mods.includes('!') && !opts.boot) return null; // boot only: left out, and protects nothing
  into.push({
    type, path: tidyPath(path), ...a, rest: [f[2], f[3], f[4], f[6]].map((x) => x ?? '-').join(' '),
    force: mods.includes('+'), file, line: lineNo,
  });
  return null;
}

const ESCAPES: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"', "'": "'", s: ' ' };

/** A field's C escapes, as systemd's cunescape: `\\`, `\x20`, `\n`, octal `\040`; any other `\c` is `c` (so a glob's own `\*` is written `\\*`). */
function unescape(s: string): { text: string } | { error: string } {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] !== '\\') { out += s[i]; continue; }
    const e = s[++i] ?? '';
    if (ESCAPES[e] !== undefined) out += ESCAPES[e];
    else if (e === 'x' && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) { out += String.fromCharCode(parseInt(s.slice(i + 1, i + 3), 16)); i += 2; }
    else if (/^[0-7]{3}$/.test(s.slice(i, i + 3))) { out += String.fromCharCode(parseInt(s.slice(i, i + 3), 8)); i += 2; }
    else out += e; // as systemd's extract_first_word: an unknown escape is the character itself
  }
  return { text: out };
}

/**
 * The rules in effect: for one path, the first line wins over a later one that differs (both of
 * types that own a path, no `+`), with a warning as systemd gives; identical lines are one.
 */
export function dedupe(rules: Rule[], warnings: string[]): Rule[] {
  const byPath = new Map<string, Rule[]>();
  const out: Rule[] = [];
  for (const r of rules) {
    const same = byPath.get(r.path) ?? [];
    // systemd keeps glob lines and the others in two tables: a duplicate is one of the same table
    const clash = same.find((o) => GLOB_TYPES.has(o.type) === GLOB_TYPES.has(r.type) && OWNING.has(o.type) && OWNING.has(r.type) && !(o.type === r.type && o.rest === r.rest && o.age === r.age && o.belowFirst === r.belowFirst && o.ageBy.file === r.ageBy.file && o.ageBy.dir === r.ageBy.dir));
    if (clash && !r.force) {
      warnings.push(`${displayText(r.file)}:${r.line}: duplicate line for path ${displayText(r.path)} (first given at ${displayText(clash.file)}:${clash.line}); line skipped`);
      continue;
    }
    if (same.some((o) => o.type === r.type && o.rest === r.rest && o.age === r.age && o.belowFirst === r.belowFirst)) continue;
    same.push(r);
    byPath.set(r.path, same);
    out.push(r);
  }
  return out;
}

/**
 * An X line without an age takes the age of a line for a directory above it (d, D, v, q, Q, C
 * with an age; systemd 252 takes the outermost), so that what is inside it is cleaned by that
 * age while the X path itself is kept.
 */
export function inheritAges(rules: Rule[]): void {
  for (const x of rules) {
    if (x.type !== 'X' || x.age !== null) continue;
    let best: Rule | null = null;
    for (const d of rules) {
      if (GLOB_TYPES.has(d.type) || d.age === null || !x.path.startsWith(d.path === '/' ? '/' : d.path + '/')) continue;
      if (!best || d.path.length < best.path.length) best = d;
    }
    if (best) x.age = best.age;
  }
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
