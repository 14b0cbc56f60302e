// `enospc fleet`: the hosts most at risk of ENOSPC, from what their agents export to
// Prometheus. Each host's risks: the series its agent forecasts as filling (soonest earliest
// exhaustion first), then its findings by severity; with the culprit (the pattern holding most
// entries on that mount, or the user) and the command to run there. Then the fleet at large:
// patterns growing on several hosts, users near the inotify limit, hung mounts, agents down.
import { FleetError, Prometheus, type Series } from './prometheus.js';
import { compareText } from '../shared/text.js';
import { RANK } from '../shared/levels.js';

export { FleetError };

export interface FleetRisk {
  resource: string;
  target: string;
  /** seconds to the earliest and the expected exhaustion */
  earliestSeconds: number;
  expectedSeconds: number | null;
  /** the pattern with most entries on that mount, or the user; null when unknown */
  culprit: string | null;
  /** what to run on the host */
  command: string;
}

export interface FleetFinding { check: string; severity: 'warning' | 'critical'; target: string }

export interface FleetHost {
  /** Prometheus's instance label (the agent's address) */
  instance: string;
  risks: FleetRisk[];
  findings: FleetFinding[];
  /** mounts whose statfs fails or hangs */
  hungMounts: string[];
}

export interface FleetReport {
  prometheus: string;
  /** hosts with an agent, most urgent first (hosts with nothing to say last) */
  hosts: FleetHost[];
  /** patterns forecast as filling, by name, on how many hosts */
  patterns: Array<{ pattern: string; hosts: string[] }>;
  /** users at 80% or more of max_user_watches (or instances), where */
  inotify: Array<{ instance: string; user: string; resource: 'inotify_watches' | 'inotify_instances'; ratio: number }>;
  /** agents seen in the last day that Prometheus cannot scrape now */
  agentsDown: string[];
}

const FILLING = 'enospc_forecast_state{state="filling"} == 1';

const key = (...parts: string[]) => parts.join('\0');

/** Ask Prometheus, and rank. */
export async function fleet(url: string): Promise<FleetReport> {
  const p = new Prometheus(url);
  const agents = await p.query('count by (instance) (enospc_build_info)');
  const down = await p.query('up == 0 and on(instance, job) max_over_time(enospc_build_info[1d])');
  if (!agents.length && !down.length) throw new FleetError(`Prometheus at ${p.base} has no enospc metrics (no enospc_build_info): is an enospc agent scraped?`);
  const [earliest, expected, files, findings, hung, watches, instances] = await Promise.all([
    p.query(`(enospc_forecast_exhaustion_earliest_timestamp_seconds - time()) and on(instance, job, resource, target) (${FILLING})`),
    p.query(`(enospc_forecast_exhaustion_timestamp_seconds - time()) and on(instance, job, resource, target) (${FILLING})`),
    p.query('enospc_pattern_files'),
    p.query('enospc_finding'),
    p.query('enospc_filesystem_device_error == 1'),
    p.query('enospc_inotify_watches / on(instance, job) group_left() enospc_inotify_max_user_watches >= 0.8'),
    p.query('enospc_inotify_instances / on(instance, job) group_left() enospc_inotify_max_user_instances >= 0.8'),
  ]);
  const hosts = new Map<string, FleetHost>();
  const host = (instance: string): FleetHost => {
    let h = hosts.get(instance);
    if (!h) hosts.set(instance, h = { instance, risks: [], findings: [], hungMounts: [] });
    return h;
  };
  for (const a of agents) host(a.labels['instance'] ?? '');

  // the pattern with most entries on each host's mount
  const top = new Map<string, Series>();
  for (const s of files) {
    const k = key(s.labels['instance'] ?? '', s.labels['mountpoint'] ?? '');
    if (!top.has(k) || top.get(k)!.value < s.value) top.set(k, s);
  }
  const expectedOf = new Map(expected.map((s) => [key(s.labels['instance'] ?? '', s.labels['resource'] ?? '', s.labels['target'] ?? ''), s.value]));
  for (const s of earliest) {
    const { instance = '', resource = '', target = '' } = s.labels;
    let culprit: string | null = null, command = `enospc doctor ${target}`;
    if (resource === 'inodes' || resource === 'blocks') culprit = top.get(key(instance, target))?.labels['pattern'] ?? null;
    else if (resource === 'inotify_watches') { culprit = target; command = `enospc inotify --user ${target}`; }
    else if (resource === 'pattern') { culprit = target.slice(target.lastIndexOf(':') + 1); command = `enospc top ${target.slice(0, target.lastIndexOf(':'))} --stat`; }
    host(instance).risks.push({ resource, target, earliestSeconds: Math.max(0, Math.round(s.value)), expectedSeconds: expectedOf.has(key(instance, resource, target)) ? Math.max(0, Math.round(expectedOf.get(key(instance, resource, target))!)) : null, culprit, command });
  }
  for (const s of findings) {
    const sev = s.labels['severity'];
    if (sev !== 'warning' && sev !== 'critical') continue;
    host(s.labels['instance'] ?? '').findings.push({ check: s.labels['check'] ?? '', severity: sev, target: s.labels['target'] ?? '' });
  }
  for (const s of hung) host(s.labels['instance'] ?? '').hungMounts.push(s.labels['mountpoint'] ?? '');

  for (const h of hosts.values()) {
    h.risks.sort((a, b) => a.earliestSeconds - b.earliestSeconds);
    h.findings.sort((a, b) => RANK[b.severity] - RANK[a.severity] || compareText(a.check, b.check) || compareText(a.target, b.target));
    h.hungMounts.sort();
  }
  const soonest = (h: FleetHost) => h.risks[0]?.earliestSeconds ?? Infinity;
  const ranked = [...hosts.values()].sort((a, b) => soonest(a) - soonest(b) ||
    b.findings.filter((f) => f.severity === 'critical').length - a.findings.filter((f) => f.severity === 'critical').length ||
    b.findings.length - a.findings.length || compareText(a.instance, b.instance));

  // fleet-wide: growing patterns by name (the mount aside), on how many hosts
  const byPattern = new Map<string, Set<string>>();
  for (const h of ranked) {
    for (const r of h.risks) if (r.resource === 'pattern' && r.culprit) (byPattern.get(r.culprit) ?? byPattern.set(r.culprit, new Set()).get(r.culprit)!).add(h.instance);
  }
  const near = [
    ...watches.map((s) => ({ s, resource: 'inotify_watches' as const })),
    ...instances.map((s) => ({ s, resource: 'inotify_instances' as const })),
  ].map(({ s, resource }) => ({ instance: s.labels['instance'] ?? '', user: s.labels['user'] ?? '', resource, ratio: Math.round(s.value * 1000) / 1000 }))
    .sort((a, b) => b.ratio - a.ratio || compareText(a.instance, b.instance));
  return {
    prometheus: p.base,
    hosts: ranked,
    patterns: [...byPattern].map(([pattern, hs]) => ({ pattern, hosts: [...hs].sort() })).sort((a, b) => b.hosts.length - a.hosts.length || compareText(a.pattern, b.pattern)),
    inotify: near,
    agentsDown: down.map((s) => s.labels['instance'] ?? '').sort(),
  };
}
