// Where the container stores of this machine are: rootful and rootless containers/storage
// graph roots (storage.conf decides, as podman would), and Docker's data root(s).
import fs from 'node:fs';
import path from 'node:path';
import { expandRootless, readStorageConf, systemStorageConf, type StorageConf } from '../probe/storage-conf.js';
import { podmanDriver } from '../probe/podman-store.js';
import { isDockerRoot } from '../probe/docker-store.js';
import { passwdEntries, userName } from '../probe/users.js';
import { mountOf, readMounts } from '../probe/mounts.js';
import { closedMountOf, type MountHealth } from '../probe/mount-health.js';

/**
 * Homes on these are not looked into: a hung server must not hang enospc (doctor included).
 * Given the mounts' health (probe/mount-health.ts), nothing on a dead mount is looked into either.
 */
const NETWORK_FS = /^(nfs4?|cifs|smb3|ceph|glusterfs|lustre|9p|afs|fuse\.(sshfs|glusterfs|ceph.*))$/;

export interface StoreRoot {
  engine: 'podman' | 'docker';
  root: string;
  /** containers/storage driver, or overlay2 for Docker */
  driver: string;
  /** who owns the store: a non-root owner means a rootless store */
  uid: number;
  user: string;
  rootless: boolean;
  /** the storage.conf that placed or configured it, null for built-in defaults */
  config: string | null;
  configError?: string;
  /** [storage.options.overlay] mount_program, e.g. /usr/bin/fuse-overlayfs */
  mountProgram: string | null;
  /** named with --root rather than found */
  given?: boolean;
  /** a Docker userns-remap root (ROOT/UID.GID): a whole second copy of every image */
  usernsRemap?: boolean;
}

function ownerOf(dir: string): number {
  try {
    return fs.statSync(dir).uid;
  } catch {
    return 0;
  }
}

function podmanRoot(root: string, conf: StorageConf | null, uid: number, rootless: boolean): StoreRoot | null {
  const driver = podmanDriver(root, conf?.driver);
  if (!driver) return null;
  return {
    engine: 'podman', root, driver, uid, user: userName(uid), rootless,
    config: conf?.file ?? null, ...(conf?.error ? { configError: conf.error } : {}),
    mountProgram: conf?.mountProgram ?? null,
  };
}

function dockerRoot(root: string, uid: number, extra: Partial<StoreRoot> = {}): StoreRoot {
  return { engine: 'docker', root, driver: 'overlay2', uid, user: userName(uid), rootless: false, config: null, mountProgram: null, ...extra };
}

/** Docker's data root: daemon.json's data-root, else /var/lib/docker. */
function dockerDataRoot(): string {
  try {
    const j = JSON.parse(fs.readFileSync('/etc/docker/daemon.json', 'utf8')) as Record<string, unknown>;
    if (typeof j['data-root'] === 'string') return j['data-root'];
  } catch {
    // no daemon.json, or one Docker itself would refuse: the default root
  }
  return '/var/lib/docker';
}

/** Docker's data root, and userns-remap roots inside it. */
function dockerRoots(closed: (dir: string) => boolean): StoreRoot[] {
  const root = dockerDataRoot();
  const out: StoreRoot[] = [];
  const add = (r: string, remap: boolean) => {
    if (isDockerRoot(r)) out.push(dockerRoot(r, 0, remap ? { usernsRemap: true } : {}));
  };
  if (closed(root)) return out;
  add(root, false);
  try {
    for (const n of fs.readdirSync(root)) if (/^\d+\.\d+$/.test(n)) add(path.join(root, n), true);
  } catch {
    // no Docker here
  }
  return out;
}

/** The store at `dir` (the --root option): containers/storage or Docker, told apart by their files. */
export function storeAt(dir: string, health?: MountHealth): StoreRoot | null {
  // a store this machine knows (a user's rootless store, say) keeps its owner's storage.conf
  let real = dir;
  try {
    real = fs.realpathSync(dir);
  } catch {
    // the caller has checked it exists; a race only loses the lookup
  }
  const known = findStores(health).find((s) => s.root === real || s.root === dir);
  if (known) return { ...known, given: true };
  const uid = ownerOf(dir);
  if (isDockerRoot(dir)) return dockerRoot(dir, uid, { given: true });
  const r = podmanRoot(dir, null, uid, uid !== 0);
  return r && { ...r, given: true };
}

