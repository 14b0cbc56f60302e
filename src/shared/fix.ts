// A fix as doctor and the container report give it: what to do, and the command to run or the
// file to write. Commands are for an interactive shell (bash, zsh, ksh); every path or name
// taken from the machine goes through shellArg, never pasted in.

export interface Fix {
  text: string;
  /** a command to run */
  command?: string;
  /** a file to create or edit, with what goes in it; content without file is a snippet for a file not on this host */
  file?: string;
  content?: string;
}

import { isUtf8 } from 'node:buffer';

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * `s` as one shell word: as is when it has nothing special, else in single quotes, or, when it
 * holds control characters (a newline, an escape), in $'...' with C escapes so that the
 * command prints on one line and a terminal shows nothing it would act on. $'...' is POSIX
 * since 2024 and in bash, zsh and ksh (not in Debian 12's dash).
 */
export function shellArg(s: string): string {
  if (s !== '' && SAFE.test(s)) return s;
  if (!/[\x00-\x1f\x7f-\x9f]/.test(s)) return `'${s.replace(/'/g, `'\\''`)}'`;
  let out = "$'";
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '\\' || ch === "'") out += '\\' + ch;
    else if (c === 10) out += '\\n';
    else if (c === 9) out += '\\t';
    else if (c === 13) out += '\\r';
    else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else if (c >= 0x80 && c <= 0x9f) out += '\\u' + c.toString(16).padStart(4, '0');
    else out += ch;
  }
  return out + "'";
}

/**
 * Bytes (a file name that is not valid UTF-8) as one shell word: shellArg when they are UTF-8,
 * else $'...' with \xHH for every byte that is not printable ASCII. enospc reads such arguments
 * back as bytes (/proc/self/cmdline), so the command names exactly these bytes.
 */
export function shellArgBytes(b: Uint8Array): string {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.length);
  if (isUtf8(buf)) return shellArg(buf.toString('utf8'));
  let out = "$'";
  for (const c of buf) {
    if (c === 0x5c || c === 0x27) out += '\\' + String.fromCharCode(c);
    else if (c >= 0x20 && c < 0x7f) out += String.fromCharCode(c);
    else out += '\\x' + c.toString(16).padStart(2, '0');
  }
  return out + "'";
}
