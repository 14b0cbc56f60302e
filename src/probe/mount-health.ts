// Which mounts answer: statfs of every visible mount that is not a pseudo filesystem, all at once
// through the guard (a child process that is killed at the deadline). A mount that did not
// answer, or failed, is dead for the rest of the run: nothing may touch a path on it (a stat, an
// open, a walk would hang the process for good). An autofs mount point with nothing mounted on
// it is never entered either: entering it triggers an automount, which waits for its daemon.
import path from 'node:path';
import { guarded, type GuardProcess, type Resolved, type UsageOrError } from './guard.js';
import { PSEUDO_FSTYPES, hiddenMounts, mountOf, mountPointsBelow, readMounts, type Mount, type WalkMount } from './mounts.js';

export interface MountHealth {
  all: Mount[];
  /** the mounts not hidden by others (hiddenMounts), in mountinfo order */
  visible: Mount[];
  /** statfs of the visible mounts that were asked, by mount id */
  usage: Map<number, UsageOrError>;
  /** ids of the mounts not to touch: statfs failed there, or did not answer (then every mount of that device) */
  dead: Set<number>;
  /** the time statfs had, ms */
  timeoutMs: number;
}

export interface HealthOptions {
  /** mountinfo as read already */
  all?: Mount[];
  /** also resolve these paths through the guard (realpath, is it a directory, statfs) */
  resolve?: string[];
  /** only the mounts at or below this path (default: every one) */
  under?: string;
  /** ms (default 5 s) */
  timeoutMs?: number;
  /** a guard child kept between calls (the agent's), instead of a new one */
  guard?: GuardProcess;
}

/** The mounts as mountinfo has them, none known dead (no statfs made). */
export function mountsNow(all: Mount[] = readMounts()): MountHealth {
  const hidden = hiddenMounts(all);
  return { all, visible: all.filter((m) => !hidden.has(m.id)), usage: new Map(), dead: new Set(), timeoutMs: 0 };
}

/** statfs every visible real mount (and resolve `resolve`) in one guarded child, within the time limit. */
export async function checkMounts(opts: HealthOptions = {}): Promise<{ health: MountHealth; resolved: Resolved[]; elapsedMs: number }> {
  const health = mountsNow(opts.all ?? readMounts());
  health.timeoutMs = opts.timeoutMs ?? 5000;
  const under = opts.under === undefined || opts.under === '/' ? '/' : opts.under + '/';
  const asked = health.visible.filter((m) => !PSEUDO_FSTYPES.has(m.fstype) && (under === '/' || (m.mountPoint + '/').startsWith(under)));
  const g = await guarded({ statfs: asked.map((m) => m.mountPoint), resolve: opts.resolve ?? [] }, health.timeoutMs, opts.guard);
  const silentDevs = new Set<string>();
  asked.forEach((m, i) => {
    const r = g.statfs[i]!;
    health.usage.set(m.id, r);
    if (r.error) health.dead.add(m.id);
    if (r.error === 'timeout') silentDevs.add(`${m.major}:${m.minor}`);
  });
  // a server that does not answer one mount of its filesystem answers none (bind mounts)
  for (const m of health.all) if (silentDevs.has(`${m.major}:${m.minor}`)) health.dead.add(m.id);
  return { health, resolved: g.resolve, elapsedMs: g.elapsedMs };
}

/**
 * The mount holding `p` (found lexically from mountinfo: nothing on the path is touched), when it
 * must not be entered: dead, or an autofs mount point with nothing mounted on it.
 */
export function closedMountOf(p: string, health: MountHealth): Mount | undefined {
  const m = mountOf(path.resolve(p), health.visible);
  return m && (health.dead.has(m.id) || m.fstype === 'autofs') ? m : undefined;
}

/** The mount points below `root` for the walker: dead and autofs ones are never entered. */
export function walkMounts(root: string, health: MountHealth): WalkMount[] {
  return mountPointsBelow(root, health.visible, health.dead);
}

/** Why a closed mount is not entered, in words (for an unknown entry or an error line). */
export function closedWhy(m: Mount, health: MountHealth): string {
  if (m.fstype === 'autofs') return `${m.mountPoint} is an autofs mount point with nothing mounted on it, and enospc does not trigger automounts (one nobody serves would hang)`;
  const e = health.usage.get(m.id)?.error;
  if (e === undefined || e === 'timeout') return `${m.mountPoint} (${m.fstype}) did not answer statfs in ${health.timeoutMs / 1000} s (a hung network or FUSE server?)`;
  return `statfs of ${m.mountPoint} (${m.fstype}) failed: ${e}`;
}
