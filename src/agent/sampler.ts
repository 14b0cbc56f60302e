// What the agent samples. Every interval (sample): statfs of every real mount through the guard
// (a hung mount is a device error, never a stall), the per-user inotify, fanotify and epoll use
// against the limits, and the kernel tables. Every census interval (census): doctor over every
// mount (its findings), and doctor over the watched paths (their top patterns, owners and
// orphans). A collector that fails says so (enospc_collector_success 0) and the rest goes on.
import fs from 'node:fs';
import { checkMounts } from '../probe/mount-health.js';
import { GuardProcess } from '../probe/guard.js';
import { PSEUDO_FSTYPES, readMounts, type Mount } from '../probe/mounts.js';
import { inotifyUsage, type InotifyUsage } from '../probe/watch-users.js';
import { kernelTables, watchLimits } from '../probe/sysctl.js';
import { userName } from '../probe/users.js';
import { doctor } from '../doctor/run.js';
import { containers } from '../containers/run.js';
import { RANK } from '../shared/levels.js';
import { textOf } from '../shared/text.js';
import { config, excludedMount } from '../shared/config.js';
import { signatureOf } from '../checks/signatures.js';
import { wrapsInodeNumbers } from '../checks/tmpfs-inode32.js';
import type { ProcWatchers } from '../probe/watchers.js';
import { listMounts, oldMountId } from '../sys/libc.js';
import { CatchCollector } from './catch-collector.js';
import type { MountSample, PatternSample, Sample, UserWatchSample } from './types.js';

const GIB = 2 ** 30;
/** the share of one core the per-user watch reading may take at most (at the nominal interval) */
const WATCH_COST_SHARE = 0.003;
/** the interval the agent's defaults are made for (s) */
const NOMINAL_INTERVAL = 15;
/** how often container stores are read for their ID-mapped copies */
const CONTAINERS_EVERY_MS = 3600_000;

export interface SamplerOptions {
  /** paths whose top patterns are kept (default: every tmpfs, /tmp, /var/tmp, and any mount past 80% inodes) */
  watch?: string[];
  /** statfs time limit, ms */
  statfsTimeoutMs?: number;
  /** time for the censuses of one census run, ms */
  censusBudgetMs?: number;
  /** the sampling interval, s (a shorter one than 15 s allows the watch reading a larger share) */
  intervalS?: number;
  /** also catch the system calls that fail with ENOSPC (catch-collector.ts) */
  catch?: boolean;
}

/** The boot ID: it cannot change while this process lives, so it is read once. */
let boot: string | undefined;
function bootId(): string {
  if (boot !== undefined) return boot;
  try {
    boot = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    boot = '';
  }
  return boot;
}

/** Is mount `m` worth a series (a real filesystem, not one of the node_exporter exclusions)? */
export function sampled(m: Mount): boolean {
  if (PSEUDO_FSTYPES.has(m.fstype) || m.fstype === 'devtmpfs' || m.fstype === 'squashfs' || m.fstype === 'overlay' || excludedMount(m.mountPoint)) return false;
  return !/^\/(dev|proc|sys|run\/credentials\/.+|var\/lib\/docker\/.+|var\/lib\/containers\/storage\/.+)($|\/)/.test(m.mountPoint);
}

/**
 * Mount IDs that are never handed out again. mountinfo's are, as soon as a mount is gone: an
 * unmount and a new mount at the same path between two samples keep the same one (and the
 * history the same segment). The unique IDs (listmount and statmount, Linux 6.8) by mountinfo
 * ID, each mount's asked once; an empty map on an older kernel (mountinfo's IDs are used then).
 */
class UniqueMountIds {
  /** unique ID -> mountinfo ID, of the mounts seen last time */
  private old = new Map<number, number>();

  byMountinfoId(): Map<number, number> {
    const ids = listMounts();
    const next = new Map<number, number>();
    if (typeof ids !== 'number') {
      for (const u of ids) {
        const o = this.old.get(u) ?? oldMountId(u);
        if (o >= 0) next.set(u, o);
      }
    }
    this.old = next;
    return new Map([...next].map(([u, o]) => [o, u]));
  }
}

/** The processes holding the most inotify watches, most first (the page shows them per user). */
function topHolders(processes: ProcWatchers[]): NonNullable<UserWatchSample['top']> {
  return processes.filter((p) => p.inotify.watches > 0 || p.inotify.instances > 0)
    .sort((a, b) => b.inotify.watches - a.inotify.watches || a.pid - b.pid).slice(0, 5)
    .map((p) => ({ pid: p.pid, comm: p.comm, watches: p.inotify.watches, instances: p.inotify.instances }));
}

