// One progress line on stderr for long work: only on a terminal (and not with --json), only
// after `delayMs` (a second), redrawn at most every `gapMs` (200 ms), cleared at the end.
import { draw } from './output.js';

export interface Progress {
  /** Show `text` (if the line is on and it is time); a function is called only then (a walk reports thousands of times a second). */
  update(text: string | (() => string)): void;
  clear(): void;
}

const OFF: Progress = { update() {}, clear() {} };

export function progressLine(json: boolean | undefined, delayMs = 1000, gapMs = 200): Progress {
  if (process.stderr.isTTY !== true || json) return OFF;
  const t0 = performance.now();
  let last = 0;
  let shown = false;
  return {
    update(text) {
      const now = performance.now();
      if (now - t0 < delayMs || now - last < gapMs) return;
      last = now;
      shown = true;
      draw(`\r\x1b[K${typeof text === 'function' ? text() : text}`);
    },
    clear() {
      if (shown) draw('\r\x1b[K');
      shown = false;
    },
  };
}
