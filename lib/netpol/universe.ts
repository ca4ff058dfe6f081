/**
 * The universe `verify` compares paths in: the pods of the manifests and stand-ins for the rest of
 * the world ("probes"), and the paths the registries declare among them. Stand-ins: an address in
 * each interval the CIDRs of the policies and registries cut the address space into (the internet
 * among them, IPv4 and IPv6), a pod of another namespace, an unlisted pod in each namespace, the
 * cluster DNS, the pods of the namespaces externals and public entries name, and for every label
 * constraint a selector can meet outside the folder a namespace or pod with those labels
 * (docs/traffic.md, "Representative peers").
 */
import * as ipaddr from 'ipaddr.js';
import type { ResolvedRegistry } from '../model/resolved';
import { podSelectorOf } from '../model/labels';
import { Cluster, Path, Target } from './cluster';
import { Address, Endpoint, LabelSelector, NAMESPACE_NAME_LABEL, Pod, Policy, cidrContains, endpointId, ipBlockAdmits, isPod, selects } from './model';
import { addressSpans } from './addresses';
import { labelToggles } from './toggles';
import { adminAsPolicies, adminNetworks, nodeStandIns } from './admin-standins';
import { labelText } from './findings';


/** What verify reads of a registry: what it declares (the synth's ports.json holds exactly this). */
export type TrafficRegistry = Pick<ResolvedRegistry, 'spec' | 'environments' | 'allocations' | 'connections' | 'inbound'>;

/**
 * A declared path, with what declares it and which side: a connection between two services
 * declares both (the client's egress and the target's ingress), one to an external only the
 * client's egress, a public entry only the service's ingress, the cluster DNS only egress.
 */
export interface DeclaredPath extends Path {
  readonly reason: string;
  readonly side: 'both' | 'egress' | 'ingress';
}

/** The internet, as seen from the cluster: addresses in no private or special range. */
export const WORLD_V4 = '203.0.113.7';
export const WORLD_V6 = '2001:db8::7';
/** A namespace that is none of the registry's (its name cannot be a real one: it has parentheses). */
export const ELSEWHERE = '(another-namespace)';
export const UNLISTED = '(unlisted-pod)';
export const KUBE_DNS: Pod = { namespace: 'kube-system', name: 'kube-dns', labels: { 'k8s-app': 'kube-dns' }, ports: [{ port: 53, protocol: 'UDP', name: 'dns' }, { port: 53, protocol: 'TCP', name: 'dns-tcp' }] };

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

export const deployed = (status: string | undefined) => status === undefined || status === 'active' || status === 'dev-only';

export interface Universe {
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

type OpenToAll = { own: Set<string>; pod: Pod; port: number; protocol: string; reason: string };
type Unmatched = Universe['unmatched'][number];

/** A key for a label set, equal for equal sets: one label (the most common case) is `k\u0001v`, without a sort or JSON; a JSON key starts with `[`. */
function labelsKey(labels: Record<string, string>): string {
  let only: string | undefined;
  let count = 0;
  for (const k in labels) { only = k; if (++count > 1) break; }
  if (count === 0) return '';
  if (count === 1) return `${only}\u0001${labels[only!]}`;
  return JSON.stringify(Object.keys(labels).sort().map(k => [k, labels[k]]));
}

/**
 * The stand-ins made so far (pods, namespaces, addresses) beside the pods of a folder, each made
 * once, and the ports declared towards each end (they cut its intervals).
 */
class StandIns {
  readonly probes: Endpoint[] = [];
  private readonly ids: Set<string>;
  /** Stand-in pods, one per namespace and label set (a pod of the folder that has the labels stands for itself). */
  private readonly memo = new Map<string, Pod>();
  /** The stand-in pods of each namespace. */
  readonly inNamespace = new Map<string, Pod[]>();
  /** Stand-in namespaces made for a selector (filled in before their pods are made; their labels are shown). */
  readonly extraNamespaces = new Map<string, Record<string, string>>();
  /** Every namespace known: the folder's, the registries', the stand-ins. */
  readonly knownNamespaces: Map<string, Readonly<Record<string, string>>>;
  private readonly namespacesFor = new Map<string, string[]>();
  /** The stand-in addresses by address. */
  readonly addresses = new Map<string, Address>();
  private readonly inMemo = new Map<string, Address[]>();
  readonly extraPorts = new Map<Endpoint, Map<string, { port: number; protocol: string }>>();

