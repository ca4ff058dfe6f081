/**
 * `verify`: what the NetworkPolicies of a folder allow, against what the registries declare.
 *
 * The declared graph is read from the registry (connections, public entries, cluster DNS), the
 * allowed one from the policies by the evaluator (./cluster.ts); the two share no code with the
 * policy generator. Paths are compared between the pods of the manifests and a few stand-ins for
 * the rest of the world ("probes"): an address on the internet (IPv4 and IPv6), an address in each
 * CIDR the registry or a policy names, a pod of another namespace, an unlisted pod in each of the
 * registry's namespaces, kube-dns, and the pods of the namespaces externals and public entries name.
 */
import * as ipaddr from 'ipaddr.js';
import type { ResolvedRegistry } from '../model/resolved';
import { podSelectorOf } from '../model/labels';

/** What verify reads of a registry: what it declares (the synth's ports.json holds exactly this). */
export type TrafficRegistry = Pick<ResolvedRegistry, 'spec' | 'environments' | 'allocations' | 'connections' | 'inbound'>;
import { Cluster, Path, PolicyRef, RuleRef, Target, TooManyPaths, pathKey } from './cluster';
export { TooManyPaths };
import { Address, Endpoint, LabelSelector, NAMESPACE_NAME_LABEL, Pod, Policy, PolicyPort, cidrContains, endpointId, ipBlockAdmits, isPod, selects } from './model';
import { addressSpans } from './addresses';
import { labelToggles } from './toggles';
import { adminAsPolicies, adminNetworks, nodeStandIns } from './admin-standins';
import { AdminHit, hitText } from './admin';

/** An admin-tier rule as the findings' `policies` name rules (cluster-scoped: no namespace; the kind in the name). */
const hitRef = (h: AdminHit): RuleRef => ({ policy: `${h.kind}/${h.policy}`, namespace: '', ...(h.file ? { file: h.file } : {}), direction: h.direction, rule: h.rule });

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

/**
 * A declared path, with what declares it and which side: a connection between two services
 * declares both (the client's egress and the target's ingress), one to an external only the
 * client's egress, a public entry only the service's ingress, the cluster DNS only egress.
 */
export interface DeclaredPath extends Path {
  readonly reason: string;
  readonly side: 'both' | 'egress' | 'ingress';
}

export interface VerifyResult {
  readonly ok: boolean;
  readonly findings: readonly TrafficFinding[];
  /** Every allowed path among the pods and probes. */
  readonly allowed: readonly Path[];
  /** Every declared path among them. */
  readonly declared: readonly DeclaredPath[];
}

const finding = (rule: TrafficRuleId, message: string, where: TrafficFinding['where'], fix?: string, policies?: TrafficFinding['policies']): TrafficFinding =>
  ({ rule, severity: TRAFFIC_RULES[rule][0], message, where, ...(fix ? { fix } : {}), ...(policies && policies.length ? { policies } : {}) });

/** More allowed paths than this is a cluster left nearly open; counting further would only exhaust memory. */
export const PATH_LIMIT = 2_000_000;
/** The finding a verification that stopped at the limit is (nothing was compared: it is never "verified"). */
export function tooManyPathsFinding(e: TooManyPaths): TrafficFinding {
  return finding('traffic-too-many-paths', `${e.message}; nothing was compared`, {},
    'add a default deny (podSelector: {}, both policy types) in each namespace and narrow the policies that allow everything');
}
/** Undeclared paths reported one by one; the rest are counted in one more finding. */
const FINDINGS_SHOWN = 500;

/** The internet, as seen from the cluster: addresses in no private or special range. */
export const WORLD_V4 = '203.0.113.7';
export const WORLD_V6 = '2001:db8::7';
/** A namespace that is none of the registry's (its name cannot be a real one: it has parentheses). */
export const ELSEWHERE = '(another-namespace)';
const UNLISTED = '(unlisted-pod)';
const KUBE_DNS: Pod = { namespace: 'kube-system', name: 'kube-dns', labels: { 'k8s-app': 'kube-dns' }, ports: [{ port: 53, protocol: 'UDP', name: 'dns' }, { port: 53, protocol: 'TCP', name: 'dns-tcp' }] };

/** An address an ipBlock admits: in its CIDR and in none of its `except` blocks (undefined when none is found). */
export function addressAdmittedBy(block: { readonly cidr: string; readonly except?: readonly string[] }): string | undefined {
  // Stryker disable next-line ArrayDeclaration: equivalent, a candidate that is no address is never admitted
  const candidates: string[] = [];
  const first = addressIn(block.cidr);
  // The whole space with nothing excepted: the internet stand-ins are in it already.
  if (!first && (block.except ?? []).length === 0) return undefined;
  if (first) candidates.push(first);
  // Just past and just before each except block, then the block's last address.
  // Stryker disable next-line ArrayDeclaration: equivalent, an except block that does not parse adds no candidate
  for (const cidr of block.except ?? []) {
    try {
      const [base, bits] = ipaddr.parseCIDR(cidr);
      const bytes = base.toByteArray();
      const width = bytes.length * 8;
      const low = [...bytes];
      for (let bit = bits; bit < width; bit++) low[bit >> 3] &= ~(0x80 >> (bit & 7));
      const high = [...low];
      for (let bit = bits; bit < width; bit++) high[bit >> 3] |= 0x80 >> (bit & 7);
      candidates.push(step(high, 1), step(low, -1));
    } catch {
      // an invalid except block admits nothing of its own
    }
  }
  try {
    const [base, bits] = ipaddr.parseCIDR(block.cidr);
    const bytes = base.toByteArray();
    for (let bit = bits; bit < bytes.length * 8; bit++) bytes[bit >> 3] |= 0x80 >> (bit & 7);
    candidates.push(step(bytes, -1));
  // Stryker disable next-line BlockStatement: equivalent, a block whose cidr does not parse admits no address, so the find below gives undefined too
  } catch {
    return undefined;
  }
  return candidates.find(ip => ip && ipBlockAdmits(block, ip));
}

