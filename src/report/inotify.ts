// `enospc inotify`: the JSON document and the human report.
import type { InotifyUsage, UserWatchUse } from '../probe/watch-users.js';
import type { ProcWatchers } from '../probe/watchers.js';
import type { WatchLimits } from '../probe/sysctl.js';
import { collapsePaths, watchKey } from '../probe/watch-paths.js';
import { devOf } from '../probe/fdinfo.js';
import { num, pct, style, headedTable } from './format.js';
import { percent } from '../shared/levels.js';

export const INOTIFY_SCHEMA = 1;

const share = (n: number, limit: number | null) => (limit ? percent(n, limit) : null);

function procPaths(p: ProcWatchers, paths: Map<string, string>): { dirs: Array<{ path: string; watches: number }>; unresolved: number; unresolvedExamples: string[] } {
  const found: string[] = [];
  let unresolved = 0;
  const unresolvedExamples: string[] = [];
  for (const w of p.watchList ?? []) {
    const path = paths.get(watchKey(w));
    if (path) {
      found.push(path);
      continue;
    }
    unresolved++;
    if (unresolvedExamples.length < 10) {
      const { major, minor } = devOf(w.sdev);
      unresolvedExamples.push(`${major}:${minor}:${w.ino}`);
    }
  }
  return { dirs: collapsePaths(found).map(([path, watches]) => ({ path, watches })), unresolved, unresolvedExamples };
}

/** A process holding inotify, fanotify or epoll objects. */
export interface InotifyProcessJson {
  pid: number;
  comm: string;
  /** effective uid, as the reading user namespace sees it */
  uid: number;
  /** inode number of its user namespace */
  userns: number;
  watches: number;
  instances: number;
  fanotifyGroups: number;
  fanotifyMarks: number;
  epollInstances: number;
  epollWatches: number;
  /** with --paths: the directories watched, collapsed to those holding them, most watches first */
  dirs?: Array<{ path: string; watches: number }>;
  /** with --paths: watches whose path was not found */
  unresolved?: number;
  /** with --paths: up to 10 unresolved watches, as "major:minor:inode" */
  unresolvedExamples?: string[];
}

/** A user charged with watches and instances. */
export interface InotifyUserJson {
  /** the uid charged, in this (the reading) user namespace */
  uid: number;
  user: string;
  watches: number;
  /** of fs.inotify.max_user_watches; null when the limit is unknown */
  watchesPercent: number | null;
  instances: number;
  /** of fs.inotify.max_user_instances; null when the limit is unknown */
  instancesPercent: number | null;
  /** instances also held by another process (inherited over fork): counted once */
  sharedInstances: number;
  fanotifyGroups: number;
  fanotifyMarks: number;
  epollWatches: number;
  /** user namespaces (inode numbers) of its processes */
  namespaces: number[];
  processes: InotifyProcessJson[];
  /** PIDs charged to this user whose fds could not be read */
  unreadable: number[];
  /** this user's figures are a floor (some of its processes, or some of unknown owner, were not read) */
  lowerBound: boolean;
}

/** `enospc inotify --json` (docs/json.md; schemas/inotify.schema.json). */
export interface InotifyJson {
  schema: typeof INOTIFY_SCHEMA;
  /** the per-user limits of the initial user namespace; each null when this kernel has none */
  limits: WatchLimits;
  /** most watches first */
  users: InotifyUserJson[];
  /** PIDs whose fds could not be read: not root, or closed even to root */
  unreadable: number[];
  /** true when unreadable is not empty: some figures are a lower bound (each user's lowerBound says which) */
  lowerBound: boolean;
  elapsedMs: number;
}

export function inotifyJson(u: InotifyUsage): InotifyJson {
  const L = u.limits;
  return {
    schema: INOTIFY_SCHEMA,
    limits: L,
    users: u.users.map((x) => ({
      uid: x.uid, user: x.user,
      watches: x.watches, watchesPercent: share(x.watches, L.inotifyWatches),
      instances: x.instances, instancesPercent: share(x.instances, L.inotifyInstances),
      sharedInstances: x.sharedInstances,
      fanotifyGroups: x.fanotifyGroups, fanotifyMarks: x.fanotifyMarks, epollWatches: x.epollWatches,
      namespaces: x.namespaces,
      processes: x.processes.map((p) => ({
        pid: p.pid, comm: p.comm, uid: p.uid, userns: p.userns,
        watches: p.inotify.watches, instances: p.inotify.instances,
        fanotifyGroups: p.fanotify.groups, fanotifyMarks: p.fanotify.marks,
        epollInstances: p.epoll.instances, epollWatches: p.epoll.watches,
        ...(u.paths ? procPaths(p, u.paths) : {}),
      })),
      unreadable: x.unreadable,
      lowerBound: x.lowerBound,
    })),
    unreadable: u.unreadable,
    lowerBound: u.unreadable.length > 0,
    elapsedMs: u.elapsedMs,
  };
}

