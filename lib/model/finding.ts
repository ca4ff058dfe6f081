/**
 * A finding is data. The synth, the CLI and the tests all read the same shape; tests
 * assert on `rule` and `where`, people read `message` and `fix`.
 */
/** Errors stop the synth; warnings are printed; `info` says something worth knowing once. */
export type Severity = 'error' | 'warning' | 'info';

/** Where a finding points: any of registry, service, environment, port, key path and file position. */
export interface Where {
  /** The registry's name. */
  readonly registry?: string;
  /** The service or external. */
  readonly service?: string;
  /** The environment. */
  readonly environment?: string;
  /** The port number concerned. */
  readonly port?: number;
  /** The named port of the service. */
  readonly portName?: string;
  /** The category concerned. */
  readonly category?: string;
  /** Another party to the finding (the other service of a collision, the other range of an overlap). */
  readonly other?: string;
  /** Key path in the registry, e.g. `services.pourtier.ports.http.port`. */
  readonly path?: string;
  /** Source file, with line and column when known (`ports.yaml:12:7`). */
  readonly file?: string;
}

/** One problem the checker found, as data. */
export interface Finding {
  /** The rule's id (see {@link RULES}). */
  readonly rule: RuleId;
  /** `error` stops the synth, `warning` does not. */
  readonly severity: Severity;
  /** What is wrong, naming the culprit. */
  readonly message: string;
  /** Where it is. */
  readonly where: Where;
  /** How to fix it. */
  readonly fix?: string;
  /** Set when a registry waiver matched: the finding is shown but does not fail the synth. */
  readonly waived?: string;
  /** Set when the waiver that matched records a planned fix: who fixes it, by when. The finding keeps its fix. */
  readonly planned?: { readonly owner: string; readonly by: string };
}

