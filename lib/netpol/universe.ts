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
import { Address, Endpoint, LabelSelector, NAMESPACE_NAME_LABEL, Pod, cidrContains, endpointId, ipBlockAdmits, isPod, selects } from './model';
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

/** The stand-ins, the declared paths and the cluster with the stand-ins added. */
export function universe(base: Cluster, registries: readonly TrafficRegistry[], standInsFrom: readonly Cluster[] = []): Universe {
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
