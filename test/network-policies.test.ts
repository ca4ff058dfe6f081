import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';
import { PortsApp, PortRegistry, ResolvedRegistry } from '../lib';
import { defineLumiere } from '../main';
import { schemaErrors } from './support/k8s-schema';
import { checkRegistry } from '../lib';
import { networkPolicies } from '../lib/emit/network-policies';
import { variant } from './support/specs';
import { Cluster, Endpoint, Pod, Policy, cidrContains, selects } from './support/netpol-eval';

interface World {
  readonly resolved: ResolvedRegistry;
  readonly objects: any[];
  readonly cluster: Cluster;
  readonly pods: Map<string, Pod>; // "<env>/<service>" -> pod
}

/** Synthesizes a registry in-process and builds the cluster its manifests describe. */
function world(define: (app: PortsApp) => PortRegistry): World {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-np-'));
  const app = new PortsApp({ manifestsDir: path.join(dir, 'm'), outdir: path.join(dir, 's'), lockFile: path.join(dir, 'l.json') });
  const registry = define(app);
  const result = app.trySynth();
  if (!result.ok) throw new Error(JSON.stringify(result.findings, null, 2));
  const objects = [...result.files].filter(([f]) => f.endsWith('.yaml')).flatMap(([, text]) => parseAllDocuments(text).map(d => d.toJS()));
  const namespaces = Object.fromEntries(objects.filter(o => o.kind === 'Namespace').map(o => [o.metadata.name, o.metadata.labels ?? {}]));
  const cluster = new Cluster(namespaces, objects.filter(o => o.kind === 'NetworkPolicy') as Policy[]);
  const resolved = result.registries.get(registry.node.id)!;
  const pods = new Map<string, Pod>();
  for (const svc of objects.filter(o => o.kind === 'Service')) {
    const env = resolved.environments.find(e => e.namespace === svc.metadata.namespace)!;
    pods.set(`${env.name}/${svc.metadata.name}`, { namespace: svc.metadata.namespace, name: svc.metadata.name, labels: svc.spec.selector });
  }
  return { resolved, objects, cluster, pods };
}

/** Every (source, destination, port, protocol) among the registry's own pods that the policies allow. */
function allowedSet(w: World): string[] {
  const probes = new Set<string>();
  for (const a of w.resolved.allocations) probes.add(`${a.targetPort}/${a.protocol}`);
  for (const extra of ['80/TCP', '443/TCP', '53/UDP', '5432/TCP', '8080/TCP']) probes.add(extra);
  const out: string[] = [];
  for (const [src, a] of w.pods) {
    for (const [dst, b] of w.pods) {
      if (src === dst) continue;
      for (const probe of probes) {
        const [port, protocol] = probe.split('/');
        if (w.cluster.allowed(a, b, Number(port), protocol)) out.push(`${src} -> ${dst} ${probe}`);
      }
    }
  }
  return out.sort();
}

function declaredSet(w: World): string[] {
  const out = new Set<string>();
  for (const c of w.resolved.connections) {
    if (c.targetKind !== 'service') continue;
    const a = w.resolved.allocations.find(x => x.environment === c.targetEnvironment && x.service === c.to && x.portName === c.portName)!;
    out.add(`${c.environment}/${c.from} -> ${c.targetEnvironment}/${c.to} ${a.targetPort}/${a.protocol}`);
  }
  return [...out].sort();
}

