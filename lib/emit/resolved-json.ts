import type { ResolvedRegistry } from '../model/resolved';

export const RESOLVED_FORMAT_VERSION = 1;

/**
 * `ports.json`: the resolved registry for tools that do not run TypeScript (the CLI,
 * dashboards, scripts). Allocations are ordered by environment (as declared), then port.
 */
export function resolvedJson(resolved: ResolvedRegistry): string {
  const envOrder = new Map(resolved.environments.map((e, i) => [e.name, i]));
  const allocations = [...resolved.allocations].sort((a, b) =>
    envOrder.get(a.environment)! - envOrder.get(b.environment)! || a.port - b.port || a.protocol.localeCompare(b.protocol) ||
    a.service.localeCompare(b.service) || a.portName.localeCompare(b.portName));
  const doc = {
    formatVersion: RESOLVED_FORMAT_VERSION,
    generatedBy: 'cdk8s-ports',
    registry: resolved.spec.name,
    ...(resolved.spec.description ? { description: resolved.spec.description } : {}),
    environments: resolved.environments.map(e => ({
      name: e.name, namespace: e.namespace, scope: e.scope, kind: e.kind, ...(e.band ? { band: e.band } : {}), nodePortRange: e.nodePortRange,
    })),
    categories: resolved.spec.categories ?? {},
    avoid: resolved.spec.avoid ?? {},
    allocations,
    connections: resolved.connections,
    ...(resolved.inbound?.length ? { inbound: resolved.inbound } : {}),
    findings: resolved.findings,
    // The registry itself, so that tools can re-run the checks without TypeScript.
    spec: resolved.spec,
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
