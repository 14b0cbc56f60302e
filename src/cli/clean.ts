// enospc clean: remove orphans safely. Dry run unless --apply.
import { isUtf8 } from 'node:buffer';
import { emptyResult, runJob, type CleanResult } from '../clean/cleaner.js';
import { adHocJob, emitRule, forbiddenRoot, jobsFromRules, readRuleFiles, systemRuleFiles, type Refusal } from '../clean/plan.js';
import { parseAge, RuleError } from '../clean/rules.js';
import { GlobError } from '../clean/glob.js';
import { InputError } from '../clean/files.js';
import { AuditLog, LogError } from '../clean/audit.js';
import { DEFAULT_LOG, type CleanJob } from '../clean/job.js';
import { cleanHuman, cleanJson } from '../report/clean.js';
import { wantColor } from '../report/format.js';
import { SysError } from '../sys/libc.js';
import { display, displayText } from '../shared/text.js';
import { closedMountOf, mountsNow, walkMounts, type MountHealth } from '../probe/mount-health.js';
import { openRootOrFail } from './root.js';
import { argBytes } from './argv.js';
import { out, say } from './output.js';
import { progressLine } from './progress.js';
import { describeCode, fail, parseIntOption } from './fail.js';
import { num } from '../shared/units.js';

export interface CleanFlags {
  match?: string; olderThan?: string; rules?: string[]; systemRules?: boolean; apply?: boolean;
  log?: string | boolean; emitRule?: boolean; json?: boolean; limit: string; forceUnseen?: boolean;
  remove?: boolean; boot?: boolean; strict?: boolean;
}

function checkRoot(given: string, real: Buffer): void {
  const text = real.toString('utf8');
  if (forbiddenRoot(text)) fail(`${given}: refusing to clean ${displayText(text)}`);
}

/** The jobs of --rules/--system-rules, and what they name that is not cleaned; one line and exit 2 for a bad file or line. */
function jobsOfRules(flags: CleanFlags): { jobs: CleanJob[]; refusals: Refusal[]; warnings: string[] } {
  if (flags.emitRule) fail('--emit-rule turns a command line into a rule; with --rules there is nothing to emit');
  const refusals: Refusal[] = [];
  try {
    const files = [...(flags.rules ?? []), ...(flags.systemRules ? systemRuleFiles() : [])];
    const { rules, warnings } = readRuleFiles(files, { boot: flags.boot === true, strict: flags.strict === true });
    const jobs = jobsFromRules(rules, refusals, { remove: flags.remove === true, warnings });
    for (const j of jobs) checkRoot(`${displayText(j.source)}: ${display(j.root)}`, j.root);
    return { jobs, refusals, warnings };
  } catch (e) {
    if (e instanceof RuleError || e instanceof InputError) fail(e.message);
    const err = e as NodeJS.ErrnoException;
    if (typeof err.code !== 'string') throw e;
    fail(`${displayText(err.path ?? 'rules')}: ${describeCode(err.code)}`);
  }
}

/** The audit log for --apply (null with --no-log); one line and exit 2 when it cannot be used. */
function openLog(flags: CleanFlags, jobs: CleanJob[]): AuditLog | null {
  if (!flags.apply || flags.log === false) return null;
  const given = typeof flags.log === 'string' ? flags.log : DEFAULT_LOG;
  try {
    return AuditLog.open(given, [...new Set(jobs.map((j) => j.root))]);
  } catch (e) {
    if (e instanceof InputError) fail(e.message);
    fail(`cannot open the audit log ${displayText(given)}: ${describeCode((e as NodeJS.ErrnoException).code)}; give --log FILE elsewhere, or --no-log`);
  }
}

function stop(result: CleanResult, log: AuditLog, e: LogError): void {
  const why = e.code === 'SHORT_WRITE' ? 'a write to it wrote nothing' : describeCode(e.code);
  result.stopped = {
    error: e.code,
    message: `the audit log ${displayText(log.path)} could not be written (${why}): stopped before removing anything it could not log`,
  };
}

