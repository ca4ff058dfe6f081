/**
 * The cluster-wide tiers above and below the namespaces' NetworkPolicies, as the Network Policy
 * API (kubernetes-sigs/network-policy-api) defines them:
 *
 * - `AdminNetworkPolicy` and `BaselineAdminNetworkPolicy` (policy.networking.k8s.io/v1alpha1),
 *   actions Allow, Deny, Pass (Pass only in an ANP);
 * - `ClusterNetworkPolicy` (policy.networking.k8s.io/v1alpha2), which replaces both: `tier: Admin`
 *   or `Baseline`, actions Accept, Deny, Pass.
 *
 * Each direction of a connection is decided on its own (the source's egress, the destination's
 * ingress), in this order: the admin tier (policies whose subject selects the pod, lowest
 * priority number first, rules in the order written, the first rule that matches decides: Allow
 * or Accept allows, Deny denies, Pass ends the admin tier), then the NetworkPolicies (when one
 * selects the pod for that direction, they decide), then the baseline tier (likewise, first
 * match), and when none decides, the traffic is allowed.
 *
 * Peers: `namespaces` (every pod of the selected namespaces; `{}` is every namespace), `pods`
 * (`namespaceSelector` and `podSelector`), egress `networks` (CIDRs; they match addresses
 * outside the cluster, and a pod only when the CIDR is a whole address family, `0.0.0.0/0` or
 * `::/0`: pod addresses are not in manifests) and egress `nodes` (a node selector; manifests hold
 * no nodes, so nodes are stand-ins with the labels the selectors ask for).
 * Ports: a number, a range (`start`-`end`), or a named port, resolved against the destination
 * pod's container ports (of any protocol of that name).
 */
import { Endpoint, LabelSelector, Pod, cidrContains, isPod, selects } from './model';

export type AdminTier = 'Admin' | 'Baseline';
export type AdminAction = 'Allow' | 'Deny' | 'Pass';

export interface AdminPeer {
  readonly namespaces?: LabelSelector;
  readonly pods?: { readonly namespaceSelector: LabelSelector; readonly podSelector: LabelSelector };
  readonly networks?: readonly string[];
  readonly nodes?: LabelSelector;
}

/** A port of a rule: a number or a range of one protocol, or a named port. */
export interface AdminPort {
  readonly protocol?: string;
  readonly port?: number;
  readonly endPort?: number;
  /** A named port (the destination's container port of that name, whatever its protocol). */
  readonly name?: string;
}

export interface AdminRule {
  readonly name?: string;
  /** Accept is read as Allow. */
  readonly action: AdminAction;
  /** The action as written (`Accept` in a ClusterNetworkPolicy). */
  readonly written: string;
  readonly peers: readonly AdminPeer[];
  /** None: every port of every protocol. */
  readonly ports?: readonly AdminPort[];
}

export interface AdminPolicy {
  readonly kind: 'AdminNetworkPolicy' | 'BaselineAdminNetworkPolicy' | 'ClusterNetworkPolicy';
  readonly name: string;
  readonly file?: string;
  readonly tier: AdminTier;
  /** Lower first; a BaselineAdminNetworkPolicy has none (it ranks after the baseline ClusterNetworkPolicies). */
  readonly priority?: number;
  readonly subject: { readonly namespaces?: LabelSelector; readonly pods?: { readonly namespaceSelector: LabelSelector; readonly podSelector: LabelSelector } };
  readonly ingress: readonly AdminRule[];
  readonly egress: readonly AdminRule[];
}

/** The rule of a tier that decided a direction (or passed it on). */
export interface AdminHit {
  readonly tier: AdminTier;
  readonly kind: AdminPolicy['kind'];
  readonly policy: string;
  readonly file?: string;
  readonly priority?: number;
  readonly direction: 'ingress' | 'egress';
  /** From 1, as written. */
  readonly rule: number;
  readonly ruleName?: string;
  readonly action: AdminAction;
  readonly written: string;
}

