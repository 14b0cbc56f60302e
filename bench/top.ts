// Benchmark: `enospc top` against find, du, gdu and ncdu on fresh tmpfs trees, side by side.
// Run as root with `npm run bench` (env BENCH_REPS, default 5; BENCH_SKIP_4M=1 skips the 4M flat dir).
// Writes its section of docs/benchmarks.md between the bench:top markers.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { CLI, DOC, benchBase, build, cleanup, has, log, median, mib, mountTmpfs, sh, writeDoc } from './common.js';

const REPS = Number(process.env.BENCH_REPS ?? 5);
const SKIP_4M = process.env.BENCH_SKIP_4M === '1';
const TREE_DIRS = 1000, TREE_FILES = 1000, FLAT_FILES = 200_000, BIG_FLAT = 4_000_000;
const TREE_COUNT = 1 + TREE_DIRS * (1 + TREE_FILES) + 1 + FLAT_FILES; // find's lines: root included
const GDU_FLAGS = '-npx -s', NCDU_FLAGS = '-0 -x -o /dev/null';
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

interface Cmd { name: string; line: string; tool: string; expect?: number }
interface Sample { wall: number; rssKiB: number }
interface Row { cmd: Cmd; samples: Sample[] | null }

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));


// ---- building the trees ----
let made = 0;
async function touch(file: string, total: number): Promise<void> {
  fs.closeSync(fs.openSync(file, 'w'));
  if (++made % 100_000 === 0) { log(`  ${made.toLocaleString('en-US')} / ${total.toLocaleString('en-US')} files`); await tick(); }
}
async function flat(dir: string, n: number, total: number): Promise<void> {
  fs.mkdirSync(dir);
  for (let i = 0; i < n;) {
    let name = 'magick-';
    for (let k = 0; k < 8; k++) name += ALNUM[Math.floor(Math.random() * 62)];
    try { fs.closeSync(fs.openSync(path.join(dir, name), 'wx')); } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue; // a name drawn twice: draw again
      throw e;
    }
    i++;
    if (++made % 100_000 === 0) { log(`  ${made.toLocaleString('en-US')} / ${total.toLocaleString('en-US')} files`); await tick(); }
  }
}
async function buildTree(root: string): Promise<void> {
  const total = TREE_DIRS * TREE_FILES + FLAT_FILES;
  made = 0;
  for (let d = 0; d < TREE_DIRS; d++) {
    const dir = path.join(root, `d${String(d).padStart(4, '0')}`);
    fs.mkdirSync(dir);
    for (let f = 0; f < TREE_FILES; f++) await touch(`${dir}/f${f}.dat`, total);
  }
  await flat(path.join(root, 'flat'), FLAT_FILES, total);
}

// ---- tools ----
function installTools(): void {
  const missing = [['gdu', 'gdu'], ['ncdu', 'ncdu'], ['/usr/bin/time', 'time']].filter(([bin]) => !has(bin!)).map(([, pkg]) => pkg!);
  if (!missing.length) return;
  log(`installing ${missing.join(' ')} (apt-get)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => spawnSync('apt-get', ['install', '-y', '-qq', ...missing], { env, stdio: ['ignore', 'ignore', 'inherit'] }).status === 0;
  if (!install()) { spawnSync('apt-get', ['update', '-qq'], { env, stdio: 'ignore' }); install(); }
}
function versions(): Record<string, string> {
  const first = (line: string, tool: string) => (has(tool) ? (sh(line).split('\n').find((l) => l.trim()) ?? '?').replace(/\s+/g, ' ') : 'not available');
  return {
    find: first('find --version', 'find'), du: first('du --version', 'du'),
    gdu: first('gdu --version', 'gdu'), ncdu: first('ncdu -v', 'ncdu'),
  };
}


// ---- measuring ----
function measure(cmd: Cmd, timeOut: string): Sample {
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', '-o', timeOut, 'sh', '-c', cmd.line], { encoding: 'utf8', maxBuffer: 256 << 20 });
  const wall = (performance.now() - t0) / 1000;
  if (r.error) throw r.error;
  if (r.signal) throw new Error(`${cmd.name}: killed by ${r.signal}`);
  if (r.status !== 0) throw new Error(`${cmd.name}: exit ${r.status}: ${r.stderr.trim().slice(-400)}`);
  if (cmd.expect !== undefined && parseInt(r.stdout, 10) !== cmd.expect) {
    throw new Error(`${cmd.name}: counted ${r.stdout.trim().split('\n')[0]}, expected ${cmd.expect}`);
  }
  const rssKiB = Number(fs.readFileSync(timeOut, 'utf8').trim().split('\n').pop()!.split(' ')[1]);
  return { wall, rssKiB };
}
/** One warm-up round (optional), then `reps` rounds of every available command, round-robin. */
async function runAll(cmds: Cmd[], reps: number, warmUp: boolean, timeOut: string): Promise<Row[]> {
  const rows: Row[] = cmds.map((cmd) => ({ cmd, samples: has(cmd.tool) ? [] : null }));
  for (let rep = warmUp ? 0 : 1; rep <= reps; rep++) {
    for (const row of rows) {
      if (!row.samples) continue;
      await tick();
      const s = measure(row.cmd, timeOut);
      log(`  ${rep ? `rep ${rep}` : 'warm-up'}  ${row.cmd.name.padEnd(22)} ${s.wall.toFixed(2)} s  ${(s.rssKiB / 1024).toFixed(1)} MiB`);
      if (rep) row.samples.push(s);
    }
  }
  return rows;
}
/** What enospc itself counted, next to what the tree holds. */
function enospcCounts(dir: string): string {
  const r = spawnSync(process.execPath, [CLI, 'top', dir, '--json'], { encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.status !== 0) throw new Error(`enospc top ${dir} --json: exit ${r.status}: ${r.stderr.trim()}`);
  const j = JSON.parse(r.stdout) as { totals: { entries: number; files: number; dirs: number }; patterns: Array<{ pattern: string; count: number }> };
  const pats = j.patterns.slice(0, 3).map((p) => `\`${p.pattern}\` ${p.count}`).join(', ');
  return `enospc counted ${j.totals.entries} entries (${j.totals.files} files, ${j.totals.dirs} dirs); top patterns: ${pats}`;
}

