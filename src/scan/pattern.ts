// Name patterns: the variable parts of a file name (numbers, hex ids, random-looking runs)
// become `*`, so 3.9M `magick-aB9zY1xW` files show up as one line `magick-*`.
//
// A name is split into tokens: maximal runs of ASCII letters and digits. Everything else
// (`-`, `_`, `.`, other punctuation, non-ASCII bytes) is kept literally between them.
// A token is variable when it is
//   - all digits                                               48052      -> *
//   - hex of 6+ chars with digits and letters of one case      3f9a0c     -> *
//   - 4+ chars with 2+ changes between letters and digits      j3TG5      -> *
//   - 6+ chars mixing digits with UPPERCASE or mixed-case letters
//     (lowercase `build123456` and Capitalized `Build123` stay words)   12ABVNjn   -> *
//   - 6+ letters of mixed case that do not read as CamelCase   ABVNjnQx   -> *
// A token next to a variable one (joined by `-` or `_`) is variable too unless it is a plain
// word: `aB-9z_Y1xW` is one random run. Variable tokens joined only by `-`/`_` collapse to one
// `*` (`opam-48052-192552` -> `opam-*`). Digit runs in fixed tokens become `*` (`f123.dat` ->
// `f*.dat`, `go-build123` -> `go-build*`).
//
// A pattern is a glob (fnmatch): the glob characters `*`, `?`, `[` and `\` of a name are kept
// escaped with `\` (`[s]ess_1f..` -> `\[s]ess_*`), so a pattern matches only the names it counts.
//
// It works on bytes (names need not be UTF-8) and writes the pattern into a scratch buffer
// with a hash, so a census can count millions of names without a string per name.

const MAX_TOKENS = 256;
const tokStart = new Int32Array(MAX_TOKENS);
const tokEnd = new Int32Array(MAX_TOKENS);
/** WORD, OTHER (not a plain word; absorbed next to a variable) or VAR */
const tokKind = new Uint8Array(MAX_TOKENS);

const WORD = 0;
const OTHER = 1;
const VAR = 2;
/** a word then a number (`php8`, `build123`): fixed, never absorbed into a random run */
const WORDNUM = 3;
const STAR = 42;

/** The last pattern written by patternInto. */
export const patternBuf: Buffer = Buffer.allocUnsafe(4096);
const LIMIT = patternBuf.length - 8;
/** FNV-1a hash of the last pattern written by patternInto, as an int32. */
export let patternHash = 0;

// CamelCase: an optional lead run of one case, then humps of a capital and 2+ lowercase.
const CAMEL = /^(?:[A-Z]+|[a-z]+)?(?:[A-Z][a-z]{2,})+$/;

function classify(b: Uint8Array, s: number, e: number, digits: number, upper: number, lower: number, ld: number): number {
  const len = e - s;
  const letters = upper + lower;
  if (letters === 0) return VAR;
  if (digits > 0) {
    if (len >= 4 && ld >= 2) return VAR;
    if (len >= 6) {
      if (upper === 0 || lower === 0) {
        // one case: hex ids are variable, `build123456` is a word and a number
        let hex = true;
        for (let i = s; i < e && hex; i++) {
          const c = b[i]! | 0x20;
          if (c > 57 && (c < 97 || c > 102)) hex = false;
        }
        // uppercase with digits (`1AKIIRAF`) is an id; `build123456` is a word and a number
        // and so is a run that starts with digits (`039leseo`)
        return hex || lower === 0 || b[s]! <= 57 ? VAR : WORDNUM;
      }
      const first = b[s]!;
      const capitalized = upper === 1 && first >= 65 && first <= 90;
      return capitalized ? WORDNUM : VAR;
    }
    const first = b[s]!;
    const oneWord = upper === 0 || lower === 0 || (upper === 1 && first >= 65 && first <= 90);
    return ld === 1 && first > 57 && oneWord ? WORDNUM : OTHER;
  }
  if (upper === 0 || lower === 0) return WORD;
  const first = b[s]!;
  if (upper === 1 && first >= 65 && first <= 90) return WORD;
  if (len < 6) return OTHER;
  return CAMEL.test(Buffer.prototype.toString.call(b, 'latin1', s, e)) ? WORD : VAR;
}

/** `-` or `_` alone between token t and token t+1. */
function joined(b: Uint8Array, t: number): boolean {
  if (tokStart[t + 1]! - tokEnd[t]! !== 1) return false;
  const c = b[tokEnd[t]!]!;
  return c === 45 || c === 95;
}

function isHexWithDigit(b: Uint8Array, s: number, e: number): boolean {
  let digit = false;
  for (let i = s; i < e; i++) {
    const c = b[i]!;
    if (c <= 57) digit = true;
    else if (!((c >= 97 && c <= 102) || (c >= 65 && c <= 70))) return false;
  }
  return digit;
}

/**
 * Write the pattern of the name b[start, end) into `patternBuf`; returns its length and sets
 * `patternHash`.
 */
