/**
 * What the admin tiers add to verify's stand-ins (./verify.ts): their subjects' and peers'
 * selectors, read as NetworkPolicy peers so that the same derivation gives them namespaces and
 * pods; their `networks` CIDRs, which cut the address space like ipBlocks; and a node stand-in
 * for each `nodes` selector (manifests list no nodes: a node with the fewest labels the selector
 * asks for, and `(node)`, a node of any labels).
 */
import { AdminPeer, AdminPolicy } from './admin';
import { Address, Policy, PolicyPeer } from './model';
import { labelText } from './findings';
import { satisfying } from './stand-ins';

const asPeer = (p: AdminPeer): PolicyPeer | undefined =>
  p.namespaces ? { namespaceSelector: p.namespaces } : p.pods ? { namespaceSelector: p.pods.namespaceSelector, podSelector: p.pods.podSelector } : undefined;

/** One made-up policy per admin policy whose one ingress rule's peers are its subject and its namespaces/pods peers (for stand-ins only, never evaluated). */
export function adminAsPolicies(admin: readonly AdminPolicy[], namespace: string): Policy[] {
  return admin.map(a => {
    const peers = [a.subject, ...[...a.ingress, ...a.egress].flatMap(r => r.peers)].map(asPeer).filter((p): p is PolicyPeer => !!p);
    return { name: `(${a.kind}/${a.name})`, namespace, podSelector: {}, policyTypes: [], ingress: [{ from: peers }], egress: [] };
  });
}

/** Every CIDR of an egress `networks` peer. */
export function adminNetworks(admin: readonly AdminPolicy[]): string[] {
  return admin.flatMap(a => a.egress.flatMap(r => r.peers.flatMap(p => p.networks ?? [])));
}

/** The node stand-ins (none when no rule has a `nodes` peer). */
export function nodeStandIns(admin: readonly AdminPolicy[]): Address[] {
  const selectors = admin.flatMap(a => a.egress.flatMap(r => r.peers.flatMap(p => (p.nodes ? [p.nodes] : []))));
  if (selectors.length === 0) return [];
  const out = new Map<string, Address>([['(node)', { ip: '(node)', nodeLabels: {} }]]);
  for (const s of selectors) {
    const labels = satisfying(s);
    if (!labels || Object.keys(labels).length === 0) continue;
    const ip = `(node with ${labelText(labels)})`;
    if (!out.has(ip)) out.set(ip, { ip, nodeLabels: labels });
  }
  return [...out.values()];
}
