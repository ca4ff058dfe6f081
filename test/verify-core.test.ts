import { RegistrySpec, ResolvedRegistry, checkRegistry } from '../lib';
import { networkPolicies } from '../lib/emit/network-policies';
import { Cluster, Path, pathKey } from '../lib/netpol/cluster';
import { clusterOf } from '../lib/netpol/load';
import { Pod, Policy } from '../lib/netpol/model';
import {
  TrafficFinding, addressAdmittedBy, addressIn, describeRules, describeTraffic, endpointsOf, pathKeys, structuralFindings, verifyCluster,
} from '../lib/netpol/verify';
import { generatedObjects } from './support/generated';

/**
 * `verify` in-process (the CLI tests in test/traffic.test.ts run build/, which mutation testing
 * never reaches): the exact findings, the declared and allowed paths, the stand-ins chosen, on
 * small registries checked with `checkRegistry`, the manifests the project generates for them,
 * and hand-written objects.
 */

/** A registry as `checkRegistry` resolves it (throws on errors). */
function resolved(spec: unknown): ResolvedRegistry {
  const r = checkRegistry(spec as RegistrySpec);
  if (!r.ok) throw new Error(JSON.stringify(r.findings.filter(f => f.severity === 'error')));
  return r;
}

const generated = generatedObjects;

const clusterOfObjects = (objects: unknown[]) => clusterOf(objects.map(object => ({ file: 'k8s.yaml', object })));
const verifyObjects = (objects: unknown[], registries: ResolvedRegistry[], options: Parameters<typeof verifyCluster>[2] = {}) =>
  verifyCluster(clusterOfObjects(objects), registries, options);

const deployment = (namespace: string, name: string, labels: Record<string, string>, ports: Array<{ containerPort: number; protocol?: string; name?: string }> = []) => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace },
  spec: { selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name, image: 'example', ports }] } } },
});
const netpol = (namespace: string, name: string, spec: Record<string, unknown>) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace }, spec });
const without = (objects: any[], ...names: string[]) => objects.filter(o => !(o.kind === 'NetworkPolicy' && names.includes(o.metadata.name)));

const keys = (paths: readonly Path[]) => paths.map(pathKey);
/** Paths with the interval of ports each stands for: `from -> to 7000-7002/TCP`. */
const spans = (paths: readonly Path[]) => paths.map(p => `${p.from} -> ${p.to} ${p.port}${p.endPort !== undefined ? `-${p.endPort}` : ''}/${p.protocol}`);
const where = (fs: readonly TrafficFinding[]) => fs.map(f => `${f.rule} ${f.where.from} -> ${f.where.to} ${f.where.port}/${f.where.protocol}`);

/** A shop: a public web front (to a namespace and a CIDR), an API, a front public to everyone, a database outside and a broker in another namespace. */
const SHOP = {
  name: 'shop',
  environments: { dev: { range: [20000, 20099] } },
  services: {
    web: {
      public: { namespaces: ['ingress-nginx'], cidrs: ['198.51.100.0/24'] }, ports: { http: { offset: 0 } },
      connectsTo: [{ to: 'api', port: 'http' }, { to: 'db', port: 'main' }, { to: 'mq', port: 'amqp' }],
    },
    api: { status: 'active', ports: { http: { offset: 1 } }, connectsTo: [{ to: 'db', port: 'admin' }] },
    front: { public: true, ports: { http: { offset: 2 } } },
  },
  externals: {
    db: { kind: 'postgres', cidrs: ['10.9.0.0/24'], ports: { main: { port: 5432 }, admin: { port: 5433 } } },
    mq: { namespace: 'messaging', podSelector: { app: 'rabbitmq' }, ports: { amqp: { port: 25672, targetPort: 5672 } } },
  },
};
const shop = resolved(SHOP);
const shopObjects = generated(shop);

