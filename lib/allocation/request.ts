import type { Environment } from '../model/normalize';
import type { ExternalPort, ExternalSpec, Fallback, PortSpec, Protocol, Range, ServiceSpec, Status } from '../model/schema';
import { ianaService } from '../model/well-known';
import type { PortAllocator } from './port-allocator';

/** One port of one service (or external) in one environment, fully resolved. */
export interface Allocation {
  /** The environment. */
  readonly environment: string;
  /** The environment's Kubernetes namespace. */
  readonly namespace: string;
  /** The port space (host) the environment shares with others of the same scope. */
  readonly scope: string;
  /** A service the registry deploys, or an external endpoint. */
  readonly of: 'service' | 'external';
  /** The service's or external's name. */
  readonly service: string;
  /** The port's name. */
  readonly portName: string;
  /** The published port: Service port in Kubernetes, host port in compose. */
  readonly port: number;
  /** The port the container listens on. */
  readonly targetPort: number;
  /** TCP, UDP or SCTP. */
  readonly protocol: Protocol;
  /** Kubernetes appProtocol. */
  readonly appProtocol?: string;
  /** The NodePort, when declared. */
  readonly nodePort?: number;
  /** The port to use when the primary is taken on a developer machine. */
  readonly fallback?: number;
  /** Host address the published port binds to. */
  readonly hostIp?: string;
  /** The service's status. */
  readonly status: Status;
  /** The category whose ranges apply. */
  readonly category?: string;
  /** What the service is (postgres, http …). */
  readonly kind?: string;
  /** How the port was chosen. */
  readonly source: 'explicit' | 'offset' | 'auto';
  /** The IANA service name registered for this port, for information. */
  readonly iana?: string;
}

/** A port to place: where it lives and what constrains it. Plain data, built once per port and environment. */
export interface Request {
  readonly env: Environment;
  readonly of: 'service' | 'external';
  readonly service: string;
  readonly portName: string;
  readonly protocol: Protocol;
  readonly kind?: string;
  readonly category?: string;
  readonly privileged: boolean;
  /** Key path of the port in the registry. */
  readonly path: string;
  /** Band ∩ category ranges: where an automatic port or a fix may go. */
  readonly ranges: readonly Range[];
  readonly fallback?: Fallback;
  readonly spec: PortSpec | ExternalPort;
  readonly entry: ServiceSpec | ExternalSpec;
  /** The port space of the environment's scope and this protocol. */
  readonly space: PortAllocator;
  /** Externals only: the same listener for every environment of a scope. */
  readonly shared?: string;
}

/** Lock key of an automatic port. */
export const lockKeyOf = (r: Request) => `${r.env.name}/${r.service}/${r.portName}`;

/** `pourtier.http (production)`, or `postgres.main (external)`: an external is one listener for all environments of its scope. */
export const labelOf = (r: Pick<Request, 'service' | 'portName' | 'env' | 'of'>) =>
  `${r.service}.${r.portName} (${r.of === 'external' ? 'external' : r.env.name})`;

/** A per-environment value (`8000` or `{ production: 8000 }`) for one environment. */
export function pick<T>(value: T | Record<string, T> | undefined, env: string): T | undefined {
  return value === undefined || typeof value !== 'object' || value === null ? value as T | undefined : (value as Record<string, T>)[env];
}

/** The allocation a request resolves to, its keys always in the same order (ports.json is diffed in review). */
export function buildAllocation(r: Request, port: number, source: Allocation['source']): Allocation {
  const p = r.spec as PortSpec & ExternalPort;
  const env = r.env;
  const service = r.of === 'service';
  // One object shape for every allocation (absent fields are undefined, which JSON leaves out):
  // registries have a hundred thousand of them.
  return {
    environment: env.name, namespace: env.namespace, scope: env.scope, of: r.of, service: r.service, portName: r.portName, port,
    targetPort: (service ? pick(p.targetPort as PortSpec['targetPort'], env.name) : p.targetPort) ?? port,
    protocol: r.protocol,
    appProtocol: p.appProtocol || undefined,
    nodePort: service ? pick(p.nodePort, env.name) : undefined,
    fallback: undefined,
    hostIp: (service && p.hostIp) || undefined,
    status: r.entry.status ?? 'active',
    category: r.entry.category || undefined,
    kind: r.entry.kind || undefined,
    source,
    iana: ianaService(port, r.protocol)?.name,
  };
}
