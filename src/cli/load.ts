// A command's modules, loaded one file at a time when fds are short. Node's ESM loader reads
// all the modules of a graph at once (doctor's: about 60 files, so about 45 fds free, while
// Node itself holds about 18), and a module that failed to load (EMFILE) stays failed. With
// few fds to spare, the graph's static imports are read first, one file at a time, and the
// modules are imported leaves first, so that each import reads one file.
import fs from 'node:fs';
import { fdHeadroom } from '../sys/fds.js';

/** below this many free fds, one file at a time */
const LOW_FDS = 64;
const STATIC_IMPORT = /^\s*(?:import|export)\s*(?:[^'";]*?\sfrom\s*)?['"]([^'"]+)['"]/gm;

/** The URLs of the modules `url` imports statically (relative and package ones; not node:). */
function importsOf(url: string): string[] {
  if (!url.startsWith('file:') || !/\.m?js$/.test(url)) return [];
  const out: string[] = [];
  for (const m of fs.readFileSync(new URL(url), 'utf8').matchAll(STATIC_IMPORT)) {
    const spec = m[1]!;
    if (spec.startsWith('node:')) continue;
    if (spec.startsWith('.') || spec.startsWith('/')) out.push(new URL(spec, url).href);
    else {
      try {
        out.push(import.meta.resolve(spec));
      } catch { /* left to the loader */ }
    }
  }
  return out;
}

/** `url` and what it imports, every module after those it imports. */
function leavesFirst(url: string): string[] {
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = (u: string) => {
    if (seen.has(u)) return;
    seen.add(u);
    for (const d of importsOf(u)) visit(d);
    order.push(u);
  };
  visit(url);
  return order;
}

/** import(url), one file at a time when fds are short. */
export async function importCommand<T>(url: URL): Promise<T> {
  if (fdHeadroom() < LOW_FDS) for (const u of leavesFirst(url.href)) await import(u);
  return await import(url.href) as T;
}
