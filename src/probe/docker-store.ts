// Docker's overlay2 metadata (layerdb, imagedb, repositories.json, containers/) read into the
// shape containers/storage gets, so one analysis finds dangling or duplicated layers in both.
// Read only, no daemon: the daemon may be stopped or wedged on the very disk that is full.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { layerDirNames, type StoreContainer, type StoreError, type StoreFacts, type StoreImage, type StoreLayer } from './store.js';
import { compareText } from '../shared/text.js';

const hex = (digest: string): string => digest.trim().replace(/^sha256:/, '');

function why(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'missing';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return err instanceof Error ? err.message : String(err);
}

/** True when ROOT has overlay2 layer metadata (Docker with the containerd image store has none). */
export function isDockerRoot(root: string): boolean {
  return fs.existsSync(path.join(root, 'image', 'overlay2', 'layerdb'));
}

export function readDockerStore(root: string): StoreFacts {
  const layerDir = path.join(root, 'overlay2');
  const meta = path.join(root, 'image', 'overlay2');
  const errors: StoreError[] = [];
  const facts: StoreFacts = {
    engine: 'docker', root, driver: 'overlay2', layerDir,
    layers: [], images: [], containers: [], dirNames: null, errors,
  };

  // A missing optional file (a base layer's `parent`) is normal: undefined, no error.
  const read = (file: string, optional = false): string | undefined => {
    try {
      return fs.readFileSync(file, 'utf8').trim();
    } catch (err) {
      if (!(optional && (err as NodeJS.ErrnoException).code === 'ENOENT')) errors.push({ file, error: why(err) });
      return undefined;
    }
  };
  const readJson = (file: string, optional = false): unknown => {
    const text = read(file, optional);
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      errors.push({ file, error: `not valid JSON (half-written?): ${(err as Error).message}` });
      return undefined;
    }
  };
  const list = (dir: string, optional = false): fs.Dirent[] => {
    try {
      return fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => compareText(a.name, b.name));
    } catch (err) {
      if (!(optional && (err as NodeJS.ErrnoException).code === 'ENOENT')) errors.push({ file: dir, error: why(err) });
      return [];
    }
  };

  if (!fs.existsSync(root)) {
    errors.push({ file: root, error: 'missing' });
    return facts;
  }

  const layer = (id: string, parent: string | null, dirName: string | null): StoreLayer => ({
    id, parent, diffDigest: null, diffSize: null, created: null, uidmap: [], gidmap: [],
    incomplete: false, volatile: false, dirName,
  });

  const chains = path.join(meta, 'layerdb', 'sha256');
  for (const e of list(chains)) {
    if (!e.isDirectory()) continue;
    const dir = path.join(chains, e.name);
    const parent = read(path.join(dir, 'parent'), true);
    const cacheId = read(path.join(dir, 'cache-id')) || null;
    const l = layer(e.name, parent ? hex(parent) : null, cacheId);
    l.diffDigest = read(path.join(dir, 'diff')) || null;
    const size = read(path.join(dir, 'size'));
    l.diffSize = size !== undefined && /^\d+$/.test(size) ? Number(size) : null;
    if (size !== undefined && l.diffSize === null) errors.push({ file: path.join(dir, 'size'), error: `not a number: ${size.slice(0, 40)}` });
    // Docker writes a layer's files in layerdb/tmp and renames the folder into place, so a missing
    // cache-id means damage: the layer cannot be tied to its directory, treat it as unfinished.
    l.incomplete = cacheId === null;
    facts.layers.push(l);
  }

  const mounts = path.join(meta, 'layerdb', 'mounts');
  for (const e of list(mounts, true)) {
    if (!e.isDirectory()) continue;
    const dir = path.join(mounts, e.name);
    const mountId = read(path.join(dir, 'mount-id'));
    const initId = read(path.join(dir, 'init-id'), true) || null;
    const chain = read(path.join(dir, 'parent'), true); // absent for a container of `FROM scratch`
    const chainId = chain ? hex(chain) : null;
    if (initId) facts.layers.push(layer(initId, chainId, initId));
    if (mountId) facts.layers.push(layer(mountId, initId ?? chainId, mountId));
    const c: StoreContainer = {
      id: e.name, names: [], image: null, layers: [mountId, initId].filter((x): x is string => !!x),
      uidmap: [], gidmap: [],
    };
    const config = readJson(path.join(root, 'containers', e.name, 'config.v2.json'), true) as
      { Name?: unknown; Image?: unknown } | undefined;
    if (config && typeof config.Name === 'string' && config.Name) c.names = [config.Name.replace(/^\//, '')];
    if (config && typeof config.Image === 'string' && config.Image) c.image = hex(config.Image);
    facts.containers.push(c);
  }

  // repositories.json maps "repo:tag" and "repo@sha256:..." to image IDs; a fresh store may lack it.
  const tags = new Map<string, string[]>();
  const digests = new Map<string, string[]>();
  const repos = readJson(path.join(meta, 'repositories.json'), true) as { Repositories?: unknown } | undefined;
  if (repos && typeof repos.Repositories === 'object' && repos.Repositories) {
    for (const refs of Object.values(repos.Repositories as Record<string, unknown>)) {
      if (!refs || typeof refs !== 'object') continue;
      for (const [ref, id] of Object.entries(refs as Record<string, unknown>)) {
        if (typeof id !== 'string') continue;
        const into = ref.includes('@') ? digests : tags;
        into.set(hex(id), [...(into.get(hex(id)) ?? []), ref]);
      }
    }
  }

  const content = path.join(meta, 'imagedb', 'content', 'sha256');
  for (const e of list(content)) {
    if (!e.isFile()) continue;
    const config = readJson(path.join(content, e.name)) as { rootfs?: { diff_ids?: unknown }; created?: unknown } | undefined;
    const diffIds = Array.isArray(config?.rootfs?.diff_ids) ? config.rootfs.diff_ids.filter((d): d is string => typeof d === 'string') : [];
    const image: StoreImage = {
      id: e.name,
      // Untagged images pulled by digest have only @digest references: better than no name.
      names: tags.get(e.name) ?? digests.get(e.name) ?? [],
      topLayer: diffIds.length ? chainId(diffIds) : null,
      mappedLayers: [],
      created: typeof config?.created === 'string' ? config.created : null,
    };
    facts.images.push(image);
  }

  try {
    facts.dirNames = layerDirNames(layerDir);
  } catch (err) {
    errors.push({ file: layerDir, error: why(err) });
  }
  return facts;
}

/** OCI ChainID of the last diff: chain(n) = sha256("sha256:<chain(n-1)> sha256:<diff(n)>"). */
function chainId(diffIds: string[]): string {
  let chain = hex(diffIds[0]!);
  for (const d of diffIds.slice(1)) {
    chain = crypto.createHash('sha256').update(`sha256:${chain} sha256:${hex(d)}`).digest('hex');
  }
  return chain;
}
