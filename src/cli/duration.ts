// --duration for the commands that run until stopped (trace, catch).
import { parseSpan } from '../clean/rules.js';
import { fail } from './fail.js';

/** `90`, `90s`, `500ms`, `5m`, `1h30m` as milliseconds (a systemd time span), for --duration. */
export function parseDuration(text: string): number {
  const v = parseSpan(text);
  if (v === null) fail(`--duration takes a time like 60s, 5m, 1h or 500ms, not '${text}'`);
  if (!(v > 0)) fail(`--duration must be more than 0, not '${text}'`);
  return v;
}
