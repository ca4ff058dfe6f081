/**
 * What a workload of a registered service must agree with, as data: the container ports, the pod
 * labels the generated Service and NetworkPolicies select, the connection variables and the
 * readiness probe. The constructs (lib/constructs/bind.ts) apply it to the user's workloads.
 */
import type { Allocation, ResolvedRegistry } from '../model/resolved';
import { envVarStem, presentIn } from '../model/normalize';
import { podSelectorOf } from '../model/labels';
import { lookup } from './lookup';
import { connectionVariables, kubernetesDialect } from './urls';

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
  return podSelectorOf(service, resolved.spec.services?.[service] ?? {});
}

/** Where a pod in `env` reaches a connection's target: the target's Service in its namespace, or the external's address. */
function clusterHost(resolved: ResolvedRegistry, to: string, a: Allocation, peer: boolean): string | undefined {
  const ext = peer ? undefined : resolved.spec.externals?.[to];
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
  const svc = resolved.spec.services?.[service];
  // A service without ports (a client only) runs wherever it is present; one with ports where they are allocated.
  const env_ = resolved.environments.find(e => e.name === environment);
  const portless = !!svc && Object.keys(svc.ports ?? {}).length === 0 && !!env_ && presentIn(svc, [env_]).length > 0;
  if (!mine.length && !portless) return undefined;
  const env = connectionVariables(resolved, environment, service, (c, a) => {
    const host = clusterHost(resolved, c.to, a, c.peer !== undefined);
    return host === undefined ? undefined : { host, port: a.port };
  }, kubernetesDialect);
  const health = resolved.spec.services?.[service]?.healthCheck;
  // The probe's port: the one the health check names, else the service's only port (the checker refuses a path without a port on a service with several).
  const portNames = Object.keys(resolved.spec.services?.[service]?.ports ?? {});
  const probePort = typeof health === 'object' ? health.port ?? (health.path !== undefined && portNames.length === 1 ? portNames[0] : undefined) : undefined;
  const healthPort = probePort !== undefined ? mine.find(a => a.portName === probePort) : undefined;
  // The container is told where to listen, as the compose overlays tell it: PORT, and PORT_<NAME> when it has several.
  const own: Record<string, string> = mine.length ? { PORT: String(mine[0].targetPort) } : {};
  if (mine.length > 1) for (const a of mine) own[`PORT_${envVarStem(a.portName)}`] = String(a.targetPort);
  return {
    namespace: mine[0]?.namespace ?? env_!.namespace,
    podLabels: podLabelsOf(resolved, service),
    ports: mine.map(a => ({ name: a.portName, containerPort: a.targetPort, protocol: a.protocol })),
    env: { ...own, ...env },
    ...(healthPort ? { readiness: { port: healthPort.targetPort, ...(typeof health === 'object' && health.path ? { path: health.path } : {}) } } : {}),
  };
}