  constructor(private readonly base: Cluster) {
    this.ids = new Set<string>(base.pods.map(endpointId));
    this.knownNamespaces = new Map(base.namespaces());
  }

  /** Whether a pod of the folder or a stand-in has this id (`namespace/name`). */
  has(id: string): boolean {
    return this.ids.has(id);
  }

  addPort(e: Endpoint, port: number, protocol: string): void {
    let m = this.extraPorts.get(e);
    if (!m) this.extraPorts.set(e, m = new Map());
    m.set(`${port}/${protocol}`, { port, protocol });
  }

  addAddress(a: Address): void {
    this.addresses.set(a.ip, a);
    this.probes.push(a);
  }

  /** A stand-in the caller made (the cluster DNS), or a pod of the folder, to stand for its labels. */
  remember(pod: Pod, isNew: boolean): void {
    if (isNew) this.probes.push(pod);
    this.memo.set(`${pod.namespace}\u0000${labelsKey(pod.labels)}`, pod);
  }

  private nsLabelsOf(ns: string): Record<string, string> | undefined {
    const labels = this.extraNamespaces.get(ns);
    return labels && Object.keys(labels).some(k => k !== NAMESPACE_NAME_LABEL) ? labels : undefined;
  }

  /** The pod that stands for pods of these labels in a namespace (named `name` when it is made). */
  pod(namespace: string, name: string, labels: Record<string, string>): Pod {
    const memoKey = `${namespace}\u0000${labelsKey(labels)}`;
    const memo = this.memo.get(memoKey);
    if (memo) return memo;
    // A pod of the folder with exactly these labels stands for itself; otherwise a stand-in with them.
    // (One with more labels would not do: a policy may select it for its extra labels, and not a pod without them.)
    const keys = Object.keys(labels);
    let pod: Pod | undefined = keys.length > 0
      ? this.base.selectedIn(namespace, { matchLabels: labels }).find(p => Object.keys(p.labels).length === keys.length)
      : undefined;
    if (!pod) {
      let id = name;
      for (let i = 2; this.ids.has(`${namespace}/${id}`); i++) id = `${name}-${i}`;
      const shown = Object.keys(labels).length ? `labelled ${labelText(labels)}` : 'of any labels';
      const nsLabels = this.nsLabelsOf(namespace);
      // (Their ports are not known: a named port may be any; and there may be many of them.)
      pod = { namespace, name: id, labels, ports: [], source: `a stand-in for pods ${shown} the folder does not list`, several: true, anyPorts: true, ...(nsLabels ? { namespaceLabels: nsLabels } : {}) };
      this.probes.push(pod);
      this.ids.add(`${namespace}/${id}`);
      const list = this.inNamespace.get(namespace);
      if (list) list.push(pod); else this.inNamespace.set(namespace, [pod]);
    }
    this.memo.set(memoKey, pod);
    return pod;
  }

  /** The stand-in addresses a CIDR holds (whole intervals: every CIDR is a cut). */
  addressesIn(cidr: string): Address[] {
    let list = this.inMemo.get(cidr);
    if (!list) this.inMemo.set(cidr, list = [...this.addresses.values()].filter(a => cidrContains(cidr, a.ip)));
    return list;
  }

  /** A namespace a registry names, or the one that stands for every other: known by its name label. */
  knowNamespace(ns: string): void {
    if (!this.knownNamespaces.has(ns)) this.knownNamespaces.set(ns, { [NAMESPACE_NAME_LABEL]: ns });
  }

  /** A namespace made up for a selector, with the labels it asks for. */
  addNamespace(name: string, labels: Record<string, string>): void {
    this.extraNamespaces.set(name, labels);
    this.knownNamespaces.set(name, labels);
  }

