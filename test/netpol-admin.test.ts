/**
 * The admin tiers (AdminNetworkPolicy, BaselineAdminNetworkPolicy, ClusterNetworkPolicy) with
 * hand-computed truth tables: each expected row is worked out by hand from the objects of its
 * case, in the decision order admin tier -> NetworkPolicy -> baseline tier -> allowed.
 *
 *   namespace a (team=x): client (app=client)
 *   namespace b: server (app=server; 8080/TCP named http, 9090/TCP named metrics), other (app=other; 7000/TCP named http)
 *   NetworkPolicy in b: server accepts ingress from namespace a on 8080 only (other: no policy)
 */
import { RegistrySpec, ResolvedRegistry, checkRegistry } from '../lib';
import { Cluster } from '../lib/netpol/cluster';
import { clusterOf } from '../lib/netpol/load';
import { Endpoint, Pod } from '../lib/netpol/model';
import { InvalidValue } from '../lib/netpol/load';
import { endpointsOf, verifyCluster } from '../lib/netpol/verify';
import { generatedObjects } from './support/generated';

const NAME = 'kubernetes.io/metadata.name';
const deployment = (ns: string, name: string, ports: Array<[number, string]>) => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: ns },
  spec: { template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image: 'x', ports: ports.map(([containerPort, n]) => ({ containerPort, name: n })) }] } } },
});
const BASE = [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a', labels: { team: 'x' } } },
  deployment('a', 'client', []),
  deployment('b', 'server', [[8080, 'http'], [9090, 'metrics']]),
  deployment('b', 'other', [[7000, 'http']]),
  { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'server-from-a', namespace: 'b' },
    spec: { podSelector: { matchLabels: { app: 'server' } }, policyTypes: ['Ingress'], ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'x' } } }], ports: [{ port: 8080 }] }] } },
];
const V1 = 'policy.networking.k8s.io/v1alpha1';
const V2 = 'policy.networking.k8s.io/v1alpha2';
const inNs = (ns: string) => ({ namespaces: { matchLabels: { [NAME]: ns } } });
const anp = (name: string, priority: number, spec: Record<string, unknown>) => ({ apiVersion: V1, kind: 'AdminNetworkPolicy', metadata: { name }, spec: { priority, ...spec } });
const banp = (spec: Record<string, unknown>, name = 'default') => ({ apiVersion: V1, kind: 'BaselineAdminNetworkPolicy', metadata: { name }, spec });
const cnp = (name: string, tier: string, priority: number, spec: Record<string, unknown>) => ({ apiVersion: V2, kind: 'ClusterNetworkPolicy', metadata: { name }, spec: { tier, priority, ...spec } });

function load(extra: unknown[]): { cluster: Cluster; invalid: InvalidValue[] } {
  const invalid: InvalidValue[] = [];
  const cluster = clusterOf([...BASE, ...extra].map(object => ({ file: 'k8s.yaml', object })), invalid);
  return { cluster, invalid };
}

/** The rows `from -> to port/protocol` of a case, each `allowed` or `blocked`. */
function table(extra: unknown[], rows: string[]): string[] {
  const { cluster } = load(extra);
  const pod = (id: string) => cluster.pods.find(p => `${p.namespace}/${p.name}` === id);
  return rows.map(row => {
    const m = /^(\S+) -> (\S+) (\d+)\/(\w+)$/.exec(row)!;
    const end = (id: string): Endpoint => pod(id) ?? { ip: id };
    return `${row}: ${cluster.allowed(end(m[1]), end(m[2]), Number(m[3]), m[4]) ? 'allowed' : 'blocked'}`;
  });
}

const ROWS = ['a/client -> b/server 8080/TCP', 'a/client -> b/server 9090/TCP', 'a/client -> b/other 7000/TCP', 'b/other -> b/server 8080/TCP'];