describe('verify on generated manifests', () => {
  test('clean, with exactly the declared paths (sides and reasons) and the allowed ones between the pods and the stand-ins', () => {
    const result = verifyObjects(shopObjects, [shop]);
    expect(result.findings).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.declared.map(d => `${pathKey(d)} ${d.side} (${d.reason})`)).toEqual([
      'shop-dev/web -> shop-dev/api 20001/TCP both (shop: web connects to api (http) in dev)',
      'shop-dev/web -> 10.9.0.1 5432/TCP egress (shop: web connects to db (main) in dev)',
      'shop-dev/web -> messaging/(mq) 5672/TCP egress (shop: web connects to mq (amqp) in dev)',
      'shop-dev/api -> 10.9.0.1 5433/TCP egress (shop: api connects to db (admin) in dev)',
      'ingress-nginx/(unlisted-pod) -> shop-dev/web 20000/TCP ingress (shop: web is public to ingress-nginx, 198.51.100.0/24)',
      '198.51.100.1 -> shop-dev/web 20000/TCP ingress (shop: web is public to ingress-nginx, 198.51.100.0/24)',
      '203.0.113.7 -> shop-dev/front 20002/TCP ingress (shop: front is public)',
      '2001:db8::7 -> shop-dev/front 20002/TCP ingress (shop: front is public)',
      '(another-namespace)/(unlisted-pod) -> shop-dev/front 20002/TCP ingress (shop: front is public)',
      ...['api', 'front', 'web', '(unlisted-pod)'].flatMap(p => ['UDP', 'TCP'].map(proto => `shop-dev/${p} -> kube-system/kube-dns 53/${proto} egress (every pod may ask the cluster DNS)`)),
    ]);
    // Both ports of the database are tried on its one stand-in address; every path touches a pod of the folder.
    expect(keys(result.allowed).filter(k => k.startsWith('shop-dev/'))).toEqual([
      'shop-dev/api -> 10.9.0.1 5433/TCP',
      'shop-dev/api -> kube-system/kube-dns 53/TCP',
      'shop-dev/api -> kube-system/kube-dns 53/UDP',
      'shop-dev/front -> kube-system/kube-dns 53/TCP',
      'shop-dev/front -> kube-system/kube-dns 53/UDP',
      'shop-dev/web -> 10.9.0.1 5432/TCP',
      'shop-dev/web -> kube-system/kube-dns 53/TCP',
      'shop-dev/web -> kube-system/kube-dns 53/UDP',
      'shop-dev/web -> messaging/(mq) 5672/TCP',
      'shop-dev/web -> shop-dev/api 20001/TCP',
    ]);
    const folder = new Set(['shop-dev/web', 'shop-dev/api', 'shop-dev/front']);
    for (const p of result.allowed) expect(folder.has(p.from) || folder.has(p.to)).toBe(true);
    expect(keys(result.allowed)).toContain('ingress-nginx/(unlisted-pod) -> shop-dev/web 20000/TCP');
  });

  test('the stand-ins are named for what they stand for and say so', () => {
    const { endpoints } = endpointsOf(clusterOfObjects(shopObjects), [shop]);
    const source = (id: string) => (endpoints.get(id) as Pod | undefined)?.source;
    expect(source('kube-system/kube-dns')).toBe('a stand-in for the cluster DNS');
    expect(source('shop-dev/(unlisted-pod)')).toBe('a stand-in for pods of any labels the folder does not list');
    expect(source('messaging/(mq)')).toBe('a stand-in for pods labelled app=rabbitmq the folder does not list');
    expect(source('shop-dev/web')).toBe('k8s.yaml: Service/web');
    // One address per interval the registry's blocks cut the address space into (the internet stand-ins where they fall).
    expect([...endpoints.keys()].filter(id => !id.includes('/')).sort()).toEqual(['0.0.0.1', '10.9.0.1', '10.9.1.1', '198.51.100.1', '2001:db8::7', '203.0.113.7']);
  });

  test('pods of the folder stand for themselves: the cluster DNS Deployment and the broker an external names', () => {
    const objects = [
      ...shopObjects,
      // A copy of CoreDNS in a sandbox namespace is not the cluster DNS.
      deployment('sandbox', 'coredns-test', { 'k8s-app': 'kube-dns' }, [{ containerPort: 53, protocol: 'UDP', name: 'dns' }]),
      deployment('kube-system', 'metrics-server', { 'k8s-app': 'metrics-server' }, [{ containerPort: 443 }]),
      deployment('kube-system', 'coredns', { 'k8s-app': 'kube-dns' }, [{ containerPort: 53, protocol: 'UDP', name: 'dns' }, { containerPort: 53, protocol: 'TCP', name: 'dns-tcp' }]),
      deployment('messaging', 'exporter', { app: 'exporter' }, [{ containerPort: 9419 }]),
      deployment('messaging', 'rabbitmq', { app: 'rabbitmq' }, [{ containerPort: 5672 }]),
    ];
    const result = verifyObjects(objects, [shop], { registryNamespacesOnly: true });
    expect(result.findings).toEqual([]);
    const declared = keys(result.declared);
    expect(declared).toContain('shop-dev/web -> messaging/rabbitmq 5672/TCP');
    expect(declared).toContain('shop-dev/web -> kube-system/coredns 53/UDP');
    expect(declared.filter(k => k.includes('(mq)') || k.includes('kube-dns') || k.includes('exporter') || k.includes('metrics-server') || k.includes('sandbox'))).toEqual([]);
    expect(keys(result.allowed)).toContain('shop-dev/web -> messaging/rabbitmq 5672/TCP');
    expect(keys(result.allowed).filter(k => k.startsWith('shop-dev/api -> kube-system'))).toEqual(['shop-dev/api -> kube-system/coredns 53/TCP', 'shop-dev/api -> kube-system/coredns 53/UDP']);
    expect([...endpointsOf(clusterOfObjects(objects), [shop]).endpoints.keys()].filter(id => id.startsWith('kube-system/'))).toEqual(['kube-system/metrics-server', 'kube-system/coredns', 'kube-system/(unlisted-pod)']);
  });

  test('two registries naming one namespace\'s pods differently get one stand-in each', () => {
    const billing = resolved({
      name: 'billing', environments: { dev: { range: [21000, 21099] } },
      services: { invoicer: { ports: { http: { offset: 0 } }, connectsTo: [{ to: 'mq', port: 'amqp' }] } },
      externals: { mq: { namespace: 'messaging', podSelector: { app: 'rabbitmq-billing' }, ports: { amqp: { port: 5671 } } } },
    });
    const result = verifyObjects([...shopObjects, ...generated(billing)], [shop, billing]);
    expect(result.findings).toEqual([]);
    expect(keys(result.declared).filter(k => k.includes('messaging/'))).toEqual([
      'shop-dev/web -> messaging/(mq) 5672/TCP',
      'billing-dev/invoicer -> messaging/(mq)-2 5671/TCP',
    ]);
    expect(keys(result.allowed).filter(k => k.includes('messaging/') && !k.startsWith('messaging/'))).toEqual([
      'billing-dev/invoicer -> messaging/(mq)-2 5671/TCP',
      'shop-dev/web -> messaging/(mq) 5672/TCP',
    ]);
  });

  test('services explicitly active or dev-only are declared; a planned one running early, and connections to it, are not', () => {
    const r = resolved({
      name: 'lab', environments: { dev: { range: [22000, 22099] } },
      services: {
        api: { status: 'active', ports: { http: { offset: 0 } } },
        tools: { status: 'dev-only', ports: { http: { offset: 1 } }, connectsTo: [{ to: 'api', port: 'http' }] },
        later: { status: 'planned', ports: { http: { offset: 2 } }, connectsTo: [{ to: 'api', port: 'http' }] },
        // A peer group talks to itself: the path from a pod to itself is never reported.
        node: { ports: { gossip: { offset: 3 } }, connectsTo: [{ to: 'node', port: 'gossip' }, { to: 'later', port: 'http' }] },
      },
    });
    const early = deployment('lab-dev', 'later', { 'app.kubernetes.io/name': 'later' }, [{ containerPort: 22002 }]);
    const result = verifyObjects([...generated(r), early], [r]);
    expect(result.findings).toEqual([]);
    expect(keys(result.declared.filter(d => d.side !== 'egress' || !d.to.startsWith('kube-system/')))).toEqual([
      'lab-dev/tools -> lab-dev/api 22000/TCP',
      'lab-dev/node -> lab-dev/node 22003/TCP',
    ]);
    expect(keys(result.allowed).filter(k => !k.includes('kube-dns'))).toEqual(['lab-dev/tools -> lab-dev/api 22000/TCP']);
  });

  test('a registry whose connection names an external it no longer lists declares nothing for it: the policy for it opens undeclared paths', () => {
    const r = resolved(SHOP);
    const spec = { ...r.spec, externals: { mq: r.spec.externals!.mq } };
    const result = verifyObjects(shopObjects, [{ ...r, spec }]);
    expect(keys(result.declared).filter(k => k.includes('10.9.0.1'))).toEqual([]);
    expect(where(result.findings)).toEqual(['traffic-undeclared shop-dev/api -> 10.9.0.1 5433/TCP', 'traffic-undeclared shop-dev/web -> 10.9.0.1 5432/TCP']);
  });
});