/** Every rule the checker knows, with its severity and a one-line meaning (used in docs). */
export const RULES = {
  'schema': ['error', 'The registry does not have the expected shape (unknown key, wrong type, missing field).'],
  'port-range': ['error', 'Every port (published, target, fallback, NodePort) is an integer in 1-65535.'],
  'container-port-unknown': ['error', 'A port whose container port is unknown (`targetPort: unknown`) reaches no output that must write that number: Kubernetes (Service targetPort, NetworkPolicy port, bound container port), compose `expose` of an internal port, or a connection to it.'],
  'port-source': ['error', 'A port is given by exactly one of `port`, `offset`, `auto` or `slot` (`auto: false` alone says nothing); a slot is a place in a category that exists in each environment.'],
  'offset-without-band': ['error', 'An `offset` needs the environment to declare a `range` (its band).'],
  'outside-band': ['error', "A service port lies inside its environment's band."],
  'outside-category': ['error', "A port lies inside one of its category's ranges."],
  'unknown-category': ['error', 'A service names a category the registry declares.'],
  'unknown-environment': ['error', 'Environments named by services, externals, per-environment values and waivers exist.'],
  'range-overlap': ['error', 'Declared ranges do not overlap: bands in one scope, categories, or a category and a band unless one contains the other.'],
  'invalid-range': ['error', 'A range is `[first, last]` with 1 <= first <= last <= 65535.'],
  'collision': ['error', 'No two allocations share a port and protocol in one scope (environments with the same `scope` share a host), and no two Services a NodePort number, whatever its protocol.'],
  'avoided-port': ['error', 'No published port is an avoided port or inside an avoided range.'],
  'reserved-range': ['error', 'Nothing is allocated inside a category marked `reserved`.'],
  'privileged-port': ['error', 'Published ports below 1024 need `privileged: true`.'],
  'defacto-port': ['warning', 'A port that a common server uses by default (PostgreSQL 5432, Redis 6379, dev servers on 3000/8000/8080 …) is taken by a service that is not that server.'],
  'nodeport-range': ['error', "A NodePort lies in the environment's NodePort range (30000-32767 by default)."],
  'service-name': ['error', 'With Kubernetes output, service names are DNS-1035 labels: lowercase letters, digits and "-", starting with a letter, at most 63 characters; without, compose service names: letters, digits, ".", "_" and "-", starting with a letter or digit.'],
  'namespace-name': ['error', 'With Kubernetes output, environment names and namespaces are DNS-1123 labels: lowercase letters, digits and "-", at most 63 characters; without, environment names are file names: letters, digits, ".", "_" and "-", starting with a letter or digit.'],
  'port-name': ['error', 'Port names are IANA service names: at most 15 characters, lowercase letters, digits and "-", at least one letter, no leading, trailing or double "-".'],
  'duplicate-service': ['error', 'Service and external names are unique within a registry.'],
  'env-var-collision': ['error', 'The generated variable names (`<SERVICE>_<PORT>_PORT`) of two ports are distinct.'],
  'unknown-service': ['error', 'A connection names a service or external the registry declares (or, with `registry`, a service of that registry).'],
  'unknown-registry': ['error', 'A connection to another registry (`registry`) names one resolved together with this one: declared in the same app, or checked in the same `cdk8s-ports check a.yaml b.yaml`.'],
  'unknown-port': ['error', 'A connection names a port the target declares (or the target has exactly one port); a health check names a port of its service (or the service has one).'],
  'no-policies': ['info', 'A registry that declares no connections and no public service is told once that its NetworkPolicies deny all traffic, and how to start.'],
  'unreachable': ['warning', 'An active service that is not public has no declared connection into it.'],
  'inactive-target': ['warning', 'A connection goes to a `planned` or `reserved` service, which is not deployed.'],
  'cross-environment': ['warning', "A connection reaches into another environment's namespace (declared with `environment`)."],
  'external-no-host': ['warning', 'An external that services connect to has an address pods can use (`host`, `namespace`, or a single address in `cidrs`), so bound workloads get its `_HOST`, `_PORT` and `_URL` variables.'],
  'external-unaddressed': ['error', 'An external that services connect to declares where it lives (`cidrs` or `namespace`), so egress to it can be allowed; in a namespace of the registry, with the `podSelector` of its pods, so ingress to them can be allowed too.'],
  'invalid-cidr': ['error', 'CIDRs are IPv4 or IPv6 address blocks such as 10.0.0.0/24, read as strictly as the API server reads an ipBlock: no zone (`%eth0`), no address bits set beyond the prefix (`10.0.0.5/8`).'],
  'open-cidr': ['warning', 'An external that lives at `0.0.0.0/0` or `::/0` lets its clients reach every address on its ports.'],
  'compose-drift': ['error', "A service of a checked compose file publishes a port the registry does not give it (or gives another service)."],
  'compose-file': ['error', 'A compose file to check can be read and parsed.'],
  'no-free-port': ['error', 'Automatic allocation found a free port in the range.'],
  'dev-only-in-production': ['error', 'A `dev-only` service does not run in a production environment.'],
  'lock-stale': ['warning', 'An entry of the lock file belongs to no port of the registry any more; it is dropped.'],
  'lock-outdated': ['error', 'In frozen mode (CI), the lock file already holds every automatic allocation.'],
  'waiver-unused': ['warning', 'A waiver matches no finding; remove it so exceptions do not outlive their reason.'],
  'invalid-value': ['error', 'A value that reaches an output has the form it needs: registry and category names, hosts, host addresses, images, label selectors (never empty), free text on one visible line (no control or bidirectional characters), `env` names the system does not already use (`PATH`, `LD_*`, `PORT` …), annotations within 256 KiB.'],
  'namespace-shared': ['error', 'Each environment has its own namespace, in one registry and across the registries of one app or one `check` (the later registry gets the finding): two environments in one would overwrite each other and reach each other.'],
  'selector-overlap': ['error', "No two services of one environment select the same pods: when one service's selector holds every label of another's (or they are equal), the wider service's NetworkPolicies select the narrower one's pods and open them to its traffic."],
  'dead-wiring': ['warning', 'Wiring that can never exist: a public entry that admits nobody, a connection between services that never share an environment, a cross-environment connection to where the target does not run.'],
  'app-protocol': ['error', 'An appProtocol is an IANA service name, kubernetes.io/h2c, ws or wss, or domain-prefixed (`ws`, `wss` and `h2c` are written in their Kubernetes form).'],
  'app-protocol-unknown': ['warning', "An un-prefixed appProtocol that is not in IANA's port table (Kubernetes keeps those names for IANA service names)."],
  'fallback-range': ['error', "A category's fallback ranges hold its ports' fallbacks, and no primary port."],
  'workload-drift': ['error', "A container, probe or Service port in the app's own charts that belongs to a registered service agrees with the registry."],
  'route-invalid': ['error', "A service's `public.route` can be written: it sends to one public TCP port of the service, an HTTPRoute or GRPCRoute names a Gateway in every environment the service runs in, host names are host names and the path a path, and it has only its kind's fields."],
  'chain-route-backend': ['error', 'An Ingress rule or a Gateway route sends to a Service of its own namespace, on a port that Service has (by number, or by name for an Ingress); as kube-linter\'s `dangling-ingress`.'],
  'chain-gateway-listener': ['error', "A route's Gateway, when the objects hold it, has the listener the route names (`sectionName`, `port`), of a protocol that carries the route (HTTP or HTTPS)."],
  'chain-no-pods': ['warning', "A Service with a selector selects a pod of the workloads in its namespace (as kube-linter's `dangling-service`); not the registry's own Services, whose pods another app may deploy (`verify` reports those as `traffic-unmatched`)."],
  'chain-target-port': ['error', "A Service's `targetPort` (a number, or a name) is a container port of the pods it selects (a warning for a number when the pods declare no port at all)."],
  'chain-protocol': ['error', 'The protocols of one chain agree: a route carries TCP, a Service port and the container port it reaches, and a NetworkPolicy port and the container port it opens, have one protocol.'],
  'chain-probe-port': ['error', "A probe's port is one its container declares (as kube-linter's `liveness-port`, `readiness-port` and `startup-port`): an error for a name the kubelet cannot resolve, a warning for an undeclared number (probed all the same)."],
  'chain-policy-port': ['error', "A NetworkPolicy opens the port the pods listen on (the Service's `targetPort`), not the Service's port: policies see traffic after the Service's translation."],
  'route-undeclared': ['error', '`verify`: an Ingress or Gateway route of the folder exposes a registry service, or a port of it, that the registry does not declare public (`public`, and not `public: false` on the port).'],
  'route-missing': ['warning', '`verify`: a service whose `public.route` asks for a route has no Ingress or route in its namespace that reaches it.'],
  'waiver-invalid': ['error', 'A waiver names a rule that keeps the output valid (names, ranges, references, duplicates …); such rules cannot be waived.'],
} as const satisfies Record<string, readonly [Severity, string]>;

