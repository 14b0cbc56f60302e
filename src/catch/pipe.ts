// A trace instance's pipe (opened non-blocking): read what it holds, as failing calls. Used by
// catch's reader thread and by the agent's catch collector.
import { read } from '../sys/libc.js';
import { exitsOf, PipeLines, type RawExit } from './parse.js';

const EAGAIN = 11;

export class TracePipe {
  private readonly buf = Buffer.alloc(64 << 10);
  private readonly lines = new PipeLines();

  constructor(private readonly fd: number) {}

  /**
   * Read until the pipe is empty, or `maxReads` reads of 64 KiB: the calls read, the events the
   * pipe said it lost, whether it was found empty, and a read error (errno) if one came.
   */
  drain(maxReads = Infinity): { exits: RawExit[]; lost: number; empty: boolean; errno: number | null } {
    const exits: RawExit[] = [];
    let lost = 0;
    for (let i = 0; i < maxReads; i++) {
      const n = read(this.fd, this.buf);
      if (n === -EAGAIN || n === 0) return { exits, lost, empty: true, errno: null };
      if (n < 0) return { exits, lost, empty: true, errno: -n };
      const got = exitsOf(this.lines.push(this.buf.subarray(0, n)));
      for (const x of got.exits) exits.push(x);
      lost += got.lost;
    }
    return { exits, lost, empty: false, errno: null };
  }
}