describe('the example registry', () => {
  const w = world(app => defineLumiere(app));
  const policies = w.objects.filter(o => o.kind === 'NetworkPolicy');
  const stranger: Pod = { namespace: 'default', name: 'stranger', labels: { 'app.kubernetes.io/name': 'pourtier' } };
  const ingress: Pod = { namespace: 'ingress-nginx', name: 'controller', labels: { app: 'ingress-nginx' } };
  const dns: Pod = { namespace: 'kube-system', name: 'coredns', labels: { 'k8s-app': 'kube-dns' } };

  test('declares the connections a Lumiere deployment has', () => {
    expect([...new Set(w.resolved.connections.map(c => `${c.from}->${c.to}`))].sort()).toEqual(
      ['courier->passeur', 'pourtier->courier', 'pourtier->postgres', 'pourtier->postgres-test', 'pourtier->redis']);
  });

  test('every environment namespace has a default deny for ingress and egress', () => {
    for (const env of w.resolved.environments) {
      const deny = policies.filter(p => p.metadata.namespace === env.namespace && Object.keys(p.spec.podSelector).length === 0 &&
        !p.spec.ingress && !p.spec.egress);
      expect(deny.map(p => p.spec.policyTypes.sort())).toEqual([['Egress', 'Ingress']]);
    }
  });

  test('the allowed traffic among services is exactly the declared connections, on exactly the declared ports', () => {
    const allowed = allowedSet(w);
    expect(allowed).toEqual(declaredSet(w));
    expect(allowed).toContain('production/pourtier -> production/courier 8765/TCP');
    expect(allowed).not.toContain('production/courier -> production/pourtier 8000/TCP');
    expect(allowed).not.toContain('production/pourtier -> production/passeur 8766/TCP');
  });

  test('nothing in one environment reaches another', () => {
    for (const line of allowedSet(w)) {
      const [, src, dst] = /^(\w+)\/\S+ -> (\w+)\//.exec(line)!;
      expect(src).toBe(dst);
    }
    for (const [, a] of w.pods) {
      for (const [, b] of w.pods) {
        if (a.namespace === b.namespace) continue;
        for (const port of [7000, 7765, 7766, 8000, 8765, 8766, 9000, 9765, 9766]) expect(w.cluster.allowed(a, b, port)).toBe(false);
      }
    }
  });

  test('public ingress comes only from the ingress controller namespace, on the public port', () => {
    expect(w.cluster.allowed(ingress, w.pods.get('production/pourtier')!, 8000)).toBe(true);
    expect(w.cluster.allowed(ingress, w.pods.get('production/pourtier')!, 8765)).toBe(false);
    expect(w.cluster.allowed(ingress, w.pods.get('production/courier')!, 8765)).toBe(false);
    for (const [, pod] of w.pods) {
      for (const port of [80, 8000, 8765, 8766, 9000, 7000]) expect(w.cluster.allowed(stranger, pod, port)).toBe(false);
    }
  });

  test('every pod may resolve names through the cluster DNS, and nothing else there', () => {
    for (const [, pod] of w.pods) {
      expect(w.cluster.allowed(pod, dns, 53, 'UDP')).toBe(true);
      expect(w.cluster.allowed(pod, dns, 53, 'TCP')).toBe(true);
      expect(w.cluster.allowed(pod, dns, 80, 'TCP')).toBe(false);
      expect(w.cluster.allowed(pod, { ip: '8.8.8.8' }, 53, 'UDP')).toBe(false);
    }
  });

  test('egress to infrastructure follows the declared connections and environments', () => {
    const infra: Endpoint = { ip: '10.20.0.10' };
    expect(w.cluster.allowed(w.pods.get('production/pourtier')!, infra, 5432)).toBe(true);
    expect(w.cluster.allowed(w.pods.get('production/pourtier')!, infra, 5433)).toBe(false);
    expect(w.cluster.allowed(w.pods.get('test/pourtier')!, infra, 5433)).toBe(true);
    expect(w.cluster.allowed(w.pods.get('test/pourtier')!, infra, 5432)).toBe(false);
    expect(w.cluster.allowed(w.pods.get('development/pourtier')!, infra, 6379)).toBe(true);
    expect(w.cluster.allowed(w.pods.get('production/courier')!, infra, 5432)).toBe(false);
    expect(w.cluster.allowed(w.pods.get('production/pourtier')!, infra, 8086)).toBe(false);
    expect(w.cluster.allowed(w.pods.get('production/pourtier')!, { ip: '10.20.0.11' }, 5432)).toBe(false);
  });

  test('policies have readable names, no port 0, ports that match Service target ports, and pass the 1.27 schema', () => {
    const targetPorts = new Set(w.resolved.allocations.map(a => a.targetPort));
    const externalPorts = new Set(w.resolved.allocations.filter(a => a.of === 'external').map(a => a.port));
    for (const p of policies) {
      expect(p.metadata.name).toMatch(/^(default-deny|allow-dns|allow-[a-z-]+-(from|to)-[a-z-]+)$/);
      expect(schemaErrors(p)).toEqual([]);
      for (const rule of [...(p.spec.ingress ?? []), ...(p.spec.egress ?? [])]) {
        for (const port of rule.ports ?? []) {
          expect(port.port).toBeGreaterThan(0);
          if (p.metadata.name !== 'allow-dns') expect(targetPorts.has(port.port) || externalPorts.has(port.port)).toBe(true);
        }
      }
    }
    expect(policies.map(p => p.metadata.name).filter(n => n.startsWith('allow-pourtier-from'))).toEqual(
      ['allow-pourtier-from-public', 'allow-pourtier-from-public', 'allow-pourtier-from-public']);
  });
});

