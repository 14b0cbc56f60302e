// enospc trace PATH: names appearing and disappearing under PATH, with the process behind each.
import { startTrace, TraceStartError } from '../trace/run.js';
import { traceHuman, traceJson, traceLive, traceReportLine } from '../report/trace.js';
import { wantColor } from '../report/format.js';
import { inotifyUsage } from '../probe/watch-users.js';
import { userName } from '../probe/users.js';
import { resolveRoot } from './root.js';
import { fail, parseIntOption, UsageError } from './fail.js';
import { parseDuration } from './duration.js';
import { draw, onOutputLost, out, say } from './output.js';

export interface TraceFlags { duration?: string; json?: boolean; events?: boolean; backend?: string; limit: string }

/** The case-004 message: who holds this user's watches. */
function noWatchesLeft(detail: string): string {
  const uid = process.geteuid!();
  const usage = inotifyUsage({});
  const u = usage.users.find((x) => x.uid === uid);
  const limit = usage.limits.inotifyWatches;
  const held = u ? `${u.watches.toLocaleString('en-US')} watches of ${limit ?? '?'} (fs.inotify.max_user_watches) are held by ${userName(uid)}'s processes` : 'the limit fs.inotify.max_user_watches is reached';
  return `${detail}: ${held}; this is the condition enospc diagnoses (see 'enospc inotify --user ${userName(uid)}'); run as root to trace with fanotify, which needs no watches`;
}

export async function runTrace(path: string, flags: TraceFlags): Promise<number> {
  const durationMs = flags.duration === undefined ? undefined : parseDuration(flags.duration);
  const limit = parseIntOption('--limit', flags.limit, 1);
  const backend = flags.backend as 'auto' | 'fanotify' | 'inotify'; // commander checked the choice
  if (backend === 'fanotify' && process.geteuid!() !== 0) fail('--backend fanotify needs root (a filesystem mark)');
  const { root } = resolveRoot(path, 'file events there cannot be traced');

  const liveOn = process.stderr.isTTY === true && !flags.json;
  let liveLines = 0;
  const clearLive = () => {
    if (liveLines) draw(`\x1b[${liveLines}F\x1b[J`);
    liveLines = 0;
  };
  const trace = startTrace(root, {
    backend,
    ...(flags.events ? { onLines: (text: string) => { out(text); } } : {}),
    ...(liveOn ? {
      onLive: (l) => {
        const lines = traceLive(l, root);
        clearLive();
        draw(lines.join('\n') + '\n');
        liveLines = lines.length;
      },
    } : {}),
  });
  let used: string;
  try {
    ({ backend: used } = await trace.ready);
  } catch (e) {
    if (!(e instanceof TraceStartError)) throw e;
    if (e.reason === 'watches') throw new UsageError(noWatchesLeft(`cannot trace ${root} with inotify: no watches left`));
    if (e.reason === 'instances') throw new UsageError(`cannot trace ${root}: no inotify instances left (fs.inotify.max_user_instances); see 'enospc inotify --user ${userName(process.geteuid!())}'`);
    throw new UsageError(`cannot trace ${root}: ${e.message}`);
  }

  // like tcpdump's "listening on": the trace is live from here (stderr, so stdout stays clean)
  say(`enospc: tracing ${root} with ${used} ${durationMs === undefined ? 'until Ctrl-C' : `for ${flags.duration}`}\n`);

  let interrupts = 0;
  const onSignal = () => {
    if (++interrupts > 1) process.exit(130);
    if (liveOn) { clearLive(); draw('stopping: reading what is queued (Ctrl-C again to quit at once)\n'); }
    trace.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // `enospc trace --events | head`: the reader is gone, so is the point of tracing
  onOutputLost(() => trace.stop());
  const timer = durationMs === undefined ? undefined : setTimeout(() => trace.stop(), durationMs);
  const report = await trace.done;
  if (timer) clearTimeout(timer);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  clearLive();
  if (flags.events) {
    // the stream stays JSON lines: the report is the last line
    out(JSON.stringify(traceReportLine(report)) + '\n');
  } else if (flags.json) {
    out(JSON.stringify(traceJson(report), null, 2) + '\n');
  } else {
    out(traceHuman(report, wantColor(process.stdout), limit));
  }
  return 0;
}