function pidList(pids: number[]): string {
  return (pids.length === 1 ? `pid ${pids[0]}` : `pids ${pids.slice(0, 5).join(', ')}${pids.length > 5 ? ` and ${pids.length - 5} more` : ''}`);
}

function userLines(x: UserWatchUse, u: InotifyUsage, color: boolean): string[] {
  const s = style(color);
  const L = u.limits;
  const head = `${x.user}: ${x.lowerBound ? 'at least ' : ''}${num(x.watches)} of ${L.inotifyWatches === null ? '?' : num(L.inotifyWatches)} watches (${pct(x.watches, L.inotifyWatches ?? 0)}), ${num(x.instances)} of ${L.inotifyInstances === null ? '?' : num(L.inotifyInstances)} instances (${pct(x.instances, L.inotifyInstances ?? 0)})`
    + (x.sharedInstances ? `, ${x.sharedInstances} more shared over fork` : '');
  const rows = x.processes.map((p) => [String(p.pid), p.comm, num(p.inotify.watches), num(p.inotify.instances), num(p.fanotify.marks), num(p.epoll.watches)]);
  const out = [s.bold(head), ...headedTable([['PID', 'COMMAND', 'WATCHES', 'INSTANCES', 'FAN MARKS', 'EPOLL'], ...rows], [true, false, true, true, true, true], s, '  ')];
  if (u.paths) {
    for (const p of x.processes) {
      if (!p.inotify.watches) continue;
      const { dirs, unresolved, unresolvedExamples } = procPaths(p, u.paths);
      out.push(`  ${p.pid} ${p.comm} watches:`);
      for (const d of dirs) out.push(`    ${num(d.watches).padStart(9)}  ${d.path}`);
      if (unresolved) out.push(s.dim(`    ${num(unresolved).padStart(9)}  not resolved (major:minor:inode): ${unresolvedExamples.slice(0, 3).join(', ')}${unresolved > 3 ? ', ...' : ''}`));
    }
  }
  return out;
}

export function inotifyHuman(u: InotifyUsage, color: boolean): string {
  const s = style(color);
  const L = u.limits;
  const out: string[] = [];
  out.push(`limits per user: fs.inotify.max_user_watches ${L.inotifyWatches === null ? 'unknown' : num(L.inotifyWatches)}, max_user_instances ${L.inotifyInstances ?? 'unknown'}` +
    `, fs.fanotify.max_user_marks ${L.fanotifyMarks === null ? 'unknown' : num(L.fanotifyMarks)}, fs.epoll.max_user_watches ${L.epollWatches === null ? 'unknown' : num(L.epollWatches)}`);
  if (u.unreadable.length) {
    out.push(s.yellow(u.asRoot
      ? `${pidList(u.unreadable)} could not be read even by root: ${u.unreadable.length === 1 ? 'its' : 'their'} watches are not counted`
        + (u.users.some((x) => x.lowerBound) ? `; the figures of ${u.users.filter((x) => x.lowerBound).map((x) => x.user).join(', ')} are a lower bound` : '')
      : `${num(u.unreadable.length)} process${u.unreadable.length === 1 ? '' : 'es'} could not be read (run as root): figures marked "at least" are a lower bound`));
  }
  if (u.users.length === 0) {
    out.push('no process holds an inotify, fanotify or epoll object' + (u.unreadable.length ? ' that could be read' : ''));
    return out.join('\n') + '\n';
  }
  // watches and instances alike: the count, then its share of the per-user limit (docs/style.md)
  const withShare = (n: number, limit: number | null) => `${num(n)} (${limit ? pct(n, limit) : '?'})`;
  const rows = u.users.map((x) => [x.user, withShare(x.watches, L.inotifyWatches), withShare(x.instances, L.inotifyInstances), num(x.fanotifyMarks), num(x.epollWatches), num(x.processes.length)]);
  out.push('', ...headedTable([['USER', 'WATCHES', 'INSTANCES', 'FAN MARKS', 'EPOLL', 'PROCESSES'], ...rows], [false, true, true, true, true, true], s));
  for (const x of u.users) out.push('', ...userLines(x, u, color));
  return out.join('\n') + '\n';
}
