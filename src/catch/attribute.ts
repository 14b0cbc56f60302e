// Which limit a failing call hit, judged the moment it is read, by the kind of call: a call that
// creates a name needs an inode (and a directory block), one that writes needs blocks, and the
// others each have their own table. What is judged is said, with the figures it was judged on;
// a call whose limit cannot be told is "unattributed", with the call named.
import fs from 'node:fs';
import { mountOf, readMounts, PSEUDO_FSTYPES, type FsUsage, type Mount } from '../probe/mounts.js';
import type { GuardProcess } from '../probe/guard.js';
import { statfsGuarded } from '../probe/guard.js';
import { kernelTables } from '../probe/sysctl.js';
import { inotifyUsage, type InotifyUsage } from '../probe/watch-users.js';
import type { CatchCause } from './types.js';

/** A process's mount namespace ("mnt:[4026531832]"), or null when it cannot be read. */
function nsOf(pid: number | 'self'): string | null {
  try {
    return fs.readlinkSync(`/proc/${pid}/ns/mnt`);
  } catch {
    return null;
  }
}

/** How a call can fail with ENOSPC. */
type Kind = 'name' | 'data' | 'inotify.watches' | 'inotify.instances' | 'fanotify.marks' | 'epoll.watches' | 'ipc.sem' | 'ipc.shm' | 'ipc.msg' | 'mqueue.queues';

const KINDS: Record<string, Kind> = {};
for (const c of ['open', 'openat', 'openat2', 'creat', 'mkdir', 'mkdirat', 'mknod', 'mknodat', 'link', 'linkat', 'symlink', 'symlinkat', 'rename', 'renameat', 'renameat2']) KINDS[c] = 'name';
for (const c of ['write', 'pwrite64', 'writev', 'pwritev', 'pwritev2', 'fallocate', 'ftruncate', 'truncate', 'ftruncate64', 'truncate64', 'copy_file_range', 'sendfile', 'sendfile64', 'splice', 'fsync', 'fdatasync', 'msync', 'sync_file_range', 'close', 'setxattr', 'lsetxattr', 'fsetxattr']) KINDS[c] = 'data';
KINDS['inotify_add_watch'] = 'inotify.watches';
KINDS['inotify_init'] = KINDS['inotify_init1'] = 'inotify.instances';
KINDS['fanotify_mark'] = 'fanotify.marks';
KINDS['epoll_ctl'] = 'epoll.watches';
KINDS['semget'] = 'ipc.sem';
KINDS['shmget'] = 'ipc.shm';
KINDS['msgget'] = 'ipc.msg';
KINDS['mq_open'] = 'mqueue.queues';

/** Figures read for one event are reused for this long (a failing loop retries thousands of times a second). */
const FRESH_MS = 1000;
/** statfs of a process's mounts must answer within this (a hung mount is left out, and said so). */
const STATFS_MS = 1000;

interface Who { pid: number; uid: number | null; gone: boolean }

export class Attributor {
  private usage: { at: number; value: Promise<InotifyUsage> } | null = null;
  private tables: { at: number; value: ReturnType<typeof kernelTables> } | null = null;
  private readonly mounts = new Map<string, { at: number; value: Promise<Array<{ mount: Mount; usage: FsUsage | null }>> }>();
  /** where each process was at work (its cwd's and open files' mounts), by pid, read at most once a second */
  private readonly nearBy = new Map<number, { at: number; value: number[] }>();

  /** enospc's own mount namespace: a process in it is judged by enospc's own view of the mounts */
  private readonly ownNs = nsOf('self');

  constructor(private readonly guard: GuardProcess) {}

  async cause(syscall: string, who: Who): Promise<CatchCause> {
    const kind = KINDS[syscall];
    if (kind === 'name' || kind === 'data') return this.filesystem(kind, syscall, who);
    if (kind === 'inotify.watches' || kind === 'inotify.instances' || kind === 'fanotify.marks' || kind === 'epoll.watches') return this.userLimit(kind, who);
    if (kind) return this.table(kind);
    return { check: null, target: null, detail: `unattributed: ${syscall} is not a call enospc knows the limits of` };
  }

