/**
 * A container port that is unknown (`targetPort: unknown`: a ports document that lists only the
 * published host port). The registry can hold, check and document it (PORTS.md says `unknown`, the
 * compose overlay leaves it out and says so), but an output that must write the container's
 * number refuses it here, naming the port, the environment and the output:
 *
 * - Kubernetes (the Service's `targetPort`, the NetworkPolicy port that admits it, a bound
 *   workload's container port), where Kubernetes output is produced or asked for;
 * - compose `expose`, for a port internal in that environment;
 * - a connection to it, which a compose client writes as `<service>:<container port>`.
 */
import { Finding, finding } from '../model/finding';
import { Environment, SpecIndex, isInternalIn, presentIn } from '../model/normalize';
import type { PortSpec, ServiceSpec } from '../model/schema';
import type { Syntax } from './rule';

/** A service port that says its container port is unknown somewhere. */
export interface UnknownTarget {
  readonly service: string;
  readonly portName: string;
  readonly entry: ServiceSpec;
  readonly port: PortSpec;
}

/** Whether a port says `targetPort: unknown` in some environment. */
export function hasUnknownTarget(port: { readonly targetPort?: unknown }): boolean {
  const t = port.targetPort;
  return t === 'unknown' || (typeof t === 'object' && t !== null && Object.values(t).includes('unknown'));
}

/** The `container-port-unknown` findings of the ports that say their container port is unknown. */
export function containerPortFindings(registry: string, unknown: readonly UnknownTarget[], index: SpecIndex, environments: readonly Environment[],
  kubernetes: boolean, syntax: Syntax): Finding[] {
  if (!unknown.length) return [];
  // Who connects to each such port (`service.port` -> clients), read once and only when one exists.
  const clients = new Map<string, string[]>();
  const wanted = new Set(unknown.map(u => u.service));
  for (let s = 0; s < index.services.length; s++) {
    for (const c of index.services[s].connectsTo ?? []) {
      if (!wanted.has(c.to) || c.registry !== undefined) continue;
      const target = unknown.find(u => u.service === c.to && (c.port === undefined ? Object.keys(u.entry.ports).length === 1 : c.port === u.portName));
      if (!target) continue;
      const key = `${target.service}.${target.portName}`;
      clients.set(key, [...new Set([...(clients.get(key) ?? []), index.serviceNames[s]])]);
    }
  }
  const out: Finding[] = [];
  for (const u of unknown) {
    const label = `${u.service}.${u.portName}`;
    const path = `services.${u.service}.ports.${u.portName}.targetPort`;
    const give = syntax === 'code' ? `give ${label} the port its container listens on (targetPort: <port>)` : `set ${path}: <the port its container listens on>`;
    for (const env of presentIn(u.entry, environments)) {
      const t = u.port.targetPort;
      if ((typeof t === 'object' ? t[env.name] : t) !== 'unknown') continue;
      const where = { registry, service: u.service, portName: u.portName, environment: env.name, path };
      const needs = [
        ...(kubernetes ? ["the Kubernetes Service's targetPort, the NetworkPolicy port that admits it and a bound workload's container port"] : []),
        ...(isInternalIn(u.port, env.name) ? [`compose's expose (it is internal in ${env.name})`] : []),
        ...(clients.has(label) ? [`the compose address of its client${clients.get(label)!.length === 1 ? '' : 's'} ${clients.get(label)!.join(', ')} (<service>:<container port>)`] : []),
      ];
      if (!needs.length) continue;
      const fix = [give, ...(kubernetes && syntax === 'data' ? ['or set kubernetes: false if the registry does not deploy to Kubernetes'] : [])].join(', ');
      out.push(finding('container-port-unknown', `${label} (${env.name}) has an unknown container port (targetPort: unknown), and these need its number: ${needs.join('; ')}`, where, fix));
    }
  }
  return out;
}
