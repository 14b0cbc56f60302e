// enospc catch: every system call that fails with ENOSPC, as it happens, with the process and
// the limit it hit; a summary per command, call and cause at the end.
import { startCatch, TracefsError } from '../catch/run.js';
import { catchEventJson, catchHuman, catchJson, catchLine, catchReportLine } from '../report/catch.js';
import { wantColor } from '../report/format.js';
import { parseIntOption, UsageError } from './fail.js';
import { parseDuration } from './duration.js';
import { onOutputLost, out, say } from './output.js';

export interface CatchFlags { duration?: string; json?: boolean; events?: boolean; limit: string }

export async function runCatch(flags: CatchFlags): Promise<number> {
  const durationMs = flags.duration === undefined ? undefined : parseDuration(flags.duration);
  const limit = parseIntOption('--limit', flags.limit, 1);
  if (flags.json && flags.events) throw new UsageError('--json and --events are two forms of the same output: choose one');
  const color = wantColor(process.stdout);
  let c;
  try {
    c = startCatch({
      onEvent: (e) => {
        if (flags.events) out(JSON.stringify(catchEventJson(e)) + '\n');
        else if (!flags.json) out(catchLine(e, color) + '\n');
      },
    });
  } catch (e) {
    if (e instanceof TracefsError) throw new UsageError(`cannot catch: ${e.message}`);
    throw e;
  }
  for (const n of c.notes) say(`enospc: ${n}\n`);
  say(`enospc: catching every system call that fails with ENOSPC ${durationMs === undefined ? 'until Ctrl-C' : `for ${flags.duration}`}\n`);
  let interrupts = 0;
  const onSignal = () => {
    if (++interrupts > 1) process.exit(130); // the exit handler removes the trace instance
    c.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  onOutputLost(() => c.stop());
  const timer = durationMs === undefined ? undefined : setTimeout(() => c.stop(), durationMs);
  let report;
  try {
    report = await c.done;
  } catch (e) {
    if (e instanceof TracefsError) throw new UsageError(e.message, 1);
    throw e;
  } finally {
    if (timer) clearTimeout(timer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (flags.events) out(JSON.stringify(catchReportLine(report)) + '\n');
  else if (flags.json) out(JSON.stringify(catchJson(report), null, 2) + '\n');
  else out((report.summary.length ? '\n' : '') + catchHuman(report, color, limit));
  return 0;
}
