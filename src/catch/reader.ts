// The reader thread of `enospc catch`: reads the trace instance's pipe (opened non-blocking by
// the main thread, which owns it and removes the instance) and posts the failing calls in
// batches. It stops when told (a shared flag), after reading what is queued.
import { parentPort, workerData } from 'node:worker_threads';
import { pollIn } from '../sys/libc.js';
import type { RawExit } from './parse.js';
import { TracePipe } from './pipe.js';

export interface ReaderInput { fd: number; stop: Int32Array }
export type ReaderMessage = { type: 'exits'; exits: RawExit[]; lost: number } | { type: 'end'; error?: string };

function main(): void {
  const { fd, stop } = workerData as ReaderInput;
  const port = parentPort!;
  const pipe = new TracePipe(fd);
  for (;;) {
    const stopping = Atomics.load(stop, 0) === 1;
    if (!stopping) pollIn(fd, 200);
    // a batch of at most 1 MiB a time, so the main thread gets events while a burst goes on
    const r = pipe.drain(16);
    if (r.exits.length || r.lost) port.postMessage({ type: 'exits', exits: r.exits, lost: r.lost } satisfies ReaderMessage);
    if (r.errno !== null) {
      port.postMessage({ type: 'end', error: `reading the trace pipe failed (errno ${r.errno})` } satisfies ReaderMessage);
      return;
    }
    if (stopping && r.empty) break;
  }
  port.postMessage({ type: 'end' } satisfies ReaderMessage);
}

main();
