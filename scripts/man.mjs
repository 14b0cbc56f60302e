// dist/man/enospc.1: the manual page, printed by the built command tree itself (enospc man), so
// that it says what --help says. The date is the last commit's (the same page for the same code).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.dirname(path.dirname(new URL(import.meta.url).pathname));
let date = new Date().toISOString().slice(0, 10);
try {
  date = execFileSync('git', ['-C', root, 'log', '-1', '--format=%cs'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || date;
} catch { /* not a git checkout: today */ }
const page = execFileSync(process.execPath, [path.join(root, 'dist/cli/main.js'), 'man', '--date', date], { encoding: 'utf8' });
fs.mkdirSync(path.join(root, 'dist/man'), { recursive: true });
fs.writeFileSync(path.join(root, 'dist/man/enospc.1'), page);