describe('traffic-blocked', () => {
  const blocked = (objects: any[], options = {}) => verifyObjects(objects, [shop], options).findings;

  test('a missing DNS rule: each pod\'s DNS path blocked on its egress, naming the policies that select it', () => {
    const findings = blocked(without(shopObjects, 'allow-dns'));
    expect(findings.length).toBe(8);
    expect(findings[0]).toEqual({
      rule: 'traffic-blocked', severity: 'error',
      message: 'shop-dev/(unlisted-pod) -> kube-system/kube-dns 53/TCP is declared (every pod may ask the cluster DNS) but blocked: egress of shop-dev/(unlisted-pod) is limited by default-deny and no rule admits it',
      where: { from: 'shop-dev/(unlisted-pod)', to: 'kube-system/kube-dns', port: 53, protocol: 'TCP' },
      fix: 'regenerate the manifests (npm run synth) or add the missing rule; check that no hand-written policy selects these pods',
      policies: [{ policy: 'default-deny', namespace: 'shop-dev', file: 'k8s.yaml' }],
    });
    expect(findings.find(f => f.where.from === 'shop-dev/web' && f.where.protocol === 'UDP')!.message).toBe(
      'shop-dev/web -> kube-system/kube-dns 53/UDP is declared (every pod may ask the cluster DNS) but blocked: egress of shop-dev/web is limited by default-deny, allow-web-to-api, allow-web-to-db, allow-web-to-mq and no rule admits it');
  });

  test('both sides blocked: one finding naming each side; findings sorted by path', () => {
    const findings = blocked(without(shopObjects, 'allow-web-to-api', 'allow-api-from-web', 'allow-web-to-mq', 'allow-web-to-db', 'allow-api-to-db'));
    expect(where(findings)).toEqual([
      'traffic-blocked shop-dev/api -> 10.9.0.1 5433/TCP',
      'traffic-blocked shop-dev/web -> 10.9.0.1 5432/TCP',
      'traffic-blocked shop-dev/web -> messaging/(mq) 5672/TCP',
      'traffic-blocked shop-dev/web -> shop-dev/api 20001/TCP',
    ]);
    expect(findings[3].message).toBe('shop-dev/web -> shop-dev/api 20001/TCP is declared (shop: web connects to api (http) in dev) but blocked: ' +
      'egress of shop-dev/web is limited by default-deny, allow-dns and no rule admits it; ingress of shop-dev/api is limited by default-deny and no rule admits it');
    expect(findings[3].policies).toEqual([
      { policy: 'default-deny', namespace: 'shop-dev', file: 'k8s.yaml' }, { policy: 'allow-dns', namespace: 'shop-dev', file: 'k8s.yaml' },
      { policy: 'default-deny', namespace: 'shop-dev', file: 'k8s.yaml' },
    ]);
  });

  test('an ingress blocked: public entries (to everyone, to a namespace and a CIDR) name their reason; ingress only', () => {
    const findings = blocked(without(shopObjects, 'allow-front-from-public', 'allow-web-from-public'));
    expect(findings.map(f => f.message)).toEqual([
      '(another-namespace)/(unlisted-pod) -> shop-dev/front 20002/TCP is declared (shop: front is public) but blocked: ingress of shop-dev/front is limited by default-deny and no rule admits it',
      '198.51.100.1 -> shop-dev/web 20000/TCP is declared (shop: web is public to ingress-nginx, 198.51.100.0/24) but blocked: ingress of shop-dev/web is limited by default-deny and no rule admits it',
      '2001:db8::7 -> shop-dev/front 20002/TCP is declared (shop: front is public) but blocked: ingress of shop-dev/front is limited by default-deny and no rule admits it',
      '203.0.113.7 -> shop-dev/front 20002/TCP is declared (shop: front is public) but blocked: ingress of shop-dev/front is limited by default-deny and no rule admits it',
      'ingress-nginx/(unlisted-pod) -> shop-dev/web 20000/TCP is declared (shop: web is public to ingress-nginx, 198.51.100.0/24) but blocked: ingress of shop-dev/web is limited by default-deny and no rule admits it',
    ]);
  });

  test('a declared path is checked only on the sides its registry declares (the ingress controller\'s egress, the DNS\'s ingress are theirs)', () => {
    const objects = [
      ...shopObjects,
      netpol('ingress-nginx', 'lockdown', { podSelector: {}, policyTypes: ['Egress'] }),
      netpol('kube-system', 'lockdown', { podSelector: {}, policyTypes: ['Ingress'] }),
    ];
    expect(blocked(objects, { registryNamespacesOnly: true })).toEqual([]);
  });

  test('a path declared twice (overlapping CIDRs of a public entry) is reported once', () => {
    const r = resolved({ ...SHOP, services: { ...SHOP.services, web: { ...SHOP.services.web, public: { cidrs: ['198.51.100.0/24', '198.51.100.0/25'] } } } });
    expect(keys(verifyObjects(generated(r), [r]).declared.filter(d => d.to === 'shop-dev/web'))).toEqual([
      // (Each address interval of the two blocks once: the /25 and the rest of the /24.)
      '198.51.100.1 -> shop-dev/web 20000/TCP', '198.51.100.129 -> shop-dev/web 20000/TCP',
    ]);
    const findings = verifyObjects(without(generated(r), 'allow-web-from-public'), [r]).findings;
    expect(findings.map(f => f.message)).toEqual([
      '198.51.100.1 -> shop-dev/web 20000/TCP is declared (shop: web is public to 198.51.100.0/24, 198.51.100.0/25) but blocked: ingress of shop-dev/web is limited by default-deny and no rule admits it',
      '198.51.100.129 -> shop-dev/web 20000/TCP is declared (shop: web is public to 198.51.100.0/24, 198.51.100.0/25) but blocked: ingress of shop-dev/web is limited by default-deny and no rule admits it',
    ]);
  });
});