export function patternInto(b: Uint8Array, start: number, end: number): number {
  // tokenize and classify in one pass
  let n = 0;
  let anyVar = false;
  let i = start;
  while (i < end && n < MAX_TOKENS) {
    let c = b[i]!;
    const alnum = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
    if (!alnum) { i++; continue; }
    const s = i;
    let digits = 0, upper = 0, lower = 0, ld = 0, prev = -1;
    for (; i < end; i++) {
      c = b[i]!;
      let kind: number;
      if (c >= 48 && c <= 57) { digits++; kind = 1; }
      else if (c >= 97 && c <= 122) { lower++; kind = 0; }
      else if (c >= 65 && c <= 90) { upper++; kind = 0; }
      else break;
      if (prev !== kind && prev !== -1) ld++;
      prev = kind;
    }
    tokStart[n] = s;
    tokEnd[n] = i;
    const k = classify(b, s, i, digits, upper, lower, ld);
    tokKind[n] = k;
    if (k === VAR) anyVar = true;
    n++;
  }
  // a non-word next to a variable token is part of the same random run
  if (anyVar) {
    let changed = true;
    while (changed) {
      changed = false;
      for (let t = 0; t < n; t++) {
        if (tokKind[t] === VAR) continue;
        if (!((t > 0 && tokKind[t - 1] === VAR && joined(b, t - 1)) ||
              (t + 1 < n && tokKind[t + 1] === VAR && joined(b, t)))) continue;
        if (tokKind[t] === OTHER || isHexWithDigit(b, tokStart[t]!, tokEnd[t]!)) {
          tokKind[t] = VAR;
          changed = true;
        }
      }
    }
  }
  // emit
  const out = patternBuf;
  let h = 0x811c9dc5;
  let o = 0;
  let pos = start;
  for (let t = 0; t < n && o < LIMIT; t++) {
    const s = tokStart[t]!;
    const e = tokEnd[t]!;
    if (tokKind[t] === VAR && t > 0 && tokKind[t - 1] === VAR && joined(b, t - 1)) {
      pos = e; // `*-*` -> `*`: skip the separator and this token
      continue;
    }
    for (; pos < s && o < LIMIT; pos++) {
      const c = b[pos]!;
      if (c === 42 || c === 63 || c === 91 || c === 92) { out[o++] = 92; h = Math.imul(h ^ 92, 0x01000193); }
      out[o++] = c; h = Math.imul(h ^ c, 0x01000193);
    }
    if (tokKind[t] === VAR) {
      out[o++] = STAR; h = Math.imul(h ^ STAR, 0x01000193);
    } else {
      for (let k = s; k < e && o < LIMIT; k++) {
        const c = b[k]!;
        if (c <= 57) {
          while (k + 1 < e && b[k + 1]! <= 57) k++;
          out[o++] = STAR; h = Math.imul(h ^ STAR, 0x01000193);
        } else {
          out[o++] = c; h = Math.imul(h ^ c, 0x01000193);
        }
      }
    }
    pos = e;
  }
  for (; pos < end && o < LIMIT; pos++) {
    const c = b[pos]!;
    if (c === 42 || c === 63 || c === 91 || c === 92) { out[o++] = 92; h = Math.imul(h ^ 92, 0x01000193); }
    out[o++] = c; h = Math.imul(h ^ c, 0x01000193);
  }
  // int32: a small integer to V8 (a Map key without a heap number per name)
  patternHash = h | 0;
  return o;
}

/** FNV-1a of b[0, len), the same hash patternInto gives. */
export function hashBytes(b: Uint8Array, len: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < len; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return h | 0;
}

/**
 * For a pattern that ends in `-WORD` or `_WORD` (letters, digits, stars; not `*` alone), the length of
 * its prefix up to and including the separator; else -1. `magick-AAKQyele` -> 7: a caller
 * that already counts many `magick-*` can put it there (random letters can look like a word).
 */
export function fixedTailStart(b: Uint8Array, len: number): number {
  let i = len - 1;
  while (i >= 0) {
    const c = b[i]!;
    if (!((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 42)) break;
    i--;
  }
  if (i < 0 || i === len - 1 || (i === len - 2 && b[len - 1] === 42)) return -1;
  const sep = b[i]!;
  return sep === 45 || sep === 95 ? i + 1 : -1;
}

/**
 * The pattern `b[0, len)` with its fixed `-WORD` tail made variable is `b[0, L)` with `*` at
 * L - 1: returns L, or -1 without such a tail (b is not changed). `magick-AAKQyele` ->
 * `magick-*`; a tail after a variable run joins it, as patternInto joins runs: `opam-*-htt` ->
 * `opam-*` (its `*` is already there).
 */
export function wideLength(b: Uint8Array, len: number): number {
  const tail = fixedTailStart(b, len);
  if (tail < 0) return -1;
  // `*` then the separator, the `*` a token of its own: the variable run `*-*` is `*`
  if (tail >= 2 && b[tail - 2] === STAR && (tail === 2 || (!isAlnum(b[tail - 3]!) && b[tail - 3] !== 92))) return tail - 1;
  return tail + 1;
}

function isAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** The pattern of the name b[start, end) as bytes. */
export function patternBytes(b: Uint8Array, start: number, end: number): Buffer {
  return Buffer.from(patternBuf.subarray(0, patternInto(b, start, end)));
}

/** Pattern of a name given as text or bytes, as text (for tests and string callers). */
export function patternOfName(name: string | Buffer): string {
  const b = typeof name === 'string' ? Buffer.from(name) : name;
  return patternBytes(b, 0, b.length).toString();
}
