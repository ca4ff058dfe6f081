import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Chart, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { k8s } from '../imports/k8s';
import { PortRegistry, PortsApp } from '../lib';
import { envFiles } from '../lib/emit/env-files';

/**
 * The construct library as a user's cdk8s app uses it: any App checks the registry, workloads
 * take their ports from it (typed, lock-aware), and a hand-typed wrong port cannot synth.
 */

function shop(app: App, lockFile = path.join(os.tmpdir(), 'no-such-lock.json')) {
  const registry = new PortRegistry(app, 'shop', {
    environments: { production: { range: [8100, 8199], namespace: 'shop-prod' }, development: { range: [9100, 9199] } },
    categories: { infra: { ranges: [[5400, 5499]] } },
    lockFile,
  });
  const api = registry.service('api', {
    public: true, healthCheck: { path: '/healthz', port: 'http' },
    ports: { http: { auto: true, appProtocol: 'http' }, metrics: { offset: 90 } },
  });
  const web = registry.service('web', { public: true, ports: { http: { offset: 10 } } });
  const db = registry.external('db', { kind: 'postgres', category: 'infra', cidrs: ['10.0.0.5/32'], port: 5432 });
  web.connectsTo(api, 'http');
  api.connectsTo(db);
  return { registry, api, web, db };
}

const podSpec = (manifest: any) => manifest.spec.template.spec; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('a plain cdk8s App', () => {
  test('a registry with a collision fails app.synth() with the finding', () => {
    const app = Testing.app();
    const { registry } = shop(app);
    registry.service('clash', { public: true, ports: { http: { offset: 10 } } });
    expect(() => app.synth()).toThrow(/collision[\s\S]*port 8110\/TCP of clash\.http \(production\) is already taken by web\.http/);
  });

  test('a clean registry lands its Namespaces, Services and NetworkPolicies in the App output', () => {
    const app = Testing.app();
    shop(app);
    const yaml = app.synthYaml();
    expect(yaml).toMatch(/kind: Service\n[\s\S]*name: api\n\s+namespace: shop-prod/);
    expect(yaml).toContain('kind: NetworkPolicy');
    expect(yaml).toContain('name: shop-prod');
  });
});

