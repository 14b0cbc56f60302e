// What doctor looks at: every real filesystem once (by a mount of it that is not hidden), or
// the filesystems holding the paths the user named (resolved through the guard, so that a path
// on a dead mount does not hang doctor).
//
// This module stays light (no checks, no scan): the CLI starts the mount checks from it before
// loading the rest of doctor, so that the guard's child starts while the parent loads.
import path from 'node:path';
import { PSEUDO_FSTYPES, mountOf, readMounts, type Mount } from '../probe/mounts.js';
import { checkMounts, closedWhy, mountsNow, type MountHealth } from '../probe/mount-health.js';
import type { GuardProcess, Resolved, UsageOrError } from '../probe/guard.js';
import { excludedMount } from '../shared/config.js';

export interface Target {
  mount: Mount;
  /** where a census starts: the mount point, or the path named */
  root: string;
  /** the root is a directory (a census can run there) */
  dir: boolean;
  /** statfs of the root */
  stat: UsageOrError;
}

/**
 * Something doctor could not look at, and why. `failed`: a check could not run (a mount that
 * did not answer, a check that threw, metadata that does not read): the exit status is 3 when
 * nothing is worse. `needs-root`: only the lack of privilege hid it; `hidden`: not even root may
 * see it (a process whose /proc entries are closed to root). Neither changes the exit status.
 */
export interface Unknown {
  what: string;
  error: string;
  kind: 'failed' | 'needs-root' | 'hidden';
}

/** A path named on the command line that does not resolve: bad input. */
export class PathError extends Error {
  constructor(readonly path: string, readonly code: string) {
    super(`${path}: ${code}`);
  }
}

/** The mount checks under way: statfs of every real mount, and the paths resolved, in one child. */
export interface MountChecks {
  /** the paths named that are being resolved (not those on an autofs mount point) */
  toResolve: string[];
  /** the paths named on an autofs mount point with nothing mounted: not entered */
  unknown: Unknown[];
  done: Promise<{ health: MountHealth; resolved: Resolved[] }>;
}

/**
 * Start the mount checks for `paths` (none: every mount). A path on an autofs mount point with
 * nothing mounted (found lexically from mountinfo) is not resolved: that would trigger the
 * automount, which waits for a daemon that may never answer.
 */
export function startMountChecks(paths: string[] = [], timeoutMs = 5000, guard?: GuardProcess): MountChecks {
  const all = readMounts();
  const before = mountsNow(all);
  const toResolve: string[] = [];
  const unknown: Unknown[] = [];
  for (const p of paths) {
    const m = mountOf(path.resolve(p), before.visible);
    if (m?.fstype === 'autofs') unknown.push({ what: p, error: `not entered: ${closedWhy(m, before)}; access it first (ls ${m.mountPoint}) to have it checked`, kind: 'failed' });
    else toResolve.push(p);
  }
  return { toResolve, unknown, done: checkMounts({ all, resolve: toResolve, timeoutMs, ...(guard ? { guard } : {}) }) };
}

/** Mount points node_exporter leaves out by default. */
const EXCLUDED_MOUNTPOINTS = /^\/(dev|proc|run\/credentials\/.+|sys|var\/lib\/docker\/.+|var\/lib\/containers\/storage\/.+)($|\/)/;
const EXCLUDED_FSTYPES = new Set([...PSEUDO_FSTYPES, 'devtmpfs', 'iso9660', 'overlay', 'squashfs', 'erofs', 'nsfs']);

const devOf = (m: Mount): string => `${m.major}:${m.minor}`;

/**
 * The real filesystems, each once (bind mounts of one device once), by the first of its mounts
 * that is not hidden. A filesystem all of whose mounts are hidden has no path to statfs: it goes
 * to `unknown` rather than being statfs'd through a path that now leads elsewhere.
 */
export function mountTargets(health: MountHealth, unknown: Unknown[]): Target[] {
  const byDev = new Map<string, Mount[]>();
  for (const m of health.all) {
    if (EXCLUDED_FSTYPES.has(m.fstype) || EXCLUDED_MOUNTPOINTS.test(m.mountPoint) || excludedMount(m.mountPoint)) continue;
    const list = byDev.get(devOf(m));
    if (list) list.push(m);
    else byDev.set(devOf(m), [m]);
  }
  const visible = new Set(health.visible.map((m) => m.id));
  const out: Target[] = [];
  for (const [dev, mounts] of byDev) {
    const m = mounts.find((x) => visible.has(x.id));
    if (!m) {
      const at = mounts.map((x) => x.mountPoint).join(', ');
      unknown.push({ what: `${mounts[0]!.fstype} ${mounts[0]!.source} (device ${dev})`, error: `hidden: other mounts sit over every mount point of it (${at}), so it has no path to look at it through`, kind: 'failed' });
      continue;
    }
    out.push({ mount: m, root: m.mountPoint, dir: true, stat: health.usage.get(m.id) ?? { usage: null, error: 'timeout' } });
  }
  return out;
}

/**
 * The filesystems holding `paths`, as the guard resolved them (`resolved[i]` for `paths[i]`).
 * A path that did not resolve in time is reported by the mount that holds it lexically when
 * that mount is dead, else as unknown; one that does not exist throws PathError.
 */
export function pathTargets(paths: string[], resolved: Resolved[], health: MountHealth, unknown: Unknown[]): Target[] {
  const out: Target[] = [];
  const add = (t: Target) => {
    if (!out.some((x) => x.mount === t.mount)) out.push(t);
  };
  paths.forEach((p, i) => {
    const r = resolved[i]!;
    if (r.real === null) {
      if (r.error !== 'timeout') throw new PathError(p, r.error ?? 'error');
      const m = mountOf(path.resolve(p), health.visible);
      if (m && health.dead.has(m.id)) add({ mount: m, root: path.resolve(p), dir: false, stat: health.usage.get(m.id) ?? { usage: null, error: 'timeout' } });
      else unknown.push({ what: p, error: `did not resolve in ${health.timeoutMs / 1000} s (a symlink into a hung network or FUSE mount?)`, kind: 'failed' });
      return;
    }
    const m = mountOf(r.real, health.visible);
    if (!m) return;
    add({ mount: m, root: r.real, dir: r.dir, stat: r.usage ? { usage: r.usage } : { usage: null, error: r.usageError ?? 'timeout' } });
  });
  return out;
}
