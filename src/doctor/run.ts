// enospc doctor as a library call: gather the facts (mounts, statfs, open files, a census of
// the troubled mounts), run every check, and rank the findings. It creates no files, so it
// works on a system whose /tmp has no inode left.
//
// Nothing here may hang on a mount that does not answer: every real mount is statfs'd at once in
// a child process that is killed at the time limit (probe/guard.ts), the paths named are
// resolved there too, and the mounts that did not answer are dead for the rest of the run: no
// census enters them, no open file on them is statted, no container store on them is read.
import os from 'node:os';
import fs from 'node:fs';
import { mountOf } from '../probe/mounts.js';
import { walkMounts } from '../probe/mount-health.js';
import type { GuardProcess } from '../probe/guard.js';
import { OpenFilesSink, comm, livePids, scanFds, type OpenFiles } from '../probe/procs.js';
import { WatchersSink } from '../probe/watchers.js';
import { usageOf, type InotifyUsage } from '../probe/watch-users.js';
import { kernelTables } from '../probe/sysctl.js';
import { hostFiles } from '../probe/host-files.js';
import type { ImageSpec } from '../probe/imagemagick.js';
import { censusParallel } from '../scan/parallel.js';
import { CHECKS } from '../checks/index.js';
import { pidNames } from '../checks/signatures.js';
import type { AnyCheck, CheckContext, Finding, MountFacts } from '../checks/types.js';
import { freeSeverity, RANK } from '../shared/levels.js';
import { num } from '../shared/units.js';
import { containers, placeStores } from '../containers/run.js';
import { deniedStores, findStores } from '../containers/stores.js';
import { mountTargets, pathTargets, startMountChecks, type MountChecks, type Target, type Unknown } from './targets.js';
import { compareText } from '../shared/text.js';
import { config } from '../shared/config.js';
import type { WalkMount } from '../probe/mounts.js';
import { numbersMayRepeat } from '../scan/collisions.js';
import { wrapsInodeNumbers } from '../checks/tmpfs-inode32.js';

/** The configuration's excluded paths, as the walker's mount points it never enters (each counts as one entry, unopened). */
function excludedPaths(): WalkMount[] {
  return config().excludePaths.map((p) => ({ path: Buffer.from(p.replace(/(.)\/+$/, '$1')).toString('latin1'), major: 0, minor: 0, enter: false }));
}

export { PathError, type Unknown } from './targets.js';

export interface DoctorOptions {
  /**
   * only the mounts holding these paths (resolved here, safely); default: every real mount.
   * A path that does not exist throws PathError.
   */
  paths?: string[];
  /**
   * with every mount (no `paths`): paths to census besides the troubled mounts (the agent's
   * watched paths). A mount point is censused as its mount's, for the checks to see; any other
   * path apart, into `extraCensus`, which the checks do not see. Paths that do not resolve are
   * left out.
   */
  alsoCensus?: string[];
  /** a guard child kept between runs (the agent's), instead of a new one */
  guard?: GuardProcess;
  /** the watches as read already (the agent's last reading): every process's fdinfo is not read again */
  watchUse?: InotifyUsage;
  /** threads for each census (default: the cores, at most 4); the agent uses 1 (many small trees, a bounded memory) */
  censusThreads?: number;
  /** time for all censuses together, ms (default 20 s) */
  budgetMs?: number;
  /** statfs time limit per mount, ms (default 5 s) */
  statfsTimeoutMs?: number;
  /** the mount checks, started by the caller already (startMountChecks with the same paths and time limit) */
  mountChecks?: MountChecks;
  /** files untouched this long (s) and not open count as orphans (default 1 h) */
  staleAfter?: number;
  checks?: AnyCheck[];
  /** an image size to run the ImageMagick pixel-cache arithmetic for */
  image?: ImageSpec;
  onProgress?: (what: string) => void;
}

export interface MountSummary {
  path: string;
  fstype: string;
  source: string;
  inodes: { total: number; free: number; used: number } | null;
  blocks: { size: number; total: number; free: number; avail: number; used: number } | null;
  /** why inodes and blocks are null: "timeout" when statfs did not answer in time, or an errno code */
  error: string | null;
  scan: { root: string; entries: number; partial: boolean; elapsedMs: number } | null;
}

export interface DoctorReport {
  host: { kernel: string; arch: string; hostname: string; node: string };
  mounts: MountSummary[];
  findings: Finding[];
  /** what could not be checked: checks that failed, mounts whose statfs did not answer, what only root can see */
  unknown: Unknown[];
  /** 0 ok, 1 warning, 2 critical, 3 unknown (critical and warning take precedence) */
  exitCode: number;
  mountFacts: MountFacts[];
  /** the censuses of `alsoCensus` paths that are not a mount's root */
  extraCensus: Array<{ root: string; mount: MountFacts['mount']; census: NonNullable<MountFacts['census']> }>;
}

