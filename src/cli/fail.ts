// Bad input ends with one line on stderr and exit 2; never a stack trace.

export class UsageError extends Error {
  constructor(message: string, readonly exitCode = 2) {
    super(message);
  }
}

export function fail(message: string): never {
  throw new UsageError(message);
}

/** Words for the errno codes people meet on bad paths. */
export function describeCode(code: string | undefined): string {
  switch (code) {
    case 'ENOENT': return 'no such file or directory';
    case 'ENOTDIR': return 'not a directory';
    case 'EACCES': return 'permission denied';
    case 'EPERM': return 'operation not permitted';
    case 'ELOOP': return 'too many levels of symbolic links';
    case 'ENAMETOOLONG': return 'file name too long';
    case 'ENOSPC': return 'no space left on device';
    case 'EDQUOT': return 'disk quota exceeded';
    case 'EFBIG': return 'file too large';
    case 'EIO': return 'input/output error';
    case 'EBADF': return 'not open for writing';
    case 'EMFILE': return 'too many open files';
    case 'ENFILE': return 'too many open files in the system';
    default: return code ?? 'unknown error';
  }
}

export function parseIntOption(name: string, value: string, min: number): number {
  if (!/^\d+$/.test(value) || Number(value) < min) fail(`${name} takes a whole number of at least ${min}, not '${value}'`);
  return Number(value);
}