  /**
   * The namespaces a namespace selector selects: those known, and a stand-in with the labels it
   * asks for (named as the selector names it, or `(namespace with k=v)`), made when none is.
   */
  namespacesOf(selector: LabelSelector): string[] {
    const key = JSON.stringify(selector);
    let list = this.namespacesFor.get(key);
    if (list) return list;
    list = [];
    for (const [ns, labels] of this.knownNamespaces) if (selects(selector, labels)) list.push(ns);
    // Each namespace an `In` on the name label lists is a namespace of its own: one the folder lacks gets a stand-in.
    for (const e of selector.matchExpressions ?? []) {
      if (e.key !== NAMESPACE_NAME_LABEL || e.operator !== 'In') continue;
      for (const v of e.values ?? []) {
        if (this.knownNamespaces.has(v)) continue;
        const labels = satisfying({ ...selector, matchLabels: { ...(selector.matchLabels ?? {}), [NAMESPACE_NAME_LABEL]: v } });
        if (!labels || !selects(selector, labels)) continue;
        this.addNamespace(v, labels);
        list.push(v);
      }
    }
    const wanted = satisfying(selector);
    // (A selector another namespace meets already needs none of its own: `{}` or `team NotIn [a]`.)
    if (wanted && (Object.keys(wanted).length > 0 || !list.includes(ELSEWHERE))) this.wantedNamespace(selector, wanted, list);
    this.namespacesFor.set(key, list);
    return list;
  }

  /** The stand-in namespace with the labels a selector asks for (`wanted`), added to its `list`. */
  private wantedNamespace(selector: LabelSelector, wanted: Record<string, string>, list: string[]): void {
    const pinned = wanted[NAMESPACE_NAME_LABEL];
    const name = pinned ?? (Object.keys(wanted).length ? `(namespace with ${labelText(wanted)})` : `${ELSEWHERE.slice(0, -1)}-${this.namespacesFor.size + 2})`);
    const labels = { ...wanted, [NAMESPACE_NAME_LABEL]: name };
    if (!this.knownNamespaces.has(name) && selects(selector, labels)) {
      this.addNamespace(name, labels);
      list.push(name);
    } else if (pinned !== undefined && this.extraNamespaces.has(name) && !list.includes(name)) {
      // A stand-in of that name exists with fewer labels (`{name: out}`, now `{name: out, team: a}`):
      // the real namespace may carry both, so the stand-in takes the union where every selector that
      // chose it still does (and the lists of the selectors it now meets get it too).
      const merged = { ...this.extraNamespaces.get(name)!, ...labels };
      const choosers = [...this.namespacesFor].filter(([, l]) => l.includes(name)).map(([k]) => JSON.parse(k) as LabelSelector);
      if (selects(selector, merged) && choosers.every(s => selects(s, merged))) {
        this.addNamespace(name, merged);
        list.push(name);
        for (const [k, l] of this.namespacesFor) if (!l.includes(name) && selects(JSON.parse(k) as LabelSelector, merged)) l.push(name);
      } else {
        // Labels no stand-in of that name can take with the others (`team=a` and `team=b`): a
        // namespace of that name with these labels instead, as a second stand-in (its id is no
        // namespace name; its name label is the name).
        const variant = `${name} (${labelText(wanted)})`;
        if (!this.knownNamespaces.has(variant)) this.addNamespace(variant, labels);
        list.push(variant);
      }
    }
  }
}

/**
 * What the policies' peers ask of the stand-ins: the CIDRs of their ipBlocks, and the selectors
 * with expressions (the only ones labelToggles reads), in the order the policies, their rules and
 * peers come; one walk.
 */
function policyPeers(policies: readonly Policy[]): { cidrs: string[]; podExpressions: LabelSelector[]; namespaceExpressions: LabelSelector[] } {
  const cidrs: string[] = [];
  const podExpressions: LabelSelector[] = [];
  const namespaceExpressions: LabelSelector[] = [];
  for (const p of policies) {
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
  return { cidrs, podExpressions, namespaceExpressions };
}

/** The CIDRs the registries name (externals, public entries). */
function registryCidrs(registries: readonly TrafficRegistry[]): string[] {
  const cidrs: string[] = [];
  for (const r of registries) {
    for (const ext of Object.values(r.spec.externals ?? {})) cidrs.push(...(ext.cidrs ?? []));
    for (const svc of Object.values(r.spec.services ?? {})) if (svc.public && svc.public !== true) cidrs.push(...(svc.public.cidrs ?? []));
  }
  return cidrs;
}

/**
 * The stand-ins the registries name first (so that they keep their names): an unlisted pod in
 * each of their namespaces and in the namespaces public entries name, and the pods of externals.
 */
function registryStandIns(s: StandIns, registries: readonly TrafficRegistry[], registryNamespaces: Set<string>): void {
  for (const r of registries) {
    for (const e of r.environments) {
      registryNamespaces.add(e.namespace);
      s.pod(e.namespace, UNLISTED, {});
    }
    for (const [name, ext] of Object.entries(r.spec.externals ?? {})) if (ext.namespace !== undefined) s.pod(ext.namespace, `(${name})`, ext.podSelector ?? {});
    for (const svc of Object.values(r.spec.services ?? {})) {
      if (svc.public && svc.public !== true && deployed(svc.status)) for (const ns of svc.public.namespaces ?? []) s.pod(ns, UNLISTED, {});
    }
  }
}

/**
 * Every label constraint a selector of a policy can meet outside the pods of the folder gets a
 * stand-in: in each namespace a peer's selectors can reach, a pod with the labels its podSelector
 * asks for (namespaces made for its namespaceSelector), and a pod for each policy's own podSelector.
 */
function policyStandIns(s: StandIns, policies: readonly Policy[]): void {
  const peersSeen = new Set<string>();
  for (const p of policies) {
    const own = satisfying(p.podSelector);
    if (own && Object.keys(own).length > 0) s.pod(p.namespace, `(pod with ${labelText(own)})`, own);
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
          for (const ns of peer.namespaceSelector ? s.namespacesOf(peer.namespaceSelector) : [p.namespace]) s.pod(ns, name, labels);
        }
      }
    }
  }
}

