/**
 * The exact evaluation (`Cluster.exactPaths`, the address intervals and the stand-ins of
 * `verify`) against a brute-force walk on small random clusters: random labelled namespaces,
 * pods with random (named) ports, and random policies whose ports lie in 1..PORTS and whose
 * blocks lie in 10.0.0.0/27.
 *
 * - Exactness: for every pair of endpoints, every protocol and every port of 1..PORTS+1 and
 *   65535, and every address of 10.0.0.0/27 (and one outside it), `Cluster.allowed` on the
 *   concrete values agrees with the exact paths of the interval (and the address interval) that
 *   holds them.
 * - Stand-ins: a pod of a namespace the folder does not have, whatever the labels of both, that
 *   reaches a pod of the folder (or that a pod of the folder reaches) on a port is matched by a
 *   stand-in of verify that does the same on that port.
 */
import fc from 'fast-check';
import { Cluster } from '../lib/netpol/cluster';
import { addressSpans } from '../lib/netpol/addresses';
import { Address, Endpoint, LabelSelector, Pod, Policy, PolicyPeer, PolicyPort, PolicyRule, endpointId, isPod } from '../lib/netpol/model';
import { endpointsOf, satisfying } from '../lib/netpol/verify';

const PORTS = 6;
const PROTOCOLS = ['TCP', 'UDP', 'SCTP'];
const WALKED_PORTS = [...Array.from({ length: PORTS + 1 }, (_, i) => i + 1), 65535];
const NAMESPACES = ['n0', 'n1', 'n2'];
const NAME = 'kubernetes.io/metadata.name';

const labelsArb = (keys: Record<string, string[]>) => fc.record(
  Object.fromEntries(Object.entries(keys).map(([k, values]) => [k, fc.constantFrom(...values)])),
  { requiredKeys: [] },
) as fc.Arbitrary<Record<string, string>>;

const POD_KEYS = { app: ['a', 'b'], role: ['x', 'y'] };
const NS_KEYS = { team: ['a', 'b'], env: ['x'] };

const selectorArb = (keys: Record<string, string[]>, names: string[] = []): fc.Arbitrary<LabelSelector> => {
  const all: Record<string, string[]> = { ...keys, ...(names.length ? { [NAME]: names } : {}) };
  const expr = fc.record({
    key: fc.constantFrom(...Object.keys(all)),
    operator: fc.constantFrom('In', 'NotIn', 'Exists', 'DoesNotExist'),
  }).chain(e => (e.operator === 'In' || e.operator === 'NotIn'
    ? fc.subarray(all[e.key], { minLength: 1 }).map(values => ({ ...e, values }))
    : fc.constant(e)));
  return fc.record({ matchLabels: labelsArb(all), matchExpressions: fc.array(expr, { maxLength: 2 }) }, { requiredKeys: [] });
};

const portArb: fc.Arbitrary<PolicyPort> = fc.oneof(
  fc.record({ protocol: fc.constantFrom(...PROTOCOLS), port: fc.integer({ min: 1, max: PORTS }) }, { requiredKeys: ['port'] }),
  fc.record({ protocol: fc.constantFrom(...PROTOCOLS), port: fc.integer({ min: 1, max: PORTS }), span: fc.integer({ min: 0, max: 3 }) })
    .map(({ span, ...p }) => ({ ...p, endPort: p.port + span })),
  fc.record({ protocol: fc.constantFrom(...PROTOCOLS) }),
  fc.record({ protocol: fc.constantFrom(...PROTOCOLS), port: fc.constantFrom('p0', 'p1') }, { requiredKeys: ['port'] }),
);

/** A block inside 10.0.0.0/27, with an except inside it sometimes. */
const blockArb = fc.record({ base: fc.integer({ min: 0, max: 31 }), bits: fc.integer({ min: 27, max: 32 }), except: fc.option(fc.integer({ min: 0, max: 31 })) })
  .map(({ base, bits, except }) => {
    const size = 2 ** (32 - bits);
    const start = Math.floor(base / size) * size;
    const cidr = `10.0.0.${start}/${bits}`;
    if (except === null || bits === 32) return { cidr };
    const sub = bits + 1 + (except % (32 - bits));
    const subSize = 2 ** (32 - sub);
    const subStart = start + Math.floor((except % size) / subSize) * subSize;
    return { cidr, except: [`10.0.0.${subStart}/${sub}`] };
  });

