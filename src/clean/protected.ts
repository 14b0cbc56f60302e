// Paths that have a tmpfiles.d line of their own: every other line's cleaning leaves them
// alone, neither entering nor removing them (systemd-tmpfiles' "a separate entry exists" /
// "a separate glob exists"). A glob line's path is matched as fnmatch(FNM_PATHNAME|FNM_PERIOD)
// matches it (braces are not expanded there: `x /tmp/{a,b}` keeps a directory named `{a,b}`,
// as in systemd); another line's path exactly.
import { compileGlob, escapeGlob, type Glob } from './glob.js';

export class Protected {
  /** by number of path components: a path is only compared with patterns of as many */
  private readonly byDepth = new Map<number, Glob[]>();

  constructor(paths: Array<{ path: string; glob: boolean }>) {
    const seen = new Set<string>();
    for (const p of paths) {
      const glob = p.glob ? p.path : escapeGlob(p.path);
      if (seen.has(glob)) continue;
      seen.add(glob);
      const parts = glob.split('/').filter(Boolean).length;
      const list = this.byDepth.get(parts) ?? [];
      list.push(compileGlob(glob, { period: true }));
      this.byDepth.set(parts, list);
    }
  }

  /** Has the path of `components` components a line of its own? `path` makes it (bytes), only when a line has that many. */
  covers(components: number, path: () => Uint8Array): boolean {
    const list = this.byDepth.get(components);
    if (!list) return false;
    const p = path();
    for (const g of list) if (g.match(p)) return true;
    return false;
  }
}
