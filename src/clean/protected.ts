// Paths that have a tmpfiles.d line of their own: every other line's cleaning leaves them
// alone, neither entering nor removing them (systemd-tmpfiles' "a separate entry exists" /
// "a separate glob exists"). A glob line's path is matched as fnmatch(FNM_PATHNAME|FNM_PERIOD)
// matches it (braces are not expanded there: `x /tmp/{a,b}` keeps a directory named `{a,b}`,
// as in systemd); another line's path exactly.
import { compileGlob, type Glob } from './glob.js';

export class Protected {
  /** by number of path components: a path is only compared with patterns of as many */
  private readonly byDepth = new Map<number, Glob[]>();

  constructor(paths: Array<{ path: string; glob: boolean }>) {
    const seen = new Set<string>();
    for (const p of paths) {
      for (const alt of [p.glob ? p.path : p.path.replace(/[*?[\\]/g, (c) => `\\${c}`)]) {
        if (seen.has(alt)) continue;
        seen.add(alt);
        const parts = alt.split('/').filter(Boolean).length;
        const list = this.byDepth.get(parts) ?? [];
        list.push(compileGlob(alt, { period: true }));
        this.byDepth.set(parts, list);
      }
    }
  }

  /** Could a path of this many components be protected? (to skip making paths that cannot be) */
  atDepth(components: number): boolean {
    return this.byDepth.has(components);
  }

  /** Has the path (absolute, bytes, `components` of them) a line of its own? */
  has(path: Uint8Array, components: number): boolean {
    const list = this.byDepth.get(components);
    if (!list) return false;
    for (const g of list) if (g.match(path)) return true;
    return false;
  }
}
