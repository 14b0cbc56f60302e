// tracefs: a private trace instance that records every system call failing with ENOSPC
// (raw_syscalls:sys_exit filtered on ret == -28). An instance of our own (instances/enospc-PID)
// leaves the top-level buffer and other tools' instances alone; it is removed on the way out,
// and one left by an enospc that was killed is removed by the next run.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';

const PLACES = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'];
const PREFIX = 'enospc-';

/** Why tracing cannot be had, in one line (the CLI's exit 2). */
export class TracefsError extends Error {
  override readonly name = 'TracefsError';
}

/** The tracefs root: mounted already, or mounted now at /sys/kernel/tracing (`mounted` says so). */
export function tracefsRoot(): { root: string; mounted: boolean } {
  for (const p of PLACES) if (fs.existsSync(`${p}/instances`)) return { root: p, mounted: false };
  if (process.geteuid?.() !== 0) throw new TracefsError('tracing system calls needs root (tracefs is not mounted, and only root may mount it)');
  if (!fs.existsSync(PLACES[0]!)) throw new TracefsError('this kernel has no tracefs (/sys/kernel/tracing is missing: CONFIG_TRACING is off)');
  try {
    execFileSync('mount', ['-t', 'tracefs', 'nodev', PLACES[0]!], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    throw new TracefsError(`cannot mount tracefs at ${PLACES[0]}: ${String((e as { stderr?: Buffer }).stderr ?? e).trim().split('\n')[0]}`);
  }
  return { root: PLACES[0]!, mounted: true };
}

/** Unmount the tracefs this run mounted (left mounted when busy: another tracer came meanwhile). */
export function unmountTracefs(root: string): void {
  try {
    execFileSync('umount', [root], { stdio: 'ignore' });
  } catch { /* busy */ }
}

function isEnospc(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('enospc');
  } catch {
    return false;
  }
}

/** Remove the instances of enospc runs that are gone (killed before they could). Returns their names. */
export function removeStaleInstances(root: string): string[] {
  const out: string[] = [];
  let names: string[] = [];
  try {
    names = fs.readdirSync(`${root}/instances`);
  } catch {
    return out;
  }
  for (const n of names) {
    const m = /^enospc-(\d+)$/.exec(n);
    if (!m || Number(m[1]) === process.pid) continue;
    if (isEnospc(Number(m[1]))) continue;
    try {
      fs.rmdirSync(`${root}/instances/${n}`);
      out.push(n);
    } catch { /* in use: a live reader holds it */ }
  }
  return out;
}

/** One private instance recording the system calls that fail with ENOSPC. */
export class EnospcInstance {
  readonly dir: string;
  private fd = -1;
  private removed = false;

  private constructor(readonly root: string, name: string) {
    this.dir = path.join(root, 'instances', name);
  }

  /**
   * Create the instance (per-CPU buffer of `bufferKb`), clocked on CLOCK_BOOTTIME, with
   * raw_syscalls:sys_exit enabled for ret == -28, and open its pipe (non-blocking).
   */
  static create(root: string, bufferKb = 1024): EnospcInstance {
    const event = `${root}/events/raw_syscalls/sys_exit`;
    if (!fs.existsSync(event)) throw new TracefsError('this kernel cannot trace system calls (no raw_syscalls:sys_exit event: CONFIG_FTRACE_SYSCALLS is off)');
    const inst = new EnospcInstance(root, `${PREFIX}${process.pid}`);
    try {
      fs.mkdirSync(inst.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new TracefsError(`cannot create the trace instance ${inst.dir}: ${(e as Error).message}`);
    }
    try {
      const w = (f: string, v: string) => fs.writeFileSync(`${inst.dir}/${f}`, v);
      w('tracing_on', '0');
      w('buffer_size_kb', String(bufferKb));
      w('trace_clock', 'boot');
      w('events/raw_syscalls/sys_exit/filter', 'ret == -28');
      w('events/raw_syscalls/sys_exit/enable', '1');
      inst.fd = fs.openSync(`${inst.dir}/trace_pipe`, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
      w('tracing_on', '1');
    } catch (e) {
      inst.remove();
      throw e instanceof TracefsError ? e : new TracefsError(`cannot set up the trace instance: ${(e as Error).message}`);
    }
    return inst;
  }

  /** The pipe's fd (non-blocking): read by the reader thread. */
  get pipe(): number {
    return this.fd;
  }

  /** Events lost since the start (the buffer full before they were read), summed over the CPUs. */
  overruns(): number {
    let n = 0;
    try {
      for (const cpu of fs.readdirSync(`${this.dir}/per_cpu`)) {
        const m = /^overrun:\s+(\d+)/m.exec(fs.readFileSync(`${this.dir}/per_cpu/${cpu}/stats`, 'utf8'));
        if (m) n += Number(m[1]);
      }
    } catch { /* removed */ }
    return n;
  }

  /** Stop recording, close the pipe and remove the instance (idempotent, synchronous: safe in an exit handler). */
  remove(): void {
    if (this.removed) return;
    this.removed = true;
    try { fs.writeFileSync(`${this.dir}/tracing_on`, '0'); } catch { /* gone */ }
    try { fs.writeFileSync(`${this.dir}/events/raw_syscalls/sys_exit/enable`, '0'); } catch { /* gone */ }
    if (this.fd >= 0) {
      try { fs.closeSync(this.fd); } catch { /* closed */ }
      this.fd = -1;
    }
    // EBUSY while a reader still has the pipe open: a few tries
    for (let i = 0; i < 50; i++) {
      try {
        fs.rmdirSync(this.dir);
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
      }
    }
  }
}

/**
 * Root checked, tracefs mounted if need be, stale instances removed, our instance made: with
 * what was done on the way (notes), and `close`, which removes the instance (and unmounts the
 * tracefs mounted here). `close` also runs when the process exits without calling it.
 */
export function openInstance(bufferKb?: number): { inst: EnospcInstance; notes: string[]; close: () => void } {
  if (process.geteuid?.() !== 0) throw new TracefsError('needs root: it reads the kernel\'s trace of system calls');
  const notes: string[] = [];
  const { root, mounted } = tracefsRoot();
  if (mounted) notes.push(`mounted tracefs at ${root} (unmounted at the end)`);
  const stale = removeStaleInstances(root);
  if (stale.length) notes.push(`removed ${stale.length} trace instance(s) left by enospc runs that were killed: ${stale.join(', ')}`);
  const inst = EnospcInstance.create(root, bufferKb);
  const close = () => {
    process.off('exit', close);
    inst.remove();
    if (mounted) unmountTracefs(root);
  };
  process.once('exit', close);
  return { inst, notes, close };
}