/**
 * Pods the folder does not list in each namespace it knows (any labels: an unlisted pod), and a
 * twin of each stand-in with each label a NotIn, DoesNotExist or Exists asks about added
 * (./toggles.ts): a pod with more labels than a stand-in may be selected where it is not.
 * Likewise a namespace the folder lacks with each label a namespace selector's NotIn,
 * DoesNotExist or Exists asks about, holding the pods a namespace of no labels holds.
 */
function toggledStandIns(s: StandIns, base: Cluster, namespaceExpressions: readonly LabelSelector[], podExpressions: readonly LabelSelector[]): void {
  for (const ns of base.namespaces().keys()) s.pod(ns, UNLISTED, {});
  for (const [k, v] of labelToggles(namespaceExpressions)) {
    if (k === NAMESPACE_NAME_LABEL) continue;
    const name = `(namespace with ${k}=${v})`;
    if (s.knownNamespaces.has(name)) continue;
    s.addNamespace(name, { [k]: v, [NAMESPACE_NAME_LABEL]: name });
    for (const pod of [...(s.inNamespace.get(ELSEWHERE) ?? [])]) s.pod(name, pod.name, pod.labels);
  }
  const toggles = labelToggles(podExpressions);
  if (toggles.length === 0) return;
  for (const [ns, list] of [...s.inNamespace]) {
    for (const pod of [...list]) {
      for (const [k, v] of toggles) {
        if (pod.labels[k] === v) continue;
        const labels = { ...pod.labels, [k]: v };
        s.pod(ns, `(pod with ${labelText(labels)})`, labels);
      }
    }
  }
}

