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

/** What verify reads of a registry: what it declares (the synth's ports.json holds exactly this). */
export type TrafficRegistry = Pick<ResolvedRegistry, 'spec' | 'environments' | 'allocations' | 'connections'>;
import { Cluster, Path, PolicyRef, RuleRef, Target, TooManyPaths, pathKey } from './cluster';
export { TooManyPaths };
import { Address, Endpoint, LabelSelector, Pod, Policy, PolicyPeer, PolicyPort, endpointId, ipBlockAdmits, isPod } from './model';

/** The rules of `verify`, with their severity and meaning (docs/traffic.md lists them). */
export const TRAFFIC_RULES = {
  'traffic-undeclared': ['error', 'The NetworkPolicies allow a path (from, to, port, protocol) that no connection, public entry or the cluster DNS rule declares.'],
  'traffic-blocked': ['error', 'A declared connection or public entry is blocked by the NetworkPolicies.'],
  'default-deny-missing': ['error', 'Every namespace with pods has a default deny: policies selecting every pod for Ingress and for Egress.'],
  'manifest-unreadable': ['error', 'Every manifest file of the folder is YAML or JSON.'],
  'manifest-invalid': ['error', 'Every port, port name and protocol of the workloads, Services and NetworkPolicies is one the API server accepts: ports are integers from 1 to 65535, `endPort` follows a numbered port and is not below it, port names are IANA service names, protocols are TCP, UDP or SCTP in upper case.'],
  'netpol-name-length': ['warning', 'Policy names are at most 63 characters: some CNIs’ policy agents silently ignore longer ones (aws/aws-network-policy-agent#145, kubeovn/kube-ovn#1445).'],
  'netpol-end-port': ['warning', 'A port range (`endPort`) is enforced only by CNIs that support it; others apply the policy to the first port alone (Kubernetes docs, "Targeting a range of ports").'],
  'netpol-selects-nothing': ['warning', 'A policy selects at least one pod of the workloads and Services in the folder.'],
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
    readonly port?: number;
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
/** Undeclared paths reported one by one; the rest are counted in one more finding. */
const FINDINGS_SHOWN = 500;

/** The internet, as seen from the cluster: addresses in no private or special range. */
export const WORLD_V4 = '203.0.113.7';
export const WORLD_V6 = '2001:db8::7';
/** A namespace that is none of the registry's (its name cannot be a real one: it has parentheses). */
export const ELSEWHERE = '(another-namespace)';
const UNLISTED = '(unlisted-pod)';
const KUBE_DNS: Pod = { namespace: 'kube-system', name: 'kube-dns', labels: { 'k8s-app': 'kube-dns' }, ports: [{ port: 53, protocol: 'UDP', name: 'dns' }, { port: 53, protocol: 'TCP', name: 'dns-tcp' }] };

/** The port tried for "every port of a protocol": any would do; this one is easy to recognise. */
const ANY_PORT = 65000;

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

const selectorOf = (name: string, svc: { selector?: Record<string, string> }) => svc.selector ?? { 'app.kubernetes.io/name': name };
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
  const probePolicies = [...base.policies, ...standInsFrom.flatMap(c => c.policies)];
  const probes: Endpoint[] = [];
  const probeIds = new Set<string>(base.pods.map(endpointId));
  const extraPorts = new Map<Endpoint, Map<string, { port: number; protocol: string }>>();
  const addPort = (e: Endpoint, port: number, protocol: string) => {
    let m = extraPorts.get(e);
    if (!m) extraPorts.set(e, m = new Map());
    m.set(`${port}/${protocol}`, { port, protocol });
  };
  const probeMemo = new Map<string, Pod>();
  const probePod = (namespace: string, name: string, labels: Record<string, string>): Pod => {
    const memoKey = `${namespace}\u0000${name}\u0000${JSON.stringify(labels)}`;
    const memo = probeMemo.get(memoKey);
    if (memo) return memo;
    // A pod of the folder that fits stands for itself; otherwise a stand-in with those labels.
    let pod: Pod | undefined = Object.keys(labels).length > 0 ? base.selectedIn(namespace, { matchLabels: labels })[0] : undefined;
    if (!pod) {
      let id = name;
      for (let i = 2; probeIds.has(`${namespace}/${id}`); i++) id = `${name}-${i}`;
      pod = { namespace, name: id, labels, ports: [], source: 'a stand-in for pods the folder does not list' };
      probes.push(pod);
      probeIds.add(`${namespace}/${id}`);
    }
    probeMemo.set(memoKey, pod);
    return pod;
  };
  const addresses = new Map<string, Address>();
  const address = (ip: string): Address => {
    let a = addresses.get(ip);
    if (!a) { addresses.set(ip, a = { ip }); probes.push(a); }
    return a;
  };
  address(WORLD_V4);
  address(WORLD_V6);
  const elsewhere = probePod(ELSEWHERE, UNLISTED, {});
  let dns = base.pods.find(p => p.namespace === 'kube-system' && p.labels['k8s-app'] === 'kube-dns');
  if (!dns) {
    dns = { ...KUBE_DNS, source: 'a stand-in for the cluster DNS' };
    probes.push(dns);
  }
  // For every ipBlock a policy names: an address it admits (outside its `except` blocks, so a block
  // that excepts the internet stand-ins is still tried), and an address in each `except`.
  // (Policies name the same few blocks again and again: each block is worked out once.)
  const blocksSeen = new Set<string>();
  const tryBlock = (peer: PolicyPeer) => {
    if (!peer.ipBlock) return;
    const key = JSON.stringify([peer.ipBlock.cidr, peer.ipBlock.except ?? []]);
    if (blocksSeen.has(key)) return;
    blocksSeen.add(key);
    const inside = addressAdmittedBy(peer.ipBlock);
    if (inside) address(inside);
    // Stryker disable next-line ArrayDeclaration: equivalent, a CIDR that does not parse has no address (addressIn gives undefined)
    for (const cidr of peer.ipBlock.except ?? []) {
      const ip = addressIn(cidr);
      if (ip) address(ip);
    }
  };
  // What an egress rule could open towards a stand-in (an address, a pod of another namespace, an
  // unlisted pod) is tried on every stand-in: its numbered ports (both ends of a range), a port of
  // each protocol it opens whole, and for a rule without ports a port of every protocol. Rules whose
  // peers are all pod selectors with labels reach only pods of the folder, which have their own ports.
  // (Collected here, in the one pass over every rule, and added once every stand-in exists below:
  // thousands of rules open the same few ports.)
  const triedPorts = new Map<string, { port: number; protocol: string }>();
  const tried = (port: number, protocol: string) => { triedPorts.set(`${port}/${protocol}`, { port, protocol }); };
  const reachesStandIns = (peer: PolicyPeer) => !!peer.ipBlock || !!peer.namespaceSelector || (!!peer.podSelector && noLabels(peer.podSelector));
  for (const p of probePolicies) {
    for (const rule of p.ingress) for (const peer of rule.from ?? []) tryBlock(peer);
    for (const rule of p.egress) {
      for (const peer of rule.to ?? []) tryBlock(peer);
      if (rule.to && rule.to.length > 0 && !rule.to.some(reachesStandIns)) continue;
      if (!rule.ports || rule.ports.length === 0) {
        for (const protocol of ['TCP', 'UDP', 'SCTP']) tried(ANY_PORT, protocol);
        continue;
      }
      for (const x of rule.ports) {
        const protocol = x.protocol ?? 'TCP';
        if (typeof x.port === 'number') {
          tried(x.port, protocol);
          if (x.endPort !== undefined) tried(x.endPort, protocol);
        } else if (x.port === undefined) {
          tried(ANY_PORT, protocol);
        }
      }
    }
  }

  const registryNamespaces = new Set<string>();
  const declared: DeclaredPath[] = [];
  const openToAll: Array<{ own: Set<string>; pod: Pod; port: number; protocol: string; reason: string }> = [];
  const unmatched: Array<Universe['unmatched'][number]> = [];

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
    const podsOf = (namespace: string, name: string, svc: { selector?: Record<string, string> }): readonly Pod[] =>
      base.selectedIn(namespace, { matchLabels: selectorOf(name, svc) });
    const portsOf = (env: string, service: string) => allocationsOf.get(`${env}\u0000${service}`) ?? [];
    const allocation = (env: string, service: string, portName: string) => portsOf(env, service).find(a => a.portName === portName);

    for (const e of r.environments) probePod(e.namespace, UNLISTED, {});
    for (const name of Object.keys(services)) {
      if (!deployed(services[name].status)) continue;
      for (const e of r.environments) {
        if (portsOf(e.name, name).length > 0 && podsOf(e.namespace, name, services[name]).length === 0) {
          unmatched.push({ registry: r.spec.name, service: name, environment: e.name, namespace: e.namespace, selector: selectorOf(name, services[name]) });
        }
      }
    }

    for (const c of r.connections) {
      const from = services[c.from];
      if (!from || !deployed(from.status)) continue;
      const clientNs = envs.get(c.environment)?.namespace;
      const targetNs = envs.get(c.targetEnvironment)?.namespace;
      const a = allocation(c.targetEnvironment, c.to, c.portName);
      if (!clientNs || !targetNs || !a) continue;
      const clients = podsOf(clientNs, c.from, from);
      let targets: readonly Endpoint[] = [];
      let port = a.targetPort;
      if (c.targetKind === 'service') {
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
          // Stryker disable next-line ArrayDeclaration: equivalent, a CIDR that does not parse has no address (addressIn gives undefined)
          targets = (ext.cidrs ?? []).map(cidr => addressIn(cidr)).filter((ip): ip is string => !!ip).map(address);
        }
        for (const t of targets) addPort(t, port, a.protocol);
      }
      // (One reason per connection, shared by its paths.)
      const reason = `${r.spec.name}: ${c.from} connects to ${c.to} (${c.portName}) in ${c.environment}`;
      for (const t of targets) {
        // An external's pods in a namespace of this registry are behind its default deny, and the
        // registry generates their ingress: both sides are declared. (Another registry's pods declare their own.)
        const side = c.targetKind === 'service' || (isPod(t) && ownNamespaces.has(t.namespace)) ? 'both' : 'egress';
        const to = endpointId(t);
        for (const s of clients) declared.push({ from: endpointId(s), to, port, protocol: a.protocol, side, reason });
      }
    }

    for (const name of Object.keys(services)) {
      const svc = services[name];
      if (!svc.public || !deployed(svc.status)) continue;
      const sources: Endpoint[] = [];
      if (svc.public === true) {
        // Everyone outside this registry's namespaces: resolved below, once every stand-in exists.
        const own = new Set(r.environments.map(e => e.namespace));
        const reason = `${r.spec.name}: ${name} is public`;
        for (const e of r.environments) {
          for (const pod of podsOf(e.namespace, name, svc)) {
            for (const a of portsOf(e.name, name)) openToAll.push({ own, pod, port: a.targetPort, protocol: a.protocol, reason });
          }
        }
        continue;
      } else {
        for (const ns of svc.public.namespaces ?? []) sources.push(probePod(ns, UNLISTED, {}));
        // Stryker disable next-line ArrayDeclaration: equivalent, a CIDR that does not parse has no address (addressIn gives undefined)
        for (const cidr of svc.public.cidrs ?? []) {
          const ip = addressIn(cidr);
          if (ip) sources.push(address(ip));
        }
      }
      const reason = `${r.spec.name}: ${name} is public to ${[...(svc.public.namespaces ?? []), ...(svc.public.cidrs ?? [])].join(', ')}`;
      for (const e of r.environments) {
        const ports = portsOf(e.name, name);
        for (const pod of podsOf(e.namespace, name, svc)) {
          for (const a of ports) {
            for (const s of sources) declared.push({ from: endpointId(s), to: endpointId(pod), port: a.targetPort, protocol: a.protocol, side: 'ingress', reason });
          }
        }
      }
    }
  }
  const cluster = new Cluster({
    namespaces: Object.fromEntries(base.namespaces()),
    pods: [...base.pods, ...probes.filter(isPod)],
    policies: base.policies,
    samePoliciesAs: base,
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
  // The ports collected above, on every stand-in.
  // Stryker disable next-line MethodExpression: equivalent, the addresses among the probes are in standIns already, and a port added twice is one
  const standIns: Endpoint[] = [...addresses.values(), ...probes.filter(isPod)];
  for (const e of standIns) for (const { port, protocol } of triedPorts.values()) addPort(e, port, protocol);
  for (const a of addresses.values()) { addPort(a, 443, 'TCP'); addPort(a, 80, 'TCP'); }
  const sources: Endpoint[] = [...cluster.pods, ...addresses.values()];
  // (A pod's own ports are tried as they are: no copy unless there are more.)
  const targets: Target[] = sources.map(e => {
    const extra = extraPorts.get(e);
    const own = isPod(e) ? e.ports : [];
    return { endpoint: e, ports: extra ? [...own, ...extra.values()] : own };
  });
  return { cluster, sources, targets, registryNamespaces, declared, openToAll, unmatched };
}

/** A value the API server would reject, as a finding (see InvalidValue in ./load.ts). */
export function invalidValueFinding(v: { readonly file: string; readonly namespace: string; readonly object: string; readonly message: string; readonly fix: string }): TrafficFinding {
  const policy = v.object.startsWith('NetworkPolicy/') ? { policy: v.object.slice('NetworkPolicy/'.length) } : {};
  return finding('manifest-invalid', `${v.file ? `${v.file}: ` : ''}${v.object} in ${v.namespace}: ${v.message}; the API server rejects the object`,
    { namespace: v.namespace, ...policy, object: v.object, ...(v.file ? { file: v.file } : {}) }, v.fix);
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
  const allowed = u.cluster.paths(u.sources, u.targets, options.pathLimit ?? PATH_LIMIT).filter(p => folderPods.has(p.from) || folderPods.has(p.to));
  const podNamespaces = new Set(base.pods.map(p => p.namespace).filter(ns => !options.registryNamespacesOnly || u.registryNamespaces.has(ns)));
  const findings: TrafficFinding[] = structuralFindings(u.cluster, podNamespaces)
    .filter(f => !options.registryNamespacesOnly || f.severity === 'error');
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
    let undeclared = 0;
    for (const p of allowed) {
      const key = keyOf(p);
      const bits = state.get(key) ?? 0;
      state.set(key, bits | ALLOWED);
      // Each end in a registry namespace must have declared its side of the path.
      const egressUndeclared = !(bits & EGRESS_DECLARED) && registryPods.has(p.from);
      const ingressUndeclared = !(bits & INGRESS_DECLARED) && registryPods.has(p.to) && !publicAdmits(p);
      if (!egressUndeclared && !ingressUndeclared) continue;
      // Past a few hundred, more of the same helps nobody: they are counted.
      if (++undeclared > FINDINGS_SHOWN) continue;
      const v = u.cluster.verdict(endpoints.get(p.from)!, endpoints.get(p.to)!, p.port, p.protocol);
      const sides = [egressUndeclared ? v.egress : undefined, ingressUndeclared ? v.ingress : undefined].filter((x): x is NonNullable<typeof x> => !!x);
      const rules = sides.flatMap(x => x.allowedBy);
      const why = sides.map(x => `${x === v.egress ? 'egress of' : 'ingress of'} ${x.endpoint} ${x.isolated ? `is allowed by ${describeRules(x.allowedBy)}` : 'is not limited by any policy'}`);
      findings.push(finding('traffic-undeclared',
        `${p.from} -> ${p.to} ${p.port}/${p.protocol} is allowed but not declared: ${why.join('; ')}`,
        { from: p.from, to: p.to, port: p.port, protocol: p.protocol },
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
        `${d.from} -> ${d.to} ${d.port}/${d.protocol} is declared (${d.reason}) but blocked: ${blocked.map(x => `${x === v.egress ? 'egress' : 'ingress'} of ${x.endpoint} is limited by ${x.policies.map(y => y.policy).join(', ')} and no rule admits it`).join('; ')}`,
        { from: d.from, to: d.to, port: d.port, protocol: d.protocol },
        'regenerate the manifests (npm run synth) or add the missing rule; check that no hand-written policy selects these pods', blocked.flatMap(x => x.policies)));
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
