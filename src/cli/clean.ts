// enospc clean: remove orphans safely. Dry run unless --apply.
import fs from 'node:fs';
import path from 'node:path';
import { emptyResult, runJob } from '../clean/cleaner.js';
import { adHocJob, emitRule, forbiddenRoot, jobsFromRules, readRuleFiles, systemRuleFiles } from '../clean/plan.js';
import { parseAge, RuleError } from '../clean/rules.js';
import { DEFAULT_LOG, type CleanJob } from '../clean/job.js';
import { cleanHuman, cleanJson } from '../report/clean.js';
import { wantColor } from '../report/format.js';
import { SysError } from '../sys/libc.js';
import { closedMountOf, mountsNow, walkMounts, type MountHealth } from '../probe/mount-health.js';
import { openRootOrFail } from './root.js';
import { out } from './output.js';
import { progressLine } from './progress.js';
import { describeCode, fail, parseIntOption } from './fail.js';

export interface CleanFlags {
  match?: string; olderThan?: string; rules?: string[]; systemRules?: boolean; apply?: boolean;
  log?: string | boolean; emitRule?: boolean; json?: boolean; limit: string; forceUnseen?: boolean;
}


function checkRoot(given: string, real: string): void {
  if (forbiddenRoot(real)) fail(`${given}: refusing to clean ${real}`);
}

export function runClean(target: string | undefined, flags: CleanFlags): number {
  const limit = parseIntOption('--limit', flags.limit, 1);
  const parsed = flags.olderThan === undefined ? null : parseAge(flags.olderThan);
  if (typeof parsed === 'string' || parsed?.belowFirst || (flags.olderThan !== undefined && parsed?.age === null)) {
    fail(`--older-than takes an age like 2h, 10d, 1h30m, optionally after the timestamps that decide it (m:2h, cm:1d), not '${flags.olderThan}'`);
  }
  const age = parsed?.age ?? null;
  const byRules = (flags.rules?.length ?? 0) > 0 || flags.systemRules === true;
  if (byRules && (target !== undefined || flags.match !== undefined || flags.olderThan !== undefined)) fail('give either PATH with --match/--older-than, or --rules/--system-rules, not both');
  if (!byRules && target === undefined) fail('say what to clean: PATH [--match GLOB] [--older-than AGE], or --rules FILE, or --system-rules');

  let jobs: CleanJob[];
  let mounts: MountHealth;
  let rootFd: number | undefined;
  if (byRules) {
    if (flags.emitRule) fail('--emit-rule turns a command line into a rule; with --rules there is nothing to emit');
    let rules;
    try {
      rules = readRuleFiles([...(flags.rules ?? []), ...(flags.systemRules ? systemRuleFiles() : [])]);
    } catch (e) {
      if (e instanceof RuleError) fail(e.message);
      const err = e as NodeJS.ErrnoException;
      fail(`${err.path ?? 'rules'}: ${describeCode(err.code)}`);
    }
    mounts = mountsNow();
    jobs = jobsFromRules(rules);
    for (const j of jobs) checkRoot(`${j.source}: ${j.root}`, j.root);
  } else {
    const { root, fd, mounts: now } = openRootOrFail(target!, 'nothing there to clean');
    mounts = now;
    rootFd = fd;
    checkRoot(target!, root);
    if (flags.match === undefined && age === null) fail('say what may go: --match GLOB and/or --older-than AGE (everything below PATH is never the default)');
    if (flags.match !== undefined && flags.match.includes('/')) fail(`--match takes a name pattern without '/': '${flags.match}'`);
    if (flags.emitRule) {
      out(emitRule(root, flags.match, flags.olderThan));
      return 0;
    }
    jobs = [adHocJob(root, flags.match, age, parsed?.ageBy)];
  }

  let logFd = -1;
  let logPath: string | null = null;
  if (flags.apply && flags.log !== false) {
    logPath = path.resolve(typeof flags.log === 'string' ? flags.log : DEFAULT_LOG);
    const dir = path.dirname(logPath);
    for (const j of jobs) if (logPath.startsWith(j.root === '/' ? '/' : j.root + '/')) fail(`the audit log ${logPath} must not be inside ${j.root}, which is being cleaned`);
    try {
      fs.mkdirSync(dir, { recursive: true });
      logFd = fs.openSync(logPath, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW, 0o600);
    } catch (e) {
      fail(`cannot open the audit log ${logPath}: ${describeCode((e as NodeJS.ErrnoException).code)}; give --log FILE elsewhere, or --no-log`);
    }
  }

  const t0 = performance.now();
  const result = emptyResult(flags.apply === true);
  const progress = progressLine(flags.json);
  try {
    for (const job of jobs) {
      // a rule's directory on an autofs mount point with nothing mounted is not entered
      if (closedMountOf(job.root, mounts)) {
        if (result.errors.length < 100) result.errors.push({ path: job.root, error: 'autofs mount point with nothing mounted: not entered (enospc does not trigger automounts)' });
        result.skipped.error++;
        continue;
      }
      try {
        runJob(job, {
          apply: flags.apply === true, logFd, mountPoints: walkMounts(job.root, mounts),
          ...(rootFd !== undefined ? { rootFd } : {}), forceUnseen: flags.forceUnseen === true,
          onUnseen: (why) => { progress.clear(); process.stderr.write(`enospc: cannot see every process: ${why}; ${flags.forceUnseen ? '--force-unseen: other users\' files go all the same' : 'other users\' files are kept (--force-unseen removes them all the same)'}\n`); },
          onProgress: (n: number) => progress.update(`cleaning ${job.root}: ${n.toLocaleString('en-US')} entries looked at`),
        }, result);
      } catch (e) {
        if (!(e instanceof SysError)) throw e;
        if (result.errors.length < 100) result.errors.push({ path: job.root, error: e.code });
        result.skipped.error++;
      }
    }
  } finally {
    if (logFd >= 0) {
      fs.fdatasyncSync(logFd);
      fs.closeSync(logFd);
    }
    progress.clear();
  }
  const report = { result, jobs, log: logPath, elapsedMs: performance.now() - t0 };
  if (flags.json) out(JSON.stringify(cleanJson(report), null, 2) + '\n');
  else out(cleanHuman(report, wantColor(process.stdout), limit));
  return result.skipped.error > 0 ? 1 : 0;
}
