// The guard's child process (see guard.ts): reads a JSON array of requests on stdin, runs them
// all at once on libuv's thread pool (sized by the parent to hold every one), and writes one
// JSON line per answer as it comes: {"i":N,...}. It exits when every request is answered; a
// request stuck in the kernel (a FUSE or NFS server that never replies) keeps it alive until the
// parent kills it (with --serve it stays for more, see serve()). It creates no files and imports nothing but node:fs; it is CommonJS (.cts),
// which starts about 10 ms sooner than an ES module.
import fs from 'node:fs';
import type { GuardRequest, RawStatfs } from './guard.js';

function raw(s: fs.StatsFs): RawStatfs {
  return { bsize: s.bsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail, files: s.files, ffree: s.ffree };
}

const code = (e: unknown): string => (e as NodeJS.ErrnoException).code ?? String((e as Error).message ?? e);

async function answer(r: GuardRequest): Promise<object> {
  if (r.op === 'statfs') {
    try {
      return { statfs: raw(await fs.promises.statfs(r.path)) };
    } catch (e) {
      return { error: code(e) };
    }
  }
  let real: string;
  let dir: boolean;
  try {
    real = await fs.promises.realpath(r.path);
    dir = (await fs.promises.stat(real)).isDirectory();
  } catch (e) {
    return { error: code(e) };
  }
  try {
    return { real, dir, statfs: raw(await fs.promises.statfs(real)) };
  } catch (e) {
    return { real, dir, statfsError: code(e) };
  }
}

if (process.argv[2] === '--serve') serve();
else once();

/** One batch: every request answered (or the parent kills it), then exit. */
function once(): void {
  let input = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (c: string) => { input += c; });
  process.stdin.on('end', () => {
    const requests = JSON.parse(input) as GuardRequest[];
    let left = requests.length;
    if (left === 0) process.exit(0);
    requests.forEach((r, i) => {
      void answer(r).then((a) => {
        process.stdout.write(JSON.stringify({ i, ...a }) + '\n'); // a pipe: written at once
        if (--left === 0) process.exit(0);
      });
    });
  });
}

/**
 * Kept by a long-running parent (the agent): one batch per line, {"b":N,"requests":[...]}, one
 * line per answer, {"b":N,"i":I,...}. A request for a path whose same request is still in the
 * kernel (a hung mount) waits for that one instead of taking another thread. Exits when the
 * parent closes stdin or goes away.
 */
function serve(): void {
  const inflight = new Map<string, Array<{ b: number; i: number }>>();
  let buf = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (c: string) => {
    buf += c;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const { b, requests } = JSON.parse(buf.slice(0, nl)) as { b: number; requests: GuardRequest[] };
      buf = buf.slice(nl + 1);
      requests.forEach((r, i) => {
        const key = `${r.op}\0${r.path}`;
        const waiting = inflight.get(key);
        if (waiting) return void waiting.push({ b, i });
        inflight.set(key, [{ b, i }]);
        void answer(r).then((a) => {
          const body = JSON.stringify(a).slice(1);
          for (const w of inflight.get(key)!) process.stdout.write(`{"b":${w.b},"i":${w.i}${body === '}' ? '}' : ',' + body}\n`);
          inflight.delete(key);
        });
      });
    }
  });
  process.stdin.on('end', () => process.exit(0));
  process.stdout.on('error', () => process.exit(0));
}