/** The policies of a tier in the order they are evaluated: by priority, then kind and name (the API leaves ties undefined). */
export function tierOrder(policies: readonly AdminPolicy[], tier: AdminTier): AdminPolicy[] {
  const rank = (p: AdminPolicy) => p.priority ?? Number.MAX_SAFE_INTEGER;
  return policies.filter(p => p.tier === tier).sort((a, b) => rank(a) - rank(b) || (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

const everyFamily = (cidr: string) => /\/0$/.test(cidr.trim());

/** Whether a subject (or a namespaces/pods peer) selects a pod, given its namespace's labels. */
export function subjectSelects(s: AdminPolicy['subject'] | AdminPeer, pod: Pod, nsLabels: Readonly<Record<string, string>>): boolean {
  if (s.namespaces) return selects(s.namespaces, nsLabels);
  if (s.pods) return selects(s.pods.namespaceSelector, nsLabels) && selects(s.pods.podSelector, pod.labels);
  return false;
}

/** Whether a peer admits the other end (see the module's comment for networks and nodes). */
export function adminPeerAdmits(peer: AdminPeer, other: Endpoint, nsLabelsOf: (ns: string) => Readonly<Record<string, string>>): boolean {
  if (isPod(other)) {
    if (peer.namespaces || peer.pods) return subjectSelects(peer, other, nsLabelsOf(other.namespace));
    if (peer.networks) return peer.networks.some(everyFamily);
    return false;
  }
  const node = other.nodeLabels;
  if (peer.nodes) return node !== undefined && selects(peer.nodes, node);
  if (peer.networks) return node === undefined && peer.networks.some(c => cidrContains(c, other.ip));
  return false;
}

/** The port intervals a rule's ports admit towards `destination` (as ruleSpans does for a NetworkPolicy). */
export function adminSpans(ports: readonly AdminPort[] | undefined, destination: Endpoint, standInNamed: 'every' | 'none' = 'every'): Array<{ port: number; endPort: number; protocol: string }> {
  const all = ['TCP', 'UDP', 'SCTP'];
  if (!ports) return all.map(protocol => ({ port: 1, endPort: 65535, protocol }));
  const out: Array<{ port: number; endPort: number; protocol: string }> = [];
  for (const p of ports) {
    if (p.name !== undefined) {
      if (!isPod(destination)) continue;
      if (destination.anyPorts) { if (standInNamed === 'every') for (const protocol of all) out.push({ port: 1, endPort: 65535, protocol }); continue; }
      for (const c of destination.ports) if (c.name === p.name && Number.isInteger(c.port)) out.push({ port: c.port, endPort: c.port, protocol: c.protocol });
      continue;
    }
    if (p.port === undefined || !Number.isInteger(p.port)) continue;
    const end = p.endPort ?? p.port;
    if (!Number.isInteger(end) || end < p.port) continue;
    out.push({ port: Math.max(p.port, 1), endPort: Math.min(end, 65535), protocol: p.protocol ?? 'TCP' });
  }
  return out;
}

/**
 * Whether a rule's ports admit the port. On a stand-in, whose container ports are not known, a
 * named port is any port for an Allow and none for a Deny or a Pass: the stand-in then stands
 * for every pod it may be (a pod without that port name too), as a NetworkPolicy's named port does.
 */
const portsAdmit = (r: AdminRule, port: number, protocol: string, destination: Endpoint) =>
  !r.ports || adminSpans(r.ports, destination, r.action === 'Allow' ? 'every' : 'none').some(s => s.protocol === protocol && s.port <= port && port <= s.endPort);

/**
 * The first rule of a tier's policies (in evaluation order, those whose subject selects `pod`)
 * that matches the traffic in `direction`, or undefined when none does.
 */
export function tierDecision(ordered: readonly AdminPolicy[], direction: 'Ingress' | 'Egress', pod: Pod, other: Endpoint, destination: Endpoint, port: number, protocol: string,
  nsLabelsOf: (ns: string) => Readonly<Record<string, string>>): AdminHit | undefined {
  const own = nsLabelsOf(pod.namespace);
  for (const p of ordered) {
    if (!subjectSelects(p.subject, pod, own)) continue;
    const rules = direction === 'Ingress' ? p.ingress : p.egress;
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i];
      if (!portsAdmit(r, port, protocol, destination)) continue;
      if (!r.peers.some(peer => adminPeerAdmits(peer, other, nsLabelsOf))) continue;
      return {
        tier: p.tier, kind: p.kind, policy: p.name, ...(p.file ? { file: p.file } : {}), ...(p.priority !== undefined ? { priority: p.priority } : {}),
        direction: direction === 'Ingress' ? 'ingress' : 'egress', rule: i + 1, ...(r.name ? { ruleName: r.name } : {}), action: r.action, written: r.written,
      };
    }
  }
  return undefined;
}

/** `AdminNetworkPolicy/deny-db (priority 10, admin.yaml), egress rule 2 "no-db": Deny`. */
export function hitText(h: AdminHit): string {
  const where = [h.priority !== undefined ? `priority ${h.priority}` : '', h.file ?? ''].filter(Boolean).join(', ');
  return `${h.kind}/${h.policy}${where ? ` (${where})` : ''}, ${h.direction} rule ${h.rule}${h.ruleName ? ` "${h.ruleName}"` : ''}: ${h.written}`;
}
