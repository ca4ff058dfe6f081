/**
 * The admin tiers against a brute-force evaluation on small random clusters: random labelled
 * namespaces and pods (with named ports), random NetworkPolicies, and random admin-tier policies
 * (AdminNetworkPolicy, BaselineAdminNetworkPolicy, ClusterNetworkPolicy of either tier; priorities
 * from a few values, so ties occur; subjects and peers by namespace and pod selectors, egress
 * networks; ports by number, range and name).
 *
 * The brute force is written here from the API's docs, apart from lib/netpol/admin.ts: for each
 * direction, the admin-tier policies sorted by priority (ties by kind, then name, as the evaluator
 * documents), the first rule whose peer and port match decides (Pass: on to the NetworkPolicies);
 * the NetworkPolicies decide when one selects the pod (taken from a cluster without admin tiers);
 * then the baseline tier likewise; allowed otherwise. It is compared on every port of 1..PORTS+1
 * and 65535 of each protocol, and every address of 10.0.0.0/29 and one outside, with
 * `Cluster.allowed` and with the exact paths (`exactPaths`, through the address intervals).
 */
import fc from 'fast-check';
import { AdminPolicy, AdminPort, AdminRule } from '../lib/netpol/admin';
import { addressSpans } from '../lib/netpol/addresses';
import { Cluster } from '../lib/netpol/cluster';
import { Address, Endpoint, LabelSelector, Pod, Policy, endpointId, isPod } from '../lib/netpol/model';
import { endpointsOf } from '../lib/netpol/verify';

const PORTS = 5;
const PROTOCOLS = ['TCP', 'UDP', 'SCTP'];
const WALKED = [...Array.from({ length: PORTS + 1 }, (_, i) => i + 1), 65535];
const NAMESPACES = ['n0', 'n1', 'n2'];
const NAME = 'kubernetes.io/metadata.name';
const RUNS = { numRuns: Number(process.env.FC_RUNS ?? 150), seed: process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined };

const labels = (keys: Record<string, string[]>) => fc.record(Object.fromEntries(Object.entries(keys).map(([k, v]) => [k, fc.constantFrom(...v)])), { requiredKeys: [] }) as fc.Arbitrary<Record<string, string>>;
const POD_KEYS = { app: ['a', 'b'], role: ['x'] };
const NS_KEYS = { team: ['a', 'b'] };
const selector = (keys: Record<string, string[]>): fc.Arbitrary<LabelSelector> => fc.oneof(
  fc.constant({}),
  labels(keys).map(matchLabels => ({ matchLabels })),
  fc.record({ key: fc.constantFrom(...Object.keys(keys)), operator: fc.constantFrom('NotIn', 'Exists', 'DoesNotExist') })
    .map(e => ({ matchExpressions: [e.operator === 'NotIn' ? { ...e, values: [keys[e.key][0]] } : e] })),
);
const nsSelector = fc.oneof(selector(NS_KEYS), fc.constantFrom(...NAMESPACES).map(n => ({ matchLabels: { [NAME]: n } })));

const adminPort: fc.Arbitrary<AdminPort> = fc.oneof(
  fc.record({ protocol: fc.constantFrom(...PROTOCOLS), port: fc.integer({ min: 1, max: PORTS }) }),
  fc.record({ protocol: fc.constantFrom(...PROTOCOLS), port: fc.integer({ min: 1, max: PORTS - 1 }), span: fc.integer({ min: 1, max: 2 }) }).map(({ span, ...p }) => ({ ...p, endPort: p.port + span })),
  fc.constantFrom('p0', 'p1').map(name => ({ name })),
);
const cidr = fc.record({ base: fc.integer({ min: 0, max: 7 }), bits: fc.integer({ min: 29, max: 32 }) })
  .map(({ base, bits }) => `10.0.0.${Math.floor(base / 2 ** (32 - bits)) * 2 ** (32 - bits)}/${bits}`);
