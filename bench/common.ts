// What every benchmark shares: shell helpers, tmpfs mounts undone on exit or signal, the build
// being measured, and writing its own section of docs/benchmarks.md.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DOC = path.join(ROOT, 'docs/benchmarks.md');

export const sh = (line: string): string => spawnSync('sh', ['-c', line], { encoding: 'utf8' }).stdout?.trim() ?? '';
export const has = (tool: string): boolean => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
export const log = (s: string): void => void process.stderr.write(s + '\n');
export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b), m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
export const mib = (kib: number): string => (kib / 1024).toFixed(1);

// ---- mounts: every one made here is undone on exit, error or signal ----
let base = '';
const mounted: string[] = [];
const atCleanup: Array<() => void> = [];

/** The directory the mounts go in (made now); `also` runs first at cleanup (e.g. kill children). */
export function benchBase(parent: string, prefix: string, also?: () => void): string {
  base = fs.mkdtempSync(path.join(parent, prefix));
  if (also) atCleanup.push(also);
  return base;
}

export function mountTmpfs(name: string, opts: string): string {
  const dir = path.join(base, name);
  fs.mkdirSync(dir);
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', opts, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mount ${dir}: ${r.stderr.trim()}`);
  mounted.push(dir);
  return dir;
}

export function unmount(dir: string): void {
  const i = mounted.indexOf(dir);
  if (i >= 0) mounted.splice(i, 1);
  if (spawnSync('umount', [dir]).status !== 0) spawnSync('umount', ['-l', dir]);
}

export function cleanup(): void {
  for (const f of atCleanup) f();
  while (mounted.length) unmount(mounted[mounted.length - 1]!);
  if (base) fs.rmSync(base, { recursive: true, force: true });
  base = '';
}
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => { log(`\n${sig}: cleaning up`); cleanup(); process.exit(130); });
}

/** What is measured: the commit, and when dist/ was last built (a rebuild during the run mixes two builds). */
export function build(): { commit: string; distMtime: number } {
  const head = sh(`git -C ${ROOT} rev-parse --short HEAD`) || 'unknown';
  const dirty = sh(`git -C ${ROOT} status --porcelain -- src`) ? ' + uncommitted changes in src/' : '';
  const dist = path.join(ROOT, 'dist');
  const distMtime = Math.max(...fs.readdirSync(dist, { recursive: true }).map((f) => fs.statSync(path.join(dist, String(f))).mtimeMs));
  return { commit: head + dirty, distMtime };
}

/** Replace (or append) this benchmark's section, between its markers. */
export function writeDoc(name: string, section: string): void {
  const START = `<!-- bench:${name}:start -->`, END = `<!-- bench:${name}:end -->`;
  const body = `${START}\n${section}\n${END}`;
  let doc = fs.existsSync(DOC) ? fs.readFileSync(DOC, 'utf8') : '# Benchmarks\n\nEvery section of this file is written by `npm run bench` (run as root); do not edit it by hand.\n';
  const a = doc.indexOf(START), b = doc.indexOf(END);
  doc = a >= 0 && b > a ? doc.slice(0, a) + body + doc.slice(b + END.length) : doc.trimEnd() + '\n\n' + body + '\n';
  fs.mkdirSync(path.dirname(DOC), { recursive: true });
  fs.writeFileSync(DOC, doc);
}

/**
 * A python script that makes PROCS `sleep` processes each inheriting one inotify instance with
 * PER watches on PER of the DIRS directories BASE/0..BASE/DIRS-1 (args: BASE PROCS PER DIRS), and
 * prints their PIDs on one line.
 */
export const HOLDERS = `
import ctypes, os, subprocess, sys
libc = ctypes.CDLL(None, use_errno=True)
base, procs, per, dirs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
kids = []
for i in range(procs):
    fd = libc.inotify_init1(0)
    if fd < 0: sys.exit('inotify_init1: errno %d' % ctypes.get_errno())
    for k in range(per):
        if libc.inotify_add_watch(fd, ('%s/%d' % (base, (i * per + k) % dirs)).encode(), 0x100) < 0:
            sys.exit('inotify_add_watch: errno %d' % ctypes.get_errno())
    kids.append(subprocess.Popen(['sleep', '3600'], pass_fds=(fd,)).pid)
    os.close(fd)
print(' '.join(map(str, kids)), flush=True)
`;
