// Shell globs for `enospc clean` (--match, and the paths of tmpfiles.d rules), matched on bytes
// without backtracking blow-ups.
//
// Syntax (fnmatch's): `*` any run, `?` one character, `[...]` one character of a class (`!` or
// `^` first negates; `a-z` ranges; `[:alpha:]` and the other POSIX names; `]` first is a
// member), `\` quotes the next character. An unclosed `[` is itself. A reversed range or an
// unknown class name is an error (GlobError). `*`, `?` and classes never match `/`: a pattern
// with `/` in it matches a path component by component.
//
// Names are bytes: a valid UTF-8 sequence is one character, any other byte is a character of
// its own that only the same byte matches (a pattern taken from the command line's raw bytes
// can name it). So `\xff`, `\xfe` and U+FFFD are three different characters.
//
// Matching is the classic two-pointer wildcard match: on a mismatch only the last `*` takes
// one more character, so a name is matched in at most (name length) × (pattern length) steps
// (`*-*-*-*-*.tmp` against 250 dashes: about 3,000), where a backtracking RegExp takes
// exponential time.

/** A character of a name or pattern: a Unicode code point, or RAW + the byte for a byte that is not UTF-8. */
const RAW = 0x110000;

const LIT = 0;
const ANY = 1;
const STAR = 2;
const CLASS = 3;

export class GlobError extends Error {}

interface CharClass { negated: boolean; ranges: number[] }

/** Ranges of the POSIX classes, ASCII only (as fnmatch in the C locale). */
const NAMED: Record<string, number[]> = {
  alpha: [65, 90, 97, 122], digit: [48, 57], alnum: [48, 57, 65, 90, 97, 122], upper: [65, 90], lower: [97, 122],
  xdigit: [48, 57, 65, 70, 97, 102], space: [9, 13, 32, 32], blank: [9, 9, 32, 32], punct: [33, 47, 58, 64, 91, 96, 123, 126],
  print: [32, 126], graph: [33, 126], cntrl: [0, 31, 127, 127],
};

/** Length of the character at b[i] (valid UTF-8: 1 to 4 bytes; else 1), set by charAt. */
let charLen = 1;