function troubled(f: MountFacts): boolean {
  const u = f.usage;
  if (!u) return false;
  return (u.inodes.total > 0 && freeSeverity(u.inodes.free, u.inodes.total) !== null) ||
    (u.blocks.total > 0 && freeSeverity(u.blocks.avail, u.blocks.total) !== null);
}

/** Are other users' processes hidden from us (/proc mounted with hidepid, not root)? PID 1 always exists. */
function pidsHidden(): boolean {
  return process.geteuid?.() !== 0 && !fs.existsSync('/proc/1');
}

export async function doctor(opts: DoctorOptions = {}): Promise<DoctorReport> {
  const staleAfter = opts.staleAfter ?? 3600;
  const given = opts.paths ?? [];
  // every real mount statfs'd, and the paths resolved, in one child that cannot hang this process
  const also = given.length ? [] : opts.alsoCensus ?? [];
  const checks = opts.mountChecks ?? startMountChecks(given.length ? given : also, opts.statfsTimeoutMs, opts.guard);
  const unknown: Unknown[] = given.length ? [...checks.unknown] : [];
  const toResolve = checks.toResolve;
  opts.onProgress?.('statfs of every mount');
  const { health, resolved } = await checks.done;
  const targets: Target[] = given.length ? pathTargets(toResolve, resolved, health, unknown) : mountTargets(health, unknown);
  // the other paths to census: a target's root goes with its target, any other path apart
  const censusRoots = new Set<string>();
  const extra: Target[] = [];
  if (also.length) {
    toResolve.forEach((_, i) => {
      const r = resolved[i];
      if (!r?.real || !r.dir) return;
      if (targets.some((t) => t.root === r.real)) return void censusRoots.add(r.real);
      const m = mountOf(r.real, health.visible);
      // one census per filesystem, as with paths named (the first path on it)
      if (m && !health.dead.has(m.id) && !extra.some((t) => t.mount === m)) extra.push({ mount: m, root: r.real, dir: true, stat: { usage: r.usage } });
    });
  }
  const facts: MountFacts[] = targets.map((t) => ({ mount: t.mount, usage: t.stat.usage, ...(t.stat.error ? { usageError: t.stat.error } : {}) }));

  // one reading of every process's fds gives both the open-file index and the watch counts
  const pids = livePids();
  const asRoot = process.geteuid?.() === 0;
  let open: OpenFiles | null = null;
  let watchUse: CheckContext['watchUse'] = null;
  try {
    const openSink = new OpenFilesSink(health);
    const watchSink = opts.watchUse ? null : new WatchersSink();
    const unreadable = scanFds(watchSink ? [openSink, watchSink] : [openSink], pids);
    open = openSink.result(unreadable.length);
    watchUse = opts.watchUse ?? usageOf(watchSink!.result(unreadable));
    if (unreadable.length && !asRoot) {
      unknown.push({
        what: "other users' processes",
        error: `the open files and watches of ${num(unreadable.length)} process${unreadable.length === 1 ? '' : 'es'} could not be read without root: which files are open (so which are orphans), deleted files still open, and their inotify watches are not known for them`,
        kind: 'needs-root',
      });
    } else if (unreadable.length) {
      unknown.push({
        what: 'processes closed even to root',
        error: `${unreadable.slice(0, 5).map((p) => `pid ${p} (${comm(p)})`).join(', ')}${unreadable.length > 5 ? ` and ${unreadable.length - 5} more` : ''}: open files that cannot be read even by root, so a file held open there may be counted as an orphan`,
        kind: 'hidden',
      });
    }
  } catch (e) {
    unknown.push({ what: 'process scan (/proc/PID/fd)', error: (e as Error).message, kind: 'failed' });
  }
  const hidden = pidsHidden();
  if (hidden) unknown.push({ what: 'process list', error: "/proc hides other users' processes (hidepid): whether the PID in a name (opam-PID-*) still runs is not known", kind: 'needs-root' });
  // open counts are given to the census when every process could be read, or as root (the
  // few processes closed even to root are named in unknown, and in the orphans' reason)
  const openComplete = open !== null && (open.unreadable === 0 || asRoot);

  // censuses: troubled mounts, and the paths the user named
  const deadline = performance.now() + (opts.budgetMs ?? 20_000);
  const censusOf = async (root: string, mount: MountFacts['mount'], limit = 10, threads = opts.censusThreads): Promise<MountFacts['census']> => {
    const left = deadline - performance.now();
    if (left <= 0) return undefined;
    opts.onProgress?.(`scanning ${root}`);
    try {
      return await censusParallel(root, {
        stat: true, limit, budgetMs: left, staleAfter, collisions: numbersMayRepeat(mount), ...(threads ? { threads } : {}), livePids: pids, pidNames: pidNames(), mountPoints: [...walkMounts(root, health), ...excludedPaths()],
        ...(openComplete ? { openInodes: open!.byDev.get(`${mount.major}:${mount.minor}`) ?? new Set<number>() } : {}),
      });
    } catch (e) {
      // an unreadable root: the checks still speak from statfs
      unknown.push({ what: `scan of ${root}`, error: (e as Error).message, kind: (e as NodeJS.ErrnoException).code === 'EACCES' ? 'needs-root' : 'failed' });
      return undefined;
    }
  };
  for (const [i, f] of facts.entries()) {
    const { root, dir } = targets[i]!;
    if (!f.usage || !dir || !(given.length || troubled(f) || censusRoots.has(root))) continue;
    const c = await censusOf(root, f.mount);
    if (c) f.census = c;
  }
  const extraCensus: DoctorReport['extraCensus'] = [];
  for (const t of extra) {
    if (facts.some((f) => f.mount === t.mount && f.census)) continue; // its whole filesystem was censused
    const c = await censusOf(t.root, t.mount);
    if (c) extraCensus.push({ root: t.root, mount: t.mount, census: c });
  }
  // inode numbers that repeat (case 003): what the censuses saw, and a walk of every other
  // writable tmpfs without inode64 (its counter may have wrapped whether or not it is full)
  for (const [i, f] of facts.entries()) {
    const seen = f.census ?? extraCensus.find((x) => x.mount === f.mount && x.root === f.mount.mountPoint)?.census;
    if (seen) {
      f.numbers = seen;
      continue;
    }
    if (given.length || !f.usage || !targets[i]!.dir || !wrapsInodeNumbers(f.mount)) continue;
    const root = targets[i]!.root;
    if (deadline - performance.now() <= 0) {
      unknown.push({ what: `inode numbers on ${root}`, error: 'not compared: the time budget ran out (--budget for more)', kind: 'failed' });
      continue;
    }
    // one thread: such a tmpfs is most often small, and threads cost more to start than that
    const c = await censusOf(root, f.mount, 1, 1);
    if (c) f.numbers = c;
  }

  // container stores on the mounts looked at, their layer directories counted in what is left
  let stores: CheckContext['containers'] = null;
  try {
    const placed = await placeStores(findStores(health), health);
    const looked = new Set(targets.map((t) => t.mount));
    const found = given.length ? placed.filter((s) => s.real !== null && looked.has(mountOf(s.real, health.visible)!)) : placed;
    if (found.length) {
      opts.onProgress?.('reading container stores');
      stores = await containers({ placed: found, health, budgetMs: Math.max(1000, Math.min(5000, deadline - performance.now())) });
      for (const r of stores.stores) for (const e of r.errors) unknown.push({ what: `container store ${r.store.root}`, error: `${e.file}: ${e.error}`, kind: 'failed' });
    }
    if (!given.length) for (const d of deniedStores(health)) unknown.push({ what: 'container stores', error: `${d.what}: ${d.error}`, kind: 'needs-root' });
  } catch (e) {
    unknown.push({ what: 'container stores', error: (e as Error).message, kind: 'failed' });
  }

  let tables: CheckContext['tables'] = null;
  try {
    tables = kernelTables();
  } catch (e) {
    unknown.push({ what: 'kernel tables', error: (e as Error).message, kind: 'failed' });
  }

  const ctx: CheckContext = {
    mounts: facts, staleAfter, openFiles: open, kernel: os.release(), arch: os.arch(), watchUse, tables, containers: stores,
    pidsHidden: hidden, asRoot, host: hostFiles(),
    ...(opts.image ? { image: opts.image } : {}),
  };
  const findings: Finding[] = [];
  for (const f of facts) if (f.usageError) unknown.push({ what: `statfs ${f.mount.mountPoint}`, error: f.usageError === 'timeout' ? `did not answer in ${(opts.statfsTimeoutMs ?? 5000) / 1000} s (a hung network or FUSE server?)` : f.usageError, kind: 'failed' });
  for (const check of opts.checks ?? CHECKS) {
    try {
      findings.push(...check.run(ctx));
    } catch (e) {
      unknown.push({ what: check.id, error: (e as Error).message, kind: 'failed' });
    }
  }
  findings.sort((a, b) => RANK[b.severity] - RANK[a.severity] || compareText(a.target, b.target) || compareText(a.id, b.id));
  const worst = Math.max(-1, ...findings.map((x) => RANK[x.severity]));
  const exitCode = worst === 2 ? 2 : worst === 1 ? 1 : unknown.some((u) => u.kind === 'failed') ? 3 : 0;

  return {
    host: { kernel: os.release(), arch: os.arch(), hostname: os.hostname(), node: process.version },
    mounts: facts.map((f) => ({
      path: f.mount.mountPoint, fstype: f.mount.fstype, source: f.mount.source,
      inodes: f.usage?.inodes ?? null,
      blocks: f.usage ? { size: f.usage.blockSize, ...f.usage.blocks } : null,
      error: f.usageError ?? null,
      scan: f.census ? { root: f.census.root, entries: f.census.totals.entries, partial: f.census.partial, elapsedMs: f.census.elapsedMs } : null,
    })),
    findings,
    unknown,
    exitCode,
    mountFacts: facts,
    extraCensus,
  };
}
