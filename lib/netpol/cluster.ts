/**
 * A cluster as its manifests describe it (namespaces, pods, NetworkPolicies) and what it allows:
 * one path with the reasons ({@link Cluster.verdict}), or every allowed path ({@link Cluster.paths}).
 * The semantics are in ./model.ts.
 */
import {
  Address, Endpoint, LabelSelector, NAMESPACE_NAME_LABEL, Pod, Policy, PolicyPeer, PolicyPort, PolicyRule,
  endpointId, ipBlockAdmits, isPod, portsAdmit, selects, soleKey,
} from './model';
import { AdminHit, AdminPolicy, adminSpans, tierDecision, tierOrder } from './admin';
import { Path, sortPaths } from './paths';

export { pathKey, subtractPaths } from './paths';
export type { Path } from './paths';

/** A policy, by name, namespace and file. */
export interface PolicyRef {
  readonly policy: string;
  readonly namespace: string;
  readonly file?: string;
}

/** One rule of a policy (`rule` counts from 1, as a person reads the list). */
export interface RuleRef extends PolicyRef {
  readonly direction: 'ingress' | 'egress';
  readonly rule: number;
}

/** One side of a path: the source's egress or the destination's ingress. */
export interface Side {
  /** The pod whose policies decide this side. */
  readonly endpoint: string;
  /** True when a policy selects the pod for this direction (then only a rule can allow the traffic). */
  readonly isolated: boolean;
  /** The policies that select the pod for this direction. */
  readonly policies: readonly PolicyRef[];
  /** The rules that allow the traffic (empty when blocked or not isolated). */
  readonly allowedBy: readonly RuleRef[];
  readonly allowed: boolean;
  /** The admin or baseline rule that decided this side (Allow/Accept or Deny), when one did. */
  readonly decidedBy?: AdminHit;
  /** The admin rule whose Pass handed this side to the NetworkPolicies (and the baseline tier). */
  readonly passedBy?: AdminHit;
}

/** Whether one path is allowed, and why. `egress`/`ingress` are absent for an address (no policy applies to it). */
export interface Verdict {
  readonly from: string;
  readonly to: string;
  readonly port: number;
  readonly protocol: string;
  readonly allowed: boolean;
  readonly egress?: Side;
  readonly ingress?: Side;
}

/** A port, or an interval of ports from `port` to `endPort`, of one protocol. */
interface PortSpan {
  readonly port: number;
  readonly protocol: string;
  readonly endPort?: number;
}

/** What {@link Cluster} works out once for a walk over the destinations (see egressReach). */
interface Reach {
  readonly free: Set<Endpoint>;
  readonly toEveryone: Map<Endpoint, PolicyRule[]>;
  readonly to: Map<Endpoint, Array<{ sources: readonly Endpoint[]; rule: PolicyRule }>>;
  /** Every rule without peers of an isolated source (each once). */
  readonly everyoneRules: readonly PolicyRule[];
}

/** The protocols a NetworkPolicy can name. */
export const PROTOCOLS = ['TCP', 'UDP', 'SCTP'] as const;

/**
 * The port intervals a rule's ports admit towards `destination` (no ports: every port of every
 * protocol; a named port: the destination's container ports of that name and protocol, or every
 * port of the protocol for a stand-in whose ports are not known). Values the API server rejects
 * admit nothing.
 */
export function ruleSpans(ports: readonly PolicyPort[] | undefined, destination: Endpoint): Array<{ port: number; endPort: number; protocol: string }> {
  if (!ports || ports.length === 0) return PROTOCOLS.map(protocol => ({ port: 1, endPort: 65535, protocol }));
  const out: Array<{ port: number; endPort: number; protocol: string }> = [];
  for (const p of ports) {
    const protocol = p.protocol ?? 'TCP';
    if (p.port === undefined) { out.push({ port: 1, endPort: 65535, protocol }); continue; }
    if (typeof p.port === 'string') {
      if (!isPod(destination)) continue;
      if (destination.anyPorts) { out.push({ port: 1, endPort: 65535, protocol }); continue; }
      for (const c of destination.ports) if (c.name === p.port && c.protocol === protocol && Number.isInteger(c.port)) out.push({ port: c.port, endPort: c.port, protocol });
      continue;
    }
    if (!Number.isInteger(p.port)) continue;
    const end = p.endPort !== undefined ? p.endPort : p.port;
    if (!Number.isInteger(end) || end < p.port) continue;
    out.push({ port: Math.max(p.port, 1), endPort: Math.min(end, 65535), protocol });
  }
  return out;
}

