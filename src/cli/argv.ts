// The command line's own bytes. Node decodes argv as UTF-8, so an argument that is not valid
// UTF-8 (a file name, say) reaches JavaScript with U+FFFD in place of its bad bytes and names
// nothing. The kernel keeps the bytes in /proc/self/cmdline: NUL-separated, node's argv[0],
// node's own options (process.execArgv), the script, then the arguments (process.argv[2..]).
import fs from 'node:fs';

let raw: Buffer[] | null | undefined;

/** The arguments after the script, as bytes, matched one to one with process.argv; null when they cannot be matched. */
function rawArgs(): Buffer[] | null {
  if (raw !== undefined) return raw;
  raw = null;
  try {
    const all = fs.readFileSync('/proc/self/cmdline');
    const parts: Buffer[] = [];
    for (let at = 0; at < all.length;) {
      let end = all.indexOf(0, at);
      if (end < 0) end = all.length;
      parts.push(all.subarray(at, end));
      at = end + 1;
    }
    const n = process.argv.length - 2;
    const args = parts.slice(parts.length - n);
    // every argument must read as the one Node gave (a changed process title, say, would not)
    if (parts.length >= n + 2 && args.every((b, i) => b.toString('utf8') === process.argv[i + 2])) raw = args;
  } catch { /* no /proc: the text is all there is */ }
  return raw;
}

/**
 * The bytes of a value commander took from the command line (`VALUE`, or `--opt=VALUE`). Text
 * without U+FFFD is its own bytes; otherwise the argument's bytes are looked up in
 * /proc/self/cmdline. When the same text came from arguments with different bytes, or cannot be
 * found, the text's bytes.
 */
export function argBytes(value: string): Buffer {
  const text = Buffer.from(value);
  if (!value.includes('\ufffd')) return text;
  const args = rawArgs();
  if (!args) return text;
  const found: Buffer[] = [];
  process.argv.slice(2).forEach((a, i) => {
    if (a === value) found.push(args[i]!);
    else if (a.startsWith('--') && a.endsWith('=' + value)) {
      const eq = args[i]!.indexOf(61);
      if (eq >= 0 && args[i]!.subarray(eq + 1).toString('utf8') === value) found.push(args[i]!.subarray(eq + 1));
    }
  });
  return found.length > 0 && found.every((b) => b.equals(found[0]!)) ? found[0]! : text;
}
