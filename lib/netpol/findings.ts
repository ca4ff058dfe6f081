/**
 * The findings of `verify` and the traffic gate (their rule table, their shape) and their text:
 * ports, stand-ins, rules and lists of findings as messages show them.
 */
import type { PolicyRef, RuleRef, TooManyPaths } from './cluster';
import { Endpoint, NAMESPACE_NAME_LABEL, endpointId, isPod } from './model';
import type { AdminHit } from './admin';


/** An admin-tier rule as the findings' `policies` name rules (cluster-scoped: no namespace; the kind in the name). */
export const hitRef = (h: AdminHit): RuleRef => ({ policy: `${h.kind}/${h.policy}`, namespace: '', ...(h.file ? { file: h.file } : {}), direction: h.direction, rule: h.rule });

/** The rules of `verify`, with their severity and meaning (docs/traffic.md lists them). */
export const TRAFFIC_RULES = {
  'traffic-undeclared': ['error', 'The NetworkPolicies allow a path (from, to, port, protocol) that no connection, public entry or the cluster DNS rule declares.'],
  'traffic-blocked': ['error', 'A declared connection or public entry is blocked by the NetworkPolicies.'],
  'default-deny-missing': ['error', 'Every namespace with pods has a default deny: policies selecting every pod for Ingress and for Egress.'],
  'manifest-unreadable': ['error', 'Every manifest file of the folder is YAML or JSON.'],
  'manifest-invalid': ['error', 'Every port, port name and protocol of the workloads, Services and NetworkPolicies is one the API server accepts: ports are integers from 1 to 65535, `endPort` follows a numbered port and is not below it, port names are IANA service names, protocols are TCP, UDP or SCTP in upper case; ipBlocks are CIDRs with except blocks strictly inside; label keys, values and selector operators are valid; no peer is empty; policyTypes are Ingress or Egress; no two objects share a kind, namespace and name.'],
  'netpol-name-length': ['warning', 'Policy names are at most 63 characters: some CNIs’ policy agents silently ignore longer ones (aws/aws-network-policy-agent#145, kubeovn/kube-ovn#1445).'],
  'netpol-end-port': ['warning', 'A port range (`endPort`) is enforced only by CNIs that support it; others apply the policy to the first port alone (Kubernetes docs, "Targeting a range of ports").'],
  'netpol-selects-nothing': ['warning', 'A policy selects at least one pod of the workloads and Services in the folder.'],
  'host-network-unprotected': ['warning', 'No workload runs with `hostNetwork: true` unseen: NetworkPolicies do not apply to such pods (they use the node\'s network), so nothing limits their traffic. An error in a registry\'s namespace (its default deny does not cover them), a warning elsewhere.'],
  'traffic-too-many-paths': ['error', 'The policies allow at most 2,000,000 paths among the pods and stand-ins; past that verify stops counting (the pods are nearly open to each other) and nothing is compared: never a verified result.'],
  'admin-priority-tie': ['warning', 'No two admin-tier policies (AdminNetworkPolicy, ClusterNetworkPolicy) of one tier share a priority: which one applies first to a connection both match is left to the implementation.'],
  'traffic-unmatched': ['warning', 'Every registry service with ports in an environment has a pod in the folder (a workload or Service its selector matches); otherwise its connections are not compared.'],
} as const;

export type TrafficRuleId = keyof typeof TRAFFIC_RULES;

/** One problem `verify` found. */
export interface TrafficFinding {
  readonly rule: TrafficRuleId;
  readonly severity: 'error' | 'warning';
  readonly message: string;
  readonly where: {
    readonly namespace?: string;
    readonly from?: string;
    readonly to?: string;
    /** The port of the path (for a range of ports, its first: a concrete witness). */
    readonly port?: number;
    /** The last port when the finding is about a range of ports, each alike. */
    readonly endPort?: number;
    readonly protocol?: string;
    readonly policy?: string;
    /** The object a value belongs to (`Deployment/api`), for `manifest-invalid`. */
    readonly object?: string;
    readonly file?: string;
    readonly registry?: string;
  };
  /** The policies (and rules) involved. */
  readonly policies?: ReadonlyArray<PolicyRef | RuleRef>;
  readonly fix?: string;
}

export const finding = (rule: TrafficRuleId, message: string, where: TrafficFinding['where'], fix?: string, policies?: TrafficFinding['policies']): TrafficFinding =>
  ({ rule, severity: TRAFFIC_RULES[rule][0], message, where, ...(fix ? { fix } : {}), ...(policies && policies.length ? { policies } : {}) });

