// The end of a trace: what was queued when it was told to stop still belongs to it; what comes
// after does not.
import type { Source, TraceEvent } from './types.js';

/**
 * Read what `source` has queued at this moment: processed until `deadline` (epoch ms), the rest
 * read and counted as dropped, so that none of it goes unsaid. `each` runs after every processed
 * read. Returns the events counted as dropped here.
 */
export function drainQueued(source: Source, emit: (e: TraceEvent) => void, deadline: number, each: () => void = () => {}): number {
  // in the source's own unit (fanotify: events; inotify: bytes), which pump and skip return
  let left = source.queued();
  while (left > 0 && Date.now() < deadline) {
    const n = source.pump(emit);
    if (n <= 0) return 0;
    left -= n;
    each();
  }
  const before = source.stats.dropped;
  while (left > 0) {
    const n = source.skip(left);
    if (n <= 0) break;
    left -= n;
  }
  return source.stats.dropped - before;
}
