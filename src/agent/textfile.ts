// node_exporter's textfile collector: it reads every *.prom file in its directory at each scrape.
// The exposition is written to enospc.prom.<pid> in that same directory (never staged in
// $TMPDIR: a rename across filesystems is not atomic), fsynced, then renamed over enospc.prom, so
// the collector sees the old file or the new one, never half of one.
import fs from 'node:fs/promises';
import { constants } from 'node:fs';
import path from 'node:path';

export const TEXTFILE_NAME = 'enospc.prom';

const REASONS: Record<string, string> = {
  ENOENT: 'no such directory',
  ENOTDIR: 'not a directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device (blocks or inodes)',
  EDQUOT: 'disk quota exceeded',
  ELOOP: 'the temporary file is a symbolic link',
  EISDIR: 'the target is a directory',
  EIO: 'I/O error',
};

function reason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return (err.code && REASONS[err.code]) || (err.code ?? String(err.message ?? e).split('\n')[0]);
}

/** Write text as DIR/enospc.prom, atomically; throws one clear line when it cannot. */
export async function writeTextfile(dir: string, text: string): Promise<void> {
  const final = path.join(dir, TEXTFILE_NAME);
  const tmp = `${final}.${process.pid}`;
  let step = 'create';
  let created = false;
  try {
    // O_NOFOLLOW: a symbolic link planted at the temporary name is not written through
    const fh = await fs.open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o644);
    created = true;
    try {
      step = 'write';
      await fh.writeFile(text, 'utf8');
      step = 'fsync';
      await fh.sync();
    } finally {
      await fh.close();
    }
    step = 'rename';
    await fs.rename(tmp, final);
    created = false;
    // the rename itself made durable; a directory that cannot be opened or synced is no error
    const d = await fs.open(dir, constants.O_RDONLY | constants.O_DIRECTORY).catch(() => null);
    if (d) await d.sync().catch(() => undefined).finally(() => d.close());
  } catch (e) {
    if (created) await fs.unlink(tmp).catch(() => undefined);
    throw new Error(`cannot write the textfile ${final}: ${reason(e)} (${step} ${path.basename(step === 'rename' ? final : tmp)})`);
  }
}
