/**
 * What a registry resolves to: allocations, connections, findings and the lock. These are the
 * types every layer above the model reads (rules, emitters, constructs, the CLI), so they live
 * here, at the bottom, and every import points down.
 */
import type { Finding } from './finding';
import type { Environment } from './normalize';
import type { Protocol, RegistrySpec, Status, UrlSpec } from './schema';

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
  /** The port the container listens on (the published port where {@link targetPortUnknown} says it is not known). */
  readonly targetPort: number;
  /**
   * Set where the registry says the container port is unknown (`targetPort: unknown`): `targetPort`
   * then holds the published port, which no output writes as the container's (rule `container-port-unknown`). @default known
   */
  readonly targetPortUnknown?: true;
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
  /** For an automatic port: the well-known ports its range starts with that allocation stepped over. @default none */
  readonly note?: string;
}

/**
 * The lock pins automatic allocations, like a package lock pins versions: once a port
 * is chosen it stays until its entry is deleted. Keys are `<env>/<service>/<port>` for
 * ports and `<service>/<port>` for common band offsets.
 */
export interface Lock {
  /** `<env>/<service>/<port>` -> port. */
  readonly ports: Record<string, number>;
  /** `<service>/<port>` -> common band offset. */
  readonly offsets: Record<string, number>;
}

/** The `ports.lock.json` file: one lock per registry. */
export interface LockFile {
  /** Always 1 for now. */
  readonly lockfileVersion: 1;
  /** Locks by registry name. */
  readonly registries: Record<string, Lock>;
}

/** A declared connection from a client in one environment, where both ends exist. */
export interface ResolvedConnection {
  /** The client's environment. */
  readonly environment: string;
  /** The client service. */
  readonly from: string;
  /** The service or external it reaches. */
  readonly to: string;
  /** The target's port. */
  readonly portName: string;
  /** The target's environment: the client's own unless the connection crosses environments. */
  readonly targetEnvironment: string;
  /** Whether the target is a service of the registry or an external endpoint. */
  readonly targetKind: 'service' | 'external';
  /** The variable that carries the URL in the client's settings, when the connection names one. */
  readonly env?: string;
  /** How the client writes the URL, when the connection says. */
  readonly url?: UrlSpec;
  /** The target, when it is a service of another registry resolved together with this one. */
  readonly peer?: PeerTarget;
}

/** A connection's target in another registry: all a client's emitters need of it. */
export interface PeerTarget {
  /** The registry that declares the target. */
  readonly registry: string;
  /** The target's port in its environment (its namespace, number, protocol, kind). */
  readonly allocation: Allocation;
  /** The labels of the target's pods. */
  readonly selector: Readonly<Record<string, string>>;
  /** Where processes outside the cluster reach it, when the target declares a `host`. */
  readonly host?: string;
  /** How clients write URLs to it, when the target declares a `url`. */
  readonly url?: UrlSpec;
}

/** A connection into this registry from a service of another registry resolved together with it. */
export interface InboundConnection {
  /** The target's environment (in this registry). */
  readonly environment: string;
  /** The target service (of this registry). */
  readonly to: string;
  /** The target's port. */
  readonly portName: string;
  /** The client's registry. */
  readonly fromRegistry: string;
  /** The client service. */
  readonly from: string;
  /** The client's environment (in its registry). */
  readonly fromEnvironment: string;
  /** The client's namespace. */
  readonly fromNamespace: string;
  /** The labels of the client's pods. */
  readonly fromSelector: Readonly<Record<string, string>>;
}

/** Everything a registry resolves to: the input of every emitter and of `ports.json`. */
export interface ResolvedRegistry {
  /** The registry as data, after the schema (and any base it extends). */
  readonly spec: RegistrySpec;
  /** Its environments with every default filled in. */
  readonly environments: readonly Environment[];
  /** Every port of every service and external in every environment it runs in. */
  readonly allocations: readonly Allocation[];
  /** Every declared connection, per client environment. */
  readonly connections: readonly ResolvedConnection[];
  /** Connections into this registry's services from other registries resolved with it. @default none */
  readonly inbound?: readonly InboundConnection[];
  /** Every finding, waived ones included (marked `waived`). */
  readonly findings: readonly Finding[];
  /** The lock after this run: pinned automatic ports, new ones added, unused ones dropped. */
  readonly lock: Lock;
  /** True when no unwaived error was found: emitters may run. */
  readonly ok: boolean;
}

/** An empty lock: nothing pinned yet. */
export function emptyLock(): Lock {
  return { ports: {}, offsets: {} };
}