describe('traffic-undeclared', () => {
  /** A policy a careless hand adds: every pod of shop-dev may reach every other. */
  const debug = netpol('shop-dev', 'debug-allow-all', {
    podSelector: {}, policyTypes: ['Ingress', 'Egress'], ingress: [{ from: [{ podSelector: {} }] }], egress: [{ to: [{ podSelector: {} }] }],
  });

  test('a path opened by a hand-written policy: both sides named with the rules, the policies listed, the fix', () => {
    const result = verifyObjects([...shopObjects, debug], [shop]);
    expect(result.ok).toBe(false);
    const find = (k: string) => result.findings.find(f => `${f.where.from} -> ${f.where.to} ${f.where.port}/${f.where.protocol}` === k);
    // Every port is open: one finding per protocol, its first port the witness.
    expect(find('shop-dev/api -> shop-dev/web 1/TCP')).toEqual({
      rule: 'traffic-undeclared', severity: 'error',
      message: 'shop-dev/api -> shop-dev/web every TCP port (1-65535) is allowed but not declared: egress of shop-dev/api is allowed by debug-allow-all (k8s.yaml, egress rule 1); ' +
        'ingress of shop-dev/web is allowed by debug-allow-all (k8s.yaml, ingress rule 1)',
      where: { from: 'shop-dev/api', to: 'shop-dev/web', port: 1, endPort: 65535, protocol: 'TCP' },
      fix: 'remove or narrow the policy that allows it, or declare the connection (connectsTo) or public entry in the registry',
      policies: [
        { policy: 'debug-allow-all', namespace: 'shop-dev', file: 'k8s.yaml', direction: 'egress', rule: 1 },
        { policy: 'debug-allow-all', namespace: 'shop-dev', file: 'k8s.yaml', direction: 'ingress', rule: 1 },
      ],
    });
    // `public: true` opens front to everyone outside the registry's namespaces, not to its own pods.
    expect(find('shop-dev/web -> shop-dev/front 1/TCP')!.message).toBe('shop-dev/web -> shop-dev/front every TCP port (1-65535) is allowed but not declared: ' +
      'egress of shop-dev/web is allowed by debug-allow-all (k8s.yaml, egress rule 1); ingress of shop-dev/front is allowed by debug-allow-all (k8s.yaml, ingress rule 1)');
    // web -> api is declared on both sides on 20001: the ports below and above it are reported, not it.
    expect(find('shop-dev/web -> shop-dev/api 20001/TCP')).toBeUndefined();
    expect(find('shop-dev/web -> shop-dev/api 1/TCP')!.where).toEqual({ from: 'shop-dev/web', to: 'shop-dev/api', port: 1, endPort: 20000, protocol: 'TCP' });
    expect(find('shop-dev/web -> shop-dev/api 20002/TCP')!.where).toEqual({ from: 'shop-dev/web', to: 'shop-dev/api', port: 20002, endPort: 65535, protocol: 'TCP' });
  });

  test('no policy at all: each side "is not limited by any policy", and no policies listed', () => {
    const objects = shopObjects.filter(o => o.kind !== 'NetworkPolicy');
    const result = verifyObjects(objects, [shop], { registryNamespacesOnly: true });
    expect(result.findings[0]).toEqual({
      rule: 'default-deny-missing', severity: 'error',
      message: 'namespace shop-dev has no default deny for Ingress and Egress: every pod of it not selected by a policy accepts (or sends) any traffic',
      where: { namespace: 'shop-dev' },
      fix: 'add a NetworkPolicy in shop-dev with podSelector: {} and policyTypes: [Ingress, Egress] and no rules',
    });
    const f = result.findings.find(x => x.where.from === 'shop-dev/api' && x.where.to === 'shop-dev/web' && x.where.protocol === 'TCP')!;
    expect(f).toEqual({
      rule: 'traffic-undeclared', severity: 'error',
      message: 'shop-dev/api -> shop-dev/web every TCP port (1-65535) is allowed but not declared: egress of shop-dev/api is not limited by any policy; ingress of shop-dev/web is not limited by any policy',
      where: { from: 'shop-dev/api', to: 'shop-dev/web', port: 1, endPort: 65535, protocol: 'TCP' },
      fix: 'remove or narrow the policy that allows it, or declare the connection (connectsTo) or public entry in the registry',
    });
    // Towards an address, the pod's egress is the only side.
    // (The internet stand-in stands for the addresses past the last block the registry names.)
    expect(result.findings.find(x => x.where.from === 'shop-dev/api' && x.where.to === '203.0.113.7' && x.where.protocol === 'TCP')!.message)
      .toBe('shop-dev/api -> 203.0.113.7 every TCP port (1-65535) is allowed but not declared (203.0.113.7 stands for every address from 198.51.101.0 to 255.255.255.255): egress of shop-dev/api is not limited by any policy');
  });

  test('a pod of another registry\'s namespace sending to a public entry: its egress is still undeclared', () => {
    const ops = resolved({ name: 'ops', environments: { dev: { range: [23000, 23099] } }, services: { runner: { ports: { http: { offset: 0 } } } } });
    const r = resolved({ ...SHOP, services: { ...SHOP.services, web: { ...SHOP.services.web, public: { namespaces: ['ops-dev'] } } } });
    const leak = netpol('ops-dev', 'allow-to-shop', { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'shop-dev' } } }] }] });
    const result = verifyObjects([...generated(r), ...generated(ops), leak], [r, ops]);
    const findings = result.findings;
    expect(result.declared.filter(d => d.to === 'shop-dev/web').map(d => `${pathKey(d)} (${d.reason})`)).toEqual(['ops-dev/(unlisted-pod) -> shop-dev/web 20000/TCP (shop: web is public to ops-dev)']);
    expect(findings.find(f => f.where.from === 'ops-dev/(unlisted-pod)' && f.where.to === 'shop-dev/web')!.message)
      .toBe('ops-dev/(unlisted-pod) -> shop-dev/web 20000/TCP is allowed but not declared: egress of ops-dev/(unlisted-pod) is allowed by allow-to-shop (k8s.yaml, egress rule 1)');
  });

  test('an external in another registry\'s namespace: its ingress is still undeclared', () => {
    const ops = resolved({ name: 'ops', environments: { dev: { range: [23000, 23099] } }, services: { redis: { ports: { main: { offset: 0 } } } } });
    const r = resolved({
      ...SHOP,
      services: { web: { ports: { http: { offset: 0 } }, connectsTo: [{ to: 'cache', port: 'main' }] } },
      externals: { cache: { namespace: 'ops-dev', podSelector: { 'app.kubernetes.io/name': 'redis' }, ports: { main: { port: 23000 } } } },
    });
    const open = netpol('ops-dev', 'allow-from-shop', { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'redis' } }, policyTypes: ['Ingress'], ingress: [{ from: [{ namespaceSelector: {} }] }] });
    const findings = verifyObjects([...generated(r), ...generated(ops), open], [r, ops]).findings;
    expect(findings.find(f => f.where.from === 'shop-dev/web' && f.where.to === 'ops-dev/redis')!.message)
      .toBe('shop-dev/web -> ops-dev/redis 23000/TCP is allowed but not declared: ingress of ops-dev/redis is allowed by allow-from-shop (k8s.yaml, ingress rule 1)');
  });
});

describe('how many undeclared paths are shown', () => {
  /** A namespace of the registry with a default deny and pinholes from a to each of b's `n` ports (nothing declares them). */
  const pinholes = (n: number) => {
    const r = resolved({ name: 'lab', environments: { dev: { range: [22000, 22099] } }, services: {} });
    // (Every other port: each pinhole is an interval of its own.)
    const ports = Array.from({ length: n }, (_, i) => ({ containerPort: 10000 + 2 * i }));
    const objects = [
      deployment('lab-dev', 'a', { app: 'a' }), deployment('lab-dev', 'b', { app: 'b' }, ports),
      netpol('lab-dev', 'default-deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] }),
      netpol('lab-dev', 'a-to-b', { podSelector: { matchLabels: { app: 'a' } }, policyTypes: ['Egress'], egress: [{ to: [{ podSelector: { matchLabels: { app: 'b' } } }], ports: [{ port: 10000, endPort: 19999 }] }] }),
      // (b's ingress admits its own ports only.)
      netpol('lab-dev', 'b-from-a', { podSelector: { matchLabels: { app: 'b' } }, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: { matchLabels: { app: 'a' } } }], ports: ports.map(p => ({ port: p.containerPort })) }] }),
    ];
    return verifyObjects(objects, [r], { registryNamespacesOnly: true }).findings.filter(f => f.rule === 'traffic-undeclared');
  };

  test('500 are each reported', () => {
    const findings = pinholes(500);
    expect(findings).toHaveLength(500);
    expect(findings[499].where).toEqual({ from: 'lab-dev/a', to: 'lab-dev/b', port: 10998, protocol: 'TCP' });
  });

  test('past 500, the rest are counted in one more finding', () => {
    const findings = pinholes(502);
    expect(findings).toHaveLength(501);
    expect(findings[499].where.port).toBe(10998);
    expect(findings[500]).toEqual({
      rule: 'traffic-undeclared', severity: 'error', where: {},
      message: '… and 2 more allowed paths that are not declared (502 in all)',
      fix: 'fix the policies the paths above name, then verify again',
    });
  });
});