/** The address `delta` (1 or -1) away, wrapping never (empty string at the ends of the space). */
function step(bytes: number[], delta: 1 | -1): string {
  const out = [...bytes];
  for (let i = out.length - 1; i >= 0; i--) {
    const v = out[i] + delta;
    if (v >= 0 && v <= 255) { out[i] = v; return ipaddr.fromByteArray(out).toString(); }
    out[i] = delta > 0 ? 0 : 255;
  }
  return '';
}

const addressInMemo = new Map<string, string | undefined>();

/** An address inside a CIDR (its first host where there is one). */
export function addressIn(cidr: string): string | undefined {
  if (addressInMemo.has(cidr)) return addressInMemo.get(cidr);
  const ip = firstAddress(cidr);
  // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent, a memo cleared or kept answers the same
  if (addressInMemo.size >= 10_000) addressInMemo.clear();
  addressInMemo.set(cidr, ip);
  return ip;
}

function firstAddress(cidr: string): string | undefined {
  try {
    const [base, bits] = ipaddr.parseCIDR(cidr);
    // The whole address space: the internet stand-ins are in it already.
    if (bits === 0) return undefined;
    const bytes = base.toByteArray();
    const width = bytes.length * 8;
    // The network address with the host part cleared, plus one when there is a host part.
    for (let bit = bits; bit < width; bit++) bytes[bit >> 3] &= ~(0x80 >> (bit & 7));
    if (bits < width) bytes[bytes.length - 1] |= 1;
    return ipaddr.fromByteArray(bytes).toString();
  } catch {
    return undefined;
  }
}

/** Whether a selector names no label (`matchExpressions` aside). */
function noLabels(selector: LabelSelector): boolean {
  // (A loop, not Object.keys: no array for each of hundreds of thousands of peers.)
  for (const key in selector.matchLabels) if (Object.prototype.hasOwnProperty.call(selector.matchLabels, key)) return false;
  return true;
}

/**
 * A key for a peer: equal for peers that select alike as written. A pod selector of one label and
 * nothing else (the generator's peers) is `k\u0001v` without JSON; any other peer is its JSON
 * (which starts with `{`).
 */
function peerKey(peer: { readonly podSelector?: LabelSelector; readonly namespaceSelector?: LabelSelector; readonly ipBlock?: unknown }): string {
  const s = peer.podSelector;
  if (s && !peer.namespaceSelector && !peer.ipBlock && s.matchExpressions === undefined) {
    let only: string | undefined;
    let count = 0;
    for (const k in s.matchLabels) { only = k; if (++count > 1) break; }
    let fields = 0;
    for (const _ in peer) fields++;
    let selectorFields = 0;
    for (const _ in s) selectorFields++;
    if (count === 1 && fields === 1 && selectorFields === 1) return `${only}\u0001${s.matchLabels![only!]}`;
  }
  return JSON.stringify(peer);
}

/** Labels as a message shows them: `k=v,k2=v2`. */
export const labelText = (labels: Readonly<Record<string, string>>): string => Object.keys(labels).sort().map(k => `${k}=${labels[k]}`).join(',');

/** The value a stand-in gets for a label a selector only asks to exist. */
const ANY_VALUE = 'any';

/**
 * The fewest labels a selector selects (its `matchLabels`, a value for each `In` and `Exists`), or
 * undefined when no label set satisfies it.
 */
export function satisfying(selector: LabelSelector): Record<string, string> | undefined {
  const labels: Record<string, string> = { ...(selector.matchLabels ?? {}) };
  const exprs = selector.matchExpressions ?? [];
  const excluded = (key: string, v: string) => exprs.some(e => e.key === key &&
    ((e.operator === 'NotIn' && (e.values ?? []).includes(v)) || (e.operator === 'In' && !(e.values ?? []).includes(v))));
  for (const e of exprs) {
    if (Object.prototype.hasOwnProperty.call(labels, e.key)) continue;
    if (e.operator === 'In') {
      const v = (e.values ?? []).find(x => !excluded(e.key, x));
      if (v === undefined) return undefined;
      labels[e.key] = v;
    } else if (e.operator === 'Exists') {
      // (An `In` of the same key names the values; otherwise a value no `NotIn` lists.)
      const named = exprs.find(x => x.key === e.key && x.operator === 'In');
      let v: string | undefined = named ? (named.values ?? []).find(x => !excluded(e.key, x)) : ANY_VALUE;
      for (let i = 2; v !== undefined && !named && excluded(e.key, v); i++) v = `${ANY_VALUE}${i}`;
      if (v === undefined) return undefined;
      labels[e.key] = v;
    }
  }
  return selects(selector, labels) ? labels : undefined;
}

const deployed = (status: string | undefined) => status === undefined || status === 'active' || status === 'dev-only';

interface Universe {
  readonly cluster: Cluster;
  readonly sources: Endpoint[];
  readonly targets: Target[];
  /** The registry namespaces (paths touching them are compared). */
  readonly registryNamespaces: Set<string>;
  readonly declared: DeclaredPath[];
  /** Ports `public: true` opens to everyone outside the registry's own namespaces. */
  readonly openToAll: ReadonlyArray<{ own: Set<string>; pod: Pod; port: number; protocol: string; reason: string }>;
  /** Registry services with ports in an environment that no pod of the folder stands for. */
  readonly unmatched: ReadonlyArray<{ registry: string; service: string; environment: string; namespace: string; selector: Record<string, string> }>;
}

