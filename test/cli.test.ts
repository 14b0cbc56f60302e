// One tool, one voice (issue 19): every --help gives its exit codes, the manual page holds every
// option --help gives (both come from one command tree), completions for bash, zsh and fish
// that the shells accept (bash: run for real), one error prefix, and the configuration file.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { CLI, NOBODY, cannotMount, enospc, tmpfs, unmountAll } from './helpers.js';

const COMMANDS = ['doctor', 'inotify', 'top', 'trace', 'catch', 'clean', 'agent', 'fleet', 'history', 'forecast', 'containers', 'completion'];
const MAN = new URL('../../dist/man/enospc.1', import.meta.url).pathname;
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

test('every command\'s --help lists its exit status; the manual page has every option and command', () => {
  const man = fs.readFileSync(MAN, 'utf8');
  const manText = man.replace(/\\-/g, '-').replace(/\\e/g, '\\');
  for (const c of COMMANDS) {
    const help = enospc([c, '--help']);
    assert.equal(help.status, 0, c);
    assert.match(help.stdout, /Exit status/, `${c} --help gives its exit status`);
    assert.ok(manText.includes(`.SS "enospc ${c} `), `the manual has a section for ${c}`);
    for (const m of help.stdout.matchAll(/^ {2}(-\w, )?(--[a-z-]+)/gm)) {
      if (m[2] === '--help') continue;
      assert.ok(manText.includes(m[2]!), `the manual has ${c} ${m[2]}`);
    }
  }
  const top = enospc(['--help']).stdout;
  assert.match(top, /Exit status, for every command/);
  if (has('man')) {
    const r = spawnSync('man', ['-l', MAN], { encoding: 'utf8', env: { ...process.env, MANPAGER: 'cat', PAGER: 'cat', MANWIDTH: '100' } });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^NAME\n\s+enospc - Find out why Linux says/m);
    assert.match(r.stdout, /EXIT STATUS/);
  }
});

test('the option parser\'s errors and the tool\'s share one prefix: one line, exit 2', () => {
  for (const args of [['top', '--bogus', '.'], ['top'], ['frob'], ['top', '.', '--by', 'colour'], ['inotify', '--pid', 'abc'], ['completion', 'tcsh']]) {
    const r = enospc(args);
    assert.equal(r.status, 2, args.join(' '));
    assert.equal(r.stderr.split('\n').filter(Boolean).length, 1, r.stderr);
    assert.match(r.stderr, /^enospc: /, r.stderr);
  }
  assert.match(enospc(['inotify', '--pid', 'abc']).stderr, /--pid takes a process ID/);
});