/** The character at b[i] (b[i, end) not empty); its length in charLen. */
function charAt(b: Uint8Array, i: number, end: number): number {
  const c = b[i]!;
  charLen = 1;
  if (c < 0x80) return c;
  let n: number;
  let cp: number;
  let min: number;
  if (c >= 0xc2 && c <= 0xdf) { n = 2; cp = c & 0x1f; min = 0x80; }
  else if (c >= 0xe0 && c <= 0xef) { n = 3; cp = c & 0x0f; min = 0x800; }
  else if (c >= 0xf0 && c <= 0xf4) { n = 4; cp = c & 0x07; min = 0x10000; }
  else return RAW + c;
  if (i + n > end) return RAW + c;
  for (let k = 1; k < n; k++) {
    const x = b[i + k]!;
    if ((x & 0xc0) !== 0x80) return RAW + c;
    cp = (cp << 6) | (x & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return RAW + c;
  charLen = n;
  return cp;
}

/** One component of a pattern: parallel arrays of token kinds and values (a character, a class index). */
interface Segment { kind: number[]; value: number[] }

const SLASH = 47;

function charText(u: number): string {
  return u >= RAW ? `\\x${(u - RAW).toString(16).padStart(2, '0')}` : String.fromCodePoint(u);
}

/** A compiled glob. `source` is the glob as given (text; \xHH for bytes that are not UTF-8). */
export class Glob {
  private readonly segments: Segment[] = [];
  private readonly classes: CharClass[] = [];

  /** fnmatch's FNM_PERIOD: a `.` leading a name is matched only by a `.` in the pattern */
  private readonly period: boolean;

  constructor(readonly source: string, readonly bytes: Buffer, opts: GlobOptions = {}) {
    this.parse(bytes);
    this.period = opts.period === true;
  }

  /** Segment k may match a name starting at b[at]? (FNM_PERIOD) */
  private periodOk(seg: Segment, b: Uint8Array, at: number, end: number): boolean {
    return !this.period || at >= end || b[at] !== 46 || (seg.kind[0] === LIT && seg.value[0] === 46);
  }

  /** Does the name (or path, for a pattern with `/`) b[start, end) match? */
  match(b: Uint8Array, start = 0, end = b.length): boolean {
    const segs = this.segments;
    if (segs.length === 1) return this.periodOk(segs[0]!, b, start, end) && this.matchSegment(segs[0]!, b, start, end);
    let at = start;
    for (let k = 0; k < segs.length; k++) {
      let stop = at;
      while (stop < end && b[stop] !== SLASH) stop++;
      if ((k === segs.length - 1) !== (stop === end)) return false;
      if (!this.periodOk(segs[k]!, b, at, stop) || !this.matchSegment(segs[k]!, b, at, stop)) return false;
      at = stop + 1;
    }
    return true;
  }

  /** The same, for a name given as text (UTF-8). */
  test(text: string): boolean {
    return this.match(Buffer.from(text));
  }

  /** The glob as a JavaScript regular expression's source (what --json has shown as `match`). */
  regExpSource(): string {
    const esc = (u: number, special: RegExp) => (u < 128 && special.test(String.fromCharCode(u)) ? '\\' : '') + charText(u);
    const plain = /[.*?+^${}()|[\]\\/]/;
    const inClass = /[\]\\^-]/;
    const parts = this.segments.map((s) => s.kind.map((k, i) => {
      const v = s.value[i]!;
      if (k === STAR) return '[^/]*';
      if (k === ANY) return '[^/]';
      if (k === LIT) return esc(v, plain);
      const c = this.classes[v]!;
      let body = '';
      for (let r = 0; r < c.ranges.length; r += 2) {
        body += c.ranges[r] === c.ranges[r + 1] ? esc(c.ranges[r]!, inClass) : `${esc(c.ranges[r]!, inClass)}-${esc(c.ranges[r + 1]!, inClass)}`;
      }
      return `[${c.negated ? '^' : ''}${body}]`;
    }).join(''));
    return `^${parts.join('\\/')}$`;
  }

  private matchSegment(seg: Segment, b: Uint8Array, start: number, end: number): boolean {
    const kind = seg.kind;
    const value = seg.value;
    const m = kind.length;
    let p = 0;
    let s = start;
    let starP = -1;
    let starS = 0;
    while (s < end) {
      if (p < m) {
        const k = kind[p]!;
        if (k === STAR) {
          starP = p++;
          starS = s;
          continue;
        }
        const u = charAt(b, s, end);
        if (u !== SLASH && (k === ANY || (k === LIT ? value[p] === u : this.inClass(this.classes[value[p]!]!, u)))) {
          p++;
          s += charLen;
          continue;
        }
      }
      // a mismatch: the last `*` takes one more character, the rest starts over after it
      if (starP < 0) return false;
      if (charAt(b, starS, end) === SLASH) return false;
      starS += charLen;
      s = starS;
      p = starP + 1;
    }
    while (p < m && kind[p] === STAR) p++;
    return p === m;
  }

  private inClass(c: CharClass, u: number): boolean {
    const r = c.ranges;
    let hit = false;
    for (let i = 0; i < r.length && !hit; i += 2) hit = u >= r[i]! && u <= r[i + 1]!;
    return hit !== c.negated;
  }

  private parse(b: Buffer): void {
    let seg: Segment = { kind: [], value: [] };
    this.segments.push(seg);
    const push = (k: number, v: number) => {
      if (k === STAR && seg.kind[seg.kind.length - 1] === STAR) return;
      seg.kind.push(k);
      seg.value.push(v);
    };
    for (let i = 0; i < b.length;) {
      const u = charAt(b, i, b.length);
      const len = charLen;
      if (u === 92 && i + 1 < b.length) { // backslash: the next character itself
        const q = charAt(b, i + 1, b.length);
        i += 1 + charLen;
        if (q === SLASH) { seg = { kind: [], value: [] }; this.segments.push(seg); } else push(LIT, q);
      } else if (u === 42) { push(STAR, 0); i += len; }
      else if (u === 63) { push(ANY, 0); i += len; }
      else if (u === SLASH) { seg = { kind: [], value: [] }; this.segments.push(seg); i += len; }
      else if (u === 91) {
        const end = this.parseClass(b, i + 1);
        if (end < 0) { push(LIT, u); i += len; } else { push(CLASS, this.classes.length - 1); i = end; }
      } else { push(LIT, u); i += len; }
    }
  }

  /** Parse a class after its `[` at b[i]: adds it and returns the index after `]`, or -1 when it is not closed. */
  private parseClass(b: Buffer, i: number): number {
    const c: CharClass = { negated: false, ranges: [] };
    const n = b.length;
    // an error counts only if the class is closed (an unclosed `[` is itself)
    let error: string | null = null;
    if (i < n && (b[i] === 33 || b[i] === 94)) { c.negated = true; i++; }
    let first = true;
    while (i < n) {
      let u = charAt(b, i, n);
      let len = charLen;
      if (u === 93 && !first) {
        if (error !== null) throw new GlobError(error);
        this.classes.push(c);
        return i + 1;
      }
      first = false;
      if (u === 91 && b[i + 1] === 58) { // [:name:]
        const close = b.indexOf(':]', i + 2);
        if (close >= 0) {
          const name = b.toString('latin1', i + 2, close);
          const ranges = NAMED[name];
          if (ranges) c.ranges.push(...ranges);
          else error ??= `unknown character class [:${name}:]`;
          i = close + 2;
          continue;
        }
      }
      if (u === 92 && i + 1 < n) { u = charAt(b, i + 1, n); len = 1 + charLen; }
      i += len;
      if (b[i] === 45 && i + 1 < n && b[i + 1] !== 93) { // a range
        let hi = charAt(b, i + 1, n);
        let hiLen = charLen;
        if (hi === 92 && i + 2 < n) { hi = charAt(b, i + 2, n); hiLen = 1 + charLen; }
        if ((u >= RAW) !== (hi >= RAW)) error ??= `the range ${charText(u)}-${charText(hi)} mixes a character with a byte that is not UTF-8`;
        else if (hi < u) error ??= `the range ${charText(u)}-${charText(hi)} is reversed`;
        else c.ranges.push(u, hi);
        i += 1 + hiLen;
      } else c.ranges.push(u, u);
    }
    return -1;
  }
}

export interface GlobOptions {
  /** fnmatch's FNM_PERIOD (tmpfiles.d paths): a leading `.` is matched only by a `.` */
  period?: boolean;
}

/** Compile a glob given as text (UTF-8) or as bytes. Throws GlobError when it is not a valid glob. */
export function compileGlob(glob: string | Buffer, opts: GlobOptions = {}): Glob {
  const bytes = typeof glob === 'string' ? Buffer.from(glob) : glob;
  let text = '';
  for (let i = 0; i < bytes.length; i += charLen) text += charText(charAt(bytes, i, bytes.length));
  return new Glob(typeof glob === 'string' ? glob : text, bytes, opts);
}

/**
 * A pattern's brace alternatives, as glob(3) with GLOB_BRACE: `a{b,c}d` is `abd` and `acd`,
 * nested braces too; a brace without a comma at its level, or not closed, is itself.
 */
export function expandBraces(p: string): string[] {
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '\\') { i++; continue; }
    if (p[i] !== '{') continue;
    let depth = 0;
    const commas: number[] = [];
    let close = -1;
    for (let j = i; j < p.length; j++) {
      const c = p[j];
      if (c === '\\') { j++; continue; }
      if (c === '{') depth++;
      else if (c === '}' && --depth === 0) { close = j; break; }
      else if (c === ',' && depth === 1) commas.push(j);
    }
    if (close < 0) return [p];
    if (!commas.length) continue;
    const parts: string[] = [];
    let from = i + 1;
    for (const c of [...commas, close]) { parts.push(p.slice(from, c)); from = c + 1; }
    return parts.flatMap((part) => expandBraces(p.slice(0, i) + part + p.slice(close + 1)));
  }
  return [p];
}

/** A literal path or name as a glob that matches only itself (its glob characters escaped). */
export function escapeGlob(p: string): string {
  return p.replace(/[*?[\\{]/g, (c) => `\\${c}`);
}

/** Has the text glob characters (`*`, `?`, `[`)? */
export const hasGlob = (s: string): boolean => /[*?[]/.test(s);
