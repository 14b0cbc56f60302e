// Kernel tables that answer ENOSPC (or EMFILE) when full: per-user inotify, fanotify and epoll
// limits, and the system-wide SysV IPC, POSIX mqueue and pty tables. Each compares use to its
// limit: 80% warning, 95% or at the limit critical; the fix is the sysctl.d line, and the
// evidence names the processes (or users) that hold the most.
import type { Check, Fix, FindingOf } from './types.js';
import { percent, useSeverity } from '../shared/levels.js';
import { num } from '../shared/units.js';
import { shellArg } from '../shared/fix.js';
import type { UserWatchUse } from '../probe/watch-users.js';
import type { WatchLimits } from '../probe/sysctl.js';
import { userName } from '../probe/users.js';

type PerUserId = 'inotify.watches' | 'inotify.instances' | 'fanotify.marks' | 'epoll.watches';
type TableId = 'ipc.sem' | 'ipc.shm' | 'ipc.msg' | 'mqueue.queues' | 'pty.count';

export interface PerUserEvidence {
  uid: number;
  user: string;
  used: number;
  limit: number;
  percent: number;
  limitName: string;
  /** what the count is: "inotify watches", ... */
  what: string;
  /** the processes holding the most, most first */
  processes: Array<{ pid: number; comm: string; count: number }>;
  /** some processes could not be read: used is a floor */
  lowerBound: boolean;
  /** this user's processes whose fds could not be read (the first 10) */
  unreadable: number[];
  /** why they could not be read: not root (needs-root), or closed even to root (hidden); null when all were read */
  unreadableWhy: 'needs-root' | 'hidden' | null;
}

export interface TableEvidence {
  used: number;
  limit: number;
  percent: number;
  limitName: string;
  what: string;
  /** the users holding the most (SysV IPC), most first */
  holders: Array<{ uid: number; user: string; count: number }>;
}

/** Raise a sysctl: the /etc/sysctl.d file with `line` ("name = value"), then load it. */
function sysctlFix(line: string, conf: string): Fix[] {
  const [name] = line.split(' = ');
  return [
    { text: `Raise ${name} (takes effect at once, kept across reboots)`, file: `/etc/sysctl.d/${conf}`, content: line },
    { text: 'Load it now', command: `sysctl -p /etc/sysctl.d/${conf}` },
  ];
}

interface PerUser {
  id: PerUserId;
  what: string;
  limitName: string;
  limit: (l: WatchLimits) => number | null;
  used: (u: UserWatchUse) => number;
  perProcess: (p: UserWatchUse['processes'][number]) => number;
  conf: string;
  errno: string;
  /** the fix raises the limit to at least this (else to twice the limit) */
  minRaise?: number;
}

const PER_USER: PerUser[] = [
  { id: 'inotify.watches', what: 'inotify watches', limitName: 'fs.inotify.max_user_watches', limit: (l) => l.inotifyWatches, used: (u) => u.watches, perProcess: (p) => p.inotify.watches, conf: '90-inotify.conf', errno: 'inotify_add_watch fails with ENOSPC', minRaise: 524288 },
  { id: 'inotify.instances', what: 'inotify instances', limitName: 'fs.inotify.max_user_instances', limit: (l) => l.inotifyInstances, used: (u) => u.instances, perProcess: (p) => p.inotify.instances, conf: '90-inotify.conf', errno: 'inotify_init fails with EMFILE' },
  { id: 'fanotify.marks', what: 'fanotify marks', limitName: 'fs.fanotify.max_user_marks', limit: (l) => l.fanotifyMarks, used: (u) => u.fanotifyMarks, perProcess: (p) => p.fanotify.marks, conf: '90-fanotify.conf', errno: 'fanotify_mark fails with ENOSPC' },
  { id: 'epoll.watches', what: 'epoll watches', limitName: 'fs.epoll.max_user_watches', limit: (l) => l.epollWatches, used: (u) => u.epollWatches, perProcess: (p) => p.epoll.watches, conf: '90-epoll.conf', errno: 'epoll_ctl fails with ENOSPC' },
];