/** A destination with the ports to try on it. */
export interface Target {
  readonly endpoint: Endpoint;
  readonly ports: ReadonlyArray<{ readonly port: number; readonly protocol: string }>;
}

export interface ClusterInput {
  /** Namespace labels, by name (namespaces not listed have only their name label). */
  readonly namespaces?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  readonly pods: readonly Pod[];
  readonly policies: readonly Policy[];
  /**
   * A cluster with these very policies (the same array) whose policy indexes, and which policies
   * select which pod, are shared instead of built again (the same cluster with more pods, say).
   */
  readonly samePoliciesAs?: Cluster;
  /** Pods that run in the node's network (`hostNetwork: true`): no NetworkPolicy applies to them. */
  readonly hostNetwork?: readonly Pod[];
  /** AdminNetworkPolicies, BaselineAdminNetworkPolicies and ClusterNetworkPolicies (./admin.ts). */
  readonly admin?: readonly AdminPolicy[];
}

/** The key of a selector that is one `matchLabels` entry and nothing else (undefined otherwise). */
function onlyLabel(selector: LabelSelector | undefined): string | undefined {
  if (!selector || (selector.matchExpressions !== undefined && selector.matchExpressions.length > 0)) return undefined;
  return soleKey(selector.matchLabels);
}

const refOf = (p: Policy): PolicyRef => ({ policy: p.name, namespace: p.namespace, ...(p.file ? { file: p.file } : {}) });

/** More allowed paths than a caller can hold: the policies leave the cluster nearly open. */
export class TooManyPaths extends Error {
  constructor(public readonly limit: number) {
    super(`the NetworkPolicies allow more than ${limit.toLocaleString('en')} paths: they leave these pods nearly open to each other ` +
      '(policies with empty selectors or namespaceSelector: {} in both directions); narrow them, then verify again');
  }
}

export class Cluster {
  public readonly pods: readonly Pod[];
  public readonly policies: readonly Policy[];
  private readonly nsLabelsOf = new Map<string, Record<string, string>>();
  private readonly policiesIn: Map<string, Policy[]>;
  private readonly podsIn = new Map<string, Pod[]>();
  /** Pods by namespace, label key and label value (nested maps: keys built from two strings would be hashed anew on every lookup). */
  private readonly byLabel = new Map<string, Map<string, Map<string, Pod[]>>>();
  private readonly known = new Set<Pod>();
  private readonly position: Map<Policy, number>;
  /** (Shared with a cluster of the same policies: which policies select a pod depends on nothing else.) */
  private readonly applyingMemo: Map<Pod, { Ingress: Policy[]; Egress: Policy[] }>;
  private readonly peerMemo = new Map<PolicyPeer, readonly Pod[]>();

  /** Pods in the node's network, which no policy protects (not among `pods`). */
  public readonly hostNetwork: readonly Pod[];
  /** The admin-tier policies (./admin.ts), and each tier in evaluation order. */
  public readonly admin: readonly AdminPolicy[];
  private readonly adminTier: readonly AdminPolicy[];
  private readonly baselineTier: readonly AdminPolicy[];
  private readonly nsLabelsFn = (ns: string) => this.nsLabels(ns);

