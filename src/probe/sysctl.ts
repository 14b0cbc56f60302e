// Kernel limits and the use of the kernel tables that also answer ENOSPC (see the table in
// shared notes: inotify, fanotify, epoll, SysV IPC, POSIX mqueue, ptys).
import fs from 'node:fs';
import { readMounts } from './mounts.js';

/** A sysctl as numbers (`kernel.sem` has four), or null when this kernel has no such file. */
export function sysctl(name: string): number[] | null {
  try {
    return fs.readFileSync(`/proc/sys/${name.replaceAll('.', '/')}`, 'utf8').trim().split(/\s+/).map(Number);
  } catch {
    return null;
  }
}

export function sysctl1(name: string): number | null {
  return sysctl(name)?.[0] ?? null;
}

export interface WatchLimits {
  inotifyWatches: number | null;
  inotifyInstances: number | null;
  fanotifyMarks: number | null;
  fanotifyGroups: number | null;
  epollWatches: number | null;
}

/** The per-user limits of the initial user namespace (/proc/sys/user/* where fs.* lacks one). */
export function watchLimits(): WatchLimits {
  return {
    inotifyWatches: sysctl1('fs.inotify.max_user_watches') ?? sysctl1('user.max_inotify_watches'),
    inotifyInstances: sysctl1('fs.inotify.max_user_instances') ?? sysctl1('user.max_inotify_instances'),
    fanotifyMarks: sysctl1('fs.fanotify.max_user_marks') ?? sysctl1('user.max_fanotify_marks'),
    fanotifyGroups: sysctl1('fs.fanotify.max_user_groups') ?? sysctl1('user.max_fanotify_groups'),
    epollWatches: sysctl1('fs.epoll.max_user_watches'),
  };
}

export interface TableUse {
  /** sysctl that limits it */
  limitName: string;
  limit: number | null;
  used: number | null;
  /** what is counted, for people */
  what: string;
  /** who holds the most: uid -> count, when known */
  byUid?: Map<number, number>;
}

function sysvipc(kind: 'sem' | 'shm' | 'msg'): Array<Record<string, number>> | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/sysvipc/${kind}`, 'utf8');
  } catch {
    return null;
  }
  const [head, ...rows] = text.trim().split('\n');
  const cols = head!.trim().split(/\s+/);
  return rows.filter(Boolean).map((r) => {
    const v = r.trim().split(/\s+/);
    return Object.fromEntries(cols.map((c, i) => [c, Number(v[i])]));
  });
}

function byUid(rows: Array<Record<string, number>>, weight: (r: Record<string, number>) => number = () => 1): Map<number, number> {
  const m = new Map<number, number>();
  for (const r of rows) m.set(r['uid']!, (m.get(r['uid']!) ?? 0) + weight(r));
  return m;
}

/** SysV IPC, POSIX message queues and ptys against their limits. */
export function kernelTables(): Record<string, TableUse> {
  const sem = sysvipc('sem');
  const shm = sysvipc('shm');
  const msg = sysvipc('msg');
  const [, semmns, , semmni] = sysctl('kernel.sem') ?? [];
  const page = 4096;
  let mqueues: number | null = null;
  const mq = readMounts().find((m) => m.fstype === 'mqueue');
  if (mq) {
    try {
      mqueues = fs.readdirSync(mq.mountPoint).length;
    } catch {
      mqueues = null;
    }
  }
  return {
    'ipc.sem': { limitName: 'kernel.sem (SEMMNI)', limit: semmni ?? null, used: sem?.length ?? null, what: 'semaphore sets', ...(sem ? { byUid: byUid(sem) } : {}) },
    'ipc.sem-total': { limitName: 'kernel.sem (SEMMNS)', limit: semmns ?? null, used: sem ? sem.reduce((a, r) => a + (r['nsems'] ?? 0), 0) : null, what: 'semaphores in all sets', ...(sem ? { byUid: byUid(sem, (r) => r['nsems'] ?? 0) } : {}) },
    'ipc.shm': { limitName: 'kernel.shmmni', limit: sysctl1('kernel.shmmni'), used: shm?.length ?? null, what: 'shared memory segments', ...(shm ? { byUid: byUid(shm) } : {}) },
    'ipc.shm-pages': { limitName: 'kernel.shmall', limit: sysctl1('kernel.shmall'), used: shm ? shm.reduce((a, r) => a + Math.ceil((r['size'] ?? 0) / page), 0) : null, what: 'pages of shared memory' },
    'ipc.msg': { limitName: 'kernel.msgmni', limit: sysctl1('kernel.msgmni'), used: msg?.length ?? null, what: 'message queues', ...(msg ? { byUid: byUid(msg) } : {}) },
    'mqueue.queues': { limitName: 'fs.mqueue.queues_max', limit: sysctl1('fs.mqueue.queues_max'), used: mqueues, what: 'POSIX message queues (counted in the mounted mqueue filesystem)' },
    'pty.count': { limitName: 'kernel.pty.max', limit: sysctl1('kernel.pty.max'), used: sysctl1('kernel.pty.nr'), what: 'pseudo-terminals' },
  };
}
