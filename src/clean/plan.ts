// From tmpfiles.d rules or command-line options to cleaning jobs.
import fs from 'node:fs';
import path from 'node:path';
import { CLEAN_INSIDE, DEFAULT_AGE_BY, GLOB_TYPES, dedupe, inheritAges, lexicalPath, parseRules, tidyPath, type AgeBy, type ParseOptions, type Rule } from './rules.js';
import { compileGlob, escapeGlob, expandBraces, hasGlob } from './glob.js';
import { Protected } from './protected.js';
import { listNames } from '../scan/list-dir.js';
import { readRegularFile } from './files.js';
import { displayText } from '../shared/text.js';
import type { CleanJob } from './job.js';

/** Where systemd looks for tmpfiles.d files, first wins for a file name. */
export const SYSTEM_RULE_DIRS = ['/etc/tmpfiles.d', '/run/tmpfiles.d', '/usr/local/lib/tmpfiles.d', '/usr/lib/tmpfiles.d'];

/** Roots nobody may clean: the whole system, or the kernel's own trees. */
export function forbiddenRoot(real: string): boolean {
  return real === '/' || ['/proc', '/sys', '/dev'].some((p) => real === p || real.startsWith(p + '/'));
}

/** The rule files of the system, in systemd's order (a name in /etc hides the same name below). */
export function systemRuleFiles(dirs = SYSTEM_RULE_DIRS): string[] {
  const byName = new Map<string, string>();
  for (const dir of dirs) {
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      continue;
    }
    for (const n of names) if (n.endsWith('.conf') && !byName.has(n)) byName.set(n, path.join(dir, n));
  }
  // a name linked to /dev/null is masked (systemd's way to turn a file below off)
  const masked = (f: string) => {
    try {
      return fs.realpathSync(f) === '/dev/null';
    } catch {
      return false;
    }
  };
  return [...byName.keys()].sort().map((n) => byName.get(n)!).filter((f) => !masked(f));
}

/** The rules in effect of these files, in order (duplicates dropped), and a warning per line skipped. */
export function readRuleFiles(files: string[], opts: ParseOptions = {}): { rules: Rule[]; warnings: string[] } {
  const warnings: string[] = [];
  const all = files.flatMap((f) => {
    const p = parseRules(readRegularFile(f, RULES_MAX).toString('utf8'), f, opts);
    warnings.push(...p.warnings);
    return p.rules;
  });
  const rules = dedupe(all, warnings);
  inheritAges(rules);
  return { rules, warnings };
}

/** A rule file bigger than this is not one. */
const RULES_MAX = 16 << 20;

/** What a rule names that is not cleaned, and why (the same in a dry run and with --apply). */
export interface Refusal { path: Buffer; source: string; why: string }

const SLASH = Buffer.from('/');
const join = (dir: Buffer, name: Buffer) => (dir.length === 1 ? Buffer.concat([SLASH, name]) : Buffer.concat([dir, SLASH, name]));
const parentOf = (dir: Buffer) => {
  const i = dir.lastIndexOf(47);
  return i <= 0 ? SLASH : dir.subarray(0, i);
};

/**
 * The real directories a rule path names (a glob per component), found without following a
 * symlink: a component that is one is refused (the walk opens the directory it names by that
 * path and then finds it somewhere else, so --apply would remove nothing there), and so
 * the dry run says the same. `..` climbs to the parent of a directory found so (no symlink on
 * the way: the kernel's meaning of the path is its lexical one).
 */
export function expandDirs(glob: string, refused: (path: Buffer, why: string) => void = () => {}): Buffer[] {
  const alternatives = expandBraces(glob);
  if (alternatives.length > 1) {
    const seen = new Map<string, Buffer>();
    for (const a of alternatives) for (const d of expandDirs(a, refused)) seen.set(d.toString('latin1'), d);
    return [...seen.values()];
  }
  let found: Buffer[] = [SLASH];
  for (const part of tidyPath(glob).split('/').filter(Boolean)) {
    if (part === '..') {
      found = [...new Map(found.map((d) => [parentOf(d).toString('latin1'), parentOf(d)])).values()];
      continue;
    }
    const next: Buffer[] = [];
    for (const dir of found) {
      let names: Buffer[];
      if (!hasGlob(part)) names = [Buffer.from(part.replace(/\\(.)/gs, '$1'))];
      else {
        const g = compileGlob(part);
        const listed = listNames(dir);
        if (!listed) continue;
        names = listed;
        names = names.filter((n) => g.match(n) && !(n[0] === 46 && !part.startsWith('.')));
      }
      for (const n of names) {
        const p = join(dir, n);
        let st: fs.Stats;
        try {
          st = fs.lstatSync(p);
        } catch {
          continue;
        }
        if (st.isSymbolicLink()) refused(p, 'a symbolic link: not followed (write the path it points to in the rule)');
        else if (st.isDirectory()) next.push(p);
      }
    }
    found = next;
  }
  return found;
}

