import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { parseAllDocuments } from 'yaml';
import { Port, PortRegistry, PortsApp } from '../lib';
import { resolveAll } from '../lib/check/pipeline';
import { schemaErrors } from './support/k8s-schema';
import { Cluster, Policy } from './support/netpol-eval';
import { ROOT } from './support/project';

/**
 * Connections across registries of one app (or of one `check a.yaml b.yaml`): each registry writes
 * its own side, in its own namespaces, and the two sides together allow exactly the declared path.
 */

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any
const docsOf = (text: string): Json[] => parseAllDocuments(text).map(d => d.toJS());
const CLI = path.join(ROOT, 'bin', 'cdk8s-ports.js');

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-peers-'));
}

/** Two teams: shop (api, and its own `ledger` that nobody else may reach) and payments (pay, a client of shop's api). */
function twoTeams(app: App) {
  const shop = new PortRegistry(app, 'shop', { outputDir: 'shop', environments: { production: { range: [8100, 8199] }, development: { range: [9100, 9199] } } });
  const api = shop.service('api', { kind: 'http', public: { namespaces: ['ingress-nginx'] }, ports: { http: Port.offset(0), metrics: Port.offset(10) } });
  const ledger = shop.service('ledger', { ports: { grpc: Port.offset(1) } });
  api.connectsTo(ledger);
  const payments = new PortRegistry(app, 'payments', { outputDir: 'payments', environments: { production: { range: [8400, 8499] }, development: { range: [9400, 9499] } } });
  const pay = payments.service('pay', { public: { namespaces: ['ingress-nginx'] }, ports: { http: Port.offset(0) } });
  pay.connectsTo(api, 'http');
  return { shop, payments, api, pay };
}

test('pay.connectsTo(api) across registries: egress in pay\'s namespace, ingress in api\'s, variables for the bound workload, and nothing else opened', () => {
  const dir = tmp();
  const app = new PortsApp({ manifestsDir: path.join(dir, 'manifests'), outdir: path.join(dir, 'out'), lockFile: path.join(dir, 'lock.json') });
  const { pay } = twoTeams(app);
  pay.bind(new kplus.Deployment(new Chart(app, 'workloads'), 'pay', { containers: [{ image: 'payments/pay:1' }] }), 'production');
  const result = app.trySynth();
  expect(result.findings.filter(f => !f.waived)).toEqual([]);
  expect(result.problem).toBeUndefined();
  expect(result.ok).toBe(true);

  const payProd = docsOf(result.files.get('k8s/payments-production.k8s.yaml')!);
  const shopProd = docsOf(result.files.get('k8s/shop-production.k8s.yaml')!);
  for (const o of [...payProd, ...shopProd]) expect(schemaErrors(o)).toEqual([]);
  const egress = payProd.find(o => o.kind === 'NetworkPolicy' && o.metadata.name === 'allow-pay-to-api-of-shop');
  expect(egress.metadata.namespace).toBe('payments-production');
  expect(egress.spec).toEqual({
    podSelector: { matchLabels: { 'app.kubernetes.io/name': 'pay' } }, policyTypes: ['Egress'],
    egress: [{ to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'shop-production' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'api' } } }], ports: [{ port: 8100, protocol: 'TCP' }] }],
  });
  const ingress = shopProd.find(o => o.kind === 'NetworkPolicy' && o.metadata.name === 'allow-api-from-pay-of-payments');
  expect(ingress.metadata.namespace).toBe('shop-production');
  expect(ingress.spec.ingress).toEqual([{
    from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'payments-production' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'pay' } } }],
    ports: [{ port: 8100, protocol: 'TCP' }],
  }]);

  // The policies of both registries, evaluated together: exactly pay -> api:http is open across them.
  const policies = [...payProd, ...shopProd, ...docsOf(result.files.get('k8s/shop-development.k8s.yaml')!), ...docsOf(result.files.get('k8s/payments-development.k8s.yaml')!)]
    .filter(o => o.kind === 'NetworkPolicy') as Policy[];
  const namespaces = Object.fromEntries(['shop-production', 'payments-production', 'shop-development', 'payments-development', 'other']
    .map(n => [n, { 'kubernetes.io/metadata.name': n }]));
  const cluster = new Cluster(namespaces, policies);
  const pod = (namespace: string, name: string) => ({ namespace, name: `${name}-0`, labels: { 'app.kubernetes.io/name': name } });
  expect(cluster.allowed(pod('payments-production', 'pay'), pod('shop-production', 'api'), 8100)).toBe(true);
  expect(cluster.allowed(pod('payments-production', 'pay'), pod('shop-production', 'api'), 8110)).toBe(false); // metrics
  expect(cluster.allowed(pod('payments-production', 'pay'), pod('shop-production', 'ledger'), 8101)).toBe(false);
  expect(cluster.allowed(pod('payments-development', 'pay'), pod('shop-production', 'api'), 8100)).toBe(false);
  expect(cluster.allowed(pod('payments-development', 'pay'), pod('shop-development', 'api'), 9100)).toBe(true);
  expect(cluster.allowed(pod('other', 'pay'), pod('shop-production', 'api'), 8100)).toBe(false);
  expect(cluster.allowed(pod('payments-production', 'worker'), pod('shop-production', 'api'), 8100)).toBe(false);

  const deployment = docsOf(result.files.get('k8s/workloads.k8s.yaml')!).find(o => o.kind === 'Deployment');
  const env = Object.fromEntries(deployment.spec.template.spec.containers[0].env.map((e: Json) => [e.name, e.value]));
  expect(env).toMatchObject({ API_HOST: 'api.shop-production.svc.cluster.local', API_PORT: '8100', API_URL: 'http://api.shop-production.svc.cluster.local:8100' });

  // On a developer machine the other registry's service is where its compose project publishes it.
  const compose = docsOf(result.files.get('payments/compose/docker-compose.production.yml')!)[0];
  expect(compose.services.pay.environment).toMatchObject({ API_HOST: 'host.docker.internal', API_PORT: '8100', API_URL: 'http://host.docker.internal:8100' });
  expect(compose.services.pay.extra_hosts).toEqual(['host.docker.internal:host-gateway']);
  expect(result.files.get('payments/env/development.env')).toContain('API_URL=http://localhost:9100');

  // Each registry's documents name the other side, with the port its policies open.
  expect(result.files.get('payments/connections.md')).toContain('| pay | shop/api (registry shop) | http/TCP | 8100 | 9100 |');
  expect(result.files.get('shop/connections.md')).toContain('| payments/pay (registry payments, namespace payments-production) | api | http/TCP | 8100 | — |');
  expect(result.files.get('shop/PORTS.md')).toContain('payments/pay');
  // ports.json carries both sides, for verify and the other tools.
  expect(JSON.parse(result.files.get('shop/ports.json')!).inbound).toHaveLength(2);
  expect(JSON.parse(result.files.get('payments/ports.json')!).connections.filter((c: Json) => c.peer?.registry === 'shop')).toHaveLength(2);

  // `verify` on the written folder: both sides declared; without the target's ingress, the path is blocked.
  const verify = () => spawnSync(process.execPath, [CLI, 'verify', 'manifests'], { cwd: dir, encoding: 'utf8' });
  const clean = verify();
  expect(clean.stdout).toMatch(/^verified: .*compared with payments, shop/);
  expect(clean.status).toBe(0);
  const shopFile = path.join(dir, 'manifests', 'k8s', 'shop-production.k8s.yaml');
  fs.writeFileSync(shopFile, fs.readFileSync(shopFile, 'utf8').split('\n---\n').filter(d => !d.includes('allow-api-from-pay-of-payments')).join('\n---\n'));
  const blocked = verify();
  expect(blocked.stdout + blocked.stderr).toMatch(/traffic-blocked: payments-production\/\S*pay\S* -> shop-production\/api 8100\/TCP is declared \(payments: pay connects to shop\/api \(http\)/);
  expect(blocked.status).toBe(1);
});

