// The manual page and the shell completions, made from the same command tree that prints
// `--help` (commander's Command and Option objects, and each command's help text as --help
// prints it), so that none of them can drift from the others.
import type { Command, Option } from 'commander';

/** A command's whole --help text (with the text added after it: exit status, examples). */
export function helpText(cmd: Command): string {
  let text = '';
  cmd.configureOutput({ writeOut: (s) => { text += s; }, writeErr: (s) => { text += s; } });
  try {
    cmd.outputHelp();
  } finally {
    cmd.configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s) });
  }
  return text;
}

/** The text after a command's option list (what addHelpText('after') gave). */
function afterText(cmd: Command): string {
  const whole = helpText(cmd);
  const main = cmd.helpInformation();
  return whole.startsWith(main) ? whole.slice(main.length).trim() : '';
}

const visible = (cmd: Command) => cmd.commands.filter((c) => !(c as unknown as { _hidden: boolean })._hidden);
const options = (cmd: Command) => cmd.options.filter((o) => !o.hidden);

// ---- roff ----

/** Text for roff: backslashes escaped, a line starting with . or ' kept as text, dashes as minus signs in options. */
function roff(s: string): string {
  return s.replace(/\\/g, '\\e').split('\n').map((l) => (/^[.']/.test(l) ? `\\&${l}` : l)).join('\n');
}
const flag = (s: string) => roff(s).replace(/-/g, '\\-');

function optionRoff(o: Option): string {
  const def = o.defaultValue !== undefined && o.defaultValue !== false && !o.negate ? ` (default: ${Array.isArray(o.defaultValue) ? o.defaultValue.join(' ') : String(o.defaultValue)})` : '';
  const choices = o.argChoices ? ` (one of: ${o.argChoices.join(', ')})` : '';
  return `.TP\n.B ${flag(o.flags)}\n${roff(o.description + choices + def)}\n`;
}

/** enospc(1) in roff (man -l to read it). */
export function manPage(program: Command, version: string, date: string): string {
  const out: string[] = [];
  out.push(`.TH ENOSPC 1 "${date}" "enospc ${version}" "User Commands"`);
  out.push('.SH NAME', `enospc \\- ${roff(program.description())}`);
  out.push('.SH SYNOPSIS', '.B enospc', '.I command', '[\\fIoptions\\fR] [\\fIarguments\\fR]');
  for (const c of visible(program)) out.push('.br', `.B enospc ${flag(c.name())}`, roff(c.usage().replace(/^\[options\] ?/, '[options] ')));
  out.push('.SH DESCRIPTION',
    roff('Linux says "No space left on device" (ENOSPC) while df shows free space: the inodes of a filesystem, the inode limit of a tmpfs, per-user inotify watches and instances, SysV IPC and pty tables, ID-mapped container layers. enospc says which limit was hit, by what files or processes, since when, how to fix it safely, and when it will happen again.'),
    '.PP', roff('Every command writes its report on stdout and one line per error on stderr, each starting with "enospc: ". With --json the report is a JSON document (its schema: docs/json.md and schemas/ in the package). Colour only on a terminal, never with NO_COLOR.'));
  out.push('.SH OPTIONS');
  for (const o of options(program)) out.push(optionRoff(o).trimEnd());
  out.push('.SH COMMANDS');
  for (const c of visible(program)) {
    out.push(`.SS "enospc ${flag(c.name())} ${roff(c.usage())}"`, roff(c.description()));
    for (const a of c.registeredArguments) out.push('.TP', `.I ${roff(a.name())}${a.variadic ? '...' : ''}`, roff(a.description || ''));
    for (const o of options(c)) out.push(optionRoff(o).trimEnd());
    const after = afterText(c);
    if (after) out.push('.PP', '.nf', roff(after), '.fi');
  }
  out.push('.SH EXIT STATUS', roff('Each command lists its own under COMMANDS. For all: 2 bad input (one line on stderr, nothing done); 1 when stdout is closed early (enospc top / | head) or file descriptors run out; 70 an internal error (a bug: please report it with the line it printed).'));
  out.push('.SH FILES', '.TP', '.I /etc/enospc/config.toml', roff('mounts and paths to leave out, extra watched paths, the orphan age and thresholds (--config FILE for another; see enospc --help).'),
    '.TP', '.I /var/lib/enospc/history.db', roff("the agent's history (enospc agent --db)."),
    '.TP', '.I /var/log/enospc/clean.log', roff('the audit log of enospc clean --apply.'));
  out.push('.SH ENVIRONMENT', '.TP', '.B NO_COLOR', 'no colour, even on a terminal.', '.TP', '.B ENOSPC_PROMETHEUS', 'the Prometheus of enospc fleet, when --prometheus is not given.');
  out.push('.SH SEE ALSO', '.BR df (1), ' + '.BR find (1), ' + '.BR systemd-tmpfiles (8), ' + '.BR tmpfs (5), ' + '.BR inotify (7), ' + '.BR fanotify (7)');
  return out.join('\n') + '\n';
}

// ---- shell completion ----

interface Spec { name: string; about: string; options: Array<{ long: string; short?: string; value: boolean; choices: readonly string[] | null; about: string }>; path: 'dir' | 'file' | null; words: readonly string[] | null }

function specs(program: Command): Spec[] {
  return visible(program).map((c) => ({
    name: c.name(),
    about: c.description(),
    options: [...options(c), ...options(program).filter((o) => o.long === '--config')].filter((o) => o.long).map((o) => ({
      long: o.long!, ...(o.short ? { short: o.short } : {}), value: o.required || o.optional, choices: o.argChoices ?? null, about: o.description,
    })),
    path: c.registeredArguments.some((a) => /path/.test(a.name())) ? 'dir' : c.registeredArguments.some((a) => !a.argChoices) ? 'file' : null,
    words: c.registeredArguments.find((a) => a.argChoices)?.argChoices ?? null,
  }));
}

const sq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function bash(program: Command): string {
  const cmds = specs(program);
  const cases = cmds.map((c) => {
    const choice = c.options.filter((o) => o.choices).map((o) => `      ${o.long}) COMPREPLY=($(compgen -W ${sq(o.choices!.join(' '))} -- "$cur")); return;;`).join('\n');
    const valued = c.options.filter((o) => o.value && !o.choices).map((o) => o.long).join('|');
    return `    ${c.name})
      case "$prev" in
${choice ? choice + '\n' : ''}${valued ? `      ${valued}) COMPREPLY=($(compgen -f -- "$cur")); return;;\n` : ''}      esac
      if [[ "$cur" == -* ]]; then COMPREPLY=($(compgen -W ${sq(c.options.map((o) => o.long).join(' ') + ' --help')} -- "$cur")); return; fi
      ${c.words ? `COMPREPLY=($(compgen -W ${sq(c.words.join(' '))} -- "$cur"))` : c.path === 'dir' ? 'COMPREPLY=($(compgen -d -- "$cur"))' : c.path === 'file' ? 'COMPREPLY=($(compgen -f -- "$cur"))' : 'COMPREPLY=()'}
      ;;`;
  }).join('\n');
  return `# bash completion for enospc (enospc completion bash > /etc/bash_completion.d/enospc)
_enospc() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}"
  if [[ $COMP_CWORD -eq 1 ]]; then
    COMPREPLY=($(compgen -W ${sq(cmds.map((c) => c.name).join(' ') + ' help --help --version')} -- "$cur"))
    return
  fi
  case "\${COMP_WORDS[1]}" in
${cases}
  esac
}
complete -o filenames -F _enospc enospc
`;
}

function zsh(program: Command): string {
  const cmds = specs(program);
  // inside a single-quoted _arguments spec: brackets and colons escaped for zsh, quotes closed and reopened
  const esc = (s: string) => s.replace(/[[\]:\\]/g, (c) => `\\${c}`).replace(/'/g, `'\\''`);
  const body = cmds.map((c) => {
    const opts = c.options.flatMap((o) => {
      const action = o.value ? (o.choices ? `:value:(${o.choices.join(' ')})` : ':value:_files') : '';
      const about = `[${esc(o.about)}]`;
      return [`'${o.long}${o.value ? '=' : ''}${about}${action}'`, ...(o.short ? [`'${o.short}${about}${action}'`] : [])];
    });
    const arg = c.words ? `'1:${c.name}:(${c.words.join(' ')})'` : c.path === 'dir' ? `'*:path:_files -/'` : c.path === 'file' ? `'*:file:_files'` : '';
    return `    (${c.name}) _arguments ${[...opts, arg].filter(Boolean).join(' ')} ;;`;
  }).join('\n');
  return `#compdef enospc
# zsh completion for enospc (enospc completion zsh > "\${fpath[1]}/_enospc")
_enospc() {
  local line state
  _arguments -C '1:command:->cmd' '*::arg:->args'
  case $state in
    (cmd) local -a cmds; cmds=(${cmds.map((c) => sq(`${c.name}:${c.about.replace(/:/g, '\\:')}`)).join(' ')}); _describe command cmds ;;
    (args) case $line[1] in
${body}
    esac ;;
  esac
}
_enospc "$@"
`;
}

function fish(program: Command): string {
  const cmds = specs(program);
  const lines = ['# fish completion for enospc (enospc completion fish > ~/.config/fish/completions/enospc.fish)', 'complete -c enospc -f'];
  for (const c of cmds) lines.push(`complete -c enospc -n __fish_use_subcommand -a ${c.name} -d ${sq(c.about)}`);
  for (const c of cmds) {
    const when = `-n '__fish_seen_subcommand_from ${c.name}'`;
    for (const o of c.options) {
      const short = o.short ? ` -s ${o.short.slice(1)}` : '';
      const value = o.value ? (o.choices ? ` -x -a ${sq(o.choices.join(' '))}` : ' -r -F') : '';
      lines.push(`complete -c enospc ${when} -l ${o.long.slice(2)}${short}${value} -d ${sq(o.about)}`);
    }
    if (c.words) lines.push(`complete -c enospc ${when} -x -a ${sq(c.words.join(' '))}`);
    else if (c.path === 'dir') lines.push(`complete -c enospc ${when} -a '(__fish_complete_directories)'`);
    else if (c.path === 'file') lines.push(`complete -c enospc ${when} -F`);
  }
  return lines.join('\n') + '\n';
}

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/** The completion script for a shell. */
export function completion(program: Command, shell: Shell): string {
  return shell === 'bash' ? bash(program) : shell === 'zsh' ? zsh(program) : fish(program);
}
