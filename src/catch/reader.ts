// The reader thread of `enospc catch`: reads the trace instance's pipe (opened non-blocking by
// the main thread, which owns it and removes the instance) and posts the failing calls in
// batches. It stops when told (a shared flag), after reading what is queued.
import { parentPort, workerData } from 'node:worker_threads';
import { pollIn, read } from '../sys/libc.js';
import { lost, parseExit, type RawExit } from './parse.js';

export interface ReaderInput { fd: number; stop: Int32Array }
export type ReaderMessage = { type: 'exits'; exits: RawExit[]; lost: number } | { type: 'end'; error?: string };

const EAGAIN = 11;

function main(): void {
  const { fd, stop } = workerData as ReaderInput;
  const port = parentPort!;
  const buf = Buffer.alloc(64 << 10);
  let rest = Buffer.alloc(0);
  for (;;) {
    const stopping = Atomics.load(stop, 0) === 1;
    if (!stopping) pollIn(fd, 200);
    const n = read(fd, buf);
    if (n === -EAGAIN || n === 0) {
      if (stopping) break;
      continue;
    }
    if (n < 0) {
      port.postMessage({ type: 'end', error: `reading the trace pipe failed (errno ${-n})` } satisfies ReaderMessage);
      return;
    }
    // whole lines only (a name's UTF-8 bytes may be cut at the end of a read)
    const chunk = rest.length ? Buffer.concat([rest, buf.subarray(0, n)]) : buf.subarray(0, n);
    const end = chunk.lastIndexOf(10);
    rest = Buffer.from(chunk.subarray(end + 1));
    const lines = chunk.toString('utf8', 0, end + 1).split('\n');
    const exits: RawExit[] = [];
    let missed = 0;
    for (const l of lines) {
      const e = parseExit(l);
      if (e) exits.push(e);
      else missed += lost(l);
    }
    if (exits.length || missed) port.postMessage({ type: 'exits', exits, lost: missed } satisfies ReaderMessage);
  }
  port.postMessage({ type: 'end' } satisfies ReaderMessage);
}

main();
