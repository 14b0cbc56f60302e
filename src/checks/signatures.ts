// Known producers of inode piles: how to recognise their files, why they pile up, the fix.
// Data only. Sources: the public trackers named in each `why`. In fix commands, `{dir}` stands
// for the directory where the files were found.
import type { Fix } from './types.js';

export interface Signature {
  id: string;
  name: string;
  /** regexes on one file name of the pattern (the census keeps an example) */
  names?: string[];
  /** regexes on the directory that holds them */
  dirs?: string[];
  /** the census pattern whose names carry the creator's PID, and the regex that finds it */
  pid?: { pattern: string; regex: string };
  why: string;
  fix: Fix[];
}

export const SIGNATURES: Signature[] = [
  {
    id: 'imagemagick',
    name: 'ImageMagick pixel cache / delegate temp files',
    names: ['^magick-[A-Za-z0-9_-]{6,}'],
    why: 'ImageMagick writes its pixel cache to magick-* files in MAGICK_TEMPORARY_PATH or TMPDIR when an image exceeds the memory and map limits of policy.xml; a process killed mid-operation (PHP-FPM request_terminate_timeout, OOM killer) never unlinks them (ImageMagick issues #139, #337, #395).',
    fix: [
      { text: 'Keep pixel caches in RAM: raise the memory and map limits', file: '/etc/ImageMagick-6/policy.xml', content: '<policy domain="resource" name="memory" value="2GiB"/>\n<policy domain="resource" name="map" value="4GiB"/>' },
      { text: 'Give ImageMagick its own temporary directory (PHP-FPM pool)', file: '/etc/php/8.2/fpm/pool.d/www.conf', content: 'env[MAGICK_TEMPORARY_PATH] = /var/cache/php_tmp' },
      { text: 'Let systemd-tmpfiles clean what is left after 2 hours', file: '/etc/tmpfiles.d/imagemagick.conf', content: 'd /var/cache/php_tmp 0750 www-data www-data 2h -' },
    ],
  },
  {
    id: 'opam',
    name: 'opam staging directories',
    names: ['^opam-\\d+-'],
    pid: { pattern: 'opam-*', regex: '^opam-(\\d+)-' },
    why: 'opam stages downloads and builds in $TMPDIR/opam-PID-XXXXXX and leaves them when it dies; the PID in the name tells whether the creator still runs (opam #5264, #5485, PR #6695).',
    fix: [
      { text: 'Remove staging directories whose opam process is gone', command: 'for d in {dir}/opam-*-*; do p=${d##*/opam-}; kill -0 "${p%%-*}" 2>/dev/null || rm -rf -- "$d"; done' },
      { text: 'Point opam at a disk-backed temporary directory', command: 'export TMPDIR=$HOME/.cache/tmp && mkdir -p "$TMPDIR"' },
    ],
  },
  {
    id: 'php-sessions',
    name: 'PHP file sessions',
    names: ['^sess_[A-Za-z0-9,-]{16,}$'],
    why: "PHP's session.save_handler=files writes one sess_* file per session; Debian sets session.gc_probability=0 and relies on the phpsessionclean timer, which may be missing or disabled.",
    fix: [
      { text: 'Run the Debian session cleaner now, and keep its timer on', command: '/usr/lib/php/sessionclean && systemctl enable --now phpsessionclean.timer' },
      { text: 'Or let PHP collect garbage itself', file: '/etc/php/8.2/fpm/conf.d/99-session-gc.ini', content: 'session.gc_probability = 1\nsession.gc_divisor = 1000\nsession.gc_maxlifetime = 1440' },
    ],
  },
  {
    id: 'systemd-private',
    name: 'systemd PrivateTmp= directories',
    names: ['^systemd-private-[0-9a-f]{32}-'],
    why: 'Each service with PrivateTmp= gets systemd-private-BOOTID-UNIT-* in /tmp and /var/tmp; those in /var/tmp survive reboots and are kept 30 days (systemd #4401).',
    fix: [
      { text: 'Let systemd-tmpfiles clean them by age', command: 'systemd-tmpfiles --clean' },
    ],
  },
  {
    id: 'go-build',
    name: 'Go build work directories',
    names: ['^go-build\\d+$'],
    why: '`go build`, `go run` and `go test` create go-buildNNN in $TMPDIR and leave them when killed (golang/go #39382).',
    fix: [
      { text: 'Remove old work directories', command: 'find {dir} -xdev -maxdepth 1 -name "go-build*" -type d -mmin +60 -exec rm -rf {} +' },
      { text: 'Keep Go temporaries elsewhere', command: 'go env -w GOTMPDIR=$HOME/.cache/go-tmp' },
    ],
  },
  {
    id: 'pip',
    name: 'pip build directories',
    names: ['^pip-(req-build|build|install|unpack|ephem-wheel-cache|target|modern-metadata)-', '^pip-[A-Za-z0-9_]+-build$'],
    why: 'pip builds in $TMPDIR/pip-*; an interrupted install leaves them (and --no-clean keeps them on purpose).',
    fix: [{ text: 'Remove them when no pip runs', command: 'pgrep -x pip >/dev/null || rm -rf {dir}/pip-*' }],
  },
  {
    id: 'chromium',
    name: 'headless Chromium / Puppeteer profiles and cores',
    names: ['^\\.org\\.chromium\\.Chromium\\.', '^puppeteer_dev_(chrome_)?profile-', '^core\\.headless_shell\\.', '^\\.com\\.google\\.Chrome\\.'],
    why: 'Each headless Chrome launch creates a profile directory (thousands of files) and crash cores in /tmp; a killed browser leaves them (puppeteer #6414).',
    fix: [
      { text: 'Give the browser a userDataDir you clean, and close browsers in a finally block', file: 'launcher.js', content: "const browser = await puppeteer.launch({ userDataDir: '/var/cache/puppeteer-profile' });" },
      { text: 'Remove profiles no browser uses', command: 'pgrep -f headless_shell >/dev/null || rm -rf {dir}/.org.chromium.Chromium.* {dir}/puppeteer_dev_*' },
    ],
  },
  {
    id: 'npm-cache',
    name: 'npm / yarn caches',
    dirs: ['/_cacache(/|$)', '/\\.cache/yarn(/|$)', '/\\.npm(/|$)'],
    why: 'npm and yarn caches grow without bound: every package version ever fetched stays.',
    fix: [{ text: 'Verify and prune the cache', command: 'npm cache verify   # or: yarn cache clean' }],
  },
  {
    id: 'pycache',
    name: 'Python bytecode caches',
    names: ['\\.pyc$'],
    dirs: ['/__pycache__$'],
    why: 'CPython writes one .pyc per module and interpreter version into __pycache__ beside the sources.',
    fix: [{ text: 'Put bytecode caches in one place', command: 'export PYTHONPYCACHEPREFIX=$HOME/.cache/pycache' }],
  },
  {
    id: 'git-objects',
    name: 'git loose objects',
    dirs: ['/\\.git/objects/[0-9a-f]{2}$'],
    why: 'git writes every object as a loose file until `git gc` packs them; gc.auto may be off or never reached.',
    fix: [{ text: 'Pack the repository', command: 'git gc --prune=now' }],
  },
  {
    id: 'postfix-maildrop',
    name: 'postfix maildrop queue',
    dirs: ['/var/spool/postfix/maildrop$'],
    why: 'sendmail(1) drops mail in maildrop for the pickup daemon; when postfix is not running it piles up.',
    fix: [
      { text: 'Start postfix so pickup drains the queue', command: 'systemctl restart postfix' },
      { text: 'Or delete the queued mail', command: 'postsuper -d ALL maildrop' },
    ],
  },
  {
    id: 'kubelet',
    name: 'kubelet orphaned pod volumes',
    dirs: ['/var/lib/kubelet/pods/'],
    why: 'kubelet logs "Orphaned pod ... volume paths are still present on disk" and keeps the directories until they are unmounted.',
    fix: [{ text: 'Unmount the orphaned volume paths first, then remove the pod directories', command: 'grep /var/lib/kubelet/pods /proc/mounts' }],
  },
  {
    id: 'jenkins',
    name: 'Jenkins workspaces',
    names: ['@tmp$', '@script$', '@\\d+$'],
    why: 'Jenkins keeps a workspace per job and concurrent build (JOB@2, JOB@tmp) until it is wiped.',
    fix: [{ text: 'Wipe workspaces after builds (cleanWs) and discard old builds', file: 'Jenkinsfile', content: 'post { always { cleanWs() } }' }],
  },
  {
    id: 'openmpi',
    name: 'Open MPI session directories',
    names: ['^ompi\\.', '^openmpi-sessions-'],
    why: 'Open MPI creates per-job session directories in /tmp; killed jobs leave them.',
    fix: [{ text: 'Remove them in the scheduler epilogue', command: 'rm -rf {dir}/ompi.* {dir}/openmpi-sessions-*' }],
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
