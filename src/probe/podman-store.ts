// containers/storage metadata (podman, buildah, CRI-O): DRIVER-layers/layers.json (and
// volatile-layers.json), DRIVER-images/images.json, DRIVER-containers/containers.json.
// Read without taking the store's locks: a file caught mid-write is read again once, and if it
// still makes no sense the analysis is told which file, never a crash.
import fs from 'node:fs';
import path from 'node:path';
import { layerDirNames, type IdMapEntry, type StoreContainer, type StoreError, type StoreFacts, type StoreImage, type StoreLayer } from './store.js';

/** Where each driver keeps one directory per layer, under the graph root. */
const LAYER_DIRS: Record<string, string> = { overlay: 'overlay', vfs: 'vfs/dir', btrfs: 'btrfs/subvolumes', aufs: 'aufs/diff' };

/** The driver whose metadata is in `root` (the one named first when several are), or null. */
export function podmanDriver(root: string, preferred?: string | null): string | null {
  const has = (d: string) => fs.existsSync(path.join(root, `${d}-layers`, 'layers.json'));
  if (preferred && has(preferred)) return preferred;
  let names: string[];
  try {
    names = fs.readdirSync(root);
  } catch {
    return null;
  }
  const found = names.filter((n) => n.endsWith('-layers')).map((n) => n.slice(0, -'-layers'.length)).filter(has).sort();
  return found.includes('overlay') ? 'overlay' : found[0] ?? null;
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** A JSON array from `file`; [] when it does not exist (and `optional`), null with an error recorded. */
export function readJsonArray(file: string, errors: StoreError[], optional = false): Record<string, unknown>[] | null {
  for (let attempt = 0; ; attempt++) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && optional) return [];
      errors.push({ file, error: code === 'ENOENT' ? 'missing' : (e as Error).message });
      return null;
    }
    try {
      const v: unknown = text.trim() === '' ? [] : JSON.parse(text);
      if (!Array.isArray(v)) throw new Error('not a JSON array');
      return v.filter((x): x is Record<string, unknown> => !!x && typeof x === 'object');
    } catch (e) {
      // containers/storage replaces these files by rename, so a torn read is rare; give a
      // writer one more moment before calling the file corrupt
      if (attempt === 0) {
        sleep(100);
        continue;
      }
      errors.push({ file, error: `not valid JSON (half-written or corrupt): ${(e as Error).message}` });
      return null;
    }
  }
}

const str = (x: unknown): string | null => (typeof x === 'string' && x !== '' ? x : null);
const strs = (x: unknown): string[] => (Array.isArray(x) ? x.filter((s): s is string => typeof s === 'string') : []);
const numOr = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);

export function idMap(x: unknown): IdMapEntry[] {
  if (!Array.isArray(x)) return [];
  return x.flatMap((e: Record<string, unknown>) => {
    const c = numOr(e?.container_id), h = numOr(e?.host_id), s = numOr(e?.size);
    return c !== null && h !== null && s !== null ? [{ containerId: c, hostId: h, size: s }] : [];
  });
}

function layerOf(x: Record<string, unknown>, dirs: boolean, volatile: boolean): StoreLayer | null {
  const id = str(x.id);
  if (!id) return null;
  const flags = (x.flags && typeof x.flags === 'object' ? x.flags : {}) as Record<string, unknown>;
  return {
    id,
    parent: str(x.parent),
    diffDigest: str(x['diff-digest']),
    diffSize: numOr(x['diff-size']),
    created: str(x.created),
    uidmap: idMap(x.uidmap),
    gidmap: idMap(x.gidmap),
    incomplete: flags.incomplete === true,
    volatile,
    dirName: dirs ? id : null,
  };
}

function dirNamesOr(dir: string, errors: StoreError[]): string[] | null {
  try {
    return layerDirNames(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') errors.push({ file: dir, error: (e as Error).message });
    return null;
  }
}

/** Everything a containers/storage graph root says about its layers, images and containers. */
export function readPodmanStore(root: string, driver: string): StoreFacts {
  const errors: StoreError[] = [];
  const meta = (kind: string, file: string) => path.join(root, `${driver}-${kind}`, file);
  const hasDirs = driver in LAYER_DIRS;
  const layers: StoreLayer[] = [];
  for (const [file, volatile] of [['layers.json', false], ['volatile-layers.json', true]] as const) {
    for (const x of readJsonArray(meta('layers', file), errors, volatile) ?? []) {
      const l = layerOf(x, hasDirs, volatile);
      if (l) layers.push(l);
    }
  }
  const images: StoreImage[] = (readJsonArray(meta('images', 'images.json'), errors, true) ?? []).flatMap((x) => {
    const id = str(x.id);
    return id ? [{ id, names: strs(x.names), topLayer: str(x.layer), mappedLayers: strs(x['mapped-layers']), created: str(x.created) }] : [];
  });
  const containers: StoreContainer[] = (readJsonArray(meta('containers', 'containers.json'), errors, true) ?? []).flatMap((x) => {
    const id = str(x.id);
    const layer = str(x.layer);
    return id ? [{ id, names: strs(x.names), image: str(x.image), layers: layer ? [layer] : [], uidmap: idMap(x.uidmap), gidmap: idMap(x.gidmap) }] : [];
  });
  const layerDir = path.join(root, LAYER_DIRS[driver] ?? driver);
  return {
    engine: 'podman', root, driver, layerDir, layers, images, containers,
    dirNames: hasDirs ? dirNamesOr(layerDir, errors) : null,
    errors,
  };
}

/** overlay's record of whether the store was made with a mount program ("true"/"false"). */
export function hasMountProgram(root: string): boolean | null {
  try {
    return fs.readFileSync(path.join(root, 'overlay', '.has-mount-program'), 'utf8').trim() === 'true';
  } catch {
    return null;
  }
}
