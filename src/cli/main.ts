#!/usr/bin/env node
// enospc: why Linux says "No space left on device".
//
// Only node: modules are imported statically. The others are imported below, one file at a
// time when fds are short (src/cli/load.ts): Node's loader reads the files of a graph all at
// once, and with `ulimit -n 20` (Node itself holds about 18) that fails before enospc runs.
// Each command's module is loaded when that command runs: `enospc top` pays for no other.
import fs from 'node:fs';
import { createRequire } from 'node:module';

/** enospc's package.json (its version). */
const readPackage = () => JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

// `enospc --version` alone: answered before anything else loads (as commander would answer it)
if (process.argv.length === 3 && (process.argv[2] === '--version' || process.argv[2] === '-V')) {
  try {
    fs.writeSync(1, `${readPackage().version}\n`);
  } catch (e) {
    // as every command (src/cli/output.ts): a closed pipe quietly, anything else in one line
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EPIPE') {
      const { describeCode } = await import('./fail.js');
      try { fs.writeSync(2, `enospc: cannot write the output: ${describeCode(code ?? String(e))}\n`); } catch { /* nowhere to say it */ }
    }
    process.exit(1);
  }
  process.exit(0);
}

/** The first modules, or one line and exit: not even these load (out of fds, say). */
async function boot<T>(loading: Promise<T>): Promise<T> {
  try {
    return await loading;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const fds = code === 'EMFILE' || code === 'ENFILE';
    try {
      fs.writeSync(2, fds ? 'enospc: too many open files to start: raise the limit (ulimit -n 1024)\n' : `enospc: cannot start: ${(e as Error).message}\n`);
    } catch { /* nowhere to say it */ }
    // doctor as a Nagios plugin: 3, could not run
    process.exit(process.argv.slice(2).find((a) => !a.startsWith('-')) === 'doctor' ? 3 : fds ? 1 : 70);
  }
}
const { fdExhausted, fdLimit, fdsOpen } = await boot(import('../sys/fds.js'));
const { importCommand } = await boot(import('./load.js'));
const load = <T>(file: string) => importCommand<T>(new URL(file, import.meta.url));
const { guardOutput, say } = await boot(load<typeof import('./output.js')>('./output.js'));
const { UsageError } = await boot(load<typeof import('./fail.js')>('./fail.js'));
const { DEFAULT_LOG } = await boot(load<typeof import('../clean/job.js')>('../clean/job.js'));
// commander is CommonJS: required, not imported (an import has its source scanned for its
// exports first: ~6 ms of every start); require reads its files one at a time
const { Argument, Command, CommanderError, Option } = await boot((async () => createRequire(import.meta.url)('commander') as typeof import('commander'))());

// `enospc top / | head`, `> /dev/full`: exit 1, quietly (src/cli/output.ts)
guardOutput();
/** the limit (read now: out of fds, /proc cannot be read), and the fds Node holds before enospc opens any */
const fdLimitAtStart = fdLimit();
const fdsAtStart = (() => {
  try {
    return fdsOpen(fdLimitAtStart);
  } catch {
    return 20;
  }
})();
/** what enospc needs beyond those, about: its modules (loaded one at a time when short), a walk, /proc, trace's thread */
const FDS_NEEDED = 16;
/** the command running, for its exit status when it cannot run */
let command = '';

// an error thrown outside the command's own chain (a stream, a thread): the same one line
process.on('uncaughtException', (e) => {
  failed(e);
  process.exit();
});

const pkg = readPackage();

const program = new Command('enospc')
  .description('Find out why Linux says "No space left on device" while df shows free space.')
  .version(pkg.version, '-V, --version')
  .exitOverride()
  // one prefix for every error, the option parser's too ("error: unknown option" otherwise)
  .configureOutput({ outputError: (s, write) => write(s.split('\n')[0]!.replace(/^error: /, 'enospc: ') + '\n') })
  .option('--config <file>', 'the configuration file: excluded mounts and paths, watched paths, orphan age, thresholds (default: /etc/enospc/config.toml when it exists; options given on the command line win)')
  .hook('preAction', async (_, action) => {
    command = action.name();
    if (command === 'completion' || command === 'man') return;
    const { ConfigError, DEFAULT_CONFIG, loadConfig, setConfig } = await load<typeof import('../shared/config.js')>('../shared/config.js');
    const given = program.opts<{ config?: string }>().config;
    try {
      setConfig(await loadConfig(given ?? DEFAULT_CONFIG, given !== undefined));
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      // the system's file, closed to this user (mode 600): its settings are not applied, and that is said
      if (given === undefined && e.code === 'EACCES') {
        say(`enospc: ${DEFAULT_CONFIG}: cannot read it as this user (permission denied): its settings are not applied\n`);
        return;
      }
      throw new UsageError(`${given !== undefined ? '--config ' : ''}${given ?? DEFAULT_CONFIG}: ${e.message}`);
    }
  })
  .addHelpText('after', `
Exit status, for every command (each command's --help gives its own): 2 bad input (one line on
stderr, nothing done); 1 stdout closed early (enospc top / | head) or too few file descriptors;
70 an internal error (a bug: please report the line it printed).

The manual: man enospc. Completion: enospc completion bash|zsh|fish. Configuration: docs/config.md.`)

