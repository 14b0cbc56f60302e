// enospc containers as a library call: find the stores (or take the one given), read their
// metadata, count their layer directories within a budget, and explain what grows. Read only.
// Nothing on a mount that does not answer is read: the mounts are statfs'd through the guard
// first (probe/mount-health.ts), stores on dead ones are not looked for, and the stores' roots are
// resolved through the guard too (a root may be a symlink onto a dead mount).
import { execFileSync } from 'node:child_process';
import { mountOf, mountPointsBelow } from '../probe/mounts.js';
import { guarded, type UsageOrError } from '../probe/guard.js';
import { checkMounts, type MountHealth } from '../probe/mount-health.js';
import { hasMountProgram, readPodmanStore } from '../probe/podman-store.js';
import { readDockerStore } from '../probe/docker-store.js';
import type { StoreError, StoreFacts } from '../probe/store.js';
import { freeSeverity } from '../shared/levels.js';
import type { Severity } from '../shared/levels.js';
import { deniedStores, findStores, type DeniedStore, type StoreRoot } from './stores.js';
import { analyze, type StoreAnalysis } from './analyze.js';
import { measure, sumSizes, type MeasureResult } from './measure.js';
import { explainCopies, explainUnreferenced, type Advice } from './explain.js';

export interface ContainersOptions {
  /** stores to look at; default: every one found on this machine */
  stores?: StoreRoot[];
  /** stores this user cannot read; default: those of this machine when `stores` is not given */
  denied?: DeniedStore[];
  /** stores to look at, resolved already (placeStores); instead of `stores` */
  placed?: PlacedStore[];
  /** the mounts' health (default: checked now, through the guard) */
  health?: MountHealth;
  /** time for counting layer directories, ms (default 30 s) */
  budgetMs?: number;
  onProgress?: (what: string) => void;
}

export interface StoreMount {
  path: string;
  fstype: string;
  inodes: { total: number; free: number; used: number } | null;
  /** how short of inodes the mount is (doctor's thresholds), null when fine or unknown */
  severity: Severity | null;
}

export interface Growth {
  copies: number;
  first: string;
  last: string;
  /** copies made per day between the first and the last */
  perDay: number;
  inodesPerDay: number;
  /** days until the mount's free inodes are gone at that rate; null when nothing is free to count */
  daysLeft: number | null;
}

export interface StoreReport {
  store: StoreRoot;
  mount: StoreMount | null;
  analysis: StoreAnalysis;
  madeWithMountProgram: boolean | null;
  counts: { layers: number; images: number; containers: number; dirs: number | null };
  totals: {
    layers: ReturnType<typeof sumSizes>;
    copies: ReturnType<typeof sumSizes> & { count: number };
    unreferenced: ReturnType<typeof sumSizes> & { count: number };
    stray: ReturnType<typeof sumSizes> & { count: number };
  };
  /** the pace of copy-making, or why it cannot be told */
  growth: Growth | { unknown: string };
  copies: Advice | null;
  unreferenced: Advice | null;
  errors: StoreError[];
}

export interface ContainersReport {
  podman: string | null;
  stores: StoreReport[];
  /** stores (or places for them) this user cannot read: nothing is known of them */
  denied: DeniedStore[];
  scan: MeasureResult & { budgetMs: number; elapsedMs: number };
}

/** podman's version from `podman --version` (which touches no store), or null. */
export function podmanVersion(): string | null {
  try {
    const out = execFileSync('podman', ['--version'], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] });
    return /(\d+\.\d+(?:\.\d+)?)/.exec(out)?.[1] ?? null;
  } catch {
    return null;
  }
}

function growthOf(a: StoreAnalysis, mount: StoreMount | null): StoreReport['growth'] {
  const copies = a.images.flatMap((i) => i.copies).filter((c) => c.created && Number.isFinite(Date.parse(c.created)));
  if (copies.length < 2) return { unknown: 'not enough data: fewer than two copies with a creation time' };
  const times = copies.map((c) => Date.parse(c.created!)).sort((x, y) => x - y);
  const days = (times.at(-1)! - times[0]!) / 86_400_000;
  if (days < 1 / 24) return { unknown: 'not enough data: every copy was made within the same hour' };
  const perDay = (copies.length - 1) / days;
  const sized = copies.filter((c) => c.size.inodes !== null);
  const each = sized.length ? sized.reduce((s, c) => s + c.size.inodes!, 0) / sized.length : 0;
  const inodesPerDay = perDay * each;
  const free = mount?.inodes?.free;
  return {
    copies: copies.length, first: new Date(times[0]!).toISOString(), last: new Date(times.at(-1)!).toISOString(),
    perDay: Math.round(perDay * 100) / 100, inodesPerDay: Math.round(inodesPerDay),
    daysLeft: free !== undefined && inodesPerDay > 0 && mount!.inodes!.total > 0 ? Math.round((free / inodesPerDay) * 10) / 10 : null,
  };
}