/** What the declared paths of one registry are computed from. */
interface RegistryView {
  readonly r: TrafficRegistry;
  readonly envs: ReadonlyMap<string, TrafficRegistry['environments'][number]>;
  readonly ownNamespaces: ReadonlySet<string>;
  readonly services: NonNullable<TrafficRegistry['spec']['services']>;
  readonly externals: NonNullable<TrafficRegistry['spec']['externals']>;
  /** A service's pods in the folder, through the cluster's label index (a one-label selector is a lookup: nothing is kept). */
  folderPodsOf(namespace: string, name: string, svc: { selector?: Record<string, string> }): readonly Pod[];
  /**
   * A service's pods: every pod its selector selects, stand-ins with its labels too (a pod the
   * folder does not list with api's labels is a pod of api). A service with none gets a stand-in
   * with its labels: what policies allow its pods is still compared.
   */
  podsOf(namespace: string, name: string, svc: { selector?: Record<string, string> }): readonly Pod[];
  portsOf(env: string, service: string): ReadonlyArray<ResolvedRegistry['allocations'][number]>;
  allocation(env: string, service: string, portName: string): ResolvedRegistry['allocations'][number] | undefined;
}

function registryView(s: StandIns, base: Cluster, r: TrafficRegistry): RegistryView {
  const allocationsOf = new Map<string, ResolvedRegistry['allocations'][number][]>();
  for (const a of r.allocations) {
    const key = `${a.environment}\u0000${a.service}`;
    const list = allocationsOf.get(key);
    if (list) list.push(a); else allocationsOf.set(key, [a]);
  }
  const folderPodsOf = (namespace: string, name: string, svc: { selector?: Record<string, string> }): readonly Pod[] =>
    base.selectedIn(namespace, { matchLabels: podSelectorOf(name, svc) });
  const portsOf = (env: string, service: string) => allocationsOf.get(`${env}\u0000${service}`) ?? [];
  return {
    r,
    envs: new Map(r.environments.map(e => [e.name, e])),
    ownNamespaces: new Set(r.environments.map(e => e.namespace)),
    services: r.spec.services ?? {},
    externals: r.spec.externals ?? {},
    folderPodsOf,
    podsOf(namespace, name, svc) {
      const pods = folderPodsOf(namespace, name, svc);
      const selector = { matchLabels: podSelectorOf(name, svc) };
      const standIns = (s.inNamespace.get(namespace) ?? []).filter(p => Object.keys(selector.matchLabels).length > 0 && selects(selector, p.labels));
      const all = standIns.length ? [...pods, ...standIns] : pods;
      return all.length ? all : [s.pod(namespace, `(${name})`, selector.matchLabels)];
    },
    portsOf,
    allocation: (env, service, portName) => portsOf(env, service).find(a => a.portName === portName),
  };
}

/** Registry services with ports in an environment that no pod of the folder stands for. */
function unmatchedServices(v: RegistryView): Unmatched[] {
  const out: Unmatched[] = [];
  for (const name of Object.keys(v.services)) {
    if (!deployed(v.services[name].status)) continue;
    for (const e of v.r.environments) {
      if (v.portsOf(e.name, name).length > 0 && v.folderPodsOf(e.namespace, name, v.services[name]).length === 0) {
        out.push({ registry: v.r.spec.name, service: name, environment: e.name, namespace: e.namespace, selector: podSelectorOf(name, v.services[name]) });
      }
    }
  }
  return out;
}

/** The paths a registry's connections declare (to its services, another registry's, externals). */
function connectionPaths(s: StandIns, v: RegistryView, declared: DeclaredPath[]): void {
  for (const c of v.r.connections) {
    const from = v.services[c.from];
    if (!from || !deployed(from.status)) continue;
    const clientNs = v.envs.get(c.environment)?.namespace;
    const targetNs = c.peer ? c.peer.allocation.namespace : v.envs.get(c.targetEnvironment)?.namespace;
    const a = c.peer ? c.peer.allocation : v.allocation(c.targetEnvironment, c.to, c.portName);
    if (!clientNs || !targetNs || !a) continue;
    const clients = v.podsOf(clientNs, c.from, from);
    let targets: readonly Endpoint[] = [];
    let port = a.targetPort;
    if (c.peer) {
      // Another registry's service: its pods, by its labels, in its namespace.
      targets = v.podsOf(targetNs, c.to, { selector: { ...c.peer.selector } });
    } else if (c.targetKind === 'service') {
      const to = v.services[c.to];
      if (!to || !deployed(to.status)) continue;
      targets = v.podsOf(targetNs, c.to, to);
    } else {
      const ext = v.externals[c.to];
      if (!ext) continue;
      if (ext.namespace !== undefined) {
        targets = [s.pod(ext.namespace, `(${c.to})`, ext.podSelector ?? {})];
      } else {
        port = a.port;
        targets = [...new Set((ext.cidrs ?? []).flatMap(cidr => s.addressesIn(cidr)))];
      }
      for (const t of targets) s.addPort(t, port, a.protocol);
    }
    // (One reason per connection, shared by its paths.)
    const reason = `${v.r.spec.name}: ${c.from} connects to ${c.peer ? `${c.peer.registry}/` : ''}${c.to} (${c.portName}) in ${c.environment}`;
    for (const t of targets) {
      // An external's pods in a namespace of this registry are behind its default deny, and the
      // registry generates their ingress: both sides are declared. (Another registry's pods declare their own.)
      const side = c.targetKind === 'service' || (isPod(t) && v.ownNamespaces.has(t.namespace)) ? 'both' : 'egress';
      const to = endpointId(t);
      for (const cl of clients) declared.push({ from: endpointId(cl), to, port, protocol: a.protocol, side, reason });
    }
  }
}