/** The stand-ins, the declared paths and the cluster with the stand-ins added. */
function universe(base: Cluster, registries: readonly TrafficRegistry[], standInsFrom: readonly Cluster[] = []): Universe {
  // Stand-ins come from these policies (two sides of a diff share them, so that their paths compare).
  const adminPolicies = [...base.admin, ...standInsFrom.flatMap(c => c.admin)];
  // (The admin tiers' subjects and peers ask for stand-ins as a NetworkPolicy's peers do: ./admin-standins.ts.)
  const probePolicies = [...base.policies, ...standInsFrom.flatMap(c => c.policies), ...adminAsPolicies(adminPolicies, ELSEWHERE)];
  const probes: Endpoint[] = [];
  const probeIds = new Set<string>(base.pods.map(endpointId));
  const extraPorts = new Map<Endpoint, Map<string, { port: number; protocol: string }>>();
  const addPort = (e: Endpoint, port: number, protocol: string) => {
    let m = extraPorts.get(e);
    if (!m) extraPorts.set(e, m = new Map());
    m.set(`${port}/${protocol}`, { port, protocol });
  };
  // Stand-in pods, one per namespace and label set (a pod of the folder that has the labels stands for itself).
  const probeMemo = new Map<string, Pod>();
  const standInsIn = new Map<string, Pod[]>();
  // (Stand-in namespaces made for a selector are in extraNamespaces, filled in before their pods are made; their labels are shown.)
  const extraNamespaces = new Map<string, Record<string, string>>();
  const nsLabelsOf = (ns: string): Record<string, string> | undefined => {
    const labels = extraNamespaces.get(ns);
    return labels && Object.keys(labels).some(k => k !== NAMESPACE_NAME_LABEL) ? labels : undefined;
  };
  // (One label, the most common case, is keyed without a sort or JSON: `k\u0001v`; a JSON key starts with `[`.)
  const labelsKey = (labels: Record<string, string>) => {
    let only: string | undefined;
    let count = 0;
    for (const k in labels) { only = k; if (++count > 1) break; }
    if (count === 0) return '';
    if (count === 1) return `${only}\u0001${labels[only!]}`;
    return JSON.stringify(Object.keys(labels).sort().map(k => [k, labels[k]]));
  };
  const probePod = (namespace: string, name: string, labels: Record<string, string>): Pod => {
    const memoKey = `${namespace}\u0000${labelsKey(labels)}`;
    const memo = probeMemo.get(memoKey);
    if (memo) return memo;
    // A pod of the folder with exactly these labels stands for itself; otherwise a stand-in with them.
    // (One with more labels would not do: a policy may select it for its extra labels, and not a pod without them.)
    const keys = Object.keys(labels);
    let pod: Pod | undefined = keys.length > 0
      ? base.selectedIn(namespace, { matchLabels: labels }).find(p => Object.keys(p.labels).length === keys.length)
      : undefined;
    if (!pod) {
      let id = name;
      for (let i = 2; probeIds.has(`${namespace}/${id}`); i++) id = `${name}-${i}`;
      const shown = Object.keys(labels).length ? `labelled ${labelText(labels)}` : 'of any labels';
      // (Their ports are not known: a named port may be any; and there may be many of them.)
      pod = { namespace, name: id, labels, ports: [], source: `a stand-in for pods ${shown} the folder does not list`, several: true, anyPorts: true, ...(nsLabelsOf(namespace) ? { namespaceLabels: nsLabelsOf(namespace) } : {}) };
      probes.push(pod);
      probeIds.add(`${namespace}/${id}`);
      const list = standInsIn.get(namespace);
      if (list) list.push(pod); else standInsIn.set(namespace, [pod]);
    }
    probeMemo.set(memoKey, pod);
    return pod;
  };
  // The addresses outside the cluster: the intervals every CIDR of a policy or a registry cuts the
  // address space into, one address each (the internet stand-ins where they fall).
  // (One walk over the policies' peers also keeps the selectors with expressions: the only ones
  // labelToggles, below, reads; in the order the policies, their rules and peers come.)
  const cidrs: string[] = [];
  const podExpressions: LabelSelector[] = [];
  const namespaceExpressions: LabelSelector[] = [];
  for (const p of probePolicies) {
    if (p.podSelector.matchExpressions?.length) podExpressions.push(p.podSelector);
    for (const rules of [p.ingress, p.egress]) {
      for (const rule of rules) {
        for (const peer of (rules === p.ingress ? rule.from : rule.to) ?? []) {
          if (peer.ipBlock) cidrs.push(peer.ipBlock.cidr, ...(peer.ipBlock.except ?? []));
          if (peer.podSelector?.matchExpressions?.length) podExpressions.push(peer.podSelector);
          if (peer.namespaceSelector?.matchExpressions?.length) namespaceExpressions.push(peer.namespaceSelector);
        }
      }
    }
  }
  for (const r of registries) {
    for (const ext of Object.values(r.spec.externals ?? {})) cidrs.push(...(ext.cidrs ?? []));
    for (const svc of Object.values(r.spec.services ?? {})) if (svc.public && svc.public !== true) cidrs.push(...(svc.public.cidrs ?? []));
  }
  cidrs.push(...adminNetworks(adminPolicies));
  const addresses = new Map<string, Address>();
  for (const span of addressSpans(cidrs, [WORLD_V4, WORLD_V6])) {
    const a: Address = { ip: span.ip, span: { first: span.first, last: span.last } };
    addresses.set(span.ip, a);
    probes.push(a);
  }
  for (const node of nodeStandIns(adminPolicies)) {
    addresses.set(node.ip, node);
    probes.push(node);
  }
  /** The stand-in addresses a CIDR holds (whole intervals: every CIDR is a cut). */
  const inMemo = new Map<string, Address[]>();
  const addressesIn = (cidr: string): Address[] => {
    let list = inMemo.get(cidr);
    if (!list) inMemo.set(cidr, list = [...addresses.values()].filter(a => cidrContains(cidr, a.ip)));
    return list;
  };
  const elsewhere = probePod(ELSEWHERE, UNLISTED, {});
  let dns = base.pods.find(p => p.namespace === 'kube-system' && p.labels['k8s-app'] === 'kube-dns');
  if (!dns) {
    // (A pod of the folder named kube-dns in kube-system without the label keeps its name: the stand-in takes another.)
    dns = { ...KUBE_DNS, ...(probeIds.has('kube-system/kube-dns') ? { name: '(kube-dns)' } : {}), source: 'a stand-in for the cluster DNS' };
    probes.push(dns);
  }
  probeMemo.set(`${dns.namespace}\u0000${labelsKey(dns.labels)}`, dns);

  const registryNamespaces = new Set<string>();
  const declared: DeclaredPath[] = [];
  const openToAll: Array<{ own: Set<string>; pod: Pod; port: number; protocol: string; reason: string }> = [];
  const unmatched: Array<Universe['unmatched'][number]> = [];

  // The stand-ins the registries name first (so that they keep their names): an unlisted pod in
  // each of their namespaces and in the namespaces public entries name, and the pods of externals.
  for (const r of registries) {
    for (const e of r.environments) {
      registryNamespaces.add(e.namespace);
      probePod(e.namespace, UNLISTED, {});
    }
    for (const [name, ext] of Object.entries(r.spec.externals ?? {})) if (ext.namespace !== undefined) probePod(ext.namespace, `(${name})`, ext.podSelector ?? {});
    for (const svc of Object.values(r.spec.services ?? {})) {
      if (svc.public && svc.public !== true && deployed(svc.status)) for (const ns of svc.public.namespaces ?? []) probePod(ns, UNLISTED, {});
    }
  }
  // Every label constraint a selector of a policy can meet outside the pods of the folder gets a
  // stand-in: a namespace with the labels a namespaceSelector asks for (named as the selector names
  // it, or `(namespace with k=v)`), and in each namespace a peer's selectors can reach, a pod with
  // the labels its podSelector asks for; likewise a pod for each policy's own podSelector.
  const knownNamespaces = new Map<string, Readonly<Record<string, string>>>(base.namespaces());
  for (const ns of [...registryNamespaces, ELSEWHERE]) if (!knownNamespaces.has(ns)) knownNamespaces.set(ns, { [NAMESPACE_NAME_LABEL]: ns });
  const namespacesFor = new Map<string, string[]>();
  const namespacesOf = (selector: LabelSelector): string[] => {
    const key = JSON.stringify(selector);
    let list = namespacesFor.get(key);
    if (list) return list;
    list = [];
    for (const [ns, labels] of knownNamespaces) if (selects(selector, labels)) list.push(ns);
    // Each namespace an `In` on the name label lists is a namespace of its own: one the folder lacks gets a stand-in.
    for (const e of selector.matchExpressions ?? []) {
      if (e.key !== NAMESPACE_NAME_LABEL || e.operator !== 'In') continue;
      for (const v of e.values ?? []) {
        if (knownNamespaces.has(v)) continue;
        const labels = satisfying({ ...selector, matchLabels: { ...(selector.matchLabels ?? {}), [NAMESPACE_NAME_LABEL]: v } });
        if (!labels || !selects(selector, labels)) continue;
        extraNamespaces.set(v, labels);
        knownNamespaces.set(v, labels);
        list.push(v);
      }
    }
    const wanted = satisfying(selector);
    // (A selector another namespace meets already needs none of its own: `{}` or `team NotIn [a]`.)
    if (wanted && (Object.keys(wanted).length > 0 || !list.includes(ELSEWHERE))) {
      const pinned = wanted[NAMESPACE_NAME_LABEL];
      const name = pinned ?? (Object.keys(wanted).length ? `(namespace with ${labelText(wanted)})` : `${ELSEWHERE.slice(0, -1)}-${namespacesFor.size + 2})`);
      const labels = { ...wanted, [NAMESPACE_NAME_LABEL]: name };
      if (!knownNamespaces.has(name) && selects(selector, labels)) {
        extraNamespaces.set(name, labels);
        knownNamespaces.set(name, labels);
        list.push(name);
      } else if (pinned !== undefined && extraNamespaces.has(name) && !list.includes(name)) {
        // A stand-in of that name exists with fewer labels (`{name: out}`, now `{name: out, team: a}`):
        // the real namespace may carry both, so the stand-in takes the union where every selector that
        // chose it still does (and the lists of the selectors it now meets get it too).
        const merged = { ...extraNamespaces.get(name)!, ...labels };
        const choosers = [...namespacesFor].filter(([, l]) => l.includes(name)).map(([k]) => JSON.parse(k) as LabelSelector);
        if (selects(selector, merged) && choosers.every(s => selects(s, merged))) {
          extraNamespaces.set(name, merged);
          knownNamespaces.set(name, merged);
          list.push(name);
          for (const [k, l] of namespacesFor) if (!l.includes(name) && selects(JSON.parse(k) as LabelSelector, merged)) l.push(name);
        } else {
          // Labels no stand-in of that name can take with the others (`team=a` and `team=b`): a
          // namespace of that name with these labels instead, as a second stand-in (its id is no
          // namespace name; its name label is the name).
          const variant = `${name} (${labelText(wanted)})`;
          if (!knownNamespaces.has(variant)) {
            extraNamespaces.set(variant, labels);
            knownNamespaces.set(variant, labels);
          }
          list.push(variant);
        }
      }
    }
    namespacesFor.set(key, list);
    return list;
  };
  const peersSeen = new Set<string>();
  for (const p of probePolicies) {
    const own = satisfying(p.podSelector);
    if (own && Object.keys(own).length > 0) probePod(p.namespace, `(pod with ${labelText(own)})`, own);
    for (const rules of [p.ingress, p.egress]) {
      for (const rule of rules) {
        for (const peer of (rules === p.ingress ? rule.from : rule.to) ?? []) {
          if (peer.ipBlock || (!peer.podSelector && !peer.namespaceSelector)) continue;
          const key = `${peer.namespaceSelector ? '' : p.namespace}\u0000${peerKey(peer)}`;
          if (peersSeen.has(key)) continue;
          peersSeen.add(key);
          const labels = satisfying(peer.podSelector ?? {});
          if (!labels) continue;
          const name = Object.keys(labels).length ? `(pod with ${labelText(labels)})` : UNLISTED;
          for (const ns of peer.namespaceSelector ? namespacesOf(peer.namespaceSelector) : [p.namespace]) probePod(ns, name, labels);
        }
      }
    }
  }

  // Pods the folder does not list in each namespace it knows (any labels: an unlisted pod), and a
  // twin of each stand-in with each label a NotIn, DoesNotExist or Exists asks about added
  // (./toggles.ts): a pod with more labels than a stand-in may be selected where it is not.
  for (const ns of base.namespaces().keys()) probePod(ns, UNLISTED, {});
  // Likewise a namespace the folder lacks with each label a namespace selector's NotIn, DoesNotExist
  // or Exists asks about, holding the pods a namespace of no labels holds.
  const nsToggles = labelToggles(namespaceExpressions);
  for (const [k, v] of nsToggles) {
    if (k === NAMESPACE_NAME_LABEL) continue;
    const name = `(namespace with ${k}=${v})`;
    if (knownNamespaces.has(name)) continue;
    const labels = { [k]: v, [NAMESPACE_NAME_LABEL]: name };
    extraNamespaces.set(name, labels);
    knownNamespaces.set(name, labels);
    for (const pod of [...(standInsIn.get(ELSEWHERE) ?? [])]) probePod(name, pod.name, pod.labels);
  }
  const toggles = labelToggles(podExpressions);
  if (toggles.length > 0) {
    for (const [ns, list] of [...standInsIn]) {
      for (const pod of [...list]) {
        for (const [k, v] of toggles) {
          if (pod.labels[k] === v) continue;
          const labels = { ...pod.labels, [k]: v };
          probePod(ns, `(pod with ${labelText(labels)})`, labels);
        }
      }
    }
  }

  for (const r of registries) {
    const envs = new Map(r.environments.map(e => [e.name, e]));
    const ownNamespaces = new Set<string>();
    for (const e of r.environments) {
      registryNamespaces.add(e.namespace);
      ownNamespaces.add(e.namespace);
    }
    const services = r.spec.services ?? {};
    const externals = r.spec.externals ?? {};
    const allocationsOf = new Map<string, ResolvedRegistry['allocations'][number][]>();
    for (const a of r.allocations) {
      const key = `${a.environment}\u0000${a.service}`;
      const list = allocationsOf.get(key);
      if (list) list.push(a); else allocationsOf.set(key, [a]);
    }
    // A service's pods, through the cluster's label index (a one-label selector is a lookup: nothing is kept).
    const folderPodsOf = (namespace: string, name: string, svc: { selector?: Record<string, string> }): readonly Pod[] =>
      base.selectedIn(namespace, { matchLabels: podSelectorOf(name, svc) });
    // A service's pods are every pod its selector selects, stand-ins with its labels too (a pod the
    // folder does not list with api's labels is a pod of api). A service with none gets a stand-in
    // with its labels: what policies allow its pods is still compared.
    const podsOf = (namespace: string, name: string, svc: { selector?: Record<string, string> }): readonly Pod[] => {
      const pods = folderPodsOf(namespace, name, svc);
      const selector = { matchLabels: podSelectorOf(name, svc) };
      const standIns = (standInsIn.get(namespace) ?? []).filter(p => Object.keys(selector.matchLabels).length > 0 && selects(selector, p.labels));
      const all = standIns.length ? [...pods, ...standIns] : pods;
      return all.length ? all : [probePod(namespace, `(${name})`, selector.matchLabels)];
    };
    const portsOf = (env: string, service: string) => allocationsOf.get(`${env}\u0000${service}`) ?? [];
    const allocation = (env: string, service: string, portName: string) => portsOf(env, service).find(a => a.portName === portName);

    for (const e of r.environments) probePod(e.namespace, UNLISTED, {});
    for (const name of Object.keys(services)) {
      if (!deployed(services[name].status)) continue;
      for (const e of r.environments) {
        if (portsOf(e.name, name).length > 0 && folderPodsOf(e.namespace, name, services[name]).length === 0) {
          unmatched.push({ registry: r.spec.name, service: name, environment: e.name, namespace: e.namespace, selector: podSelectorOf(name, services[name]) });
        }
      }
    }

    for (const c of r.connections) {
      const from = services[c.from];
      if (!from || !deployed(from.status)) continue;
      const clientNs = envs.get(c.environment)?.namespace;
      const targetNs = c.peer ? c.peer.allocation.namespace : envs.get(c.targetEnvironment)?.namespace;
      const a = c.peer ? c.peer.allocation : allocation(c.targetEnvironment, c.to, c.portName);
      if (!clientNs || !targetNs || !a) continue;
      const clients = podsOf(clientNs, c.from, from);
      let targets: readonly Endpoint[] = [];
      let port = a.targetPort;
      if (c.peer) {
        // Another registry's service: its pods, by its labels, in its namespace.
        targets = podsOf(targetNs, c.to, { selector: { ...c.peer.selector } });
      } else if (c.targetKind === 'service') {
        const to = services[c.to];
        if (!to || !deployed(to.status)) continue;
        targets = podsOf(targetNs, c.to, to);
      } else {
        const ext = externals[c.to];
        if (!ext) continue;
        if (ext.namespace !== undefined) {
          targets = [probePod(ext.namespace, `(${c.to})`, ext.podSelector ?? {})];
        } else {
          port = a.port;
          targets = [...new Set((ext.cidrs ?? []).flatMap(addressesIn))];
        }
        for (const t of targets) addPort(t, port, a.protocol);
      }
      // (One reason per connection, shared by its paths.)
      const reason = `${r.spec.name}: ${c.from} connects to ${c.peer ? `${c.peer.registry}/` : ''}${c.to} (${c.portName}) in ${c.environment}`;
      for (const t of targets) {
        // An external's pods in a namespace of this registry are behind its default deny, and the
        // registry generates their ingress: both sides are declared. (Another registry's pods declare their own.)
        const side = c.targetKind === 'service' || (isPod(t) && ownNamespaces.has(t.namespace)) ? 'both' : 'egress';
        const to = endpointId(t);
        for (const s of clients) declared.push({ from: endpointId(s), to, port, protocol: a.protocol, side, reason });
      }
    }

    // Clients in other registries (declared by theirs too: the same paths, whichever registries are read).
    for (const c of r.inbound ?? []) {
      const to = services[c.to];
      const targetNs = envs.get(c.environment)?.namespace;
      const a = allocation(c.environment, c.to, c.portName);
      if (!to || !deployed(to.status) || !targetNs || !a) continue;
      const reason = `${c.fromRegistry}: ${c.from} connects to ${r.spec.name}/${c.to} (${c.portName}) in ${c.fromEnvironment}`;
      const clients = podsOf(c.fromNamespace, c.from, { selector: { ...c.fromSelector } });
      for (const t of podsOf(targetNs, c.to, to)) {
        for (const s of clients) declared.push({ from: endpointId(s), to: endpointId(t), port: a.targetPort, protocol: a.protocol, side: 'both', reason });
      }
    }

    for (const name of Object.keys(services)) {
      const svc = services[name];
      if (!svc.public || !deployed(svc.status)) continue;
      // A port that opts out (`public: false`, a metrics port) is not part of the public entry.
      const reachedByPublic = (port: string) => (svc.ports as Record<string, { public?: boolean }> | undefined)?.[port]?.public !== false;
      const sources: Endpoint[] = [];
      if (svc.public === true) {
        // Everyone outside this registry's namespaces: resolved below, once every stand-in exists.
        const own = new Set(r.environments.map(e => e.namespace));
        const reason = `${r.spec.name}: ${name} is public`;
        for (const e of r.environments) {
          for (const pod of podsOf(e.namespace, name, svc)) {
            for (const a of portsOf(e.name, name)) {
              if (!reachedByPublic(a.portName)) continue;
              openToAll.push({ own, pod, port: a.targetPort, protocol: a.protocol, reason });
              addPort(pod, a.targetPort, a.protocol);
            }
          }
        }
        continue;
      } else {
        for (const ns of svc.public.namespaces ?? []) sources.push(probePod(ns, UNLISTED, {}));
        for (const a of new Set((svc.public.cidrs ?? []).flatMap(addressesIn))) sources.push(a);
      }
      const reason = `${r.spec.name}: ${name} is public to ${[...(svc.public.namespaces ?? []), ...(svc.public.cidrs ?? [])].join(', ')}`;
      for (const e of r.environments) {
        const ports = portsOf(e.name, name).filter(a => reachedByPublic(a.portName));
        for (const pod of podsOf(e.namespace, name, svc)) {
          for (const a of ports) {
            for (const s of sources) declared.push({ from: endpointId(s), to: endpointId(pod), port: a.targetPort, protocol: a.protocol, side: 'ingress', reason });
          }
        }
      }
    }
  }
  const cluster = new Cluster({
    namespaces: { ...Object.fromEntries(base.namespaces()), ...Object.fromEntries(extraNamespaces) },
    pods: [...base.pods, ...probes.filter(isPod)],
    policies: base.policies,
    samePoliciesAs: base,
    ...(base.admin.length ? { admin: base.admin } : {}),
  });
  // `public: true` admits every address and every pod outside the registry's namespaces: kept as a
  // rule (listing every pair would be quadratic); the declared list gets the internet and another namespace.
  for (const o of openToAll) {
    const everyone: Endpoint[] = [addresses.get(WORLD_V4)!, addresses.get(WORLD_V6)!, elsewhere];
    for (const source of everyone) {
      declared.push({ from: endpointId(source), to: endpointId(o.pod), port: o.port, protocol: o.protocol, side: 'ingress', reason: o.reason });
    }
  }
  // Cluster DNS: every pod of a registry namespace may ask kube-dns on 53/UDP and 53/TCP (the
  // generator's one fixed rule); the DNS pod's other ports (CoreDNS' metrics on 9153) are not declared.
  for (const pod of cluster.pods) {
    if (!registryNamespaces.has(pod.namespace) || pod === dns) continue;
    for (const p of KUBE_DNS.ports) declared.push({ from: endpointId(pod), to: endpointId(dns), port: p.port, protocol: p.protocol, side: 'egress', reason: 'every pod may ask the cluster DNS' });
  }
  const sources: Endpoint[] = [...cluster.pods, ...addresses.values()];
  // Every declared port is compared on its own (one interval of it alone).
  const byId = new Map(sources.map(e => [endpointId(e), e]));
  for (const d of declared) addPort(byId.get(d.to)!, d.port, d.protocol);
  // The ports declared towards each end cut its intervals (exactPaths cuts at the policies' own ports).
  const none: Target['ports'] = [];
  const targets: Target[] = sources.map(e => {
    const extra = extraPorts.get(e);
    return { endpoint: e, ports: extra ? [...extra.values()] : none };
  });
  return { cluster, sources, targets, registryNamespaces, declared, openToAll, unmatched };
}

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

