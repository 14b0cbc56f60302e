// What a finding says about the census behind its culprits: how much of the mount it saw.
import type { MountFacts } from './types.js';

export interface ScanEvidence {
  root: string;
  entries: number;
  /** the time budget cut the scan short: culprit counts are a floor */
  partial: boolean;
  elapsedMs: number;
  /** inodes in use on the mount (statfs), to compare entries with; null when unknown */
  mountInodesUsed: number | null;
}

export function scanOf(m: MountFacts): ScanEvidence | null {
  const c = m.census;
  if (!c) return null;
  return {
    root: c.root, entries: c.totals.entries, partial: c.partial, elapsedMs: c.elapsedMs,
    mountInodesUsed: m.usage && m.usage.inodes.total > 0 ? m.usage.inodes.used : null,
  };
}
