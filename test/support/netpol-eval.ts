/**
 * An independent evaluator of Kubernetes NetworkPolicy semantics (networking.k8s.io/v1),
 * written from the API documentation, used to compute which connections a set of
 * manifests allows. It shares no code with the emitter under test.
 *
 * - A pod is isolated for a direction when any policy in its namespace selects it and lists
 *   that direction in policyTypes (policyTypes defaults to Ingress, plus Egress when the
 *   policy has egress rules).
 * - Traffic from A to B flows only when A's egress allows it (or A is not isolated for
 *   egress) and B's ingress allows it (or B is not isolated for ingress).
 * - A rule allows traffic when one of its peers matches (no peers: every source or
 *   destination) and one of its ports matches (no ports: every port).
 * - A peer with podSelector alone selects pods of the policy's namespace; with
 *   namespaceSelector alone, every pod of the selected namespaces; with both, the selected
 *   pods of the selected namespaces. ipBlock peers match addresses outside the cluster only
 *   (the API documents them for cluster-external traffic; pods are matched by selectors).
 */

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }>;
}

export interface Pod { namespace: string; name: string; labels: Record<string, string> }
export interface Address { ip: string }
export type Endpoint = Pod | Address;

interface Peer { podSelector?: LabelSelector; namespaceSelector?: LabelSelector; ipBlock?: { cidr: string; except?: string[] } }
interface PolicyPort { protocol?: string; port?: number | string; endPort?: number }
interface Rule { from?: Peer[]; to?: Peer[]; ports?: PolicyPort[] }
export interface Policy {
  metadata: { name: string; namespace: string };
  spec: { podSelector: LabelSelector; policyTypes?: string[]; ingress?: Rule[]; egress?: Rule[] };
}

export function selects(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    switch (e.operator) {
      case 'In': if (!has || !(e.values ?? []).includes(labels[e.key])) return false; break;
      case 'NotIn': if (has && (e.values ?? []).includes(labels[e.key])) return false; break;
      case 'Exists': if (!has) return false; break;
      case 'DoesNotExist': if (has) return false; break;
      default: throw new Error(`unknown operator ${(e as { operator: string }).operator}`);
    }
  }
  return true;
}

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

export function cidrContains(cidr: string, ip: string): boolean {
  if (cidr.includes(':') || ip.includes(':')) return cidr === '::/0' && ip.includes(':');
  const [base, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  const start = Math.floor(ipv4ToInt(base) / size) * size;
  const value = ipv4ToInt(ip);
  return value >= start && value < start + size;
}

const isPod = (e: Endpoint): e is Pod => 'namespace' in e;

export class Cluster {
  constructor(
    private readonly namespaces: Record<string, Record<string, string>>,
    private readonly policies: Policy[],
  ) {}

  private nsLabels(ns: string): Record<string, string> {
    // The API server labels every namespace with its own name.
    return { ...(this.namespaces[ns] ?? {}), 'kubernetes.io/metadata.name': ns };
  }

  private peerMatches(peer: Peer, policyNs: string, other: Endpoint): boolean {
    if (peer.ipBlock) {
      if (isPod(other)) return false;
      return cidrContains(peer.ipBlock.cidr, other.ip) && !(peer.ipBlock.except ?? []).some(c => cidrContains(c, other.ip));
    }
    if (!isPod(other)) return false;
    const nsOk = peer.namespaceSelector ? selects(peer.namespaceSelector, this.nsLabels(other.namespace)) : other.namespace === policyNs;
    const podOk = peer.podSelector ? selects(peer.podSelector, other.labels) : true;
    return nsOk && podOk;
  }

  private portMatches(ports: PolicyPort[] | undefined, port: number, protocol: string): boolean {
    if (!ports || ports.length === 0) return true;
    return ports.some(p => {
      if ((p.protocol ?? 'TCP') !== protocol) return false;
      if (p.port === undefined) return true;
      if (typeof p.port === 'string') throw new Error('named ports are not used by this project');
      return p.endPort !== undefined ? port >= p.port && port <= p.endPort : port === p.port;
    });
  }

  private types(p: Policy): string[] {
    return p.spec.policyTypes ?? (p.spec.egress ? ['Ingress', 'Egress'] : ['Ingress']);
  }

  /** Whether `pod` may send (Egress) or receive (Ingress) this traffic. */
  private allows(direction: 'Ingress' | 'Egress', pod: Pod, other: Endpoint, port: number, protocol: string): boolean {
    const applying = this.policies.filter(p => p.metadata.namespace === pod.namespace &&
      selects(p.spec.podSelector, pod.labels) && this.types(p).includes(direction));
    if (applying.length === 0) return true;
    return applying.some(p => (direction === 'Ingress' ? p.spec.ingress : p.spec.egress)?.some(rule => {
      const peers = direction === 'Ingress' ? rule.from : rule.to;
      const peerOk = !peers || peers.length === 0 || peers.some(peer => this.peerMatches(peer, p.metadata.namespace, other));
      return peerOk && this.portMatches(rule.ports, port, protocol);
    }) ?? false);
  }

  /** Whether traffic from `source` reaches `destination` on `port`/`protocol`. */
  public allowed(source: Endpoint, destination: Endpoint, port: number, protocol = 'TCP'): boolean {
    const out = isPod(source) ? this.allows('Egress', source, destination, port, protocol) : true;
    const into = isPod(destination) ? this.allows('Ingress', destination, source, port, protocol) : true;
    return out && into;
  }
}
