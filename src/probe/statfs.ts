// statfs with a time limit: a hung network mount must not hang doctor (node_exporter does the
// same with a 5 s timeout). The call runs on libuv's thread pool; when it does not answer in
// time the mount is reported unknown and the call is abandoned.
import fs from 'node:fs';
import { toUsage, type FsUsage } from './mounts.js';

export interface UsageOrError { usage: FsUsage | null; error?: string }

export async function statfsWithin(path: string, ms: number): Promise<UsageOrError> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<UsageOrError>((resolve) => {
    timer = setTimeout(() => resolve({ usage: null, error: 'timeout' }), ms);
    timer.unref();
  });
  const call = fs.promises.statfs(path).then(
    (s): UsageOrError => ({ usage: toUsage(s) }),
    (e: NodeJS.ErrnoException): UsageOrError => ({ usage: null, error: e.code ?? 'error' }),
  );
  try {
    return await Promise.race([call, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
