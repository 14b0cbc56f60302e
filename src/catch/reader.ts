// The reader thread of `enospc catch`: reads the trace instance's pipe (opened non-blocking by
// the main thread, which owns it and removes the instance) and posts the failing calls in
// batches. It stops when told (a shared flag), after reading what is queued.
import { parentPort, workerData } from 'node:worker_threads';
import { pollIn, read } from '../sys/libc.js';
import { exitsOf, PipeLines, type RawExit } from './parse.js';

export interface ReaderInput { fd: number; stop: Int32Array }
export type ReaderMessage = { type: 'exits'; exits: RawExit[]; lost: number } | { type: 'end'; error?: string };

const EAGAIN = 11;

function main(): void {
  const { fd, stop } = workerData as ReaderInput;
  const port = parentPort!;
  const buf = Buffer.alloc(64 << 10);
  const lines = new PipeLines();
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
    const { exits, lost } = exitsOf(lines.push(buf.subarray(0, n)));
    if (exits.length || lost) port.postMessage({ type: 'exits', exits, lost } satisfies ReaderMessage);
  }
  port.postMessage({ type: 'end' } satisfies ReaderMessage);
}

main();