const EGRESS_DECLARED = 1;
const INGRESS_DECLARED = 2;
const ALLOWED = 4;
/** A declared path's problem looked at, per side that declares it. */
const SIDE_BIT = { both: 8, egress: 16, ingress: 32 } as const;

/**
 * Keys for comparing paths: a number from the two ends' indexes and an index of the port and
 * protocol (sets of numbers are far cheaper than sets of strings at hundreds of thousands of
 * paths). The same path always gets the same key, and different paths different keys: the
 * indexes are dense and the number stays exact (below 2^53), or the key is a string of them.
 * (`exactUpTo` is for tests.)
 */
export function pathKeys(lists: ReadonlyArray<readonly Path[]>, exactUpTo = Number.MAX_SAFE_INTEGER): (p: Path) => number | string {
  const ends = new Map<string, number>();
  const protocols = new Map<string, Map<number, number>>();
  let portCount = 0;
  const endOf = (id: string) => {
    let i = ends.get(id);
    if (i === undefined) ends.set(id, i = ends.size);
    return i;
  };
  const portOf = (port: number, protocol: string) => {
    let byPort = protocols.get(protocol);
    if (!byPort) protocols.set(protocol, byPort = new Map());
    let i = byPort.get(port);
    if (i === undefined) byPort.set(port, i = portCount++);
    return i;
  };
  for (const list of lists) for (const p of list) { endOf(p.from); endOf(p.to); portOf(p.port, p.protocol); }
  const n = ends.size;
  const m = Math.max(portCount, 1);
  const exact = n * n * m <= exactUpTo;
  return p => {
    const from = endOf(p.from);
    const to = endOf(p.to);
    const port = portOf(p.port, p.protocol);
    // A path not in the lists (none is asked for) gets indexes past the counts: a string key then.
    if (!exact || from >= n || to >= n || port >= m) return `${from} ${to} ${port}`;
    return (from * n + to) * m + port;
  };
}