const peerArb: fc.Arbitrary<PolicyPeer> = fc.oneof(
  fc.record({ podSelector: selectorArb(POD_KEYS) }),
  fc.record({ namespaceSelector: selectorArb(NS_KEYS, [...NAMESPACES, 'out']) }),
  fc.record({ podSelector: selectorArb(POD_KEYS), namespaceSelector: selectorArb(NS_KEYS, [...NAMESPACES, 'out']) }),
  fc.record({ ipBlock: blockArb }),
);

const ruleArb = (key: 'from' | 'to'): fc.Arbitrary<PolicyRule> =>
  fc.record({ [key]: fc.array(peerArb, { maxLength: 2 }), ports: fc.array(portArb, { maxLength: 2 }) }, { requiredKeys: [] }) as fc.Arbitrary<PolicyRule>;

const policyArb = (i: number): fc.Arbitrary<Policy> => fc.record({
  namespace: fc.constantFrom(...NAMESPACES),
  podSelector: selectorArb(POD_KEYS),
  policyTypes: fc.subarray(['Ingress', 'Egress'] as Array<'Ingress' | 'Egress'>, { minLength: 1 }),
  ingress: fc.array(ruleArb('from'), { maxLength: 2 }),
  egress: fc.array(ruleArb('to'), { maxLength: 2 }),
}).map(p => ({ ...p, name: `p${i}` }));

const containerPortsArb = fc.array(fc.record({ name: fc.constantFrom('p0', 'p1', undefined), port: fc.integer({ min: 1, max: PORTS }), protocol: fc.constantFrom(...PROTOCOLS) }), { maxLength: 2 })
  .map(ports => ports.map(p => (p.name ? p : { port: p.port, protocol: p.protocol })));

const podArb = (i: number): fc.Arbitrary<Pod> => fc.record({
  namespace: fc.constantFrom(...NAMESPACES), labels: labelsArb(POD_KEYS), ports: containerPortsArb, several: fc.boolean(),
}).map(p => ({ ...p, name: `pod${i}` }));

const clusterArb = fc.record({
  namespaces: fc.tuple(...NAMESPACES.map(() => labelsArb(NS_KEYS))),
  pods: fc.integer({ min: 1, max: 4 }).chain(n => fc.tuple(...Array.from({ length: n }, (_, i) => podArb(i)))),
  policies: fc.integer({ min: 0, max: 4 }).chain(n => (n === 0 ? fc.constant([] as Policy[]) : fc.tuple(...Array.from({ length: n }, (_, i) => policyArb(i))))),
});

const RUNS = { numRuns: Number(process.env.FC_RUNS ?? 150), seed: process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined };

const cidrsOf = (policies: readonly Policy[]) => policies.flatMap(p => [...p.ingress.flatMap(r => r.from ?? []), ...p.egress.flatMap(r => r.to ?? [])])
  .flatMap(peer => (peer.ipBlock ? [peer.ipBlock.cidr, ...(peer.ipBlock.except ?? [])] : []));

