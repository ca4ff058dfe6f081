/**
 * What a workload of a registered service must agree with, as data: the container ports, the pod
 * labels the generated Service and NetworkPolicies select, the connection variables and the
 * readiness probe. The constructs (lib/constructs/bind.ts) apply it to the user's workloads.
 */
import type { Allocation, ResolvedRegistry } from '../model/resolved';
import { envVarStem } from '../model/normalize';
import { ALIASES, schemeOf, urlFor } from './compose';
import { lookup } from './lookup';

/** One container port of a bound workload. */
export interface WorkloadPort {
  readonly name: string;
  readonly containerPort: number;
  readonly protocol: string;
}

/** Everything a workload of `service` in one environment takes from the registry. */
export interface WorkloadSpec {
  readonly namespace: string;
  /** The labels the service's Service and NetworkPolicies select. */
  readonly podLabels: Readonly<Record<string, string>>;
  readonly ports: readonly WorkloadPort[];
  /** Connection settings, named as in the compose overlays: `<TARGET>_HOST`, `_PORT`, `_URL`, DATABASE_URL … */
  readonly env: Readonly<Record<string, string>>;
  /** A readiness probe on the declared health check, when it names a port (HTTP GET with a path, else TCP). */
  readonly readiness?: { readonly port: number; readonly path?: string };
}

/** The pod labels the generated Service (and its NetworkPolicies) select for `service`. */
export function podLabelsOf(resolved: ResolvedRegistry, service: string): Record<string, string> {
  return { ...(resolved.spec.services?.[service]?.selector ?? { 'app.kubernetes.io/name': service }) };
}

/** Where a pod in `env` reaches a connection's target: the target's Service in its namespace, or the external's address. */
function clusterHost(resolved: ResolvedRegistry, to: string, a: Allocation): string | undefined {
  const ext = resolved.spec.externals?.[to];
  if (!ext) return `${to}.${a.namespace}.svc.cluster.local`;
  if (ext.namespace) return `${to}.${ext.namespace}.svc.cluster.local`;
  if (ext.host) return ext.host;
  const single = ext.cidrs?.find(c => /\/(32|128)$/.test(c));
  return single?.replace(/\/\d+$/, '');
}

/** The workload spec of `service` in `environment`, or undefined when it does not run there. */
export function workloadSpec(resolved: ResolvedRegistry, service: string, environment: string): WorkloadSpec | undefined {
  const index = lookup(resolved);
  const mine = index.allocationsOf(environment, service).filter(a => a.of === 'service');
  if (!mine.length) return undefined;
  const env: Record<string, string> = {};
  const connections = index.connectionsFrom(environment, service);
  const perTarget = new Map<string, number>();
  for (const c of connections) perTarget.set(c.to, (perTarget.get(c.to) ?? 0) + 1);
  const aliases = new Map<string, string[]>();
  for (const c of connections) {
    const a = index.allocation(c.targetEnvironment, c.to, c.portName);
    if (!a) continue;
    const host = clusterHost(resolved, c.to, a);
    if (!host) continue;
    const stem = perTarget.get(c.to)! > 1 ? envVarStem(c.to, c.portName) : envVarStem(c.to);
    env[`${stem}_HOST`] = host;
    env[`${stem}_PORT`] = String(a.port);
    const url = urlFor(c.to, a, { host, port: a.port });
    if (url) {
      env[`${stem}_URL`] = url;
      const alias = ALIASES[schemeOf(a.kind, a.appProtocol) ?? ''];
      if (alias) aliases.set(alias, [...(aliases.get(alias) ?? []), url]);
    }
  }
  // DATABASE_URL and REDIS_URL only where they are unambiguous, as in compose.
  for (const [alias, urls] of aliases) if (urls.length === 1) env[alias] = urls[0];
  const health = resolved.spec.services?.[service]?.healthCheck;
  const healthPort = typeof health === 'object' && health.port !== undefined ? mine.find(a => a.portName === health.port) : undefined;
  return {
    namespace: mine[0].namespace,
    podLabels: podLabelsOf(resolved, service),
    ports: mine.map(a => ({ name: a.portName, containerPort: a.targetPort, protocol: a.protocol })),
    env: Object.fromEntries(Object.entries(env).sort(([x], [y]) => (x < y ? -1 : 1))),
    ...(healthPort ? { readiness: { port: healthPort.targetPort, ...(typeof health === 'object' && health.path ? { path: health.path } : {}) } } : {}),
  };
}
