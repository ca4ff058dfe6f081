/** Findings about the policies themselves, without a registry: default deny, long names, endPort, policies selecting nothing, admin priority ties. */
import { Cluster } from './cluster';
import { LabelSelector, Policy, PolicyPort } from './model';
import { TrafficFinding, finding } from './findings';


/** Whether a selector names no label (`matchExpressions` aside). */
function noLabels(selector: LabelSelector): boolean {
  // (A loop, not Object.keys: no array for each of hundreds of thousands of peers.)
  for (const key in selector.matchLabels) if (Object.prototype.hasOwnProperty.call(selector.matchLabels, key)) return false;
  return true;
}

/** A policy selecting every pod for this direction with no rule for it (an allow-all named default-deny is not one). */
const isDefaultDeny = (p: Policy, direction: 'Ingress' | 'Egress') =>
  p.policyTypes.includes(direction) && noLabels(p.podSelector) && (p.podSelector.matchExpressions ?? []).length === 0 &&
  (direction === 'Ingress' ? p.ingress : p.egress).length === 0;

/** Structural findings that need no registry: default deny, long names, endPort, policies selecting nothing. */
export function structuralFindings(cluster: Cluster, podNamespaces: ReadonlySet<string>): TrafficFinding[] {
  const out: TrafficFinding[] = [];
  const byNamespace = new Map<string, Policy[]>();
  for (const p of cluster.policies) {
    const list = byNamespace.get(p.namespace);
    if (list) list.push(p); else byNamespace.set(p.namespace, [p]);
  }
  for (const ns of [...podNamespaces].sort()) {
    const policies = byNamespace.get(ns) ?? [];
    const missing = (['Ingress', 'Egress'] as const).filter(d => !policies.some(p => isDefaultDeny(p, d)));
    if (missing.length) {
      out.push(finding('default-deny-missing', `namespace ${ns} has no default deny for ${missing.join(' and ')}: every pod of it not selected by a policy accepts (or sends) any traffic`,
        { namespace: ns }, `add a NetworkPolicy in ${ns} with podSelector: {} and policyTypes: [${missing.join(', ')}] and no rules`));
    }
  }
  // Whether a policy selects at least one pod of the folder (stand-ins do not count). (A policy
  // with no policy type selects nobody for anything; it counts as selecting when its selector matches.)
  const selectsAPod = (p: Policy) => cluster.selectedIn(p.namespace, p.podSelector).some(pod => !pod.name.startsWith('('));
  for (const p of cluster.policies) {
    // (Most policies have no finding: nothing is built for them.)
    const long = p.name.length > 63;
    const ranges: PolicyPort[] = [];
    // (A range without a numbered port is manifest-invalid, not a range.)
    for (const rule of p.ingress) for (const x of rule.ports ?? []) if (x.endPort !== undefined && typeof x.port === 'number') ranges.push(x);
    for (const rule of p.egress) for (const x of rule.ports ?? []) if (x.endPort !== undefined && typeof x.port === 'number') ranges.push(x);
    const idle = podNamespaces.has(p.namespace) && !selectsAPod(p);
    // Stryker disable next-line ConditionalExpression: equivalent, a policy without a finding gets none from the three checks below either
    if (!long && ranges.length === 0 && !idle) continue;
    const where = { namespace: p.namespace, policy: p.name, ...(p.file ? { file: p.file } : {}) };
    if (long) {
      out.push(finding('netpol-name-length', `NetworkPolicy ${p.name} in ${p.namespace} has a name of ${p.name.length} characters; some CNIs' policy agents (the AWS VPC CNI's, kube-ovn's) silently do not enforce names over 63`,
        where, 'give it a name of at most 63 characters'));
    }
    if (ranges.length) {
      out.push(finding('netpol-end-port', `NetworkPolicy ${p.name} in ${p.namespace} uses a port range (${ranges.map(x => `${x.port}-${x.endPort}`).join(', ')}); a CNI without endPort support applies it to the first port only`,
        where, 'check that your CNI supports endPort (Calico, Cilium and kube-router do in current versions), or list the ports one by one'));
    }
    if (idle) {
      out.push(finding('netpol-selects-nothing', `NetworkPolicy ${p.name} in ${p.namespace} selects no pod of any workload or Service in the folder`,
        where, 'check its podSelector against the pod labels (a typo leaves the pods it was meant for unprotected or cut off)'));
    }
  }
  return [...out, ...priorityTies(cluster)];
}

/** Admin-tier policies of one tier that share a priority (the API leaves their order to the implementation). */
function priorityTies(cluster: Cluster): TrafficFinding[] {
  const out: TrafficFinding[] = [];
  const groups = new Map<string, string[]>();
  for (const p of cluster.admin) {
    if (p.priority === undefined) continue;
    const k = `${p.tier}\u0000${p.priority}`;
    const list = groups.get(k);
    if (list) list.push(`${p.kind}/${p.name}`); else groups.set(k, [`${p.kind}/${p.name}`]);
  }
  for (const [k, names] of groups) {
    if (names.length < 2) continue;
    const [tier, priority] = k.split('\u0000');
    out.push(finding('admin-priority-tie', `${names.sort().join(', ')} share priority ${priority} in the ${tier.toLowerCase()} tier: which applies first to a connection both match is undefined (this evaluator takes them by kind, then name)`,
      { policy: names.join(', ') }, 'give each policy a priority of its own'));
  }
  return out;
}