/** Every store on this machine that holds metadata (none on a mount `health` knows dead). */
export function findStores(health?: MountHealth): StoreRoot[] {
  const closed = (dir: string) => health !== undefined && closedMountOf(dir, health) !== undefined;
  const out: StoreRoot[] = [];
  const seen = new Set<string>();
  const push = (r: StoreRoot | null) => {
    if (r && !seen.has(r.root)) {
      seen.add(r.root);
      out.push(r);
    }
  };
  const sys = systemStorageConf();
  const sysRoot = sys?.graphRoot ?? '/var/lib/containers/storage';
  if (!closed(sysRoot)) push(podmanRoot(sysRoot, sys, 0, false));
  const mounts = health?.visible ?? readMounts();
  for (const u of passwdEntries()) {
    if (u.uid === 0 || !u.home || u.home === '/' || u.home === '/nonexistent') continue;
    if (NETWORK_FS.test(mountOf(u.home, mounts)?.fstype ?? '') || closed(u.home)) continue;
    const own = readStorageConf([path.join(u.home, '.config/containers/storage.conf')]);
    const root = own?.graphRoot ?? (sys?.rootlessStoragePath ? expandRootless(sys.rootlessStoragePath, u.home, u.uid, u.name) : path.join(u.home, '.local/share/containers/storage'));
    // a user's own storage.conf replaces the system one entirely, mount_program included
    if (!closed(root)) push(podmanRoot(root, own ?? sys, u.uid, true));
  }
  for (const d of dockerRoots(closed)) push(d);
  return out;
}

/** A place a store is or may be that this user cannot read (not root). */
export interface DeniedStore {
  engine: 'podman' | 'docker';
  /** the store's root; null for the rootless stores of other users, counted in `what` */
  root: string | null;
  /** what is known of it, for people */
  what: string;
  error: string;
}

/** Can `root` be read: yes, it is not there, it is there but unreadable, or a parent is unreadable? */
function readable(root: string): 'yes' | 'absent' | 'denied' | 'hidden' {
  try {
    const names = fs.readdirSync(root);
    // a containers/storage root readable at the top, its layer metadata not (mode 700 inside)
    const meta = names.find((n) => n.endsWith('-layers'));
    if (meta) fs.accessSync(path.join(root, meta), fs.constants.R_OK | fs.constants.X_OK);
    return 'yes';
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EPERM') return 'absent';
    try {
      fs.statSync(root);
      return 'denied';
    } catch (e2) {
      return (e2 as NodeJS.ErrnoException).code === 'ENOENT' ? 'absent' : 'hidden';
    }
  }
}

/**
 * The stores this user cannot see (nothing as root): the rootful containers/storage root and
 * Docker's data root when they are there but unreadable, or behind a directory that is; and how
 * many other users' homes cannot be looked into for rootless stores.
 */
export function deniedStores(health?: MountHealth): DeniedStore[] {
  if (process.geteuid?.() === 0) return [];
  const closed = (dir: string) => health !== undefined && closedMountOf(dir, health) !== undefined;
  const out: DeniedStore[] = [];
  const sys = systemStorageConf();
  const candidates: Array<['podman' | 'docker', string]> = [['podman', sys?.graphRoot ?? '/var/lib/containers/storage'], ['docker', dockerDataRoot()]];
  for (const [engine, root] of candidates) {
    if (closed(root)) continue;
    const r = readable(root);
    if (r === 'denied') out.push({ engine, root, what: `the ${engine} store ${root} is there but cannot be read`, error: 'permission denied (run as root)' });
    else if (r === 'hidden') out.push({ engine, root, what: `whether a ${engine} store is at ${root} cannot be told: ${path.dirname(root)} cannot be read`, error: 'permission denied (run as root)' });
  }
  const me = process.geteuid?.();
  let homes = 0;
  for (const u of passwdEntries()) {
    if (u.uid === 0 || u.uid === me || !u.home || u.home === '/' || u.home === '/nonexistent' || closed(u.home)) continue;
    try {
      fs.accessSync(u.home, fs.constants.X_OK);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EACCES') homes++;
    }
  }
  if (homes) out.push({ engine: 'podman', root: null, what: `rootless stores of ${homes} other user${homes === 1 ? '' : 's'}: their homes cannot be read`, error: 'permission denied (run as root)' });
  return out;
}
