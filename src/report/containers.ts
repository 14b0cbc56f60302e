// `enospc containers`: the JSON document and the human report.
import type { ContainersReport, Growth, StoreMount, StoreReport } from '../containers/run.js';
import type { DeniedStore } from '../containers/stores.js';
import type { ContainerRef, LayerRef, LayerSize } from '../containers/analyze.js';
import type { StoreError } from '../probe/store.js';
import { mapText } from '../containers/analyze.js';
import type { Advice } from '../containers/explain.js';
import { fixLines } from './doctor.js';
import { bytes, count, elapsed, num, pct, style, headedTable, type Style } from './format.js';

export const CONTAINERS_SCHEMA = 1;

/** How far to trust a layer directory's inodes and bytes. */
export interface LayerSizeJson {
  /** null when not counted or unreadable */
  inodes: number | null;
  /** allocated bytes; null when not counted or unreadable */
  bytes: number | null;
  /**
   * counted: walked in full (hard links once); partial: the budget ran out mid-walk (a floor);
   * estimated: taken from the fully counted layer estimatedFrom with the same diffDigest;
   * not-counted and unreadable: inodes and bytes are null; missing: no directory (0)
   */
  count: LayerSize['how'];
  /** with count "estimated": the layer the figures were taken from */
  estimatedFrom?: string;
}

/** A layer and its directory, with the size of the directory. */
export interface LayerJson extends Omit<LayerRef, 'size'>, LayerSizeJson {}

/** An ID-mapped copy of an image's top layer. */
export interface CopyJson extends LayerJson {
  /** listed in the image's mapped-layers (false: found as a sibling with the same parent and content digest) */
  listed: boolean;
}

/** A layer no image or container reaches. */
export interface UnreferencedJson extends LayerJson {
  /** "used by no image and no container", "incomplete: its creation was interrupted", "an ID-mapped layer no image lists" */
  reason: string;
}

/** A directory in the driver's layer directory that no layer names. */
export interface StrayDirJson extends LayerSizeJson {
  name: string;
  path: string;
}

/** Inodes and allocated bytes of a set of layer directories. */
export interface SumJson {
  inodes: number;
  bytes: number;
  /** false when any part is a floor, an estimate or unknown */
  complete: boolean;
}

/** A set of layer directories: how many, and their size. */
export interface CountedSumJson extends SumJson { count: number }

/** One container store (containers/storage or Docker). */
export interface StoreJson {
  /** podman: containers/storage (podman, buildah, CRI-O); docker: a Docker data root */
  engine: 'podman' | 'docker';
  root: string;
  /** the storage driver; Docker: overlay2 */
  driver: string;
  owner: { uid: number; user: string };
  rootless: boolean;
  /** the storage.conf that applies; null: built-in defaults */
  config: string | null;
  /** only when that file could not be read */
  configError?: string;
  /** storage.conf mount_program (fuse-overlayfs) */
  mountProgram: string | null;
  /** overlay/.has-mount-program; null when absent */
  madeWithMountProgram: boolean | null;
  /** a Docker userns-remap root (ROOT/UID.GID) */
  usernsRemap: boolean;
  /** the mount holding the store; null when unknown */
  mount: StoreMount | null;
  /** dirs: directories in the driver's layer directory (null when it could not be read) */
  counts: { layers: number; images: number; containers: number; dirs: number | null };
  totals: {
    /** every layer directory, stray ones included */
    layers: SumJson;
    copies: CountedSumJson;
    unreferenced: CountedSumJson;
    stray: CountedSumJson;
  };
  images: Array<{
    id: string;
    names: string[];
    /** null when the image names none */
    topLayer: LayerJson | null;
    copies: CopyJson[];
    /** containers made from the image */
    containers: ContainerRef[];
  }>;
  unreferenced: UnreferencedJson[];
  /** directories in the driver's layer directory that no layer names */
  strayDirs: StrayDirJson[];
  /** layer IDs whose directory is not there */
  missingDirs: string[];
  /** the pace of copy-making (daysLeft: the mount's free inodes at that pace), or why it cannot be told */
  growth: Growth | { unknown: string };
  advice: {
    /** null: no copies */
    copies: Advice | null;
    /** null: nothing unreferenced */
    unreferenced: Advice | null;
  };
  /** metadata files that could not be read or made no sense */
  errors: StoreError[];
}

