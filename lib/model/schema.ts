import { z } from 'zod';

/**
 * The registry model: one zod schema per concept. Its TypeScript types are the hand-written
 * interfaces of lib/model/types.ts (the public, documented ones), re-exported here under the
 * same names; test/types.test.ts proves that each schema's output (`z.infer`) is that type, so
 * the construct API and the file loader accept exactly the same shapes.
 *
 * Numbers are only type-checked here. Range and integer checks live in the rules
 * (lib/rules), because a rule finding can name the service, environment and port and
 * propose a fix, which a schema error cannot.
 */

/** Transport protocols a port can use. */
export const PROTOCOLS = ['TCP', 'UDP', 'SCTP'] as const;
/** Lifecycle of a service: `planned` and `reserved` hold their ports but are not deployed. */
export const STATUSES = ['active', 'planned', 'reserved', 'dev-only'] as const;
/** What an environment is for; `dev-only` services never run in `production`. */
export const ENVIRONMENT_KINDS = ['production', 'staging', 'development', 'test'] as const;

const name = z.string().min(1);

/**
 * An inclusive port range, `[first, last]`; in a file also the shorthand a ports document writes:
 * `"8000-8099"`, `"10000+"` (to 65535), `"0-1023"` (the system ports: port 0 is no port, so a
 * shorthand starting at 0 starts at 1), and one port, `9163` or `"9163"` (`[9163, 9163]`).
 */
export const RangeSchema = z.union([
  z.tuple([z.number(), z.number()]),
  z.string().regex(/^\s*\d+\s*(-\s*\d+|\+)?\s*$/, 'a range is [first, last], "first-last", "first+" or one port').transform((text): [number, number] => {
    const [, a, b, plus] = /^\s*(\d+)\s*(?:-\s*(\d+)|(\+))?\s*$/.exec(text)!;
    if (b === undefined && plus === undefined) return [Number(a), Number(a)];
    return [Math.max(Number(a), 1), b === undefined ? 65535 : Number(b)];
  }),
  // One port, as a ports document lists a category of one (`9163`).
  z.number().transform((port): [number, number] => [port, port]),
], { error: 'a range is [first, last], "first-last", "first+" or one port' });
/** An inclusive port range, `[first, last]`. */
export type { Range } from './types';

/** A value that is the same in every environment, or given per environment name. */
const perEnvironment = <T extends z.ZodType>(value: T) => z.union([value, z.record(z.string(), value)]);

/** Schema of a protocol: TCP, UDP or SCTP. */
export const ProtocolSchema = z.enum(PROTOCOLS);
/** TCP, UDP or SCTP. */
export type { Protocol } from './types';

/** Schema of a service status. */
export const StatusSchema = z.enum(STATUSES);
/** `active`, `planned`, `reserved` or `dev-only`. */
export type { Status } from './types';

/** Schema of a fallback port: a number, or `{ shift }` added to the primary port. */
export const FallbackSchema = z.union([
  z.number(),
  z.strictObject({ shift: z.number() }),
]);
/** A fallback port for when the primary is taken on a developer machine: a port, or `{ shift: 10000 }`. */
export type { Fallback } from './types';

/** Schema of a health check: free text, or `{ path, port, command }`. */
export const HealthCheckSchema = z.union([
  z.string(),
  z.strictObject({
    path: z.string().optional(),
    port: z.string().optional(),
    command: z.string().optional(),
  }),
]);
/** How to tell the service is healthy (documented in PORTS.md). */
export type { HealthCheck } from './types';

/**
 * One named port of a service. Exactly one of `port`, `offset`, `auto` or `slot` decides the
 * published port; with none of them the port is allocated automatically.
 */