const peer = (egress: boolean) => fc.oneof(
  nsSelector.map(namespaces => ({ namespaces })),
  fc.record({ namespaceSelector: nsSelector, podSelector: selector(POD_KEYS) }).map(pods => ({ pods })),
  ...(egress ? [fc.array(fc.oneof(cidr, fc.constant('0.0.0.0/0')), { minLength: 1, maxLength: 2 }).map(networks => ({ networks }))] : []),
);
const adminRule = (egress: boolean, actions: string[]): fc.Arbitrary<AdminRule> => fc.record({
  written: fc.constantFrom(...actions),
  peers: fc.array(peer(egress), { minLength: 1, maxLength: 2 }),
  ports: fc.option(fc.array(adminPort, { minLength: 1, maxLength: 2 }), { nil: undefined }),
}).map(r => ({ ...(r.ports ? { ports: egress && r.peers.some(p => 'networks' in p) ? r.ports.filter(p => p.name === undefined) : r.ports } : {}), peers: r.peers, written: r.written, action: (r.written === 'Accept' ? 'Allow' : r.written) as AdminRule['action'] }));
const adminPolicy = (i: number): fc.Arbitrary<AdminPolicy> => fc.constantFrom('AdminNetworkPolicy', 'BaselineAdminNetworkPolicy', 'ClusterNetworkPolicy/Admin', 'ClusterNetworkPolicy/Baseline').chain(k => {
  const kind = k.split('/')[0] as AdminPolicy['kind'];
  const tier = k === 'BaselineAdminNetworkPolicy' || k.endsWith('Baseline') ? 'Baseline' : 'Admin';
  const actions = kind === 'ClusterNetworkPolicy' ? ['Accept', 'Deny', 'Pass'] : kind === 'BaselineAdminNetworkPolicy' ? ['Allow', 'Deny'] : ['Allow', 'Deny', 'Pass'];
  return fc.record({
    subject: fc.oneof(nsSelector.map(namespaces => ({ namespaces })), fc.record({ namespaceSelector: nsSelector, podSelector: selector(POD_KEYS) }).map(pods => ({ pods }))),
    priority: fc.integer({ min: 0, max: 2 }),
    ingress: fc.array(adminRule(false, actions), { maxLength: 2 }),
    egress: fc.array(adminRule(true, actions), { maxLength: 2 }),
  }).map(p => ({ kind, tier, name: kind === 'BaselineAdminNetworkPolicy' ? 'default' : `a${i}`, ...(kind === 'BaselineAdminNetworkPolicy' ? {} : { priority: p.priority }), subject: p.subject, ingress: p.ingress, egress: p.egress }));
});
const npPolicy = (i: number): fc.Arbitrary<Policy> => fc.record({
  namespace: fc.constantFrom(...NAMESPACES),
  podSelector: selector(POD_KEYS),
  policyTypes: fc.subarray(['Ingress', 'Egress'] as Array<'Ingress' | 'Egress'>, { minLength: 1 }),
  ingress: fc.array(fc.record({ from: fc.array(fc.record({ namespaceSelector: nsSelector }), { maxLength: 1 }), ports: fc.array(fc.record({ port: fc.integer({ min: 1, max: PORTS }) }), { maxLength: 1 }) }), { maxLength: 1 }),
  egress: fc.array(fc.record({ to: fc.array(fc.oneof(fc.record({ podSelector: selector(POD_KEYS) }), fc.record({ ipBlock: fc.record({ cidr }) })), { maxLength: 1 }) }), { maxLength: 1 }),
}).map(p => ({ ...p, name: `np${i}` }));
const pod = (i: number): fc.Arbitrary<Pod> => fc.record({
  namespace: fc.constantFrom(...NAMESPACES), labels: labels(POD_KEYS),
  ports: fc.array(fc.record({ name: fc.constantFrom('p0', 'p1'), port: fc.integer({ min: 1, max: PORTS }), protocol: fc.constantFrom(...PROTOCOLS) }), { maxLength: 2 }),
}).map(p => ({ ...p, name: `pod${i}` }));
const many = <T>(arb: (i: number) => fc.Arbitrary<T>, min: number, max: number) => fc.integer({ min, max }).chain(n => (n === 0 ? fc.constant([] as T[]) : fc.tuple(...Array.from({ length: n }, (_, i) => arb(i)))));
const clusterArb = fc.record({ nsLabels: fc.tuple(...NAMESPACES.map(() => labels(NS_KEYS))), pods: many(pod, 1, 3), policies: many(npPolicy, 0, 2), admin: many(adminPolicy, 1, 3) });

