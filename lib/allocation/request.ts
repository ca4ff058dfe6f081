import type { Environment } from '../model/normalize';
import type { Allocation } from '../model/resolved';
import type { ExternalPort, ExternalSpec, Fallback, PortSpec, Protocol, Range, ServiceSpec } from '../model/schema';
import { ianaService } from '../model/well-known';
import type { PortSpace } from './port-space';

export type { Allocation } from '../model/resolved';

/** One declared port of a service or external, shared by every environment it is placed in. */
export interface PortDecl {
  readonly of: 'service' | 'external';
  readonly service: string;
  readonly portName: string;
  readonly protocol: Protocol;
  readonly kind?: string;
  readonly category?: string;
  readonly privileged: boolean;
  /** Key path of the port in the registry. */
  readonly path: string;
  readonly fallback?: Fallback;
  readonly spec: PortSpec | ExternalPort;
  readonly entry: ServiceSpec | ExternalSpec;
  /** What every environment's allocation shares, read once from the spec (see {@link declOf}). */
  readonly common: Pick<Allocation, 'appProtocol' | 'hostIp' | 'status' | 'category' | 'kind'>;
  /** The declared target port and NodePort (services may give them per environment). */
  readonly targetPort: PortSpec['targetPort'];
  readonly nodePort: PortSpec['nodePort'];
}

/** The declaration of one port of a service or external: what all its environments share. */
export function declOf(of: 'service' | 'external', service: string, portName: string, path: string,
  spec: PortSpec | ExternalPort, entry: ServiceSpec | ExternalSpec): PortDecl {
  const p = spec as PortSpec & ExternalPort;
  return {
    of, service, portName, protocol: p.protocol ?? 'TCP', kind: entry.kind, category: (p as { category?: string }).category ?? entry.category, privileged: p.privileged ?? false,
    path, fallback: p.fallback, spec, entry,
    targetPort: p.targetPort, nodePort: of === 'service' ? p.nodePort : undefined,
    common: {
      appProtocol: p.appProtocol || undefined,
      hostIp: (of === 'service' && p.hostIp) || undefined,
      status: entry.status ?? 'active',
      category: (p as { category?: string }).category || entry.category || undefined,
      kind: entry.kind || undefined,
    },
  };
}

/**
 * A port to place in one environment: the declaration plus what the environment adds. Kept
 * small, since a registry has one per port and environment (a hundred thousand in large ones).
 */
export interface Request {
  readonly decl: PortDecl;
  readonly env: Environment;
  /** Band ∩ category ranges: where an automatic port or a fix may go. */
  readonly ranges: readonly Range[];
  /** The port space of the environment's scope and this protocol. */
  readonly space: PortSpace;
  /** Externals only: the same listener for every environment of a scope. */
  readonly shared: string | undefined;
  /**
   * What the request was placed as, once it is: the request is then its own placement (see
   * Placement in ./placement.ts), so that a hundred thousand ports do not each get one more object.
   */
  allocation?: Allocation;
}

/** Lock key of an automatic port: `environment/service/port`. */
export const lockKey = (environment: string, service: string, portName: string) => `${environment}/${service}/${portName}`;

/** The {@link lockKey} of a request. */
export const lockKeyOf = (r: Request) => lockKey(r.env.name, r.decl.service, r.decl.portName);

/** `pourtier.http (production)`, or `postgres.main (external)`: an external is one listener for all environments of its scope. */
export const portLabel = (service: string, portName: string, of: 'service' | 'external', environment: string) =>
  `${service}.${portName} (${of === 'external' ? 'external' : environment})`;

/** The {@link portLabel} of a request. */
export const labelOf = (r: Request) => portLabel(r.decl.service, r.decl.portName, r.decl.of, r.env.name);

/** A per-environment value (`8000` or `{ production: 8000 }`) for one environment. */
export function pick<T>(value: T | Record<string, T> | undefined, env: string): T | undefined {
  return value === undefined || typeof value !== 'object' || value === null ? value as T | undefined : (value as Record<string, T>)[env];
}

/**
 * The allocation a request resolves to, its keys always in the same order (ports.json is diffed in
 * review). Without `details`, the port's IANA name (what only outputs show) is left out.
 */
export function buildAllocation(r: Request, port: number, source: Allocation['source'], fallback?: number, note?: string, details = true): Allocation {
  const d = r.decl;
  const env = r.env;
  const common = d.common;
  // Per-environment values only where the port declares them (most ports do not).
  const declared = d.targetPort === undefined ? undefined : pick(d.targetPort, env.name);
  // An unknown container port (`targetPort: unknown`) stands as the published port, marked.
  const targetPort = declared === undefined || declared === 'unknown' ? port : declared;
  const nodePort = d.nodePort === undefined ? undefined : pick(d.nodePort, env.name);
  // One object shape for every allocation (absent fields are undefined, which JSON leaves out):
  // registries have a hundred thousand of them.
  return {
    environment: env.name, namespace: env.namespace, scope: env.scope, of: d.of, service: d.service, portName: d.portName, port,
    targetPort,
    targetPortUnknown: declared === 'unknown' ? true : undefined,
    protocol: d.protocol,
    appProtocol: common.appProtocol,
    nodePort,
    fallback,
    hostIp: common.hostIp,
    status: common.status,
    category: common.category,
    kind: common.kind,
    source,
    iana: details ? ianaService(port, d.protocol)?.name : undefined,
    note,
  };
}

/** An integer in 1-65535. */
export const validPort = (n: number) => Number.isInteger(n) && n >= 1 && n <= 65535;
