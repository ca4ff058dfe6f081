/**
 * Every allowed connection of a folder, pair by pair, as np-guard/netpol-analyzer's `list` writes
 * it (`src => dst : conn`), so that the two tools can be cross-checked: workloads named
 * `namespace/name[Kind]`, addresses as the intervals the policies' blocks cut the address space
 * into (`10.0.0.0-10.255.255.255[External]`), the ports of each pair merged per protocol
 * (`TCP 80,8080-8090,UDP 53`, or `All Connections`). The connections are the exact ones of
 * `verify` (Cluster.exactPaths over the same stand-ins).
 *
 * The exposure analysis (`exposure`) adds, for each workload, what can reach it (and what it can
 * reach) outside the folder: the stand-ins `verify` makes for every selector (`[namespace with
 * {team=any}]/[pod with {role=x}]`, `[any namespace]/[all pods]`), and the workloads no policy
 * protects in a direction, host-network workloads among them.
 */
import { Cluster, Path, PROTOCOLS } from './cluster';
import { Endpoint, NAMESPACE_NAME_LABEL, Pod, endpointId, isPod } from './model';
import { ELSEWHERE, endpointsOf } from './verify';
import { mergeAddressRows } from './merge-addresses';
import { cidrRange } from './addresses';
import { subjectSelects } from './admin';

export interface Connection {
  readonly src: string;
  readonly dst: string;
  readonly conn: string;
}

export interface Unprotected {
  readonly workload: string;
  /** The directions no policy limits (`hostNetwork` for a host-network workload: none applies). */
  readonly open: ReadonlyArray<'ingress' | 'egress' | 'hostNetwork'>;
}

export interface ConnList {
  /** Between workloads of the folder and addresses, sorted. */
  readonly connections: readonly Connection[];
  /** Only with `exposure`: from a workload to stand-ins, sorted (src is the workload). */
  readonly egressExposure: readonly Connection[];
  /** Only with `exposure`: from stand-ins to a workload, sorted by the workload (dst). */
  readonly ingressExposure: readonly Connection[];
  readonly unprotected: readonly Unprotected[];
  /** Every named end, with its namespace (none for an address), for grouping (dot). */
  readonly nodes: ReadonlyArray<{ readonly name: string; readonly namespace?: string; readonly kind: 'workload' | 'external' | 'stand-in' }>;
}

const labelsText = (labels: Readonly<Record<string, string>>) => `{${Object.keys(labels).sort().map(k => `${k}=${labels[k]}`).join(',')}}`;

/** `ns/name[Kind]` from a pod's source (`file: Kind/name`), the address interval, or a stand-in's description. */
function nameOf(e: Endpoint, namespaces: ReadonlyMap<string, Readonly<Record<string, string>>>, folderNamespaces: ReadonlySet<string>): string {
  if (!isPod(e) && e.nodeLabels) return `${e.ip}[Node]`;
  if (!isPod(e)) return e.span && e.span.first !== e.span.last ? `${e.span.first}-${e.span.last}[External]` : `${e.ip}[External]`;
  if (!e.anyPorts && !e.source?.startsWith('a stand-in')) {
    const m = /: ([A-Za-z]+)\/(.*)$/.exec(e.source ?? '');
    return m ? `${e.namespace}/${m[2]}[${m[1]}]` : `${e.namespace}/${e.name}[stand-in]`;
  }
  const podPart = Object.keys(e.labels).length ? `[pod with ${labelsText(e.labels)}]` : '[all pods]';
  let nsPart = e.namespace;
  if (e.namespace === ELSEWHERE) nsPart = '[any namespace]';
  else if (!folderNamespaces.has(e.namespace)) {
    const labels = Object.fromEntries(Object.entries(namespaces.get(e.namespace) ?? {}).filter(([k]) => k !== NAMESPACE_NAME_LABEL));
    nsPart = Object.keys(labels).length ? `[namespace with ${labelsText(labels)}]` : e.namespace.startsWith('(') ? '[any namespace]' : e.namespace;
  }
  return `${nsPart}/${podPart}`;
}