/** More allowed paths than this is a cluster left nearly open; counting further would only exhaust memory. */
export const PATH_LIMIT = 2_000_000;
/** The finding a verification that stopped at the limit is (nothing was compared: it is never "verified"). */
export function tooManyPathsFinding(e: TooManyPaths): TrafficFinding {
  return finding('traffic-too-many-paths', `${e.message}; nothing was compared`, {},
    'add a default deny (podSelector: {}, both policy types) in each namespace and narrow the policies that allow everything');
}

/** Labels as a message shows them: `k=v,k2=v2`. */
export const labelText = (labels: Readonly<Record<string, string>>): string => Object.keys(labels).sort().map(k => `${k}=${labels[k]}`).join(',');

/** A value the API server would reject, as a finding (see InvalidValue in ./load.ts). */
export function invalidValueFinding(v: { readonly file: string; readonly namespace: string; readonly object: string; readonly message: string; readonly fix: string }): TrafficFinding {
  const policy = v.object.startsWith('NetworkPolicy/') ? { policy: v.object.slice('NetworkPolicy/'.length) } : {};
  return finding('manifest-invalid', `${v.file ? `${v.file}: ` : ''}${v.object}${v.namespace ? ` in ${v.namespace}` : ''}: ${v.message}; the API server rejects the object`,
    { namespace: v.namespace, ...policy, object: v.object, ...(v.file ? { file: v.file } : {}) }, v.fix);
}

/** `5432/TCP`, or `5433-5439/TCP` for a range; every port of a protocol is `every TCP port`. */
export function portText(p: { readonly port: number; readonly endPort?: number; readonly protocol: string }): string {
  if (p.endPort === undefined || p.endPort === p.port) return `${p.port}/${p.protocol}`;
  if (p.port === 1 && p.endPort === 65535) return `every ${p.protocol} port (1-65535)`;
  return `${p.port}-${p.endPort}/${p.protocol}`;
}

/** What a stand-in stands for (empty for an endpoint of the folder): an interval of addresses, pods of some labels in a namespace of some labels. */
export function standInText(e: Endpoint): string {
  if (!isPod(e) && e.nodeLabels) return `${e.ip} stands for ${Object.keys(e.nodeLabels).length ? `any node labelled ${labelText(e.nodeLabels)}` : 'any node'} (the manifests list no nodes)`;
  if (!isPod(e)) return e.span && e.span.first !== e.span.last ? `${e.ip} stands for every address from ${e.span.first} to ${e.span.last}` : '';
  // (A stand-in's name says what it stands for; the labels of a namespace made up for a selector are said too.)
  if (!e.anyPorts || !e.namespaceLabels) return '';
  const labels = Object.keys(e.labels).length ? `any pod labelled ${labelText(e.labels)}` : 'any pod';
  const nsLabels = Object.fromEntries(Object.entries(e.namespaceLabels).filter(([k]) => k !== NAMESPACE_NAME_LABEL));
  return `${endpointId(e)} stands for ${labels} in a namespace labelled ${labelText(nsLabels)} that the folder does not list`;
}

/** Short text for the rules that decide a path: `allow-x (k8s/dev.yaml, egress rule 1)`. */
export function describeRules(refs: readonly RuleRef[]): string {
  return refs.map(r => `${r.policy} (${r.file ? `${r.file}, ` : ''}${r.direction} rule ${r.rule})`).join(', ');
}


/** The errors of a verification as one message (the first 20, and how many more). */
export function describeTraffic(findings: readonly TrafficFinding[]): string {
  const errors = findings.filter(f => f.severity === 'error');
  return `the NetworkPolicies to be written do not allow exactly the declared traffic (${errors.length} error${errors.length === 1 ? '' : 's'}):\n` +
    findingList(errors, ' (run cdk8s-ports verify on the output for all)');
}

/** Findings as one message lists them: the first 20, each with its fix, then how many more (and `moreHint`). */
export function findingList(findings: readonly TrafficFinding[], moreHint = ''): string {
  const shown = findings.slice(0, 20).map(f => `  ${f.rule}: ${f.message}${f.fix ? `\n    fix: ${f.fix}` : ''}`);
  return shown.join('\n') + (findings.length > 20 ? `\n  … and ${findings.length - 20} more${moreHint}` : '');
}