export class Sampler {
  private patterns: PatternSample[] = [];
  private inodeNumbers: NonNullable<Sample['inodeNumbers']> = [];
  private findings: Sample['findings'] = [];
  private readonly census: Sample['collectors'] = [];
  private idmapped: Sample['idmappedCopies'] = [];
  private containersAt = -Infinity;
  /** how the last reading of the container stores went (kept between the hourly readings) */
  private containersRun: Sample['collectors'][number] | null = null;
  /** the mounts of the last sample, to choose the paths to watch */
  private lastMounts: MountSample[] = [];
  /** the last reading of the per-user watches: when, what it cost (s of wall time, nearly all CPU) */
  private watch: { at: number; seconds: number; users: UserWatchSample[]; usage: InotifyUsage } | null = null;
  /** one guard child for every sample's statfs */
  private readonly guard = new GuardProcess();
  private readonly mountIds = new UniqueMountIds();
  private readonly catcher: CatchCollector | null = null;
  /** why --catch could not be had here, or null */
  readonly catchUnavailable: string | null = null;

  constructor(private readonly opts: SamplerOptions = {}) {
    if (!opts.catch) return;
    const c = CatchCollector.open(this.guard);
    if (typeof c === 'string') this.catchUnavailable = c;
    else this.catcher = c;
  }

  /** The fast part, every interval. */
  async sample(now = Date.now() / 1000): Promise<Sample> {
    const collectors: Sample['collectors'] = [];
    const timed = async <T>(name: string, f: () => T | Promise<T>, fallback: T): Promise<T> => {
      const t0 = performance.now();
      try {
        const v = await f();
        collectors.push({ collector: name, seconds: (performance.now() - t0) / 1000, success: true });
        return v;
      } catch {
        collectors.push({ collector: name, seconds: (performance.now() - t0) / 1000, success: false });
        return fallback;
      }
    };
    const mounts = await timed('filesystem', () => this.mounts(), [] as MountSample[]);
    this.lastMounts = mounts;
    // every process's fdinfo costs ~2 ms of CPU per 1,000 watches, most of it the kernel's
    // writing them out: where that is dear, they are read less often (see WATCH_COST_SHARE)
    const last = this.watch;
    const scale = Math.min(1, (this.opts.intervalS ?? NOMINAL_INTERVAL) / NOMINAL_INTERVAL);
    if (!last || now - last.at >= last.seconds / (WATCH_COST_SHARE / scale) - 0.001) {
      const t0 = performance.now();
      const watch = await timed('inotify', () => inotifyUsage(), null);
      if (watch) {
        this.watch = {
          at: now, seconds: (performance.now() - t0) / 1000, usage: watch,
          users: watch.users.map((u) => ({
            user: u.user, uid: u.uid, inotifyWatches: u.watches, inotifyInstances: u.instances, fanotifyMarks: u.fanotifyMarks, epollWatches: u.epollWatches,
            top: topHolders(u.processes),
          })),
        };
      }
    } else {
      collectors.push({ collector: 'inotify', seconds: last.seconds, success: true });
    }
    const watch = this.watch;
    const users = watch?.users ?? [];
    const tables = await timed('kernel_tables', () => Object.entries(kernelTables()).map(([table, t]) => ({ table, used: t.used, limit: t.limit })), []);
    const caught = this.catcher ? await this.catcher.snapshot(now) : null;
    if (caught) collectors.push(caught.collector);
    return {
      t: now, bootId: bootId(), mounts, users, ...(watch && watch.at !== now ? { usersAt: watch.at } : {}),
      limits: this.limits(watch?.usage.limits),
      tables, patterns: this.patterns, inodeNumbers: this.inodeNumbers, idmappedCopies: this.idmapped, findings: caught ? [...this.findings, ...caught.findings] : this.findings,
      ...(caught ? { errors: caught.errors } : {}), collectors: [...collectors, ...this.census],
    };
  }

  private async mounts(): Promise<MountSample[]> {
    const { health } = await checkMounts({ timeoutMs: this.opts.statfsTimeoutMs ?? 5000, guard: this.guard });
    const unique = this.mountIds.byMountinfoId();
    const out: MountSample[] = [];
    for (const m of health.visible) {
      if (!sampled(m)) continue;
      const r = health.usage.get(m.id);
      if (!r) continue;
      const u = r.usage;
      const size = u ? u.blocks.total * u.blockSize : null;
      out.push({
        device: m.source, mountpoint: m.mountPoint, fstype: m.fstype,
        files: u ? u.inodes.total : null, filesFree: u ? u.inodes.free : null,
        sizeBytes: size, availBytes: u ? u.blocks.avail * u.blockSize : null,
        deviceError: !u || r.error !== undefined,
        tmpfs: m.fstype === 'tmpfs' && u && size ? { nrInodesPerGib: Math.round(u.inodes.total / (size / GIB)), inode64: /(^|,)inode64(,|$)/.test(m.superOptions) } : null,
        mountId: unique.get(m.id) ?? m.id,
      });
    }
    return out;
  }

  /** The inotify limits now (a sysctl read), else those of the last reading. */
  private limits(before: Sample['limits'] | undefined): Sample['limits'] {
    try {
      const l = watchLimits();
      return { inotifyWatches: l.inotifyWatches, inotifyInstances: l.inotifyInstances };
    } catch {
      return before ?? { inotifyWatches: null, inotifyInstances: null };
    }
  }

