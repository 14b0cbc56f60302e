// The mount points below a walk's root, looked up by path: the walker skips those it does not
// enter by name, before opening or statting them (either could hang on a dead mount). Only the
// directories on the way to a mount point have a path to look up; every other directory costs
// the walker one null test.
import type { WalkMount } from '../probe/mounts.js';

export class MountPoints {
  private readonly points = new Map<string, WalkMount>();
  private readonly onTheWay = new Set<string>();

  /** `rootPath`: the walk's root as a latin1 string of its bytes, '' for '/'. */
  constructor(list: readonly WalkMount[] | undefined, private readonly rootPath: string) {
    for (const m of list ?? []) {
      if (m.path.length <= rootPath.length + 1 || !m.path.startsWith(rootPath + '/')) continue;
      this.points.set(m.path, m);
      for (let i = m.path.lastIndexOf('/'); i >= rootPath.length; i = m.path.lastIndexOf('/', i - 1)) {
        const dir = m.path.slice(0, i);
        if (this.onTheWay.has(dir)) break; // and everything above it
        this.onTheWay.add(dir);
        if (i === 0) break;
      }
    }
  }

  /** The root's path when mount points lie below it, else null. */
  root(): string | null {
    return this.onTheWay.has(this.rootPath) ? this.rootPath : null;
  }

  /** The path of child `name` of directory `dir` (a path from root() or way()) when mount points lie below it, else null. */
  way(dir: string, name: string): string | null {
    const p = dir + '/' + name;
    return this.onTheWay.has(p) ? p : null;
  }

  /** The mount point at child `name` of directory `dir`, if it is one. */
  at(dir: string, name: string): WalkMount | undefined {
    return this.points.get(dir + '/' + name);
  }
}