  constructor(input: ClusterInput) {
    this.pods = input.pods;
    this.hostNetwork = input.hostNetwork ?? [];
    this.admin = input.admin ?? [];
    this.adminTier = tierOrder(this.admin, 'Admin');
    this.baselineTier = tierOrder(this.admin, 'Baseline');
    this.policies = input.policies;
    const names = new Set<string>(Object.keys(input.namespaces ?? {}));
    for (const p of input.pods) names.add(p.namespace);
    for (const p of input.policies) names.add(p.namespace);
    for (const ns of [...names].sort()) {
      // (A stand-in for a namespace, whose id is no namespace name, keeps the name label it is given.)
      const standIn = !/^[a-z0-9-]*$/.test(ns) && input.namespaces?.[ns]?.[NAMESPACE_NAME_LABEL] !== undefined;
      this.nsLabelsOf.set(ns, { ...(input.namespaces?.[ns] ?? {}), ...(standIn ? {} : { [NAMESPACE_NAME_LABEL]: ns }) });
    }
    const same = input.samePoliciesAs;
    if (same && same.policies === input.policies) {
      this.policiesIn = same.policiesIn;
      this.position = same.position;
      this.policyIndexes = same.policyIndexes;
      this.applyingMemo = same.applyingMemo;
    } else {
      this.policiesIn = new Map();
      this.position = new Map();
      this.policyIndexes = new Map();
      this.applyingMemo = new Map();
      input.policies.forEach((p, i) => {
        this.listIn(this.policiesIn, p.namespace).push(p);
        this.position.set(p, i);
      });
    }
    for (const pod of input.pods) {
      this.known.add(pod);
      this.listIn(this.podsIn, pod.namespace).push(pod);
      let index = this.byLabel.get(pod.namespace);
      if (!index) this.byLabel.set(pod.namespace, index = new Map());
      for (const k in pod.labels) {
        let values = index.get(k);
        if (!values) index.set(k, values = new Map());
        this.listIn(values, pod.labels[k]).push(pod);
      }
    }
  }

  private listIn<T>(map: Map<string, T[]>, key: string): T[] {
    let list = map.get(key);
    if (!list) map.set(key, list = []);
    return list;
  }

  /** The namespaces known, with their labels (the name label included). */
  public namespaces(): ReadonlyMap<string, Readonly<Record<string, string>>> {
    return this.nsLabelsOf;
  }

  private nsLabels(ns: string): Record<string, string> {
    return this.nsLabelsOf.get(ns) ?? { [NAMESPACE_NAME_LABEL]: ns };
  }

  /** The policies of the pod's namespace that select it, per direction. */
  public applying(pod: Pod): { readonly Ingress: readonly Policy[]; readonly Egress: readonly Policy[] } {
    let memo = this.applyingMemo.get(pod);
    if (!memo) {
      memo = { Ingress: [], Egress: [] };
      // Only the policies whose selector could select it: those keyed by one of its labels, and those without matchLabels.
      // (Each policy is in one list only: no policy is a candidate twice.)
      const index = this.policyIndex(pod.namespace);
      let candidates: readonly Policy[] = index.unkeyed;
      let lists = candidates.length > 0 ? 1 : 0;
      for (const k in pod.labels) {
        const list = index.keyed.get(k)?.get(pod.labels[k]);
        if (!list) continue;
        candidates = lists === 0 ? list : [...candidates, ...list];
        lists++;
      }
      // In the order the policies were read (each list is in that order already).
      // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent, sorting one list already in order changes nothing
      // (With two lists or more, `candidates` is a copy of its own: sorted in place.)
      if (lists > 1) (candidates as Policy[]).sort((a, b) => this.position.get(a)! - this.position.get(b)!);
      for (const p of candidates) {
        if (!selects(p.podSelector, pod.labels)) continue;
        for (const t of p.policyTypes) memo[t].push(p);
      }
      // Stryker disable next-line ConditionalExpression: equivalent, a memo kept or not for a pod gives the same policies (it only saves work)
      if (this.known.has(pod)) this.applyingMemo.set(pod, memo);
    }
    return memo;
  }

  private readonly policyIndexes: Map<string, { keyed: Map<string, Map<string, Policy[]>>; unkeyed: Policy[] }>;