// ---- the brute force, from the docs ----
const sel = (s: LabelSelector, l: Record<string, string>) => Object.entries(s.matchLabels ?? {}).every(([k, v]) => l[k] === v) && (s.matchExpressions ?? []).every(e =>
  e.operator === 'NotIn' ? !(k => k in l && e.values!.includes(l[k]))(e.key) : e.operator === 'Exists' ? e.key in l : e.operator === 'DoesNotExist' ? !(e.key in l) : false);
const ipIn = (c: string, ip: string) => {
  const [base, bits] = c.split('/');
  const n = (a: string) => a.split('.').reduce((x, b) => x * 256 + Number(b), 0);
  return !ip.includes(':') && (Number(bits) === 0 || Math.floor(n(ip) / 2 ** (32 - Number(bits))) === Math.floor(n(base) / 2 ** (32 - Number(bits))));
};

function bruteForce(input: { nsLabels: ReadonlyArray<Record<string, string>>; admin: readonly AdminPolicy[] }, plain: Cluster) {
  const ns = (n: string) => ({ ...(input.nsLabels[NAMESPACES.indexOf(n)] ?? {}), [NAME]: n });
  const selectsPod = (s: AdminPolicy['subject'], p: Pod) => (s.namespaces ? sel(s.namespaces, ns(p.namespace)) : sel(s.pods!.namespaceSelector, ns(p.namespace)) && sel(s.pods!.podSelector, p.labels));
  const portOk = (ports: readonly AdminPort[] | undefined, dst: Endpoint, port: number, protocol: string) => !ports || ports.some(p =>
    (p.name !== undefined ? isPod(dst) && dst.ports.some(c => c.name === p.name && c.port === port && c.protocol === protocol)
      : (p.protocol ?? 'TCP') === protocol && p.port! <= port && port <= (p.endPort ?? p.port!)));
  const peerOk = (peer: AdminRule['peers'][number], other: Endpoint) => (isPod(other)
    ? (peer.namespaces || peer.pods ? selectsPod(peer as AdminPolicy['subject'], other) : (peer.networks ?? []).includes('0.0.0.0/0'))
    : (peer.networks ?? []).some(c => ipIn(c, other.ip)));
  const order = (tier: string) => input.admin.filter(p => p.tier === tier)
    .sort((a, b) => (a.priority ?? 1e9) - (b.priority ?? 1e9) || a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name));
  const decide = (tier: string, dir: 'ingress' | 'egress', p: Pod, other: Endpoint, dst: Endpoint, port: number, protocol: string) => {
    for (const a of order(tier)) {
      if (!selectsPod(a.subject, p)) continue;
      for (const r of a[dir]) if (portOk(r.ports, dst, port, protocol) && r.peers.some(x => peerOk(x, other))) return r.action;
    }
    return undefined;
  };
  const side = (dir: 'ingress' | 'egress', p: Pod, other: Endpoint, dst: Endpoint, port: number, protocol: string, np: () => { isolated: boolean; allowed: boolean }) => {
    const a = decide('Admin', dir, p, other, dst, port, protocol);
    if (a === 'Allow' || a === 'Deny') return a === 'Allow';
    const n = np();
    if (n.isolated) return n.allowed;
    return decide('Baseline', dir, p, other, dst, port, protocol) !== 'Deny';
  };
  return (src: Endpoint, dst: Endpoint, port: number, protocol: string) => {
    const v = plain.verdict(src, dst, port, protocol);
    return (!isPod(src) || side('egress', src, dst, dst, port, protocol, () => v.egress!)) && (!isPod(dst) || side('ingress', dst, src, dst, port, protocol, () => v.ingress!));
  };
}