/** Where the agent keeps its history, and where doctor, history and forecast read it. */
const DEFAULT_DB = '/var/lib/enospc/history.db';

program.command('doctor')
  .description('check every filesystem cause of ENOSPC: evidence, culprit and fix for each')
  .argument('[path...]', 'look only at the mounts holding these paths (and scan these paths)')
  .option('--json', 'print the JSON document (see docs/json.md)')
  .option('--budget <seconds>', 'time for scanning troubled mounts for culprits', '20')
  .option('--orphan-age <minutes>', 'files untouched this long and open in no process count as orphans (default: 60, or orphan_age in the configuration)')
  .option('--image <WxH[xD][:rgba]>', 'image size for the ImageMagick pixel-cache arithmetic (default 12000x12000x16:rgba)')
  .option('--db <file>', "the agent's history, for forecasts (read-only; nothing is said when there is none)", DEFAULT_DB)
  .addHelpText('after', `
Exit status (Nagios style): 0 nothing wrong, 1 warning, 2 critical, 3 a check could not run.

When the agent (enospc agent) keeps a history, a finding whose use it has been growing says
when, at this rate, it is full. Forecasts never change the exit status.

Examples:
  enospc doctor                 every real mount
  enospc doctor /tmp            the mount holding /tmp, with a census of /tmp
  enospc doctor --json | jq '.findings[] | select(.severity != "info")'`)
  .action(async (paths: string[], flags) => {
    const { runDoctor } = await load<typeof import('./doctor.js')>('./doctor.js');
    process.exitCode = await runDoctor(paths, flags, pkg.version);
  });

program.command('inotify')
  .description('who holds inotify watches and instances (and fanotify marks, epoll watches), per user and process, against the limits')
  .option('--user <user>', 'only this user (name or uid)')
  .option('--pid <pid>', 'only this process')
  .option('--paths', 'resolve the watched paths, collapsed to the directories that hold them')
  .option('--json', 'print the JSON document (see docs/json.md)')
  .addHelpText('after', `
The kernel charges every watch to the user (euid) that created the inotify instance, in its
user namespace and up the chain: all of a user's processes share one fs.inotify.max_user_watches.

Exit status: 0 read (also when some processes could not be read: they are counted), 2 bad input
(no such user or process).

Examples:
  enospc inotify                 per user, then per process
  enospc inotify --user alice --paths`)
  .action(async (flags) => (await load<typeof import('./inotify.js')>('./inotify.js')).runInotify(flags));

program.command('top')
  .description('count what uses the inodes under PATH: by name pattern, directory, owner and age')
  .argument('<path>', 'directory to scan (stays on its filesystem)')
  .addOption(new Option('--by <view>', 'show one view').choices(['dirs', 'patterns', 'owners', 'ages']))
  .option('-n, --limit <n>', 'rows per list', '10')
  .option('--stat', 'stat every entry: sizes, empty files, owners, ages, hard links once (slower)')
  .option('--cross-mounts', 'descend into other filesystems mounted below PATH')
  .option('--json', 'print the JSON document (see docs/json.md)')
  .option('--threads <n>', 'threads to walk with (default: cores, at most 4)')
  .addHelpText('after', `
Exit status: 0 done (also with unreadable subtrees: counted and said), 2 bad input (no such
directory, permission denied at PATH, a kernel pseudo filesystem, an autofs mount point with
nothing mounted).

Examples:
  enospc top /tmp                  patterns and directories by inode count
  enospc top /tmp --stat           ... with bytes, empty files, owners and ages
  enospc top /var --by owners      inode count per user
  enospc top / --json | jq .patterns`)
  .action(async (path: string, flags) => (await load<typeof import('./top.js')>('./top.js')).runTop(path, flags));

