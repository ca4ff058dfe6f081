/**
 * The tests' view of the NetworkPolicy evaluator (lib/netpol): policies as the Kubernetes objects
 * the generator writes, pods without ports. The evaluator reads Kubernetes objects only and
 * shares no code with the policy generator (lib/emit/network-policies.ts), so it checks it
 * independently; its own semantics are pinned by test/netpol-truth-table.test.ts.
 */
import { Cluster as Evaluator } from '../../lib/netpol/cluster';
import { policyOf } from '../../lib/netpol/load';
import { LabelSelector, cidrContains, selects } from '../../lib/netpol/model';

export { cidrContains, selects };
export type { LabelSelector };

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

const withPorts = (e: Endpoint) => ('namespace' in e ? { ...e, ports: [] } : e);

export class Cluster {
  private readonly evaluator: Evaluator;

  constructor(namespaces: Record<string, Record<string, string>>, policies: Policy[]) {
    this.evaluator = new Evaluator({ namespaces, pods: [], policies: policies.map(p => policyOf(p)) });
  }

  /** Whether traffic from `source` reaches `destination` on `port`/`protocol`. */
  public allowed(source: Endpoint, destination: Endpoint, port: number, protocol = 'TCP'): boolean {
    return this.evaluator.allowed(withPorts(source), withPorts(destination), port, protocol);
  }
}