  /** A namespace's policies by one label (key, then value) of their pod selector (a pod lacking it cannot be selected). */
  private policyIndex(ns: string): { keyed: Map<string, Map<string, Policy[]>>; unkeyed: Policy[] } {
    let index = this.policyIndexes.get(ns);
    if (!index) {
      index = { keyed: new Map(), unkeyed: [] };
      for (const p of this.policiesIn.get(ns) ?? []) {
        const labels = p.podSelector.matchLabels ?? {};
        const first = Object.keys(labels)[0];
        if (first === undefined) index.unkeyed.push(p);
        else {
          let values = index.keyed.get(first);
          if (!values) index.keyed.set(first, values = new Map());
          this.listIn(values, labels[first]).push(p);
        }
      }
      this.policyIndexes.set(ns, index);
    }
    return index;
  }

  /**
   * The known pods a selector selects in one namespace (through the label index), in the order
   * given. The list may be the index's own: never change it.
   */
  public selectedIn(ns: string, selector: LabelSelector | undefined): readonly Pod[] {
    const labels = selector?.matchLabels ?? {};
    // One label and nothing else (most selectors): the index lists exactly the pods it selects.
    const only = onlyLabel(selector);
    if (only !== undefined) return this.byLabel.get(ns)?.get(only)?.get(labels[only]) ?? [];
    let candidates = this.podsIn.get(ns) ?? [];
    // Any list holding every pod with one of the selector's labels, in pod order, gives the same result
    // after the filter below: the smallest is only the cheapest.
    // Stryker disable next-line BlockStatement: equivalent, all pods filtered give the same result
    for (const k in labels) {
      const hit = this.byLabel.get(ns)?.get(k)?.get(labels[k]) ?? [];
      // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent, whichever list is kept holds every selected pod in pod order
      if (hit.length < candidates.length) candidates = hit;
    }
    return candidates.filter(p => selects(selector, p.labels));
  }

  /** The known pods a (selector) peer of a policy in `policyNs` admits (each once; the list may be an index's own: never change it). */
  private peerPods(peer: PolicyPeer, policyNs: string): readonly Pod[] {
    // A pod selector alone selects in the policy's namespace: the index answers, nothing to keep.
    if (!peer.namespaceSelector) return this.selectedIn(policyNs, peer.podSelector);
    let pods = this.peerMemo.get(peer);
    // Stryker disable next-line ConditionalExpression: equivalent, a memo (computed again, the same)
    if (!pods) {
      const list: Pod[] = [];
      for (const ns of this.nsLabelsOf.keys()) {
        if (selects(peer.namespaceSelector, this.nsLabels(ns))) for (const pod of this.selectedIn(ns, peer.podSelector)) list.push(pod);
      }
      this.peerMemo.set(peer, pods = list);
    }
    return pods;
  }

  /** Whether a peer of a policy in `policyNs` admits `other`. */
  public peerAdmits(peer: PolicyPeer, policyNs: string, other: Endpoint): boolean {
    if (peer.ipBlock) return !isPod(other) && ipBlockAdmits(peer.ipBlock, other.ip);
    if (!isPod(other)) return false;
    // A peer must say something: `{}` is rejected by the API server, and admits nobody here.
    if (!peer.podSelector && !peer.namespaceSelector) return false;
    const nsOk = peer.namespaceSelector ? selects(peer.namespaceSelector, this.nsLabels(other.namespace)) : other.namespace === policyNs;
    return nsOk && selects(peer.podSelector, other.labels);
  }

  private ruleAdmits(rule: PolicyRule, direction: 'Ingress' | 'Egress', policyNs: string, other: Endpoint, destination: Endpoint, port: number, protocol: string): boolean {
    if (!portsAdmit(rule.ports, port, protocol, destination)) return false;
    const peers = direction === 'Ingress' ? rule.from : rule.to;
    return !peers || peers.length === 0 || peers.some(peer => this.peerAdmits(peer, policyNs, other));
  }

