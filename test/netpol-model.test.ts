import * as ipaddr from 'ipaddr.js';
import fc from 'fast-check';
import { Cluster, Target, pathKey } from '../lib/netpol/cluster';
import { addressAdmittedBy, addressIn, describeRules, pathKeys, structuralFindings } from '../lib/netpol/verify';
import { Endpoint, Pod, Policy, PolicyPeer, PolicyPort, cidrContains, endpointId, ipBlockAdmits, isPod, policyTypesOf, selects } from '../lib/netpol/model';

/**
 * The evaluator's fast paths (label indexes, the egress index, candidate sets) against its own
 * plain definition: on random clusters, `paths()` lists exactly the triples `allowed()` admits,
 * and `verdict()` agrees with `allowed()` and names the rules that decide. `allowed()` itself is
 * pinned by the hand-computed cases of test/netpol-truth-table.test.ts.
 */

// At least 300 clusters even where FC_RUNS is lowered (mutation runs): the walks it compares are chosen by size.
const RUNS = Math.max(300, Number(process.env.FC_RUNS ?? 300));
const keys = ['app', 'tier'];
const values = ['a', 'b'];
const labels = fc.dictionary(fc.constantFrom(...keys), fc.constantFrom(...values), { maxKeys: 2 });
const selector = fc.oneof(
  fc.constant({}),
  labels.map(matchLabels => ({ matchLabels })),
  fc.record({ key: fc.constantFrom(...keys), operator: fc.constantFrom('In', 'NotIn', 'Exists', 'DoesNotExist'), values: fc.subarray(values, { minLength: 1 }) })
    .map(e => ({ matchExpressions: [e] })),
);
const peer: fc.Arbitrary<PolicyPeer> = fc.oneof(
  // A peer that says nothing (the API server rejects it): it admits nobody.
  fc.constant({}),
  fc.record({ podSelector: selector }),
  fc.record({ namespaceSelector: selector }),
  fc.record({ podSelector: selector, namespaceSelector: selector }),
  fc.record({ ipBlock: fc.record({ cidr: fc.constantFrom('10.0.0.0/8', '0.0.0.0/0', '203.0.113.0/24', '::/0'), except: fc.constantFrom([], ['10.0.0.0/16'], ['203.0.113.0/28']) }) }),
);
const port: fc.Arbitrary<PolicyPort> = fc.oneof(
  fc.record({ port: fc.constantFrom(80, 443, 8080) }, { requiredKeys: ['port'] }),
  fc.record({ port: fc.constantFrom(80, 8000), endPort: fc.constantFrom(8080, 9000), protocol: fc.constantFrom('TCP', 'UDP') }),
  fc.record({ port: fc.constantFrom('http', 'dns') }),
  fc.record({ protocol: fc.constantFrom('UDP', 'TCP') }),
);
const rule = (key: 'from' | 'to') => fc.record({ [key]: fc.option(fc.array(peer, { maxLength: 2 }), { nil: undefined }), ports: fc.option(fc.array(port, { maxLength: 2 }), { nil: undefined }) });
const namespaces = ['x', 'y', 'z'];