describe('completion', () => {
  test('bash: the script parses, and completes commands, options, choices and shells', () => {
    const script = enospc(['completion', 'bash']).stdout;
    const run = (words: string[]) => spawnSync('bash', ['-c', `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _enospc; printf '%s\\n' "\${COMPREPLY[@]}"`], { encoding: 'utf8' });
    assert.equal(spawnSync('bash', ['-n'], { input: script }).status, 0);
    assert.deepEqual(run(['enospc', 'do']).stdout.split('\n').filter(Boolean), ['doctor']);
    assert.deepEqual(run(['enospc', 'top', '--cr']).stdout.split('\n').filter(Boolean), ['--cross-mounts']);
    assert.deepEqual(run(['enospc', 'top', '--by', 'o']).stdout.split('\n').filter(Boolean), ['owners']);
    assert.deepEqual(run(['enospc', 'completion', '']).stdout.split('\n').filter(Boolean), ['bash', 'zsh', 'fish']);
    assert.ok(run(['enospc', 'clean', '--']).stdout.includes('--older-than'));
  });

  for (const shell of ['zsh', 'fish']) {
    test(`${shell}: the script parses`, { skip: has(shell) ? false : `no ${shell} here` }, () => {
      const script = enospc(['completion', shell]).stdout;
      assert.match(script, /doctor/);
      // (fish -n -c exits 0 even on a syntax error: its stderr tells)
      const r = shell === 'fish' ? spawnSync('fish', ['-n', '-c', script], { encoding: 'utf8' }) : spawnSync('zsh', ['-n'], { input: script, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr, '');
      if (shell === 'fish') {
        const c = spawnSync('fish', ['-c', `${script}\ncomplete -C 'enospc top --by '`], { encoding: 'utf8' });
        assert.deepEqual(c.stdout.split('\n').filter(Boolean).map((l) => l.split('\t')[0]), ['ages', 'dirs', 'owners', 'patterns']);
      }
    });
  }
});

describe('the configuration file', { skip: cannotMount ?? false }, () => {
  after(() => unmountAll());

  test('bad files: one line with the key and why, exit 2', () => {
    const dir = tmpfs('size=1m,nr_inodes=100');
    const cases: Array<[string, RegExp]> = [
      ['orphan_agee = 3\n', /unknown key 'orphan_agee'/],
      ['[thresholds]\nfree_warning_percent = "x"\n', /thresholds\.free_warning_percent must be a number between 0 and 100/],
      ['[thresholds]\nfree_warning_percent = 2\n', /free_critical_percent must be below free_warning_percent/],
      ['exclude_mounts = "/boot"\n', /exclude_mounts must be a list of strings/],
      ['watch = ["relative/path"]\n', /watch: 'relative\/path' is not an absolute path/],
      ['orphan_age = "soon"\n', /orphan_age must be a duration/],
      ['this is not toml\n', /not valid TOML/],
    ];
    for (const [text, re] of cases) {
      fs.writeFileSync(`${dir}/c.toml`, text);
      for (const args of [['--config', `${dir}/c.toml`, 'doctor', dir], ['doctor', dir, '--config', `${dir}/c.toml`]]) {
        const r = enospc(args);
        assert.equal(r.status, 2, text + r.stderr);
        assert.equal(r.stderr.split('\n').filter(Boolean).length, 1, r.stderr);
        assert.match(r.stderr, new RegExp(`^enospc: --config ${dir}/c\\.toml: `));
        assert.match(r.stderr, re);
      }
    }
    assert.match(enospc(['--config', `${dir}/missing.toml`, 'doctor', dir]).stderr, /missing\.toml: cannot read it: ENOENT/);
  });

  test('the system file closed to a user: said once on stderr, the defaults apply, exit as usual', { skip: fs.existsSync('/etc/enospc') ? '/etc/enospc exists here: not touched' : false }, () => {
    fs.mkdirSync('/etc/enospc');
    try {
      fs.writeFileSync('/etc/enospc/config.toml', 'orphan_age = "2h"\n', { mode: 0o600 });
      const r = enospc(['top', '/'], { uid: NOBODY });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /^enospc: \/etc\/enospc\/config\.toml: cannot read it as this user \(permission denied\): its settings are not applied$/m);
      // root reads it: a bad key there is bad input
      fs.writeFileSync('/etc/enospc/config.toml', 'nope = 1\n');
      const bad = enospc(['top', '/']);
      assert.equal(bad.status, 2);
      assert.match(bad.stderr, /^enospc: \/etc\/enospc\/config\.toml: unknown key 'nope'$/m);
    } finally {
      fs.rmSync('/etc/enospc', { recursive: true, force: true });
    }
  });

  test('excluded mounts are not checked; thresholds move the severity; the command line wins over orphan_age', () => {
    const full = tmpfs('size=4m,nr_inodes=100');
    for (let i = 0; i < 92; i++) fs.writeFileSync(`${full}/f${i}`, '');
    const findingsOf = (args: string[]) => {
      const r = enospc(['doctor', '--json', '--budget', '2', ...args]);
      return (JSON.parse(r.stdout) as { findings: Array<{ id: string; severity: string; target: string }> }).findings.filter((f) => f.target === full);
    };
    // ~8% free: a warning by default
    assert.equal(findingsOf([]).find((f) => f.id === 'inodes.full')?.severity, 'warning');
    const dir = tmpfs('size=1m,nr_inodes=100');
    fs.writeFileSync(`${dir}/exclude.toml`, `exclude_mounts = ["${full.replace(/[^/]+$/, '*')}"]\n`);
    assert.deepEqual(findingsOf(['--config', `${dir}/exclude.toml`]), [], 'the excluded mount is not checked');
    fs.writeFileSync(`${dir}/strict.toml`, '[thresholds]\nfree_warning_percent = 20\nfree_critical_percent = 9\n');
    assert.equal(findingsOf(['--config', `${dir}/strict.toml`]).find((f) => f.id === 'inodes.full')?.severity, 'critical');
    // a PATH given is looked at even when its mount is excluded
    const named = JSON.parse(enospc(['doctor', '--json', '--budget', '2', '--config', `${dir}/exclude.toml`, full]).stdout) as { findings: Array<{ target: string }> };
    assert.ok(named.findings.some((f) => f.target === full));
  });

  test('excluded paths are not entered by doctor\'s census', () => {
    const full = tmpfs('size=4m,nr_inodes=200');
    fs.mkdirSync(`${full}/skip`);
    for (let i = 0; i < 120; i++) fs.writeFileSync(`${full}/skip/magick-${String(i).padStart(8, '0')}`, '');
    for (let i = 0; i < 60; i++) fs.writeFileSync(`${full}/opam-${i}-x`, '');
    const dir = tmpfs('size=1m,nr_inodes=100');
    fs.writeFileSync(`${dir}/paths.toml`, `exclude_paths = ["${full}/skip"]\n`);
    const culprits = (args: string[]) => {
      const r = enospc(['doctor', '--json', '--budget', '5', ...args, full]);
      const j = JSON.parse(r.stdout) as { findings: Array<{ culprits?: Array<{ pattern: string; count: number }> }> };
      return j.findings.flatMap((f) => f.culprits ?? []).map((c) => c.pattern);
    };
    assert.ok(culprits([]).includes('magick-*'));
    const without = culprits(['--config', `${dir}/paths.toml`]);
    assert.ok(!without.includes('magick-*'), without.join(', '));
  });
});

