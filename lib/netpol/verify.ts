/**
 * `verify`: what the NetworkPolicies of a folder allow, against what the registries declare.
 *
 * The declared graph is read from the registry (connections, public entries, cluster DNS), the
 * allowed one from the policies by the evaluator (./cluster.ts); the two share no code with the
 * policy generator. Paths are compared between the pods of the manifests and stand-ins for the
 * rest of the world (./universe.ts); the findings and their text are in ./findings.ts, the
 * structural ones (default deny, names, endPort) in ./structural.ts.
 */
import { podSelectorOf } from '../model/labels';
import { Cluster, Path, RuleRef, TooManyPaths, pathKey } from './cluster';
import { Endpoint, endpointId, isPod, selects } from './model';
import { AdminHit, hitText } from './admin';
import { PATH_LIMIT, TrafficFinding, describeRules, finding, hitRef, portText, standInText } from './findings';
import { structuralFindings } from './structural';
import { DeclaredPath, TrafficRegistry, Universe, universe } from './universe';

export { TooManyPaths };
export { TRAFFIC_RULES, PATH_LIMIT, describeRules, describeTraffic, findingList, invalidValueFinding, labelText, portText, standInText, tooManyPathsFinding } from './findings';
export type { TrafficFinding, TrafficRuleId } from './findings';
export { structuralFindings } from './structural';
export { ELSEWHERE, WORLD_V4, WORLD_V6, addressAdmittedBy, addressIn, satisfying } from './universe';
export type { DeclaredPath, TrafficRegistry } from './universe';


export interface VerifyResult {
  readonly ok: boolean;
  readonly findings: readonly TrafficFinding[];
  /** Every allowed path among the pods and probes. */
  readonly allowed: readonly Path[];
  /** Every declared path among them. */
  readonly declared: readonly DeclaredPath[];
}
/** Undeclared paths reported one by one; the rest are counted in one more finding. */
const FINDINGS_SHOWN = 500;

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

/** Workloads with `hostNetwork: true`: no policy protects them (an error in a registry's namespace, a warning elsewhere). */
function hostNetworkFindings(base: Cluster, registries: readonly TrafficRegistry[], u: Universe, registryNamespacesOnly: boolean): TrafficFinding[] {
  const findings: TrafficFinding[] = [];
  for (const pod of base.hostNetwork) {
    const inRegistry = u.registryNamespaces.has(pod.namespace);
    if (registryNamespacesOnly && !inRegistry) continue;
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
  return findings;
}

/** Registry services no pod of the folder stands for (their paths were not compared). */
function unmatchedFindings(u: Universe): TrafficFinding[] {
  const findings: TrafficFinding[] = [];
  for (const x of u.unmatched) {
    const selector = Object.entries(x.selector).map(([k, v]) => `${k}=${v}`).join(',');
    findings.push(finding('traffic-unmatched',
      `${x.registry}: service ${x.service} has ports in ${x.environment}, but no workload or Service in namespace ${x.namespace} matches its selector ${selector}: its connections and public entries were not compared`,
      { namespace: x.namespace }, `give ${x.service} a selector with its pods' labels in the registry, or add its workload to the folder`));
  }
  return findings;
}

/** What the comparison knows of each path, and the ends by id. */
interface Comparison {
  readonly endpoints: ReadonlyMap<string, Endpoint>;
  readonly keyOf: (p: Path) => number | string;
  readonly declaredKeys: ReadonlyArray<number | string>;
  /** Per path: which sides declare it, whether it is allowed, and which sides' problems were looked at (bits). */
  readonly state: Map<number | string, number>;
}

type UndeclaredPart = { p: Path; egress: boolean; ingress: boolean };

/** Keys for the allowed and declared paths, and the sides that declare each. */
function comparison(u: Universe, allowed: readonly Path[]): Comparison {
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
  return { endpoints, keyOf, declaredKeys, state };
}

/** The allowed paths a side in a registry namespace did not declare (marking every allowed path in `state`). */
function undeclaredParts(u: Universe, allowed: readonly Path[], { endpoints, keyOf, state }: Comparison): UndeclaredPart[] {
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
  const parts: UndeclaredPart[] = [];
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
  return parts;
}

/** Undeclared intervals of one pair and protocol that touch, as one group each (`every TCP port`, not three pieces). */
function touchingGroups(parts: readonly UndeclaredPart[]): UndeclaredPart[][] {
  const groups: UndeclaredPart[][] = [];
  const open = new Map<string, UndeclaredPart[]>();
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
  return groups;
}

/** The finding of one group of undeclared paths: the path with its witness, and the rules that allow each side. */
function undeclaredFinding(u: Universe, group: readonly UndeclaredPart[], endpoints: ReadonlyMap<string, Endpoint>): TrafficFinding {
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
  return finding('traffic-undeclared',
    `${p.from} -> ${p.to} ${portText(p)} is allowed but not declared${witness.length ? ` (${witness.join('; ')})` : ''}: ${why.join('; ')}`,
    { from: p.from, to: p.to, port: p.port, ...(p.endPort !== undefined ? { endPort: p.endPort } : {}), protocol: p.protocol },
    'remove or narrow the policy that allows it, or declare the connection (connectsTo) or public entry in the registry', rules);
}

/** Declared paths a side blocks, each side once, in path order. */
function blockedFindings(u: Universe, { endpoints, declaredKeys, state }: Comparison): TrafficFinding[] {
  const findings: TrafficFinding[] = [];
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
  return findings;
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
  findings.push(...hostNetworkFindings(base, registries, u, options.registryNamespacesOnly ?? false));
  if (!options.registryNamespacesOnly) findings.push(...unmatchedFindings(u));
  if (registries.length > 0) {
    const c = comparison(u, allowed);
    const groups = touchingGroups(undeclaredParts(u, allowed, c));
    for (const group of groups.slice(0, FINDINGS_SHOWN)) findings.push(undeclaredFinding(u, group, c.endpoints));
    const undeclared = groups.length;
    if (undeclared > FINDINGS_SHOWN) {
      findings.push(finding('traffic-undeclared', `… and ${undeclared - FINDINGS_SHOWN} more allowed paths that are not declared (${undeclared} in all)`, {},
        'fix the policies the paths above name, then verify again'));
    }
    findings.push(...blockedFindings(u, c));
  }
  return { ok: !findings.some(f => f.severity === 'error'), findings, allowed, declared: u.declared };
}

/** The probes and cluster that verify would use, for `explain` (names like `(another-namespace)/(unlisted-pod)`). */
export function endpointsOf(base: Cluster, registries: readonly TrafficRegistry[]): { cluster: Cluster; endpoints: Map<string, Endpoint> } {
  const u = universe(base, registries);
  return { cluster: u.cluster, endpoints: new Map(u.sources.map(e => [endpointId(e), e])) };
}
