// File locks held now, from /proc/locks: flock, POSIX (fcntl) and OFD locks alike.
import fs from 'node:fs';

/** "major:minor" -> locked inode numbers. */
export type LockIndex = Map<string, Set<number>>;

/**
 * Parse /proc/locks: `1: FLOCK  ADVISORY  WRITE 1234 00:2d:5678 0 EOF` (device in hex, inode in
 * decimal). Waiters (`1: -> FLOCK ...`) hold nothing and are left out.
 */
export function parseLocks(text: string): LockIndex {
  const index: LockIndex = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.includes('->')) continue;
    const m = /\s([0-9a-f]+):([0-9a-f]+):(\d+)\s/.exec(line);
    if (!m) continue;
    const key = `${parseInt(m[1]!, 16)}:${parseInt(m[2]!, 16)}`;
    let set = index.get(key);
    if (!set) index.set(key, (set = new Set()));
    set.add(Number(m[3]));
  }
  return index;
}

export function readLocks(): LockIndex {
  try {
    return parseLocks(fs.readFileSync('/proc/locks', 'utf8'));
  } catch {
    return new Map();
  }
}
