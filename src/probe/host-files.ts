// What is installed on this host that a fix would name: configuration files (ImageMagick's
// policy.xml, PHP-FPM pools) and helper programs. Looked up once, on first use, so a fix edits
// the file that exists here or says plainly that the program was not found.
import fs from 'node:fs';
import path from 'node:path';
import { readMagickPolicy, type MagickPolicy } from './imagemagick.js';
import { compareText } from '../shared/text.js';

export interface HostFiles {
  /** the policy.xml ImageMagick reads here (file null when none was found) */
  magickPolicy(): MagickPolicy;
  /** PHP-FPM pool files, /etc/php/VERSION/fpm/pool.d/*.conf, newest PHP first */
  phpFpmPools(): string[];
  /** PHP-FPM conf.d directories, newest PHP first */
  phpFpmConfDirs(): string[];
  /** does this file exist (and is it executable, with `exec`)? */
  exists(file: string, exec?: boolean): boolean;
  /** the path of a program on PATH, or null */
  which(program: string): string | null;
}

function list(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/** PHP versions under /etc/php, newest first (8.10 after 8.9). */
function phpVersions(etc: string): string[] {
  const key = (v: string) => v.split('.').map((x) => x.padStart(4, '0')).join('.');
  return list(etc).filter((v) => /^\d+\.\d+$/.test(v)).sort((a, b) => compareText(key(b), key(a)));
}

function executable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The host's files, from the real filesystem (`etc` is /etc; `env` gives PATH and MAGICK_CONFIGURE_PATH). */
export function hostFiles(env: NodeJS.ProcessEnv = process.env, etc = '/etc'): HostFiles {
  const cache = new Map<string, unknown>();
  const once = <T>(key: string, get: () => T): T => {
    if (!cache.has(key)) cache.set(key, get());
    return cache.get(key) as T;
  };
  const php = () => once('php', () => phpVersions(path.join(etc, 'php')));
  return {
    magickPolicy: () => once('magick', () => readMagickPolicy(env)),
    phpFpmPools: () => once('pools', () => php().flatMap((v) => {
      const dir = path.join(etc, 'php', v, 'fpm', 'pool.d');
      const files = list(dir).filter((f) => f.endsWith('.conf')).sort((a, b) => (a === 'www.conf' ? -1 : b === 'www.conf' ? 1 : compareText(a, b)));
      return files.map((f) => path.join(dir, f));
    })),
    phpFpmConfDirs: () => once('confd', () => php().map((v) => path.join(etc, 'php', v, 'fpm', 'conf.d')).filter((d) => list(d).length > 0 || fs.existsSync(d))),
    exists: (file, exec = false) => once(`f:${exec}:${file}`, () => (exec ? executable(file) : fs.existsSync(file))),
    which: (program) => once(`w:${program}`, () => {
      for (const dir of (env['PATH'] ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
        if (dir && executable(path.join(dir, program))) return path.join(dir, program);
      }
      return null;
    }),
  };
}
