// How many more file descriptors this process may open. Node raises the soft RLIMIT_NOFILE to
// the hard limit itself before any JavaScript runs (PlatformInit), so what is left to do is to
// size the work to the limit: the walkers' fd windows, the number of threads, the way modules
// load (see src/cli/load.ts).
import fs from 'node:fs';

/** The soft limit on open files (RLIMIT_NOFILE), or Infinity when /proc does not say. */
export function fdLimit(): number {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(fs.readFileSync('/proc/self/limits', 'latin1'));
    return m && m[1] !== 'unlimited' ? Number(m[1]) : Infinity;
  } catch {
    return Infinity;
  }
}

/**
 * The fds open now that count against `limit`: the kernel hands out the lowest free number, so
 * one inherited above the limit takes nothing from it. Not counting the one this reads with.
 */
export function fdsOpen(limit = fdLimit()): number {
  let n = 0;
  for (const name of fs.readdirSync('/proc/self/fd')) if (Number(name) < limit) n++;
  return Math.max(0, n - 1);
}

/** How many more fds may be opened now; 0 when not even /proc/self/fd can be read. */
export function fdHeadroom(): number {
  const limit = fdLimit();
  if (limit === Infinity) return Infinity;
  try {
    return Math.max(0, limit - fdsOpen(limit));
  } catch {
    return 0;
  }
}

/** Is this a "too many open files" error (Node's `code`, SysError's, a thread's that could not start)? Which one. */
export function fdExhausted(e: unknown): 'EMFILE' | 'ENFILE' | null {
  const { code, message } = (e ?? {}) as { code?: unknown; message?: unknown };
  if (code === 'EMFILE' || code === 'ENFILE') return code;
  if (code === 'ERR_WORKER_INIT_FAILED' && typeof message === 'string') return /\bENFILE\b/.test(message) ? 'ENFILE' : /\bEMFILE\b/.test(message) ? 'EMFILE' : null;
  return null;
}