test('exact paths agree with a walk over every port of every protocol and every address of the blocks', () => {
  fc.assert(fc.property(clusterArb, input => {
    const cluster = new Cluster({ namespaces: Object.fromEntries(NAMESPACES.map((ns, i) => [ns, input.namespaces[i]])), pods: input.pods, policies: input.policies });
    const spans = addressSpans(cidrsOf(input.policies), ['192.0.2.1']);
    const reps: Address[] = spans.map(s => ({ ip: s.ip }));
    const repOf = (ip: string) => spans.find(s => inSpan(ip, s.first, s.last))!;
    const endpoints: Endpoint[] = [...input.pods, ...reps];
    const exact = cluster.exactPaths(endpoints, endpoints.map(e => ({ endpoint: e, ports: [] })));
    const byPair = new Map<string, Array<[number, number]>>();
    for (const p of exact) {
      const k = `${p.from} ${p.to} ${p.protocol}`;
      byPair.set(k, [...(byPair.get(k) ?? []), [p.port, p.endPort ?? p.port]]);
    }
    const covered = (from: string, to: string, protocol: string, port: number) =>
      (byPair.get(`${from} ${to} ${protocol}`) ?? []).some(([lo, hi]) => lo <= port && port <= hi);
    const concrete: Endpoint[] = [...input.pods, ...Array.from({ length: 32 }, (_, i) => ({ ip: `10.0.0.${i}` })), { ip: '192.0.2.1' }];
    for (const src of concrete) {
      for (const dst of concrete) {
        if (!isPod(src) && !isPod(dst)) continue;
        if (src === dst && !(isPod(src) && src.several)) continue;
        const from = isPod(src) ? endpointId(src) : repOf(src.ip).ip;
        const to = isPod(dst) ? endpointId(dst) : repOf(dst.ip).ip;
        for (const protocol of PROTOCOLS) {
          for (const port of WALKED_PORTS) {
            const walked = cluster.allowed(src, dst, port, protocol);
            if (walked !== covered(from, to, protocol, port)) {
              throw new Error(`${endpointId(src)} -> ${endpointId(dst)} ${port}/${protocol}: the walk says ${walked}, the exact paths ${!walked}`);
            }
          }
        }
      }
    }
    // The intervals of one pair and protocol never overlap.
    const seen = new Map<string, Array<[number, number]>>();
    for (const p of exact) {
      const k = `${p.from} ${p.to} ${p.protocol}`;
      const list = seen.get(k) ?? [];
      for (const [lo, hi] of list) if (p.port <= hi && lo <= (p.endPort ?? p.port)) throw new Error(`overlap at ${k}`);
      list.push([p.port, p.endPort ?? p.port]);
      seen.set(k, list);
    }
  }), RUNS);
});

function inSpan(ip: string, first: string, last: string): boolean {
  const n = (a: string) => a.split('.').reduce((x, b) => x * 256 + Number(b), 0);
  return !ip.includes(':') && !first.includes(':') && n(first) <= n(ip) && n(ip) <= n(last);
}

test('a pod of any namespace the folder lacks, of any labels, is matched by a stand-in of verify on every port it reaches or is reached on', () => {
  const outsider = fc.record({ nsLabels: labelsArb(NS_KEYS), labels: labelsArb(POD_KEYS), ports: containerPortsArb, name: fc.constantFrom('out', 'elsewhere-x') });
  fc.assert(fc.property(clusterArb, outsider, (input, o) => {
    const namespaces = Object.fromEntries(NAMESPACES.map((ns, i) => [ns, input.namespaces[i]]));
    const base = new Cluster({ namespaces, pods: input.pods, policies: input.policies });
    const stranger: Pod = { namespace: o.name, name: 'stranger', labels: o.labels, ports: o.ports };
    const world = new Cluster({ namespaces: { ...namespaces, [o.name]: o.nsLabels }, pods: [...input.pods, stranger], policies: input.policies });
    const { cluster, endpoints } = endpointsOf(base, []);
    const standIns = [...endpoints.values()].filter((e): e is Pod => isPod(e) && !!e.anyPorts && !NAMESPACES.includes(e.namespace));
    for (const pod of input.pods) {
      for (const protocol of PROTOCOLS) {
        for (const port of WALKED_PORTS) {
          if (world.allowed(stranger, pod, port, protocol) && !standIns.some(s => cluster.allowed(s, pod, port, protocol))) {
            throw new Error(`${o.name}/stranger -> ${endpointId(pod)} ${port}/${protocol} is allowed, but from no stand-in (${standIns.map(endpointId).join(', ')})`);
          }
          if (world.allowed(pod, stranger, port, protocol) && !standIns.some(s => cluster.allowed(pod, s, port, protocol))) {
            throw new Error(`${endpointId(pod)} -> ${o.name}/stranger ${port}/${protocol} is allowed, but to no stand-in (${standIns.map(endpointId).join(', ')})`);
          }
        }
      }
    }
  }), {
    ...RUNS,
    // Counterexamples the property found once: a namespace named in an `In` beside one of the folder's,
    // and one namespace name asked for with more labels by a second selector.
    examples: [
      [{ namespaces: [{}, {}, {}], pods: [{ namespace: 'n0', labels: {}, ports: [], several: false, name: 'pod0' }], policies: [
        { namespace: 'n0', podSelector: {}, policyTypes: ['Ingress', 'Egress'], ingress: [{ from: [{ podSelector: {}, namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['n1', 'out'] }] } }] }], egress: [], name: 'p1' },
      ] }, { nsLabels: {}, labels: {}, ports: [], name: 'out' }],
      [{ namespaces: [{}, {}, {}], pods: [{ namespace: 'n2', labels: {}, ports: [], several: false, name: 'pod0' }], policies: [
        { namespace: 'n0', podSelector: {}, policyTypes: ['Egress'], ingress: [], egress: [{ to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'out' } } }] }], name: 'p0' },
        { namespace: 'n2', podSelector: {}, policyTypes: ['Egress'], ingress: [], egress: [{ to: [{ namespaceSelector: { matchLabels: { team: 'a', 'kubernetes.io/metadata.name': 'out' } } }] }], name: 'p2' },
      ] }, { nsLabels: { team: 'a' }, labels: {}, ports: [], name: 'out' }],
    ] as never,
  });
});

