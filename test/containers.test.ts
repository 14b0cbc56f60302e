// enospc containers against a real podman store (case 002): a small image imported, three
// containers created with different non-contiguous --uidmap/--gidmap sets and removed again,
// which leaves three ID-mapped copies of the image's layer. The store lives on a tmpfs of its
// own, named by CONTAINERS_STORAGE_CONF so podman and enospc both use it and nothing else.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { NOBODY, cannotMount, enospc, tmpfs, unmountAll } from './helpers.js';
import { atLeast } from '../src/containers/explain.js';
import { parseStorageConf, expandRootless } from '../src/probe/storage-conf.js';
import { analyze } from '../src/containers/analyze.js';
import { estimate } from '../src/containers/measure.js';
import { readPodmanStore } from '../src/probe/podman-store.js';

const hasPodman = spawnSync('podman', ['--version']).status === 0;
const skip = cannotMount ?? (hasPodman ? undefined : 'podman is not installed (.ci/run installs it)');
if (skip) console.log(`# skipping podman tests: ${skip}`);

const OFFSETS = [100000, 200000, 300000];
const mapArgs = (o: number) => ['--uidmap', `0:${o}:65536`, '--uidmap', '531571:531571:1', '--gidmap', `0:${o}:65536`, '--gidmap', '531571:531571:1'];

interface Layer { id: string; inodes: number | null; bytes: number | null; count: string; uidmap: Array<{ containerId: number; hostId: number; size: number }>; listed?: boolean; containers: unknown[] }
interface Store {
  root: string; engine: string; images: Array<{ names: string[]; topLayer: Layer; copies: Layer[] }>;
  unreferenced: Array<Layer & { reason: string }>; strayDirs: Array<{ name: string; inodes: number }>;
  totals: { copies: { count: number; inodes: number; complete: boolean } };
  advice: { copies: { why: string[]; fixes: Array<{ text: string; command?: string }> } | null; unreferenced: unknown };
  errors: Array<{ file: string; error: string }>;
}
/** the host ID container ID 0 maps to (podman may store the ranges in another order) */
const hostOf0 = (l: Layer) => l.uidmap.find((e) => e.containerId === 0)!.hostId;
interface Finding { id: string; severity: string; target: string; evidence: Record<string, unknown> }