describe('the decision order: admin tier, NetworkPolicy, baseline tier', () => {
  test('no admin policy: the NetworkPolicies alone', () => {
    expect(table([], ROWS)).toEqual([
      'a/client -> b/server 8080/TCP: allowed', 'a/client -> b/server 9090/TCP: blocked', 'a/client -> b/other 7000/TCP: allowed', 'b/other -> b/server 8080/TCP: blocked',
    ]);
  });

  test('an admin Deny overrides a NetworkPolicy that allows; an admin Allow opens what the NetworkPolicy blocks', () => {
    expect(table([anp('deny-a', 10, { subject: inNs('b'), ingress: [{ name: 'no-a', action: 'Deny', from: [inNs('a')] }] })], ROWS)).toEqual([
      'a/client -> b/server 8080/TCP: blocked', 'a/client -> b/server 9090/TCP: blocked', 'a/client -> b/other 7000/TCP: blocked', 'b/other -> b/server 8080/TCP: blocked',
    ]);
    expect(table([anp('allow-b', 10, { subject: inNs('b'), ingress: [{ action: 'Allow', from: [inNs('b')] }] })], ROWS)).toEqual([
      'a/client -> b/server 8080/TCP: allowed', 'a/client -> b/server 9090/TCP: blocked', 'a/client -> b/other 7000/TCP: allowed', 'b/other -> b/server 8080/TCP: allowed',
    ]);
  });

  test('Pass skips the rest of the admin tier: the NetworkPolicy decides for a pod it selects, the baseline tier for one it does not', () => {
    const objects = [
      anp('pass-a', 5, { subject: inNs('b'), ingress: [{ action: 'Pass', from: [inNs('a')] }] }),
      anp('deny-all', 10, { subject: inNs('b'), ingress: [{ action: 'Deny', from: [{ namespaces: {} }] }] }),
      banp({ subject: inNs('b'), ingress: [{ action: 'Deny', from: [inNs('a')] }] }),
    ];
    expect(table(objects, ROWS)).toEqual([
      // server: passed to its NetworkPolicy (8080 only); other: no NetworkPolicy, the baseline denies a.
      'a/client -> b/server 8080/TCP: allowed', 'a/client -> b/server 9090/TCP: blocked', 'a/client -> b/other 7000/TCP: blocked',
      // b is not passed: deny-all at 10.
      'b/other -> b/server 8080/TCP: blocked',
    ]);
    const { cluster } = load(objects);
    const [client, server] = ['client', 'server'].map(n => cluster.pods.find(p => p.name === n)!);
    const v = cluster.verdict(client, server, 8080);
    expect(v.ingress!.passedBy).toMatchObject({ tier: 'Admin', kind: 'AdminNetworkPolicy', policy: 'pass-a', rule: 1, action: 'Pass', priority: 5 });
    expect(v.ingress!.allowedBy.map(r => r.policy)).toEqual(['server-from-a']);
  });

  test('the baseline tier decides only where no NetworkPolicy selects the pod; Allow there is final too', () => {
    const objects = [banp({ subject: { namespaces: {} }, ingress: [{ action: 'Allow', from: [inNs('b')] }, { action: 'Deny', from: [{ namespaces: {} }] }] })];
    expect(table(objects, ROWS)).toEqual([
      'a/client -> b/server 8080/TCP: allowed', 'a/client -> b/server 9090/TCP: blocked', 'a/client -> b/other 7000/TCP: blocked', 'b/other -> b/server 8080/TCP: blocked',
    ]);
  });

  test('priorities: the lower number first, whatever the order read; rules of one policy in the order written', () => {
    const allow = anp('allow', 1, { subject: inNs('b'), ingress: [{ action: 'Allow', from: [inNs('a')] }] });
    const deny = anp('deny', 2, { subject: inNs('b'), ingress: [{ action: 'Deny', from: [inNs('a')] }] });
    expect(table([deny, allow], ['a/client -> b/server 9090/TCP'])).toEqual(['a/client -> b/server 9090/TCP: allowed']);
    expect(table([{ ...deny, spec: { ...deny.spec, priority: 0 } }, allow], ['a/client -> b/server 9090/TCP'])).toEqual(['a/client -> b/server 9090/TCP: blocked']);
    const ordered = anp('ordered', 3, { subject: inNs('b'), ingress: [{ action: 'Deny', from: [inNs('a')], ports: [{ portNumber: { port: 8080 } }] }, { action: 'Allow', from: [inNs('a')] }] });
    expect(table([ordered], ROWS.slice(0, 2))).toEqual(['a/client -> b/server 8080/TCP: blocked', 'a/client -> b/server 9090/TCP: allowed']);
    // Two policies of one tier with one priority: a warning (their order is the implementation's).
    const result = verifyCluster(load([allow, { ...deny, spec: { ...deny.spec, priority: 1 } }]).cluster, []);
    expect(result.findings.filter(f => f.rule === 'admin-priority-tie').map(f => f.message)).toEqual([
      'AdminNetworkPolicy/allow, AdminNetworkPolicy/deny share priority 1 in the admin tier: which applies first to a connection both match is undefined (this evaluator takes them by kind, then name)',
    ]);
  });

  test('named ports resolve against the destination pod: http is 8080 on server and 7000 on other; ranges are inclusive', () => {
    const named = anp('no-http', 1, { subject: inNs('b'), ingress: [{ action: 'Deny', from: [{ namespaces: {} }], ports: [{ namedPort: 'http' }] }] });
    expect(table([named], ['a/client -> b/server 8080/TCP', 'a/client -> b/other 7000/TCP', 'a/client -> b/other 7001/TCP'])).toEqual([
      'a/client -> b/server 8080/TCP: blocked', 'a/client -> b/other 7000/TCP: blocked', 'a/client -> b/other 7001/TCP: allowed',
    ]);
    const range = anp('range', 1, { subject: inNs('b'), ingress: [{ action: 'Allow', from: [inNs('a')], ports: [{ portRange: { start: 9000, end: 9090 } }] }] });
    expect(table([range], ['a/client -> b/server 9090/TCP', 'a/client -> b/server 9091/TCP', 'a/client -> b/server 9090/UDP'])).toEqual([
      'a/client -> b/server 9090/TCP: allowed', 'a/client -> b/server 9091/TCP: blocked', 'a/client -> b/server 9090/UDP: blocked',
    ]);
  });

  test('egress networks are CIDRs; 0.0.0.0/0 holds every pod too (pod addresses are in it), a narrower CIDR only addresses outside', () => {
    const net = anp('no-net', 1, { subject: inNs('a'), egress: [{ action: 'Deny', to: [{ networks: ['192.0.2.0/24'] }] }] });
    expect(table([net], ['a/client -> 192.0.2.10 443/TCP', 'a/client -> 198.51.100.1 443/TCP', 'a/client -> b/other 7000/TCP'])).toEqual([
      'a/client -> 192.0.2.10 443/TCP: blocked', 'a/client -> 198.51.100.1 443/TCP: allowed', 'a/client -> b/other 7000/TCP: allowed',
    ]);
    const all = anp('no-v4', 1, { subject: inNs('a'), egress: [{ action: 'Deny', to: [{ networks: ['0.0.0.0/0'] }] }] });
    expect(table([all], ['a/client -> 198.51.100.1 443/TCP', 'a/client -> b/other 7000/TCP', 'a/client -> 2001:db8::1 443/TCP'])).toEqual([
      'a/client -> 198.51.100.1 443/TCP: blocked', 'a/client -> b/other 7000/TCP: blocked', 'a/client -> 2001:db8::1 443/TCP: allowed',
    ]);
  });

  test('ClusterNetworkPolicy (v1alpha2): tiers Admin and Baseline, Accept, protocols with numbers, ranges and named ports', () => {
    const accept = cnp('accept-metrics', 'Admin', 5, { subject: { pods: { namespaceSelector: {}, podSelector: { matchLabels: { app: 'server' } } } },
      ingress: [{ action: 'Accept', from: [{ pods: { namespaceSelector: { matchLabels: { team: 'x' } }, podSelector: {} } }], protocols: [{ tcp: { destinationPort: { number: 9090 } } }] }] });
    const baseline = cnp('baseline', 'Baseline', 1, { subject: { namespaces: {} }, ingress: [
      { action: 'Deny', from: [{ namespaces: {} }], protocols: [{ destinationNamedPort: 'http' }, { udp: { destinationPort: { range: { start: 1, end: 100 } } } }] },
    ] });
    expect(table([accept, baseline], [...ROWS, 'a/client -> b/other 50/UDP', 'a/client -> b/other 7001/TCP'])).toEqual([
      'a/client -> b/server 8080/TCP: allowed', 'a/client -> b/server 9090/TCP: allowed', 'a/client -> b/other 7000/TCP: blocked', 'b/other -> b/server 8080/TCP: blocked',
      'a/client -> b/other 50/UDP: blocked', 'a/client -> b/other 7001/TCP: allowed',
    ]);
  });

  test('explain\'s verdict names the tier, the policy, the rule and its action', () => {
    const { cluster } = load([anp('deny-a', 10, { subject: inNs('b'), ingress: [{ name: 'no-a', action: 'Deny', from: [inNs('a')] }] })]);
    const [client, server] = ['client', 'server'].map(n => cluster.pods.find(p => p.name === n)!);
    const v = cluster.verdict(client, server, 8080);
    expect(v.allowed).toBe(false);
    expect(v.ingress!.decidedBy).toEqual({ tier: 'Admin', kind: 'AdminNetworkPolicy', policy: 'deny-a', file: 'k8s.yaml', priority: 10, direction: 'ingress', rule: 1, ruleName: 'no-a', action: 'Deny', written: 'Deny' });
    // The NetworkPolicy that would allow it is still listed (it selects the pod), but decides nothing.
    expect(v.ingress!.policies.map(p => p.policy)).toEqual(['server-from-a']);
  });
});

