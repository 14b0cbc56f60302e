// A Docker overlay2 store built by hand: two images sharing a base layer, one container, two
// overlay2 directories nobody names (what `docker system prune` leaves behind), then damage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isDockerRoot, readDockerStore } from '../src/probe/docker-store.js';
import { enospc } from './helpers.js';
import { build, c1, cA, cB, ctr, d1, imgA, imgB, initId, mountId, sha, write } from './docker-tree.js';


function withStore(fn: (root: string) => void): void {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'enospc-docker-'));
  try {
    build(root);
    fn(root);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

test('reads images, layers, containers and layer directories of a Docker overlay2 store', () => {
  withStore((root) => {
    assert.equal(isDockerRoot(root), true);
    assert.equal(isDockerRoot(path.join(root, 'overlay2')), false);
    const f = readDockerStore(root);
    assert.deepEqual(f.errors, []);
    assert.equal(f.engine, 'docker');
    assert.equal(f.driver, 'overlay2');
    assert.equal(f.layerDir, path.join(root, 'overlay2'));

    const img = new Map(f.images.map((i) => [i.id, i]));
    assert.equal(img.get(imgA)?.topLayer, cA);
    assert.equal(img.get(imgB)?.topLayer, cB);
    assert.deepEqual(img.get(imgA)?.names.sort(), ['app:1.0', 'app:latest']);
    assert.deepEqual(img.get(imgB)?.names, [`other@sha256:${sha('manifest B')}`]);
    assert.equal(img.get(imgA)?.created, '2024-01-01T00:00:00Z');

    const lay = new Map(f.layers.map((l) => [l.id, l]));
    assert.equal(f.layers.length, 5);
    assert.deepEqual(lay.get(c1), {
      id: c1, parent: null, diffDigest: `sha256:${d1}`, diffSize: 100, created: null, uidmap: [], gidmap: [],
      incomplete: false, volatile: false, dirName: 'cache1',
    });
    assert.equal(lay.get(cA)?.parent, c1);
    assert.equal(lay.get(cA)?.dirName, 'cacheA');
    assert.equal(lay.get(cB)?.parent, c1);
    assert.equal(lay.get(cB)?.diffSize, 300);
    assert.equal(lay.get(initId)?.parent, cA);
    assert.equal(lay.get(initId)?.dirName, initId);
    assert.equal(lay.get(mountId)?.parent, initId);
    assert.equal(lay.get(mountId)?.dirName, mountId);

    assert.deepEqual(f.containers, [{ id: ctr, names: ['web'], image: imgA, layers: [mountId, initId], uidmap: [], gidmap: [] }]);

    assert.ok(f.dirNames);
    const dirs = f.dirNames;
    assert.ok(dirs.includes('dangling1') && dirs.includes('dangling2'));
    assert.ok(!dirs.includes('l'));
    assert.equal(dirs.length, 7);
    const named = new Set(f.layers.map((l) => l.dirName));
    assert.deepEqual(dirs.filter((d) => !named.has(d)), ['dangling1', 'dangling2']);
  });
});

test('half-written JSON and a missing cache-id are reported, the rest is still read', () => {
  withStore((root) => {
    const meta = path.join(root, 'image', 'overlay2');
    const truncate = (file: string): void => {
      const text = fs.readFileSync(file, 'utf8');
      fs.writeFileSync(file, text.slice(0, Math.floor(text.length / 2)));
    };
    const imgFile = path.join(meta, 'imagedb', 'content', 'sha256', imgB);
    const repoFile = path.join(meta, 'repositories.json');
    const cacheFile = path.join(meta, 'layerdb', 'sha256', cB, 'cache-id');
    truncate(imgFile);
    truncate(repoFile);
    fs.rmSync(cacheFile);

    const f = readDockerStore(root);
    const byFile = new Map(f.errors.map((e) => [e.file, e.error]));
    assert.equal(f.errors.length, 3, JSON.stringify(f.errors));
    assert.match(byFile.get(imgFile) ?? '', /^not valid JSON \(half-written\?\): /);
    assert.match(byFile.get(repoFile) ?? '', /^not valid JSON \(half-written\?\): /);
    assert.equal(byFile.get(cacheFile), 'missing');

    const lay = new Map(f.layers.map((l) => [l.id, l]));
    assert.equal(lay.get(cB)?.incomplete, true);
    assert.equal(lay.get(cB)?.dirName, null);
    assert.equal(lay.get(cB)?.diffSize, 300);
    assert.equal(lay.get(cA)?.dirName, 'cacheA');
    assert.equal(f.layers.length, 5);

    const img = new Map(f.images.map((i) => [i.id, i]));
    assert.equal(img.get(imgA)?.topLayer, cA);
    assert.deepEqual(img.get(imgA)?.names, []);
    assert.equal(img.get(imgB)?.topLayer, null);
    assert.equal(f.containers[0]?.image, imgA);
    assert.equal(f.dirNames?.length, 7);
  });
});

test('a root that does not exist gives an error, not an exception', () => {
  const f = readDockerStore('/nonexistent/enospc-docker');
  assert.deepEqual(f.errors, [{ file: '/nonexistent/enospc-docker', error: 'missing' }]);
  assert.equal(f.dirNames, null);
  assert.equal(isDockerRoot('/nonexistent/enospc-docker'), false);
});

test('enospc containers --root on a Docker store: dangling overlay2 directories and an unused layer, counted', () => {
  withStore((root) => {
    // a layer no image or container uses, and some files in a dangling directory
    const lone = sha('lonely');
    const dir = path.join(root, 'image', 'overlay2', 'layerdb', 'sha256', lone);
    write(path.join(dir, 'diff'), `sha256:${sha('lonely diff')}`);
    write(path.join(dir, 'size'), '5');
    write(path.join(dir, 'cache-id'), 'cacheLone');
    fs.mkdirSync(path.join(root, 'overlay2', 'cacheLone', 'diff'), { recursive: true });
    for (let i = 0; i < 10; i++) write(path.join(root, 'overlay2', 'dangling1', 'diff', `f${i}`), 'x');

    const r = enospc(['containers', '--root', root, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout).stores[0];
    assert.equal(s.engine, 'docker');
    assert.deepEqual(s.strayDirs.map((d: { name: string; inodes: number }) => [d.name, d.inodes]), [['dangling1', 13], ['dangling2', 3]]);
    assert.deepEqual(s.unreferenced.map((u: { id: string; inodes: number }) => [u.id, u.inodes]), [[lone, 2]]);
    assert.equal(s.totals.copies.count, 0);
    const webLayer = s.images.find((i: { id: string }) => i.id === imgA).topLayer;
    assert.deepEqual(webLayer.containers.map((c: { names: string[] }) => c.names), [['web']]);
    const fixes = s.advice.unreferenced.fixes.map((f: { command?: string }) => f.command ?? '').join('\n');
    assert.match(fixes, /docker image prune -a/);
    assert.match(fixes, /overlay2\/dangling1/);

    const h = enospc(['containers', '--root', root]);
    assert.match(h.stdout, /Directories in overlay2\/ named by no layer or container: 2, 16 inodes/);
  });
});

test('enospc containers: bad --root is one line and exit 2', () => {
  for (const [arg, msg] of [['/nonexistent', /no such file or directory/], ['/etc/passwd', /not a directory/], ['/etc', /not a container store/]] as const) {
    const r = enospc(['containers', '--root', arg]);
    assert.equal(r.status, 2, arg);
    assert.match(r.stderr, msg);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  }
});