/** Clients in other registries (declared by theirs too: the same paths, whichever registries are read). */
function inboundPaths(v: RegistryView, declared: DeclaredPath[]): void {
  for (const c of v.r.inbound ?? []) {
    const to = v.services[c.to];
    const targetNs = v.envs.get(c.environment)?.namespace;
    const a = v.allocation(c.environment, c.to, c.portName);
    if (!to || !deployed(to.status) || !targetNs || !a) continue;
    const reason = `${c.fromRegistry}: ${c.from} connects to ${v.r.spec.name}/${c.to} (${c.portName}) in ${c.fromEnvironment}`;
    const clients = v.podsOf(c.fromNamespace, c.from, { selector: { ...c.fromSelector } });
    for (const t of v.podsOf(targetNs, c.to, to)) {
      for (const cl of clients) declared.push({ from: endpointId(cl), to: endpointId(t), port: a.targetPort, protocol: a.protocol, side: 'both', reason });
    }
  }
}

/**
 * The paths a registry's public entries declare: to namespaces and CIDRs, as paths; `public: true`
 * as a rule (`openToAll`), resolved once every stand-in exists.
 */
function publicPaths(s: StandIns, v: RegistryView, declared: DeclaredPath[], openToAll: OpenToAll[]): void {
  for (const name of Object.keys(v.services)) {
    const svc = v.services[name];
    if (!svc.public || !deployed(svc.status)) continue;
    // A port that opts out (`public: false`, a metrics port) is not part of the public entry.
    const reachedByPublic = (port: string) => (svc.ports as Record<string, { public?: boolean }> | undefined)?.[port]?.public !== false;
    if (svc.public === true) {
      // Everyone outside this registry's namespaces.
      const own = new Set(v.r.environments.map(e => e.namespace));
      const reason = `${v.r.spec.name}: ${name} is public`;
      for (const e of v.r.environments) {
        for (const pod of v.podsOf(e.namespace, name, svc)) {
          for (const a of v.portsOf(e.name, name)) {
            if (!reachedByPublic(a.portName)) continue;
            openToAll.push({ own, pod, port: a.targetPort, protocol: a.protocol, reason });
            s.addPort(pod, a.targetPort, a.protocol);
          }
        }
      }
      continue;
    }
    const sources: Endpoint[] = [];
    for (const ns of svc.public.namespaces ?? []) sources.push(s.pod(ns, UNLISTED, {}));
    for (const a of new Set((svc.public.cidrs ?? []).flatMap(cidr => s.addressesIn(cidr)))) sources.push(a);
    const reason = `${v.r.spec.name}: ${name} is public to ${[...(svc.public.namespaces ?? []), ...(svc.public.cidrs ?? [])].join(', ')}`;
    for (const e of v.r.environments) {
      const ports = v.portsOf(e.name, name).filter(a => reachedByPublic(a.portName));
      for (const pod of v.podsOf(e.namespace, name, svc)) {
        for (const a of ports) {
          for (const src of sources) declared.push({ from: endpointId(src), to: endpointId(pod), port: a.targetPort, protocol: a.protocol, side: 'ingress', reason });
        }
      }
    }
  }
}

