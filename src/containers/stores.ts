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

/** Docker's data root from daemon.json, and userns-remap roots inside it. */
function dockerRoots(closed: (dir: string) => boolean): StoreRoot[] {
  let root = '/var/lib/docker';
  try {
    const j = JSON.parse(fs.readFileSync('/etc/docker/daemon.json', 'utf8')) as Record<string, unknown>;
    if (typeof j['data-root'] === 'string') root = j['data-root'];
  } catch {
    // no daemon.json, or one Docker itself would refuse: the default root
  }
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
