// User and group names from /etc/passwd (no NSS: enospc must work with nothing but files).
import fs from 'node:fs';

let users: Map<number, string> | undefined;

export interface PasswdEntry { name: string; uid: number; home: string }

/** Every /etc/passwd line with a name, uid and home. */
export function passwdEntries(): PasswdEntry[] {
  try {
    return fs.readFileSync('/etc/passwd', 'utf8').split('\n').map((l) => l.split(':'))
      .filter((f) => f.length >= 6 && f[0] && /^\d+$/.test(f[2]!))
      .map((f) => ({ name: f[0]!, uid: Number(f[2]), home: f[5]! }));
  } catch {
    return [];
  }
}

/** uid -> name from /etc/passwd, read once (the first name of a uid wins). */
function table(): Map<number, string> {
  if (users) return users;
  users = new Map();
  // no passwd file: numbers only
  for (const e of passwdEntries()) if (!users.has(e.uid)) users.set(e.uid, e.name);
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

let groups: Map<number, string> | undefined;

/** gid -> name from /etc/group, read once (the first name of a gid wins). */
function groupTable(): Map<number, string> {
  if (groups) return groups;
  groups = new Map();
  try {
    for (const f of fs.readFileSync('/etc/group', 'utf8').split('\n').map((l) => l.split(':'))) {
      if (f.length >= 3 && f[0] && /^\d+$/.test(f[2]!) && !groups.has(Number(f[2]))) groups.set(Number(f[2]), f[0]);
    }
  } catch { /* no group file: numbers only */ }
  return groups;
}

/** The name of group `gid`, or its number as text when /etc/group does not list it. */
export function groupName(gid: number): string {
  return groupTable().get(gid) ?? String(gid);
}

/** The gid of a group name or number; undefined when /etc/group has no such name. */
export function gidOf(group: string): number | undefined {
  if (/^\d+$/.test(group)) return Number(group);
  for (const [gid, name] of groupTable()) if (name === group) return gid;
  return undefined;
}