program.command('trace')
  .description('watch names come and go under PATH, with the process behind each; report what leaks')
  .argument('<path>', 'directory to trace (its filesystem, below this path)')
  .option('--duration <time>', 'stop after this long (60s, 5m, 1h); default: until Ctrl-C')
  .option('--events', 'stream every event as a JSON line (ts, event, path, pid, comm); the report is the last line')
  .option('--json', 'print the report as a JSON document (see docs/json.md)')
  .option('-n, --limit <n>', 'rows per list', '10')
  .addOption(new Option('--backend <name>', 'event source').choices(['auto', 'fanotify', 'inotify']).default('auto'))
  .addHelpText('after', `
As root, fanotify gives the pid, command, user and systemd unit or container of each event.
Otherwise inotify watches every directory below PATH (one watch each) and pids are unknown.
Ctrl-C ends the trace and prints the report; a second Ctrl-C quits at once.

Exit status: 0 stopped (Ctrl-C, SIGTERM, --duration) and reported, 2 bad input or the trace
cannot start (fanotify without root, no inotify watches or instances left), 130 a second Ctrl-C.

Examples:
  enospc trace /tmp --duration 60s        which patterns leak, and who makes them
  enospc trace /tmp --events | jq -c 'select(.event == "create")'`)
  .action(async (path: string, flags) => {
    const { runTrace } = await load<typeof import('./trace.js')>('./trace.js');
    process.exitCode = await runTrace(path, flags);
  });

program.command('catch')
  .description('catch every system call that fails with ENOSPC, as it happens: the process, the call and the limit it hit')
  .option('--duration <time>', 'stop after this long (60s, 5m, 1h); default: until Ctrl-C')
  .option('--events', 'stream every failure as a JSON line; the report is the last line')
  .option('--json', 'print the report as a JSON document at the end (see docs/json.md)')
  .option('-n, --limit <n>', 'rows of the summary', '10')
  .addHelpText('after', `
Needs root and a kernel with system-call tracing (CONFIG_FTRACE_SYSCALLS): it reads the kernel's
raw_syscalls:sys_exit event for ret == -28 in a trace instance of its own (tracefs, mounted if
it is not), removed at the end. Calls that succeed cost nothing more.

Exit status: 0 stopped (Ctrl-C, SIGTERM, --duration), 1 the trace could not be read to the end,
2 bad input, not root, or no system-call tracing here.

Examples:
  enospc catch                           live lines until Ctrl-C, then the summary
  enospc catch --duration 10m --json     who got ENOSPC in the next 10 minutes, and why`)
  .action(async (flags) => {
    const { runCatch } = await load<typeof import('./catch.js')>('./catch.js');
    process.exitCode = await runCatch(flags);
  });

program.command('clean')
  .description('remove orphans safely: dry run first; never an open or locked file, never through a symlink, never across a mount')
  .argument('[path]', 'directory to clean (with --match and/or --older-than)')
  .option('--match <glob>', "names to remove, at any depth (e.g. 'magick-*'); a matching directory goes with its contents")
  .option('--older-than <age>', 'only what is older than this (2h, 10d, 1h30m) by all of atime, mtime, ctime and btime (a directory: atime, mtime, btime), as systemd-tmpfiles; m:2h for mtime alone (tmpfiles age-by letters)')
  .option('--rules <file...>', 'tmpfiles.d rule files, cleaned as systemd-tmpfiles --clean does (d, D, v, q, Q, C, e, x, X with an age)')
  .option('--system-rules', 'the rules in /etc/tmpfiles.d, /run/tmpfiles.d, /usr/local/lib/tmpfiles.d and /usr/lib/tmpfiles.d')
  .option('--remove', 'with rules: also remove the paths of r and R lines and empty D directories (systemd-tmpfiles --remove)')
  .option('--boot', 'with rules: also the lines marked ! (boot only), as systemd-tmpfiles --boot')
  .option('--strict', 'with rules: a line that does not parse refuses its whole file (default: skipped with a warning, as systemd)')
  .option('--apply', 'remove (without it: show what would go)')
  .option('--log <file>', `audit log, JSON lines written before each removal (default with --apply: ${DEFAULT_LOG})`)
  .option('--no-log', 'no audit log')
  .option('--emit-rule', 'print the tmpfiles.d line that keeps doing this, and exit')
  .option('--force-unseen', "remove other users' files even when some processes cannot be seen (hidepid, not root)")
  .option('--json', 'print the JSON document (see docs/json.md)')
  .option('-n, --limit <n>', 'rows per list', '10')
  .addHelpText('after', `
Refused: /, /proc, /sys, /dev and below (/dev/shm too).

Exit status: 0 done, 1 some removals failed or some rule lines were skipped (named on stderr), 2 bad input (nothing removed).

Examples:
  enospc clean /tmp --match 'magick-*' --older-than 2h             what would go
  enospc clean /tmp --match 'magick-*' --older-than 2h --apply     remove it, logged
  enospc clean /tmp --match 'magick-*' --older-than 2h --emit-rule
  enospc clean --rules /etc/tmpfiles.d/php-imagemagick.conf --apply`)
  .action(async (path: string | undefined, flags) => {
    const { runClean } = await load<typeof import('./clean.js')>('./clean.js');
    process.exitCode = runClean(path, flags);
  });

