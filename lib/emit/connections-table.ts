import type { ResolvedRegistry } from '../model/resolved';
import { lookup } from './lookup';
import { markdownCell } from './escape';

/**
 * Who talks to whom, as a markdown table: one row per connection, one column per
 * environment with the port the NetworkPolicies open there (a service's container port,
 * an address-based external's published port), `—` where the connection does not exist.
 */
export function connectionsTable(resolved: ResolvedRegistry): string {
  const envs = resolved.environments.map(e => e.name);
  const externals = resolved.spec.externals ?? {};
  const services = resolved.spec.services ?? {};
  const rows = new Map<string, { from: string; to: string; port: string; cells: Map<string, string> }>();
  const row = (key: string, from: string, to: string, port: string) => {
    let r = rows.get(key);
    if (!r) rows.set(key, r = { from, to, port, cells: new Map() });
    return r;
  };

  for (const c of resolved.connections) {
    const a = lookup(resolved).target(c);
    if (!a) continue;
    const ext = c.peer ? undefined : externals[c.to];
    const to = c.peer
      ? `${c.peer.registry}/${c.to} (registry ${c.peer.registry}${c.targetEnvironment !== c.environment ? `, in ${c.targetEnvironment}` : ''})`
      : ext
        ? `${c.to} (external${ext.namespace ? `, namespace ${ext.namespace}` : ext.cidrs?.length ? `, ${ext.cidrs.join(' ')}` : ''})`
        : c.targetEnvironment !== c.environment ? `${c.to} (in ${c.targetEnvironment})` : c.to;
    const port = ext && !ext.namespace ? a.port : a.targetPort;
    row(`${c.from}|${to}|${c.portName}`, c.from, to, `${c.portName}/${a.protocol}`).cells.set(c.environment, String(port));
  }
  // Clients in other registries, in the environment of this registry they reach.
  for (const c of resolved.inbound ?? []) {
    const a = lookup(resolved).allocation(c.environment, c.to, c.portName);
    if (!a) continue;
    const from = `${c.fromRegistry}/${c.from} (registry ${c.fromRegistry}, namespace ${c.fromNamespace})`;
    row(`${from}|${c.to}|${c.portName}`, from, c.to, `${c.portName}/${a.protocol}`).cells.set(c.environment, a.targetPortUnknown ? 'unknown' : String(a.targetPort));
  }
  for (const [name, svc] of Object.entries(services)) {
    if (!svc.public) continue;
    const from = svc.public === true ? 'anything outside the registry (public)'
      : [...(svc.public.namespaces ?? []).map(n => `namespace ${n}`), ...(svc.public.cidrs ?? [])].join(', ') + ' (public)';
    for (const a of resolved.environments.flatMap(e => lookup(resolved).allocationsOf(e.name, name))) {
      row(`public|${name}|${a.portName}`, from, name, `${a.portName}/${a.protocol}`).cells.set(a.environment, a.targetPortUnknown ? 'unknown' : String(a.targetPort));
    }
  }

  const lines = [
    `| from | to | port | ${envs.join(' | ')} |`,
    `| --- | --- | --- | ${envs.map(() => '---').join(' | ')} |`,
    ...[...rows.values()].sort((x, y) => x.from.localeCompare(y.from) || x.to.localeCompare(y.to) || x.port.localeCompare(y.port))
      .map(r => `| ${markdownCell(r.from)} | ${markdownCell(r.to)} | ${markdownCell(r.port)} | ${envs.map(e => r.cells.get(e) ?? '—').join(' | ')} |`),
  ];
  return `${lines.join('\n')}\n`;
}