/** The ports of one pair, merged per protocol: `All Connections`, or `SCTP 1-65535,TCP 80,8080-8090,UDP 53`. */
export function connText(paths: readonly Path[]): string {
  const byProtocol = new Map<string, Array<[number, number]>>();
  for (const p of paths) {
    const list = byProtocol.get(p.protocol) ?? [];
    list.push([p.port, p.endPort ?? p.port]);
    byProtocol.set(p.protocol, list);
  }
  const parts: string[] = [];
  let all = true;
  for (const protocol of [...PROTOCOLS].sort()) {
    const spans = (byProtocol.get(protocol) ?? []).sort((a, b) => a[0] - b[0]);
    const merged: Array<[number, number]> = [];
    for (const [lo, hi] of spans) {
      const last = merged[merged.length - 1];
      if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi); else merged.push([lo, hi]);
    }
    if (!(merged.length === 1 && merged[0][0] === 1 && merged[0][1] === 65535)) all = false;
    if (merged.length) parts.push(`${protocol} ${merged.map(([lo, hi]) => (lo === hi ? `${lo}` : `${lo}-${hi}`)).join(',')}`);
  }
  return all ? 'All Connections' : parts.join(',');
}

/** The connection list of a cluster (see the module's comment). */
export function connList(base: Cluster, options: { exposure?: boolean; addressAtoms?: boolean } = {}): ConnList {
  const { cluster, endpoints } = endpointsOf(base, []);
  const all = [...endpoints.values()];
  const paths = cluster.exactPaths(all, all.map(e => ({ endpoint: e, ports: [] })));
  const folder = new Set<Endpoint>(base.pods);
  const folderNamespaces = new Set(base.pods.map(p => p.namespace));
  const namespaces = cluster.namespaces();
  const byId = new Map(all.map(e => [endpointId(e), e]));
  const names = new Map<Endpoint, string>();
  const endpointOf = new Map<string, Endpoint>();
  const name = (e: Endpoint) => {
    let n = names.get(e);
    if (n === undefined) {
      names.set(e, n = nameOf(e, namespaces, folderNamespaces));
      if (!endpointOf.has(n)) endpointOf.set(n, e);
    }
    return n;
  };
  const groups = new Map<string, { from: Endpoint; to: Endpoint; paths: Path[] }>();
  for (const p of paths) {
    const k = `${p.from}\u0000${p.to}`;
    const g = groups.get(k);
    if (g) g.paths.push(p); else groups.set(k, { from: byId.get(p.from)!, to: byId.get(p.to)!, paths: [p] });
  }
  const connections: Connection[] = [];
  const egressExposure: Connection[] = [];
  const ingressExposure: Connection[] = [];
  const standIn = (e: Endpoint) => isPod(e) && !folder.has(e);
  for (const g of groups.values()) {
    const row = { src: name(g.from), dst: name(g.to), conn: connText(g.paths) };
    if (!standIn(g.from) && !standIn(g.to)) connections.push(row);
    else if (options.exposure && folder.has(g.from as Pod) && standIn(g.to)) egressExposure.push(row);
    else if (options.exposure && folder.has(g.to as Pod) && standIn(g.from)) ingressExposure.push(row);
  }
  mergeAddresses(connections, byId, endpointOf, options.addressAtoms ? ownCuts(cluster, endpointOf) : undefined);
  const bySrc = (a: Connection, b: Connection) => (a.src < b.src ? -1 : a.src > b.src ? 1 : a.dst < b.dst ? -1 : a.dst > b.dst ? 1 : 0);
  const byDst = (a: Connection, b: Connection) => (a.dst < b.dst ? -1 : a.dst > b.dst ? 1 : a.src < b.src ? -1 : a.src > b.src ? 1 : 0);
  connections.sort(bySrc);
  egressExposure.sort(bySrc);
  ingressExposure.sort(byDst);
  const unprotected: Unprotected[] = [];
  if (options.exposure) {
    for (const pod of base.pods) {
      const applying = cluster.applying(pod);
      const open: Array<'ingress' | 'egress'> = [];
      if (applying.Ingress.length === 0) open.push('ingress');
      if (applying.Egress.length === 0) open.push('egress');
      if (open.length) unprotected.push({ workload: name(pod), open });
    }
    for (const pod of base.hostNetwork) unprotected.push({ workload: nameOf({ ...pod }, namespaces, folderNamespaces), open: ['hostNetwork'] });
    unprotected.sort((a, b) => (a.workload < b.workload ? -1 : a.workload > b.workload ? 1 : 0));
  }
  const nodes = new Map<string, ConnList['nodes'][number]>();
  for (const c of [...connections, ...egressExposure, ...ingressExposure]) {
    for (const n of [c.src, c.dst]) {
      if (nodes.has(n)) continue;
      const e = endpointOf.get(n);
      const kind = !e || !isPod(e) ? 'external' : folder.has(e) ? 'workload' : 'stand-in';
      nodes.set(n, { name: n, kind, ...(e && isPod(e) && kind === 'workload' ? { namespace: e.namespace } : {}) });
    }
  }
  return { connections, egressExposure, ingressExposure, unprotected, nodes: [...nodes.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)) };
}