export const PortSpecSchema = z.strictObject({
  /** Explicit published port, the same in every environment or per environment. */
  port: perEnvironment(z.number()).optional(),
  /** Offset from the start of each environment's band; `'auto'` picks one free in every band. */
  offset: z.union([z.number(), z.literal('auto')]).optional(),
  /** Next free port in the service's range, pinned in the lock file. */
  auto: z.boolean().optional(),
  /** A fixed place in the port's category in each environment: 0 its first port, 1 the next, -1 (or 'last') its last, 'first'. */
  slot: z.union([z.number().int(), z.enum(['first', 'last'])]).optional(),
  /** The port the container listens on; 'unknown' when only the published (host) port is documented. @default the published port */
  targetPort: perEnvironment(z.union([z.number(), z.literal('unknown')])).optional(),
  /** @default 'TCP' */
  protocol: ProtocolSchema.optional(),
  /** Kubernetes appProtocol, e.g. 'http', 'ws', 'grpc'. */
  appProtocol: z.string().optional(),
  /** Port to use when the primary is taken on a developer machine. */
  fallback: FallbackSchema.optional(),
  /** A NodePort, which must lie in the environment's NodePort range. */
  nodePort: perEnvironment(z.number()).optional(),
  /** Explicit opt-in for a published port below 1024. @default false */
  privileged: z.boolean().optional(),
  /** Host address the published port binds to (compose `host_ip`). */
  hostIp: z.string().optional(),
  /** Whether the service's `public` entry reaches this port (`false` keeps a metrics or admin port inside). @default true */
  public: z.boolean().optional(),
  /** The category whose ranges this port lies in, when it is not the service's. @default the service's category */
  category: z.string().optional(),
  /** Not published on the host (`true`), or not in the environments listed: compose lists it under `expose`, the firewall opens nothing. @default false */
  internal: z.union([z.boolean(), z.array(z.string())]).optional(),
  /** The variable that carries the published port in the `.env` files. @default `<SERVICE>_<PORT>_PORT` */
  env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a variable name is letters, digits and "_", not starting with a digit').optional(),
});
/** One named port of a service: exactly one of `port`, `offset`, `auto` or `slot` (none: automatic), plus target port, protocol, appProtocol, fallback, NodePort, privileged opt-in and host address. */
export type { PortSpec } from './types';

/** A `${VARIABLE}` reference: credentials are never values in the registry. */
const variableReference = z.string().regex(/^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/, 'credentials are ${VARIABLE} references (e.g. ${POSTGRES_PASSWORD}), never values');