describe('structural findings', () => {
  const pod = (namespace: string, name: string, labels: Record<string, string>): Pod => ({ namespace, name, labels, ports: [] });
  const policy = (namespace: string, name: string, podSelector: Policy['podSelector'], policyTypes: Policy['policyTypes'], rules: Partial<Pick<Policy, 'ingress' | 'egress'>> = {}, file?: string): Policy =>
    ({ name, namespace, podSelector, policyTypes, ingress: rules.ingress ?? [], egress: rules.egress ?? [], ...(file ? { file } : {}) });

  test('default deny: only a policy selecting every pod, for the direction, with no rule for it, counts; namespaces in order', () => {
    const pods = [pod('b', 'web', { app: 'web' }), pod('c', 'web', { app: 'web' }), pod('a', 'web', { app: 'web' })];
    const c = new Cluster({ pods, policies: [
      // a: a deny of Ingress only; the "egress denies" select some pods only.
      policy('a', 'deny-in', {}, ['Ingress']),
      policy('a', 'deny-web-out', { matchLabels: { app: 'web' } }, ['Egress']),
      policy('a', 'deny-tier-out', { matchExpressions: [{ key: 'app', operator: 'Exists' }] }, ['Egress']),
      // c: an allow-all named default-deny is none for Ingress; it is one for Egress.
      policy('c', 'default-deny', {}, ['Ingress', 'Egress'], { ingress: [{}] }),
    ] });
    const found = structuralFindings(c, new Set(['b', 'c', 'a'])).filter(f => f.rule === 'default-deny-missing');
    expect(found).toEqual([
      {
        rule: 'default-deny-missing', severity: 'error', where: { namespace: 'a' },
        message: 'namespace a has no default deny for Egress: every pod of it not selected by a policy accepts (or sends) any traffic',
        fix: 'add a NetworkPolicy in a with podSelector: {} and policyTypes: [Egress] and no rules',
      },
      {
        rule: 'default-deny-missing', severity: 'error', where: { namespace: 'b' },
        message: 'namespace b has no default deny for Ingress and Egress: every pod of it not selected by a policy accepts (or sends) any traffic',
        fix: 'add a NetworkPolicy in b with podSelector: {} and policyTypes: [Ingress, Egress] and no rules',
      },
      {
        rule: 'default-deny-missing', severity: 'error', where: { namespace: 'c' },
        message: 'namespace c has no default deny for Ingress: every pod of it not selected by a policy accepts (or sends) any traffic',
        fix: 'add a NetworkPolicy in c with podSelector: {} and policyTypes: [Ingress] and no rules',
      },
    ]);
    // An egress deny with egress rules is no deny either.
    const d = new Cluster({ pods: [pod('d', 'web', {})], policies: [policy('d', 'default-deny', {}, ['Ingress', 'Egress'], { egress: [{}] })] });
    expect(structuralFindings(d, new Set(['d'])).map(f => f.message)).toEqual([
      'namespace d has no default deny for Egress: every pod of it not selected by a policy accepts (or sends) any traffic',
    ]);
  });

  test('policy names over 63 characters, port ranges, policies selecting nothing: warnings naming the policy and its file', () => {
    const name63 = `p${'x'.repeat(62)}`;
    const name64 = `q${'x'.repeat(63)}`;
    const pods = [pod('x', 'web', { app: 'web' }), pod('x', 'db', { app: 'db' }), pod('x', '(unlisted-pod)', { app: 'ghost' }), pod('y', 'other', { app: 'other' })];
    const c = new Cluster({ pods, policies: [
      policy('x', name63, { matchLabels: { app: 'web' } }, ['Ingress']),
      policy('x', name64, { matchLabels: { app: 'web' } }, ['Ingress'], {}, 'k8s/x.yaml'),
      policy('x', 'ranges', { matchLabels: { app: 'web' } }, ['Ingress', 'Egress'], {
        ingress: [{ ports: [{ port: 8000, endPort: 8100 }, { port: 80 }] }], egress: [{ ports: [{ port: 9000, endPort: 9100, protocol: 'UDP' }] }],
      }),
      // Egress only, selecting a pod of the folder: it selects.
      policy('x', 'db-out', { matchLabels: { app: 'db' } }, ['Egress'], { egress: [{}] }),
      // Selecting a stand-in only, or nothing, or only a pod of another namespace: it selects nothing of the folder.
      policy('x', 'ghost-in', { matchLabels: { app: 'ghost' } }, ['Ingress'], {}, 'k8s/x.yaml'),
      policy('x', 'typo', { matchLabels: { app: 'wbe' } }, ['Ingress']),
      policy('x', 'other-in', { matchLabels: { app: 'other' } }, ['Ingress']),
      // Of no known type: it selects what its selector matches.
      policy('x', 'typeless-db', { matchLabels: { app: 'db' } }, []),
      policy('x', 'typeless-ghost', { matchLabels: { app: 'ghost' } }, []),
      policy('x', 'typeless-other', { matchLabels: { app: 'other' } }, []),
      // In a namespace without pods of the folder: not checked.
      policy('z', 'elsewhere', { matchLabels: { app: 'none' } }, ['Ingress']),
    ] });
    expect(structuralFindings(c, new Set(['x', 'y'])).filter(f => f.rule !== 'default-deny-missing')).toEqual([
      {
        rule: 'netpol-name-length', severity: 'warning', where: { namespace: 'x', policy: name64, file: 'k8s/x.yaml' },
        message: `NetworkPolicy ${name64} in x has a name of 64 characters; some CNIs' policy agents (the AWS VPC CNI's, kube-ovn's) silently do not enforce names over 63`,
        fix: 'give it a name of at most 63 characters',
      },
      {
        rule: 'netpol-end-port', severity: 'warning', where: { namespace: 'x', policy: 'ranges' },
        message: 'NetworkPolicy ranges in x uses a port range (8000-8100, 9000-9100); a CNI without endPort support applies it to the first port only',
        fix: 'check that your CNI supports endPort (Calico, Cilium and kube-router do in current versions), or list the ports one by one',
      },
      ...[['ghost-in', 'k8s/x.yaml'], ['typo'], ['other-in'], ['typeless-ghost'], ['typeless-other']].map(([name, file]) => ({
        rule: 'netpol-selects-nothing', severity: 'warning', where: { namespace: 'x', policy: name, ...(file ? { file } : {}) },
        message: `NetworkPolicy ${name} in x selects no pod of any workload or Service in the folder`,
        fix: 'check its podSelector against the pod labels (a typo leaves the pods it was meant for unprotected or cut off)',
      })),
    ]);
  });

  test('verifyCluster: what the synth checks is the registry namespaces\' errors only; ok unless an error', () => {
    const long = netpol('shop-dev', `allow-${'x'.repeat(60)}`, { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'web' } }, policyTypes: ['Ingress'] });
    const objects = [...shopObjects, long, deployment('tools', 'debugger', { app: 'debugger' })];
    const all = verifyObjects(objects, [shop]);
    expect(all.findings.map(f => `${f.rule} ${f.where.namespace}`)).toEqual(['default-deny-missing tools', 'netpol-name-length shop-dev']);
    expect(all.ok).toBe(false);
    const synth = verifyObjects(objects, [shop], { registryNamespacesOnly: true });
    expect(synth.findings).toEqual([]);
    expect(synth.ok).toBe(true);
    const warned = verifyObjects([...shopObjects, long], [shop]);
    expect(warned.findings.map(f => f.rule)).toEqual(['netpol-name-length']);
    expect(warned.ok).toBe(true);
    // Without registries: the structural findings alone.
    expect(verifyObjects(objects, []).findings.map(f => `${f.rule} ${f.where.namespace}`)).toEqual(['default-deny-missing tools', 'netpol-name-length shop-dev']);
  });

  test('describeRules: each rule with its file when known', () => {
    expect(describeRules([
      { policy: 'a', namespace: 'x', file: 'k8s/x.yaml', direction: 'ingress', rule: 1 },
      { policy: 'b', namespace: 'x', direction: 'egress', rule: 2 },
      { policy: 'c', namespace: 'y', direction: 'ingress', rule: 3 },
    ])).toBe('a (k8s/x.yaml, ingress rule 1), b (egress rule 2), c (ingress rule 3)');
    expect(describeRules([])).toBe('');
  });
});

