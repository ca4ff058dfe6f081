/**
 * The registry model as hand-written interfaces: the public types of the library. zod
 * (lib/model/schema.ts) stays the validator; test/types.test.ts proves that these interfaces
 * and the schema accept the same shapes, so the two cannot drift apart.
 */

/** An inclusive port range, `[first, last]`. */
export type Range = [number, number];

/** TCP, UDP or SCTP. */
export type Protocol = 'TCP' | 'UDP' | 'SCTP';

/** `active`, `planned` (holds its ports, not deployed), `reserved` (likewise) or `dev-only` (never in production). */
export type Status = 'active' | 'planned' | 'reserved' | 'dev-only';

/** What an environment is for. */
export type EnvironmentKind = 'production' | 'staging' | 'development' | 'test';

/** A value that is the same in every environment, or given per environment name. */
export type PerEnvironment<T> = T | Record<string, T>;

/** A fallback port for when the primary is taken on a developer machine: a port, or `{ shift: 10000 }` added to the primary. */
export type Fallback = number | { shift: number };

/** How to tell the service is healthy: free text, or the HTTP path and the port name to probe (or a command). */
export type HealthCheck = string | {
  /** The HTTP path of the check, e.g. `/health`. @default none (a TCP check on `port`) */
  path?: string;
  /** The name of the port the check runs on; it becomes the readiness probe of bound workloads. @default none */
  port?: string;
  /** A command that checks the service, for the docs. @default none */
  command?: string;
};

/**
 * One named port of a service. Exactly one of `port`, `offset`, `auto` or `slot` decides the published
 * port; with none of them the port is allocated automatically. `Port.fixed()`, `Port.offset()`,
 * `Port.auto()` and `Port.slot()` build them.
 */
export interface PortSpec {
  /** The published port, the same in every environment or per environment. @default not fixed */
  port?: PerEnvironment<number>;
  /** Offset from the start of each environment's band; `'auto'` picks one that is free in every band. @default no offset */
  offset?: number | 'auto';
  /** Take the next free port of the service's range and pin it in the lock file. @default true when neither `port` nor `offset` is given */
  auto?: boolean;
  /**
   * A fixed place in the port's category, in each environment: 0 is the category's first port (of
   * its ranges as written, in that environment's band for `offsets`), 1 the next, -1 or `'last'` its
   * last ("the last port of the range is the debug port"). @default no slot
   */
  slot?: number | 'first' | 'last';
  /**
   * The port the container listens on; `'unknown'` where a ports document gives only the published
   * (host) port. Outputs that need the number refuse it (rule `container-port-unknown`). @default the published port
   */
  targetPort?: PerEnvironment<number | 'unknown'>;
  /** The transport protocol. @default 'TCP' */
  protocol?: Protocol;
  /** Kubernetes appProtocol, e.g. `http`, `grpc`, `kubernetes.io/ws`. @default none */
  appProtocol?: string;
  /** The port to use when the primary is taken on a developer machine. @default none */
  fallback?: Fallback;
  /** A NodePort in the environment's NodePort range; the Service becomes a NodePort Service. @default none (ClusterIP) */
  nodePort?: PerEnvironment<number>;
  /** Allows a published port below 1024. @default false */
  privileged?: boolean;
  /** The host address the published port binds to (compose `host_ip`). @default all addresses */
  hostIp?: string;
  /** The category whose ranges this port lies in, when it is not the service's (a document's category per port). @default the service's category */
  category?: string;
  /**
   * Internal only: not published on the host (`true`), or not in the environments listed
   * (`['production']`: published in development only). Compose lists it under `expose` instead of
   * `ports`, the firewall opens nothing for it, and it can have no NodePort or `hostIp` there. It
   * holds its number in its own container only (no collision with other services' ports, no
   * `defacto-port`) and is listed in PORTS.md, marked internal; clients inside (compose services,
   * pods) reach it as before. @default false
   */
  internal?: boolean | string[];
  /** The variable that carries the published port in the `.env` files (e.g. `NLP_API_PORT`). @default `<SERVICE>_<PORT>_PORT` */
  env?: string;
  /** Whether the service's `public` entry reaches this port (`false` keeps a metrics or admin port inside). @default true */
  public?: boolean;
}