describe('the configuration file and the agent', { skip: cannotMount ?? false }, () => {
  after(() => unmountAll());

  test('agent --once: an excluded mount is not sampled; a watched path from the file has its patterns', () => {
    const kept = tmpfs('size=1m,nr_inodes=100');
    const gone = tmpfs('size=1m,nr_inodes=100');
    const work = tmpfs('size=16m,nr_inodes=1000');
    fs.mkdirSync(`${work}/uploads`);
    for (let i = 0; i < 12; i++) fs.writeFileSync(`${work}/uploads/upload-${String(i).padStart(6, '0')}.part`, '');
    fs.writeFileSync(`${work}/c.toml`, `exclude_mounts = ["${gone}"]\nwatch = ["${work}/uploads"]\n`);
    fs.mkdirSync(`${work}/text`);
    const r = enospc(['agent', '--once', '--config', `${work}/c.toml`, '--db', `${work}/h.db`, '--textfile', `${work}/text`]);
    assert.equal(r.status, 0, r.stderr);
    const prom = fs.readFileSync(`${work}/text/enospc.prom`, 'utf8');
    assert.ok(prom.includes(`mountpoint="${kept}"`), 'a mount not excluded is sampled');
    assert.ok(!prom.includes(`mountpoint="${gone}"`), 'the excluded mount is not');
    assert.match(prom, new RegExp(`enospc_pattern_files\\{[^}]*mountpoint="${work}"[^}]*pattern="upload-\\*\\.part"`));
  });
});

test('the CLI file is there', () => assert.ok(fs.existsSync(CLI)));
