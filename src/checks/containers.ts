// containers.idmapped-copies and containers.unreferenced-layers: inodes a container store holds
// that nothing frees by itself (case 002). A warning when the mount holding the store is short
// of inodes (doctor's thresholds), information otherwise: the copies are harmless until then.
import type { Check, FindingOf } from './types.js';
import type { Growth, StoreReport } from '../containers/run.js';
import { percent } from '../shared/levels.js';
import { num } from '../shared/units.js';

/** Where a store is and how short of inodes its mount is. */
export interface StoreEvidence {
  store: string;
  engine: 'podman' | 'docker';
  owner: string;
  rootless: boolean;
  mount: string | null;
  mountInodesUsedPercent: number | null;
  mountInodesFree: number | null;
}

export interface CopiesEvidence extends StoreEvidence {
  podman: string | null;
  copies: number;
  inodes: number;
  bytes: number;
  /** every copy was counted (else inodes and bytes are a floor) */
  complete: boolean;
  images: Array<{ image: string; copies: number; inodes: number }>;
  growth: Growth | { unknown: string };
  why: string[];
}

export interface UnreferencedEvidence extends StoreEvidence {
  unreferenced: number;
  unreferencedInodes: number;
  strayDirs: number;
  strayInodes: number;
  bytes: number;
  complete: boolean;
  layers: Array<{ id: string; reason: string; inodes: number | null }>;
  dirs: Array<{ path: string; inodes: number | null }>;
  why: string[];
}

function mountEvidence(r: StoreReport): StoreEvidence {
  const i = r.mount?.inodes;
  return {
    store: r.store.root, engine: r.store.engine, owner: r.store.user, rootless: r.store.rootless,
    mount: r.mount?.path ?? null,
    mountInodesUsedPercent: i ? percent(i.used, i.total) : null,
    mountInodesFree: i?.free ?? null,
  };
}

const severity = (r: StoreReport) => (r.mount?.severity ? 'warning' as const : 'info' as const);
const floor = (complete: boolean) => (complete ? '' : 'at least ');

export const containersIdmappedCopies: Check<'containers.idmapped-copies'> = {
  id: 'containers.idmapped-copies',
  describe: 'ID-mapped copies of image layers in container storage (one per --uidmap/--gidmap set, freed only with the image)',
  run(ctx) {
    const out: Array<FindingOf<'containers.idmapped-copies'>> = [];
    for (const r of ctx.containers?.stores ?? []) {
      const t = r.totals.copies;
      if (!t.count || !r.copies) continue;
      const imgs = r.analysis.images.filter((i) => i.copies.length).sort((a, b) => b.copies.length - a.copies.length);
      out.push({
        id: 'containers.idmapped-copies',
        severity: severity(r),
        target: r.store.root,
        title: `${t.count} ID-mapped ${t.count === 1 ? 'copy' : 'copies'} of ${imgs.length} image${imgs.length === 1 ? '' : 's'} hold ${floor(t.complete)}${num(t.inodes)} inodes; removing containers never frees them`,
        evidence: {
          ...mountEvidence(r),
          podman: ctx.containers?.podman ?? null,
          copies: t.count, inodes: t.inodes, bytes: t.bytes, complete: t.complete,
          images: imgs.slice(0, 10).map((i) => ({ image: i.names[0] ?? i.id, copies: i.copies.length, inodes: i.copies.reduce((n, c) => n + (c.size.inodes ?? 0), 0) })),
          growth: r.growth,
          why: r.copies.why,
        },
        fix: r.copies.fixes,
      });
    }
    return out;
  },
};

export const containersUnreferencedLayers: Check<'containers.unreferenced-layers'> = {
  id: 'containers.unreferenced-layers',
  describe: 'layers no image or container uses, and layer directories the store has no record of',
  run(ctx) {
    const out: Array<FindingOf<'containers.unreferenced-layers'>> = [];
    for (const r of ctx.containers?.stores ?? []) {
      const u = r.totals.unreferenced, d = r.totals.stray;
      if (!r.unreferenced) continue;
      const parts = [
        ...(u.count ? [`${u.count} unreferenced layer${u.count === 1 ? '' : 's'}`] : []),
        ...(d.count ? [`${d.count} director${d.count === 1 ? 'y' : 'ies'} no layer names`] : []),
      ];
      out.push({
        id: 'containers.unreferenced-layers',
        severity: severity(r),
        target: r.store.root,
        title: `${parts.join(' and ')} hold ${floor(u.complete && d.complete)}${num(u.inodes + d.inodes)} inodes`,
        evidence: {
          ...mountEvidence(r),
          unreferenced: u.count, unreferencedInodes: u.inodes,
          strayDirs: d.count, strayInodes: d.inodes,
          bytes: u.bytes + d.bytes, complete: u.complete && d.complete,
          layers: r.analysis.unreferenced.slice(0, 10).map((l) => ({ id: l.id, reason: l.reason, inodes: l.size.inodes })),
          dirs: r.analysis.stray.slice(0, 10).map((x) => ({ path: x.path, inodes: x.size.inodes })),
          why: r.unreferenced.why,
        },
        fix: r.unreferenced.fixes,
      });
    }
    return out;
  },
};
