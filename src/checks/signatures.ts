// Known producers of inode piles: how to recognise their files, why they pile up, the fix.
// Sources: the public trackers named in each `why`. Fixes are fitted to the host: a file to edit
// is the one found here, or the advice says the program was not found and is given as such.
import type { Fix } from './types.js';
import type { HostFiles } from '../probe/host-files.js';
import { shellArg, shellArgBytes } from '../shared/fix.js';

export interface SignatureFixInput {
  /** the directory where the files were found (a real path; quote it with shellArg) */
  dir: string;
  /** the user owning most of them, when known */
  owner: string | null;
  host: HostFiles;
}

export interface Signature {
  id: string;
  name: string;
  /** regexes on one file name of the pattern (the census keeps an example) */
  names?: string[];
  /** regexes on the directory that holds them */
  dirs?: string[];
  /** the census pattern whose names carry the creator's PID, and the regex that finds it */
  pid?: { pattern: string; regex: string };
  /** temporary files: old ones open in no process are orphans (not so for caches, queues, repositories) */
  temp: boolean;
  why: string;
  /** the fixes, fitted to what is installed here */
  fix(x: SignatureFixInput): Fix[];
}

/** The directory ImageMagick is given for its temporary files in the fixes. */
const MAGICK_TMP = '/var/cache/magick-tmp';

/**
 * `enospc clean DIR --match=GLOB --older-than AGE`: the dry run (open and locked files are always
 * kept). DIR and GLOB as text, or as bytes when they are not UTF-8 (enospc clean reads them back
 * as bytes).
 */
export function cleanCommand(dir: string | Uint8Array, glob: string | Uint8Array, ageText: string, apply = false): string {
  const word = (x: string | Uint8Array) => (typeof x === 'string' ? shellArg(x) : shellArgBytes(x));
  return `enospc clean ${word(dir)} --match=${word(glob)} --older-than ${ageText}${apply ? ' --apply' : ''}`;
}

/** A program that is not installed here: the advice is generic, and says so. */
const notHere = (what: string) => `${what} was not found on this host; where it runs`;