  /** Let the guard child go. */
  close(): void {
    this.catcher?.close();
    this.guard.close();
  }

  /** The paths whose patterns are kept: as given, or every tmpfs, /tmp, /var/tmp and every mount past 80% inodes. */
  watched(): string[] {
    if (this.opts.watch?.length) return this.opts.watch;
    const out = new Set<string>();
    // before the first sample (the first census comes first): the tmpfs mounts of mountinfo
    if (!this.lastMounts.length) for (const m of readMounts()) if (m.fstype === 'tmpfs' && sampled(m)) out.add(m.mountPoint);
    for (const m of this.lastMounts) {
      if (m.deviceError) continue;
      const full = m.files && m.filesFree !== null ? (m.files - m.filesFree) / m.files >= 0.8 : false;
      if (m.fstype === 'tmpfs' || full || m.mountpoint === '/tmp' || m.mountpoint === '/var/tmp') out.add(m.mountpoint);
    }
    for (const p of ['/tmp', '/var/tmp']) if (fs.existsSync(p)) out.add(p);
    // the configuration's extra paths; the excluded mounts' are not watched
    for (const p of config().watch) out.add(p);
    return [...out].filter((p) => !excludedMount(p));
  }

  /** The slow part, every census interval: one doctor run gives the findings of every mount and the patterns of the watched paths. */
  async runCensus(): Promise<void> {
    const budget = this.opts.censusBudgetMs ?? 20_000;
    const timeout = this.opts.statfsTimeoutMs ?? 5000;
    this.census.length = 0;
    let t0 = performance.now();
    try {
      const watched = this.watched();
      // doctor's inotify checks judge the last reading of the watches (not read again)
      const report = await doctor({
        alsoCensus: watched, budgetMs: budget, staleAfter: config().orphanAgeMinutes * 60, statfsTimeoutMs: timeout, censusThreads: 1, guard: this.guard, ...(this.watch ? { watchUse: this.watch.usage } : {}),
      });
      this.findings = report.findings.filter((f) => RANK[f.severity] >= RANK.warning)
        .map((f) => ({ check: f.id, severity: f.severity as 'warning' | 'critical', target: f.target, title: f.title, evidence: f.evidence, fix: f.fix }));
      // the patterns of the watched paths: censused as a mount's root, or apart
      const roots = new Set(watched);
      const censused = [
        ...report.mountFacts.filter((f) => f.census && roots.has(f.mount.mountPoint)).map((f) => ({ mount: f.mount, census: f.census! })),
        ...report.extraCensus,
      ];
      const patterns: PatternSample[] = [];
      for (const { mount, census: c } of censused) {
        for (const p of c.patterns.slice(0, 10)) {
          const orphans = p.pidDead !== null && p.pidAlive !== null ? p.pidDead : p.stale;
          patterns.push({
            mountpoint: mount.mountPoint, pattern: p.pattern.toString('utf8'), files: p.count, orphans,
            owners: (p.owners ?? []).slice(0, 3).map((o) => userName(o.uid)),
            producer: signatureOf(textOf(p.example), p.topDirs[0] ? textOf(p.topDirs[0].path) : '')?.name ?? null,
          });
        }
      }
      this.patterns = patterns;
      // inode numbers: colliding ones, and how near the wrap a 32-bit tmpfs is
      this.inodeNumbers = report.mountFacts.flatMap((f) => {
        const c = f.numbers ?? f.census;
        if (!c || c.maxIno === null) return [];
        return [{ mountpoint: f.mount.mountPoint, collisions: c.collisions?.inodes ?? null, maxIno: c.partial ? null : c.maxIno, wraps: wrapsInodeNumbers(f.mount) }];
      });
      this.census.push({ collector: 'census', seconds: (performance.now() - t0) / 1000, success: true });
    } catch {
      this.census.push({ collector: 'census', seconds: (performance.now() - t0) / 1000, success: false });
    }
    // container stores: their ID-mapped copies, hourly (reading a store is not cheap)
    if (Date.now() - this.containersAt >= CONTAINERS_EVERY_MS) {
      this.containersAt = Date.now();
      t0 = performance.now();
      try {
        const r = await containers({ budgetMs: Math.min(budget, 10_000) });
        this.idmapped = r.stores.flatMap((s) => s.analysis.images.filter((i) => i.copies.length > 0)
          .map((i) => ({ store: s.store.root, image: i.names[0] ?? i.id.slice(0, 12), copies: i.copies.length })));
        this.containersRun = { collector: 'containers', seconds: (performance.now() - t0) / 1000, success: true };
      } catch {
        this.containersRun = { collector: 'containers', seconds: (performance.now() - t0) / 1000, success: false };
      }
    }
    if (this.containersRun) this.census.push(this.containersRun);
  }
}