describe('enospc containers on a real podman store', { skip }, () => {
  let base = '';
  let root = '';
  let env: NodeJS.ProcessEnv = {};
  const podman = (args: string[]) => execFileSync('podman', args, { env: { ...process.env, ...env }, stdio: 'pipe', encoding: 'utf8' });

  before(() => {
    base = tmpfs('size=64m,nr_inodes=4000');
    root = path.join(base, 'storage');
    fs.writeFileSync(path.join(base, 'storage.conf'), `[storage]\ndriver = "overlay"\ngraphroot = "${root}"\nrunroot = "${base}/run"\n`);
    env = { CONTAINERS_STORAGE_CONF: path.join(base, 'storage.conf') };
    // a small rootfs: 20 files in etc, a few directories
    const rfs = path.join(base, 'rootfs');
    for (const d of ['bin', 'etc', 'tmp', 'usr/lib']) fs.mkdirSync(path.join(rfs, d), { recursive: true });
    for (let i = 1; i <= 20; i++) fs.writeFileSync(path.join(rfs, 'etc', `f${i}`), `${i}\n`);
    execFileSync('tar', ['-C', rfs, '-cf', path.join(base, 'rootfs.tar'), '.']);
    podman(['import', path.join(base, 'rootfs.tar'), 'localhost/tiny:1']);
    for (const o of OFFSETS) podman(['create', '--name', `c${o}`, ...mapArgs(o), 'localhost/tiny:1', '/bin/true']);
    podman(['rm', ...OFFSETS.map((o) => `c${o}`)]);
  });
  after(() => {
    spawnSync('podman', ['rm', '-a', '-f'], { env: { ...process.env, ...env } });
    unmountAll();
  });

  const run = (args: string[]) => {
    const r = enospc(['containers', ...args], { env });
    return { ...r, json: r.stdout.startsWith('{') ? JSON.parse(r.stdout) : null };
  };

  test('three ID-mapped copies of the image layer, with their inode counts and mappings', () => {
    const r = run(['--root', root, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const s: Store = r.json.stores[0];
    assert.equal(s.engine, 'podman');
    assert.equal(s.images.length, 1);
    const img = s.images[0]!;
    assert.deepEqual(img.names, ['localhost/tiny:1']);
    assert.equal(img.copies.length, 3);
    // the copy is a chowned copy of the whole layer: as many inodes as the layer itself
    const topInodes = img.topLayer.inodes!;
    const found = execFileSync('find', [path.join(root, 'overlay', img.topLayer.id)], { encoding: 'utf8' }).trim().split('\n').length;
    assert.equal(topInodes, found);
    for (const c of img.copies) {
      assert.equal(c.count, 'counted');
      assert.equal(c.listed, true);
      assert.equal(c.inodes, execFileSync('find', [path.join(root, 'overlay', c.id)], { encoding: 'utf8' }).trim().split('\n').length);
      assert.ok(c.inodes! >= 25 && c.bytes! > 0, `copy ${c.id}: ${c.inodes} inodes`);
      assert.deepEqual(c.containers, []);
    }
    assert.deepEqual(img.copies.map((c) => hostOf0(c)).sort(), OFFSETS);
    assert.equal(s.totals.copies.count, 3);
    assert.equal(s.totals.copies.inodes, img.copies.reduce((n, c) => n + c.inodes!, 0));
    assert.equal(s.totals.copies.complete, true);
    assert.deepEqual(s.unreferenced, []);
    assert.deepEqual(s.strayDirs, []);
    const v = r.json.podman as string;
    assert.match(v, /^\d+\.\d+/);
    const why = s.advice.copies!.why.join(' ');
    if (atLeast(v, '5.6') === false) assert.match(why, /predates Podman 5\.6/);
    assert.ok(s.advice.copies!.fixes.some((f) => f.command === `podman --root ${root} rmi localhost/tiny:1`));
  });

  test('a container on a copy is named with it; the human report shows copies and the fix', () => {
    podman(['create', '--name', 'keep', ...mapArgs(OFFSETS[1]!), 'localhost/tiny:1', '/bin/true']);
    try {
      const r = run(['--root', root, '--json']);
      const img = (r.json.stores[0] as Store).images[0]!;
      assert.equal(img.copies.length, 3, 'the same mapping reuses its copy');
      const on = img.copies.filter((c) => c.containers.length);
      assert.equal(on.length, 1);
      assert.equal(hostOf0(on[0]!), OFFSETS[1]);
      assert.deepEqual((on[0]!.containers[0] as { names: string[] }).names, ['keep']);
      const h = run(['--root', root]);
      assert.equal(h.status, 0);
      assert.match(h.stdout, /ID-mapped copies: 3 of 1 image, \d+ inodes/);
      assert.match(h.stdout, /0:200000:65536,531571:531571:1/);
      assert.match(h.stdout, new RegExp(`podman --root ${root} rm keep && podman --root ${root} rmi localhost/tiny:1`));
    } finally {
      podman(['rm', 'keep']);
    }
  });

  test('doctor: containers.idmapped-copies is info, then a warning once the store\'s mount is short of inodes', () => {
    const d1 = enospc(['doctor', base, '--json'], { env });
    const f1 = (JSON.parse(d1.stdout).findings as Finding[]).find((f) => f.id === 'containers.idmapped-copies');
    assert.ok(f1, d1.stdout);
    assert.equal(f1.severity, 'info');
    assert.equal(f1.target, root);
    assert.equal(f1.evidence['copies'], 3);
    // fill the tmpfs until fewer than 10% of its inodes are free
    const st = fs.statfsSync(base);
    const fill = path.join(base, 'fill');
    fs.mkdirSync(fill);
    for (let i = 0; i < st.ffree - Math.floor(st.files * 0.05); i++) fs.writeFileSync(path.join(fill, `f${i}`), '');
    try {
      const d2 = enospc(['doctor', base, '--json'], { env });
      const f2 = (JSON.parse(d2.stdout).findings as Finding[]).find((f) => f.id === 'containers.idmapped-copies')!;
      assert.equal(f2.severity, 'warning');
      assert.ok((f2.evidence['mountInodesUsedPercent'] as number) > 90);
    } finally {
      fs.rmSync(fill, { recursive: true });
    }
  });

  test('as a user who cannot read the store: it is there, unreadable, and the exit status says so', () => {
    assert.equal(fs.statSync(root).mode & 0o777, 0o700);
    const r = enospc(['containers'], { env, uid: NOBODY });
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stderr, `enospc: the podman store ${root} is there but cannot be read: permission denied (run as root)\n`);
    assert.match(r.stdout, /^no container store could be read \(/);
    assert.match(r.stdout, new RegExp(`^not seen without root: the podman store ${root} is there but cannot be read`, 'm'));
    const j = JSON.parse(enospc(['containers', '--json'], { env, uid: NOBODY }).stdout) as { stores: unknown[]; denied: Array<{ root: string | null; engine: string }> };
    assert.deepEqual(j.stores, []);
    assert.ok(j.denied.some((d) => d.root === root && d.engine === 'podman'));
    const d = JSON.parse(enospc(['doctor', '--json'], { env, uid: NOBODY }).stdout) as { unknown: Array<{ what: string; error: string; kind: string }> };
    assert.ok(d.unknown.some((u) => u.what === 'container stores' && u.kind === 'needs-root' && u.error.includes(root)), JSON.stringify(d.unknown));
  });

  test('unreferenced layers, a copy missing from mapped-layers, stray directories; corrupt JSON gives a clear message', () => {
    // a copy of the metadata (enospc never writes to a store; the test changes its own copy)
    const copy = path.join(base, 'copy');
    for (const d of ['overlay-layers', 'overlay-images', 'overlay-containers']) fs.cpSync(path.join(root, d), path.join(copy, d), { recursive: true });
    fs.cpSync(path.join(root, 'overlay'), path.join(copy, 'overlay'), { recursive: true, verbatimSymlinks: true });
    const lf = path.join(copy, 'overlay-layers', 'layers.json');
    const layers = JSON.parse(fs.readFileSync(lf, 'utf8')) as Array<Record<string, unknown>>;
    layers.push({ id: 'f'.repeat(64), created: '2026-01-01T00:00:00Z', 'diff-digest': 'sha256:' + '1'.repeat(64) });
    layers.push({ id: 'e'.repeat(64), flags: { incomplete: true } });
    fs.writeFileSync(lf, JSON.stringify(layers));
    const imf = path.join(copy, 'overlay-images', 'images.json');
    const images = JSON.parse(fs.readFileSync(imf, 'utf8')) as Array<{ 'mapped-layers': string[] }>;
    const dropped = images[0]!['mapped-layers'].pop()!;
    fs.writeFileSync(imf, JSON.stringify(images));
    fs.mkdirSync(path.join(copy, 'overlay', 'f'.repeat(64), 'diff'), { recursive: true });
    fs.mkdirSync(path.join(copy, 'overlay', 'stray1', 'diff', 'a', 'b'), { recursive: true });
    fs.writeFileSync(path.join(copy, 'overlay', 'stray1', 'diff', 'a', 'x'), 'x');

    const r = run(['--root', copy, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const s: Store = r.json.stores[0];
    const img = s.images[0]!;
    assert.equal(img.copies.length, 3, 'found as a sibling of the top layer');
    assert.equal(img.copies.find((c) => c.id === dropped)!.listed, false);
    assert.deepEqual(s.unreferenced.map((u) => [u.id[0], u.reason]).sort(), [['e', 'incomplete: its creation was interrupted'], ['f', 'used by no image and no container']]);
    assert.equal(s.unreferenced.find((u) => u.id[0] === 'f')!.inodes, 2);
    assert.deepEqual(s.strayDirs.map((d) => [d.name, d.inodes]), [['stray1', 5]]);
    const doc = JSON.parse(run(['--root', copy, '--json']).stdout);
    assert.ok(doc.stores[0].advice.unreferenced.fixes.length > 0);

    // a half-written images.json: one line, exit 1, what could be read is still reported
    const text = fs.readFileSync(imf, 'utf8');
    fs.writeFileSync(imf, text.slice(0, text.length / 2));
    const bad = run(['--root', copy]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /^enospc: cannot read .*images\.json: not valid JSON \(half-written or corrupt\): .+\n$/);
    assert.doesNotMatch(bad.stderr, /\n\s+at /);
    assert.match(bad.stdout, /layers, 0 images/);
    const badJson = run(['--root', copy, '--json']).json;
    assert.equal(badJson.stores[0].errors.length, 1);
  });

  test('rootless stores are found in every user\'s home, with the user\'s storage.conf', () => {
    const user = 'enospc-rootless';
    const home = path.join(base, 'home');
    spawnSync('userdel', [user]);
    execFileSync('useradd', ['-M', '-d', home, '-s', '/usr/sbin/nologin', user]);
    try {
      const store = path.join(home, '.local/share/containers/storage');
      for (const d of ['overlay-layers', 'overlay-images', 'overlay-containers', 'overlay']) fs.cpSync(path.join(root, d), path.join(store, d), { recursive: true, verbatimSymlinks: true });
      fs.mkdirSync(path.join(home, '.config/containers'), { recursive: true });
      fs.writeFileSync(path.join(home, '.config/containers/storage.conf'), '[storage]\ndriver = "overlay"\n[storage.options.overlay]\nmount_program = "/usr/bin/fuse-overlayfs"\n');
      execFileSync('chown', ['-R', `${user}:${user}`, home]);
      const r = run(['--json']);
      assert.equal(r.status, 0, r.stderr);
      const stores = r.json.stores as Array<Store & { rootless: boolean; owner: { user: string }; mountProgram: string; config: string }>;
      assert.ok(stores.some((x) => x.root === root && !x.rootless), 'the system store, from CONTAINERS_STORAGE_CONF');
      const mine = stores.find((x) => x.root === store)!;
      assert.ok(mine, JSON.stringify(stores.map((x) => x.root)));
      assert.deepEqual([mine.rootless, mine.owner.user, mine.mountProgram], [true, user, '/usr/bin/fuse-overlayfs']);
      assert.equal(mine.config, path.join(home, '.config/containers/storage.conf'));
      assert.equal(mine.images[0]!.copies.length, 3);
      const why = mine.advice.copies!.why.join(' ');
      assert.match(why, /fuse-overlayfs/);
      assert.match(why, /rootless store/);
      assert.match(mine.advice.copies!.fixes[0]!.text, new RegExp(`as ${user}`));
      assert.equal(mine.advice.copies!.fixes[0]!.command, 'podman rmi localhost/tiny:1');
    } finally {
      spawnSync('userdel', [user]);
      fs.rmSync(home, { recursive: true, force: true });
    }
  });

  test('--budget 0: nothing counted, every count says so', () => {
    const r = run(['--root', root, '--json', '--budget', '0']);
    assert.equal(r.status, 0);
    const img = (r.json.stores[0] as Store).images[0]!;
    for (const c of img.copies) assert.deepEqual([c.inodes, c.count], [null, 'not-counted']);
    assert.equal(r.json.scan.outOfTime, true);
    assert.match(run(['--root', root, '--budget', '0']).stdout, /budget ran out/);
  });
});

test('storage.conf, versions, estimates from a counted copy', () => {
  const c = parseStorageConf('[storage]\ndriver = "overlay"\ngraphroot = "/srv/c"\nrootless_storage_path = "$HOME/.c/$UID"\n[storage.options.overlay]\nmount_program = "/usr/bin/fuse-overlayfs"\n', 'f');
  assert.deepEqual([c.driver, c.graphRoot, c.mountProgram], ['overlay', '/srv/c', '/usr/bin/fuse-overlayfs']);
  assert.equal(expandRootless(c.rootlessStoragePath!, '/home/a', 1000, 'a'), '/home/a/.c/1000');
  assert.equal(parseStorageConf('[storage.options]\nmount_program = "/bin/fo"\n', 'f').mountProgram, '/bin/fo');
  assert.throws(() => parseStorageConf('[storage\n', 'f'));
  assert.equal(atLeast('4.3.1', '5.6'), false);
  assert.equal(atLeast('5.6.0', '5.6'), true);
  assert.equal(atLeast('5.10.1', '5.6'), true);
  assert.equal(atLeast(null, '5.6'), null);

  // estimates: a copy not counted takes the count of a counted layer with the same digest
  const dir = fs.mkdtempSync('/var/tmp/enospc-est-');
  try {
    const layers = [
      { id: 'top', 'diff-digest': 'sha256:d' },
      { id: 'c1', 'diff-digest': 'sha256:d', uidmap: [{ container_id: 0, host_id: 1, size: 10 }] },
      { id: 'c2', 'diff-digest': 'sha256:d', uidmap: [{ container_id: 0, host_id: 2, size: 10 }] },
    ];
    fs.mkdirSync(path.join(dir, 'overlay-layers'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'overlay-layers', 'layers.json'), JSON.stringify(layers));
    fs.mkdirSync(path.join(dir, 'overlay-images'));
    fs.writeFileSync(path.join(dir, 'overlay-images', 'images.json'), JSON.stringify([{ id: 'img', layer: 'top', 'mapped-layers': ['c1'] }]));
    for (const l of layers) fs.mkdirSync(path.join(dir, 'overlay', l.id), { recursive: true });
    fs.writeFileSync(path.join(dir, 'overlay-layers', 'volatile-layers.json'), JSON.stringify([{ id: 'vol', parent: 'top' }]));
    const facts = readPodmanStore(dir, 'overlay');
    assert.deepEqual(facts.layers.filter((l) => l.volatile).map((l) => l.id), ['vol']);
    assert.deepEqual(facts.errors, []);
    const a = analyze(facts);
    assert.deepEqual(a.missingDirs, ['vol']);
    assert.deepEqual(a.images[0]!.copies.map((x) => x.id), ['c1', 'c2']);
    Object.assign(a.images[0]!.top!.size, { inodes: 500, bytes: 4096, how: 'counted' });
    estimate([a]);
    for (const x of a.images[0]!.copies) assert.deepEqual([x.size.inodes, x.size.how, x.size.from], [500, 'estimated', 'top']);
  } finally {
    fs.rmSync(dir, { recursive: true });
  }
});

test('treeSizes: two threads count like find, hard links once; a passed deadline counts nothing', async () => {
  const { treeSizes } = await import('../src/scan/tree-sizes.js');
  const dir = fs.mkdtempSync('/var/tmp/enospc-sizes-');
  try {
    const paths: string[] = [];
    for (let k = 0; k < 6; k++) {
      const p = path.join(dir, `L${k}`);
      fs.mkdirSync(path.join(p, 'a', 'b'), { recursive: true });
      for (let i = 0; i < 50 * (k + 1); i++) fs.writeFileSync(path.join(p, 'a', `f${i}`), 'x');
      fs.linkSync(path.join(p, 'a', 'f0'), path.join(p, 'a', 'b', 'hard'));
      paths.push(p);
    }
    const got = await treeSizes(paths, performance.now() + 60_000);
    got.forEach((g, k) => {
      const find = Number(execFileSync('sh', ['-c', `find ${paths[k]} | wc -l`], { encoding: 'utf8' }));
      assert.deepEqual(g && 'inodes' in g ? [g.inodes, g.partial] : g, [find - 1, false], `L${k}`);
    });
    assert.deepEqual(await treeSizes(paths, performance.now() - 1), paths.map(() => null));
    const missing = await treeSizes([path.join(dir, 'nope')], performance.now() + 1000);
    assert.deepEqual(missing, [{ error: true }]);
  } finally {
    fs.rmSync(dir, { recursive: true });
  }
});
