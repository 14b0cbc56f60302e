// Where enospc's output goes, and what happens when it cannot go there: a reader that stopped
// early (`enospc top / | head`: EPIPE), a full filesystem or /dev/full (ENOSPC), a stdout not
// open for writing (EBADF), an I/O error. The command ends quietly with exit status 1 and at
// most one line on stderr (none for EPIPE: the reader has what it wanted), never a stack trace.
//
// The error comes as an event on process.stdout (a pipe, and also a file: SyncWriteStream
// reports a failed write on the next tick), or is thrown at the call; both are recorded here.
// Nothing exits the process from here: the command finishes (or stops, see onOutputLost) and
// the process ends by itself, after its worker threads (ended while loading koffi, one aborts
// the process). The status is set as the process exits, over whatever the command set.
//
// A stdout closed before the start (`>&-`) cannot be told apart: Node opens /dev/null on a
// closed fd 0-2 before any JavaScript runs, so the output is discarded without an error.
import fs from 'node:fs';
import { describeCode } from './fail.js';

let lost: NodeJS.ErrnoException | null = null;
const onLost: Array<() => void> = [];

function outputFailed(e: NodeJS.ErrnoException): void {
  if (lost) return;
  lost = e;
  for (const f of onLost) f();
}

/** Catch write errors on stdout and stderr for the rest of the process. */
export function guardOutput(): void {
  process.stdout.on('error', outputFailed);
  process.stderr.on('error', () => {}); // nowhere left to say anything
  process.on('exit', () => {
    if (!lost) return;
    process.exitCode = 1;
    if (lost.code !== 'EPIPE') say(`enospc: cannot write the output: ${describeCode(lost.code ?? lost.message)}\n`);
  });
}

/**
 * Is stdout a file or a device (not a terminal)? Node writes to those with one write(2) per
 * chunk (SyncWriteStream) and lets a short one be: on a filesystem with a few blocks left, the
 * output would end midway, silently. Those are written here, to the last byte or to the error.
 */
let toFile: boolean | undefined;
function stdoutIsFile(): boolean {
  if (toFile === undefined) {
    try {
      const st = fs.fstatSync(1);
      toFile = st.isFile() || (st.isCharacterDevice() && process.stdout.isTTY !== true);
    } catch {
      toFile = false;
    }
  }
  return toFile;
}

/** Write to stdout; nothing more once it failed. */
export function out(text: string): void {
  if (lost) return;
  try {
    if (!stdoutIsFile()) {
      process.stdout.write(text);
      return;
    }
    const bytes = Buffer.from(text);
    for (let off = 0; off < bytes.length;) off += fs.writeSync(1, bytes, off);
  } catch (e) {
    outputFailed(e as NodeJS.ErrnoException);
  }
}

/** Has stdout failed? */
export function outputLost(): boolean {
  return lost !== null;
}

/** Call `f` once stdout fails (at once if it has): a command that streams stops. */
export function onOutputLost(f: () => void): void {
  if (lost) f();
  else onLost.push(f);
}

/** A message on stderr; one that cannot be written is let go. */
export function say(text: string): void {
  try {
    process.stderr.write(text);
  } catch { /* nowhere to say it */ }
}

/** Terminal drawing on stderr, written at once (progress lines); one that fails is let go. */
export function draw(text: string): void {
  try {
    fs.writeSync(2, text);
  } catch { /* nowhere to draw it */ }
}