const cluster = fc.record({
  nsLabels: fc.record({ x: labels, y: labels, z: labels }),
  pods: fc.array(fc.record({
    namespace: fc.constantFrom(...namespaces), labels,
    ports: fc.subarray([{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' }, { port: 443, protocol: 'TCP' }]),
    several: fc.boolean(),
  }), { minLength: 1, maxLength: 5 }),
  policies: fc.array(fc.record({
    namespace: fc.constantFrom(...namespaces), podSelector: selector,
    policyTypes: fc.option(fc.subarray(['Ingress', 'Egress'] as const, { minLength: 1 }), { nil: undefined }),
    ingress: fc.array(rule('from'), { maxLength: 2 }), egress: fc.array(rule('to'), { maxLength: 2 }),
  }), { maxLength: 4 }),
}).map(c => {
  const pods: Pod[] = c.pods.map((p, i) => ({ namespace: p.namespace, name: `p${i}`, labels: p.labels, ports: p.ports, ...(p.several ? { several: true } : {}) }));
  const policies: Policy[] = c.policies.map((p, i) => ({
    name: `np${i}`, namespace: p.namespace, file: `f${i}.yaml`, podSelector: p.podSelector,
    policyTypes: policyTypesOf({ policyTypes: p.policyTypes, egress: p.egress }), ingress: p.ingress as never, egress: p.egress as never,
  }));
  return { cluster: new Cluster({ namespaces: c.nsLabels, pods, policies }), pods };
});

const addresses: Endpoint[] = [{ ip: '10.0.0.5' }, { ip: '10.1.0.5' }, { ip: '203.0.113.7' }, { ip: '2001:db8::7' }];
// 53 on both protocols: paths of one port number are ordered by protocol.
const triesOn = [{ port: 80, protocol: 'TCP' }, { port: 8080, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }];
/** Pods no manifest lists (another namespace's, or one of a listed namespace): the evaluator tries them one by one. */
const strangers: Pod[] = [
  { namespace: 'y', name: 'stranger', labels: { app: 'a' }, ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] },
  { namespace: 'w', name: 'visitor', labels: { tier: 'b' }, ports: [{ port: 80, protocol: 'TCP' }] },
];

test(`paths() lists exactly what allowed() admits, and verdict() agrees and names its rules (${RUNS} random clusters)`, () => {
  fc.assert(fc.property(cluster, ({ cluster: c, pods }) => {
    const sources: Endpoint[] = [...pods, ...strangers, ...addresses];
    const targets: Target[] = sources.map(e => ({ endpoint: e, ports: isPod(e) ? [...e.ports, ...triesOn] : triesOn }));
    const expected: Array<{ from: string; to: string; port: number; protocol: string }> = [];
    for (const t of targets) {
      for (const s of sources) {
        if (s === t.endpoint && !(isPod(s) && s.several)) continue;
        if (!isPod(s) && !isPod(t.endpoint)) continue;
        const seen = new Set<string>();
        for (const { port: n, protocol } of t.ports) {
          if (seen.has(`${n}/${protocol}`)) continue;
          seen.add(`${n}/${protocol}`);
          const allowed = c.allowed(s, t.endpoint, n, protocol);
          const v = c.verdict(s, t.endpoint, n, protocol);
          if (v.allowed !== allowed) throw new Error(`verdict ${JSON.stringify(v)} disagrees with allowed() = ${allowed}`);
          for (const side of [v.egress, v.ingress]) {
            if (!side) continue;
            if (side.allowed !== (!side.isolated || side.allowedBy.length > 0)) throw new Error(`side ${JSON.stringify(side)} is inconsistent`);
            if (side.isolated !== (side.policies.length > 0)) throw new Error(`side ${JSON.stringify(side)}: isolated without policies`);
            // The policies that select the pod for this direction, in the order they were read.
            const pod = (side === v.egress ? s : t.endpoint) as Pod;
            const direction = side === v.egress ? 'Egress' : 'Ingress';
            const selecting = c.policies.filter(p => p.namespace === pod.namespace && selects(p.podSelector, pod.labels) && p.policyTypes.includes(direction)).map(p => p.name);
            if (JSON.stringify(side.policies.map(p => p.policy)) !== JSON.stringify(selecting)) throw new Error(`side ${JSON.stringify(side)}: policies are not ${selecting}`);
            for (const r of side.allowedBy) {
              const policy = c.policies.find(p => p.name === r.policy)!;
              const rules = r.direction === 'ingress' ? policy.ingress : policy.egress;
              if (r.rule < 1 || r.rule > rules.length || r.file !== policy.file) throw new Error(`rule reference ${JSON.stringify(r)} is wrong`);
            }
          }
          if (v.egress && v.egress.endpoint !== endpointId(s)) throw new Error('egress side names the wrong pod');
          if (v.ingress && v.ingress.endpoint !== endpointId(t.endpoint)) throw new Error('ingress side names the wrong pod');
          if (allowed) expected.push({ from: endpointId(s), to: endpointId(t.endpoint), port: n, protocol });
        }
      }
    }
    // The same paths, in the documented order: by source, destination, port number, protocol.
    const cmp = (a: string | number, b: string | number) => (a < b ? -1 : a > b ? 1 : 0);
    expected.sort((a, b) => cmp(a.from, b.from) || cmp(a.to, b.to) || a.port - b.port || cmp(a.protocol, b.protocol));
    expect(c.paths(sources, targets).map(pathKey)).toEqual(expected.map(pathKey));
  }), { numRuns: RUNS, seed: process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined });
});

test('addresses: an IPv4-mapped IPv6 address is its IPv4 address; a bad block or address is in nothing', () => {
  expect(cidrContains('10.0.0.0/8', '::ffff:10.1.2.3')).toBe(true);
  expect(cidrContains('10.0.0.0/8', '::ffff:11.1.2.3')).toBe(false);
  expect(cidrContains('10.0.0.0/33', '10.0.0.1')).toBe(false);
  expect(cidrContains('10.0.0.0/8', 'not-an-address')).toBe(false);
  expect(cidrContains('::/0', '10.0.0.1')).toBe(false);
});

test('policy types: unknown ones are dropped, an empty list is defaulted as the API server does', () => {
  expect(policyTypesOf({ policyTypes: ['Ingress', 'Bogus'] })).toEqual(['Ingress']);
  expect(policyTypesOf({ policyTypes: [], egress: [{}] })).toEqual(['Ingress', 'Egress']);
  expect(policyTypesOf({ egress: [] })).toEqual(['Ingress']);
});

test('the paths limit: one more path than allowed is an error naming the limit', () => {
  const pods: Pod[] = [0, 1, 2].map(i => ({ namespace: 'x', name: `p${i}`, labels: {}, ports: [{ port: 80, protocol: 'TCP' }] }));
  const c = new Cluster({ pods, policies: [] });
  expect(c.paths()).toHaveLength(6);
  expect(() => c.paths(undefined, undefined, 5)).toThrow(/^the NetworkPolicies allow more than 5 paths: they leave these pods nearly open to each other \(policies with empty selectors or namespaceSelector: \{\} in both directions\); narrow them, then verify again$/);
  expect(c.paths(undefined, undefined, 6)).toHaveLength(6);
});

test('path keys: two paths get the same key exactly when they are the same path (numbers, or strings past 2^53)', () => {
  const path = fc.record({
    from: fc.constantFrom('a/x', 'a/y', 'b/x', '10.0.0.1'),
    to: fc.constantFrom('a/x', 'b/y', '203.0.113.7'),
    port: fc.constantFrom(53, 80, 8080, 65535),
    protocol: fc.constantFrom('TCP', 'UDP', 'SCTP'),
  });
  fc.assert(fc.property(fc.array(path, { maxLength: 30 }), fc.array(path, { maxLength: 30 }), fc.boolean(), (listed, others, small) => {
    // `small` forces string keys (as a cluster of 100 million endpoints would).
    const keyOf = pathKeys([listed], small ? 1 : undefined);
    const all = [...listed, ...others];
    for (const p of all) {
      for (const q of all) expect(keyOf(p) === keyOf(q)).toBe(pathKey(p) === pathKey(q));
      if (!small && listed.includes(p)) expect(typeof keyOf(p)).toBe('number');
    }
  }), { numRuns: RUNS });
});

/** IPv4 and IPv6 addresses of small blocks, as text, from an integer offset (so blocks can be listed address by address). */
const v4 = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
const v6 = (n: number) => ipaddr.parse(`2001:db8::${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`).toString();
const family = fc.constantFrom({ text: v4, width: 32, base: 0x0a000000 }, { text: v6, width: 32, base: 0 });

test('the stand-in address of an ipBlock is one the block admits, and there is one exactly when the block admits any (fast-check, every address of the block tried)', () => {
  fc.assert(fc.property(family, fc.integer({ min: 0, max: 0xffffff }), fc.integer({ min: 20, max: 32 }),
    fc.array(fc.tuple(fc.integer({ min: 0, max: 4095 }), fc.integer({ min: 0, max: 12 })), { maxLength: 4 }), (f, at, prefix, holes) => {
      const size = 2 ** (32 - prefix);
      const network = f.base + (at - (at % size));
      const offset = f.width - 32;
      const cidr = (start: number, bits: number) => `${f.text(start)}/${bits + offset + (f.text === v6 ? 96 : 0)}`;
      // Except blocks inside the block: an address of it, a prefix as long or longer.
      const except = holes.map(([o, extra]) => {
        const bits = Math.min(32, prefix + extra);
        const sz = 2 ** (32 - bits);
        const start = network + (o % size);
        return cidr(start - (start % sz), bits);
      });
      const block = { cidr: cidr(network, prefix), except };
      let admitted = false;
      for (let i = 0; i < size && !admitted; i++) admitted = ipBlockAdmits(block, f.text(network + i));
      const found = addressAdmittedBy(block);
      if (found !== undefined && !ipBlockAdmits(block, found)) throw new Error(`${found} is not admitted by ${JSON.stringify(block)}`);
      if ((found !== undefined) !== admitted) throw new Error(`${JSON.stringify(block)}: found ${found}, but an admitted address ${admitted ? 'exists' : 'does not exist'}`);
      // The address a CIDR stands for: its first host (the address itself for a single one), inside it.
      const first = addressIn(block.cidr)!;
      expect(cidrContains(block.cidr, first)).toBe(true);
      expect(first).toBe(f.text(prefix === 32 ? network : network + 1));
    }), { numRuns: Math.max(300, Number(process.env.FC_RUNS ?? 300)), seed: process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined });
  // The whole address space with nothing excepted: the internet stand-ins are in it already.
  expect(addressAdmittedBy({ cidr: '0.0.0.0/0' })).toBeUndefined();
  expect(addressIn('::/0')).toBeUndefined();
  expect(addressAdmittedBy({ cidr: '0.0.0.0/0', except: ['0.0.0.0/1'] })).toBe('128.0.0.0');
  expect(addressAdmittedBy({ cidr: 'not-a-cidr' })).toBeUndefined();
  // Only the network address is left: found just before the first except block.
  expect(addressAdmittedBy({ cidr: '10.0.0.0/24', except: ['10.0.0.1/32', '10.0.0.2/31', '10.0.0.4/30', '10.0.0.8/29', '10.0.0.16/28', '10.0.0.32/27', '10.0.0.64/26', '10.0.0.128/25'] })).toBe('10.0.0.0');
  expect(addressAdmittedBy({ cidr: '2001:db8::/120', except: ['2001:db8::1/128', '2001:db8::2/127', '2001:db8::4/126', '2001:db8::8/125', '2001:db8::10/124', '2001:db8::20/123', '2001:db8::40/122', '2001:db8::80/121'] })).toBe('2001:db8::');
  expect(addressIn('10.0.0.0/33')).toBeUndefined();
});

test('paths(): a destination admitting more sources than can send to it walks the senders and still asks its ingress', () => {
  const pod = (name: string, labels: Record<string, string>): Pod => ({ namespace: 'x', name, labels, ports: [{ port: 80, protocol: 'TCP' }] });
  const d = pod('d', { app: 'd' });
  const ps = [1, 2, 3, 4].map(n => pod(`p${n}`, { tier: 'x', n: String(n) }));
  const q = pod('q', { app: 'q' });
  const policy = (name: string, podSelector: Policy['podSelector'], types: Array<'Ingress' | 'Egress'>, ingress: Policy['ingress'] = [], egress: Policy['egress'] = []): Policy =>
    ({ name, namespace: 'x', podSelector, policyTypes: types, ingress, egress });
  const c = new Cluster({ pods: [d, ...ps, q], policies: [
    policy('ingress-d', { matchLabels: { app: 'd' } }, ['Ingress'], [{ from: [{ podSelector: { matchLabels: { tier: 'x' } } }] }]),
    policy('egress-p12', { matchExpressions: [{ key: 'n', operator: 'In', values: ['1', '2'] }] }, ['Egress'], [], [{ to: [{ podSelector: { matchLabels: { app: 'd' } } }] }]),
    policy('egress-p34', { matchExpressions: [{ key: 'n', operator: 'In', values: ['3', '4'] }] }, ['Egress']),
    policy('egress-d', { matchLabels: { app: 'd' } }, ['Egress']),
  ] });
  // q may send anywhere but d does not admit it; p3 and p4 are admitted but may not send.
  expect(c.paths().filter(p => p.to === 'x/d').map(pathKey)).toEqual(['x/p1 -> x/d 80/TCP', 'x/p2 -> x/d 80/TCP']);
  expect(c.allowed(q, d, 80)).toBe(false);
});

test('structural warnings: a policy of no known type still counts as selecting the pods it names; rules are described with their file when known', () => {
  const pods: Pod[] = [{ namespace: 'x', name: 'web', labels: { app: 'web' }, ports: [] }, { namespace: 'x', name: '(unlisted-pod)', labels: { app: 'ghost' }, ports: [] }];
  const policy = (name: string, app: string, policyTypes: Policy['policyTypes']): Policy => ({ name, namespace: 'x', podSelector: { matchLabels: { app } }, policyTypes, ingress: [], egress: [] });
  const c = new Cluster({ pods, policies: [policy('typeless-web', 'web', []), policy('typeless-none', 'none', []), policy('ghost-only', 'ghost', ['Ingress']), policy('web-in', 'web', ['Ingress'])] });
  const selectsNothing = structuralFindings(c, new Set(['x'])).filter(f => f.rule === 'netpol-selects-nothing').map(f => f.where.policy);
  // A stand-in pod (its name in parentheses) is no pod of the folder.
  expect(selectsNothing).toEqual(['typeless-none', 'ghost-only']);
  expect(describeRules([{ policy: 'a', namespace: 'x', file: 'f.yaml', direction: 'ingress', rule: 1 }, { policy: 'b', namespace: 'x', direction: 'egress', rule: 2 }]))
    .toBe('a (f.yaml, ingress rule 1), b (egress rule 2)');
});

test('a selector: In or NotIn without values, and an operator it does not know', () => {
  const labels = { app: 'web' };
  // The API server rejects these; read anyway, In of nothing selects nothing, NotIn of nothing everything.
  expect(selects({ matchExpressions: [{ key: 'app', operator: 'In' }] }, labels)).toBe(false);
  expect(selects({ matchExpressions: [{ key: 'app', operator: 'NotIn' }] }, labels)).toBe(true);
  // An operator the evaluator does not know selects nothing: a policy it cannot read opens nothing.
  for (const operator of ['Gt', 'in', '']) {
    expect(selects({ matchExpressions: [{ key: 'app', operator, values: ['web'] }] }, labels)).toBe(false);
    expect(selects({ matchExpressions: [{ key: 'other', operator, values: ['web'] }] }, {})).toBe(false);
  }
});

test('a verdict without a protocol is about TCP; paths on one port are listed TCP before UDP, SCTP first', () => {
  const port = (p: number, protocol: string) => ({ port: p, protocol });
  const pods: Pod[] = [
    { namespace: 'x', name: 'a', labels: { app: 'a' }, ports: [] },
    { namespace: 'x', name: 'b', labels: { app: 'b' }, ports: [port(53, 'TCP'), port(53, 'SCTP'), port(53, 'UDP')] },
  ];
  // b admits only UDP 53.
  const policies: Policy[] = [{ name: 'b-udp', namespace: 'x', podSelector: { matchLabels: { app: 'b' } }, policyTypes: ['Ingress'], ingress: [{ ports: [{ port: 53, protocol: 'UDP' }] }], egress: [] }];
  const c = new Cluster({ pods, policies });
  expect(c.verdict(pods[0], pods[1], 53)).toMatchObject({ protocol: 'TCP', allowed: false });
  expect(c.verdict(pods[0], pods[1], 53, 'UDP')).toMatchObject({ protocol: 'UDP', allowed: true });
  expect([c.allowed(pods[0], pods[1], 53), c.allowed(pods[0], pods[1], 53, 'UDP')]).toEqual([false, true]);
  const tcpOnly = new Cluster({ pods, policies: [{ ...policies[0], ingress: [{ ports: [{ port: 53, protocol: 'TCP' }] }] }] });
  expect([tcpOnly.allowed(pods[0], pods[1], 53), tcpOnly.allowed(pods[0], pods[1], 53, 'UDP')]).toEqual([true, false]);
  // Both sides of a pod-to-pod verdict are given: the sender's egress (not isolated) and the receiver's ingress.
  expect(c.verdict(pods[0], pods[1], 53)).toMatchObject({ egress: { endpoint: 'x/a', isolated: false, allowed: true }, ingress: { endpoint: 'x/b', isolated: true, allowed: false, policies: [expect.objectContaining({ policy: 'b-udp' })] } });
  // An address has no side of its own.
  expect(Object.keys(c.verdict({ ip: '203.0.113.7' }, pods[1], 53, 'UDP')).sort()).toEqual(['allowed', 'from', 'ingress', 'port', 'protocol', 'to']);
  const open = new Cluster({ pods, policies: [] });
  expect(open.paths().map(p => `${p.from}>${p.to}:${p.port}/${p.protocol}`)).toEqual(['x/a>x/b:53/SCTP', 'x/a>x/b:53/TCP', 'x/a>x/b:53/UDP']);
});

test('property: paths come sorted by from, to, port and protocol, whole-number ports or not', () => {
  const portArb = fc.oneof(fc.constantFrom(53, 80, 8080, 65535), fc.integer({ min: 1, max: 65535 }), fc.constantFrom(80.5, 8080.5));
  fc.assert(fc.property(
    fc.array(fc.record({ ns: fc.constantFrom('a', 'b', 'a-b'), name: fc.constantFrom('x', 'y', 'x-1', 'X'), ports: fc.array(fc.record({ port: portArb, protocol: fc.constantFrom('TCP', 'UDP', 'SCTP') }), { maxLength: 3 }) }), { maxLength: 6 }),
    specs => {
      const pods: Pod[] = specs.map((s, i) => ({ namespace: s.ns, name: `${s.name}${i}`, labels: { i: String(i) }, ports: s.ports }));
      const got = new Cluster({ pods, policies: [] }).paths();
      const cmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
      const want = [...got].sort((p, q) => cmp(p.from, q.from) || cmp(p.to, q.to) || p.port - q.port || cmp(p.protocol, q.protocol));
      expect(got.map(pathKey)).toEqual(want.map(pathKey));
      // Every pod reaches every other on each of its ports (no policy): nothing lost in the sort.
      expect(new Set(got.map(pathKey)).size).toBe(pods.reduce((n, dst) => n + (pods.length - 1) * new Set(dst.ports.map(x => `${x.port}/${x.protocol}`)).size, 0));
    },
  ), { numRuns: 200 });
});

test('paths from some sources only: a rule that names other pods too does not add them', () => {
  const pod = (name: string, ports: Pod['ports'] = []): Pod => ({ namespace: 'x', name, labels: { app: name }, ports });
  const [a, b, db, c1, c2] = [pod('a'), pod('b'), pod('db', [{ port: 5432, protocol: 'TCP' }]), pod('c1'), pod('c2')];
  const policies: Policy[] = [{ name: 'db-in', namespace: 'x', podSelector: { matchLabels: { app: 'db' } }, policyTypes: ['Ingress'], egress: [],
    ingress: [{ from: [{ podSelector: { matchLabels: { app: 'a' } } }, { podSelector: { matchLabels: { app: 'b' } } }], ports: [{ port: 5432, protocol: 'TCP' }] }] }];
  const c = new Cluster({ pods: [a, b, db, c1, c2], policies });
  expect(c.paths([a]).map(p => `${p.from}>${p.to}:${p.port}`)).toEqual(['x/a>x/db:5432']);
  // More sources than the rule admits (the evaluator then walks the admitted side).
  expect(c.paths([a, c1, c2]).map(p => `${p.from}>${p.to}:${p.port}`)).toEqual(['x/a>x/db:5432']);
  expect(c.paths([b, a]).map(p => `${p.from}>${p.to}:${p.port}`)).toEqual(['x/a>x/db:5432', 'x/b>x/db:5432']);
});