  private side(direction: 'Ingress' | 'Egress', pod: Pod, other: Endpoint, destination: Endpoint, port: number, protocol: string): Side {
    const policies = this.applying(pod)[direction];
    const allowedBy: RuleRef[] = [];
    for (const p of policies) {
      const rules = direction === 'Ingress' ? p.ingress : p.egress;
      rules.forEach((rule, i) => {
        if (this.ruleAdmits(rule, direction, p.namespace, other, destination, port, protocol)) {
          allowedBy.push({ ...refOf(p), direction: direction === 'Ingress' ? 'ingress' : 'egress', rule: i + 1 });
        }
      });
    }
    const isolated = policies.length > 0;
    const side = { endpoint: endpointId(pod), isolated, policies: policies.map(refOf), allowedBy, allowed: !isolated || allowedBy.length > 0 };
    if (this.admin.length === 0) return side;
    // The tiers (see tiers()): an admin rule that decides, else the NetworkPolicies, else a baseline rule.
    const admin = tierDecision(this.adminTier, direction, pod, other, destination, port, protocol, this.nsLabelsFn);
    if (admin && admin.action !== 'Pass') return { ...side, allowedBy: [], allowed: admin.action === 'Allow', decidedBy: admin };
    const passed = admin ? { passedBy: admin } : {};
    if (isolated) return { ...side, ...passed };
    const baseline = tierDecision(this.baselineTier, direction, pod, other, destination, port, protocol, this.nsLabelsFn);
    if (baseline && baseline.action !== 'Pass') return { ...side, allowed: baseline.action === 'Allow', decidedBy: baseline, ...passed };
    return { ...side, ...passed };
  }

  /** Whether traffic from `source` reaches `destination` on `port`/`protocol`, and which policies decide it. */
  public verdict(source: Endpoint, destination: Endpoint, port: number, protocol = 'TCP'): Verdict {
    const egress = isPod(source) ? this.side('Egress', source, destination, destination, port, protocol) : undefined;
    const ingress = isPod(destination) ? this.side('Ingress', destination, source, destination, port, protocol) : undefined;
    return {
      from: endpointId(source), to: endpointId(destination), port, protocol,
      allowed: (egress?.allowed ?? true) && (ingress?.allowed ?? true),
      ...(egress ? { egress } : {}), ...(ingress ? { ingress } : {}),
    };
  }

  /** Whether traffic from `source` reaches `destination` on `port`/`protocol`. */
  public allowed(source: Endpoint, destination: Endpoint, port: number, protocol = 'TCP'): boolean {
    return this.egressAllows(source, destination, port, protocol) && this.ingressAllows(destination, source, port, protocol);
  }

  private egressAllows(source: Endpoint, destination: Endpoint, port: number, protocol: string): boolean {
    if (!isPod(source)) return true;
    return this.tiers('Egress', source, destination, destination, port, protocol, () => {
      const policies = this.applying(source).Egress;
      if (policies.length === 0) return undefined;
      return policies.some(p => p.egress.some(r => this.ruleAdmits(r, 'Egress', p.namespace, destination, destination, port, protocol)));
    });
  }

  private ingressAllows(destination: Endpoint, source: Endpoint, port: number, protocol: string): boolean {
    if (!isPod(destination)) return true;
    return this.tiers('Ingress', destination, source, destination, port, protocol, () => {
      const policies = this.applying(destination).Ingress;
      if (policies.length === 0) return undefined;
      return policies.some(p => p.ingress.some(r => this.ruleAdmits(r, 'Ingress', p.namespace, source, destination, port, protocol)));
    });
  }

  /**
   * One direction through the tiers: the admin tier's first matching rule (Allow or Deny decide,
   * Pass goes on), then the NetworkPolicies (`networkPolicies`: undefined when none selects the
   * pod), then the baseline tier's first matching rule; allowed when none decides.
   */
  private tiers(direction: 'Ingress' | 'Egress', pod: Pod, other: Endpoint, destination: Endpoint, port: number, protocol: string, networkPolicies: () => boolean | undefined): boolean {
    if (this.admin.length === 0) return networkPolicies() ?? true;
    const admin = tierDecision(this.adminTier, direction, pod, other, destination, port, protocol, this.nsLabelsFn);
    if (admin && admin.action !== 'Pass') return admin.action === 'Allow';
    const np = networkPolicies();
    if (np !== undefined) return np;
    const baseline = tierDecision(this.baselineTier, direction, pod, other, destination, port, protocol, this.nsLabelsFn);
    return !baseline || baseline.action !== 'Deny';
  }