// ---- reporting ----
function table(rows: Row[]): string {
  const med = (name: string) => { const r = rows.find((x) => x.cmd.name === name && x.samples?.length); return r ? median(r.samples!.map((s) => s.wall)) : NaN; };
  const find = med('find | wc -l'), du = med('du --inodes');
  const code = (s: string) => `\`${s.replaceAll('|', '\\|')}\``;
  const ratio = (m: number, ref: number) => (Number.isFinite(ref) ? `${(m / ref).toFixed(2)}×` : '–');
  const out = ['| command | median wall s | min s | max s | peak RSS MiB | ÷ find | ÷ du |', '|---|--:|--:|--:|--:|--:|--:|'];
  for (const { cmd, samples } of rows) {
    if (!samples) { out.push(`| ${code(cmd.name)} | not available | | | | | |`); continue; }
    const w = samples.map((s) => s.wall), m = median(w);
    out.push(`| ${code(cmd.name)} | ${m.toFixed(2)} | ${Math.min(...w).toFixed(2)} | ${Math.max(...w).toFixed(2)} | ${mib(Math.max(...samples.map((s) => s.rssKiB)))} | ${ratio(m, find)} | ${ratio(m, du)} |`);
  }
  return out.join('\n');
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) { console.log('bench/top: must run as root (it mounts tmpfs filesystems)'); process.exit(2); }
  if (!Number.isInteger(REPS) || REPS < 1) throw new Error(`BENCH_REPS must be a positive integer, not ${process.env.BENCH_REPS}`);
  installTools();
  if (!has('/usr/bin/time')) throw new Error('GNU time (/usr/bin/time) is needed and could not be installed');
  const ver = versions();
  const built = build();
  const timeOut = path.join(benchBase('/var/tmp', 'enospc-bench-'), 'time.out');
  const enospc = `${process.execPath} ${CLI} top`;

  log(`building the 1.2M tree (${TREE_COUNT - 1} entries)`);
  const tree = mountTmpfs('tree', 'size=2g,nr_inodes=2m');
  let t0 = performance.now();
  await buildTree(tree);
  log(`  built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const cmds: Cmd[] = [
    { name: 'enospc top --json', line: `${enospc} ${tree} --json > /dev/null`, tool: process.execPath },
    { name: 'enospc top --stat --json', line: `${enospc} ${tree} --stat --json > /dev/null`, tool: process.execPath },
    { name: 'find | wc -l', line: `find ${tree} -xdev | wc -l`, tool: 'find', expect: TREE_COUNT },
    { name: 'du --inodes', line: `du --inodes -xs ${tree}`, tool: 'du', expect: TREE_COUNT },
    { name: `gdu ${GDU_FLAGS}`, line: `gdu ${GDU_FLAGS} ${tree}`, tool: 'gdu' },
    { name: 'ncdu -0 -x -o', line: `ncdu ${NCDU_FLAGS} ${tree}`, tool: 'ncdu' },
  ];
  const treeNote = enospcCounts(tree);
  log(`  ${treeNote}; find counts ${TREE_COUNT} lines (root included)`);
  const rows = await runAll(cmds, REPS, true, timeOut);

  let bigRows: Row[] | null = null, bigNote = '';
  if (!SKIP_4M) {
    log(`building the 4M flat dir`);
    const big = mountTmpfs('flat4m', 'size=4g,nr_inodes=4200000');
    t0 = performance.now();
    made = 0;
    await flat(path.join(big, 'flat'), BIG_FLAT, BIG_FLAT);
    log(`  built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const dir = path.join(big, 'flat');
    bigNote = enospcCounts(dir);
    log(`  ${bigNote}`);
    const findRow = (await runAll([{ name: 'find | wc -l', line: `find ${dir} -xdev | wc -l`, tool: 'find', expect: BIG_FLAT + 1 }], 1, false, timeOut))[0]!;
    const enoRow = (await runAll([{ name: 'enospc top --json', line: `${enospc} ${dir} --json > /dev/null`, tool: process.execPath }], 3, false, timeOut))[0]!;
    bigRows = [enoRow, findRow];
  }

  // ---- targets ----
  const s1 = rows[0]!.samples!, m1 = median(s1.map((s) => s.wall)), rss1 = Math.max(...s1.map((s) => s.rssKiB));
  const mFind = median(rows[2]!.samples!.map((s) => s.wall)), mDu = median(rows[3]!.samples!.map((s) => s.wall));
  const verdict = (ok: boolean) => (ok ? 'PASS' : 'MISS');
  const targets = [
    `| median wall of \`enospc top --json\` ≤ 1.0× find | ${(m1 / mFind).toFixed(2)}× (${m1.toFixed(2)} s vs ${mFind.toFixed(2)} s) | ${verdict(m1 <= mFind)} |`,
    `| median wall of \`enospc top --json\` ≤ 0.5× du --inodes | ${(m1 / mDu).toFixed(2)}× (${m1.toFixed(2)} s vs ${mDu.toFixed(2)} s) | ${verdict(m1 <= 0.5 * mDu)} |`,
    `| peak RSS of \`enospc top --json\` ≤ 150 MiB (1.2M tree) | ${mib(rss1)} MiB | ${verdict(rss1 <= 150 * 1024)} |`,
  ];
  if (bigRows) {
    const rss = Math.max(...bigRows[0]!.samples!.map((s) => s.rssKiB));
    targets.push(`| peak RSS of \`enospc top --json\` ≤ 300 MiB (4M flat dir) | ${mib(rss)} MiB | ${verdict(rss <= 300 * 1024)} |`);
  } else targets.push('| peak RSS of `enospc top --json` ≤ 300 MiB (4M flat dir) | skipped (BENCH_SKIP_4M=1) | – |');

  const rebuilt = build().distMtime !== built.distMtime ? 'WARNING: dist/ was rebuilt during the run, so the figures may mix two builds' : '';
  if (rebuilt) log(rebuilt);
  const cpu = /model name\s*:\s*(.*)/.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model ?? '?';
  const section = [
    '## enospc top', '',
    `Measured ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')} by \`bench/top.ts\`.`, '',
    `- machine: ${cpu}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, kernel ${os.release()}, Node ${process.version}`,
    `- enospc: commit ${built.commit}${rebuilt ? ` (${rebuilt})` : ''}`,
    `- find: ${ver.find}; du: ${ver.du}; gdu: ${ver.gdu}; ncdu: ${ver.ncdu}`,
    `- each command runs as \`/usr/bin/time -f '%e %M' sh -c '<command>'\`: wall time is measured around it in Node, peak RSS is GNU time's %M (largest process of the pipeline)`,
    `- ${REPS} reps per command, interleaved round-robin after one uncounted warm-up round; exit status 0 checked, and the counts of find and du (${TREE_COUNT})`,
    '', '### 1.2M entries: 1,000 dirs × 1,000 files + one flat dir of 200,000', '',
    `A fresh tmpfs (\`size=2g,nr_inodes=2m\`) holding \`d0000/f0.dat\` … \`d0999/f999.dat\` (empty) and \`flat/magick-XXXXXXXX\` (200,000 empty files, 8 random characters of [A-Za-z0-9]). DIR is its mount point.`, '',
    ...cmds.map((c, i) => `${i + 1}. \`${c.line.replaceAll(tree, 'DIR').replace(`${process.execPath} ${CLI}`, 'node dist/cli/main.js')}\``), '',
    table(rows), '', `Sanity: ${treeNote}; find prints ${TREE_COUNT} lines (root included).`, '',
  ];
  if (bigRows) {
    section.push('### 4M entries in one flat directory', '',
      'A fresh tmpfs (`size=4g,nr_inodes=4200000`) holding `flat/` with 4,000,000 empty `magick-XXXXXXXX` files; 3 reps of enospc, find once.', '',
      '1. `node dist/cli/main.js top DIR/flat --json > /dev/null`', '2. `find DIR/flat -xdev | wc -l`', '',
      table(bigRows), '', `Sanity: ${bigNote}.`, '');
  }
  section.push('### Targets', '', '| target | measured | result |', '|---|---|---|', ...targets);
  const text = section.join('\n');
  console.log(text);
  writeDoc('top', text);
  log(`wrote ${DOC}`);
}

try {
  await main();
} catch (e) {
  log(`bench/top: ${(e as Error).message}`);
  process.exitCode = 1;
} finally {
  cleanup();
}