  /**
   * The mounts the process sees (its mount namespace, through /proc/PID/root), with statfs of
   * each; kept a second per namespace, so the processes of one namespace share one reading.
   */
  private seen(who: Who): Promise<Array<{ mount: Mount; usage: FsUsage | null }>> {
    const ns = who.gone ? null : nsOf(who.pid);
    const key = ns === null || ns === this.ownNs ? 'self' : ns;
    const now = Date.now();
    const hit = this.mounts.get(key);
    if (hit && now - hit.at < FRESH_MS) return hit.value;
    const value = (async () => {
      let mounts: Mount[];
      try {
        mounts = key === 'self' ? readMounts() : readMounts(who.pid);
      } catch {
        mounts = readMounts();
      }
      mounts = mounts.filter((m) => !PSEUDO_FSTYPES.has(m.fstype));
      const prefix = key === 'self' ? '' : `/proc/${who.pid}/root`;
      const usage = await statfsGuarded(mounts.map((m) => `${prefix}${m.mountPoint}`), STATFS_MS, this.guard);
      return mounts.map((mount, i) => ({ mount, usage: usage[i]!.usage }));
    })();
    this.mounts.set(key, { at: now, value });
    if (this.mounts.size > 256) this.mounts.delete(this.mounts.keys().next().value!);
    return value;
  }

  /**
   * The mounts where the process was at work, as far as /proc tells after the call: its
   * working directory's, then those of the files it has open (the call's own path is not in the
   * event). Mount IDs, nearest first.
   */
  private near(who: Who, seen: Array<{ mount: Mount }>): number[] {
    if (who.gone) return [];
    const now = Date.now();
    const hit = this.nearBy.get(who.pid);
    if (hit && now - hit.at < FRESH_MS) return hit.value;
    const value = this.readNear(who, seen);
    this.nearBy.set(who.pid, { at: now, value });
    if (this.nearBy.size > 4096) this.nearBy.delete(this.nearBy.keys().next().value!);
    return value;
  }

  private readNear(who: Who, seen: Array<{ mount: Mount }>): number[] {
    const mounts = seen.map((s) => s.mount);
    const out: number[] = [];
    const add = (link: string) => {
      let target: string;
      try {
        target = fs.readlinkSync(link);
      } catch {
        return;
      }
      if (!target.startsWith('/')) return;
      const m = mountOf(target, mounts);
      if (m && !out.includes(m.id)) out.push(m.id);
    };
    add(`/proc/${who.pid}/cwd`);
    let fds: string[] = [];
    try {
      fds = fs.readdirSync(`/proc/${who.pid}/fd`);
    } catch { /* gone */ }
    for (const fd of fds.slice(0, 1024)) add(`/proc/${who.pid}/fd/${fd}`);
    return out;
  }

  private async filesystem(kind: 'name' | 'data', syscall: string, who: Who): Promise<CatchCause> {
    // a read-only mount fails with EROFS, never ENOSPC
    const seen = (await this.seen(who)).filter((s) => !s.mount.options.split(',').includes('ro'));
    const where = who.gone ? ' (the process had exited: its mounts judged from enospc\'s own namespace)' : '';
    const near = this.near(who, seen);
    const rank = (id: number) => (near.includes(id) ? near.indexOf(id) : near.length);
    const full = (test: (u: FsUsage) => boolean) => seen.filter((s) => s.usage && test(s.usage))
      .sort((a, b) => rank(a.mount.id) - rank(b.mount.id)).map((s) => ({ at: s.mount.mountPoint, near: near.includes(s.mount.id) }));
    // no inode left (filesystems that report no inode figures aside)
    const noInodes = full((u) => u.inodes.total > 0 && u.inodes.free === 0);
    // no block left for an unprivileged writer: ext4 keeps a few clusters back, so "none" is under 1 MiB or 0.1%
    const noBlocks = full((u) => u.blocks.total > 0 && u.blocks.avail * u.blockSize < Math.max(1 << 20, u.blocks.total * u.blockSize * 0.001));
    const pick = (check: 'inodes.full' | 'blocks.full', list: Array<{ at: string; near: boolean }>, what: string): CatchCause => {
      const [first, ...rest] = list.map((x) => x.at);
      // one full mount, or the one the process was at work in: that one; else all of them, said so
      const sure = rest.length === 0 || (list[0]!.near && !list[1]!.near);
      const others = `${rest.slice(0, 4).join(', ')}${rest.length > 4 ? ', ...' : ''}`;
      const detail = sure
        ? `${what} on ${first}${rest.length ? ` (where it was at work; also full: ${others})` : ''}`
        : `${what} on one of ${list.length} full mounts: ${first}, ${others} (the call's path is not in the trace)`;
      return { check, target: first!, detail: detail + where, ...(rest.length ? { also: rest } : {}) };
    };
    if (kind === 'name' && noInodes.length) return pick('inodes.full', noInodes, `no free inode to create a name (${syscall})`);
    if (noBlocks.length) return pick('blocks.full', noBlocks, `no free block (${syscall})`);
    if (kind === 'name' && syscall.startsWith('open')) {
      // opening /dev/ptmx past kernel.pty.max fails with ENOSPC too
      const pty = this.kernelTables()['pty.count'];
      if (pty && pty.used !== null && pty.limit !== null && pty.used >= pty.limit) return { check: 'pty.count', target: 'kernel.pty.max', detail: `all ${pty.limit} pseudo-terminals are in use (kernel.pty.max)` };
    }
    const unanswered = seen.filter((s) => !s.usage).length;
    return {
      check: null, target: null,
      detail: `unattributed: no mount the process sees was out of ${kind === 'name' ? 'inodes or blocks' : 'blocks'} when looked at (freed since, a quota, or a limit inside the filesystem)${unanswered ? `; ${unanswered} mount(s) did not answer statfs` : ''}${where}`,
    };
  }