/** A store with its root resolved through the guard. */
export interface PlacedStore {
  store: StoreRoot;
  /** the real path of the root; null when it could not be resolved (see error) */
  real: string | null;
  /** "timeout" (the root is on a mount that does not answer) or an errno code */
  error?: string;
  /** statfs of the root */
  stat: UsageOrError;
}

/** Resolve the stores' roots (realpath and statfs) all at once in the guard's child. */
export async function placeStores(stores: StoreRoot[], health?: MountHealth): Promise<PlacedStore[]> {
  if (stores.length === 0) return [];
  const g = await guarded({ resolve: stores.map((s) => s.root) }, health?.timeoutMs || 5000);
  return stores.map((store, i): PlacedStore => {
    const r = g.resolve[i]!;
    if (r.real === null) return { store, real: null, error: r.error ?? 'error', stat: { usage: null, error: r.error ?? 'error' } };
    return { store, real: r.real, stat: r.usage ? { usage: r.usage } : { usage: null, error: r.usageError ?? 'error' } };
  });
}

function mountFacts(p: PlacedStore, health: MountHealth): StoreMount | null {
  const m = p.real === null ? undefined : mountOf(p.real, health.visible);
  if (!m) return null;
  const usage = p.stat.usage;
  const inodes = usage && usage.inodes.total > 0 ? usage.inodes : null;
  return { path: m.mountPoint, fstype: m.fstype, inodes, severity: inodes ? freeSeverity(inodes.free, inodes.total) : null };
}

/** What a store whose root did not resolve shows: nothing read, and why. */
function unread(p: PlacedStore, timeoutMs: number): StoreFacts {
  const { engine, root, driver } = p.store;
  const error = p.error === 'timeout' ? `did not answer in ${timeoutMs / 1000} s (a hung network or FUSE server?)` : p.error ?? 'error';
  return { engine, root, driver, layerDir: root, layers: [], images: [], containers: [], dirNames: null, errors: [{ file: root, error }] };
}

export async function containers(opts: ContainersOptions = {}): Promise<ContainersReport> {
  const t0 = performance.now();
  const budgetMs = opts.budgetMs ?? 30_000;
  const health = opts.health ?? (await checkMounts()).health;
  const placed = opts.placed ?? await placeStores(opts.stores ?? findStores(health), health);
  const podman = placed.some((r) => r.store.engine === 'podman') ? podmanVersion() : null;
  const read = placed.map((p) => {
    const { store } = p;
    opts.onProgress?.(`reading ${store.root}`);
    const facts = p.real === null ? unread(p, health.timeoutMs || 5000)
      : store.engine === 'docker' ? readDockerStore(store.root) : readPodmanStore(store.root, store.driver);
    return { p, store, facts, analysis: analyze(facts) };
  });
  opts.onProgress?.('counting layer directories');
  const scan = await measure(read.map((r) => r.analysis), t0 + budgetMs, mountPointsBelow('/', health.visible, health.dead));

  const stores: StoreReport[] = [];
  for (const { p, store, facts, analysis: a } of read) {
    const mount = mountFacts(p, health);
    const madeWithMountProgram = store.engine === 'podman' && p.real !== null ? hasMountProgram(store.root) : null;
    const x = { store, analysis: a, podman, madeWithMountProgram };
    const copies = a.images.flatMap((i) => i.copies);
    stores.push({
      store, mount, analysis: a, madeWithMountProgram,
      counts: { layers: facts.layers.length, images: facts.images.length, containers: facts.containers.length, dirs: facts.dirNames?.length ?? null },
      totals: {
        layers: sumSizes([...a.layers.map((l) => l.size), ...a.stray.map((d) => d.size)]),
        copies: { count: copies.length, ...sumSizes(copies.map((c) => c.size)) },
        unreferenced: { count: a.unreferenced.length, ...sumSizes(a.unreferenced.map((u) => u.size)) },
        stray: { count: a.stray.length, ...sumSizes(a.stray.map((d) => d.size)) },
      },
      growth: growthOf(a, mount),
      copies: explainCopies(x),
      unreferenced: explainUnreferenced(x),
      errors: facts.errors,
    });
  }
  const denied = opts.denied ?? (opts.stores || opts.placed ? [] : deniedStores(health));
  return { podman, stores, denied, scan: { ...scan, budgetMs, elapsedMs: Math.round(performance.now() - t0) } };
}