  /**
   * Every allowed path from `sources` (default: every pod) to `targets` (default: every pod on
   * each of its container ports), a pod to itself left out, sorted. Sources a destination's
   * ingress rules name are found through the rules, not by trying every pair.
   */
  public paths(sources: readonly Endpoint[] = this.pods, targets: readonly Target[] = this.pods.map(p => ({ endpoint: p, ports: p.ports })), limit = Infinity): Path[] {
    return this.walk(sources, targets, t => t.ports, limit);
  }

  /**
   * Every allowed connection from `sources` to `targets`, exactly: for each destination, every
   * port of every protocol (1-65535 of TCP, UDP and SCTP) is looked at, as the intervals on which
   * nothing that decides the traffic changes (the ports, ranges and named ports of the
   * destination's ingress rules and of every egress rule that reaches it (named ports resolved against its container ports),
   * and the target's own `ports`, which callers use for the ports they compare with). Each path
   * stands for one such interval, `port` to `endPort` (absent for a single port): allowed or
   * blocked for every port in it alike.
   */
  public exactPaths(sources: readonly Endpoint[], targets: readonly Target[], limit = Infinity): Path[] {
    return this.walk(sources, targets, (t, reach) => this.intervalsOf(t, reach), limit);
  }

  /** The port intervals of a destination (see {@link exactPaths}), those its ingress could admit only. */
  private intervalsOf(target: Target, reach: Reach): PortSpan[] {
    const dst = target.endpoint;
    const cuts = new Map<string, Set<number>>(PROTOCOLS.map(p => [p, new Set<number>([1, 65536])]));
    const cut = (protocol: string, lo: number, hi: number) => {
      const set = cuts.get(protocol);
      if (!set || !(lo <= hi)) return;
      set.add(lo);
      set.add(hi + 1);
    };
    const rule = (r: PolicyRule) => {
      for (const span of ruleSpans(r.ports, dst)) cut(span.protocol, span.port, span.endPort);
    };
    // (A container port needs no cut of its own: a named port of a rule resolves to it, cut as the rule's.)
    for (const p of target.ports) cut(p.protocol, p.port, p.port);
    const ingress = isPod(dst) ? this.applying(dst).Ingress : [];
    for (const p of ingress) for (const r of p.ingress) rule(r);
    for (const g of reach.to.get(dst) ?? []) rule(g.rule);
    for (const r of reach.everyoneRules) rule(r);
    // Every admin-tier rule's ports, resolved for this destination (those of any source or subject: more cuts than needed cut nothing wrong).
    for (const p of this.admin) for (const r of [...p.ingress, ...p.egress]) for (const span of adminSpans(r.ports, dst)) cut(span.protocol, span.port, span.endPort);
    // An isolated destination: only what one of its ingress rules admits can be allowed (without admin tiers, which may allow more).
    const admitted = ingress.length === 0 || this.admin.length > 0 ? undefined : ingress.flatMap(p => p.ingress.flatMap(r => ruleSpans(r.ports, dst)));
    const out: PortSpan[] = [];
    for (const protocol of PROTOCOLS) {
      const points = [...cuts.get(protocol)!].filter(n => n >= 1 && n <= 65536).sort((a, b) => a - b);
      for (let i = 0; i + 1 < points.length; i++) {
        const port = points[i];
        if (admitted && !admitted.some(s => s.protocol === protocol && s.port <= port && port <= s.endPort)) continue;
        out.push(points[i + 1] - 1 > port ? { port, protocol, endPort: points[i + 1] - 1 } : { port, protocol });
      }
    }
    return out;
  }

