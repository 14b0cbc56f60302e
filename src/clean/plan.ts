// From tmpfiles.d rules or command-line options to cleaning jobs.
import fs from 'node:fs';
import path from 'node:path';
import { CLEAN_INSIDE, DEFAULT_AGE_BY, globRegExp, hasGlob, parseRules, type AgeBy, type Rule } from './rules.js';
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
  return [...byName.keys()].sort().map((n) => byName.get(n)!);
}

export function readRuleFiles(files: string[]): Rule[] {
  return files.flatMap((f) => parseRules(fs.readFileSync(f, 'utf8'), f));
}

/** Existing real directories (no symlinks) that a path glob names. */
export function expandDirs(glob: string): string[] {
  let found = ['/'];
  for (const part of glob.split('/').filter(Boolean)) {
    const next: string[] = [];
    for (const dir of found) {
      const base = dir === '/' ? '' : dir;
      if (!hasGlob(part)) {
        next.push(`${base}/${part}`);
        continue;
      }
      const re = globRegExp(part);
      let names: string[];
      try {
        names = fs.readdirSync(dir);
      } catch {
        continue;
      }
      for (const n of names.sort()) if (re.test(n) && !(n.startsWith('.') && !part.startsWith('.'))) next.push(`${base}/${n}`);
    }
    found = next;
  }
  return found.filter((d) => {
    try {
      return fs.lstatSync(d).isDirectory();
    } catch {
      return false;
    }
  });
}

/** Jobs for rules: e/d/D/v/q/Q with an age clean each directory; r/R remove matches in their parent; x/X exclude everywhere. */
export function jobsFromRules(rules: Rule[]): CleanJob[] {
  const excludes = rules.filter((r) => r.type === 'x' || r.type === 'X').map((r) => ({ re: globRegExp(r.path), self: r.type === 'X' }));
  const jobs: CleanJob[] = [];
  for (const r of rules) {
    const source = `${r.file}:${r.line}`;
    if (CLEAN_INSIDE.has(r.type) && r.age !== null) {
      for (const root of expandDirs(r.path)) {
        jobs.push({ root, mode: 'contents', match: null, anyDepth: true, recursive: true, age: r.age, ageBy: r.ageBy, belowFirst: r.belowFirst, excludes, source });
      }
    } else if (r.type === 'r' || r.type === 'R') {
      const parent = path.dirname(r.path);
      for (const root of expandDirs(parent)) {
        jobs.push({ root, mode: 'match', match: globRegExp(path.basename(r.path)), anyDepth: false, recursive: r.type === 'R', age: r.age, ageBy: r.ageBy, belowFirst: false, excludes, source });
      }
    }
  }
  return jobs;
}

/** The job for `enospc clean PATH [--match GLOB] [--older-than AGE]`. */
export function adHocJob(root: string, match: string | undefined, age: number | null, ageBy: AgeBy = DEFAULT_AGE_BY): CleanJob {
  return {
    root, mode: match === undefined ? 'contents' : 'match', match: match === undefined ? null : globRegExp(match),
    anyDepth: true, recursive: true, age, ageBy, belowFirst: false, excludes: [], source: 'command line',
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
