// Benchmark: `enospc top` against find, du, gdu and ncdu on fresh tmpfs trees, side by side.
// Run as root with `npm run bench` (env BENCH_REPS, default 5; BENCH_SKIP_4M=1 skips the 4M flat dir).
// Writes its section of docs/benchmarks.md between the bench:top markers.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { CLI, DOC, benchBase, build, cleanup, has, log, median, mib, mountTmpfs, sh, unmount, writeDoc } from './common.js';

const REPS = Number(process.env.BENCH_REPS ?? 5);
const SKIP_4M = process.env.BENCH_SKIP_4M === '1';
const TREE_DIRS = 1000, TREE_FILES = 1000, FLAT_FILES = 200_000, BIG_FLAT = 4_000_000;
const CASE000_MAGICK = 3_900_000, CASE000_OTHER = 99_000;
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

/** The commands every shape is measured with, side by side. */
function toolCmds(dir: string, expect?: number, stat = false): Cmd[] {
  const enospc = `${process.execPath} ${CLI} top`;
  return [
    { name: 'enospc top --json', line: `${enospc} ${dir} --json > /dev/null`, tool: process.execPath },
    ...(stat ? [{ name: 'enospc top --stat --json', line: `${enospc} ${dir} --stat --json > /dev/null`, tool: process.execPath }] : []),
    { name: 'find | wc -l', line: `find ${dir} -xdev | wc -l`, tool: 'find', ...(expect !== undefined ? { expect } : {}) },
    { name: 'du --inodes', line: `du --inodes -xs ${dir}`, tool: 'du', ...(expect !== undefined ? { expect } : {}) },
    { name: `gdu ${GDU_FLAGS}`, line: `gdu ${GDU_FLAGS} ${dir}`, tool: 'gdu' },
    { name: 'ncdu -0 -x -o', line: `ncdu ${NCDU_FLAGS} ${dir}`, tool: 'ncdu' },
  ];
}

interface Shape { title: string; what: string; dir: string; rows: Row[]; note: string }
const shapes: Shape[] = [];
const targets: string[] = [];
const verdict = (ok: boolean) => (ok ? 'PASS' : 'MISS');
const wallOf = (rows: Row[], name: string) => { const r = rows.find((x) => x.cmd.name === name && x.samples?.length); return r ? median(r.samples!.map((s) => s.wall)) : NaN; };
const rssOf = (rows: Row[], name: string) => Math.max(...(rows.find((x) => x.cmd.name === name)?.samples ?? []).map((s) => s.rssKiB));

/** Measure a shape and add its targets: top --json against find, and its peak RSS. */
async function shape(title: string, what: string, dir: string, cmds: Cmd[], timeOut: string, rssLimitMiB = 150, reps = REPS): Promise<void> {
  const note = enospcCounts(dir);
  log(`${title}: ${note}`);
  const rows = await runAll(cmds, reps, true, timeOut);
  shapes.push({ title, what, dir, rows, note });
  const m = wallOf(rows, 'enospc top --json'), f = wallOf(rows, 'find | wc -l'), rss = rssOf(rows, 'enospc top --json');
  targets.push(`| ${title}: \`enospc top --json\` ≤ 1.0× find | ${(m / f).toFixed(2)}× (${m.toFixed(2)} s vs ${f.toFixed(2)} s) | ${verdict(m <= f)} |`);
  targets.push(`| ${title}: peak RSS ≤ ${rssLimitMiB} MiB | ${mib(rss)} MiB | ${verdict(rss <= rssLimitMiB * 1024)} |`);
}

/** Names of /usr mirrored under `to` (directories as directories, anything else an empty file), each with `suffix`. */
function mirror(from: string, to: string, suffix: string): number {
  const list = spawnSync('find', [from, '-xdev', '-mindepth', '1', '-printf', '%y %P\\0'], { maxBuffer: 1 << 30 }).stdout as Buffer;
  let n = 0;
  for (const rec of list.toString('latin1').split('\0')) {
    if (!rec) continue;
    const rel = Buffer.from(rec.slice(2).split('/').map((p) => p + suffix).join('/'), 'latin1');
    const at = Buffer.concat([Buffer.from(to + '/'), rel]);
    if (rec[0] === 'd') fs.mkdirSync(at);
    else fs.closeSync(fs.openSync(at, 'w'));
    n++;
  }
  return n;
}

