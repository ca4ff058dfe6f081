/**
 * Kubernetes NetworkPolicy semantics (networking.k8s.io/v1), written from the API reference and
 * the concepts page (https://kubernetes.io/docs/concepts/services-networking/network-policies/),
 * independent of the policy generator in lib/emit: this module reads Kubernetes objects, never
 * the registry.
 *
 * - A pod is isolated for a direction when a policy of its namespace selects it and lists that
 *   direction in `policyTypes`. Without `policyTypes`, a policy is for Ingress, and for Egress
 *   too when it has at least one egress rule (the API server's defaulting).
 * - Traffic from A to B flows when A's egress allows it (or A is not isolated for egress) and B's
 *   ingress allows it (or B is not isolated for ingress). Policies add up: any rule of any policy
 *   selecting the pod is enough.
 * - A rule matches when one of its peers matches (no peers: everyone) and one of its ports matches
 *   (no ports: every port). A port without a number is every port of its protocol (TCP when not
 *   given); `endPort` makes it a range; a named port matches the destination pod's container port
 *   of that name and protocol.
 * - A peer with `podSelector` alone selects pods of the policy's namespace; with
 *   `namespaceSelector` alone, every pod of the matching namespaces; with both, the matching pods
 *   of the matching namespaces. Every namespace carries `kubernetes.io/metadata.name: <name>`.
 * - `ipBlock` peers match addresses outside the cluster (the reference says pod IPs are
 *   ephemeral and ipBlock is meant for cluster-external traffic; CNIs differ on pod IPs, so this
 *   evaluator never matches a pod with an ipBlock). `except` blocks are taken out.
 * - Traffic of a pod to itself is not evaluated (always allowed on every CNI in practice).
 */
import * as ipaddr from 'ipaddr.js';

/** A label selector: `matchLabels` and `matchExpressions` must all hold; `{}` selects everything. */
export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: ReadonlyArray<{ readonly key: string; readonly operator: string; readonly values?: readonly string[] }>;
}

/** A port a container declares. */
export interface ContainerPort {
  readonly name?: string;
  readonly port: number;
  /** TCP, UDP or SCTP. */
  readonly protocol: string;
}

/** A pod (one per workload: every replica has the same labels and ports). */
export interface Pod {
  readonly namespace: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Its containers' ports (named ports resolve against these). */
  readonly ports: readonly ContainerPort[];
  /** Where it was declared (`k8s/dev.yaml: Deployment/api`), for messages. */
  readonly source?: string;
  /** True when the workload runs several pods (replicas, a DaemonSet): traffic between them is a path too. */
  readonly several?: boolean;
  /**
   * True for a stand-in for pods the folder does not list: their container ports are not known,
   * so a named port of a policy may be any port of its protocol on them.
   */
  readonly anyPorts?: boolean;
  /** For a stand-in: the labels of its namespace (other than the name label), for messages. */
  readonly namespaceLabels?: Readonly<Record<string, string>>;
}

/** An address outside the cluster. */
export interface Address {
  readonly ip: string;
  /** For a stand-in: the interval of addresses it stands for (each alike for every policy). */
  readonly span?: { readonly first: string; readonly last: string };
  /**
   * For a stand-in for cluster nodes (an admin policy's `nodes` peer; no manifest lists nodes):
   * their labels. Its `ip` is no address: no CIDR holds it.
   */
  readonly nodeLabels?: Readonly<Record<string, string>>;
}

/** One end of a path. */
export type Endpoint = Pod | Address;

export const isPod = (e: Endpoint): e is Pod => (e as Pod).namespace !== undefined;

const ids = new WeakMap<Endpoint, string>();
/** `namespace/name` for a pod, the address otherwise (one string per endpoint: keys built from it hash once). */
export function endpointId(e: Endpoint): string {
  let id = ids.get(e);
  // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent, a memo (computed again, the same)
  if (id === undefined) ids.set(e, id = isPod(e) ? `${e.namespace}/${e.name}` : e.ip);
  return id;
}

export interface PolicyPeer {
  readonly podSelector?: LabelSelector;
  readonly namespaceSelector?: LabelSelector;
  readonly ipBlock?: { readonly cidr: string; readonly except?: readonly string[] };
}

export interface PolicyPort {
  readonly protocol?: string;
  readonly port?: number | string;
  readonly endPort?: number;
}

export interface PolicyRule {
  readonly from?: readonly PolicyPeer[];
  readonly to?: readonly PolicyPeer[];
  readonly ports?: readonly PolicyPort[];
}