/** How a connection URL is written. Credentials are `${VARIABLE}` references, never values. */
export interface UrlSpec {
  /** The scheme, e.g. `postgresql+asyncpg`. @default from the kind or appProtocol (postgres, redis, http, ws …) */
  scheme?: string;
  /** The user, as a reference such as `${POSTGRES_USER}`. @default `${<TARGET>_USER}` for databases */
  user?: string;
  /** The password, as a reference such as `${POSTGRES_PASSWORD}`. @default `${<TARGET>_PASSWORD}` for databases */
  password?: string;
  /** The path, e.g. `/claude_agent` (a database name). @default `/${<TARGET>_DB}` for databases, none otherwise */
  path?: string;
  /** Text after the path, e.g. `/0` for a Redis database or `?sslmode=require`. @default none */
  suffix?: string;
}

/** A declared connection: the only way traffic between services is allowed. */
export interface Connection {
  /** The service or external endpoint connected to. */
  to: string;
  /**
   * The registry that declares the target, when it is another registry resolved together with this
   * one (of the same app, or checked together: `cdk8s-ports check a.yaml b.yaml`). @default this registry
   */
  registry?: string;
  /** The port name on the target. @default its only port */
  port?: string;
  /** Reach the target in this environment instead of the client's own (a cross-environment warning). @default the client's environment */
  environment?: string;
  /** The variable that carries this connection's URL in the client's settings. @default `<TARGET>_URL` */
  env?: string;
  /** How this client writes the URL (overrides the target's `url`). @default the target's */
  url?: UrlSpec;
}

/** A Gateway of the platform's (not generated) that routes attach to: a Gateway API `parentRef`. */
export interface GatewayRef {
  /** The Gateway's name. */
  name: string;
  /** Its namespace. @default the route's (the environment's) namespace */
  namespace?: string;
  /** The listener the route attaches to. @default every listener that allows it */
  sectionName?: string;
}

/** The route a public service asks for from outside, generated in each environment's namespace. */
export interface RouteSpec {
  /** An Ingress (networking.k8s.io/v1), an HTTPRoute or a GRPCRoute (gateway.networking.k8s.io/v1). */
  kind: 'Ingress' | 'HTTPRoute' | 'GRPCRoute';
  /** Host names the route answers, the same in every environment or per environment. @default every host */
  hostnames?: PerEnvironment<string[]>;
  /** The path prefix (Ingress, HTTPRoute). @default '/' */
  path?: string;
  /** The name of the service port the route sends to. @default its only public TCP port */
  port?: string;
  /** The Ingress class (Ingress only). @default the cluster's default class */
  ingressClassName?: string;
  /** The Gateway an HTTPRoute or GRPCRoute attaches to. @default the environment's `gateway` */
  gateway?: GatewayRef;
}

/** The sources a public service admits. */
export interface PublicSpec {
  /** Namespaces allowed in, e.g. the ingress controller's. @default none */
  namespaces?: string[];
  /** Source address blocks allowed in. @default none */
  cidrs?: string[];
  /** An Ingress or Gateway API route to it, generated in each environment's namespace (list the controller's or gateway's namespace in `namespaces`). @default none */
  route?: RouteSpec;
}

/** What services and externals both have: who, what, where. */
export interface EntrySpec {
  /** What it is for (PORTS.md, annotations). @default none */
  description?: string;
  /** The team that owns it. @default none */
  owner?: string;
  /** Its lifecycle. @default 'active' */
  status?: Status;
  /** A category whose ranges its ports must lie in. @default none */
  category?: string;
  /** What it is (postgres, redis, http …): a database keeps its standard port without a warning. @default none */
  kind?: string;
  /** Groups it belongs to, without ranges (a document's second classification: a stack, a tier, a team); listed in PORTS.md. @default none */
  groups?: string[];
  /** The environments it runs in. @default all (dev-only: all but production) */
  environments?: string[];
}

/** A service the registry deploys: named ports, status, owner, connections. */
export interface ServiceSpec extends EntrySpec {
  /** How to tell it is healthy. @default none */
  healthCheck?: HealthCheck;
  /** The image the compose stacks run. @default `${<SERVICE>_IMAGE:-<registry>/<service>:latest}` */
  image?: string;
  /** Ingress from outside the registry: `true` for any source outside its namespaces, or exactly these. @default false */
  public?: boolean | PublicSpec;
  /**
   * Reached only on its own host on purpose (it listens on localhost): no client or public entry is
   * expected, so it is never `unreachable`. @default true when every port's `hostIp` is a loopback address
   */
  localOnly?: boolean;
  /**
   * Services it never runs together with (alternatives in compose profiles, of which one is up at a
   * time): they may publish the same ports without a `collision`. @default none
   */
  exclusiveWith?: string[];
  /** The public hostname it is reached at from outside (behind a reverse proxy), e.g. `git.example.com`; listed in PORTS.md. @default none */
  hostname?: string;
  /** The pod labels its Kubernetes Service selects. @default { 'app.kubernetes.io/name': <service> } */
  selector?: Record<string, string>;
  /** Where processes outside the cluster reach it (a container host at a fixed address), for `.env` and compose URLs. @default localhost */
  host?: string;
  /** Its service name in compose files, when it differs from the registry's. @default the registry name */
  composeName?: string;
  /** How clients write URLs to it. @default from its kind */
  url?: UrlSpec;
  /** Its named ports. */
  ports: Record<string, PortSpec>;
  /** Who it talks to. @default none */
  connectsTo?: Connection[];
}

