// The agent's catch collector: every system call that fails with ENOSPC (enospc catch's trace
// instance), read every second from the loop without a thread of its own (the pipe is
// non-blocking; an empty read costs one system call), attributed as `enospc catch` does, and
// counted: per command, call and cause since the agent started (enospc_errors_total), and the
// last 5 minutes, which make a critical finding per command and call.
import { openInstance, TracefsError } from '../sys/tracefs.js';
import type { GuardProcess } from '../probe/guard.js';
import { Catcher } from '../catch/catcher.js';
import { TracePipe } from '../catch/pipe.js';
import type { CatchEvent } from '../catch/types.js';
import type { Sample } from './types.js';

/** Commands with a label of their own; the ones after these are counted as "other" (bounded series). */
const TOP_COMMS = 20;
/** What "recent" is: the finding's window, s. */
const RECENT_S = 300;

export class CatchCollector {
  private readonly catcher: Catcher;
  private readonly pipe: TracePipe;
  private readonly timer: NodeJS.Timeout;
  /** comm -> its label (itself, or "other" once TOP_COMMS have labels) */
  private readonly comms = new Map<string, string>();
  private readonly totals = new Map<string, { comm: string; syscall: string; cause: string; count: number }>();
  /** the events of the last RECENT_S seconds (the oldest dropped as time goes) */
  private recent: CatchEvent[] = [];
  /** where the kept events start in `recent` (the ones before have been dropped) */
  private first = 0;
  private lostInPipe = 0;
  private failure: string | null = null;

  private constructor(private readonly opened: ReturnType<typeof openInstance>, guard: GuardProcess) {
    this.catcher = new Catcher(guard);
    this.pipe = new TracePipe(opened.inst.pipe);
    this.timer = setInterval(() => this.poll(), 1000);
    this.timer.unref();
  }

  /** The collector, or the reason it cannot run here (not root, no tracefs, no syscall tracing). */
  static open(guard: GuardProcess): CatchCollector | string {
    try {
      return new CatchCollector(openInstance(256), guard);
    } catch (e) {
      if (e instanceof TracefsError) return e.message;
      return `cannot trace system calls: ${(e as Error).message}`;
    }
  }

  /** Read what the pipe holds now, and attribute it. */
  poll(): void {
    const r = this.pipe.drain();
    if (r.errno !== null) this.failure = `reading the trace pipe failed (errno ${r.errno})`;
    this.lostInPipe += r.lost;
    if (r.exits.length) void this.catcher.events(r.exits, (e) => this.count(e));
  }

  private count(e: CatchEvent): void {
    let comm = this.comms.get(e.comm);
    if (comm === undefined) {
      comm = this.comms.size < TOP_COMMS ? e.comm : 'other';
      if (this.comms.size < 10_000) this.comms.set(e.comm, comm);
    }
    const cause = e.cause.check ?? 'unattributed';
    const key = `${comm}\0${e.syscall}\0${cause}`;
    const t = this.totals.get(key);
    if (t) t.count++;
    else this.totals.set(key, { comm, syscall: e.syscall, cause, count: 1 });
    // the newest 10,000 kept: the oldest dropped by moving the start, the array cut only now and
    // then (a shift per event would copy 10,000 entries each time in a burst)
    this.recent.push(e);
    if (this.recent.length - this.first > 10_000) this.first++;
    if (this.first >= 10_000) {
      this.recent = this.recent.slice(this.first);
      this.first = 0;
    }
  }

  /** What the sample carries: the counters, the last 5 minutes by command and call, how the collector went. */
  async snapshot(now: number): Promise<Pick<Sample, 'errors'> & { findings: Sample['findings']; collector: Sample['collectors'][number] }> {
    const t0 = performance.now();
    this.poll();
    await this.catcher.idle();
    this.recent = this.recent.slice(this.first).filter((e) => e.t >= now - RECENT_S);
    this.first = 0;
    const groups = new Map<string, { comm: string; syscall: string; count: number; causes: Map<string, number>; detail: string }>();
    for (const e of this.recent) {
      const key = `${e.comm}\0${e.syscall}`;
      const g = groups.get(key) ?? { comm: e.comm, syscall: e.syscall, count: 0, causes: new Map(), detail: e.cause.detail };
      g.count++;
      const c = e.cause.check ? `${e.cause.check} ${e.cause.target ?? ''}`.trim() : 'unattributed';
      g.causes.set(c, (g.causes.get(c) ?? 0) + 1);
      g.detail = e.cause.detail;
      groups.set(key, g);
    }
    const findings: Sample['findings'] = [...groups.values()].map((g) => {
      const cause = [...g.causes].sort((a, b) => b[1] - a[1])[0]![0];
      return {
        check: 'enospc.caught', severity: 'critical' as const, target: `${g.comm}:${g.syscall}`,
        title: `${g.comm} got ENOSPC ${g.count} ${g.count === 1 ? 'time' : 'times'} from ${g.syscall} in the last 5 min: ${cause === 'unattributed' ? g.detail : cause}`,
      };
    });
    return {
      errors: { totals: [...this.totals.values()], lost: Math.max(this.lostInPipe, this.opened.inst.overruns()) },
      findings,
      collector: { collector: 'catch', seconds: (performance.now() - t0) / 1000, success: this.failure === null },
    };
  }

  close(): void {
    clearInterval(this.timer);
    this.opened.close();
  }
}