describe('binding a workload', () => {
  test('a cdk8s-plus Deployment gets the registry\'s ports, pod labels, connection variables and readiness probe, with the lock applied', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-bind-'));
    const lockFile = path.join(dir, 'ports.lock.json');
    // The lock pins api.http to 8102 in production: not what a fresh allocation would pick (8100).
    fs.writeFileSync(lockFile, JSON.stringify({ lockfileVersion: 1, registries: { shop: { ports: { 'production/api/http': 8102, 'development/api/http': 9100 }, offsets: {} } } }));
    const app = Testing.app();
    const { registry, api, web } = shop(app, lockFile);
    const chart = new Chart(app, 'workloads');
    const deployment = new kplus.Deployment(chart, 'api', { containers: [{ image: 'shop/api:1.0', securityContext: { ensureNonRoot: false } }] });
    api.bind(deployment, 'production');
    const webDeployment = new k8s.KubeDeployment(chart, 'web', {
      spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'shop/web:1.0' }] } } },
    });
    web.bind(webDeployment, 'production');
    app.synth();

    const manifest = Testing.synth(chart).find(m => m.kind === 'Deployment' && m.metadata.name.includes('api'))!;
    const container = podSpec(manifest).containers[0];
    const service = Testing.synth(registry.chart('production')).find(m => m.kind === 'Service' && m.metadata.name === 'api')!;
    expect(api.port('http').in('production')).toMatchObject({ port: 8102, targetPort: 8102, protocol: 'TCP', name: 'http', namespace: 'shop-prod' });
    // Container ports = the Service's target ports, by name.
    expect(container.ports).toEqual(expect.arrayContaining(service.spec.ports.map((p: { name: string; targetPort: number }) => ({ name: p.name, containerPort: p.targetPort, protocol: 'TCP' }))));
    expect(container.ports.find((p: { name: string }) => p.name === 'http').containerPort).toBe(8102);
    // The pods carry the labels the Service selects, in its namespace.
    for (const [k, v] of Object.entries(service.spec.selector)) expect(manifest.spec.template.metadata.labels[k]).toBe(v);
    expect(manifest.metadata.namespace).toBe('shop-prod');
    expect(container.readinessProbe).toEqual({ httpGet: { path: '/healthz', port: 8102 } });
    // The connection variables name the same target and values as the .env files, with the cluster's address.
    const env = Object.fromEntries(container.env.map((e: { name: string; value: string }) => [e.name, e.value]));
    expect(env).toMatchObject({ DB_PORT: '5432', DB_HOST: '10.0.0.5', DATABASE_URL: 'postgres://$(DB_USER):$(DB_PASSWORD)@10.0.0.5:5432/$(DB_DB)' });
    const dotEnv = envFiles(registry.check()).get('production.env')!;
    expect(dotEnv).toContain('API_HTTP_PORT=8102');
    const webContainer = podSpec(Testing.synth(chart).find(m => m.metadata.name.includes('web'))!).containers[0];
    expect(webContainer.env).toEqual(expect.arrayContaining([
      { name: 'API_HOST', value: 'api.shop-prod.svc.cluster.local' }, { name: 'API_PORT', value: '8102' },
      { name: 'API_URL', value: 'http://api.shop-prod.svc.cluster.local:8102' },
    ]));
  });

  test('a hand-typed wrong containerPort in a bound service\'s Deployment fails the synth with workload-drift', () => {
    const app = Testing.app();
    const { api } = shop(app);
    const chart = new Chart(app, 'workloads');
    new kplus.Deployment(chart, 'api', {
      podMetadata: { labels: api.podLabels } as never,
      containers: [{ image: 'shop/api:1.0', portNumber: 8101, securityContext: { ensureNonRoot: false } }],
    });
    expect(() => app.synth()).toThrow(/workload-drift[\s\S]*containerPort is 8101, but api has ports 8100, 9100, 8190, 9190 in the registry/);
  });

  test('PortsApp reports workload-drift as a finding and writes nothing', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-drift-'));
    const app = new PortsApp({ manifestsDir: path.join(dir, 'manifests'), outdir: path.join(dir, 'out'), lockFile: path.join(dir, 'lock.json') });
    const { api } = shop(app);
    const chart = new Chart(app, 'workloads');
    new k8s.KubeService(chart, 'api-extra', { metadata: { namespace: 'shop-prod' }, spec: { selector: api.podLabels, ports: [{ name: 'http', port: 8100, targetPort: k8s.IntOrString.fromNumber(8080) }] } });
    const result = app.trySynth();
    expect(result.ok).toBe(false);
    const drift = result.findings.filter(f => f.rule === 'workload-drift');
    expect(drift).toHaveLength(1);
    expect(drift[0].where).toMatchObject({ service: 'api', environment: 'production', port: 8080, portName: 'http' });
    expect(fs.existsSync(path.join(dir, 'manifests'))).toBe(false);
  });

  test('the generated Service is reachable, e.g. as an Ingress backend', () => {
    const app = Testing.app();
    const { web } = shop(app);
    const svc = web.kubeService('production');
    expect(svc.name).toBe('web');
    const ingress = new k8s.KubeIngress(new Chart(app, 'edge'), 'web', {
      spec: { rules: [{ http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: svc.name, port: { number: web.port('http').in('production').port } } } }] } }] },
    });
    expect(ingress.toJson().spec.rules[0].http.paths[0].backend.service).toEqual({ name: 'web', port: { number: 8110 } });
  });
});

describe('typed port names', () => {
  test('a misspelt port name does not compile (checked by tsc in npm test)', () => {
    const { api, web, db } = shop(Testing.app());
    // @ts-expect-error 'htp' is not a port of api
    expect(() => api.port('htp')).toThrow(/api has no port htp; its ports are http, metrics/);
    // @ts-expect-error 'nope' is not a port of api
    web.connectsTo(api, 'nope');
    // @ts-expect-error an external declared with `port` has one port, named main
    web.connectsTo(db, 'http');
    web.connectsTo(db, 'main');
    expect(api.port('metrics').name).toBe('metrics');
    // @ts-expect-error 'prodution' is not an environment of the registry
    expect(() => api.port('http').in('prodution')).toThrow(/api\.http has no port in prodution: the registry's environments are production, development/);
    // @ts-expect-error nor here
    expect(() => api.bind(new Chart(Testing.app(), 'x'), 'prodution')).not.toThrow();
  });
});

test('in a PortsApp, port handles read the app\'s lock file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-applock-'));
  const lockFile = path.join(dir, 'team.lock.json');
  fs.writeFileSync(lockFile, JSON.stringify({ lockfileVersion: 1, registries: { shop: { ports: { 'production/api/http': 8107, 'development/api/http': 9100 }, offsets: {} } } }));
  const app = new PortsApp({ manifestsDir: path.join(dir, 'manifests'), outdir: path.join(dir, 'out'), lockFile });
  const registry = new PortRegistry(app, 'shop', { environments: { production: { range: [8100, 8199] }, development: { range: [9100, 9199] } } });
  const api = registry.service('api', { public: true, ports: { http: { auto: true } } });
  expect(registry.lockFile).toBe(lockFile);
  expect(api.port('http').in('production').port).toBe(8107);
  const result = app.trySynth();
  expect(result.ok).toBe(true);
  expect(result.files.get('k8s/shop-production.k8s.yaml')).toMatch(/port: 8107/);
});
