// enospc doctor against the cases, rebuilt with real mounts and processes.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NOBODY, cannotMount, enospc, tmpfs, touch, unmountAll } from './helpers.js';

const children: ChildProcess[] = [];
after(() => {
  for (const c of children) c.kill('SIGKILL');
  unmountAll();
});

/** A live process holding `files` open (fds 3, 4, ...). */
async function holder(files: string[]): Promise<ChildProcess> {
  const redirs = files.map((_, i) => `${i + 3}<"$${i + 1}"`).join(' ');
  const c = spawn('sh', ['-c', `exec ${redirs}; echo ready; exec sleep 600`, 'sh', ...files], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(c);
  await new Promise<void>((resolve) => c.stdout!.once('data', () => resolve()));
  return c;
}

/** A PID that is not running now. */
function deadPid(): number {
  const r = spawnSync('sh', ['-c', 'echo $$']);
  return Number(r.stdout.toString().trim());
}

interface Json {
  exitCode: number;
  findings: Array<{ id: string; severity: string; target: string; title: string; evidence: Record<string, unknown>; culprits?: Array<Record<string, any>>; fix: Array<{ text: string; command?: string; file?: string; content?: string }> }>;
}

function doctorJson(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; json: Json; stderr: string } {
  const r = enospc(['doctor', '--json', ...args], { env });
  assert.equal(r.stderr, '', r.stderr);
  return { status: r.status, json: JSON.parse(r.stdout) as Json, stderr: r.stderr };
}

const skip = cannotMount ?? false;

describe('enospc doctor', { skip }, () => {
  test('case 000: a tmpfs out of inodes with orphaned magick-* files, diagnosed from inside it', async () => {
    const mnt = tmpfs('size=512m,nr_inodes=20000');
    fs.chmodSync(mnt, 0o1777);
    let n = 0;
    try {
      for (;;) {
        const f = `${mnt}/magick-${(n * 2654435761 % 2 ** 32).toString(36)}Xq${n % 10}`;
        touch(f, NOBODY);
        n++;
      }
    } catch (e) {
      assert.equal((e as NodeJS.ErrnoException).code, 'ENOSPC');
    }
    assert.equal(n, 19999);
    const names = fs.readdirSync(mnt);
    const old = new Date(Date.now() - 3 * 3600e3);
    for (const name of names) fs.utimesSync(`${mnt}/${name}`, old, old);
    await holder(names.slice(0, 3).map((x) => `${mnt}/${x}`));

    // the patient's condition: no inode left, and TMPDIR points into the full mount
    assert.equal(fs.statfsSync(mnt).ffree, 0);
    const { status, json } = doctorJson([mnt], { TMPDIR: mnt, TMP: mnt, TEMP: mnt });
    assert.equal(status, 2);
    assert.equal(json.exitCode, 2);
    assert.equal(fs.statfsSync(mnt).ffree, 0, 'doctor created no file');
    assert.deepEqual(fs.readdirSync(mnt).length, names.length);

    const f = json.findings.find((x) => x.id === 'inodes.full')!;
    assert.equal(f.severity, 'critical');
    assert.equal(f.target, mnt);
    assert.match(f.title, /out of inodes/);
    const c = f.culprits![0]!;
    assert.equal(c['pattern'], 'magick-*');
    assert.equal(c['count'], 19999);
    assert.equal(c['zeroByte'], 19999);
    assert.deepEqual(c['owners'], [{ uid: NOBODY, user: 'nobody', count: 19999 }]);
    assert.equal(c['openCount'], 3);
    assert.equal(c['orphan'].count, 19996);
    assert.equal(c['signature'].id, 'imagemagick');
    assert.equal(c['path'], mnt);
    assert.ok(f.fix.some((x) => x.command?.includes('remount,nr_inodes=')));
    assert.ok(f.fix.some((x) => /policy\.xml/.test(x.text)));
    assert.ok(json.findings.some((x) => x.id === 'imagemagick.pixel-cache'));

    const human = enospc(['doctor', mnt], { env: { TMPDIR: mnt } });
    assert.equal(human.status, 2);
    assert.match(human.stdout.split('\n')[0]!, new RegExp(`^${mnt}: out of inodes \\(100%\\), not space \\(\\d`));
  });

  test('case 001: a 1 GiB tmpfs with 44492 inodes; opam dirs of dead PIDs are orphans, a live one is not', async () => {
    const mnt = tmpfs('size=1g,nr_inodes=44492');
    const live = await holder([]);
    const dead = deadPid();
    for (const [pid, tag] of [[dead, '6b24e2'], [dead, '192552'], [dead + 0, 'a1b2c3'], [live.pid!, 'ffee01']] as const) {
      fs.mkdirSync(`${mnt}/opam-${pid}-${tag}`);
      for (let i = 0; i < 3; i++) touch(`${mnt}/opam-${pid}-${tag}/f${i}`);
    }
    const { status, json } = doctorJson([mnt]);
    assert.equal(status, 1);
    const low = json.findings.find((x) => x.id === 'tmpfs.nr-inodes-low')!;
    assert.equal(low.severity, 'warning');
    assert.equal(low.evidence['nrInodes'], 44492);
    assert.ok(low.fix.some((x) => x.command === `mount -o remount,nr_inodes=1m ${mnt}`));
    assert.ok(low.fix.some((x) => x.file === '/etc/fstab' && x.content?.includes('nr_inodes=1m')));
    const orphan = json.findings.find((x) => x.id === 'orphans')!;
    assert.equal(orphan.evidence['pattern'], 'opam-*');
    assert.equal(orphan.evidence['count'], 4);
    assert.equal(orphan.evidence['orphans'], 3);
    assert.equal(orphan.culprits![0]!['signature'].id, 'opam');
  });

  test('case 003: a tmpfs without inode64 is flagged, one with it is not', () => {
    const plain = tmpfs('size=1m');
    const wide = tmpfs('size=1m,inode64');
    const { json } = doctorJson([plain, wide]);
    const hits = json.findings.filter((x) => x.id === 'tmpfs.inode32');
    assert.deepEqual(hits.map((x) => x.target), [plain]);
    assert.equal(hits[0]!.severity, 'info');
    assert.ok(hits[0]!.fix.some((x) => x.command === `mount -o remount,inode64 ${plain}`));
  });

  test('a deleted file held open is reported with its pid', async () => {
    const mnt = tmpfs('size=8m');
    const file = `${mnt}/rotated.log`;
    fs.writeFileSync(file, Buffer.alloc(1 << 20, 1));
    const c = await holder([file]);
    fs.unlinkSync(file);
    const { json } = doctorJson([mnt]);
    const f = json.findings.find((x) => x.id === 'deleted-open')!;
    assert.equal(f.target, mnt);
    assert.equal(f.evidence['files'], 1);
    assert.equal(f.evidence['bytes'], 1 << 20);
    const procs = f.evidence['processes'] as Array<{ pid: number; comm: string }>;
    assert.equal(procs[0]!.pid, c.pid);
    assert.equal(procs[0]!.comm, 'sleep');
  });

  test('a loop-mounted ext4 with few inodes, filled, is out of inodes', (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'enospc-ext4-'));
    const img = `${dir}/fs.img`;
    try {
      execFileSync('truncate', ['-s', '16M', img]);
      execFileSync('mkfs.ext4', ['-q', '-N', '128', img]);
    } catch (e) {
      t.skip(`mkfs.ext4 not usable: ${(e as Error).message.split('\n')[0]}`);
      fs.rmSync(dir, { recursive: true, force: true });
      return;
    }
    const mnt = `${dir}/mnt`;
    fs.mkdirSync(mnt);
    execFileSync('mount', ['-o', 'loop', img, mnt]);
    try {
      let n = 0;
      try {
        for (;;) touch(`${mnt}/sess_${(n++ * 7919).toString(16)}a0b1c2d3e4f5`);
      } catch (e) {
        assert.equal((e as NodeJS.ErrnoException).code, 'ENOSPC');
      }
      const { status, json } = doctorJson([mnt]);
      assert.equal(status, 2);
      const f = json.findings.find((x) => x.id === 'inodes.full')!;
      assert.equal(f.severity, 'critical');
      assert.equal(f.evidence['fstype'], 'ext4');
      assert.equal(f.culprits![0]!['pattern'], 'sess_*');
      assert.equal(f.culprits![0]!['signature'].id, 'php-sessions');
    } finally {
      spawnSync('umount', [mnt]);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a healthy mount gives nothing above info, exit 0', () => {
    const mnt = tmpfs('size=64m,nr_inodes=100000,inode64');
    for (let i = 0; i < 100; i++) touch(`${mnt}/f${i}`);
    const { status, json } = doctorJson([mnt]);
    assert.equal(status, 0);
    assert.deepEqual(json.findings.filter((x) => x.severity !== 'info'), []);
    const human = enospc(['doctor', mnt]);
    assert.equal(human.status, 0);
    assert.match(human.stdout, /no cause of ENOSPC found/);
  });

  test('bad input: one line, exit 2', () => {
    for (const args of [['doctor', '/no/such/path'], ['doctor', '--budget', 'x'], ['doctor', '--image', 'big'], ['doctor', ''], ['doctor', '/proc'], ['doctor', '/proc/1/fd'], ['doctor', '/sys'], ['top', ''], ['clean', '', '--match', 'x*']]) {
      const r = enospc(args);
      assert.equal(r.status, 2, args.join(' '));
      assert.equal(r.stderr.trimEnd().split('\n').length, 1);
    }
  });
});