describe('admin-tier objects checked as the API server checks them (manifest-invalid; read as written, as a NetworkPolicy\'s values are)', () => {
  const messages = (o: unknown) => load([o]).invalid.map(v => `${v.object}: ${v.message}`);
  test.each(([
    [anp('p', 1001, { subject: { namespaces: {} } }), 'AdminNetworkPolicy/p: priority 1001 is not an integer from 0 to 1000'],
    [anp('p', -1, { subject: { namespaces: {} } }), 'AdminNetworkPolicy/p: priority -1 is not an integer from 0 to 1000'],
    [banp({ subject: { namespaces: {} } }, 'mine'), 'BaselineAdminNetworkPolicy/mine: a BaselineAdminNetworkPolicy must be named default, not "mine" (one per cluster)'],
    [anp('p', 1, { subject: { namespaces: {}, pods: { namespaceSelector: {}, podSelector: {} } } }), 'AdminNetworkPolicy/p: subject: exactly one of namespaces, pods must be set, not 2'],
    [anp('p', 1, { subject: {} }), 'AdminNetworkPolicy/p: subject: exactly one of namespaces, pods must be set, not 0'],
    [anp('p', 1, { subject: { pods: { podSelector: {} } } }), 'AdminNetworkPolicy/p: subject: pods needs namespaceSelector and podSelector (use {} for all)'],
    [anp('p', 1, { subject: { namespaces: {} }, ingress: Array.from({ length: 101 }, () => ({ action: 'Deny', from: [{ namespaces: {} }] })) }), 'AdminNetworkPolicy/p: ingress has 101 rules, more than 100'],
    [anp('p', 1, { subject: { namespaces: {} }, ingress: [{ action: 'allow', from: [{ namespaces: {} }] }] }), 'AdminNetworkPolicy/p: ingress rule 1: action "allow" is not Allow, Deny, Pass'],
    [banp({ subject: { namespaces: {} }, ingress: [{ action: 'Pass', from: [{ namespaces: {} }] }] }), 'BaselineAdminNetworkPolicy/default: ingress rule 1: action "Pass" is not Allow, Deny'],
    [anp('p', 1, { subject: { namespaces: {} }, ingress: [{ action: 'Deny', from: [] }] }), 'AdminNetworkPolicy/p: ingress rule 1: from has 0 peers (1 to 100)'],
    [anp('p', 1, { subject: { namespaces: {} }, ingress: [{ action: 'Deny', from: [{ networks: ['10.0.0.0/8'] }] }] }), 'AdminNetworkPolicy/p: ingress rule 1, from 1: networks is not a field here (namespaces, pods)'],
    [anp('p', 1, { subject: { namespaces: {} }, egress: [{ action: 'Deny', to: [{ networks: ['10.0.0.0/33'] }] }] }), 'AdminNetworkPolicy/p: egress rule 1, to 1: networks "10.0.0.0/33" is not a CIDR'],
    [anp('p', 1, { subject: { namespaces: {} }, egress: [{ action: 'Deny', to: [{ networks: ['10.0.0.0/8'] }], ports: [{ namedPort: 'http' }] }] }), 'AdminNetworkPolicy/p: egress rule 1: a named port with a networks, nodes or domainNames peer (they have no named ports)'],
    [anp('p', 1, { subject: { namespaces: {} }, ingress: [{ action: 'Deny', from: [{ namespaces: {} }], ports: [{ portRange: { start: 90, end: 80 } }] }] }), 'AdminNetworkPolicy/p: ingress rule 1, ports 1: range {"start":90,"end":80} needs start and end, integers from 1 to 65535, start below end'],
    [anp('p', 1, { subject: { namespaces: {} }, ingress: [{ action: 'Deny', from: [{ namespaces: {} }], ports: [{ portNumber: { port: 80, protocol: 'tcp' } }] }] }), 'AdminNetworkPolicy/p: ingress rule 1, ports 1: protocol "tcp" is not TCP, UDP or SCTP'],
    [cnp('c', 'admin', 1, { subject: { namespaces: {} } }), 'ClusterNetworkPolicy/c: tier "admin" is not Admin or Baseline'],
    [cnp('c', 'Admin', 1, { subject: { namespaces: {} }, ingress: [{ action: 'Allow', from: [{ namespaces: {} }] }] }), 'ClusterNetworkPolicy/c: ingress rule 1: action "Allow" is not Accept, Deny, Pass'],
    [cnp('c', 'Admin', 1, { subject: { namespaces: {} }, ingress: Array.from({ length: 26 }, () => ({ action: 'Deny', from: [{ namespaces: {} }] })) }), 'ClusterNetworkPolicy/c: ingress has 26 rules, more than 25'],
    [cnp('c', 'Admin', 1, { subject: { namespaces: {} }, ingress: [{ action: 'Deny', from: [{ namespaces: {} }], protocols: [{ tcp: {} }] }] }), 'ClusterNetworkPolicy/c: ingress rule 1, protocols 1: tcp is empty (it needs destinationPort)'],
    [anp('p', 1, { subject: { namespaces: { matchExpressions: [{ key: 'team', operator: 'In' }] } } }), 'AdminNetworkPolicy/p: subject, namespaces: In on "team" with no values'],
  ] as Array<[unknown, string]>).map(([o, m]) => [m, o] as [string, unknown]))('%s', (message, o) => {
    expect(messages(o)).toEqual([message]);
  });

  test('what an invalid object says is read as written: a selector left out selects all, a rule of an unknown action or a port that is none matches nothing', () => {
    const noPodSelector = anp('p', 1, { subject: { pods: { namespaceSelector: { matchLabels: { [NAME]: 'b' } } } }, ingress: [{ action: 'Deny', from: [{ namespaces: {} }] }] });
    expect(table([noPodSelector], ['a/client -> b/server 8080/TCP', 'a/client -> b/other 7000/TCP'])).toEqual(['a/client -> b/server 8080/TCP: blocked', 'a/client -> b/other 7000/TCP: blocked']);
    const unknownAction = anp('p', 1, { subject: inNs('b'), ingress: [{ action: 'deny', from: [{ namespaces: {} }] }] });
    expect(table([unknownAction], ['a/client -> b/other 7000/TCP'])).toEqual(['a/client -> b/other 7000/TCP: allowed']);
    const badPort = anp('p', 1, { subject: inNs('b'), ingress: [{ action: 'Deny', from: [{ namespaces: {} }], ports: [{ portNumber: { port: 70000 } }] }] });
    expect(table([badPort], ['a/client -> b/other 7000/TCP'])).toEqual(['a/client -> b/other 7000/TCP: allowed']);
  });

  test('valid objects of every kind are read, and others of the group or another version are not', () => {
    const ok = [anp('p', 0, { subject: { namespaces: {} } }), anp('q', 1000, { subject: { namespaces: {} } }), banp({ subject: { namespaces: {} } }), cnp('c', 'Baseline', 3, { subject: { namespaces: {} } })];
    const { cluster, invalid } = load([...ok, { ...anp('v2', 1, { subject: { namespaces: {} } }), apiVersion: V2 }]);
    expect(invalid).toEqual([]);
    expect(cluster.admin.map(p => `${p.kind}/${p.name} ${p.tier} ${p.priority}`)).toEqual(['AdminNetworkPolicy/p Admin 0', 'AdminNetworkPolicy/q Admin 1000', 'BaselineAdminNetworkPolicy/default Baseline undefined', 'ClusterNetworkPolicy/c Baseline 3']);
  });
});

