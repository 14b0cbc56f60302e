// The dashboard page's files into dist/web, laid out as in src so that the modules' relative
// imports hold in the browser: the browser code tsc compiled (tsconfig.web.json) into web/, the
// shared helpers it imports (shared/units.js, the terminal's own spelling of numbers and
// durations), uPlot's ES module and stylesheet from its npm package into web/vendor/, and the
// page's HTML, CSS and icon at the top (no CDN: the agent serves every file itself).
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const root = path.dirname(path.dirname(new URL(import.meta.url).pathname));
const out = path.join(root, 'dist/web');
fs.rmSync(out, { recursive: true, force: true });
const vendor = path.join(out, 'web/vendor');
fs.mkdirSync(vendor, { recursive: true });
fs.mkdirSync(path.join(out, 'shared'), { recursive: true });
const compiled = path.join(root, 'dist-web/web');
for (const f of fs.readdirSync(compiled, { recursive: true })) {
  if (String(f).endsWith('.js')) {
    fs.mkdirSync(path.dirname(path.join(out, 'web', f)), { recursive: true });
    fs.copyFileSync(path.join(compiled, f), path.join(out, 'web', f));
  }
}
// the only module outside src/web the page loads (the others it names are types, erased)
fs.copyFileSync(path.join(root, 'dist-web/shared/units.js'), path.join(out, 'shared/units.js'));
for (const f of fs.readdirSync(path.join(root, 'src/web'))) {
  if (/\.(html|css|svg)$/.test(f)) fs.copyFileSync(path.join(root, 'src/web', f), path.join(out, f));
}
const uplot = path.dirname(createRequire(import.meta.url).resolve('uplot/package.json'));
fs.copyFileSync(path.join(uplot, 'dist/uPlot.esm.js'), path.join(vendor, 'uPlot.esm.js'));
fs.copyFileSync(path.join(uplot, 'dist/uPlot.min.css'), path.join(vendor, 'uPlot.min.css'));
fs.copyFileSync(path.join(uplot, 'LICENSE'), path.join(vendor, 'uPlot.LICENSE'));