  private walk(sources: readonly Endpoint[], targets: readonly Target[], portsOf: (t: Target, reach: Reach) => readonly PortSpan[], limit: number): Path[] {
    if (this.admin.length > 0) return this.walkTiers(sources, targets, portsOf, limit);
    const out: Path[] = [];
    const sourceSet = new Set(sources);
    const addresses = sources.filter((s): s is Address => !isPod(s));
    const unknown = sources.filter((s): s is Pod => isPod(s) && !this.known.has(s));
    const reach = this.egressReach(sources, targets.map(t => t.endpoint));
    for (const target of targets) {
      const dst = target.endpoint;
      const seen = new Set<string>();
      const ruled = reach.to.get(dst) ?? [];
      for (const { port, protocol, endPort } of portsOf(target, reach)) {
        const key = `${port}/${protocol}`;
        if (seen.has(key)) continue;
        seen.add(key);
        // Egress: sources not isolated for it, sources with a rule naming dst whose ports admit
        // this one, and sources with a rule to everyone whose ports admit it.
        const named = new Set<Endpoint>();
        for (const { sources: selected, rule } of ruled) {
          if (!portsAdmit(rule.ports, port, protocol, dst)) continue;
          for (const source of selected) named.add(source);
        }
        const egressAdmits = (src: Endpoint) => reach.free.has(src) || named.has(src) ||
          (reach.toEveryone.get(src)?.some(rule => portsAdmit(rule.ports, port, protocol, dst)) ?? false);
        const emit = (src: Endpoint) => {
          // A pod to itself is not a path; to another replica of its workload it is. Two addresses
          // outside the cluster are governed by no policy.
          if ((src === dst && !(isPod(src) && src.several)) || !sourceSet.has(src)) return;
          if (!isPod(src) && !isPod(dst)) return;
          if (out.length >= limit) throw new TooManyPaths(limit);
          out.push(endPort !== undefined && endPort > port
            ? { from: endpointId(src), to: endpointId(dst), port, protocol, endPort }
            : { from: endpointId(src), to: endpointId(dst), port, protocol });
        };
        // Ingress: the sources its rules admit (every source when dst is not isolated or a rule admits everyone).
        const ingress = this.ingressCandidates(dst, port, protocol, sources, sourceSet, addresses, unknown);
        const admitted = ingress === sources ? undefined : ingress as Set<Endpoint>;
        // Walk the smaller side, look up the other (either way gives the same paths: only the cost differs).
        // Stryker disable next-line EqualityOperator,ArithmeticOperator,BlockStatement: equivalent, both walks emit the same sources
        if (admitted && admitted.size <= reach.free.size + reach.toEveryone.size + named.size) {
          for (const src of admitted) if (egressAdmits(src)) emit(src);
          continue;
        }
        const done = new Set<Endpoint>();
        for (const group of [reach.free, reach.toEveryone.keys(), named]) {
          for (const src of group) {
            if (done.has(src)) continue;
            done.add(src);
            if ((!admitted || admitted.has(src)) && egressAdmits(src)) emit(src);
          }
        }
      }
    }
    return sortPaths(out);
  }

  /**
   * The walk with admin tiers: every source is tried on every interval of every target (an admin
   * Allow can open what no NetworkPolicy rule names, so the rules' indexes do not bound it).
   */
  private walkTiers(sources: readonly Endpoint[], targets: readonly Target[], portsOf: (t: Target, reach: Reach) => readonly PortSpan[], limit: number): Path[] {
    const out: Path[] = [];
    const sourceSet = new Set(sources);
    const reach = this.egressReach(sources, targets.map(t => t.endpoint));
    for (const target of targets) {
      const dst = target.endpoint;
      const seen = new Set<string>();
      for (const { port, protocol, endPort } of portsOf(target, reach)) {
        const key = `${port}/${protocol}`;
        if (seen.has(key)) continue;
        seen.add(key);
        for (const src of sourceSet) {
          if ((src === dst && !(isPod(src) && src.several)) || (!isPod(src) && !isPod(dst))) continue;
          if (!this.allowed(src, dst, port, protocol)) continue;
          if (out.length >= limit) throw new TooManyPaths(limit);
          out.push(endPort !== undefined && endPort > port
            ? { from: endpointId(src), to: endpointId(dst), port, protocol, endPort }
            : { from: endpointId(src), to: endpointId(dst), port, protocol });
        }
      }
    }
    return sortPaths(out);
  }