describe('the stand-in addresses', () => {
  test('the first host of a CIDR; none for the whole space or an invalid one', () => {
    expect(addressIn('10.9.0.0/24')).toBe('10.9.0.1');
    expect(addressIn('10.0.16.0/20')).toBe('10.0.16.1');
    // A CIDR written with host bits set still stands for its first host.
    expect(addressIn('10.0.0.77/24')).toBe('10.0.0.1');
    expect(addressIn('10.0.0.5/32')).toBe('10.0.0.5');
    expect(addressIn('2001:db8:1::/48')).toBe('2001:db8:1::1');
    expect(addressIn('0.0.0.0/0')).toBeUndefined();
    expect(addressIn('::/0')).toBeUndefined();
    expect(addressIn('10.0.0.0/33')).toBeUndefined();
  });

  test('an address an ipBlock admits: the first host, else just past or just before an except block', () => {
    expect(addressAdmittedBy({ cidr: '10.0.0.0/24' })).toBe('10.0.0.1');
    expect(addressAdmittedBy({ cidr: '10.0.0.5/32' })).toBe('10.0.0.5');
    expect(addressAdmittedBy({ cidr: '10.0.0.5/32', except: ['10.0.0.5/32'] })).toBeUndefined();
    expect(addressAdmittedBy({ cidr: '0.0.0.0/0' })).toBeUndefined();
    // Just past an except block (carrying into the first byte).
    expect(addressAdmittedBy({ cidr: '0.0.0.0/0', except: ['0.0.0.0/1'] })).toBe('128.0.0.0');
    expect(addressAdmittedBy({ cidr: '10.0.0.0/24', except: ['10.0.0.0/25', '10.0.0.255/32'] })).toBe('10.0.0.128');
    // Just before one (borrowing from the byte before).
    expect(addressAdmittedBy({ cidr: '10.0.0.0/24', except: ['10.0.0.128/25', '10.0.0.0/31'] })).toBe('10.0.0.127');
    expect(addressAdmittedBy({ cidr: '10.0.0.0/22', except: ['10.0.1.0/24', '10.0.2.0/23', '10.0.0.1/32'] })).toBe('10.0.0.255');
    // An except block written with host bits set is the whole block.
    expect(addressAdmittedBy({ cidr: '10.0.0.0/24', except: ['10.0.0.200/25', '10.0.0.1/32'] })).toBe('10.0.0.127');
    // IPv6, and an invalid except block that admits nothing of its own.
    expect(addressAdmittedBy({ cidr: '2001:db8::/64', except: ['2001:db8::/65', 'nonsense'] })).toBe('2001:db8:0:0:8000::');
    expect(addressAdmittedBy({ cidr: 'nonsense', except: ['10.0.0.0/8'] })).toBeUndefined();
    // Only the block's last address is left (just past an except ending in .254).
    expect(addressAdmittedBy({ cidr: '10.0.0.0/24', except: ['10.0.0.0/25', '10.0.0.128/26', '10.0.0.192/27', '10.0.0.224/28', '10.0.0.240/29', '10.0.0.248/30', '10.0.0.252/31', '10.0.0.254/32'] }))
      .toBe('10.0.0.255');
    // The whole space with except blocks that take nothing out of it (another family): its last host.
    expect(addressAdmittedBy({ cidr: '0.0.0.0/0', except: ['fd00::/8'] })).toBe('255.255.255.254');
  });

  test('verify tries one address in each interval the blocks and their except blocks cut the address space into', () => {
    const r = resolved({ name: 'lab', environments: { dev: { range: [22000, 22099] } }, services: {} });
    const objects = [
      deployment('lab-dev', 'a', { app: 'a' }),
      netpol('lab-dev', 'a-out', { podSelector: { matchLabels: { app: 'a' } }, policyTypes: ['Egress'], egress: [
        { to: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.0.0.0/16'] } }], ports: [{ port: 443 }] },
        { to: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }], ports: [{ port: 443 }] },
        { to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['192.168.0.0/16'] } }], ports: [{ port: 443 }] },
      ] }),
    ];
    const result = verifyObjects(objects, [r]);
    // The cuts: 10.0.0.0, 10.1.0.0, 10.2.0.0, 11.0.0.0, 192.168.0.0, 192.169.0.0. Every interval but
    // 192.168.0.0/16 (the third rule's except, in no other rule) is allowed; the internet stand-in
    // is the address of the last interval, IPv6 (in no block) is blocked.
    expect(keys(result.allowed).filter(k => k.startsWith('lab-dev/a -> ')).sort()).toEqual([
      'lab-dev/a -> 0.0.0.1 443/TCP', 'lab-dev/a -> 10.0.0.1 443/TCP', 'lab-dev/a -> 10.1.0.1 443/TCP', 'lab-dev/a -> 10.2.0.1 443/TCP',
      'lab-dev/a -> 11.0.0.1 443/TCP', 'lab-dev/a -> 203.0.113.7 443/TCP',
    ]);
    expect([...endpointsOf(clusterOfObjects(objects), [r]).endpoints.keys()].filter(id => !id.includes('/')).sort())
      .toEqual(['0.0.0.1', '10.0.0.1', '10.1.0.1', '10.2.0.1', '11.0.0.1', '192.168.0.1', '2001:db8::7', '203.0.113.7']);
  });
});

describe('the ports of stand-ins: every port, in intervals', () => {
  const lab = resolved({ name: 'lab', environments: { dev: { range: [22000, 22099] } }, services: {} });
  const allowedFromA = (egress: unknown[]) => {
    const objects = [
      deployment('lab-dev', 'a', { app: 'a' }), deployment('lab-dev', 'b', { app: 'b' }, [{ containerPort: 8080 }]),
      netpol('lab-dev', 'a-out', { podSelector: { matchLabels: { app: 'a' } }, policyTypes: ['Egress'], egress }),
    ];
    return spans(verifyObjects(objects, [lab]).allowed).filter(k => k.startsWith('lab-dev/a -> ')).map(k => k.slice('lab-dev/a -> '.length)).sort();
  };

  test('a rule without ports: every port of every protocol; a rule to labelled pods only their ports', () => {
    expect(allowedFromA([
      { to: [{ podSelector: { matchLabels: { app: 'b' } } }], ports: [{ port: 8080 }] },
      { to: [{ ipBlock: { cidr: '0.0.0.0/0' } }] },
    ])).toEqual([
      '203.0.113.7 1-65535/SCTP', '203.0.113.7 1-65535/TCP', '203.0.113.7 1-65535/UDP',
      'lab-dev/b 8080/TCP',
    ]);
  });

  test('numbered ports and a range (whole), towards a namespace, every pod of the namespace, everyone, a block next to a labelled pod', () => {
    expect(allowedFromA([
      { to: [{ namespaceSelector: {} }], ports: [{ port: 9090 }] },
      { to: [{ podSelector: {} }], ports: [{ port: 6000 }] },
      { to: [], ports: [{ port: 7000, endPort: 7002 }] },
      { to: [{ podSelector: { matchLabels: { app: 'b' } } }, { ipBlock: { cidr: '198.51.100.0/24' } }], ports: [{ port: 5432 }] },
    ])).toEqual([
      '(another-namespace)/(unlisted-pod) 7000-7002/TCP', '(another-namespace)/(unlisted-pod) 9090/TCP',
      '0.0.0.1 7000-7002/TCP',
      '198.51.100.1 5432/TCP', '198.51.100.1 7000-7002/TCP',
      '2001:db8::7 7000-7002/TCP',
      '203.0.113.7 7000-7002/TCP',
      'kube-system/kube-dns 7000-7002/TCP', 'kube-system/kube-dns 9090/TCP',
      'lab-dev/(unlisted-pod) 6000/TCP', 'lab-dev/(unlisted-pod) 7000-7002/TCP', 'lab-dev/(unlisted-pod) 9090/TCP',
      // b is not isolated for ingress: what a's egress admits reaches it, on any port (its own 8080 is not among them).
      'lab-dev/b 5432/TCP', 'lab-dev/b 6000/TCP', 'lab-dev/b 7000-7002/TCP', 'lab-dev/b 9090/TCP',
    ]);
  });

  test('a port without a number is every port of its protocol; a named port opens none towards addresses', () => {
    expect(allowedFromA([{ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ protocol: 'UDP' }, { port: 'https' }] }])).toEqual(['203.0.113.7 1-65535/UDP']);
  });
});