/** The id of a rule, e.g. `collision`. */
export type RuleId = keyof typeof RULES;

/**
 * Rules that keep the output valid: waived, they would let an invalid name, port or reference
 * reach a file or a Kubernetes object (or make a declared service silently vanish from every
 * output). A waiver naming one is itself an error (`waiver-invalid`) and the finding still blocks.
 */
export const UNWAIVABLE_RULES: ReadonlySet<RuleId> = new Set<RuleId>([
  'schema', 'port-range', 'port-source', 'container-port-unknown', 'offset-without-band', 'invalid-range', 'no-free-port',
  'service-name', 'namespace-name', 'port-name', 'duplicate-service', 'env-var-collision',
  'unknown-service', 'unknown-registry', 'unknown-port', 'unknown-environment', 'unknown-category', 'invalid-cidr', 'invalid-value', 'namespace-shared', 'app-protocol',
  'route-invalid', 'waiver-unused', 'waiver-invalid',
]);

/** Builds a finding with the rule's default severity. */
export function finding(rule: RuleId, message: string, where: Where, fix?: string, severity?: Severity): Finding {
  return { rule, severity: severity ?? RULES[rule][0], message, where, ...(fix ? { fix } : {}) };
}

/** Errors that are not waived: these stop a synth. */
export function blocking(findings: readonly Finding[]): Finding[] {
  return findings.filter(f => f.severity === 'error' && !f.waived);
}
