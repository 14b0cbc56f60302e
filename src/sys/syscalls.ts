// System call numbers to names, by ABI, from the generated table (syscall-names.ts).
import fs from 'node:fs';
import os from 'node:os';
import { SYSCALL_NAMES } from './syscall-names.js';

export type Abi = keyof typeof SYSCALL_NAMES;

/** This machine's native ABI, or null on an architecture without a table. */
export function nativeAbi(): Abi | null {
  return os.arch() === 'x64' ? 'x86_64' : os.arch() === 'arm64' ? 'aarch64' : null;
}

/** The name of call `nr` in `abi`, or `syscall_NNN` for a number the table does not know. */
export function syscallName(abi: Abi | null, nr: number): string {
  const name = abi ? SYSCALL_NAMES[abi][nr] : undefined;
  return name ? name : `syscall_${nr}`;
}

/**
 * The ABI a process calls the kernel with: a 32-bit executable on x86_64 makes i386 (compat)
 * calls, whose numbers differ. Read from its executable's ELF class; the native ABI when unknown.
 */
export function abiOf(pid: number): Abi | null {
  const native = nativeAbi();
  if (native !== 'x86_64') return native;
  let fd = -1;
  try {
    fd = fs.openSync(`/proc/${pid}/exe`, 'r');
    const b = Buffer.alloc(5);
    fs.readSync(fd, b, 0, 5, 0);
    // e_ident: \x7fELF, then EI_CLASS 1 (32-bit) or 2 (64-bit)
    return b.readUInt32BE(0) === 0x7f454c46 && b[4] === 1 ? 'i386' : native;
  } catch {
    return native;
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
}
