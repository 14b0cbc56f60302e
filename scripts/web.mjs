// The dashboard page's files into dist/web: the browser code tsc compiled into dist-web/web
// (tsconfig.web.json), the page's HTML, CSS and icon from src/web, and uPlot's ES module and
// stylesheet from its npm package (no CDN: the agent serves every file itself).
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const root = path.dirname(path.dirname(new URL(import.meta.url).pathname));
const out = path.join(root, 'dist/web');
fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(path.join(out, 'vendor'), { recursive: true });
const compiled = path.join(root, 'dist-web/web');
for (const f of fs.readdirSync(compiled, { recursive: true })) {
  if (String(f).endsWith('.js')) {
    fs.mkdirSync(path.dirname(path.join(out, f)), { recursive: true });
    fs.copyFileSync(path.join(compiled, f), path.join(out, f));
  }
}
for (const f of fs.readdirSync(path.join(root, 'src/web'))) {
  if (/\.(html|css|svg)$/.test(f)) fs.copyFileSync(path.join(root, 'src/web', f), path.join(out, f));
}
const uplot = path.dirname(createRequire(import.meta.url).resolve('uplot/package.json'));
fs.copyFileSync(path.join(uplot, 'dist/uPlot.esm.js'), path.join(out, 'vendor/uPlot.esm.js'));
fs.copyFileSync(path.join(uplot, 'dist/uPlot.min.css'), path.join(out, 'vendor/uPlot.min.css'));
fs.copyFileSync(path.join(uplot, 'LICENSE'), path.join(out, 'vendor/uPlot.LICENSE'));
