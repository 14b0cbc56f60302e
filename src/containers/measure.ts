// Inode and byte counts of layer directories within a time budget, most telling first: the
// top layers that have copies, one copy of each, the other copies, unreferenced layers, stray
// directories, then the rest. What the budget does not reach is estimated from a counted layer
// with the same content digest (an ID-mapped copy holds the same files as its template), and
// marked so; with no such layer it stays "not counted".
import { treeSizes } from '../scan/tree-sizes.js';
import type { WalkMount } from '../probe/mounts.js';
import type { LayerRef, LayerSize, StoreAnalysis } from './analyze.js';

export interface MeasureResult {
  counted: number;
  partial: number;
  estimated: number;
  notCounted: number;
  /** the budget ran out before every directory was walked */
  outOfTime: boolean;
}

/** `mountPoints`: the mount points the walks skip without opening them (mountPointsBelow). */
export async function measure(stores: StoreAnalysis[], deadline: number, mountPoints?: WalkMount[]): Promise<MeasureResult> {
  const todo: Array<{ path: string; size: LayerSize }> = [];
  const seen = new Set<LayerSize>(); // a layer is in several lists (a top layer is a layer too)
  const add = (path: string | null, size: LayerSize) => {
    if (path && size.how === 'not-counted' && !seen.has(size)) {
      seen.add(size);
      todo.push({ path, size });
    }
  };
  const withCopies = stores.flatMap((s) => s.images.filter((i) => i.copies.length));
  for (const i of withCopies) if (i.top) add(i.top.path, i.top.size);
  for (const i of withCopies) add(i.copies[0]!.path, i.copies[0]!.size);
  for (const i of withCopies) for (const c of i.copies.slice(1)) add(c.path, c.size);
  for (const s of stores) for (const u of s.unreferenced) add(u.path, u.size);
  for (const s of stores) for (const d of s.stray) add(d.path, d.size);
  for (const s of stores) for (const l of s.layers) add(l.path, l.size);

  const r: MeasureResult = { counted: 0, partial: 0, estimated: 0, notCounted: 0, outOfTime: false };
  const counted = await treeSizes(todo.map((q) => q.path), deadline, mountPoints);
  counted.forEach((c, i) => {
    const size = todo[i]!.size;
    if (c === null) r.outOfTime = true;
    // gone since the metadata was read, or unreadable: say so rather than guess
    else if ('error' in c) size.how = 'unreadable';
    else {
      Object.assign(size, { inodes: c.inodes, bytes: c.bytes, how: c.partial ? 'partial' : 'counted' });
      if (c.partial) r.outOfTime = true;
    }
  });
  estimate(stores);
  return tally(stores, r);
}

/** Layers not (fully) counted take the count of a fully counted layer with the same content digest. */
export function estimate(stores: StoreAnalysis[]): void {
  for (const s of stores) {
    const byDigest = new Map<string, LayerRef>();
    for (const l of s.layers) if (l.diffDigest && l.size.how === 'counted' && !byDigest.has(l.diffDigest)) byDigest.set(l.diffDigest, l);
    for (const l of s.layers) {
      if (l.size.how !== 'not-counted' && l.size.how !== 'partial') continue;
      const src = l.diffDigest ? byDigest.get(l.diffDigest) : undefined;
      if (src && (l.size.inodes ?? 0) < src.size.inodes!) Object.assign(l.size, { inodes: src.size.inodes, bytes: src.size.bytes, how: 'estimated', from: src.id });
    }
  }
}

function tally(stores: StoreAnalysis[], r: MeasureResult): MeasureResult {
  for (const s of stores) {
    for (const x of [...s.layers.map((l) => l.size), ...s.stray.map((d) => d.size)]) {
      if (x.how === 'counted') r.counted++;
      else if (x.how === 'partial') r.partial++;
      else if (x.how === 'estimated') r.estimated++;
      else if (x.how === 'not-counted') r.notCounted++;
    }
  }
  return r;
}

/** Sum of known sizes; `complete` is false when any part is a floor, an estimate or unknown. */
export function sumSizes(sizes: LayerSize[]): { inodes: number; bytes: number; complete: boolean } {
  let inodes = 0, bytes = 0, complete = true;
  for (const s of sizes) {
    inodes += s.inodes ?? 0;
    bytes += s.bytes ?? 0;
    if (s.how !== 'counted' && s.how !== 'missing') complete = false;
  }
  return { inodes, bytes, complete };
}