test('the admin tiers agree with a brute-force evaluation, port by port and address by address, and with the exact paths', () => {
  fc.assert(fc.property(clusterArb, input => {
    const namespaces = Object.fromEntries(NAMESPACES.map((n, i) => [n, input.nsLabels[i]]));
    const plain = new Cluster({ namespaces, pods: input.pods, policies: input.policies });
    const cluster = new Cluster({ namespaces, pods: input.pods, policies: input.policies, admin: input.admin });
    const brute = bruteForce(input, plain);
    const cidrs = [...input.policies.flatMap(p => p.egress.flatMap(r => (r.to ?? []).flatMap(x => (x.ipBlock ? [x.ipBlock.cidr] : [])))), ...input.admin.flatMap(a => a.egress.flatMap(r => r.peers.flatMap(x => x.networks ?? [])))];
    const spans = addressSpans(cidrs, ['192.0.2.1']);
    const reps: Address[] = spans.map(s => ({ ip: s.ip }));
    const endpoints: Endpoint[] = [...input.pods, ...reps];
    const exact = cluster.exactPaths(endpoints, endpoints.map(e => ({ endpoint: e, ports: [] })));
    const covered = (from: string, to: string, protocol: string, port: number) => exact.some(p => p.from === from && p.to === to && p.protocol === protocol && p.port <= port && port <= (p.endPort ?? p.port));
    const n = (a: string) => a.split('.').reduce((x, b) => x * 256 + Number(b), 0);
    const repOf = (ip: string) => spans.find(s => !s.first.includes(':') && n(s.first) <= n(ip) && n(ip) <= n(s.last))!.ip;
    const concrete: Endpoint[] = [...input.pods, ...Array.from({ length: 8 }, (_, i) => ({ ip: `10.0.0.${i}` })), { ip: '192.0.2.1' }];
    for (const src of concrete) {
      for (const dst of concrete) {
        if ((!isPod(src) && !isPod(dst)) || src === dst) continue;
        for (const protocol of PROTOCOLS) {
          for (const port of WALKED) {
            const expected = brute(src, dst, port, protocol);
            const what = `${endpointId(src)} -> ${endpointId(dst)} ${port}/${protocol}`;
            if (cluster.allowed(src, dst, port, protocol) !== expected) throw new Error(`${what}: the brute force says ${expected}, Cluster.allowed ${!expected}`);
            if (cluster.verdict(src, dst, port, protocol).allowed !== expected) throw new Error(`${what}: the brute force says ${expected}, the verdict ${!expected}`);
            const from = isPod(src) ? endpointId(src) : repOf(src.ip);
            const to = isPod(dst) ? endpointId(dst) : repOf(dst.ip);
            if (covered(from, to, protocol, port) !== expected) throw new Error(`${what}: the brute force says ${expected}, the exact paths ${!expected}`);
          }
        }
      }
    }
  }), RUNS);
});

test('with admin tiers, a pod the folder does not list (of any labels, in a namespace of any labels) has a stand-in of verify that reaches and is reached alike', () => {
  const stranger = fc.record({ labels: labels(POD_KEYS), nsLabels: labels(NS_KEYS), ns: fc.constantFrom('n0', 'n1', 'out') });
  fc.assert(fc.property(clusterArb, stranger, (input, o) => {
    const namespaces = Object.fromEntries(NAMESPACES.map((n, i) => [n, input.nsLabels[i]]));
    const base = new Cluster({ namespaces, pods: input.pods, policies: input.policies, admin: input.admin });
    const pod: Pod = { namespace: o.ns, name: 'stranger', labels: o.labels, ports: [] };
    const world = new Cluster({ namespaces: o.ns === 'out' ? { ...namespaces, out: o.nsLabels } : namespaces, pods: [...input.pods, pod], policies: input.policies, admin: input.admin });
    const { cluster, endpoints } = endpointsOf(base, []);
    // In a namespace of the folder, a witness of that namespace (or a folder pod of the same labels); elsewhere any stand-in outside the folder's namespaces.
    const twin = input.pods.some(p => p.namespace === o.ns && JSON.stringify(Object.entries(p.labels).sort()) === JSON.stringify(Object.entries(o.labels).sort()));
    if (twin) return;
    const witnesses = [...endpoints.values()].filter((e): e is Pod => isPod(e) && (o.ns === 'out' ? !NAMESPACES.includes(e.namespace) && !!e.anyPorts : e.namespace === o.ns));
    for (const p of input.pods) {
      for (const protocol of PROTOCOLS) {
        for (const port of WALKED) {
          if (world.allowed(pod, p, port, protocol) && !witnesses.some(w => cluster.allowed(w, p, port, protocol))) throw new Error(`${o.ns}/stranger ${JSON.stringify(o.labels)} -> ${endpointId(p)} ${port}/${protocol}: no stand-in (${witnesses.map(endpointId).join(', ')})`);
          if (world.allowed(p, pod, port, protocol) && !witnesses.some(w => cluster.allowed(p, w, port, protocol))) throw new Error(`${endpointId(p)} -> ${o.ns}/stranger ${JSON.stringify(o.labels)} ${port}/${protocol}: no stand-in (${witnesses.map(endpointId).join(', ')})`);
        }
      }
    }
  }), RUNS);
});