/**
 * Jobs for rules, as systemd-tmpfiles --clean (and --remove with `remove`) runs them: d, D, v, q,
 * Q, C (their path) and e, x, X (a glob) with an age clean inside by age; with `remove`, r and R
 * remove their paths (R with what is below) and D empties its directory. Every path that has a
 * line of its own is protected from the other lines (never entered, never removed). A rule that
 * would clean `/`, /proc, /sys or /dev is refused (a refusal, the others still run).
 */
export function jobsFromRules(rules: Rule[], refusals: Refusal[] = [], opts: { remove?: boolean; warnings?: string[] } = {}): CleanJob[] {
  const protect = new Protected(rules.map((r) => ({ path: lexicalPath(r.path), glob: GLOB_TYPES.has(r.type) })));
  const jobs: CleanJob[] = [];
  // systemd runs the glob lines first, then the others, each in the order read
  const ordered = [...rules.filter((r) => GLOB_TYPES.has(r.type)), ...rules.filter((r) => !GLOB_TYPES.has(r.type))];
  for (const r of ordered) {
    const source = `${r.file}:${r.line}`;
    const refused = (p: Buffer, why: string) => refusals.push({ path: p, source, why });
    const inside = CLEAN_INSIDE.has(r.type) && r.age !== null && r.age !== Infinity;
    const empties = opts.remove === true && r.type === 'D';
    const removes = opts.remove === true && (r.type === 'r' || r.type === 'R');
    if (!inside && !empties && !removes) continue;
    // decided on the lexical path (`/.`, `/tmp/..` are `/`), before anything is looked up
    const lexical = lexicalPath(r.path);
    if (forbiddenRoot(lexical)) {
      opts.warnings?.push(`${displayText(source)}: ${displayText(r.path)}: refusing to ${removes ? 'remove' : 'clean'} ${displayText(lexical)}; line skipped`);
      continue;
    }
    const dirs = (p: string) => (GLOB_TYPES.has(r.type) ? expandDirs(p, refused) : expandDirs(escapeGlob(p), refused));
    if (inside || empties) {
      for (const root of dirs(r.path)) {
        // emptying a D directory (--remove) is systemd's rm -rf: no other line protects anything in it
        jobs.push({ root, mode: 'contents', match: null, anyDepth: true, recursive: true, age: inside ? r.age : null, ageBy: r.ageBy, belowFirst: inside && r.belowFirst, protect: inside ? protect : null, source });
      }
      continue;
    }
    const base = path.posix.basename(r.path);
    if (base === '..') {
      refused(Buffer.from(r.path), 'ends in "..": name what to remove by its own name');
      continue;
    }
    for (const alt of expandBraces(base)) {
      const match = compileGlob(alt, { period: true });
      for (const root of expandDirs(path.posix.dirname(r.path), refused)) {
        // as systemd's --remove: x lines do not protect what r and R remove
        jobs.push({ root, mode: 'match', match, anyDepth: false, recursive: r.type === 'R', age: null, ageBy: r.ageBy, belowFirst: false, protect: null, source });
      }
    }
  }
  return jobs;
}

/** The job for `enospc clean PATH [--match GLOB] [--older-than AGE]` (PATH real, as bytes). Throws GlobError for a bad glob. */
export function adHocJob(root: Buffer, match: string | Buffer | undefined, age: number | null, ageBy: AgeBy = DEFAULT_AGE_BY): CleanJob {
  return {
    root, mode: match === undefined ? 'contents' : 'match', match: match === undefined ? null : compileGlob(match),
    anyDepth: true, recursive: true, age, ageBy, belowFirst: false, protect: null, source: 'command line',
  };
}

/** The tmpfiles.d line that keeps doing what this command line does. */
export function emitRule(root: string, match: string | undefined, ageText: string | undefined): string {
  const age = ageText ?? '-';
  const lines = [`# enospc clean ${root}${match ? ` --match '${match}'` : ''}${ageText ? ` --older-than ${ageText}` : ''}, as a tmpfiles.d rule`];
  if (match === undefined) {
    lines.push('# e: remove what is inside the directory and older than the age; systemd-tmpfiles-clean.timer runs it daily', `e ${root} - - - ${age}`);
  } else {
    lines.push(
      `# r with an age: honoured by systemd-tmpfiles --clean only in recent systemd (systemd PR #43195, 2026);`,
      `# older systemd removes r paths only at boot and ignores the age. It matches names directly in ${root}, not deeper.`,
      `r ${path.posix.join(root, match)} - - - ${age}`,
      '# Where that does not hold: a dedicated directory with "e DIR - - - AGE" (case 000), or a timer running',
      `#   enospc clean ${root} --match '${match}'${ageText ? ` --older-than ${ageText}` : ''} --apply`,
    );
  }
  return lines.join('\n') + '\n';
}
