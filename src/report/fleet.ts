// `enospc fleet`: the hosts most at risk first, then the fleet at large; and the JSON document.
import type { FleetReport } from '../fleet/run.js';
import { displayText } from '../shared/text.js';
import { headedTable, span, style } from './format.js';

export const FLEET_SCHEMA = 1;

/** `enospc fleet --json` (docs/json.md; schemas/fleet.schema.json). */
export type FleetJson = { schema: typeof FLEET_SCHEMA } & FleetReport;

export function fleetJson(r: FleetReport): FleetJson {
  return { schema: FLEET_SCHEMA, ...r };
}

export function fleetHuman(r: FleetReport, color: boolean, limit: number): string {
  const s = style(color);
  const t = (x: string) => displayText(x);
  const atRisk = r.hosts.filter((h) => h.risks.length || h.findings.length || h.hungMounts.length);
  const out = [s.bold(`enospc fleet: ${r.hosts.length} ${r.hosts.length === 1 ? 'host' : 'hosts'} with an agent in ${t(r.prometheus)}, ${atRisk.length} with something to see`)];
  if (atRisk.length) {
    const rows = [['HOST', 'RESOURCE', 'TARGET', 'EARLIEST', 'EXPECTED', 'CULPRIT', 'RUN THERE']];
    for (const h of atRisk.slice(0, limit)) {
      const first = h.risks[0];
      if (first) rows.push([t(h.instance), first.resource, t(first.target), `in ${span(first.earliestSeconds)}`, first.expectedSeconds === null ? '?' : `in ${span(first.expectedSeconds)}`, t(first.culprit ?? '?'), t(first.command)]);
      else {
        const f = h.findings[0];
        rows.push([t(h.instance), f ? f.check : 'filesystem', t(f ? f.target : h.hungMounts[0]!), f ? f.severity : 'hung', '', '', f ? `enospc doctor ${t(f.target)}` : 'enospc doctor']);
      }
    }
    out.push('', ...headedTable(rows, [false, false, false, true, true, false, false], s));
    if (atRisk.length > limit) out.push(s.dim(`... ${atRisk.length - limit} more hosts (-n to show more, --json for all)`));
    const more = atRisk.slice(0, limit).filter((h) => h.risks.length + h.findings.length > 1);
    for (const h of more) {
      out.push('', s.bold(t(h.instance)));
      for (const x of h.risks) out.push(`  ${x.resource} ${t(x.target)}: full in ${span(x.expectedSeconds ?? x.earliestSeconds)} (earliest ${span(x.earliestSeconds)})${x.culprit ? `, culprit ${t(x.culprit)}` : ''}: ${t(x.command)}`);
      for (const f of h.findings) out.push(`  ${f.severity === 'critical' ? s.red('CRITICAL') : s.yellow('WARNING')} ${f.check} ${t(f.target)}`);
      for (const m of h.hungMounts) out.push(`  ${s.yellow('hung')} ${t(m)}: statfs does not answer`);
    }
  } else {
    out.push('nothing is filling, and no agent has a finding at warning or worse');
  }
  if (r.patterns.length) {
    out.push('', s.bold('Patterns growing'));
    for (const p of r.patterns.slice(0, limit)) out.push(`  ${t(p.pattern)} on ${p.hosts.length} ${p.hosts.length === 1 ? 'host' : 'hosts'}: ${p.hosts.slice(0, 5).map(t).join(', ')}${p.hosts.length > 5 ? ', ...' : ''}`);
  }
  if (r.inotify.length) {
    out.push('', s.bold('Users near the inotify limits'));
    for (const u of r.inotify.slice(0, limit)) out.push(`  ${t(u.user)} on ${t(u.instance)}: ${Math.round(u.ratio * 100)}% of max_user_${u.resource === 'inotify_watches' ? 'watches' : 'instances'}`);
  }
  if (r.agentsDown.length) out.push('', s.bold('Agents down'), ...r.agentsDown.map((a) => `  ${t(a)}: not scraped now (seen in the last day)`));
  return out.join('\n') + '\n';
}