program.command('agent')
  .description('sample every interval, keep the history, forecast, and serve Prometheus metrics (/metrics) and JSON (/api)')
  .option('--listen <addr:port>', 'where to serve the page (/), /metrics and /api', '127.0.0.1:9942')
  .option('--web-config <file>', "TLS and basic auth, in the format of Prometheus' exporter-toolkit (node_exporter's --web.config.file)")
  .option('--db <file>', 'the history database (SQLite)', DEFAULT_DB)
  .option('--interval <duration>', 'time between samples', '15s')
  .option('--census-interval <duration>', 'time between censuses of the watched paths and doctor runs', '5m')
  .option('--watch <path...>', 'paths whose top name patterns are kept (default: every tmpfs, /tmp, /var/tmp, mounts past 80% inodes)')
  .option('--textfile <dir>', "also write the metrics for node_exporter's textfile collector in DIR (enospc.prom)")
  .option('--once', 'one sample, write it (--textfile, the history), exit: for a systemd timer or cron')
  .option('--catch', 'also count every system call that fails with ENOSPC (as enospc catch; root): enospc_errors_total and a finding per command (costs every system call on the host ~100 ns, see docs/benchmarks.md)')
  .addHelpText('after', `
The page at / and /api show process names, users and paths: on an address other than loopback,
protect them with --web-config (basic_auth_users, tls_server_config; see docs/agent.md).

Exit status: 0 stopped (SIGTERM, SIGINT) or --once done, 2 bad input (address, port in use, database path, duration, web config).`)
  .action(async (flags) => {
    const { runAgent } = await load<typeof import('./agent.js')>('./agent.js');
    process.exitCode = await runAgent(flags, pkg.version);
  });

program.command('fleet')
  .description('the hosts most at risk of ENOSPC first, from what their agents export to Prometheus')
  .option('--prometheus <url>', 'the Prometheus that scrapes the agents (default: $ENOSPC_PROMETHEUS)')
  .option('--json', 'print the JSON document (see docs/json.md)')
  .option('-n, --limit <n>', 'hosts and rows per list', '10')
  .addHelpText('after', `
Exit status (Nagios): 0 nothing to see; 1 a host has a risk or a finding, or an agent is down;
2 a host is critical or may run out within 4 h (its earliest forecast), or bad input (a wrong URL);
3 unknown: Prometheus cannot be reached, is not Prometheus, or has no enospc metrics (one line).

Examples:
  enospc fleet --prometheus http://prometheus:9090
  enospc fleet --prometheus http://prometheus:9090 --json | jq '.hosts[0]'`)
  .action(async (flags) => {
    const { runFleet } = await load<typeof import('./fleet.js')>('./fleet.js');
    process.exitCode = await runFleet(flags);
  });

program.command('history')
  .description("use over time from the agent's database: every mount's inodes and blocks, users' watches, top patterns")
  .argument('[target]', 'a mount point, a user or a pattern (mountpoint:pattern); default: everything')
  .option('--db <file>', 'the history database', DEFAULT_DB)
  .option('--since <duration>', 'how far back', '24h')
  .option('--json', 'print the JSON document (see docs/json.md)')
  .addHelpText('after', `
Exit status: 0 shown, 2 bad input (no database, no history of TARGET, a bad duration).`)
  .action(async (target: string | undefined, flags) => {
    const { runHistory } = await load<typeof import('./history.js')>('./history.js');
    process.exitCode = runHistory(target, flags);
  });