test('the labels a stand-in gets satisfy the selector, or there is none (an Exists before an In of its key, NotIn of every In value)', () => {
  expect(satisfying({ matchExpressions: [{ key: 'k', operator: 'Exists' }, { key: 'k', operator: 'In', values: ['v'] }] })).toEqual({ k: 'v' });
  expect(satisfying({ matchExpressions: [{ key: 'k', operator: 'Exists' }, { key: 'k', operator: 'NotIn', values: ['any'] }] })).toEqual({ k: 'any2' });
  expect(satisfying({ matchExpressions: [{ key: 'k', operator: 'In', values: ['v'] }, { key: 'k', operator: 'NotIn', values: ['v'] }] })).toBeUndefined();
  expect(satisfying({ matchLabels: { k: 'v' }, matchExpressions: [{ key: 'k', operator: 'DoesNotExist' }] })).toBeUndefined();
  expect(satisfying({ matchExpressions: [{ key: 'k', operator: 'NotIn', values: ['v'] }, { key: 'j', operator: 'DoesNotExist' }] })).toEqual({});
});

test('a pod the folder does not list in a namespace it does list, of any labels, is matched by a stand-in of verify there (NotIn, DoesNotExist and Exists on its labels)', () => {
  const insider = fc.record({ labels: labelsArb(POD_KEYS), ports: containerPortsArb, ns: fc.constantFrom(...NAMESPACES) });
  fc.assert(fc.property(clusterArb, insider, (input, o) => {
    const namespaces = Object.fromEntries(NAMESPACES.map((ns, i) => [ns, input.namespaces[i]]));
    const base = new Cluster({ namespaces, pods: input.pods, policies: input.policies });
    const stranger: Pod = { namespace: o.ns, name: 'stranger', labels: o.labels, ports: o.ports };
    const world = new Cluster({ namespaces, pods: [...input.pods, stranger], policies: input.policies });
    const { cluster, endpoints } = endpointsOf(base, []);
    // The stand-ins of that namespace, and the folder's own pods there of the same labels (a pod of the folder may stand for itself).
    // (Of that namespace: a pod of a registry namespace declares its own side, so a witness elsewhere would not do.)
    const standIns = [...endpoints.values()].filter((e): e is Pod => isPod(e) && e.namespace === o.ns);
    // A pod of the folder with the very same labels is the stranger's twin (it is selected alike by every selector), itself included.
    if (input.pods.some(p => p.namespace === o.ns && JSON.stringify(Object.entries(p.labels).sort()) === JSON.stringify(Object.entries(o.labels).sort()))) return;
    for (const pod of input.pods) {
      for (const protocol of PROTOCOLS) {
        for (const port of WALKED_PORTS) {
          // (A pod of the folder with a stand-in's labels stands for it, towards itself too: verify leaves that pair out, see the report of #34.)
          if (world.allowed(stranger, pod, port, protocol) && !standIns.some(s => cluster.allowed(s, pod, port, protocol))) {
            throw new Error(`${o.ns}/stranger ${JSON.stringify(o.labels)} -> ${endpointId(pod)} ${port}/${protocol} is allowed, but from no stand-in (${standIns.map(endpointId).join(', ')})`);
          }
          if (world.allowed(pod, stranger, port, protocol) && !standIns.some(s => cluster.allowed(pod, s, port, protocol))) {
            throw new Error(`${endpointId(pod)} -> ${o.ns}/stranger ${JSON.stringify(o.labels)} ${port}/${protocol} is allowed, but to no stand-in (${standIns.map(endpointId).join(', ')})`);
          }
        }
      }
    }
  }), RUNS);
});