/** A NetworkPolicy as read from a manifest, with where it came from. */
export interface Policy {
  readonly name: string;
  readonly namespace: string;
  /** The file it was read from, relative to the folder read. */
  readonly file?: string;
  readonly podSelector: LabelSelector;
  readonly policyTypes: ReadonlyArray<'Ingress' | 'Egress'>;
  readonly ingress: readonly PolicyRule[];
  readonly egress: readonly PolicyRule[];
}

/** The label every namespace carries (set by the API server). */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/** The one key of an object, or undefined when it has none or several (no array of its keys is made). */
export function soleKey(o: object | undefined): string | undefined {
  let key: string | undefined;
  for (const k in o) {
    if (key !== undefined) return undefined;
    key = k;
  }
  return key;
}

/** Whether a selector selects these labels. An unknown operator selects nothing. */
export function selects(selector: LabelSelector | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (!selector) return true;
  const own = (k: string) => Object.prototype.hasOwnProperty.call(labels, k);
  for (const k in selector.matchLabels ?? {}) {
    if (!own(k) || labels[k] !== selector.matchLabels![k]) return false;
  }
  for (const e of selector.matchExpressions ?? []) {
    const has = own(e.key);
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In': if (!has || !values.includes(labels[e.key])) return false; break;
      case 'NotIn': if (has && values.includes(labels[e.key])) return false; break;
      case 'Exists': if (!has) return false; break;
      case 'DoesNotExist': if (has) return false; break;
      default: return false;
    }
  }
  return true;
}

type Parsed = [ipaddr.IPv4 | ipaddr.IPv6, number];
const cidrCache = new Map<string, Parsed | null>();

function parseCidr(cidr: string): Parsed | null {
  let parsed = cidrCache.get(cidr);
  if (parsed === undefined) {
    try {
      parsed = ipaddr.parseCIDR(cidr);
    } catch {
      parsed = null;
    }
    cidrCache.set(cidr, parsed);
  }
  return parsed;
}

const ipCache = new Map<string, ipaddr.IPv4 | ipaddr.IPv6 | null>();

function parseIp(ip: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  let parsed = ipCache.get(ip);
  if (parsed === undefined) {
    try {
      const a = ipaddr.parse(ip);
      // An IPv4-mapped IPv6 address is the IPv4 address.
      parsed = a.kind() === 'ipv6' && (a as ipaddr.IPv6).isIPv4MappedAddress() ? (a as ipaddr.IPv6).toIPv4Address() : a;
    } catch {
      parsed = null;
    }
    // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent, a cache cleared or kept answers the same
    if (ipCache.size > 100_000) ipCache.clear();
    ipCache.set(ip, parsed);
  }
  return parsed;
}

/** Whether `ip` lies in `cidr` (IPv4 or IPv6; an address of the other family never does). */
export function cidrContains(cidr: string, ip: string): boolean {
  const block = parseCidr(cidr);
  const addr = parseIp(ip);
  if (!block || !addr || block[0].kind() !== addr.kind()) return false;
  return addr.match(block as never);
}

/** Whether an ipBlock peer admits this address. */
export function ipBlockAdmits(block: { readonly cidr: string; readonly except?: readonly string[] }, ip: string): boolean {
  // Stryker disable next-line ArrayDeclaration: equivalent, a stand-in entry is no CIDR and contains no address
  return cidrContains(block.cidr, ip) && !(block.except ?? []).some(c => cidrContains(c, ip));
}

/**
 * Whether a rule's ports admit `port`/`protocol` towards `destination` (named ports resolve
 * against the destination pod's container ports; towards an address they match nothing).
 */
export function portsAdmit(ports: readonly PolicyPort[] | undefined, port: number, protocol: string, destination: Endpoint): boolean {
  if (!ports || ports.length === 0) return true;
  for (const p of ports) {
    if ((p.protocol ?? 'TCP') !== protocol) continue;
    if (p.port === undefined) return true;
    if (typeof p.port === 'string') {
      if (isPod(destination) && (destination.anyPorts || destination.ports.some(c => c.name === p.port && c.protocol === protocol && c.port === port))) return true;
      continue;
    }
    if (p.endPort !== undefined ? port >= p.port && port <= p.endPort : port === p.port) return true;
  }
  return false;
}

/** `policyTypes` as the API server defaults it. */
export function policyTypesOf(spec: { policyTypes?: readonly string[]; egress?: readonly unknown[] }): Array<'Ingress' | 'Egress'> {
  if (spec.policyTypes && spec.policyTypes.length > 0) {
    return spec.policyTypes.filter((t): t is 'Ingress' | 'Egress' => t === 'Ingress' || t === 'Egress');
  }
  return spec.egress && spec.egress.length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
}