/** One port of an external endpoint. */
export interface ExternalPort {
  /** The port it listens on. */
  port: number;
  /** The port inside its container, when compose runs it. @default `port` */
  targetPort?: number;
  /** The transport protocol. @default 'TCP' */
  protocol?: Protocol;
  /** Kubernetes appProtocol. @default none */
  appProtocol?: string;
  /** The port to use when the primary is taken on a developer machine. @default none */
  fallback?: Fallback;
  /** Allows a port below 1024. @default false */
  privileged?: boolean;
}

/** Infrastructure the registry does not deploy but whose ports it keeps clear. */
export interface ExternalSpec extends EntrySpec {
  /** The host name clients outside the cluster use. @default localhost from the host, host.docker.internal from compose */
  host?: string;
  /** Run it in the compose stacks with this image. @default none (compose reaches it on the host) */
  image?: string;
  /** Where it lives, for egress policies: address blocks outside the cluster. @default none */
  cidrs?: string[];
  /** … or a namespace in the cluster. @default none */
  namespace?: string;
  /** The labels of its pods in `namespace`. @default every pod of the namespace */
  podSelector?: Record<string, string>;
  /** Its service name in compose files, when it differs from the registry's. @default the registry name */
  composeName?: string;
  /** How clients write URLs to it: scheme, credential references, path, suffix. @default from its kind */
  url?: UrlSpec;
  /** Its named ports. */
  ports: Record<string, ExternalPort>;
}

/** An environment: band, namespace, scope, kind, NodePort range. */
export interface EnvironmentSpec {
  /** The band: every service port of this environment lies in it; offsets count from its start. @default no band */
  range?: Range;
  /** Its Kubernetes namespace. @default '<registry>-<environment>' */
  namespace?: string;
  /** Environments with the same scope share one port space (one host). @default 'default' */
  scope?: string;
  /** What it is for. @default from the name: prod…, dev… or local…, test…, ci…, e2e…, stag…; else 'production' */
  kind?: EnvironmentKind;
  /** The cluster's NodePort range. @default [30000, 32767] */
  nodePortRange?: Range;
  /**
   * Its band is shared with the other registries of the same base: theirs may overlap it (bands
   * of registries sharing a base must not overlap otherwise). @default false
   */
  shared?: boolean;
  /** The Gateway the HTTPRoutes and GRPCRoutes of this environment attach to (the platform's; not generated). @default none */
  gateway?: GatewayRef;
}

/** Named ranges services and externals can be placed in. */
export interface CategorySpec {
  /** Its ranges. @default none (then `offsets`) */
  ranges?: Range[];
  /**
   * Ranges of offsets from the start of each environment's band (`[[0, 19]]`: the first 20 ports of
   * every band), so one layout repeats across environments and projects. @default none
   */
  offsets?: Array<[number, number]>;
  /** The team that owns it. @default none */
  owner?: string;
  /** What it is for. @default none */
  description?: string;
  /** Kept free for later: nothing may be allocated in it. @default false */
  reserved?: boolean;
  /** Ranges kept for the fallbacks of this category's ports: fallbacks must lie in them, primary ports must not. @default none */
  fallbackRanges?: Range[];
  /** How automatic ports are chosen: the first free one, or the next after the highest used, never filling gaps. @default 'first-free' */
  assign?: 'first-free' | 'sequential';
  /**
   * The category this one is a sub-range of (`within: 'api'`): its ranges lie inside that
   * category's and belong to it alone; the enclosing category's own ports are its ranges without
   * its sub-ranges, so nested ranges never overlap. @default none
   */
  within?: string;
}

/** Ports and ranges nothing may use. */
export interface AvoidSpec {
  /** Avoided ports, each with an optional reason. @default none */
  ports?: Array<number | { port: number; reason?: string }>;
  /** Avoided ranges, each with an optional reason. @default none */
  ranges?: Array<Range | { range: Range; reason?: string }>;
}

