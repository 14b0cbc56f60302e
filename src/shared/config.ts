// /etc/enospc/config.toml (or --config FILE): what doctor and the agent leave out, what else the
// agent watches, the orphan age, and the thresholds of "how full". Read once at start; the
// command line wins over it. Every key is checked: an unknown key or a wrong type is one line
// naming the key (ConfigError), and the command exits 2. docs/config.md has every key.
import fs from 'node:fs';

export const DEFAULT_CONFIG = '/etc/enospc/config.toml';

export interface Config {
  /** mount points (globs: `*` within a name, `**` across names) doctor and the agent do not look at */
  excludeMounts: string[];
  /** directories the censuses of doctor and the agent do not enter (each counts as one entry) */
  excludePaths: string[];
  /** paths whose patterns the agent keeps, besides its defaults */
  watch: string[];
  /** files untouched this long (minutes) and open in no process count as orphans */
  orphanAgeMinutes: number;
  thresholds: {
    /** free inodes or space below this share (%) is a warning, below critical% critical */
    freeWarningPercent: number;
    freeCriticalPercent: number;
    /** a kernel table or per-user limit used to this share (%) is a warning, to critical% critical */
    useWarningPercent: number;
    useCriticalPercent: number;
  };
}

export const DEFAULTS: Config = {
  excludeMounts: [], excludePaths: [], watch: [], orphanAgeMinutes: 60,
  thresholds: { freeWarningPercent: 10, freeCriticalPercent: 3, useWarningPercent: 80, useCriticalPercent: 95 },
};

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** the errno code when the file could not be read */
  constructor(message: string, readonly code?: string) {
    super(message);
  }
}

function strings(v: unknown, key: string, absolute: boolean): string[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new ConfigError(`${key} must be a list of strings`);
  for (const s of v as string[]) if (absolute && !s.startsWith('/')) throw new ConfigError(`${key}: '${s}' is not an absolute path`);
  return v as string[];
}

function percent(v: unknown, key: string): number {
  if (typeof v !== 'number' || !(v > 0 && v < 100)) throw new ConfigError(`${key} must be a number between 0 and 100 (a percentage)`);
  return v;
}

/** "90m", "2h", "1d" or a number of minutes. */
function minutes(v: unknown, key: string): number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  const m = typeof v === 'string' ? /^(\d+)\s*(m|min|h|d)$/.exec(v.trim()) : null;
  if (!m) throw new ConfigError(`${key} must be a duration like "60m", "2h", "1d" (or minutes as a number)`);
  return Number(m[1]) * (m[2] === 'h' ? 60 : m[2] === 'd' ? 1440 : 1);
}

/**
 * The configuration in `file`; `required`: a missing file is an error (--config), else the
 * defaults. Every command starts with this: the TOML parser is loaded only when there is a file.
 */
export async function loadConfig(file: string, required: boolean): Promise<Config> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (!required && code === 'ENOENT') return DEFAULTS;
    throw new ConfigError(`cannot read it: ${code ?? String(e)}`, code);
  }
  const { parse } = await import('smol-toml');
  let raw: Record<string, unknown>;
  try {
    raw = parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new ConfigError(`not valid TOML: ${String((e as Error).message).split('\n')[0]}`);
  }
  const c: Config = structuredClone(DEFAULTS);
  for (const [k, v] of Object.entries(raw)) {
    if (k === 'exclude_mounts') c.excludeMounts = strings(v, k, true);
    else if (k === 'exclude_paths') c.excludePaths = strings(v, k, true);
    else if (k === 'watch') c.watch = strings(v, k, true);
    else if (k === 'orphan_age') c.orphanAgeMinutes = minutes(v, k);
    else if (k === 'thresholds') {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConfigError('thresholds must be a table ([thresholds])');
      for (const [t, x] of Object.entries(v)) {
        const key = `thresholds.${t}`;
        if (t === 'free_warning_percent') c.thresholds.freeWarningPercent = percent(x, key);
        else if (t === 'free_critical_percent') c.thresholds.freeCriticalPercent = percent(x, key);
        else if (t === 'use_warning_percent') c.thresholds.useWarningPercent = percent(x, key);
        else if (t === 'use_critical_percent') c.thresholds.useCriticalPercent = percent(x, key);
        else throw new ConfigError(`unknown key '${key}'`);
      }
    } else throw new ConfigError(`unknown key '${k}'`);
  }
  const t = c.thresholds;
  if (t.freeCriticalPercent >= t.freeWarningPercent) throw new ConfigError('thresholds.free_critical_percent must be below free_warning_percent');
  if (t.useCriticalPercent <= t.useWarningPercent) throw new ConfigError('thresholds.use_critical_percent must be above use_warning_percent');
  return c;
}

let active: Config = DEFAULTS;

/** The configuration of this process (and thread: the agent's loop sets it again in its own). */
export function config(): Config {
  return active;
}

export function setConfig(c: Config): void {
  active = c;
}

/** A mount-point glob as a regular expression: `*` and `?` within a name, `**` across names. */
function globRegex(g: string): RegExp {
  const body = g.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*\*|\*|\?/g, (m) => (m === '**' ? '.*' : m === '*' ? '[^/]*' : '[^/]'));
  return new RegExp(`^${body}$`);
}

let compiled: { from: string[]; res: RegExp[] } = { from: [], res: [] };

/** Is this mount point one the configuration leaves out? */
export function excludedMount(mountPoint: string): boolean {
  const list = active.excludeMounts;
  if (!list.length) return false;
  if (compiled.from !== list) compiled = { from: list, res: list.map(globRegex) };
  return compiled.res.some((r) => r.test(mountPoint));
}