program.command('forecast')
  .description("every forecast from the agent's history: filling (when full, at the earliest), not growing, or not enough data")
  .option('--db <file>', 'the history database', DEFAULT_DB)
  .option('--json', 'print the JSON document (see docs/json.md)')
  .addHelpText('after', `
Exit status: 0 nothing filling, 1 something is filling, 2 bad input (no database).`)
  .action(async (flags) => {
    const { runForecast } = await load<typeof import('./history.js')>('./history.js');
    process.exitCode = runForecast(flags);
  });

program.command('containers')
  .description('inode growth in container storage: ID-mapped layer copies, unreferenced layers, stray layer directories (podman, Docker)')
  .option('--root <dir>', 'one store: a containers/storage graph root or a Docker data root (default: every store found)')
  .option('--budget <seconds>', 'time for counting the inodes of layer directories', '30')
  .option('-n, --limit <n>', 'rows per list', '10')
  .option('--json', 'print the JSON document (see docs/json.md)')
  .addHelpText('after', `
Reads metadata only (layers.json, images.json, containers.json; Docker's layerdb): it never
locks, changes or repairs a store. Counts past the budget are shown as >= (a floor), ~ (taken
from a counted copy of the same content) or ? (not counted).

Exit status: 0 read, 1 some metadata could not be read (named on stderr), 2 bad input.

Examples:
  enospc containers                                   every store on this machine
  enospc containers --root /var/lib/containers/storage
  enospc containers --json | jq '.stores[].images[] | {names, copies: (.copies | length)}'`)
  .action(async (flags) => {
    const { runContainers } = await load<typeof import('./containers.js')>('./containers.js');
    process.exitCode = await runContainers(flags);
  });

program.command('completion')
  .description('print the shell completion script for bash, zsh or fish')
  .addArgument(new Argument('<shell>', 'the shell').choices(['bash', 'zsh', 'fish']))
  .addHelpText('after', `
Install it (as root), or source it from your shell's startup file:
  enospc completion bash > /etc/bash_completion.d/enospc
  enospc completion zsh > /usr/local/share/zsh/site-functions/_enospc
  enospc completion fish > /etc/fish/completions/enospc.fish

Exit status: 0, 2 bad input.`)
  .action(async (shell: 'bash' | 'zsh' | 'fish') => {
    const { completion } = await load<typeof import('./docgen.js')>('./docgen.js');
    process.stdout.write(completion(program, shell));
  });

// the manual page, made from this same tree (npm run build writes dist/man/enospc.1 with it)
program.command('man', { hidden: true })
  .option('--date <yyyy-mm-dd>', 'the date on the page')
  .action(async (flags: { date?: string }) => {
    const { manPage } = await load<typeof import('./docgen.js')>('./docgen.js');
    process.stdout.write(manPage(program, pkg.version, flags.date ?? new Date().toISOString().slice(0, 10)));
  });

/** One line for an error no command handled; the exit status. */
function failed(e: unknown): void {
  const fds = fdExhausted(e);
  if (fds === 'EMFILE') {
    const need = fdsAtStart + FDS_NEEDED;
    const limit = fdLimitAtStart === Infinity ? 'the limit (ulimit -n)' : `the limit (ulimit -n) is ${fdLimitAtStart},`;
    say(`enospc: too many open files: ${limit} enospc needs about ${need}; raise it (ulimit -n ${Math.max(1024, need)})\n`);
  } else if (fds === 'ENFILE') {
    say('enospc: too many open files in the system: the kernel\'s file table is full (fs.file-nr against fs.file-max); close some, or raise fs.file-max\n');
  } else {
    say(`enospc: internal error: ${(e as Error)?.message ?? String(e)}\n`);
  }
  // doctor as a Nagios plugin: 3, could not run
  process.exitCode = fds ? (command === 'doctor' ? 3 : 1) : 70;
}

try {
  await program.parseAsync();
} catch (e) {
  if (e instanceof CommanderError) {
    process.exitCode = e.exitCode === 0 ? 0 : 2;
  } else if (e instanceof UsageError) {
    say(`enospc: ${e.message}\n`);
    process.exitCode = e.exitCode;
  } else {
    failed(e);
  }
}
