// Severities and the thresholds shared by every "how full" judgement (doctor's checks, the
// container report). Low in the tree: probes, scans and commands may all use them. The
// configuration file can move them ([thresholds] in /etc/enospc/config.toml).
import { config } from './config.js';

export type Severity = 'critical' | 'warning' | 'info';

export const RANK: Record<Severity, number> = { critical: 2, warning: 1, info: 0 };

/** Free share to severity: critical below 3% (or nothing free), warning below 10% (by default). */
export function freeSeverity(free: number, total: number): Severity | null {
  if (total <= 0) return null;
  const t = config().thresholds;
  if (free <= 0 || free / total < t.freeCriticalPercent / 100) return 'critical';
  if (free / total < t.freeWarningPercent / 100) return 'warning';
  return null;
}

/** Use of a limited table to severity: critical at 95% or at the limit, warning from 80% (by default). */
export function useSeverity(used: number, limit: number): Severity | null {
  if (limit <= 0) return null;
  const t = config().thresholds;
  if (used >= limit || used / limit >= t.useCriticalPercent / 100) return 'critical';
  if (used / limit >= t.useWarningPercent / 100) return 'warning';
  return null;
}

/** part of whole in percent, one decimal. */
export function percent(part: number, whole: number): number {
  return whole > 0 ? Math.round((1000 * part) / whole) / 10 : 0;
}