describe('other shapes of registry', () => {
  const base = (app: PortsApp) => new PortRegistry(app, 'shop', {
    environments: { production: { range: [20000, 20099] }, staging: { range: [21000, 21099] } },
  });

  test('a cross-environment connection opens exactly that path, and is a warning', () => {
    const w = world(app => {
      const r = base(app);
      const web = r.service('web', { public: true, ports: { http: { offset: 1 } } });
      const reports = r.service('reports', { environments: ['staging'], ports: { http: { offset: 2 } } });
      web.connectsTo(reports, 'http', { environment: 'staging' });
      return r;
    });
    expect(w.resolved.findings.map(f => f.rule)).toEqual(['cross-environment']);
    expect(allowedSet(w)).toEqual(declaredSet(w));
    expect(allowedSet(w)).toEqual(['production/web -> staging/reports 21002/TCP', 'staging/web -> staging/reports 21002/TCP']);
  });

  test("public: true admits sources outside the registry's namespaces, but not another environment", () => {
    const w = world(app => {
      const r = base(app);
      r.service('web', { public: true, ports: { http: { offset: 1 } } });
      return r;
    });
    const prodWeb = w.pods.get('production/web')!;
    expect(w.cluster.allowed({ namespace: 'ingress', name: 'x', labels: {} }, prodWeb, 20001)).toBe(true);
    expect(w.cluster.allowed({ ip: '203.0.113.7' }, prodWeb, 20001)).toBe(true);
    expect(w.cluster.allowed(w.pods.get('staging/web')!, prodWeb, 20001)).toBe(false);
    expect(w.cluster.allowed({ namespace: 'ingress', name: 'x', labels: {} }, prodWeb, 20002)).toBe(false);
  });

  test('a service with several ports connected on one of them gets only that port', () => {
    const w = world(app => {
      const r = base(app);
      const api = r.service('api', { public: true, ports: { http: { offset: 1 } } });
      const db = r.service('store', { ports: { sql: { offset: 2 }, admin: { offset: 3 } } });
      api.connectsTo(db, 'sql');
      api.connectsTo(db, 'sql');
      return r;
    });
    expect(allowedSet(w)).toEqual(['production/api -> production/store 20002/TCP', 'staging/api -> staging/store 21002/TCP']);
    const ingress = w.objects.find(o => o.kind === 'NetworkPolicy' && o.metadata.name === 'allow-store-from-api');
    expect(ingress.spec.ingress[0].ports).toEqual([{ port: 20002, protocol: 'TCP' }]);
  });

  test('every environment gets a default deny and a DNS policy that opens egress to kube-dns on port 53 only', () => {
    const w = world(app => {
      const r = base(app);
      r.service('web', { public: true, ports: { http: { offset: 1 } } });
      return r;
    });
    for (const ns of ['shop-production', 'shop-staging']) {
      const spec = (name: string) => w.objects.find(o => o.kind === 'NetworkPolicy' && o.metadata.namespace === ns && o.metadata.name === name)?.spec;
      expect(spec('default-deny')).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
      expect(spec('allow-dns')).toEqual({
        podSelector: {}, policyTypes: ['Egress'],
        egress: [{
          to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
          ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }],
        }],
      });
    }
  });

  test('two ports of one number, TCP and UDP, connected by one client: its policies open both protocols, each once', () => {
    const w = world(app => {
      const r = base(app);
      const api = r.service('api', { public: true, ports: { http: { offset: 1 } } });
      const dns = r.service('resolver', { ports: { dns: { offset: 5, protocol: 'UDP' }, 'dns-tcp': { offset: 5 } } });
      api.connectsTo(dns, 'dns');
      api.connectsTo(dns, 'dns-tcp');
      // Said twice: still one port in each policy.
      api.connectsTo(dns, 'dns');
      return r;
    });
    const policy = (name: string) => w.objects.find(o => o.kind === 'NetworkPolicy' && o.metadata.namespace === 'shop-production' && o.metadata.name === name);
    expect(policy('allow-resolver-from-api').spec.ingress[0].ports).toEqual([{ port: 20005, protocol: 'UDP' }, { port: 20005, protocol: 'TCP' }]);
    expect(policy('allow-api-to-resolver').spec.egress[0].ports).toEqual([{ port: 20005, protocol: 'UDP' }, { port: 20005, protocol: 'TCP' }]);
    expect(allowedSet(w).filter(p => p.startsWith('production/'))).toEqual(['production/api -> production/resolver 20005/TCP', 'production/api -> production/resolver 20005/UDP']);
  });

  test('egress to an external in the cluster selects its namespace by name and its pods by their labels; public to CIDRs admits only them', () => {
    const w = world(app => {
      const r = base(app);
      const api = r.service('api', { public: { cidrs: ['198.51.100.0/24'] }, ports: { http: { offset: 1 } } });
      api.connectsTo(r.external('mq', { kind: 'rabbitmq', namespace: 'messaging', podSelector: { app: 'rabbitmq' }, port: 25672, targetPort: 5672 }));
      return r;
    });
    const policy = (name: string) => w.objects.find(o => o.kind === 'NetworkPolicy' && o.metadata.namespace === 'shop-production' && o.metadata.name === name);
    expect(policy('allow-api-to-mq').spec).toEqual({ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'api' } }, policyTypes: ['Egress'], egress: [{
      to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'messaging' } }, podSelector: { matchLabels: { app: 'rabbitmq' } } }],
      ports: [{ port: 5672, protocol: 'TCP' }],
    }] });
    const publicFrom = w.objects.filter(o => o.kind === 'NetworkPolicy' && o.metadata.namespace === 'shop-production' && o.spec.ingress)
      .flatMap(o => o.spec.ingress.flatMap((rule: any) => rule.from));
    expect(publicFrom).toEqual([{ ipBlock: { cidr: '198.51.100.0/24' } }]);
    const api = w.pods.get('production/api')!;
    expect(w.cluster.allowed({ ip: '198.51.100.9' }, api, 20001)).toBe(true);
    expect(w.cluster.allowed({ ip: '203.0.113.7' }, api, 20001)).toBe(false);
    expect(w.cluster.allowed({ namespace: 'ingress', name: 'x', labels: {} }, api, 20001)).toBe(false);
  });

  test('every policy of a registry with a cross-environment connection, target ports, an external by address and a planned target, exactly', () => {
    const w = world(app => {
      const r = base(app);
      const web = r.service('web', { public: true, ports: { http: { offset: 1, targetPort: 8080 } } });
      const reports = r.service('reports', { environments: ['staging'], ports: { http: { offset: 2, targetPort: 9090 } } });
      web.connectsTo(reports, 'http', { environment: 'staging' });
      // A planned target is not deployed: no policy opens anything to it.
      web.connectsTo(r.service('later', { status: 'planned', ports: { http: { offset: 3 } } }));
      // An address outside the cluster is reached on the port it listens on, not a container port.
      web.connectsTo(r.external('pg', { kind: 'postgres', cidrs: ['10.0.0.5/32'], port: 15432, targetPort: 5432 }));
      return r;
    });
    const name = (n: string) => ({ matchLabels: { 'app.kubernetes.io/name': n } });
    const ns = (n: string) => ({ matchLabels: { 'kubernetes.io/metadata.name': n } });
    const publicFrom = [{ namespaceSelector: { matchExpressions: [{ key: 'app.kubernetes.io/part-of', operator: 'NotIn', values: ['shop'] }] } },
      { ipBlock: { cidr: '0.0.0.0/0' } }, { ipBlock: { cidr: '::/0' } }];
    const toPg = { podSelector: name('web'), policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '10.0.0.5/32' } }], ports: [{ port: 15432, protocol: 'TCP' }] }] };
    const webPublic = { podSelector: name('web'), policyTypes: ['Ingress'], ingress: [{ from: publicFrom, ports: [{ port: 8080, protocol: 'TCP' }] }] };
    const reportsPort = [{ port: 9090, protocol: 'TCP' }];
    expect(w.objects.filter(o => o.kind === 'NetworkPolicy' && !['default-deny', 'allow-dns'].includes(o.metadata.name))
      .map(o => [o.metadata.namespace, o.metadata.name, o.spec])).toEqual([
      ['shop-production', 'allow-web-from-public', webPublic],
      ['shop-production', 'allow-web-to-pg', toPg],
      ['shop-production', 'allow-web-to-reports-in-staging', { podSelector: name('web'), policyTypes: ['Egress'],
        egress: [{ to: [{ namespaceSelector: ns('shop-staging'), podSelector: name('reports') }], ports: reportsPort }] }],
      ['shop-staging', 'allow-reports-from-web', { podSelector: name('reports'), policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: name('web') }], ports: reportsPort }] }],
      ['shop-staging', 'allow-reports-from-web-in-production', { podSelector: name('reports'), policyTypes: ['Ingress'],
        ingress: [{ from: [{ namespaceSelector: ns('shop-production'), podSelector: name('web') }], ports: reportsPort }] }],
      ['shop-staging', 'allow-web-from-public', webPublic],
      ['shop-staging', 'allow-web-to-pg', toPg],
      ['shop-staging', 'allow-web-to-reports', { podSelector: name('web'), policyTypes: ['Egress'], egress: [{ to: [{ podSelector: name('reports') }], ports: reportsPort }] }],
    ]);
  });

  test('an external with no address gets no egress policy (a rule without peers would open the port to everyone)', () => {
    const resolved = checkRegistry(variant(s => { delete s.externals.db.cidrs; }));
    expect(resolved.findings.map(f => f.rule)).toContain('external-unaddressed');
    const names = [...networkPolicies(resolved).values()].flat().map(p => p.name);
    expect(names).toContain('allow-api-to-worker');
    expect(names.filter(n => n.includes('db'))).toEqual([]);
  });

  test('public entries: namespaces only, an empty list (no policy), a planned service (no policy); policies listed fixed ones first, then by name', () => {
    const resolved = checkRegistry(variant(s => {
      s.services.api.public = { namespaces: ['ingress-nginx'] };
      s.services.worker.public = { namespaces: [] };
      s.services.zeta = { public: true, status: 'planned', ports: { http: { offset: 40 } } };
      s.services.alpha = { public: true, ports: { http: { offset: 41 } } };
    }));
    const production = networkPolicies(resolved).get('production')!;
    expect(production.map(p => p.name)).toEqual(['default-deny', 'allow-dns', 'allow-alpha-from-public', 'allow-api-from-public', 'allow-api-to-db', 'allow-api-to-worker', 'allow-worker-from-api']);
    expect(JSON.parse(JSON.stringify(production.find(p => p.name === 'allow-api-from-public')!.props.spec))).toEqual({
      podSelector: { matchLabels: { 'app.kubernetes.io/name': 'api' } }, policyTypes: ['Ingress'],
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } }], ports: [{ protocol: 'TCP', port: { value: 8110 } }] }],
    });
  });

  test('an external inside the cluster is reached by namespace and its container port', () => {
    const w = world(app => {
      const r = base(app);
      const api = r.service('api', { public: true, ports: { http: { offset: 1 } } });
      const mq = r.external('mq', { kind: 'rabbitmq', namespace: 'messaging', podSelector: { app: 'rabbitmq' }, port: 25672, targetPort: 5672 });
      api.connectsTo(mq);
      return r;
    });
    const broker: Pod = { namespace: 'messaging', name: 'rabbit', labels: { app: 'rabbitmq' } };
    expect(w.cluster.allowed(w.pods.get('production/api')!, broker, 5672)).toBe(true);
    expect(w.cluster.allowed(w.pods.get('production/api')!, broker, 25672)).toBe(false);
    expect(w.cluster.allowed(w.pods.get('production/api')!, { ...broker, labels: { app: 'other' } }, 5672)).toBe(false);
  });
});

