// From what the trace pipe says (a thread, a call number, a time) to a CatchEvent: the process
// behind the thread (read once while it lives), the call's name in its ABI, and the limit it
// hit. Shared by `enospc catch` (reader thread) and the agent's catch collector (polling).
import { abiOf, syscallName, type Abi } from '../sys/syscalls.js';
import { bootSeconds } from '../sys/libc.js';
import type { GuardProcess } from '../probe/guard.js';
import { procInfo, readOr, startTime, type ProcInfo } from '../probe/procinfo.js';
import { userName } from '../probe/users.js';
import { Attributor } from './attribute.js';
import type { RawExit } from './parse.js';
import type { CatchEvent } from './types.js';

/** The thread group of thread `tid`, or `tid` when it is gone. */
function tgidOf(tid: number): number {
  const m = /^Tgid:\s+(\d+)/m.exec(readOr(`/proc/${tid}/status`) ?? '');
  return m ? Number(m[1]) : tid;
}

/** How long a thread's process is taken as known without looking again, ms. */
const RECHECK_MS = 1000;

export class Catcher {
  private readonly attribute: Attributor;
  private readonly procs = new Map<number, { info: ProcInfo; abi: Abi | null }>();
  /** thread -> its process, checked at most once a second (a failing loop makes thousands of calls a second) */
  private readonly threads = new Map<number, { at: number; value: { info: ProcInfo; abi: Abi | null } }>();
  /** the instance's clock (CLOCK_BOOTTIME) to epoch seconds */
  private readonly offset = Date.now() / 1000 - bootSeconds();
  private chain: Promise<unknown> = Promise.resolve();

  constructor(guard: GuardProcess) {
    this.attribute = new Attributor(guard);
  }

  /** A pid is read once while it lives; a reused one (another start time) is read again. */
  private who(tid: number): { info: ProcInfo; abi: Abi | null } {
    const now = Date.now();
    const hit = this.threads.get(tid);
    if (hit && now - hit.at < RECHECK_MS) return hit.value;
    const value = this.lookUp(tid);
    this.threads.set(tid, { at: now, value });
    if (this.threads.size > 4096) this.threads.delete(this.threads.keys().next().value!);
    return value;
  }

  private lookUp(tid: number): { info: ProcInfo; abi: Abi | null } {
    const pid = tgidOf(tid);
    const known = this.procs.get(pid);
    if (known && known.info.start === startTime(pid)) return known;
    const p = { info: procInfo(pid), abi: abiOf(pid) };
    if (!p.info.gone) this.procs.set(pid, p);
    if (this.procs.size > 4096) this.procs.delete(this.procs.keys().next().value!);
    return p;
  }

  private async one(x: RawExit): Promise<CatchEvent> {
    const { info, abi } = this.who(x.tid);
    const syscall = syscallName(abi, x.nr);
    const cause = await this.attribute.cause(syscall, { pid: info.pid, uid: info.uid, gone: info.gone });
    return {
      t: Math.round((x.ts + this.offset) * 1e6) / 1e6, pid: info.gone ? x.tid : info.pid, tid: x.tid,
      // the comm the kernel recorded at the call: the process may have exec'd or exited since
      comm: x.comm, uid: info.uid, user: info.uid === null ? null : userName(info.uid), unit: info.unit, container: info.container,
      syscall, nr: x.nr, abi, gone: info.gone, cause,
    };
  }

  /** The events of `exits`, in order (calls are attributed one after another, in the order they came). */
  events(exits: RawExit[], each: (e: CatchEvent) => void): Promise<void> {
    const next = this.chain.then(async () => {
      for (const x of exits) each(await this.one(x));
    });
    this.chain = next.catch(() => {});
    return next;
  }

  /** Resolves when every event handed over so far is attributed. */
  idle(): Promise<unknown> {
    return this.chain;
  }
}