/** Schema of how a connection URL is written: scheme, credentials (references only), path and suffix. */
export const UrlSpecSchema = z.strictObject({
  /** e.g. `postgresql+asyncpg`. */
  scheme: z.string().regex(/^[a-z][a-z0-9+.-]*$/, 'a URL scheme is letters, digits, "+", "-" and "."').optional(),
  user: variableReference.optional(),
  password: variableReference.optional(),
  /** e.g. `/claude_agent` (a database name). */
  path: z.string().regex(/^\/[^\s?#]*$/, 'a path starts with "/" and has no spaces, "?" or "#"').optional(),
  /** e.g. `/0` for a Redis database, or `?sslmode=require`. */
  suffix: z.string().regex(/^[^\s]*$/, 'a suffix has no spaces').optional(),
});
/** How a connection URL is written. */
export type { UrlSpec } from './types';

/** Schema of a declared connection from a service to a service or external. */
export const ConnectionSchema = z.strictObject({
  /** The service or external endpoint connected to. */
  to: name,
  /**
   * The registry that declares the target, when it is another registry resolved together with this
   * one (of the same app, or checked together: `cdk8s-ports check a.yaml b.yaml`). @default this registry
   */
  registry: z.string().optional(),
  /** The port name on the target. @default its only port */
  port: z.string().optional(),
  /**
   * Reach the target in this environment instead of the client's own: a deliberate
   * cross-environment path, reported as a warning. @default the client's environment
   */
  environment: z.string().optional(),
  /** The variable that carries this connection's URL in the client's settings. @default `<TARGET>_URL` */
  env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a variable name is letters, digits and "_", not starting with a digit').optional(),
  /** How this client writes the URL (overrides the target's `url`). */
  url: UrlSpecSchema.optional(),
});
/** A declared connection: the only way traffic between services is allowed. */
export type { Connection } from './types';

/** The kinds of route a public service can ask for. */
export const ROUTE_KINDS = ['Ingress', 'HTTPRoute', 'GRPCRoute'] as const;

/** Schema of a reference to a Gateway the platform runs (not generated): a Gateway API `parentRef`. */
export const GatewayRefSchema = z.strictObject({
  /** The Gateway's name. */
  name,
  /** Its namespace. @default the route's (the environment's) namespace */
  namespace: z.string().optional(),
  /** The listener of the Gateway the route attaches to. @default every listener that allows it */
  sectionName: z.string().optional(),
});
/** A Gateway of the platform's that routes attach to. */
export type { GatewayRef } from './types';

/** Schema of the route a public service asks for from outside: an Ingress, an HTTPRoute or a GRPCRoute. */
export const RouteSpecSchema = z.strictObject({
  kind: z.enum(ROUTE_KINDS),
  /** Host names the route answers, the same in every environment or per environment. @default every host */
  hostnames: perEnvironment(z.array(z.string())).optional(),
  /** The path prefix (Ingress, HTTPRoute). @default '/' */
  path: z.string().optional(),
  /** The name of the service port the route sends to. @default its only public TCP port */
  port: z.string().optional(),
  /** The Ingress class (Ingress only). @default the cluster's default class */
  ingressClassName: z.string().optional(),
  /** The Gateway an HTTPRoute or GRPCRoute attaches to. @default the environment's `gateway` */
  gateway: GatewayRefSchema.optional(),
});
/** The route a public service asks for. */
export type { RouteSpec } from './types';

/** Schema of the sources a public service admits. */
export const PublicSpecSchema = z.strictObject({
  /** Namespaces allowed in, e.g. the ingress controller's. */
  namespaces: z.array(z.string()).optional(),
  /** Source address blocks allowed in. */
  cidrs: z.array(z.string()).optional(),
  /** An Ingress or Gateway API route to it, generated in each environment's namespace. @default none */
  route: RouteSpecSchema.optional(),
});
/** Sources a public service admits: namespaces and CIDRs. */
export type { PublicSpec } from './types';

/** What services and externals both have: who, what, where. */
const entryFields = {
  description: z.string().optional(),
  owner: z.string().optional(),
  /** @default 'active' */
  status: StatusSchema.optional(),
  /** Category whose ranges the ports must lie in. */
  category: z.string().optional(),
  /** What it is (postgres, redis, http …); lets a database keep its standard port. */
  kind: z.string().optional(),
  /** Environments it runs in. @default all (dev-only: all but production) */
  environments: z.array(z.string()).optional(),
  /** Groups it belongs to, without ranges (a document's second classification: a stack, a tier, a team). */
  groups: z.array(z.string().min(1, 'a group is a non-empty name')).optional(),
};

/** Schema of a service the registry deploys. */
export const ServiceSpecSchema = z.strictObject({
  ...entryFields,
  healthCheck: HealthCheckSchema.optional(),
  image: z.string().optional(),
  /**
   * Ingress from outside the registry: `true` for any source outside this registry's
   * namespaces, or exactly the given namespaces and CIDRs. @default false
   */
  public: z.union([z.boolean(), PublicSpecSchema]).optional(),
  /** Reached only on its own host on purpose (it listens on localhost): no client or public entry is expected. @default true when every port's hostIp is a loopback address */
  localOnly: z.boolean().optional(),
  /** Services it never runs together with (compose profiles of which one is up): they may share its ports. @default none */
  exclusiveWith: z.array(z.string()).optional(),
  /** The public hostname it is reached at from outside (behind a reverse proxy), e.g. git.example.com; listed in PORTS.md. @default none */
  hostname: z.string().optional(),
  /** Pod labels the Kubernetes Service selects. @default { 'app.kubernetes.io/name': <service> } */
  selector: z.record(z.string(), z.string()).optional(),
  /** Where processes outside the cluster reach it (a container host at a fixed address), for `.env` and compose URLs. @default localhost */
  host: z.string().optional(),
  /** Its service name in compose files, when it differs from the registry's. @default the registry name */
  composeName: z.string().optional(),
  /** How clients write URLs to it. */
  url: UrlSpecSchema.optional(),
  ports: z.record(z.string(), PortSpecSchema),
  connectsTo: z.array(ConnectionSchema).optional(),
});
/** A service the registry deploys: named ports, status, owner, connections. */
export type { ServiceSpec } from './types';

/** Schema of one port of an external endpoint. */
export const ExternalPortSchema = z.strictObject({
  port: z.number(),
  targetPort: z.number().optional(),
  protocol: ProtocolSchema.optional(),
  appProtocol: z.string().optional(),
  fallback: FallbackSchema.optional(),
  privileged: z.boolean().optional(),
});
/** One port of an external endpoint. */
export type { ExternalPort } from './types';

/** Infrastructure the registry does not deploy but whose ports it must keep clear. */
export const ExternalSpecSchema = z.strictObject({
  ...entryFields,
  /** Host name clients outside the cluster use. @default localhost from the host, host.docker.internal from compose */
  host: z.string().optional(),
  /** Run it in the compose stacks with this image; without one, compose reaches it on the host. */
  image: z.string().optional(),
  /** Where it lives, for egress policies: address blocks outside the cluster … */
  cidrs: z.array(z.string()).optional(),
  /** … or a namespace in the cluster (with `podSelector` labels). */
  namespace: z.string().optional(),
  podSelector: z.record(z.string(), z.string()).optional(),
  /** Its service name in compose files, when it differs from the registry's. @default the registry name */
  composeName: z.string().optional(),
  /** How clients write URLs to it: scheme, credential references, path, suffix. */
  url: UrlSpecSchema.optional(),
  ports: z.record(z.string(), ExternalPortSchema),
});
/** Infrastructure the registry does not deploy but whose ports it keeps clear. */
export type { ExternalSpec } from './types';

/** Schema of an environment. */
export const EnvironmentSpecSchema = z.strictObject({
  /** The band: every service port of this environment lies in it; offsets count from its start. */
  range: RangeSchema.optional(),
  /** @default '<registry>-<environment>' */
  namespace: z.string().optional(),
  /** Environments with the same scope share one port space (one host). @default 'default' */
  scope: z.string().optional(),
  /** @default from the name: prod…, dev… or local…, test…, ci…, e2e…, stag…; else 'production' */
  kind: z.enum(ENVIRONMENT_KINDS).optional(),
  /** @default [30000, 32767] */
  nodePortRange: RangeSchema.optional(),
  /** Its band is shared with the other registries of the base (or checked together): theirs may overlap it. @default false */
  shared: z.boolean().optional(),
  /** The Gateway the HTTPRoutes and GRPCRoutes of this environment attach to (the platform's; not generated). @default none */
  gateway: GatewayRefSchema.optional(),
});
/** An environment: band, namespace, scope, kind, NodePort range. */
export type { EnvironmentSpec } from './types';

/**
 * Schema of a range of offsets from the start of an environment's band: `[first, last]` or
 * `"first-last"`, both counted from 0 (the band's first port).
 */
export const OffsetRangeSchema = z.union([
  z.tuple([z.number(), z.number()]),
  z.string().regex(/^\s*\d+\s*-\s*\d+\s*$/, 'an offset range is [first, last] or "first-last", counted from the band\'s first port (0)').transform((text): [number, number] => {
    const [, a, b] = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(text)!;
    return [Number(a), Number(b)];
  }),
], { error: 'an offset range is [first, last] or "first-last", counted from the band\'s first port (0)' });

/** Schema of a category of ranges. */
export const CategorySpecSchema = z.strictObject({
  /** Its port ranges. @default none (then `offsets`) */
  ranges: z.array(RangeSchema).optional(),
  /**
   * Ranges of offsets from the start of each environment's band, so one layout repeats in every
   * band (`offsets: ["0-19"]` is the first 20 ports of each). @default none
   */
  offsets: z.array(OffsetRangeSchema).optional(),
  owner: z.string().optional(),
  description: z.string().optional(),
  /** Kept free for later: nothing may be allocated in it. @default false */
  reserved: z.boolean().optional(),
  /** Ranges kept for the fallbacks of this category's ports: fallbacks must lie in them, primary ports must not. */
  fallbackRanges: z.array(RangeSchema).optional(),
  /** How automatic ports are chosen: the first free one, or the next after the highest used (gaps are never filled). @default 'first-free' */
  assign: z.enum(['first-free', 'sequential']).optional(),
  /**
   * The category this one is a sub-range of: its ranges lie inside that category's, and belong to
   * it alone (the enclosing category's own ports are its ranges without its sub-ranges). @default none
   */
  within: z.string().optional(),
}).refine(c => (c.ranges?.length ?? 0) > 0 || (c.offsets?.length ?? 0) > 0, { message: 'a category has ranges, offsets (from the start of each band), or both', path: ['ranges'] });
/** Named ranges services and externals can be placed in. */
export type { CategorySpec } from './types';

/** Schema of an avoided port, with an optional reason. */
export const AvoidPortSchema = z.union([
  z.number(),
  z.strictObject({ port: z.number(), reason: z.string().optional() }),
]);
/** Schema of an avoided range, with an optional reason. */
export const AvoidRangeSchema = z.union([
  RangeSchema,
  z.strictObject({ range: RangeSchema, reason: z.string().optional() }),
]);
/** Schema of the avoided ports and ranges. */
export const AvoidSpecSchema = z.strictObject({
  ports: z.array(AvoidPortSchema).optional(),
  ranges: z.array(AvoidRangeSchema).optional(),
});
/** Ports and ranges nothing may use. */
export type { AvoidSpec } from './types';

/** An explicit, reasoned exception to a rule; findings it matches are shown as waived. */
export const WaiverSchema = z.strictObject({
  rule: z.string(),
  service: z.string().optional(),
  environment: z.string().optional(),
  port: z.number().optional(),
  reason: z.string().min(1),
  /** A known conflict whose fix is planned: who fixes it and by when (YYYY-MM-DD). Reported and counted with its fix, not failing. */
  planned: z.strictObject({ owner: z.string().min(1), by: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date is YYYY-MM-DD') }).optional(),
});
/** An explicit, reasoned exception to a rule. */
export type { Waiver } from './types';

/** Schema of an entry of the de-facto default port list. */
export const DefactoEntrySchema = z.strictObject({
  what: z.string(),
  /** Service kinds for which this port is their own standard port. */
  kinds: z.array(z.string()).optional(),
});

/** Schema of a whole registry: the one source of the TypeScript types and the file format. */
export const RegistrySpecSchema = z.strictObject({
  name,
  description: z.string().optional(),
  /**
   * The shared base this registry extends (set by `extends`). Registries with the same base
   * share its environments and infrastructure, and are checked against each other.
   */
  base: z.string().optional(),
  /** @default { default: {} } */
  environments: z.record(z.string(), EnvironmentSpecSchema).optional(),
  categories: z.record(z.string(), CategorySpecSchema).optional(),
  avoid: AvoidSpecSchema.optional(),
  /**
   * Whether the registry deploys to Kubernetes: the Kubernetes-only rules (no-policies, unreachable,
   * external-unaddressed, external-no-host) apply only then. @default true where Kubernetes output is
   * produced (the constructs, a synth's ports.json) or asked for (see docs/reference.md)
   */
  kubernetes: z.boolean().optional(),
  /**
   * De-facto default ports that really collide on laptops and clusters. `false` turns the
   * check off; an object adds (or, with `false`, removes) entries. @default the built-in list
   */
  defactoPorts: z.union([
    z.literal(false),
    z.record(z.string(), z.union([DefactoEntrySchema, z.literal(false)])),
  ]).optional(),
  services: z.record(z.string(), ServiceSpecSchema).optional(),
  externals: z.record(z.string(), ExternalSpecSchema).optional(),
  waivers: z.array(WaiverSchema).optional(),
  /** Existing compose files whose published ports must agree with the registry. */
  composeChecks: z.array(z.strictObject({
    file: z.string(),
    /** Compare with this environment only. @default any environment */
    environment: z.string().optional(),
  })).optional(),
});
/** A whole registry as plain data (the shape of a ports.yaml file). */
export type { RegistrySpec } from './types';
