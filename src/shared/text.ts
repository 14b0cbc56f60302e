// File names are bytes. These turn them into text without losing what they are:
// - for people: valid UTF-8 is printed as is; control characters, invalid bytes and the
//   backslash itself are escaped C-style (`\n`, `\x9f`, `\\`), so every name prints on one line
//   and two different names never print the same;
// - for JSON: a name that is valid UTF-8 is its own string (JSON escapes control characters);
//   one that is not gets the escaped text as the string and its exact bytes in base64 in a
//   sibling field named `<field>Base64`.
import { isUtf8 } from 'node:buffer';

const NAMED: Record<number, string> = { 9: '\\t', 10: '\\n', 13: '\\r', 92: '\\\\' };

function hex(c: number): string {
  return '\\x' + c.toString(16).padStart(2, '0');
}

/** Length of the valid UTF-8 sequence at b[i], or 0. */
function utf8Len(b: Uint8Array, i: number): number {
  const c = b[i]!;
  const n = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
  if (n === 0 || i + n > b.length) return 0;
  for (let k = 1; k < n; k++) if ((b[i + k]! & 0xc0) !== 0x80) return 0;
  return isUtf8(b.subarray(i, i + n)) ? n : 0;
}

/** A name or path for a terminal: one line, unambiguous. */
export function display(name: Uint8Array): string {
  let plain = true;
  for (let i = 0; i < name.length && plain; i++) {
    const c = name[i]!;
    if (c < 0x20 || c === 0x7f || c === 92) plain = false;
  }
  if (plain && isUtf8(name)) return Buffer.from(name.buffer, name.byteOffset, name.length).toString('utf8');
  let s = '';
  for (let i = 0; i < name.length;) {
    const c = name[i]!;
    if (c < 0x80) {
      s += NAMED[c] ?? (c < 0x20 || c === 0x7f ? hex(c) : String.fromCharCode(c));
      i++;
      continue;
    }
    const n = utf8Len(name, i);
    if (n === 0) {
      s += hex(c);
      i++;
    } else {
      const ch = Buffer.from(name.subarray(i, i + n)).toString('utf8');
      const cp = ch.codePointAt(0)!;
      s += cp >= 0x80 && cp < 0xa0 ? `\\u{${cp.toString(16)}}` : ch;
      i += n;
    }
  }
  return s;
}

/** A name as JSON text: itself when it is valid UTF-8, else the escaped display text. */
export function textOf(name: Uint8Array): string {
  return isUtf8(name) ? Buffer.from(name.buffer, name.byteOffset, name.length).toString('utf8') : display(name);
}

/**
 * Text that may hold a name (a path, a pattern: JSON text, see textOf) for a terminal: control
 * characters escaped as display does, so it prints on one line and the terminal acts on none.
 */
export function displayText(s: string): string {
  return s.replace(/[\x00-\x1f\x7f-\x9f]/g, (ch) => {
    const c = ch.charCodeAt(0);
    return NAMED[c] ?? (c < 0x80 ? hex(c) : `\\u{${c.toString(16)}}`);
  });
}

/** A name in JSON: `field` holds the text, `<field>Base64` the exact bytes when they are not UTF-8. */
export type JsonName<F extends string> = { [K in F]: string } & { [K in `${F}Base64`]?: string };

/** `{ [field]: text }`, plus `[field + "Base64"]` when the bytes are not valid UTF-8. */
export function jsonName<F extends string>(field: F, name: Uint8Array): JsonName<F> {
  const b = Buffer.from(name.buffer, name.byteOffset, name.length);
  if (isUtf8(b)) return { [field]: b.toString('utf8') } as JsonName<F>;
  return { [field]: display(b), [field + 'Base64']: b.toString('base64') } as JsonName<F>;
}

/**
 * Code-unit order of two strings (for sorting names and paths): localeCompare would map Node's
 * ICU collation data into a long-running process, and a path's order need not follow a locale.
 */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