/** The stand-ins, the declared paths and the cluster with the stand-ins added. */
export function universe(base: Cluster, registries: readonly TrafficRegistry[], standInsFrom: readonly Cluster[] = []): Universe {
  // Stand-ins come from these policies (two sides of a diff share them, so that their paths compare).
  const adminPolicies = [...base.admin, ...standInsFrom.flatMap(c => c.admin)];
  // (The admin tiers' subjects and peers ask for stand-ins as a NetworkPolicy's peers do: ./admin-standins.ts.)
  const probePolicies = [...base.policies, ...standInsFrom.flatMap(c => c.policies), ...adminAsPolicies(adminPolicies, ELSEWHERE)];
  const s = new StandIns(base);
  // The addresses outside the cluster: the intervals every CIDR of a policy or a registry cuts the
  // address space into, one address each (the internet stand-ins where they fall).
  const peers = policyPeers(probePolicies);
  const cidrs = [...peers.cidrs, ...registryCidrs(registries), ...adminNetworks(adminPolicies)];
  for (const span of addressSpans(cidrs, [WORLD_V4, WORLD_V6])) s.addAddress({ ip: span.ip, span: { first: span.first, last: span.last } });
  for (const node of nodeStandIns(adminPolicies)) s.addAddress(node);
  const elsewhere = s.pod(ELSEWHERE, UNLISTED, {});
  let dns = base.pods.find(p => p.namespace === 'kube-system' && p.labels['k8s-app'] === 'kube-dns');
  // (A pod of the folder named kube-dns in kube-system without the label keeps its name: the stand-in takes another.)
  if (dns) s.remember(dns, false);
  else s.remember(dns = { ...KUBE_DNS, ...(s.has('kube-system/kube-dns') ? { name: '(kube-dns)' } : {}), source: 'a stand-in for the cluster DNS' }, true);

  const registryNamespaces = new Set<string>();
  registryStandIns(s, registries, registryNamespaces);
  for (const ns of [...registryNamespaces, ELSEWHERE]) s.knowNamespace(ns);
  policyStandIns(s, probePolicies);
  toggledStandIns(s, base, peers.namespaceExpressions, peers.podExpressions);

  const declared: DeclaredPath[] = [];
  const openToAll: OpenToAll[] = [];
  const unmatched: Unmatched[] = [];
  for (const r of registries) {
    const view = registryView(s, base, r);
    for (const e of r.environments) s.pod(e.namespace, UNLISTED, {});
    unmatched.push(...unmatchedServices(view));
    connectionPaths(s, view, declared);
    inboundPaths(view, declared);
    publicPaths(s, view, declared, openToAll);
  }
  const cluster = new Cluster({
    namespaces: { ...Object.fromEntries(base.namespaces()), ...Object.fromEntries(s.extraNamespaces) },
    pods: [...base.pods, ...s.probes.filter(isPod)],
    policies: base.policies,
    samePoliciesAs: base,
    ...(base.admin.length ? { admin: base.admin } : {}),
  });
  // `public: true` admits every address and every pod outside the registry's namespaces: kept as a
  // rule (listing every pair would be quadratic); the declared list gets the internet and another namespace.
  for (const o of openToAll) {
    const everyone: Endpoint[] = [s.addresses.get(WORLD_V4)!, s.addresses.get(WORLD_V6)!, elsewhere];
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
  const sources: Endpoint[] = [...cluster.pods, ...s.addresses.values()];
  // Every declared port is compared on its own (one interval of it alone).
  const byId = new Map(sources.map(e => [endpointId(e), e]));
  for (const d of declared) s.addPort(byId.get(d.to)!, d.port, d.protocol);
  // The ports declared towards each end cut its intervals (exactPaths cuts at the policies' own ports).
  const none: Target['ports'] = [];
  const targets: Target[] = sources.map(e => {
    const extra = s.extraPorts.get(e);
    return { endpoint: e, ports: extra ? [...extra.values()] : none };
  });
  return { cluster, sources, targets, registryNamespaces, declared, openToAll, unmatched };
}
