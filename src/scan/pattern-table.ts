// The census's table of name patterns: each pattern met, by its hash (chained), created on
// first sight, with a name's random word tail folded into an established `prefix-*`; bounded
// (the rarest dropped past maxPatterns, with the undercount that makes); merged from other
// threads; and, at the end, the folding of random word tails (see foldWordTails).
import { hashBytes, patternBuf, patternHash, patternInto, wideLength } from './pattern.js';
import { NO_OWNERS, mergePattern, unpackPatterns, type PackedPatterns } from './census-parts.js';
import type { PatternAcc } from './census-types.js';

/** this many `prefix-WORD` patterns with one prefix: the words are random (see foldWordTails) */
const MANY_TAILS = 16;

export class PatternTable {
  private patterns = new Map<number, PatternAcc>();
  /** distinct patterns held */
  total = 0;
  /** patterns dropped to bound memory: any count may be short by at most this much */
  undercount = 0;

  constructor(
    private readonly maxPatterns: number,
    private readonly perPatternDirs: number,
    private readonly pidNames: Array<{ pattern: string; regex: string }> | undefined,
  ) {}

  /** Add another thread's patterns (of other directories of the same tree). */
  absorb(packed: PackedPatterns, undercount: number): void {
    for (const q of unpackPatterns(packed)) {
      let mine: PatternAcc | null = this.patterns.get(q.hash) ?? null;
      while (mine !== null && mine.key !== q.key) mine = mine.chain;
      if (mine) mergePattern(mine, q, this.perPatternDirs);
      else {
        q.chain = this.patterns.get(q.hash) ?? null;
        this.patterns.set(q.hash, q);
        this.total++;
      }
    }
    this.undercount = Math.max(this.undercount, undercount);
  }

  private pidRegex(pattern: string): RegExp | null {
    const hit = this.pidNames?.find((x) => x.pattern === pattern);
    return hit ? new RegExp(hit.regex) : null;
  }

  /** The accumulator of the name's pattern, created on first sight. */
  lookup(buf: Buffer, start: number, end: number): PatternAcc {
    const len = patternInto(buf, start, end);
    const hash = patternHash;
    const head = this.patterns.get(hash);
    const found = this.find(head, patternBuf, len);
    if (found) return found;
    // `magick-AAKQyele`: a random tail that reads as a word joins an established `magick-*`
    const wl = wideLength(patternBuf, len);
    if (wl > 0) {
      const was = patternBuf[wl - 1]!;
      patternBuf[wl - 1] = 42;
      const wide = this.find(this.patterns.get(hashBytes(patternBuf, wl)), patternBuf, wl);
      patternBuf[wl - 1] = was;
      if (wide && wide.count >= 50) return wide;
    }
    const key = patternBuf.toString('latin1', 0, len);
    // a name without variable parts is its own pattern (most names of a tree like /usr): one copy
    const example = end - start === len && patternBuf.compare(buf, start, end, 0, len) === 0 ? key : buf.toString('latin1', start, end);
    // `opam-*-htt`: the PIDs of its names are counted as `opam-*`'s would be, the pattern it may fold into
    let pidKey: string | undefined;
    if (this.pidNames && wl > 0) {
      patternBuf[wl - 1] = 42; // the key and example are taken: patternBuf is not read again
      pidKey = patternBuf.toString('latin1', 0, wl);
    }
    const p = this.added(key, hash, example, pidKey);
    if (++this.total > this.maxPatterns) this.prune();
    return p;
  }

  /** A new pattern, no name counted yet, put in the table. */
  private added(key: string, hash: number, example: string, pidKey?: string): PatternAcc {
    const p: PatternAcc = {
      key, hash, chain: this.patterns.get(hash) ?? null, count: 0, files: 0, dirs: 0,
      bytes: 0, zeroByte: 0, owners: NO_OWNERS, oldest: Infinity, newest: -Infinity, dirCount: 0, topDirs: [],
      example, open: 0, stale: 0, pidAlive: 0, pidDead: 0, maxIno: 0, cur: 0,
      pidRe: this.pidNames ? this.pidRegex(key) ?? (pidKey === undefined ? null : this.pidRegex(pidKey)) : null,
    };
    this.patterns.set(hash, p);
    return p;
  }

  private find(head: PatternAcc | undefined, key: Buffer, len: number): PatternAcc | null {
    for (let p: PatternAcc | null = head ?? null; p !== null; p = p.chain) {
      const k = p.key;
      if (k.length !== len) continue;
      let i = 0;
      while (i < len && k.charCodeAt(i) === key[i]) i++;
      if (i === len) return p;
    }
    return null;
  }

  /** Too many distinct patterns: drop the rarest so memory stays bounded. */
  private prune(): void {
    let all = this.all();
    let floor = Math.max(1, this.undercount);
    while (all.length > this.maxPatterns / 2) {
      all = all.filter((p) => p.count > floor || p.cur > 0);
      this.undercount = Math.max(this.undercount, floor);
      floor *= 2;
    }
    this.patterns = new Map();
    for (const p of all) {
      p.chain = this.patterns.get(p.hash) ?? null;
      this.patterns.set(p.hash, p);
    }
    this.total = all.length;
  }

  /**
   * `prefix-WORD` patterns whose tail is random letters: folded into `prefix-*`. One such met
   * before `magick-*` was established (`magick-AAKQyele`) when that holds at least five times
   * as many names; and all of them when MANY_TAILS or more share one prefix (`opam-*-htt`,
   * `opam-*-gwo`, ... of `opam-PID-abc` names are `opam-*`), `prefix-*` made if need be.
   */
  foldWordTails(all: PatternAcc[]): PatternAcc[] {
    const merged = new Set<PatternAcc>();
    const wideKey = Buffer.alloc(4096);
    const groups = new Map<string, PatternAcc[]>();
    for (const p of all) {
      if (p.key.length > wideKey.length) continue;
      const wl = wideLength(wideKey, wideKey.write(p.key, 0, 'latin1'));
      if (wl < 0) continue;
      wideKey[wl - 1] = 42;
      const key = wideKey.toString('latin1', 0, wl);
      if (key === p.key) continue;
      const g = groups.get(key);
      if (g) g.push(p); else groups.set(key, [p]);
    }
    for (const [key, tails] of groups) {
      const n = wideKey.write(key, 0, 'latin1'), hash = hashBytes(wideKey, n);
      let wide = this.find(this.patterns.get(hash), wideKey, n);
      const many = tails.length >= MANY_TAILS;
      if (!wide && !many) continue;
      if (!wide) {
        wide = this.added(key, hash, tails[0]!.example);
        all.push(wide);
      }
      // every directory of the tails' lists kept while merging, as long as that stays cheap
      const keepDirs = tails.length * this.perPatternDirs <= 20_000 ? Infinity : 4 * this.perPatternDirs;
      for (const p of tails) {
        if (!many && (wide.count < 5 || wide.count < 5 * p.count)) continue;
        // PIDs counted for all of its names, or for none
        if (p.pidRe === null && p.count > 0) wide.pidRe = null;
        mergePattern(wide, p, keepDirs);
        merged.add(p);
      }
    }
    return merged.size ? all.filter((p) => !merged.has(p)) : all;
  }

  all(): PatternAcc[] {
    const all: PatternAcc[] = [];
    for (const head of this.patterns.values()) for (let p: PatternAcc | null = head; p; p = p.chain) all.push(p);
    return all;
  }
}