describe('the evaluator itself', () => {
  const pod = (namespace: string, app: string): Pod => ({ namespace, name: app, labels: { app } });
  const policy = (namespace: string, spec: Policy['spec']): Policy => ({ metadata: { name: 'p', namespace }, spec });

  test('no policy: everything flows; a selecting policy isolates only its direction', () => {
    expect(new Cluster({}, []).allowed(pod('a', 'x'), pod('b', 'y'), 80)).toBe(true);
    const ingressOnly = new Cluster({}, [policy('b', { podSelector: {}, policyTypes: ['Ingress'] })]);
    expect(ingressOnly.allowed(pod('a', 'x'), pod('b', 'y'), 80)).toBe(false);
    expect(ingressOnly.allowed(pod('b', 'y'), pod('a', 'x'), 80)).toBe(true);
  });

  test('namespaceSelector and podSelector in one peer are AND; in two peers, OR', () => {
    const and = new Cluster({ a: { team: 'red' } }, [policy('b', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'red' } }, podSelector: { matchLabels: { app: 'x' } } }] }] })]);
    expect(and.allowed(pod('a', 'x'), pod('b', 'y'), 80)).toBe(true);
    expect(and.allowed(pod('a', 'z'), pod('b', 'y'), 80)).toBe(false);
    expect(and.allowed(pod('b', 'x'), pod('b', 'y'), 80)).toBe(false);
    const or = new Cluster({ a: { team: 'red' } }, [policy('b', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'red' } } }, { podSelector: { matchLabels: { app: 'x' } } }] }] })]);
    expect(or.allowed(pod('a', 'z'), pod('b', 'y'), 80)).toBe(true);
    expect(or.allowed(pod('b', 'x'), pod('b', 'y'), 80)).toBe(true);
    expect(or.allowed(pod('c', 'x'), pod('b', 'y'), 80)).toBe(false);
  });

  test('empty peers or ports allow all; matchExpressions; ipBlock with except', () => {
    const open = new Cluster({}, [policy('b', { podSelector: {}, ingress: [{}] })]);
    expect(open.allowed(pod('a', 'x'), pod('b', 'y'), 1234, 'UDP')).toBe(true);
    expect(selects({ matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] }, {})).toBe(true);
    expect(selects({ matchExpressions: [{ key: 'env', operator: 'In', values: ['prod'] }] }, {})).toBe(false);
    expect(selects({ matchExpressions: [{ key: 'env', operator: 'Exists' }] }, { env: '' })).toBe(true);
    expect(cidrContains('10.0.0.0/8', '10.200.1.1')).toBe(true);
    expect(cidrContains('10.0.0.0/8', '11.0.0.1')).toBe(false);
    const block = new Cluster({}, [policy('b', { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }] }] })]);
    expect(block.allowed({ ip: '10.2.0.1' }, pod('b', 'y'), 80)).toBe(true);
    expect(block.allowed({ ip: '10.1.0.1' }, pod('b', 'y'), 80)).toBe(false);
  });

  test('ports match protocol and number; the default protocol is TCP', () => {
    const c = new Cluster({}, [policy('b', { podSelector: {}, ingress: [{ ports: [{ port: 53 }] }] })]);
    expect(c.allowed(pod('a', 'x'), pod('b', 'y'), 53, 'TCP')).toBe(true);
    expect(c.allowed(pod('a', 'x'), pod('b', 'y'), 53, 'UDP')).toBe(false);
    expect(c.allowed(pod('a', 'x'), pod('b', 'y'), 54, 'TCP')).toBe(false);
  });
});
