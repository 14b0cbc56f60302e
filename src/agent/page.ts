// The dashboard page's files, as the build leaves them in dist/web (src/web compiled, uPlot
// copied from its npm package by scripts/web.mjs), read once into memory when the server starts:
// ~100 KB, served with an ETag. `/` is index.html; everything else is under /assets/.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Asset { type: string; body: Buffer; etag: string }

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

const here = path.dirname(fileURLToPath(import.meta.url));
/** Where the built page lives: dist/web beside dist/agent (the tests' build, dist-test/src/agent, uses dist/web). */
export const PAGE_DIR = [path.join(here, '..', 'web'), path.join(here, '..', '..', '..', 'dist', 'web')].find((d) => fs.existsSync(path.join(d, 'index.html'))) ?? path.join(here, '..', 'web');

/** The page's files by URL path; a page that was not built gives a one-line explanation at `/`. */
export function pageAssets(dir = PAGE_DIR): Map<string, Asset> {
  const out = new Map<string, Asset>();
  const add = (url: string, type: string, body: Buffer) =>
    out.set(url, { type, body, etag: `"${crypto.createHash('sha1').update(body).digest('base64url').slice(0, 16)}"` });
  const walk = (rel: string) => {
    let names: fs.Dirent[];
    try {
      names = fs.readdirSync(path.join(dir, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const d of names) {
      const r = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory()) walk(r);
      else if (d.isFile() && TYPES[path.extname(d.name)] && !d.name.endsWith('.d.ts')) add(`/assets/${r}`, TYPES[path.extname(d.name)]!, fs.readFileSync(path.join(dir, r)));
    }
  };
  walk('');
  const index = out.get('/assets/index.html');
  out.delete('/assets/index.html');
  add('/', TYPES['.html']!, index?.body ?? Buffer.from('<!DOCTYPE html><title>enospc agent</title><p>The page was not built (npm run build). <a href="/metrics">/metrics</a> and /api/sample answer.</p>\n'));
  return out;
}
