// Unix sockets that something listens on or is connected through: the paths in /proc/net/unix
// (as systemd-tmpfiles reads them, to never remove a live socket), as inode numbers on one device.
import fs from 'node:fs';
import { splitDev } from './procs.js';

/** Inode numbers of the live unix sockets on device "major:minor" (paths of this mount namespace). */
export function liveSockets(dev: string): Set<number> {
  const out = new Set<number>();
  let text: string;
  try {
    text = fs.readFileSync('/proc/net/unix', 'latin1');
  } catch {
    return out;
  }
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) {
    // Num RefCount Protocol Flags Type St Inode Path: the path is the 8th field, when there is one
    const f = lines[i]!.trim().split(/\s+/);
    const p = f.slice(7).join(' ');
    if (!p.startsWith('/')) continue;
    try {
      const st = fs.lstatSync(Buffer.from(p, 'latin1'));
      const [major, minor] = splitDev(st.dev);
      if (`${major}:${minor}` === dev && st.isSocket()) out.add(st.ino);
    } catch { /* gone */ }
  }
  return out;
}