describe('verify with admin tiers', () => {
  const spec: RegistrySpec = { name: 'shop', environments: { dev: { range: [20000, 20099] } }, services: { web: { ports: { http: { offset: 0 } }, connectsTo: [{ to: 'api', port: 'http' }] }, api: { ports: { http: { offset: 1 } } } } } as never;
  const r = checkRegistry(spec) as ResolvedRegistry;
  const verify = (extra: unknown[]) => verifyCluster(clusterOf([...generatedObjects(r), ...extra].map(object => ({ file: 'k8s.yaml', object }))), [r]);

  test('the generated policies verify; an admin Deny of a declared connection is traffic-blocked naming the policy and rule', () => {
    expect(verify([]).findings).toEqual([]);
    const result = verify([anp('no-api', 10, { subject: { pods: { namespaceSelector: {}, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'api' } } } }, ingress: [{ name: 'nobody', action: 'Deny', from: [{ namespaces: {} }] }] })]);
    expect(result.findings.map(f => `${f.rule}: ${f.message}`)).toEqual([
      'traffic-blocked: shop-dev/web -> shop-dev/api 20001/TCP is declared (shop: web connects to api (http) in dev) but blocked: ingress of shop-dev/api is denied by the admin tier, AdminNetworkPolicy/no-api (priority 10, k8s.yaml), ingress rule 1 "nobody": Deny',
    ]);
    expect(result.findings[0].policies).toEqual([{ policy: 'AdminNetworkPolicy/no-api', namespace: '', file: 'k8s.yaml', direction: 'ingress', rule: 1 }]);
  });

  test('an admin Allow that opens an undeclared path is traffic-undeclared naming it (paths between two stand-ins left out, as always)', () => {
    const result = verify([anp('metrics', 1, { subject: { namespaces: { matchLabels: { [NAME]: 'shop-dev' } } }, ingress: [{ name: 'scrape', action: 'Allow', from: [inNs('monitoring')], ports: [{ portNumber: { port: 9100 } }] }] })]);
    expect(result.findings.map(f => `${f.rule}: ${f.message}`)).toEqual([
      'traffic-undeclared: monitoring/(unlisted-pod) -> shop-dev/api 9100/TCP is allowed but not declared: ingress of shop-dev/api is allowed by the admin tier, AdminNetworkPolicy/metrics (priority 1, k8s.yaml), ingress rule 1 "scrape": Allow',
      'traffic-undeclared: monitoring/(unlisted-pod) -> shop-dev/web 9100/TCP is allowed but not declared: ingress of shop-dev/web is allowed by the admin tier, AdminNetworkPolicy/metrics (priority 1, k8s.yaml), ingress rule 1 "scrape": Allow',
    ]);
  });

  test('nodes peers: a stand-in node per selector, said to be one', () => {
    const { endpoints } = endpointsOf(load([anp('nodes', 1, { subject: inNs('a'), egress: [{ action: 'Deny', to: [{ nodes: { matchLabels: { role: 'control-plane' } } }] }] })]).cluster, []);
    const nodes = [...endpoints.values()].filter(e => !(e as Pod).namespace && (e as { nodeLabels?: unknown }).nodeLabels);
    expect(nodes.map(e => (e as { ip: string }).ip)).toEqual(['(node)', '(node with role=control-plane)']);
    const { cluster } = endpointsOf(load([anp('nodes', 1, { subject: inNs('a'), egress: [{ action: 'Deny', to: [{ nodes: { matchLabels: { role: 'control-plane' } } }] }] })]).cluster, []);
    const client = cluster.pods.find(p => p.name === 'client')!;
    expect(nodes.map(n => cluster.allowed(client, n, 443))).toEqual([true, false]);
  });
});
