// containers-storage.conf(5): where podman, buildah and CRI-O keep their stores, and whether
// overlay goes through a mount program (fuse-overlayfs), which never uses idmapped mounts.
import fs from 'node:fs';
import { parse } from 'smol-toml';

export interface StorageConf {
  file: string;
  driver: string | null;
  graphRoot: string | null;
  rootlessStoragePath: string | null;
  mountProgram: string | null;
  /** the file exists but could not be read or parsed */
  error?: string;
}

type Table = Record<string, unknown>;
const table = (x: unknown): Table => (x && typeof x === 'object' && !Array.isArray(x) ? (x as Table) : {});
const str = (x: unknown): string | null => (typeof x === 'string' && x !== '' ? x : null);

/** Parse storage.conf text (the [storage] table and its options). */
export function parseStorageConf(text: string, file: string): StorageConf {
  const storage = table(parse(text).storage);
  const options = table(storage.options);
  return {
    file,
    driver: str(storage.driver),
    graphRoot: str(storage.graphroot),
    rootlessStoragePath: str(storage.rootless_storage_path),
    // [storage.options.overlay] since containers/storage 1.23; [storage.options] before
    mountProgram: str(table(options.overlay).mount_program) ?? str(options.mount_program),
  };
}

const unusable = (file: string, error: string): StorageConf => ({ file, driver: null, graphRoot: null, rootlessStoragePath: null, mountProgram: null, error });

/** The first of `files` that exists, parsed; null when none does. */
export function readStorageConf(files: string[]): StorageConf | null {
  for (const file of files) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      return unusable(file, (e as Error).message);
    }
    try {
      return parseStorageConf(text, file);
    } catch (e) {
      return unusable(file, `not valid TOML: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  return null;
}

/** The system-wide configuration, as containers/storage looks for it. */
export function systemStorageConf(): StorageConf | null {
  const env = process.env.CONTAINERS_STORAGE_CONF;
  return readStorageConf([...(env ? [env] : []), '/etc/containers/storage.conf', '/usr/share/containers/storage.conf']);
}

/** `rootless_storage_path` with $HOME, $UID and $USER filled in. */
export function expandRootless(path: string, home: string, uid: number, user: string): string {
  return path.replace(/\$HOME|\$\{HOME\}/g, home).replace(/\$UID|\$\{UID\}/g, String(uid)).replace(/\$USER|\$\{USER\}/g, user);
}
