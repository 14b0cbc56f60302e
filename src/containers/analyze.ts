// What a store's metadata says about inode growth: per image its top layer and the ID-mapped
// copies of it (case 002), the containers on each; layers nothing references; directories of
// the driver that no layer names. Sizes are filled in afterwards by measure.ts.
import path from 'node:path';
import type { IdMapEntry, StoreFacts, StoreLayer } from '../probe/store.js';

export interface LayerSize {
  inodes: number | null;
  bytes: number | null;
  /** counted: walked in full; partial: the budget ran out mid-walk (a floor); estimated: taken
   *  from a counted layer with the same content digest; missing: no directory; not-counted */
  how: 'counted' | 'partial' | 'estimated' | 'missing' | 'not-counted' | 'unreadable';
  /** the layer an estimate was taken from */
  from?: string;
}

export interface ContainerRef { id: string; names: string[] }

export interface LayerRef {
  id: string;
  /** its directory, null for drivers without one per layer */
  path: string | null;
  created: string | null;
  diffDigest: string | null;
  uidmap: IdMapEntry[];
  gidmap: IdMapEntry[];
  /** containers whose read-write layer sits on this one */
  containers: ContainerRef[];
  size: LayerSize;
}

export interface CopyRef extends LayerRef {
  /** listed in the image's mapped-layers (false: found only as a sibling of the top layer) */
  listed: boolean;
}

export interface ImageCopies {
  id: string;
  names: string[];
  top: LayerRef | null;
  copies: CopyRef[];
  /** containers made from this image */
  containers: ContainerRef[];
}

export interface Unreferenced extends LayerRef {
  reason: string;
}

export interface StrayDir {
  name: string;
  path: string;
  size: LayerSize;
}

export interface StoreAnalysis {
  images: ImageCopies[];
  unreferenced: Unreferenced[];
  stray: StrayDir[];
  /** every layer of the store, for totals */
  layers: LayerRef[];
  /** layers whose directory is not there (damage `podman system check` reports) */
  missingDirs: string[];
}

const mapped = (l: StoreLayer) => l.uidmap.length > 0 || l.gidmap.length > 0;

export function analyze(f: StoreFacts): StoreAnalysis {
  const byId = new Map(f.layers.map((l) => [l.id, l]));
  const dirs = f.dirNames ? new Set(f.dirNames) : null;
  const refs = new Map<string, LayerRef>();
  const missingDirs: string[] = [];
  for (const l of f.layers) {
    const p = l.dirName ? path.join(f.layerDir, l.dirName) : null;
    const missing = p !== null && dirs !== null && !dirs.has(l.dirName!);
    if (missing) missingDirs.push(l.id);
    refs.set(l.id, {
      id: l.id, path: p, created: l.created, diffDigest: l.diffDigest, uidmap: l.uidmap, gidmap: l.gidmap, containers: [],
      size: { inodes: missing ? 0 : null, bytes: missing ? 0 : null, how: missing ? 'missing' : 'not-counted' },
    });
  }

  // a container's own layers (Docker: mount and init) sit on the first ancestor not its own
  const reachable = new Set<string>();
  const mark = (id: string | null) => {
    for (let cur = id; cur && !reachable.has(cur); cur = byId.get(cur)?.parent ?? null) reachable.add(cur);
  };
  const byImage = new Map<string, ContainerRef[]>();
  for (const c of f.containers) {
    const ref = { id: c.id, names: c.names };
    if (c.image) {
      const list = byImage.get(c.image);
      if (list) list.push(ref);
      else byImage.set(c.image, [ref]);
    }
    const own = new Set(c.layers);
    let base: string | null = null;
    for (const id of c.layers) {
      mark(id);
      for (let cur = byId.get(id)?.parent ?? null; cur; cur = byId.get(cur)?.parent ?? null) {
        if (!own.has(cur)) {
          base = cur;
          break;
        }
      }
    }
    if (base) refs.get(base)?.containers.push(ref);
  }

  const images: ImageCopies[] = [];
  const isCopy = new Set<string>();
  for (const img of f.images) {
    mark(img.topLayer);
    for (const m of img.mappedLayers) mark(m);
    const top = img.topLayer ? byId.get(img.topLayer) : undefined;
    const listed = new Set(img.mappedLayers);
    const copyIds = [...img.mappedLayers];
    if (top?.diffDigest) {
      for (const l of f.layers) {
        if (l.id !== top.id && !listed.has(l.id) && mapped(l) && l.parent === top.parent && l.diffDigest === top.diffDigest) copyIds.push(l.id);
      }
    }
    const copies: CopyRef[] = [];
    for (const id of copyIds) {
      const r = refs.get(id);
      if (!r || isCopy.has(id)) continue;
      isCopy.add(id);
      copies.push({ ...r, listed: listed.has(id) });
    }
    images.push({ id: img.id, names: img.names, top: img.topLayer ? refs.get(img.topLayer) ?? null : null, copies, containers: byImage.get(img.id) ?? [] });
  }

  const unreferenced: Unreferenced[] = [];
  for (const l of f.layers) {
    if (reachable.has(l.id) || isCopy.has(l.id)) continue;
    const reason = l.incomplete ? 'incomplete: its creation was interrupted'
      : mapped(l) ? 'an ID-mapped layer no image lists' : 'used by no image and no container';
    unreferenced.push({ ...refs.get(l.id)!, reason });
  }

  const named = new Set(f.layers.map((l) => l.dirName).filter((d): d is string => !!d));
  const stray: StrayDir[] = (f.dirNames ?? []).filter((d) => !named.has(d)).sort()
    .map((name) => ({ name, path: path.join(f.layerDir, name), size: { inodes: null, bytes: null, how: 'not-counted' } }));

  return { images, unreferenced, stray, layers: [...refs.values()], missingDirs };
}

/** A map in the `--uidmap` syntax: container:host:size,... */
export function mapText(m: IdMapEntry[]): string {
  return m.map((e) => `${e.containerId}:${e.hostId}:${e.size}`).join(',');
}