test('the same in a plain cdk8s App, and the declared service of another registry is not unreachable', () => {
  const dir = tmp();
  fs.writeFileSync(path.join(dir, 'cdk8s.yaml'), 'language: typescript\napp: node app.js\n');
  const previous = process.cwd();
  process.chdir(dir);
  try {
    const app = new App({ outdir: path.join(dir, 'dist') });
    const { shop, payments } = twoTeams(app);
    expect(shop.check().findings).toEqual([]);
    expect(payments.check().findings).toEqual([]);
    app.synth();
    const all = fs.readdirSync(path.join(dir, 'dist')).filter(f => f.endsWith('.yaml')).flatMap(f => docsOf(fs.readFileSync(path.join(dir, 'dist', f), 'utf8')));
    const names = all.filter(o => o.kind === 'NetworkPolicy').map(o => `${o.metadata.namespace}/${o.metadata.name}`);
    expect(names).toEqual(expect.arrayContaining(['payments-production/allow-pay-to-api-of-shop', 'shop-production/allow-api-from-pay-of-payments',
      'payments-development/allow-pay-to-api-of-shop', 'shop-development/allow-api-from-pay-of-payments']));
  } finally {
    process.chdir(previous);
  }
});

test('references that do not resolve: an unknown registry, service, port or environment, each an error naming both sides and a fix', () => {
  const shop = { name: 'shop', environments: { production: {} }, services: { api: { public: true, ports: { http: { port: 8100 }, admin: { port: 8101 } } } } };
  const spec = (connection: Record<string, unknown>, environments: Record<string, object> = { production: {} }) =>
    ({ name: 'payments', environments, services: { pay: { public: true, ports: { http: { port: 8200 } }, connectsTo: [connection] } } });
  const run = (payments: object, withShop = true) => resolveAll([{ spec: payments }, ...(withShop ? [{ spec: shop }] : [])])[0].findings
    .map(f => [f.rule, f.severity, f.where.path, f.message, f.fix]);
  const alone = run(spec({ to: 'api', registry: 'shop', port: 'http' }), false);
  expect(alone).toEqual([['unknown-registry', 'error', 'services.pay.connectsTo[0].registry', expect.stringContaining('registry "shop", which is not resolved together with payments'), expect.stringContaining('cdk8s-ports check')]]);
  expect(run(spec({ to: 'apii', registry: 'shop', port: 'http' }))).toEqual([['unknown-service', 'error', 'services.pay.connectsTo[0]', expect.stringContaining('"apii" of registry shop'), expect.stringContaining('api')]]);
  expect(run(spec({ to: 'api', registry: 'shop' }))).toEqual([['unknown-port', 'error', 'services.pay.connectsTo[0]', expect.stringContaining('shop/api names no port'), expect.stringContaining('http, admin')]]);
  expect(run(spec({ to: 'api', registry: 'shoop', port: 'http' }))[0]).toEqual(['unknown-registry', 'error', 'services.pay.connectsTo[0].registry', expect.stringContaining('"shoop"'), expect.stringContaining('shop')]);
  expect(run(spec({ to: 'api', registry: 'shop', port: 'http' }, { production: {}, staging: { scope: 'staging' } }))).toEqual([['unknown-environment', 'error', 'services.pay.connectsTo[0]', expect.stringContaining('no environment staging'), expect.stringContaining('environment: production')]]);
  // A target of the same name in both registries: the variables would clash.
  const twice = resolveAll([{ spec: { name: 'payments', environments: { production: {} }, services: {
    api: { ports: { http: { port: 8201 } } },
    pay: { public: true, ports: { http: { port: 8200 } }, connectsTo: [{ to: 'api' }, { to: 'api', registry: 'shop', port: 'http' }] } } } }, { spec: shop }])[0];
  expect(twice.findings.map(f => [f.rule, f.severity, f.where.path, f.message])).toEqual([['env-var-collision', 'error', 'services.pay.connectsTo[1]', expect.stringContaining('API_HOST, _PORT and _URL')]]);
  // Resolved together and sound: no finding on either side (api is reached, payments uses policies).
  const both = resolveAll([{ spec: spec({ to: 'api', registry: 'shop', port: 'http' }) }, { spec: { ...shop, services: { api: { ports: { http: { port: 8100 } } } } } }]);
  expect(both.flatMap(r => r.findings)).toEqual([]);
  expect(both[1].inbound).toEqual([{ environment: 'production', to: 'api', portName: 'http', fromRegistry: 'payments', from: 'pay', fromEnvironment: 'production', fromNamespace: 'payments-production', fromSelector: { 'app.kubernetes.io/name': 'pay' } }]);
  // Without the peer connection, api is unreachable: the suppression is the peer's doing, not a blanket one.
  expect(resolveAll([{ spec: { ...shop, services: { api: { ports: { http: { port: 8100 } } }, web: { public: true, ports: { http: { port: 8102 } }, connectsTo: [{ to: 'api' }] } } } }])[0].findings).toEqual([]);
  expect(resolveAll([{ spec: { ...shop, services: { api: { ports: { http: { port: 8100 } } }, web: { public: true, ports: { http: { port: 8102 } } } } } }])[0].findings.map(f => f.rule)).toEqual(['unreachable']);
});