/** Rows of one peer and connection whose addresses are adjacent intervals are one row (`10.0.0.0-10.255.255.255[External]`). */
function mergeAddresses(rows: Connection[], byId: ReadonlyMap<string, Endpoint>, endpointOf: ReadonlyMap<string, Endpoint>, keepCuts?: (peer: string, side: 'src' | 'dst') => ReadonlySet<bigint>): void {
  const merged = mergeAddressRows(rows, name => {
    const e = endpointOf.get(name) ?? byId.get(name);
    return e && !isPod(e) ? e : undefined;
  }, keepCuts);
  rows.splice(0, rows.length, ...merged);
}

/**
 * The cuts a pod's own policies make (`--address-atoms`, netpol-analyzer's lines): for an address
 * it sends to, the CIDRs of the egress rules of the NetworkPolicies and admin-tier policies that
 * select it; for one it receives from, those of its ingress rules.
 */
function ownCuts(cluster: Cluster, endpointOf: ReadonlyMap<string, Endpoint>): (peer: string, side: 'src' | 'dst') => ReadonlySet<bigint> {
  const memo = new Map<string, Set<bigint>>();
  return (peer, side) => {
    const key = `${side}\u0000${peer}`;
    let cuts = memo.get(key);
    if (cuts) return cuts;
    cuts = new Set<bigint>();
    const pod = endpointOf.get(peer);
    if (pod && isPod(pod)) {
      const egress = side === 'dst';
      const cidrs: string[] = [];
      for (const p of cluster.applying(pod)[egress ? 'Egress' : 'Ingress']) {
        for (const r of egress ? p.egress : p.ingress) for (const x of (egress ? r.to : r.from) ?? []) if (x.ipBlock) cidrs.push(x.ipBlock.cidr, ...(x.ipBlock.except ?? []));
      }
      const nsLabels = cluster.namespaces().get(pod.namespace) ?? { [NAMESPACE_NAME_LABEL]: pod.namespace };
      for (const a of cluster.admin) if (egress && subjectSelects(a.subject, pod, nsLabels)) for (const r of a.egress) for (const x of r.peers) cidrs.push(...(x.networks ?? []));
      for (const c of cidrs) {
        const range = cidrRange(c);
        if (range) { cuts.add(range.lo); cuts.add(range.hi + 1n); }
      }
    }
    memo.set(key, cuts);
    return cuts;
  };
}