describe('path keys', () => {
  const p = (from: string, to: string, port = 80, protocol = 'TCP'): Path => ({ from, to, port, protocol });

  test('distinct paths get distinct keys, also paths between ends the lists do not name', () => {
    const listed = [p('x/a', 'x/b'), p('x/b', 'x/a'), p('x/a', 'x/b', 443), p('x/b', 'x/b', 53, 'UDP')];
    const keyOf = pathKeys([listed]);
    const asked = [...listed, p('x/a', 'x/new'), p('x/b', 'x/a', 8080), p('x/new', 'x/a'), p('x/new', 'x/other'), p('x/other', 'x/b'), p('x/a', 'x/a'), p('x/b', 'x/new', 443)];
    const seen = new Map<number | string, string>();
    for (const q of asked) {
      const k = keyOf(q);
      expect(seen.get(k) ?? pathKey(q)).toBe(pathKey(q));
      seen.set(k, pathKey(q));
      expect(keyOf({ ...q })).toBe(k);
    }
    expect(seen.size).toBe(asked.length);
  });

  test('past 2^53 (hundreds of thousands of ends and ports), keys stay distinct', () => {
    const protocols = ['TCP', 'UDP', 'SCTP'];
    const m = 131_073;
    const listed: Path[] = [];
    for (let i = 0; i < m; i++) listed.push(p(`a/${i}`, `b/${i}`, i % 65536, protocols[Math.floor(i / 65536)]));
    const keyOf = pathKeys([listed]);
    // The last end to itself on the last ports: the largest keys.
    const top = [m - 4, m - 3, m - 2, m - 1].map(i => p(`b/${m - 1}`, `b/${m - 1}`, i % 65536, protocols[Math.floor(i / 65536)]));
    expect(new Set(top.map(keyOf)).size).toBe(4);
  });
});

describe('describeTraffic', () => {
  const error = (i: number, fix = true): TrafficFinding => ({ rule: 'traffic-blocked', severity: 'error', message: `path ${i} is blocked`, where: {}, ...(fix ? { fix: `open ${i}` } : {}) });
  const warning: TrafficFinding = { rule: 'netpol-name-length', severity: 'warning', message: 'long', where: {}, fix: 'shorten' };

  test('one error, its fix; warnings are left out', () => {
    expect(describeTraffic([warning, error(1), warning])).toBe(
      'the NetworkPolicies to be written do not allow exactly the declared traffic (1 error):\n  traffic-blocked: path 1 is blocked\n    fix: open 1');
  });

  test('errors without a fix, and 20 errors shown whole', () => {
    const twenty = Array.from({ length: 20 }, (_, i) => error(i + 1, i !== 0));
    const text = describeTraffic([...twenty, warning]);
    expect(text.split('\n').slice(0, 4)).toEqual([
      'the NetworkPolicies to be written do not allow exactly the declared traffic (20 errors):',
      '  traffic-blocked: path 1 is blocked', '  traffic-blocked: path 2 is blocked', '    fix: open 2',
    ]);
    expect(text.endsWith('  traffic-blocked: path 20 is blocked\n    fix: open 20')).toBe(true);
  });

  test('past 20 errors: the first 20 and how many more', () => {
    const text = describeTraffic([warning, ...Array.from({ length: 22 }, (_, i) => error(i + 1))]);
    expect(text.startsWith('the NetworkPolicies to be written do not allow exactly the declared traffic (22 errors):\n  traffic-blocked: path 1 is blocked\n')).toBe(true);
    expect(text).not.toContain('path 21 ');
    expect(text.endsWith('  traffic-blocked: path 20 is blocked\n    fix: open 20\n  … and 2 more (run cdk8s-ports verify on the output for all)')).toBe(true);
  });
});

describe('more of what verify declares and tries', () => {
  test('a hand-written rule opening a whole database subnet: every port of its stand-in, the declared ones apart', () => {
    const open = netpol('shop-dev', 'web-to-db-subnet', { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'web' } }, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '10.9.0.0/24' } }] }] });
    const result = verifyObjects([...without(shopObjects, 'allow-web-to-db'), open], [shop]);
    // Every port of every protocol, cut at the two declared ports (web's 5432 and api's 5433).
    const ports = ['1-5431/TCP', '1-65535/SCTP', '1-65535/UDP', '5432/TCP', '5433/TCP', '5434-65535/TCP'];
    expect(spans(result.allowed).filter(k => k.startsWith('shop-dev/web -> 10.9.0.1 ')).sort()).toEqual(ports.map(x => `shop-dev/web -> 10.9.0.1 ${x}`));
    // Only web -> 10.9.0.1 5432 is declared: the ports below it, above it (api's 5433 is not web's), all of UDP and SCTP.
    expect(result.findings.map(f => f.message.split(' is allowed')[0]).sort()).toEqual([
      'shop-dev/web -> 10.9.0.1 1-5431/TCP', 'shop-dev/web -> 10.9.0.1 5433-65535/TCP', 'shop-dev/web -> 10.9.0.1 every SCTP port (1-65535)', 'shop-dev/web -> 10.9.0.1 every UDP port (1-65535)',
    ]);
  });

  test('a service connecting to itself: traffic of a pod to itself is never reported blocked', () => {
    const r = resolved({ name: 'lab', environments: { dev: { range: [22000, 22099] } }, services: { node: { ports: { gossip: { offset: 0 } }, connectsTo: [{ to: 'node', port: 'gossip' }] } } });
    const objects = generated(r).filter(o => o.kind !== 'NetworkPolicy' || ['default-deny', 'allow-dns'].includes(o.metadata.name));
    expect(objects.filter(o => o.kind === 'NetworkPolicy')).toHaveLength(2);
    expect(verifyObjects(objects, [r]).findings).toEqual([]);
  });
});

test('the stock CoreDNS Deployment (DNS on 53, metrics on 9153): DNS is declared on 53/UDP and 53/TCP only, so its other ports are neither blocked nor open', () => {
  const coredns = deployment('kube-system', 'coredns', { 'k8s-app': 'kube-dns' }, [
    { containerPort: 53, protocol: 'UDP', name: 'dns' }, { containerPort: 53, protocol: 'TCP', name: 'dns-tcp' }, { containerPort: 9153, protocol: 'TCP', name: 'metrics' }]);
  const result = verifyObjects([...shopObjects, coredns], [shop], { registryNamespacesOnly: true });
  expect(result.findings).toEqual([]);
  expect(keys(result.declared).filter(k => k.startsWith('shop-dev/web -> kube-system'))).toEqual(['shop-dev/web -> kube-system/coredns 53/UDP', 'shop-dev/web -> kube-system/coredns 53/TCP']);
  // A policy that opens the metrics port to the shop is a path nobody declared.
  const scrape = netpol('shop-dev', 'allow-metrics', { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: {}, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }], ports: [{ port: 9153 }] }] });
  expect(where(verifyObjects([...shopObjects, coredns, scrape], [shop], { registryNamespacesOnly: true }).findings.filter(f => f.where.to === 'kube-system/coredns')))
    .toEqual(expect.arrayContaining(['traffic-undeclared shop-dev/web -> kube-system/coredns 9153/TCP']));
});