/** `enospc containers --json` (docs/json.md; schemas/containers.schema.json). */
export interface ContainersJson {
  schema: typeof CONTAINERS_SCHEMA;
  /** `podman --version`; null when podman is not installed (or no podman store) */
  podman: string | null;
  /** the counting of layer directories */
  scan: {
    budgetMs: number;
    elapsedMs: number;
    counted: number;
    partial: number;
    estimated: number;
    notCounted: number;
    /** true: the budget ran out before every directory was counted */
    outOfTime: boolean;
  };
  stores: StoreJson[];
  /** stores (or places for one) this user cannot read, without root: nothing is known of them */
  denied: DeniedStore[];
}

function sizeJson(s: LayerSize): LayerSizeJson {
  return { inodes: s.inodes, bytes: s.bytes, count: s.how, ...(s.from ? { estimatedFrom: s.from } : {}) };
}

function layerJson(l: LayerRef): LayerJson {
  return { id: l.id, path: l.path, created: l.created, diffDigest: l.diffDigest, uidmap: l.uidmap, gidmap: l.gidmap, ...sizeJson(l.size), containers: l.containers };
}

function storeJson(r: StoreReport): StoreJson {
  const s = r.store, a = r.analysis;
  return {
    engine: s.engine, root: s.root, driver: s.driver, owner: { uid: s.uid, user: s.user }, rootless: s.rootless,
    config: s.config, ...(s.configError ? { configError: s.configError } : {}),
    mountProgram: s.mountProgram, madeWithMountProgram: r.madeWithMountProgram, usernsRemap: s.usernsRemap ?? false,
    mount: r.mount,
    counts: r.counts,
    totals: r.totals,
    images: a.images.map((i) => ({
      id: i.id, names: i.names, topLayer: i.top ? layerJson(i.top) : null,
      copies: i.copies.map((c) => ({ ...layerJson(c), listed: c.listed })), containers: i.containers,
    })),
    unreferenced: a.unreferenced.map((u) => ({ ...layerJson(u), reason: u.reason })),
    strayDirs: a.stray.map((d) => ({ name: d.name, path: d.path, ...sizeJson(d.size) })),
    missingDirs: a.missingDirs,
    growth: r.growth,
    advice: { copies: r.copies, unreferenced: r.unreferenced },
    errors: r.errors,
  };
}

export function containersJson(r: ContainersReport): ContainersJson {
  return { schema: CONTAINERS_SCHEMA, podman: r.podman, scan: r.scan, stores: r.stores.map(storeJson), denied: r.denied };
}

/** "1,234" for a full count, "≥1,234" for a floor, "~1,234" for an estimate, "?" for unknown. */
function inodesText(s: LayerSize): string {
  if (s.inodes === null) return s.how === 'unreadable' ? 'unreadable' : '?';
  return (s.how === 'partial' ? '≥' : s.how === 'estimated' ? '~' : '') + num(s.inodes);
}

function sumText(t: { inodes: number; bytes: number; complete: boolean }): string {
  return `${t.complete ? '' : '≥'}${num(t.inodes)} inodes, ${t.complete ? '' : '≥'}${bytes(t.bytes)}`;
}

const short = (id: string) => id.slice(0, 12);
const when = (iso: string | null) => (iso ? iso.replace('T', ' ').slice(0, 16) : '-');

function adviceLines(a: Advice): string[] {
  return [...a.why.map((w) => `  why: ${w}`), ...a.fixes.flatMap(fixLines)];
}

