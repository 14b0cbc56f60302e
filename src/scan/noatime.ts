// Opening the walk's directories with O_NOATIME, so that reading them (getdents) leaves their
// atime alone: the age systemd-tmpfiles and `enospc clean` go by, which a dry run must not
// change before --apply looks. The kernel allows O_NOATIME to the directory's owner or to a
// caller with CAP_FOWNER over it, and refuses it with EPERM after every other check.
//
// Root gets it on the first open everywhere. A user walking a tree of other users' directories
// would pay for each one an open refused and the open again; so the owners refused are
// remembered (for this thread), and a child of a directory that was refused is opened without
// it: a guess, checked once the child's owner is known from its statx (the walker takes one
// anyway) and before it is read. A child whose owner was not refused yet gets O_NOATIME then
// by fcntl (F_SETFL), or is remembered as refused. What the kernel decides by is the owner
// (uid, gid: CAP_FOWNER in a user namespace needs both mapped) as the mount shows it (an
// idmapped mount maps it): the key is mount (or device), uid, gid.
import { EPERM, O_NOATIME, openat, setFileFlags } from '../sys/libc.js';
import { STATX_MNT_ID, statDevMajor, statDevMinor, statMask, statMntId, statUid, statGid } from '../sys/statx.js';

/** owners refused O_NOATIME, "mount/uid/gid" (this thread's) */
const refused = new Set<string>();

/** the mount ID, or without one -1 - the device */
const mountOf = (st: Buffer): number => ((statMask(st) & STATX_MNT_ID) !== 0 ? statMntId(st) : -1 - (statDevMajor(st) * 0x100000 + statDevMinor(st)));

/** Opens one directory at a time: open(), then settle() with its statx before reading it. */
export class NoatimeOpener {
  /** the last open() was made with O_NOATIME */
  private got = false;
  /** the last open() was refused O_NOATIME: its owner is remembered in settle() */
  private learn = false;
  /** the owner last found refused (most directories have their parent's owner: no string made for them) */
  private lastMnt = NaN;
  private lastUid = -1;
  private lastGid = -1;

  /**
   * openat `name` in `dirfd` with `flags`, and O_NOATIME first when `guess` (false: the
   * parent's owner was refused it: settle() tries it once the owner is known). fd or -errno.
   */
  open(dirfd: number, name: Buffer, flags: number, guess = true): number {
    this.learn = false;
    this.got = false;
    if (guess) {
      const fd = openat(dirfd, name, flags | O_NOATIME);
      if (fd !== -EPERM) {
        this.got = fd >= 0;
        return fd;
      }
      this.learn = true;
    }
    return openat(dirfd, name, flags);
  }

  /** Is `fd`, the last open() with `st` its statx, to be read with O_NOATIME (set now where it can be)? */
  settle(fd: number, st: Buffer): boolean {
    if (this.got) return true;
    const mnt = mountOf(st), uid = statUid(st), gid = statGid(st);
    if (!this.learn && mnt === this.lastMnt && uid === this.lastUid && gid === this.lastGid) return false;
    const key = `${mnt}/${uid}/${gid}`;
    if (this.learn || refused.has(key) || setFileFlags(fd, O_NOATIME) !== 0) {
      refused.add(key);
      this.lastMnt = mnt;
      this.lastUid = uid;
      this.lastGid = gid;
      return false;
    }
    return true;
  }
}