  /**
   * Which sources' egress could reach which destination: `free` holds the sources not isolated
   * for egress (addresses included), `toEveryone` the rules without peers of each isolated
   * source, and `to` maps a destination to the rules (with the sources their policy selects) whose peers admit it.
   * Only the rules' ports are left to check.
   */
  private egressReach(sources: readonly Endpoint[], destinations: readonly Endpoint[]): Reach {
    const free = new Set<Endpoint>();
    const toEveryone = new Map<Endpoint, PolicyRule[]>();
    const to = new Map<Endpoint, Array<{ sources: readonly Endpoint[]; rule: PolicyRule }>>();
    const bySelector = new Map<Policy, Pod[]>();
    const unknownDestinations = destinations.filter((d): d is Pod => isPod(d) && !this.known.has(d));
    const destinationAddresses = destinations.filter((d): d is Address => !isPod(d));
    for (const s of sources) {
      if (!isPod(s)) { free.add(s); continue; }
      const policies = this.applying(s).Egress;
      if (policies.length === 0) { free.add(s); continue; }
      for (const p of policies) {
        let list = bySelector.get(p);
        if (!list) bySelector.set(p, list = []);
        list.push(s);
      }
    }
    for (const [p, selected] of bySelector) {
      for (const rule of p.egress) {
        if (!rule.to || rule.to.length === 0) {
          for (const s of selected) {
            const list = toEveryone.get(s);
            if (list) list.push(rule); else toEveryone.set(s, [rule]);
          }
          continue;
        }
        // The sources the policy selects, with the rule (one entry per destination, not one per source).
        const group = { sources: selected, rule };
        for (const peer of rule.to) {
          const reached: Endpoint[] = [];
          if (peer.ipBlock) {
            for (const a of destinationAddresses) if (ipBlockAdmits(peer.ipBlock, a.ip)) reached.push(a);
          } else if (peer.podSelector || peer.namespaceSelector) {
            for (const pod of this.peerPods(peer, p.namespace)) reached.push(pod);
            for (const d of unknownDestinations) if (this.peerAdmits(peer, p.namespace, d)) reached.push(d);
          }
          for (const d of reached) {
            const list = to.get(d);
            if (list) list.push(group); else to.set(d, [group]);
          }
        }
      }
    }
    const everyoneRules = new Set<PolicyRule>();
    for (const rules of toEveryone.values()) for (const r of rules) everyoneRules.add(r);
    return { free, toEveryone, to, everyoneRules: [...everyoneRules] };
  }

  /** The sources whose traffic the destination's ingress admits on this port. */
  private ingressCandidates(dst: Endpoint, port: number, protocol: string, sources: readonly Endpoint[], sourceSet: ReadonlySet<Endpoint>, addresses: readonly Address[], unknown: readonly Pod[]): Iterable<Endpoint> {
    if (!isPod(dst)) return sources;
    const policies = this.applying(dst).Ingress;
    if (policies.length === 0) return sources;
    const admitted = new Set<Endpoint>();
    for (const p of policies) {
      for (const rule of p.ingress) {
        if (!portsAdmit(rule.ports, port, protocol, dst)) continue;
        if (!rule.from || rule.from.length === 0) return sources;
        for (const peer of rule.from) {
          if (peer.ipBlock) {
            for (const a of addresses) if (ipBlockAdmits(peer.ipBlock, a.ip)) admitted.add(a);
          } else if (peer.podSelector || peer.namespaceSelector) {
            // Stryker disable next-line ConditionalExpression: equivalent, paths() emits sources only (the filter keeps the set small)
            for (const pod of this.peerPods(peer, p.namespace)) if (sourceSet.has(pod)) admitted.add(pod);
            // Sources that are not known pods of the cluster are tried one by one.
            for (const s of unknown) if (this.peerAdmits(peer, p.namespace, s)) admitted.add(s);
          }
        }
      }
    }
    return admitted;
  }
}
