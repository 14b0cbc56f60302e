// What processes use now, for a cleaner about to remove files: every process's open fds, memory
// maps, executable, working and root directories, by (device, inode); and whether every process
// could be seen at all. One pass reads /proc once: the fds and the magic links are statted
// (statx, following the link to the file itself, AT_STATX_DONT_SYNC so that a network server is
// not asked), /proc/PID/maps gives the mapped files' inodes. This process itself is left out
// (the cleaner's own fds are the directories it walks). Threads that unshared their fd
// table or working directory (rare) are not read: only each process's main view.
import fs from 'node:fs';
import { livePids } from './procs.js';
import { EACCES, EMFILE, ENFILE, EPERM, SysError, cpath } from '../sys/libc.js';
import { STATX_SIZE, statDevMajor, statDevMinor, statInoNum, statxFollow } from '../sys/statx.js';

/** The inode number of the initial PID namespace (PROC_PID_INIT_INO). */
const PID_NS_INIT_INO = 0xeffffffc;
const MAPS_LINE = /^[0-9a-f]+-[0-9a-f]+ \S+ [0-9a-f]+ ([0-9a-f]+):([0-9a-f]+) (\d+)/gm;

export interface InUse {
  /** "major:minor" -> inodes open in a process, or its executable, working or root directory */
  byDev: Map<string, Set<number>>;
  /**
   * "major:minor" -> inodes some process maps. /proc/PID/maps gives the device of the
   * filesystem's superblock, which is what stat says except on btrfs subvolumes and overlayfs
   * (see Guard: there a mapped file is matched by its inode number alone)
   */
  mapped: Map<string, Set<number>>;
  /** processes whose fds, maps, executable or directories could not be read (EACCES) */
  unreadable: number;
  /** why some processes may not be seen, or null when every one was read */
  unseen: string | null;
}

const st = Buffer.alloc(STATX_SIZE);

function add(use: InUse): void {
  const key = `${statDevMajor(st)}:${statDevMinor(st)}`;
  let set = use.byDev.get(key);
  if (!set) use.byDev.set(key, (set = new Set()));
  set.add(statInoNum(st));
}

/** statx a /proc link into `use`: 1 done or gone, 0 not readable. Throws when out of fds (nothing may be missed silently). */
function statLink(path: string, use: InUse): number {
  const r = statxFollow(cpath(path), st);
  if (r === 0) add(use);
  return r === -EACCES || r === -EPERM ? 0 : 1;
}

function fatal(e: unknown, what: string): never | void {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EMFILE' || code === 'ENFILE') throw new SysError('open', code === 'EMFILE' ? EMFILE : ENFILE, what);
}

/** One process: false when some of it could not be read. */
function readProcess(pid: number, use: InUse): boolean {
  const base = `/proc/${pid}`;
  let readable = true;
  let fds: string[] = [];
  try {
    fds = fs.readdirSync(`${base}/fd`);
  } catch (e) {
    fatal(e, `${base}/fd`);
    if ((e as NodeJS.ErrnoException).code === 'EACCES') readable = false;
    else return true; // gone
  }
  for (const fd of fds) if (statLink(`${base}/fd/${fd}`, use) === 0) readable = false;
  for (const link of ['exe', 'cwd', 'root']) if (statLink(`${base}/${link}`, use) === 0) readable = false;
  try {
    const text = fs.readFileSync(`${base}/maps`, 'latin1');
    for (const m of text.matchAll(MAPS_LINE)) {
      if (m[3] === '0') continue;
      const key = `${parseInt(m[1]!, 16)}:${parseInt(m[2]!, 16)}`;
      let set = use.mapped.get(key);
      if (!set) use.mapped.set(key, (set = new Set()));
      set.add(Number(m[3]));
    }
  } catch (e) {
    fatal(e, `${base}/maps`);
    if ((e as NodeJS.ErrnoException).code === 'EACCES') readable = false;
  }
  return readable;
}

/** Why processes may be hidden from this one, beyond those it could not read. */
function hiddenWhy(unreadable: number): string | null {
  const why: string[] = [];
  const root = process.geteuid?.() === 0;
  if (unreadable) why.push(`${unreadable} process${unreadable === 1 ? '' : 'es'} could not be read${root ? ' (not even by root)' : ' (not root)'}`);
  if (!fs.existsSync('/proc/self')) why.push("/proc belongs to another PID namespace");
  else if (!fs.existsSync('/proc/1')) why.push("PID 1 is not visible (/proc hides other users' processes: hidepid)");
  try {
    if (fs.statSync('/proc/self/ns/pid').ino !== PID_NS_INIT_INO) why.push('this runs in a PID namespace of its own, which does not see the processes outside it');
  } catch { /* no namespaces */ }
  return why.length ? why.join('; ') : null;
}

/** Read every process but this one once. Throws SysError when out of fds. */
export function readInUse(): InUse {
  const use: InUse = { byDev: new Map(), mapped: new Map(), unreadable: 0, unseen: null };
  const self = process.pid;
  for (const pid of livePids()) if (pid !== self && !readProcess(pid, use)) use.unreadable++;
  use.unseen = hiddenWhy(use.unreadable);
  return use;
}