  private async userLimit(kind: 'inotify.watches' | 'inotify.instances' | 'fanotify.marks' | 'epoll.watches', who: Who): Promise<CatchCause> {
    const now = Date.now();
    if (!this.usage || now - this.usage.at >= FRESH_MS) this.usage = { at: now, value: Promise.resolve().then(() => inotifyUsage()) };
    const usage = await this.usage.value;
    const u = who.uid === null ? undefined : usage.users.find((x) => x.uid === who.uid);
    const pick = {
      'inotify.watches': { used: u?.watches, limit: usage.limits.inotifyWatches, name: 'fs.inotify.max_user_watches', what: 'inotify watches' },
      'inotify.instances': { used: u?.instances, limit: usage.limits.inotifyInstances, name: 'fs.inotify.max_user_instances', what: 'inotify instances' },
      'fanotify.marks': { used: u?.fanotifyMarks, limit: usage.limits.fanotifyMarks, name: 'fs.fanotify.max_user_marks', what: 'fanotify marks' },
      'epoll.watches': { used: u?.epollWatches, limit: usage.limits.epollWatches, name: 'fs.epoll.max_user_watches', what: 'epoll watches' },
    }[kind];
    const user = u?.user ?? (who.uid === null ? 'an unknown user' : `uid ${who.uid}`);
    const figures = pick.used === undefined ? 'its use could not be read' : `${pick.used} of ${pick.limit ?? '?'} (${pick.name})`;
    return { check: kind, target: u?.user ?? (who.uid === null ? null : String(who.uid)), detail: `${user}'s ${pick.what}: ${figures}` };
  }

  private kernelTables(): ReturnType<typeof kernelTables> {
    const now = Date.now();
    if (!this.tables || now - this.tables.at >= FRESH_MS) this.tables = { at: now, value: kernelTables() };
    return this.tables.value;
  }

  private table(kind: 'ipc.sem' | 'ipc.shm' | 'ipc.msg' | 'mqueue.queues'): CatchCause {
    const t = this.kernelTables();
    // a table is full by the count of sets or, for semaphores, of semaphores in all sets
    const keys = kind === 'ipc.sem' ? ['ipc.sem', 'ipc.sem-total'] : kind === 'ipc.shm' ? ['ipc.shm', 'ipc.shm-pages'] : [kind];
    for (const k of keys) {
      const u = t[k];
      if (u && u.used !== null && u.limit !== null && u.used >= u.limit) return { check: kind, target: u.limitName, detail: `${u.what}: ${u.used} of ${u.limit} (${u.limitName})` };
    }
    const u = t[keys[0]!]!;
    return { check: kind, target: u.limitName, detail: `${u.what}: ${u.used ?? '?'} of ${u.limit ?? '?'} (${u.limitName}) when looked at: freed since, or the call's own size was past a per-set limit` };
  }
}