function storeHuman(r: StoreReport, s: Style, limit: number, podman: string | null): string[] {
  const st = r.store, a = r.analysis, t = r.totals;
  const who = st.rootless ? `rootless, ${st.user}` : `owner ${st.user}`;
  const ver = st.engine === 'podman' ? `; podman ${podman ?? 'not installed'}` : '';
  const out = [s.bold(`${st.engine} store ${st.root} (${st.driver}, ${who}${st.mountProgram ? `, mount_program ${st.mountProgram}` : ''}${st.usernsRemap ? ', userns-remap root' : ''}${ver})`)];
  if (st.config) out.push(s.dim(`  configured by ${st.config}${st.configError ? ` (unreadable: ${st.configError})` : ''}`));
  const m = r.mount;
  if (m?.inodes) {
    const line = `  on ${m.path} (${m.fstype}): inodes ${pct(m.inodes.used, m.inodes.total)} used, ${num(m.inodes.free)} free`;
    out.push(m.severity === 'critical' ? s.red(line) : m.severity === 'warning' ? s.yellow(line) : line);
  } else if (m) out.push(`  on ${m.path} (${m.fstype}): inode use unknown (the filesystem reports no inode limit)`);
  out.push(`  ${count(r.counts.layers, 'layer')}, ${count(r.counts.images, 'image')}, ${count(r.counts.containers, 'container')}; layer directories: ${sumText(t.layers)}`);
  for (const e of r.errors) out.push(s.yellow(`  cannot read ${e.file}: ${e.error}`));

  const withCopies = a.images.filter((i) => i.copies.length).sort((x, y) => y.copies.length - x.copies.length);
  out.push('', t.copies.count
    ? s.bold(`  ID-mapped copies: ${num(t.copies.count)} of ${count(withCopies.length, 'image')}, ${sumText(t.copies)}`)
    : `  ID-mapped copies: none`);
  for (const i of withCopies.slice(0, limit)) {
    const users = i.copies.reduce((n, c) => n + c.containers.length, 0);
    out.push(`  ${i.names[0] ?? short(i.id)}: top layer ${i.top ? `${short(i.top.id)} ${inodesText(i.top.size)} inodes` : 'unknown'}, ${count(i.copies.length, 'copy', 'copies')}, ${count(users, 'container')} on them`);
    const rows = [['    COPY', 'CREATED', 'INODES', 'BYTES', 'CONTAINERS', 'UIDMAP']];
    for (const c of i.copies.slice(0, limit)) {
      rows.push([`    ${short(c.id)}${c.listed ? '' : '*'}`, when(c.created), inodesText(c.size), c.size.bytes === null ? '?' : bytes(c.size.bytes),
        c.containers.length ? c.containers.map((x) => x.names[0] ?? short(x.id)).join(',') : '-', mapText(c.uidmap) || '-']);
    }
    out.push(...headedTable(rows, [false, false, true, true, false, false], s));
    if (i.copies.length > limit) out.push(s.dim(`    ... ${i.copies.length - limit} more (-n to show more, --json for all)`));
    if (i.copies.some((c) => !c.listed)) out.push(s.dim('    * not in the image\'s mapped-layers: same parent and content digest, with a mapping'));
  }
  if ('unknown' in r.growth) {
    if (t.copies.count) out.push(s.dim(`  pace: ${r.growth.unknown}`));
  } else {
    const g = r.growth;
    out.push(`  pace: ${count(g.copies, 'copy', 'copies')} from ${when(g.first)} to ${when(g.last)}: ${g.perDay} a day, ${num(g.inodesPerDay)} inodes a day` +
      (g.daysLeft !== null ? `; at that pace the free inodes of ${m?.path} last ${g.daysLeft} days` : ''));
  }
  if (r.copies) out.push(...adviceLines(r.copies));

  out.push('', a.unreferenced.length ? s.bold(`  Unreferenced layers: ${num(t.unreferenced.count)}, ${sumText(t.unreferenced)}`) : '  Unreferenced layers: none');
  for (const u of a.unreferenced.slice(0, limit)) out.push(`    ${short(u.id)}  ${inodesText(u.size)} inodes  ${u.reason}`);
  const where = st.engine === 'docker' ? 'overlay2/ named by no layer or container' : `${st.driver}/ not in layers.json`;
  out.push(a.stray.length ? s.bold(`  Directories in ${where}: ${num(t.stray.count)}, ${sumText(t.stray)}`) : `  Directories in ${where}: none`);
  for (const d of a.stray.slice(0, limit)) out.push(`    ${d.path}  ${inodesText(d.size)} inodes`);
  if (a.missingDirs.length) out.push(s.yellow(`  ${count(a.missingDirs.length, 'layer has', 'layers have')} no directory (damage; podman system check reports it): ${a.missingDirs.slice(0, 3).map(short).join(', ')}`));
  if (r.unreferenced) out.push(...adviceLines(r.unreferenced));
  return out;
}

export function containersHuman(r: ContainersReport, color: boolean, limit: number): string {
  const s = style(color);
  const denied = r.denied.map((d) => s.yellow(`not seen without root: ${d.what}: ${d.error}`));
  if (!r.stores.length) {
    const none = r.denied.some((d) => d.root) ? 'no container store could be read' : 'no container store found';
    return [`${none} (looked for containers/storage in /var/lib/containers/storage, storage.conf and every user\'s ~/.local/share/containers/storage, and Docker in /var/lib/docker)`, ...denied].join('\n') + '\n';
  }
  const out: string[] = [...denied, ...(denied.length ? [''] : [])];
  for (const st of r.stores) out.push(...storeHuman(st, s, limit, r.podman), '');
  const sc = r.scan;
  out.push(s.dim(`counted ${count(sc.counted, 'layer directory', 'layer directories')} in ${elapsed(sc.elapsedMs)}` +
    (sc.outOfTime ? `; the ${sc.budgetMs / 1000} s budget ran out: ${num(sc.partial)} partly counted (≥), ${num(sc.estimated)} estimated from a copy with the same content (~), ${num(sc.notCounted)} not counted (?); --budget for more` : '')));
  return out.join('\n') + '\n';
}
