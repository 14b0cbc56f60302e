// User and group names from /etc/passwd (no NSS: enospc must work with nothing but files).
import fs from 'node:fs';

let users: Map<number, string> | undefined;

/** uid -> name from /etc/passwd, read once (the first name of a uid wins). */
function table(): Map<number, string> {
  if (users) return users;
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
  return users;
}

/** The name of `uid`, or its number as text when /etc/passwd does not list it. */
export function userName(uid: number): string {
  return table().get(uid) ?? String(uid);
}

/** The uid of a user name or number; undefined when /etc/passwd has no such name. */
export function uidOf(user: string): number | undefined {
  if (/^\d+$/.test(user)) return Number(user);
  for (const [uid, name] of table()) if (name === user) return uid;
  return undefined;
}