function perUserCheck(d: PerUser): Check<PerUserId> {
  return {
    id: d.id,
    describe: `a user's ${d.what} against ${d.limitName}: 80% warning, 95% critical`,
    run(ctx) {
      const w = ctx.watchUse;
      if (!w) return [];
      const limit = d.limit(w.limits);
      if (limit === null) return [];
      const out: Array<FindingOf<PerUserId>> = [];
      for (const u of w.users) {
        const used = d.used(u);
        const severity = useSeverity(used, limit);
        if (!severity) continue;
        const top = [...u.processes].sort((a, b) => d.perProcess(b) - d.perProcess(a)).filter((p) => d.perProcess(p) > 0).slice(0, 10);
        const lead = top[0];
        out.push({
          id: d.id,
          severity,
          target: u.user,
          title: `${u.user} holds ${u.lowerBound ? 'at least ' : ''}${num(used)} of ${num(limit)} ${d.what} (${percent(used, limit)}%): ${d.errno} for every process of ${u.user}`,
          evidence: {
            uid: u.uid, user: u.user, used, limit, percent: percent(used, limit), limitName: d.limitName, what: d.what,
            processes: top.map((p) => ({ pid: p.pid, comm: p.comm, count: d.perProcess(p) })),
            lowerBound: u.lowerBound,
            unreadable: u.unreadable.slice(0, 10),
            unreadableWhy: u.lowerBound ? (ctx.asRoot ? 'hidden' : 'needs-root') : null,
          },
          fix: [
            ...(lead ? [{ text: `Look at ${lead.comm} (pid ${lead.pid}) first: it holds ${num(d.perProcess(lead))}; restarting or reconfiguring it (exclude node_modules, build output) frees them`, command: `enospc inotify --user ${shellArg(u.user)} --paths` }] : []),
            ...sysctlFix(`${d.limitName} = ${Math.max(limit * 2, d.minRaise ?? 0)}`, d.conf),
          ],
        });
      }
      return out;
    },
  };
}

interface Table { id: TableId; key: string; conf: string; raise: (limit: number) => string }

const TABLES: Table[] = [
  { id: 'ipc.sem', key: 'ipc.sem', conf: '90-ipc.conf', raise: (l) => `kernel.sem = 32000 1024000000 500 ${l * 2}` },
  { id: 'ipc.sem', key: 'ipc.sem-total', conf: '90-ipc.conf', raise: (l) => `kernel.sem = 32000 ${l * 2} 500 32000` },
  { id: 'ipc.shm', key: 'ipc.shm', conf: '90-ipc.conf', raise: (l) => `kernel.shmmni = ${l * 2}` },
  { id: 'ipc.shm', key: 'ipc.shm-pages', conf: '90-ipc.conf', raise: (l) => `kernel.shmall = ${l * 2}` },
  { id: 'ipc.msg', key: 'ipc.msg', conf: '90-ipc.conf', raise: (l) => `kernel.msgmni = ${l * 2}` },
  { id: 'mqueue.queues', key: 'mqueue.queues', conf: '90-mqueue.conf', raise: (l) => `fs.mqueue.queues_max = ${l * 2}` },
  { id: 'pty.count', key: 'pty.count', conf: '90-pty.conf', raise: (l) => `kernel.pty.max = ${l * 2}` },
];

function tableCheck(id: TableId): Check<TableId> {
  const rows = TABLES.filter((t) => t.id === id);
  return {
    id,
    describe: `${rows.map((r) => r.key).join(', ')} against their sysctl limits: 80% warning, 95% critical`,
    run(ctx) {
      const out: Array<FindingOf<TableId>> = [];
      for (const t of rows) {
        const use = ctx.tables?.[t.key];
        if (!use || use.used === null || use.limit === null) continue;
        const severity = useSeverity(use.used, use.limit);
        if (!severity) continue;
        const holders = use.byUid ? [...use.byUid].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([uid, count]) => ({ uid, user: userName(uid), count })) : [];
        out.push({
          id,
          severity,
          target: use.limitName,
          title: `${num(use.used)} of ${num(use.limit)} ${use.what} in use (${percent(use.used, use.limit)}%)`,
          evidence: { used: use.used, limit: use.limit, percent: percent(use.used, use.limit), limitName: use.limitName, what: use.what, holders },
          fix: [
            ...(holders[0] ? [{ text: `Most belong to ${holders[0].user}: look for leftovers of crashed programs (ipcs -a lists them, ipcrm removes one)`, command: 'ipcs -a' }] : []),
            ...sysctlFix(t.raise(use.limit), t.conf),
          ],
        });
      }
      return out;
    },
  };
}

export const KERNEL_LIMIT_CHECKS: Array<Check<PerUserId> | Check<TableId>> = [
  ...PER_USER.map(perUserCheck),
  ...(['ipc.sem', 'ipc.shm', 'ipc.msg', 'mqueue.queues', 'pty.count'] as const).map(tableCheck),
];
