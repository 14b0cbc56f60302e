// tmpfiles.d specifiers (`%b`, `%m`, ...), expanded as systemd-tmpfiles does in system mode
// (tmpfiles.d(5), "Specifiers"). An unknown specifier makes the line invalid; so does one whose
// value this host does not have (no machine ID): systemd skips such lines too.
import fs from 'node:fs';
import os from 'node:os';
import { groupName, passwdEntries, userName } from '../probe/users.js';

/** systemd's architecture names (src/basic/architecture.c) for Node's. */
const ARCH: Record<string, string> = {
  x64: 'x86-64', ia32: 'x86', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64-le', s390x: 's390x', riscv64: 'riscv64', loong64: 'loongarch64', mips64el: 'mips64-le',
};

function firstLine(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8').split('\n')[0]!.trim() || null;
  } catch {
    return null;
  }
}

function osRelease(): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of ['/etc/os-release', '/usr/lib/os-release']) {
    let text: string;
    try {
      text = fs.readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
      if (m) out.set(m[1]!, m[2]!.replace(/^(["'])(.*)\1$/, '$2'));
    }
    break;
  }
  return out;
}

function homeOf(uid: number): string | null {
  return passwdEntries().find((e) => e.uid === uid)?.home ?? (uid === 0 ? '/root' : null);
}

const tmpDir = (fallback: string) => process.env['TMPDIR'] || process.env['TEMP'] || process.env['TMP'] || fallback;

/** The value of each specifier letter on this host, computed once when first asked; null: not known here. */
export class Specifiers {
  private values: Map<string, string | null> | null = null;

  private table(): Map<string, string | null> {
    if (this.values) return this.values;
    const rel = osRelease();
    const uid = process.geteuid?.() ?? 0;
    const gid = process.getegid?.() ?? 0;
    const host = os.hostname();
    const boot = firstLine('/proc/sys/kernel/random/boot_id');
    this.values = new Map<string, string | null>([
      ['a', ARCH[process.arch] ?? process.arch],
      ['A', rel.get('IMAGE_VERSION') ?? ''],
      ['b', boot ? boot.replace(/-/g, '') : null],
      ['B', rel.get('BUILD_ID') ?? ''],
      ['H', host],
      ['l', host.split('.')[0]!],
      ['m', firstLine('/etc/machine-id')],
      ['M', rel.get('IMAGE_ID') ?? ''],
      ['o', rel.get('ID') ?? ''],
      ['v', os.release()],
      ['w', rel.get('VERSION_ID') ?? ''],
      ['W', rel.get('VARIANT_ID') ?? ''],
      ['h', homeOf(uid)],
      ['C', '/var/cache'],
      ['L', '/var/log'],
      ['S', '/var/lib'],
      ['t', '/run'],
      ['u', userName(uid)],
      ['U', String(uid)],
      ['g', groupName(gid)],
      ['G', String(gid)],
      ['T', tmpDir('/tmp')],
      ['V', tmpDir('/var/tmp')],
      ['%', '%'],
    ]);
    return this.values;
  }

  /** `text` with its specifiers replaced; a string saying why when one is unknown or has no value here. */
  expand(text: string): { text: string } | { error: string } {
    if (!text.includes('%')) return { text };
    const t = this.table();
    let out = '';
    for (let i = 0; i < text.length; i++) {
      const c = text[i]!;
      if (c !== '%') { out += c; continue; }
      const k = text[++i];
      if (k === undefined) { out += '%'; break; } // a lone % at the end stays, as systemd leaves it
      if (!t.has(k)) return { error: `unknown specifier %${k}` };
      const v = t.get(k)!;
      if (v === null) return { error: `specifier %${k} has no value on this host` };
      out += v;
    }
    return { text: out };
  }
}