/** An explicit, reasoned exception to a rule; the findings it matches are shown as waived. */
export interface Waiver {
  /** The rule's id. Rules that keep the output valid cannot be waived. */
  rule: string;
  /** Only findings about this service or external. @default any */
  service?: string;
  /** Only findings in this environment. @default any */
  environment?: string;
  /** Only findings about this port. @default any */
  port?: number;
  /** Why: shown with the finding. */
  reason: string;
  /**
   * A known conflict whose fix is planned, between a waiver and an error: the finding is reported
   * with its fix and counted as planned, and does not fail; `owner` fixes it by `by` (YYYY-MM-DD).
   * @default a plain waiver
   */
  planned?: { owner: string; by: string };
}

/** An entry of the de-facto default port list. */
export interface DefactoEntry {
  /** Whose default the port is, e.g. `PostgreSQL`. */
  what: string;
  /** Service kinds for which this port is their own standard port. @default none */
  kinds?: string[];
}

/** A compose file whose published ports must agree with the registry. */
export interface ComposeCheck {
  /** The file, relative to where the synth or the command runs. */
  file: string;
  /** Compare with this environment only. @default any environment */
  environment?: string;
}

/** A whole registry as plain data (the shape of a ports.yaml file). */
export interface RegistrySpec {
  /** Its name: labels, file headers, the lock file's key. */
  name: string;
  /** What it is for. @default none */
  description?: string;
  /** The shared base it extends (set by `extends`). @default none */
  base?: string;
  /** Environments by name. @default { default: {} } */
  environments?: Record<string, EnvironmentSpec>;
  /** Named ranges. @default none */
  categories?: Record<string, CategorySpec>;
  /** Ports and ranges nothing may use. @default none */
  avoid?: AvoidSpec;
  /**
   * Whether it deploys to Kubernetes: the Kubernetes-only rules (`no-policies`, `unreachable`,
   * `external-unaddressed`, `external-no-host`) apply only then. @default true where Kubernetes
   * output is produced (the constructs, a synth's ports.json) or asked for: a file registry that
   * names a namespace, NodePort, selector or podSelector, or sits beside a cdk8s.yaml
   */
  kubernetes?: boolean;
  /** Change or switch off (`false`) the de-facto default port list. @default the built-in list */
  defactoPorts?: false | Record<string, DefactoEntry | false>;
  /** The services it deploys. @default none */
  services?: Record<string, ServiceSpec>;
  /** The infrastructure whose ports it keeps clear. @default none */
  externals?: Record<string, ExternalSpec>;
  /** Exceptions to rules. @default none */
  waivers?: Waiver[];
  /** Existing compose files to compare with. @default none */
  composeChecks?: ComposeCheck[];
}

/** Options shared by the {@link Port} factories: everything of a port but how its number is chosen. */
export interface PortOptions extends Omit<PortSpec, 'port' | 'offset' | 'auto' | 'slot'> {}

/** Static factories for a service's ports: `Port.offset(765)`, `Port.auto()`, `Port.fixed(8080)`. */
export class Port {
  /** A fixed published port, the same in every environment or per environment (`{ production: 443 }`). */
  public static fixed(port: PerEnvironment<number>, options: PortOptions = {}): PortSpec {
    return { port, ...options };
  }

  /** The same offset from the start of every environment's band (API 8000 / 9000 / 7000). */
  public static offset(offset: number, options: PortOptions = {}): PortSpec {
    return { offset, ...options };
  }

  /** An offset chosen once, free in every band, and pinned in the lock file. */
  public static commonOffset(options: PortOptions = {}): PortSpec {
    return { offset: 'auto', ...options };
  }

  /**
   * A server that listens on its vendor's port (`Port.container(5432)` for PostgreSQL) in every
   * environment: the container keeps it, and each environment publishes the next free port of its
   * band (pinned in the lock file), so banded environments on one host do not collide.
   */
  public static container(targetPort: number, options: Omit<PortOptions, 'targetPort'> = {}): PortSpec {
    return { auto: true, targetPort, ...options };
  }

  /**
   * A fixed place in the port's category in each environment: `Port.slot('last')` is the last port
   * of the category's range (a debug port), `Port.slot(0)` its first, `Port.slot(-2)` the one before the last.
   */
  public static slot(slot: number | 'first' | 'last', options: PortOptions = {}): PortSpec {
    return { slot, ...options };
  }

  /** The next free port of the service's range in each environment, pinned in the lock file. */
  public static auto(options: PortOptions = {}): PortSpec {
    return { auto: true, ...options };
  }

  private constructor() {}
}
