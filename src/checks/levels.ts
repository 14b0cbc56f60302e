// Thresholds shared by the "how full" checks.
import type { Severity } from './types.js';

/** Free share to severity: critical below 3% (or nothing free), warning below 10%. */
export function freeSeverity(free: number, total: number): Severity | null {
  if (total <= 0) return null;
  if (free <= 0 || free / total < 0.03) return 'critical';
  if (free / total < 0.1) return 'warning';
  return null;
}

export function percent(part: number, whole: number): number {
  return whole > 0 ? Math.round((1000 * part) / whole) / 10 : 0;
}

export const RANK: Record<Severity, number> = { critical: 2, warning: 1, info: 0 };