test('two registry files checked together by the CLI: clean; one alone: the unknown-registry error and exit 1', () => {
  const dir = tmp();
  fs.writeFileSync(path.join(dir, 'shop.yaml'), 'name: shop\nenvironments: { production: {} }\nservices:\n  api: { ports: { http: { port: 8100 } } }\n');
  fs.writeFileSync(path.join(dir, 'payments.yaml'), 'name: payments\nenvironments: { production: {} }\nservices:\n  pay:\n    public: true\n    ports: { http: { port: 8200 } }\n    connectsTo: [{ to: api, registry: shop, port: http }]\n');
  const together = spawnSync(process.execPath, [CLI, 'check', 'payments.yaml', 'shop.yaml'], { cwd: dir, encoding: 'utf8' });
  expect(together.stderr + together.stdout).not.toMatch(/error/);
  expect(together.status).toBe(0);
  const alone = spawnSync(process.execPath, [CLI, 'check', 'payments.yaml'], { cwd: dir, encoding: 'utf8' });
  expect(alone.status).toBe(1);
  expect(alone.stdout + alone.stderr).toMatch(/payments\.yaml:7:\d+: error unknown-registry|unknown-registry[\s\S]*payments\.yaml:7:/);
});

test('connecting to another app\'s registry, or to another registry\'s external, is refused with what to do', () => {
  const a = new App();
  const b = new App();
  const api = new PortRegistry(a, 'shop', { environments: { production: {} } }).service('api', { ports: { http: Port.fixed(8100) } });
  const payments = new PortRegistry(b, 'payments', { environments: { production: {} } });
  expect(() => payments.service('pay', { ports: { http: Port.fixed(8200) } }).connectsTo(api)).toThrow(/registries connect only within one cdk8s app[\s\S]*same App/);
  const shop2 = new PortRegistry(b, 'shop', { environments: { production: {} } });
  const db = shop2.external('db', { kind: 'postgres', cidrs: ['10.0.0.5/32'], port: 5432 });
  expect(() => payments.service('worker', {}).connectsTo(db)).toThrow(/external db of registry shop[\s\S]*Declare db as an external of payments/);
});
