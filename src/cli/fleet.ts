// enospc fleet --prometheus URL: the hosts most at risk, from what their agents export.
import { fleet, FleetError } from '../fleet/run.js';
import { fleetHuman, fleetJson } from '../report/fleet.js';
import { wantColor } from '../report/format.js';
import { parseIntOption, UsageError } from './fail.js';
import { out } from './output.js';

export interface FleetFlags { prometheus?: string; json?: boolean; limit: string }

export async function runFleet(flags: FleetFlags): Promise<number> {
  const limit = parseIntOption('--limit', flags.limit, 1);
  const url = flags.prometheus ?? process.env['ENOSPC_PROMETHEUS'];
  if (!url) throw new UsageError('enospc fleet needs --prometheus URL (or ENOSPC_PROMETHEUS), e.g. http://prometheus:9090');
  let r;
  try {
    r = await fleet(url);
  } catch (e) {
    if (e instanceof FleetError) throw new UsageError(e.message, e.exitCode);
    throw e;
  }
  if (flags.json) out(JSON.stringify(fleetJson(r), null, 2) + '\n');
  else out(fleetHuman(r, wantColor(process.stdout), limit));
  // as doctor: 2 when a host is critical or will be within 4 h, 1 when any risk or finding, else 0
  const critical = r.hosts.some((h) => h.findings.some((f) => f.severity === 'critical') || h.risks.some((x) => x.earliestSeconds < 4 * 3600));
  return critical ? 2 : r.hosts.some((h) => h.risks.length || h.findings.length || h.hungMounts.length) || r.agentsDown.length ? 1 : 0;
}