/** `enospc --version` against `node -e 0`: start-up alone, interleaved, medians of `reps`. */
function startup(reps: number): { node: number; version: number } {
  const time = (args: string[]) => { const t0 = performance.now(); spawnSync(process.execPath, args, { stdio: 'ignore' }); return performance.now() - t0; };
  const node: number[] = [], version: number[] = [];
  for (let i = 0; i < reps; i++) {
    node.push(time(['-e', '0']));
    version.push(time([CLI, '--version']));
  }
  return { node: median(node), version: median(version) };
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) { console.log('bench/top: must run as root (it mounts tmpfs filesystems)'); process.exit(2); }
  if (!Number.isInteger(REPS) || REPS < 1) throw new Error(`BENCH_REPS must be a positive integer, not ${process.env.BENCH_REPS}`);
  installTools();
  if (!has('/usr/bin/time')) throw new Error('GNU time (/usr/bin/time) is needed and could not be installed');
  const ver = versions();
  const built = build();
  const timeOut = path.join(benchBase('/var/tmp', 'enospc-bench-'), 'time.out');

  // 1. the 1.2M tree
  log(`building the 1.2M tree (${TREE_COUNT - 1} entries)`);
  const tree = mountTmpfs('tree', 'size=2g,nr_inodes=2m');
  await buildTree(tree);
  await shape('1.2M tree', 'A fresh tmpfs (`size=2g,nr_inodes=2m`) holding `d0000/f0.dat` … `d0999/f999.dat` (empty) and `flat/magick-XXXXXXXX` (200,000 empty files, 8 random characters of [A-Za-z0-9]).',
    tree, toolCmds(tree, TREE_COUNT, true), timeOut);
  unmount(tree);

  // 2. 400k of mixed shapes
  log('building the 400k mixed tree');
  const mixed = mountTmpfs('mixed', 'size=1g,nr_inodes=1m');
  made = 0;
  for (let d = 0; d < 300; d++) {
    const dir = path.join(mixed, `w${d}`);
    fs.mkdirSync(dir);
    for (let f = 0; f < 1000; f++) await touch(`${dir}/magick-${String(Math.floor(Math.random() * 1e9)).padStart(9, '0')}${f}`, 400_000);
  }
  fs.mkdirSync(path.join(mixed, 'opam'));
  for (let i = 0; i < 100_000; i++) {
    let tail = '';
    for (let k = 0; k < 3; k++) tail += ALNUM[26 + Math.floor(Math.random() * 26)];
    await touch(path.join(mixed, 'opam', `opam-${1000 + i}-${tail}`), 400_000);
  }
  await shape('400k mixed', 'A fresh tmpfs: 300 directories of 1,000 `magick-NNNNNNNNN` files, and `opam/` with 100,000 `opam-N-abc` files (empty).',
    mixed, toolCmds(mixed, 1 + 300 * 1001 + 1 + 100_000), timeOut);
  unmount(mixed);

  // 3. the machine's /usr, warm (the warm-up round reads it in)
  await shape('/usr (warm)', 'This machine\'s /usr as it is, its dentries and inodes in the cache after the warm-up round.', '/usr', toolCmds('/usr'), timeOut);

  // 4. unique names: /usr's names, twice, the second copy's each with `.orig`
  log('building the unique-names tree (names of /usr, twice)');
  const uniq = mountTmpfs('unique', 'size=1g,nr_inodes=1m');
  fs.mkdirSync(path.join(uniq, 'a'));
  fs.mkdirSync(path.join(uniq, 'b'));
  const names = mirror('/usr', path.join(uniq, 'a'), '') + mirror('/usr', path.join(uniq, 'b'), '.orig');
  await shape(`${Math.round(names / 1000)}k unique names`, `A fresh tmpfs holding the names of this machine's /usr twice, as empty files and directories: \`a/\` as they are, \`b/\` each with \`.orig\` appended (${names.toLocaleString('en-US')} entries, mostly distinct names, as in a source tree or node_modules).`,
    uniq, toolCmds(uniq, names + 3), timeOut);
  unmount(uniq);

  // 5. 4M entries in one directory
  if (!SKIP_4M) {
    log('building the 4M flat dir');
    const big = mountTmpfs('flat4m', 'size=4g,nr_inodes=4200000');
    made = 0;
    await flat(path.join(big, 'flat'), BIG_FLAT, BIG_FLAT);
    const dir = path.join(big, 'flat');
    await shape('4M flat', 'A fresh tmpfs (`size=4g,nr_inodes=4200000`) holding `flat/` with 4,000,000 empty `magick-XXXXXXXX` files; 3 reps, without gdu and ncdu.',
      dir, toolCmds(dir, BIG_FLAT + 1).filter((c) => !/^(gdu|ncdu)/.test(c.name)), timeOut, 300, 3);
    unmount(big);

    // 6. case 000 at full scale: doctor, and what an admin would run
    log('building case 000 at full scale (4M inodes, 3.9M magick-*)');
    const c0 = mountTmpfs('case000', 'size=4g,nr_inodes=4000000');
    made = 0;
    await flat(path.join(c0, 'tmp'), CASE000_MAGICK, CASE000_MAGICK + CASE000_OTHER);
    for (let d = 0; d < CASE000_OTHER / 1000; d++) {
      const dir = path.join(c0, 'tmp', `sess${d}`);
      fs.mkdirSync(dir);
      for (let f = 0; f < 1000; f++) await touch(`${dir}/sess_${(d * 1000 + f).toString(16).padStart(26, '0')}`, CASE000_MAGICK + CASE000_OTHER);
    }
    const doctorJson = spawnSync(process.execPath, [CLI, 'doctor', '--json', c0], { encoding: 'utf8', maxBuffer: 256 << 20 });
    const dj = JSON.parse(doctorJson.stdout) as { mounts: Array<{ path: string; scan: { entries: number; partial: boolean; elapsedMs: number } | null }>; findings: Array<{ id: string; severity: string }> };
    const scan = dj.mounts.find((m) => m.path === c0)?.scan ?? null;
    const rows = await runAll([
      { name: 'enospc doctor DIR --json', line: `${process.execPath} ${CLI} doctor --json ${c0} > /dev/null; [ $? -le 3 ]`, tool: process.execPath },
      { name: "find -printf '%u %s' | sort | uniq -c", line: `find ${c0} -xdev -printf '%u %s\\n' | sort | uniq -c > /dev/null`, tool: 'find' },
    ], 3, false, timeOut);
    const note = `doctor: ${dj.findings.filter((f) => f.severity !== 'info').map((f) => `${f.id} ${f.severity}`).join(', ')}; its census of ${c0.replace(c0, 'DIR')}: ${scan ? `${scan.entries.toLocaleString('en-US')} entries in ${(scan.elapsedMs / 1000).toFixed(1)} s, ${scan.partial ? 'PARTIAL' : 'complete'}` : 'none'}`;
    shapes.push({ title: 'case 000 at full scale', what: `A fresh tmpfs (\`size=4g,nr_inodes=4000000\`) holding \`tmp/\` with ${CASE000_MAGICK.toLocaleString('en-US')} empty \`magick-XXXXXXXX\` files and ${CASE000_OTHER / 1000} directories of 1,000 \`sess_*\` files: ${(CASE000_MAGICK + CASE000_OTHER).toLocaleString('en-US')} of its 4,000,000 inodes used. \`enospc doctor DIR\` (its default budget of 20 s) next to the command an admin would run to see whose files they are and how big.`, dir: c0, rows, note });
    log(note);
    targets.push(`| case 000 at full scale: doctor's census complete within its default budget | ${scan ? `${scan.partial ? 'partial' : 'complete'}, ${(scan.elapsedMs / 1000).toFixed(1)} s (doctor ${wallOf(rows, 'enospc doctor DIR --json').toFixed(1)} s in all, find \\| sort \\| uniq -c ${wallOf(rows, "find -printf '%u %s' | sort | uniq -c").toFixed(1)} s)` : 'no census'} | ${verdict(scan !== null && !scan.partial)} |`);
    unmount(c0);
  } else targets.push('| 4M flat, case 000 at full scale | skipped (BENCH_SKIP_4M=1) | – |');

  // 7. start-up
  const st = startup(21);
  targets.push(`| \`enospc --version\` within 15 ms of \`node -e 0\` | ${(st.version - st.node).toFixed(0)} ms (${st.version.toFixed(0)} ms vs ${st.node.toFixed(0)} ms, medians of 21 interleaved) | ${verdict(st.version - st.node <= 15)} |`);

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
    `- ${REPS} reps per command unless said, interleaved round-robin after one uncounted warm-up round; exit status 0 checked, and the counts of find and du where the tree is made here`,
    '',
  ];
  for (const sh of shapes) {
    section.push(`### ${sh.title}`, '', `${sh.what} DIR is ${sh.dir === '/usr' ? '/usr' : 'its mount point (or the directory named)'}.`, '',
      ...sh.rows.map((r, i) => `${i + 1}. \`${r.cmd.line.replaceAll(sh.dir, 'DIR').replaceAll(`${process.execPath} ${CLI}`, 'node dist/cli/main.js')}\``), '',
      table(sh.rows), '', `Sanity: ${sh.note}.`, '');
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
