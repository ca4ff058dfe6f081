/**
 * The universe `verify` compares paths in: the pods of the manifests and stand-ins for the rest of
 * the world ("probes"), and the paths the registries declare among them. Stand-ins: an address in
 * each interval the CIDRs of the policies and registries cut the address space into (the internet
 * among them, IPv4 and IPv6), a pod of another namespace, an unlisted pod in each namespace, the
 * cluster DNS, the pods of the namespaces externals and public entries name, and for every label
 * constraint a selector can meet outside the folder a namespace or pod with those labels
 * (docs/traffic.md, "Representative peers").
 */
import type { ResolvedRegistry } from '../model/resolved';
import { podSelectorOf } from '../model/labels';
import { Cluster, Path, Target } from './cluster';
import { Endpoint, LabelSelector, NAMESPACE_NAME_LABEL, Pod, Policy, endpointId, isPod, selects } from './model';
import { addressSpans } from './addresses';
import { labelToggles } from './toggles';
import { adminAsPolicies, adminNetworks, nodeStandIns } from './admin-standins';
import { labelText } from './findings';
import { ELSEWHERE, StandIns, UNLISTED, peerKey, satisfying } from './stand-ins';

export { ELSEWHERE, satisfying };
export { addressAdmittedBy, addressIn } from './addresses';


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
export const KUBE_DNS: Pod = { namespace: 'kube-system', name: 'kube-dns', labels: { 'k8s-app': 'kube-dns' }, ports: [{ port: 53, protocol: 'UDP', name: 'dns' }, { port: 53, protocol: 'TCP', name: 'dns-tcp' }] };

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