export function runClean(target: string | undefined, flags: CleanFlags): number {
  // --no-log and --log FILE set one value (the last wins): given both, say so
  const args = process.argv.slice(2);
  if (args.includes('--no-log') && args.some((a) => a === '--log' || a.startsWith('--log='))) fail('--log FILE and --no-log contradict each other: give one');
  const limit = parseIntOption('--limit', flags.limit, 1);
  const parsed = flags.olderThan === undefined ? null : parseAge(flags.olderThan);
  if (typeof parsed === 'string' || parsed?.belowFirst || (flags.olderThan !== undefined && parsed?.age === null)) {
    fail(`--older-than takes an age like 2h, 10d, 1h30m, optionally after the timestamps that decide it (m:2h, cm:1d), not '${displayText(flags.olderThan!)}'`);
  }
  const age = parsed?.age ?? null;
  const byRules = (flags.rules?.length ?? 0) > 0 || flags.systemRules === true;
  if (byRules && (target !== undefined || flags.match !== undefined || flags.olderThan !== undefined)) fail('give either PATH with --match/--older-than, or --rules/--system-rules, not both');
  if (!byRules && target === undefined) fail('say what to clean: PATH [--match GLOB] [--older-than AGE], or --rules FILE, or --system-rules');
  if (!byRules && (flags.remove || flags.boot || flags.strict)) fail('--remove, --boot and --strict go with --rules or --system-rules');

  let jobs: CleanJob[];
  let refusals: Refusal[] = [];
  let warnings: string[] = [];
  let mounts: MountHealth;
  let rootFd: number | undefined;
  if (byRules) {
    ({ jobs, refusals, warnings } = jobsOfRules(flags));
    for (const w of warnings) say(`enospc: ${w}\n`);
    if (!jobs.length && !refusals.length && !flags.json) {
      // nothing to run: say so, rather than a report of nothing
      const files = [...(flags.rules ?? []).map(displayText), ...(flags.systemRules ? ['the system rules'] : [])].join(', ');
      say(`enospc: no line of ${files} cleans anything (cleaning lines: d, D, v, q, Q, C, e, x, X with an age${flags.remove ? '; r, R' : ''})\n`);
      return warnings.length ? 1 : 0;
    }
    mounts = mountsNow();
  } else {
    const { root, fd, mounts: now } = openRootOrFail(argBytes(target!), 'nothing there to clean');
    mounts = now;
    rootFd = fd;
    checkRoot(displayText(target!), root);
    if (flags.match === undefined && age === null) fail('say what may go: --match GLOB and/or --older-than AGE (everything below PATH is never the default)');
    const match = flags.match === undefined ? undefined : argBytes(flags.match);
    if (match?.length === 0) fail("--match takes a name pattern ('magick-*'), not an empty one");
    if (match?.includes(47)) fail(`--match takes a name pattern without '/': '${display(match)}'`);
    // fnmatch takes an unclosed '[' as itself; on a command line it is far likelier a mistake
    if (match && /\[/.test(match.toString('latin1').replace(/\\[\s\S]/g, '').replace(/\[[!^]?\]?[^\]]*\]/g, ''))) {
      fail(`--match '${display(match)}': a '[' opens a character class that is never closed (write '\\[' for a bracket itself)`);
    }
    let job: CleanJob;
    try {
      job = adHocJob(root, match, age, parsed?.ageBy);
    } catch (e) {
      if (e instanceof GlobError) fail(`--match '${display(match!)}' is not a valid glob: ${displayText(e.message)}`);
      throw e;
    }
    if (flags.emitRule) {
      // a rule line holds text: a name that is not UTF-8, or a control character (a newline would start a line of its own), cannot go in one
      const exact = (b: Buffer) => isUtf8(b) && !/[\x00-\x1f\x7f]/.test(b.toString('utf8'));
      if (!exact(root) || (match && !exact(match))) fail('--emit-rule: the path or the pattern holds bytes that are not UTF-8 text or control characters, which a tmpfiles.d line cannot hold');
      out(emitRule(root.toString('utf8'), flags.match, flags.olderThan));
      return 0;
    }
    jobs = [job];
  }

  const parseWarnings = warnings.length;
  const notes: string[] = [];
  const log = openLog(flags, jobs);
  const t0 = performance.now();
  const result = emptyResult(flags.apply === true);
  // what a rule names that is not cleaned: the same in a dry run and with --apply
  for (const r of refusals) {
    if (result.errors.length < 100) result.errors.push({ path: r.path, error: `${r.source}: ${r.why}` });
    result.skipped.error++;
  }
  const progress = progressLine(flags.json);
  try {
    for (const job of jobs) {
      const rootText = job.root.toString('utf8');
      // a rule's directory on an autofs mount point with nothing mounted is not entered
      if (closedMountOf(rootText, mounts)) {
        if (result.errors.length < 100) result.errors.push({ path: job.root, error: 'autofs mount point with nothing mounted: not entered (enospc does not trigger automounts)' });
        result.skipped.error++;
        continue;
      }
      try {
        runJob(job, {
          apply: flags.apply === true, log, mountPoints: walkMounts(rootText, mounts),
          ...(rootFd !== undefined ? { rootFd } : {}), forceUnseen: flags.forceUnseen === true,
          onUnseen: (why) => {
            progress.clear();
            say(`enospc: cannot see every process: ${why}; ${flags.forceUnseen ? '--force-unseen: other users\' files go all the same' : 'other users\' files are kept (--force-unseen removes them all the same)'}\n`);
          },
          onProgress: (n: number) => progress.update(() => `cleaning ${display(job.root)}: ${num(n)} entries looked at`),
        }, result);
      } catch (e) {
        if (e instanceof LogError) {
          stop(result, log!, e);
          break;
        }
        if (!(e instanceof SysError)) throw e;
        if (byRules && (e.code === 'ENOENT' || e.code === 'ENOTDIR')) {
          // gone since the rules were read (an earlier rule removed it): nothing to clean, as systemd
          notes.push(`${job.source}: ${display(job.root)} is gone (removed by an earlier rule?): nothing to clean there`);
          result.skipped.changed++;
          continue;
        }
        if (result.errors.length < 100) result.errors.push({ path: job.root, error: e.code });
        result.skipped.error++;
      }
    }
  } finally {
    const e = log?.close() ?? null;
    if (e && !result.stopped) stop(result, log!, e);
    progress.clear();
  }
  for (const n of notes) say(`enospc: ${n}\n`);
  const report = { result, jobs, log: log?.path ?? null, warnings: [...warnings, ...notes], elapsedMs: performance.now() - t0 };
  if (flags.json) out(JSON.stringify(cleanJson(report), null, 2) + '\n');
  else out(cleanHuman(report, wantColor(process.stdout), limit));
  if (result.stopped) {
    say(`enospc: ${result.stopped.message} (${result.removed.entries.toLocaleString('en-US')} removed before, each logged)\n`);
    return 1;
  }
  return result.skipped.error > 0 || parseWarnings > 0 ? 1 : 0;
}
