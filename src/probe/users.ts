// User and group names from /etc/passwd (no NSS: enospc must work with nothing but files).
import fs from 'node:fs';

let users: Map<number, string> | undefined;

/** The name of `uid`, or its number as text when /etc/passwd does not list it. */
export function userName(uid: number): string {
  if (!users) {
    users = new Map();
    try {
      for (const line of fs.readFileSync('/etc/passwd', 'utf8').split('\n')) {
        const f = line.split(':');
        if (f.length >= 3 && f[0]) {
          const id = Number(f[2]);
          if (!users.has(id)) users.set(id, f[0]);
        }
      }
    } catch {
      // no passwd file: numbers only
    }
  }
  return users.get(uid) ?? String(uid);
}