test('an external whose pods run in the registry\'s own namespace gets the ingress side, and verify checks both sides', () => {
  const spec = {
    name: 'shop', environments: { dev: { range: [20000, 20099] }, qa: { range: [21000, 21099] } },
    services: { web: { ports: { http: { offset: 0 } }, connectsTo: [{ to: 'cache', port: 'main' }, { to: 'search', port: 'main', environment: 'dev' }] } },
    externals: {
      cache: { environments: ['dev'], namespace: 'shop-dev', podSelector: { app: 'redis' }, ports: { main: { port: 6379 } } },
      search: { environments: ['dev'], namespace: 'shop-dev', podSelector: { app: 'search' }, ports: { main: { port: 9200 } } },
    },
  };
  const r = resolved(spec);
  const policies = networkPolicies(r);
  expect(policies.get('dev')!.filter(p => p.name.startsWith('allow-cache') || p.name.startsWith('allow-search')).map(p => [p.name, p.props.spec])).toEqual([
    ['allow-cache-from-web', { podSelector: { matchLabels: { app: 'redis' } }, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: { matchLabels: expect.any(Object) } }], ports: [expect.objectContaining({ protocol: 'TCP' })] }] }],
    ['allow-search-from-web', expect.anything()],
    ['allow-search-from-web-in-qa', expect.objectContaining({ podSelector: { matchLabels: { app: 'search' } }, ingress: [expect.objectContaining({ from: [expect.objectContaining({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'shop-qa' } } })] })] })],
  ]);
  expect(policies.get('qa')!.filter(p => p.name.includes('-from-'))).toEqual([]);
  const objects = generated(r);
  expect(verifyObjects(objects, [r]).findings.filter(f => f.severity === 'error')).toEqual([]);
  // Without the ingress side the path is blocked, and verify says so.
  const blocked = verifyObjects(without(objects, 'allow-cache-from-web'), [r]).findings;
  const errors = blocked.filter(f => f.severity === 'error');
  expect(where(errors)).toEqual(['traffic-blocked shop-dev/web -> shop-dev/(cache) 6379/TCP']);
  expect(errors[0].message).toMatch(/ingress of shop-dev\/\(cache\) is limited by default-deny and no rule admits it$/);
});

test('an external in the registry\'s own namespace without pod labels is an error that asks for them; it gets no ingress policy (it would admit the client to every pod there), and verify says the path is blocked', () => {
  const spec = {
    name: 'shop', environments: { dev: { range: [20000, 20099] } },
    services: {
      web: { ports: { http: { offset: 0 } }, connectsTo: [{ to: 'cache', port: 'main' }, { to: 'ledger', port: 'main' }, { to: 'queue', port: 'main' }] },
      api: { ports: { http: { offset: 1 } }, connectsTo: [{ to: 'cache', port: 'main' }] },
    },
    externals: {
      cache: { namespace: 'shop-dev', ports: { main: { port: 6379 } } },
      queue: { namespace: 'messaging', ports: { main: { port: 5672 } } },
      ledger: { cidrs: ['10.0.0.0/8'], ports: { main: { port: 5432 } } },
    },
  };
  const r = checkRegistry(spec as unknown as RegistrySpec);
  // Once per external, however many clients; an external in another namespace needs no labels.
  expect(r.findings.filter(f => f.severity === 'error').map(f => [f.rule, f.message, f.where, f.fix])).toEqual([['external-unaddressed',
    'web connects to external cache in namespace shop-dev, the namespace of environment dev, but cache has no podSelector, so no ingress policy can admit the traffic to its pods alone and the default deny there would block it',
    { registry: 'shop', service: 'cache', other: 'web', path: 'externals.cache' }, "add podSelector: { <label>: <value> } (the labels of cache's pods) to cache"]]);
  const dev = networkPolicies(r).get('dev')!;
  expect(dev.map(p => p.name)).toEqual(expect.arrayContaining(['allow-web-to-cache', 'allow-web-to-ledger', 'allow-web-to-queue']));
  expect(dev.filter(p => p.name.startsWith('allow-cache'))).toEqual([]);
  const errors = verifyObjects(generated(r), [r]).findings.filter(f => f.severity === 'error');
  // (Its stand-in is the one for any pod of the namespace: the external names no labels.)
  expect(where(errors)).toEqual(['traffic-blocked shop-dev/api -> shop-dev/(unlisted-pod) 6379/TCP', 'traffic-blocked shop-dev/web -> shop-dev/(unlisted-pod) 6379/TCP']);
  // With the labels of its pods, the check is clean.
  (spec.externals.cache as { podSelector?: object }).podSelector = { app: 'redis' };
  expect(checkRegistry(spec as unknown as RegistrySpec).findings.filter(f => f.severity === 'error')).toEqual([]);
});

test('traffic-unmatched: a deployed registry service with ports in an environment and no pod there is a warning; the synth does not ask', () => {
  const r = resolved({
    name: 'shop',
    environments: { dev: { range: [8000, 8999], namespace: 'shop-dev', kind: 'development' }, prod: { range: [9000, 9999], namespace: 'shop-prod', kind: 'production' } },
    services: {
      web: { ports: { http: { offset: 80 } } },
      api: { selector: { app: 'api' }, ports: { http: { offset: 81 } } },
      // Not deployed: no pods expected anywhere.
      later: { status: 'planned', ports: { http: { offset: 82 } } },
      // Deployed in dev only: no ports (and no pods expected) in prod.
      tools: { status: 'dev-only', ports: { http: { offset: 83 } } },
    },
  });
  const objects = [
    deployment('shop-dev', 'web', { app: 'web' }, [{ containerPort: 8080 }]),
    deployment('shop-dev', 'api', { app: 'api' }, [{ containerPort: 8081 }]),
    deployment('shop-dev', 'tools', { 'app.kubernetes.io/name': 'tools' }, [{ containerPort: 8083 }]),
    deployment('shop-prod', 'api', { app: 'api' }, [{ containerPort: 9081 }]),
  ];
  const unmatched = (options: Parameters<typeof verifyCluster>[2] = {}) =>
    verifyObjects(objects, [r], options).findings.filter(f => f.rule === 'traffic-unmatched').map(f => `${f.severity} ${f.where.namespace}: ${f.message}`);
  expect(unmatched()).toEqual([
    'warning shop-dev: shop: service web has ports in dev, but no workload or Service in namespace shop-dev matches its selector app.kubernetes.io/name=web: its connections and public entries were not compared',
    'warning shop-prod: shop: service web has ports in prod, but no workload or Service in namespace shop-prod matches its selector app.kubernetes.io/name=web: its connections and public entries were not compared',
  ]);
  expect(unmatched({ registryNamespacesOnly: true })).toEqual([]);
});