export const SIGNATURES: Signature[] = [
  {
    id: 'imagemagick',
    name: 'ImageMagick pixel cache / delegate temp files',
    names: ['^magick-[A-Za-z0-9_-]{6,}'],
    temp: true,
    why: 'ImageMagick writes its pixel cache to magick-* files in MAGICK_TEMPORARY_PATH or TMPDIR when an image exceeds the memory and map limits of policy.xml; a process killed mid-operation (PHP-FPM request_terminate_timeout, OOM killer) never unlinks them (ImageMagick issues #139, #337, #395).',
    fix: ({ host, owner }) => {
      const policy = host.magickPolicy();
      const limits = '<policy domain="resource" name="memory" value="2GiB"/>\n<policy domain="resource" name="map" value="4GiB"/>';
      const pool = host.phpFpmPools()[0];
      const user = owner && owner !== 'root' && !/^\d+$/.test(owner) ? owner : '-';
      return [
        policy.file
          ? { text: 'Keep pixel caches in RAM: raise the memory and map limits in the policy.xml ImageMagick reads here', file: policy.file, content: limits }
          : { text: `${notHere(`ImageMagick's policy.xml (looked in ${policy.searched.map((f) => f.replace(/\/policy\.xml$/, '')).join(', ')})`)} (a container, another host), keep pixel caches in RAM: raise memory and map in its policy.xml`, content: limits },
        pool
          ? { text: 'Give ImageMagick a temporary directory of its own in the PHP-FPM pool (then reload php-fpm)', file: pool, content: `env[MAGICK_TEMPORARY_PATH] = ${MAGICK_TMP}` }
          : { text: `${notHere('PHP-FPM')}, give ImageMagick a temporary directory of its own: set MAGICK_TEMPORARY_PATH in its environment (for PHP-FPM, env[MAGICK_TEMPORARY_PATH] in the pool file)`, content: `MAGICK_TEMPORARY_PATH=${MAGICK_TMP}` },
        host.which('systemd-tmpfiles')
          ? { text: 'Create that directory and let systemd-tmpfiles clean what is left in it after 2 hours (then: systemd-tmpfiles --create)', file: '/etc/tmpfiles.d/imagemagick.conf', content: `d ${MAGICK_TMP} 0750 ${user} - 2h -` }
          : { text: `Create that directory and clean it from cron (systemd-tmpfiles is not on this host): ${cleanCommand(MAGICK_TMP, 'magick-*', '2h', true)}` },
      ];
    },
  },
  {
    id: 'opam',
    name: 'opam staging directories',
    names: ['^opam-\\d+-'],
    pid: { pattern: 'opam-*', regex: '^opam-(\\d+)-' },
    temp: true,
    why: 'opam stages downloads and builds in $TMPDIR/opam-PID-XXXXXX and leaves them when it dies; the PID in the name tells whether the creator still runs (opam #5264, #5485, PR #6695).',
    fix: ({ dir }) => [
      { text: 'Remove staging directories whose opam process is gone', command: `for d in ${shellArg(dir)}/opam-*-*; do p=\${d##*/opam-}; kill -0 "\${p%%-*}" 2>/dev/null || rm -rf -- "$d"; done` },
      { text: 'Point opam at a disk-backed temporary directory', command: 'export TMPDIR=$HOME/.cache/tmp && mkdir -p "$TMPDIR"' },
    ],
  },
  {
    id: 'php-sessions',
    name: 'PHP file sessions',
    names: ['^sess_[A-Za-z0-9,-]{16,}$'],
    temp: true,
    why: "PHP's session.save_handler=files writes one sess_* file per session; Debian sets session.gc_probability=0 and relies on the phpsessionclean timer, which may be missing or disabled.",
    fix: ({ host }) => {
      const confd = host.phpFpmConfDirs()[0];
      const gc = 'session.gc_probability = 1\nsession.gc_divisor = 1000\nsession.gc_maxlifetime = 1440';
      return [
        host.exists('/usr/lib/php/sessionclean', true)
          ? { text: 'Run the Debian session cleaner now, and keep its timer on', command: '/usr/lib/php/sessionclean && systemctl enable --now phpsessionclean.timer' }
          : { text: `${notHere("Debian's PHP session cleaner (/usr/lib/php/sessionclean)")}, run it, or the distribution's session cleanup job` },
        confd
          ? { text: 'Or let PHP collect garbage itself', file: `${confd}/99-session-gc.ini`, content: gc }
          : { text: `${notHere('PHP-FPM')}, or let PHP collect garbage itself (in its php.ini or conf.d)`, content: gc },
      ];
    },
  },
  {
    id: 'systemd-private',
    name: 'systemd PrivateTmp= directories',
    names: ['^systemd-private-[0-9a-f]{32}-'],
    temp: true,
    why: 'Each service with PrivateTmp= gets systemd-private-BOOTID-UNIT-* in /tmp and /var/tmp; those in /var/tmp survive reboots and are kept 30 days (systemd #4401).',
    fix: ({ host }) => (host.which('systemd-tmpfiles')
      ? [{ text: 'Let systemd-tmpfiles clean them by age', command: 'systemd-tmpfiles --clean' }]
      : [{ text: 'systemd-tmpfiles is not on this host: these were made by another system (a copied tree, a container); remove the ones of stopped services' }]),
  },
  {
    id: 'go-build',
    name: 'Go build work directories',
    names: ['^go-build\\d+$'],
    temp: true,
    why: '`go build`, `go run` and `go test` create go-buildNNN in $TMPDIR and leave them when killed (golang/go #39382).',
    fix: ({ host }) => [host.which('go')
      ? { text: 'Keep Go temporaries elsewhere', command: 'go env -w GOTMPDIR=$HOME/.cache/go-tmp' }
      : { text: `${notHere('go')}, keep its temporaries elsewhere`, content: 'GOTMPDIR=$HOME/.cache/go-tmp' }],
  },
  {
    id: 'pip',
    name: 'pip build directories',
    names: ['^pip-(req-build|build|install|unpack|ephem-wheel-cache|target|modern-metadata)-', '^pip-[A-Za-z0-9_]+-build$'],
    temp: true,
    why: 'pip builds in $TMPDIR/pip-*; an interrupted install leaves them (and --no-clean keeps them on purpose).',
    fix: () => [],
  },
  {
    id: 'chromium',
    name: 'headless Chromium / Puppeteer profiles and cores',
    names: ['^\\.org\\.chromium\\.Chromium\\.', '^puppeteer_dev_(chrome_)?profile-', '^core\\.headless_shell\\.', '^\\.com\\.google\\.Chrome\\.'],
    temp: true,
    why: 'Each headless Chrome launch creates a profile directory (thousands of files) and crash cores in /tmp; a killed browser leaves them (puppeteer #6414).',
    fix: () => [
      { text: 'In the program that launches the browser: a userDataDir you clean, and close browsers in a finally block', content: "const browser = await puppeteer.launch({ userDataDir: '/var/cache/puppeteer-profile' });" },
    ],
  },
  {
    id: 'npm-cache',
    name: 'npm / yarn caches',
    dirs: ['/_cacache(/|$)', '/\\.cache/yarn(/|$)', '/\\.npm(/|$)'],
    temp: false,
    why: 'npm and yarn caches grow without bound: every package version ever fetched stays.',
    fix: ({ host }) => [host.which('npm')
      ? { text: 'Verify and prune the cache (as the user who owns it)', command: 'npm cache verify' }
      : { text: `${notHere('npm')}, verify and prune the cache: npm cache verify (or yarn cache clean)` }],
  },
  {
    id: 'pycache',
    name: 'Python bytecode caches',
    names: ['\\.pyc$'],
    dirs: ['/__pycache__$'],
    temp: false,
    why: 'CPython writes one .pyc per module and interpreter version into __pycache__ beside the sources.',
    fix: () => [{ text: 'Put bytecode caches in one place (in the environment of the programs that write them)', content: 'PYTHONPYCACHEPREFIX=$HOME/.cache/pycache' }],
  },
  {
    id: 'git-objects',
    name: 'git loose objects',
    dirs: ['/\\.git/objects/[0-9a-f]{2}$'],
    temp: false,
    why: 'git writes every object as a loose file until `git gc` packs them; gc.auto may be off or never reached.',
    fix: ({ dir, host }) => {
      const repo = dir.replace(/\/\.git\/objects\/[0-9a-f]{2}$/, '');
      return [host.which('git')
        ? { text: 'Pack the repository', command: `git -C ${shellArg(repo)} gc --prune=now` }
        : { text: `${notHere('git')}, pack the repository at ${repo}: git gc --prune=now` }];
    },
  },
  {
    id: 'postfix-maildrop',
    name: 'postfix maildrop queue',
    dirs: ['/var/spool/postfix/maildrop$'],
    temp: false,
    why: 'sendmail(1) drops mail in maildrop for the pickup daemon; when postfix is not running it piles up.',
    fix: ({ host }) => (host.which('postsuper')
      ? [
        { text: 'Start postfix so pickup drains the queue', command: 'systemctl restart postfix' },
        { text: 'Or delete the queued mail', command: 'postsuper -d ALL maildrop' },
      ]
      : [{ text: 'postfix is not installed here: the queue belongs to a mail system that is gone; look at the files before removing them' }]),
  },
  {
    id: 'kubelet',
    name: 'kubelet orphaned pod volumes',
    dirs: ['/var/lib/kubelet/pods/'],
    temp: false,
    why: 'kubelet logs "Orphaned pod ... volume paths are still present on disk" and keeps the directories until they are unmounted.',
    fix: () => [{ text: 'Unmount the orphaned volume paths first, then remove the pod directories', command: 'grep /var/lib/kubelet/pods /proc/mounts' }],
  },
  {
    id: 'jenkins',
    name: 'Jenkins workspaces',
    names: ['@tmp$', '@script$', '@\\d+$'],
    temp: false,
    why: 'Jenkins keeps a workspace per job and concurrent build (JOB@2, JOB@tmp) until it is wiped.',
    fix: () => [{ text: 'Wipe workspaces after builds (cleanWs) and discard old builds, in the Jenkinsfile', content: 'post { always { cleanWs() } }' }],
  },
  {
    id: 'openmpi',
    name: 'Open MPI session directories',
    names: ['^ompi\\.', '^openmpi-sessions-'],
    temp: true,
    why: 'Open MPI creates per-job session directories in /tmp; killed jobs leave them.',
    fix: () => [{ text: "Remove them in the scheduler's epilogue, when the job ends" }],
  },
];

/** The signatures' name and directory expressions, compiled once. */
const COMPILED = SIGNATURES.map((s) => ({ s, names: (s.names ?? []).map((r) => new RegExp(r)), dirs: (s.dirs ?? []).map((r) => new RegExp(r)) }));

/** The signature that knows a pattern, by one of its names and the directory it lives in. */
export function signatureOf(example: string, dir: string): Signature | null {
  for (const c of COMPILED) {
    if (c.names.some((r) => r.test(example))) return c.s;
    if (c.dirs.some((r) => r.test(dir))) return c.s;
  }
  return null;
}

/** PID-carrying patterns, for the census. */
export function pidNames(): Array<{ pattern: string; regex: string }> {
  return SIGNATURES.flatMap((s) => (s.pid ? [s.pid] : []));
}