/** Verifies a cluster's policies against the registries' declared traffic. */
export function verifyCluster(base: Cluster, registries: readonly TrafficRegistry[], options: {
  /** Only the registries' namespaces need a default deny, and no pitfall warnings (what the synth checks). @default false */
  readonly registryNamespacesOnly?: boolean;
  /** Other clusters whose policies add stand-ins (`diff --traffic` gives each side the other's). @default none */
  readonly standInsFrom?: readonly Cluster[];
  /** Throw {@link TooManyPaths} above this many allowed paths. @default PATH_LIMIT */
  readonly pathLimit?: number;
} = {}): VerifyResult {
  const u = universe(base, registries, options.standInsFrom);
  // Paths between two stand-ins say nothing about the folder: left out.
  const folderPods = new Set(base.pods.map(endpointId));
  const allowed = u.cluster.exactPaths(u.sources, u.targets, options.pathLimit ?? PATH_LIMIT).filter(p => folderPods.has(p.from) || folderPods.has(p.to));
  const podNamespaces = new Set(base.pods.map(p => p.namespace).filter(ns => !options.registryNamespacesOnly || u.registryNamespaces.has(ns)));
  const findings: TrafficFinding[] = structuralFindings(u.cluster, podNamespaces)
    .filter(f => !options.registryNamespacesOnly || f.severity === 'error');
  for (const pod of base.hostNetwork) {
    const inRegistry = u.registryNamespaces.has(pod.namespace);
    if (options.registryNamespacesOnly && !inRegistry) continue;
    const services = registries.flatMap(r => r.environments.filter(e => e.namespace === pod.namespace).flatMap(() =>
      Object.entries(r.spec.services ?? {}).filter(([name, svc]) => selects({ matchLabels: podSelectorOf(name, svc) }, pod.labels)).map(([name]) => `${r.spec.name} service ${name}`)));
    findings.push({
      ...finding('host-network-unprotected',
        `${pod.source ?? `${pod.namespace}/${pod.name}`} in ${pod.namespace} runs with hostNetwork: true: no NetworkPolicy applies to it (it uses the node's network), so nothing limits what it sends or accepts` +
          (services.length ? `; it has the labels of ${[...new Set(services)].join(', ')}, whose policies do not protect it` : ''),
        { namespace: pod.namespace, object: pod.source?.split(': ').pop() ?? pod.name },
        'remove hostNetwork (serve through a Service, or hostPort if the node\'s address is needed), or run the workload outside the registry\'s namespaces and accept that it is unprotected'),
      severity: inRegistry ? 'error' : 'warning',
    });
  }
  if (!options.registryNamespacesOnly) {
    for (const x of u.unmatched) {
      const selector = Object.entries(x.selector).map(([k, v]) => `${k}=${v}`).join(',');
      findings.push(finding('traffic-unmatched',
        `${x.registry}: service ${x.service} has ports in ${x.environment}, but no workload or Service in namespace ${x.namespace} matches its selector ${selector}: its connections and public entries were not compared`,
        { namespace: x.namespace }, `give ${x.service} a selector with its pods' labels in the registry, or add its workload to the folder`));
    }
  }
  if (registries.length > 0) {
    const endpoints = new Map<string, Endpoint>(u.sources.map(e => [endpointId(e), e]));
    const keyOf = pathKeys([allowed, u.declared]);
    const declaredKeys = u.declared.map(keyOf);
    // What is known of each path, as bits of one number (one map, not a set per question):
    // which sides declare it, whether it is allowed, and which sides' problems were looked at.
    const state = new Map<number | string, number>();
    u.declared.forEach((d, i) => {
      const key = declaredKeys[i];
      state.set(key, (state.get(key) ?? 0) | (d.side === 'ingress' ? 0 : EGRESS_DECLARED) | (d.side === 'egress' ? 0 : INGRESS_DECLARED));
    });
    const openTo = new Map<string, Array<{ own: Set<string> }>>();
    for (const o of u.openToAll) {
      const key = `${endpointId(o.pod)} ${o.port}/${o.protocol}`;
      const list = openTo.get(key);
      if (list) list.push(o); else openTo.set(key, [o]);
    }
    const publicAdmits = (p: Path) => {
      const source = endpoints.get(p.from);
      return (openTo.get(`${p.to} ${p.port}/${p.protocol}`) ?? []).some(o => !source || !isPod(source) || !o.own.has(source.namespace));
    };
    const registryPods = new Set<string>();
    for (const e of u.sources) if (isPod(e) && u.registryNamespaces.has(e.namespace)) registryPods.add(endpointId(e));
    // Undeclared intervals of one pair and protocol that touch are one finding (`every TCP port`, not three pieces).
    const parts: Array<{ p: Path; egress: boolean; ingress: boolean }> = [];
    for (const p of allowed) {
      const key = keyOf(p);
      const bits = state.get(key) ?? 0;
      state.set(key, bits | ALLOWED);
      // Each end in a registry namespace must have declared its side of the path.
      const egressUndeclared = !(bits & EGRESS_DECLARED) && registryPods.has(p.from);
      const ingressUndeclared = !(bits & INGRESS_DECLARED) && registryPods.has(p.to) && !publicAdmits(p);
      if (!egressUndeclared && !ingressUndeclared) continue;
      parts.push({ p, egress: egressUndeclared, ingress: ingressUndeclared });
    }
    const groups: Array<Array<typeof parts[number]>> = [];
    const open = new Map<string, Array<typeof parts[number]>>();
    for (const part of parts) {
      const k = `${part.p.from}\u0000${part.p.to}\u0000${part.p.protocol}`;
      const group = open.get(k);
      const last = group?.[group.length - 1].p;
      if (group && last && (last.endPort ?? last.port) + 1 === part.p.port) group.push(part);
      else {
        const fresh = [part];
        open.set(k, fresh);
        groups.push(fresh);
      }
    }
    const undeclared = groups.length;
    for (const group of groups.slice(0, FINDINGS_SHOWN)) {
      const first = group[0].p;
      const end = group[group.length - 1].p.endPort ?? group[group.length - 1].p.port;
      const p: Path = end > first.port ? { ...first, endPort: end } : first;
      const why: string[] = [];
      const rules: RuleRef[] = [];
      const ruleKeys = new Set<string>();
      for (const [direction, label] of [['egress', 'egress of'], ['ingress', 'ingress of']] as const) {
        const undeclaredParts = group.filter(x => x[direction]);
        if (!undeclaredParts.length) continue;
        let endpoint = '';
        let isolated = false;
        const by: RuleRef[] = [];
        const tiers = new Map<string, AdminHit>();
        for (const x of undeclaredParts) {
          const v = u.cluster.verdict(endpoints.get(x.p.from)!, endpoints.get(x.p.to)!, x.p.port, x.p.protocol);
          const side = v[direction]!;
          endpoint = side.endpoint;
          isolated = side.isolated;
          if (side.decidedBy) {
            const hit = side.decidedBy;
            if (!tiers.has(hitText(hit))) { tiers.set(hitText(hit), hit); rules.push(hitRef(hit)); }
          }
          for (const r of side.allowedBy) {
            const rk = `${r.namespace}/${r.policy}/${r.file}/${r.direction}/${r.rule}`;
            if (ruleKeys.has(rk)) continue;
            ruleKeys.add(rk);
            by.push(r);
            rules.push(r);
          }
        }
        // An admin (or baseline) Allow opens what the NetworkPolicies may not: named first.
        const allowedBy = [...[...tiers.values()].map(h => `${h.tier === 'Admin' ? 'the admin tier' : 'the baseline tier'}, ${hitText(h)}`), ...(by.length ? [describeRules(by)] : [])];
        why.push(`${label} ${endpoint} ${allowedBy.length ? `is allowed by ${allowedBy.join(', ')}` : isolated ? 'is allowed by no rule' : 'is not limited by any policy'}`);
      }
      const witness = [standInText(endpoints.get(p.from)!), standInText(endpoints.get(p.to)!)].filter(Boolean);
      findings.push(finding('traffic-undeclared',
        `${p.from} -> ${p.to} ${portText(p)} is allowed but not declared${witness.length ? ` (${witness.join('; ')})` : ''}: ${why.join('; ')}`,
        { from: p.from, to: p.to, port: p.port, ...(p.endPort !== undefined ? { endPort: p.endPort } : {}), protocol: p.protocol },
        'remove or narrow the policy that allows it, or declare the connection (connectsTo) or public entry in the registry', rules));
    }
    if (undeclared > FINDINGS_SHOWN) {
      findings.push(finding('traffic-undeclared', `… and ${undeclared - FINDINGS_SHOWN} more allowed paths that are not declared (${undeclared} in all)`, {},
        'fix the policies the paths above name, then verify again'));
    }
    // The sides seen of each declared path (a bit each), so that a path is reported once per side.
    const problems: Array<{ key: string; d: DeclaredPath }> = [];
    for (const [i, d] of u.declared.entries()) {
      if (d.from === d.to) continue;
      const key = declaredKeys[i];
      const bit = SIDE_BIT[d.side];
      const bits = state.get(key)!;
      if (bits & ALLOWED) continue; // allowed as a whole: both sides admit it
      if (bits & bit) continue;
      state.set(key, bits | bit);
      problems.push({ key: pathKey(d), d });
    }
    problems.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    for (const { d } of problems) {
      const v = u.cluster.verdict(endpoints.get(d.from)!, endpoints.get(d.to)!, d.port, d.protocol);
      const blocked = [d.side !== 'ingress' && v.egress && !v.egress.allowed ? v.egress : undefined, d.side !== 'egress' && v.ingress && !v.ingress.allowed ? v.ingress : undefined]
        .filter((x): x is NonNullable<typeof x> => !!x);
      if (blocked.length === 0) continue;
      findings.push(finding('traffic-blocked',
        `${d.from} -> ${d.to} ${d.port}/${d.protocol} is declared (${d.reason}) but blocked: ${blocked.map(x => `${x === v.egress ? 'egress' : 'ingress'} of ${x.endpoint} ${x.decidedBy ? `is denied by the ${x.decidedBy.tier === 'Admin' ? 'admin' : 'baseline'} tier, ${hitText(x.decidedBy)}` : `is limited by ${x.policies.map(y => y.policy).join(', ')} and no rule admits it`}${x.passedBy ? ` (${hitText(x.passedBy)} passed it on)` : ''}`).join('; ')}`,
        { from: d.from, to: d.to, port: d.port, protocol: d.protocol },
        blocked.some(x => x.decidedBy)
          ? 'ask the platform team to allow (or Pass) this path in the admin policy named, or remove the connection from the registry'
          : 'regenerate the manifests (npm run synth) or add the missing rule; check that no hand-written policy selects these pods',
        blocked.flatMap(x => (x.decidedBy ? [hitRef(x.decidedBy)] : x.policies))));
    }
  }
  return { ok: !findings.some(f => f.severity === 'error'), findings, allowed, declared: u.declared };
}

/** The probes and cluster that verify would use, for `explain` (names like `(another-namespace)/(unlisted-pod)`). */
export function endpointsOf(base: Cluster, registries: readonly TrafficRegistry[]): { cluster: Cluster; endpoints: Map<string, Endpoint> } {
  const u = universe(base, registries);
  return { cluster: u.cluster, endpoints: new Map(u.sources.map(e => [endpointId(e), e])) };
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
