// Benchmark: `enospc containers` on a real podman store with many ID-mapped copies (case 002),
// against the tools that give the same count: `du --inodes -s` per layer directory, find, gdu,
// ncdu, and `podman system df` (bytes only, no copies). Side by side in one run (env BENCH_REPS,
// default 3; BENCH_CT_FILES files in the image, BENCH_CT_COPIES copies). Writes its section of
// docs/benchmarks.md between the bench:containers markers.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { CLI, benchBase, build, cleanup, has, log, median, mountTmpfs, writeDoc } from './common.js';

const FILES = Number(process.env['BENCH_CT_FILES'] ?? 20_000);
const COPIES = Number(process.env['BENCH_CT_COPIES'] ?? 20);
const REPS = Number(process.env['BENCH_REPS'] ?? 3);

function run(argv: string[], env: NodeJS.ProcessEnv = {}): { wall: number; out: string } {
  const t0 = performance.now();
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', maxBuffer: 256 << 20, env: { ...process.env, ...env } });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return { wall, out: r.stdout };
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) { console.log('bench/containers: must run as root (it mounts tmpfs)'); process.exit(2); }
  if (!has('podman')) { console.log('bench/containers: needs podman (apt-get install podman)'); process.exit(2); }
  const built = build();
  const base = benchBase('/var/tmp', 'enospc-bench-ct-', () => { spawnSync('podman', ['rm', '-a', '-f']); });
  const dir = mountTmpfs('store', `size=4g,nr_inodes=${(FILES + 100) * (COPIES + 2) + 100_000}`);
  const root = path.join(dir, 'storage');
  const conf = path.join(base, 'storage.conf');
  fs.writeFileSync(conf, `[storage]\ndriver = "overlay"\ngraphroot = "${root}"\nrunroot = "${dir}/run"\n`);
  const env = { CONTAINERS_STORAGE_CONF: conf };
  process.env['CONTAINERS_STORAGE_CONF'] = conf; // the cleanup's podman rm too

  // an image of FILES small files in 100 directories
  const rfs = path.join(base, 'rootfs');
  for (let d = 0; d < 100; d++) fs.mkdirSync(path.join(rfs, 'usr', `d${d}`), { recursive: true });
  for (let i = 0; i < FILES; i++) fs.writeFileSync(path.join(rfs, 'usr', `d${i % 100}`, `f${i}`), 'x');
  run(['tar', '-C', rfs, '-cf', path.join(base, 'rootfs.tar'), '.']);
  fs.rmSync(rfs, { recursive: true });
  run(['podman', 'import', path.join(base, 'rootfs.tar'), 'localhost/bench:1'], env);
  const t0 = performance.now();
  for (let k = 0; k < COPIES; k++) {
    const o = 1_000_000 + k * 70_000; // clear of the single 531571 entry
    run(['podman', 'create', '--name', `b${k}`, '--uidmap', `0:${o}:65536`, '--uidmap', '531571:531571:1', '--gidmap', `0:${o}:65536`, '--gidmap', '531571:531571:1', 'localhost/bench:1', '/bin/true'], env);
  }
  const makeS = (performance.now() - t0) / 1000;
  run(['podman', 'rm', '-a'], env);
  log(`store made: ${COPIES} copies of ${FILES} files in ${makeS.toFixed(1)} s`);

  const layerDirs = fs.readdirSync(path.join(root, 'overlay')).filter((n) => n !== 'l' && !n.startsWith('.')).map((n) => path.join(root, 'overlay', n));
  const overlay = path.join(root, 'overlay');
  const cmds: Array<{ name: string; argv: string[]; note: string }> = [
    { name: 'enospc containers --root ROOT --json', argv: [process.execPath, CLI, 'containers', '--root', root, '--json'], note: 'per layer: inodes, bytes, copy of which image, containers' },
    { name: 'du --inodes -s ROOT/overlay/*', argv: ['du', '--inodes', '-s', ...layerDirs], note: 'per layer directory: inodes' },
    { name: 'find ROOT/overlay | wc -l', argv: ['sh', '-c', `find ${overlay} | wc -l`], note: 'one total' },
    ...(has('gdu') ? [{ name: 'gdu -n -p ROOT/overlay', argv: ['gdu', '-n', '-p', overlay], note: 'per directory: bytes' }] : []),
    ...(has('ncdu') ? [{ name: 'ncdu -x -o /dev/null ROOT/overlay', argv: ['ncdu', '-x', '-o', '/dev/null', overlay], note: 'scan to a file' }] : []),
    { name: 'podman system df -v', argv: ['podman', 'system', 'df', '-v'], note: 'bytes per image; no copies, no inodes' },
  ];
  const walls = new Map<string, number[]>(cmds.map((c) => [c.name, []]));
  let doc: { stores: Array<{ totals: { layers: { inodes: number }; copies: { count: number; inodes: number } } }> } | null = null;
  let duTotal = 0;
  for (let rep = 0; rep < REPS; rep++) {
    for (const c of cmds) {
      const r = run(c.argv, env);
      walls.get(c.name)!.push(r.wall);
      if (c.name.startsWith('enospc')) doc = JSON.parse(r.out);
      if (c.name.startsWith('du')) duTotal = r.out.trim().split('\n').reduce((n, l) => n + Number(l.split('\t')[0]), 0);
      log(`${c.name}: ${r.wall.toFixed(2)} s`);
    }
  }
  const t = doc!.stores[0]!.totals;
  const agree = t.layers.inodes === duTotal;
  const cpu = fs.readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1]?.trim() ?? 'unknown CPU';
  const podmanV = spawnSync('podman', ['--version'], { encoding: 'utf8' }).stdout.trim();
  const du = median(walls.get(cmds[1]!.name)!);
  const rows = cmds.map((c) => {
    const w = walls.get(c.name)!;
    const m = median(w);
    return `| \`${c.name.replaceAll('|', '\\|')}\` | ${m.toFixed(2)} | ${Math.min(...w).toFixed(2)} | ${Math.max(...w).toFixed(2)} | ${(m / du).toFixed(2)}× | ${c.note} |`;
  });
  const section = [
    '## enospc containers',
    '',
    `Measured ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')} by \`bench/containers.ts\` (commit ${built.commit}) on ${cpu}, ${os.cpus().length} cores, kernel ${os.release()}, Node ${process.version}, ${podmanV}.`,
    '',
    `A podman store on tmpfs: one imported image of ${FILES.toLocaleString('en-US')} files, then ${COPIES} \`podman create\` with different non-contiguous --uidmap/--gidmap sets (${makeS.toFixed(1)} s) and \`podman rm -a\`: ${t.copies.count} ID-mapped copies holding ${t.copies.inodes.toLocaleString('en-US')} inodes, ${t.layers.inodes.toLocaleString('en-US')} inodes in all layer directories (du --inodes agrees: ${agree ? 'yes' : `no, du says ${duTotal}`}). ${REPS} runs each, interleaved, page cache warm.`,
    '',
    '| command | median s | min s | max s | vs du | what it tells |',
    '|---|--:|--:|--:|--:|---|',
    ...rows,
    '',
    'No speed target was set for this command; the figure to watch is that one run reads the metadata and counts every layer directory at about the cost of `du --inodes` alone, which tells nothing of copies.',
  ].join('\n');
  writeDoc('containers', section);
  console.log(section);
}

main().then(cleanup, (e) => { cleanup(); console.error(e); process.exit(1); });
