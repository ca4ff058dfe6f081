import * as os from 'os';
import * as path from 'path';
import { ApiObject, App, Chart, Cron, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import fc from 'fast-check';
import { k8s } from '../imports/k8s';
import { Port, PortRegistry } from '../lib';
import { schemaErrors } from './support/k8s-schema';

/**
 * bind() adds only what the registry owns (container ports, the registry's pod labels, the
 * namespace, connection variables, a readiness probe where none is set): every field the user
 * wrote renders byte for byte as written, for typed k8s objects and cdk8s-plus workloads alike.
 */

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any
const NO_LOCK = path.join(os.tmpdir(), 'cdk8s-ports-no-such-lock.json');

function shop(app: App) {
  const registry = new PortRegistry(app, 'shop', {
    environments: { production: { range: [8100, 8199], namespace: 'shop-prod' }, development: { range: [9100, 9199] } }, lockFile: NO_LOCK,
  });
  const api = registry.service('api', { healthCheck: { path: '/healthz', port: 'http' }, ports: { http: Port.auto(), metrics: Port.offset(90) } });
  const db = registry.external('db', { kind: 'postgres', cidrs: ['10.0.0.5/32'], port: 5432 });
  api.connectsTo(db);
  return { registry, api };
}

/** The container fields a user writes, as the typed props take them (Quantity, IntOrString). */
const quantity = fc.constantFrom('100m', '500m', '1', '2Gi', '512Mi');
const probePort = fc.oneof(fc.integer({ min: 1, max: 65535 }).map(n => k8s.IntOrString.fromNumber(n)), fc.constantFrom('http', 'metrics', 'admin').map(s => k8s.IntOrString.fromString(s)));
const probe = fc.oneof(
  probePort.map(port => ({ tcpSocket: { port } })),
  fc.tuple(fc.constantFrom('/', '/live', '/ready'), probePort).map(([p, port]) => ({ httpGet: { path: p, port, scheme: 'HTTP' } })),
  fc.integer({ min: 1, max: 65535 }).map(port => ({ grpc: { port } })),
  fc.constant({ exec: { command: ['true'] } }),
).chain(action => fc.record({ periodSeconds: fc.integer({ min: 1, max: 60 }) }, { requiredKeys: [], noNullPrototype: true }).map(extra => ({ ...action, ...extra })));
const envVar = fc.oneof(
  fc.tuple(fc.constantFrom('LOG_LEVEL', 'MODE', 'FEATURE_X', 'DB_PORT'), fc.constantFrom('debug', 'on', '5432')).map(([name, value]) => ({ name, value })),
  fc.constantFrom('API_KEY', 'TOKEN').map(name => ({ name, valueFrom: { secretKeyRef: { name: 'secrets', key: name.toLowerCase() } } })),
);
const containerProps = fc.record({
  resources: fc.record({ limits: fc.record({ cpu: quantity.map(k8s.Quantity.fromString), memory: quantity.map(k8s.Quantity.fromString) }, { requiredKeys: [], noNullPrototype: true }),
    requests: fc.record({ cpu: quantity.map(k8s.Quantity.fromString) }, { requiredKeys: [], noNullPrototype: true }) }, { requiredKeys: [], noNullPrototype: true }),
  livenessProbe: probe, readinessProbe: probe, startupProbe: probe,
  env: fc.uniqueArray(envVar, { selector: e => e.name, maxLength: 4 }),
  envFrom: fc.constant([{ configMapRef: { name: 'settings' } }]),
  volumeMounts: fc.constant([{ name: 'data', mountPath: '/data' }]),
  securityContext: fc.record({ runAsNonRoot: fc.boolean(), readOnlyRootFilesystem: fc.boolean() }, { noNullPrototype: true }),
  ports: fc.uniqueArray(fc.record({ containerPort: fc.constantFrom(8100, 8190, 9999, 5000), name: fc.constantFrom(undefined, 'admin', 'debug') }, { noNullPrototype: true }), { selector: p => p.containerPort, maxLength: 3 })
    .map(ports => ports.map(p => (p.name === undefined ? { containerPort: p.containerPort } : p))),
}, { requiredKeys: [], noNullPrototype: true });

/** The same Deployment, once without and once with a binding: the rendered JSON of each. */
function renderBoth(props: Json, withSidecars: boolean): { before: Json; after: Json; findings: string[] } {
  const render = (bind: boolean) => {
    const app = Testing.app();
    const { api } = shop(app);
    const chart = new Chart(app, 'workloads');
    const d = new k8s.KubeDeployment(chart, 'api', {
      metadata: { name: 'api', annotations: { 'team.example/owner': 'payments' } },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'api' } },
        template: {
          metadata: { labels: { app: 'api', tier: 'backend' }, annotations: { 'prometheus.io/scrape': 'true' } },
          spec: {
            serviceAccountName: 'api',
            volumes: [{ name: 'data', emptyDir: {} }],
            ...(withSidecars ? { initContainers: [{ name: 'migrate', image: 'shop/migrate:1', resources: { limits: { cpu: k8s.Quantity.fromString('250m') } } }] } : {}),
            containers: [
              { name: 'api', image: 'shop/api:1', ...props },
              ...(withSidecars ? [{ name: 'proxy', image: 'envoy:1', ports: [{ containerPort: 15001, name: 'proxy' }], livenessProbe: { tcpSocket: { port: k8s.IntOrString.fromNumber(15001) } } }] : []),
            ],
          },
        },
      },
    });
    if (bind) api.bind(d, 'production', { container: 'api' });
    let findings: string[] = [];
    try {
      app.synth();
    } catch (e) {
      findings = [(e as Error).message];
    }
    // (Rendered directly: after a failed synth, Testing.synth would fail the same way.)
    return { json: d.toJson(), findings };
  };
  const before = render(false);
  const after = render(true);
  return { before: before.json, after: after.json, findings: after.findings };
}

describe('bind only adds', () => {
  test('property: every field of the workload bind does not own renders as the user wrote it, and the result is schema-valid', () => {
    fc.assert(fc.property(containerProps, fc.boolean(), (props, sidecars) => {
      const { before, after, findings } = renderBoth(props, sidecars);
      expect(schemaErrors(after)).toEqual([]);
      // Outside the pod template's labels and the container's owned lists, nothing changed.
      const strip = (d: Json) => {
        const copy = structuredClone(d);
        delete copy.metadata.namespace;
        delete copy.spec.template.metadata.labels;
        const c = copy.spec.template.spec.containers[0];
        delete c.ports;
        delete c.env;
        if (!before.spec.template.spec.containers[0].readinessProbe) delete c.readinessProbe;
        return copy;
      };
      expect(strip(after)).toEqual(strip(before));
      expect(after.metadata.namespace).toBe('shop-prod');
      expect(after.spec.template.metadata.labels).toEqual({ ...before.spec.template.metadata.labels, 'app.kubernetes.io/name': 'api' });
      const c0 = before.spec.template.spec.containers[0];
      const c1 = after.spec.template.spec.containers[0];
      // The user's env entries come first, unchanged; the registry's are added after them.
      expect(c1.env.slice(0, (c0.env ?? []).length)).toEqual(c0.env ?? []);
      expect(c1.env.map((e: Json) => e.name)).toEqual(expect.arrayContaining(['DB_HOST', 'DB_PORT', 'DB_URL']));
      // The user's ports stay where they were (a matching number gets its name); the registry's are there,
      // unless the user named that number otherwise, which is a finding.
      const mine = (c0.ports ?? []) as Json[];
      expect(c1.ports.slice(0, mine.length).map((p: Json) => [p.containerPort, p.name ?? (p.containerPort === 8100 ? 'http' : p.containerPort === 8190 ? 'metrics' : undefined)]))
        .toEqual(mine.map(p => [p.containerPort, p.name ?? (p.containerPort === 8100 ? 'http' : p.containerPort === 8190 ? 'metrics' : undefined)]));
      for (const [port, name] of [[8100, 'http'], [8190, 'metrics']] as const) {
        const theirs = mine.find(p => p.containerPort === port);
        if (theirs?.name !== undefined && theirs.name !== name) expect(findings.join('\n')).toContain(`container port ${port}/TCP is named ${theirs.name}, but api's port ${port} is named ${name}`);
        else expect(c1.ports).toContainEqual(expect.objectContaining({ containerPort: port, name }));
      }
      const dbPort = (c0.env ?? []).find((e: Json) => e.name === 'DB_PORT');
      if (dbPort && dbPort.value !== '5432') expect(findings.join('\n')).toContain(`DB_PORT is "${dbPort.value}", but the registry gives "5432"`);
      if (!findings.length) expect(after).toBeDefined();
      if (c0.readinessProbe) expect(c1.readinessProbe).toEqual(c0.readinessProbe);
      else expect(c1.readinessProbe).toEqual({ httpGet: { path: '/healthz', port: 8100 } });
    }), { numRuns: Number(process.env.FC_RUNS ?? 60) });
  });

  test('the cases the first users met: Quantity resources, a tcpSocket probe, an httpGet probe by name, a grpc probe', () => {
    const { before, after } = renderBoth({
      resources: { limits: { cpu: k8s.Quantity.fromString('500m'), memory: k8s.Quantity.fromString('1Gi') } },
      livenessProbe: { tcpSocket: { port: k8s.IntOrString.fromNumber(8100) } },
      startupProbe: { httpGet: { path: '/', port: k8s.IntOrString.fromString('http') } },
      readinessProbe: { grpc: { port: 8100 } },
    }, false);
    const c = after.spec.template.spec.containers[0];
    expect(c.resources).toEqual({ limits: { cpu: '500m', memory: '1Gi' } });
    expect(c.livenessProbe).toEqual({ tcpSocket: { port: 8100 } });
    expect(c.startupProbe).toEqual({ httpGet: { path: '/', port: 'http' } });
    expect(c.readinessProbe).toEqual({ grpc: { port: 8100 } });
    expect(before.spec.template.spec.containers[0].resources).toEqual(c.resources);
  });

  test('a cdk8s-plus Deployment keeps its resources, probes, env and security context; it selects its pods by the registry\'s labels', () => {
    const build = (bind: boolean) => {
      const app = Testing.app();
      const { api } = shop(app);
      const chart = new Chart(app, 'workloads');
      const d = new kplus.Deployment(chart, 'api', {
        containers: [{
          image: 'shop/api:1', portNumber: 8100, resources: { cpu: { limit: kplus.Cpu.millis(500), request: kplus.Cpu.millis(100) } },
          liveness: kplus.Probe.fromTcpSocket({ port: 8100 }), startup: kplus.Probe.fromHttpGet('/start', { port: 8190 }),
          envVariables: { MODE: kplus.EnvValue.fromValue('on') }, securityContext: { ensureNonRoot: false },
        }],
      });
      d.exposeViaService({ ports: [{ port: 8100 }] });
      if (bind) api.bind(d, 'production');
      app.synth();
      return Testing.synth(chart);
    };
    const before = build(false);
    const after = build(true);
    const deploy = (docs: Json[]) => docs.find(o => o.kind === 'Deployment');
    const [c0, c1] = [deploy(before), deploy(after)].map(d => d.spec.template.spec.containers[0]);
    for (const field of ['resources', 'livenessProbe', 'startupProbe', 'securityContext', 'image', 'name']) expect(c1[field]).toEqual(c0[field]);
    expect(c1.env[0]).toEqual(c0.env[0]);
    for (const o of after) expect(schemaErrors(o)).toEqual([]);
    // No cdk8s-plus address label: the Deployment, its pods and the Service it exposed select by the registry's labels.
    expect(JSON.stringify(after)).not.toContain('cdk8s.io/metadata.addr');
    expect(deploy(after).spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'api' });
    expect(deploy(after).spec.template.metadata.labels).toEqual({ 'app.kubernetes.io/name': 'api' });
    expect(after.find(o => o.kind === 'Service').spec.selector).toEqual({ 'app.kubernetes.io/name': 'api' });
    expect(JSON.stringify(before)).toContain('cdk8s.io/metadata.addr');
  });

  test('two workloads bound to one service keep cdk8s-plus\'s own selectors (they must not select each other\'s pods)', () => {
    const app = Testing.app();
    const { api } = shop(app);
    const chart = new Chart(app, 'workloads');
    for (const id of ['api', 'api-canary']) api.bind(new kplus.Deployment(chart, id, { containers: [{ image: 'shop/api:1' }] }), 'production');
    app.synth();
    const deployments = Testing.synth(chart).filter(o => o.kind === 'Deployment');
    expect(new Set(deployments.map(d => JSON.stringify(d.spec.selector))).size).toBe(2);
    for (const d of deployments) expect(d.spec.template.metadata.labels['app.kubernetes.io/name']).toBe('api');
  });

  test('a user\'s literal value that contradicts the registry is a finding, not overwritten; a value from a Secret is the user\'s', () => {
    const { after, findings } = renderBoth({ env: [{ name: 'DB_PORT', value: '5433' }, { name: 'DB_HOST', valueFrom: { secretKeyRef: { name: 's', key: 'host' } } }] }, false);
    expect(findings.join('\n')).toMatch(/workload-drift[\s\S]*DB_PORT is "5433", but the registry gives "5432"/);
    expect(after.spec.template.spec.containers[0].env.slice(0, 2)).toEqual([{ name: 'DB_PORT', value: '5433' }, { name: 'DB_HOST', valueFrom: { secretKeyRef: { name: 's', key: 'host' } } }]);
  });

  test('a workload bound twice, or bound into a namespace where the registry does not run, fails the synth naming both sides', () => {
    const twice = Testing.app();
    const { api } = shop(twice);
    const d = new kplus.Deployment(new Chart(twice, 'workloads'), 'api', { containers: [{ image: 'shop/api:1' }] });
    api.bind(d, 'production');
    api.bind(d, 'development');
    expect(() => twice.synth()).toThrow(/workload-drift[\s\S]*workloads\/api is bound twice: to api in production \(registry shop\) and to api in development/);

    const elsewhere = Testing.app();
    const s = shop(elsewhere);
    s.api.bind(new kplus.Deployment(new Chart(elsewhere, 'workloads', { namespace: 'legacy' }), 'api', { containers: [{ image: 'shop/api:1' }] }), 'production');
    expect(() => elsewhere.synth()).toThrow(/it is in namespace legacy, but api runs in shop-prod in production/);
  });
});

describe('StatefulSets and the objects a workload makes', () => {
  test('a cdk8s-plus StatefulSet takes a headless Service from the registry: no port typed, everything in the environment\'s namespace', () => {
    const app = Testing.app();
    const { api } = shop(app);
    const chart = new Chart(app, 'workloads');
    const set = new kplus.StatefulSet(chart, 'api', { containers: [{ image: 'shop/api:1' }], service: api.headlessService(chart, 'production') });
    api.bind(set, 'production');
    app.synth();
    const docs = Testing.synth(chart);
    for (const o of docs) {
      expect(schemaErrors(o)).toEqual([]);
      expect(o.metadata.namespace).toBe('shop-prod');
    }
    const headless = docs.find(o => o.kind === 'Service');
    expect(headless.metadata.name).toBe('api-headless');
    expect(headless.spec.clusterIP).toBe('None');
    expect(headless.spec.ports.map((p: Json) => [p.name, p.port])).toEqual([['http', 8100], ['metrics', 8190]]);
    expect(headless.spec.selector).toEqual({ 'app.kubernetes.io/name': 'api' });
    expect(docs.find(o => o.kind === 'StatefulSet').spec.serviceName).toBe('api-headless');
  });

  test('a headless Service for a server on its vendor\'s port (Port.container) publishes the registry\'s port onto the container\'s, and the synth is clean', () => {
    const app = Testing.app();
    const ports = new PortRegistry(app, 'shop', { environments: { production: { range: [8100, 8199], namespace: 'shop-prod' } }, lockFile: NO_LOCK });
    const db = ports.service('postgres', { kind: 'postgres', ports: { main: Port.container(5432) } });
    const chart = new Chart(app, 'data');
    db.bind(new kplus.StatefulSet(chart, 'postgres', { containers: [{ image: 'postgres:16' }], service: db.headlessService(chart, 'production') }), 'production');
    app.synth();
    const docs = Testing.synth(chart);
    const published = db.port('main').in('production').port;
    expect(published).not.toBe(5432);
    expect(docs.find(o => o.kind === 'Service').spec.ports).toEqual([{ name: 'main', port: published, targetPort: 5432, protocol: 'TCP' }]);
    const container = docs.find(o => o.kind === 'StatefulSet').spec.template.spec.containers[0];
    expect(container.ports).toEqual([{ name: 'main', containerPort: 5432, protocol: 'TCP' }]);
    // The container is told where to listen, as compose tells it.
    expect(container.env).toContainEqual({ name: 'PORT', value: '5432' });
  });

  test('a StatefulSet whose port the user typed: its own headless Service goes where it goes', () => {
    const app = Testing.app();
    const { api } = shop(app);
    const chart = new Chart(app, 'workloads');
    api.bind(new kplus.StatefulSet(chart, 'api', { containers: [{ image: 'shop/api:1', portNumber: 8100 }] }), 'production');
    app.synth();
    const docs = Testing.synth(chart);
    expect(docs.map(o => [o.kind, o.metadata.namespace])).toEqual([['Service', 'shop-prod'], ['StatefulSet', 'shop-prod']]);
    expect(docs[0].spec.selector).toEqual({ 'app.kubernetes.io/name': 'api' });
  });

  test('a Job, a CronJob (as clients without ports) and a plain ApiObject (as Include reads YAML) are bound with values in their own shape', () => {
    const app = Testing.app();
    const { registry, api } = shop(app);
    const migrate = registry.service('migrate', {});
    migrate.connectsTo(api, 'http');
    const chart = new Chart(app, 'workloads');
    migrate.bind(new kplus.Job(chart, 'job', { containers: [{ image: 'shop/api:1' }] }), 'production');
    migrate.bind(new kplus.CronJob(chart, 'cron', { schedule: Cron.daily(), containers: [{ image: 'shop/api:1' }] }), 'development');
    const raw = new ApiObject(chart, 'raw', {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'raw' },
      spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'x', image: 'x', livenessProbe: { tcpSocket: { port: 8100 } } }] } } },
    });
    api.bind(raw, 'production');
    app.synth();
    const docs = Testing.synth(chart);
    for (const o of docs) expect(schemaErrors(o)).toEqual([]);
    const rawDoc = docs.find(o => o.metadata.name === 'raw');
    expect(rawDoc.spec.template.spec.containers[0].readinessProbe).toEqual({ httpGet: { path: '/healthz', port: 8100 } });
    expect(rawDoc.spec.template.spec.containers[0].livenessProbe).toEqual({ tcpSocket: { port: 8100 } });
    const cron = docs.find(o => o.kind === 'CronJob');
    expect(cron.metadata.namespace).toBe('shop-development');
    const cronContainer = cron.spec.jobTemplate.spec.template.spec.containers[0];
    expect(cronContainer.ports).toBeUndefined();
    expect(cronContainer.env).toContainEqual({ name: 'API_PORT', value: '9100' });
    expect(cron.spec.jobTemplate.spec.template.metadata.labels).toEqual(expect.objectContaining({ 'app.kubernetes.io/name': 'migrate' }));
  });

  test('a Job bound to a service that serves ports is an error: its Service would send the Job traffic', () => {
    const app = Testing.app();
    const { api } = shop(app);
    api.bind(new kplus.Job(new Chart(app, 'workloads'), 'migrate', { containers: [{ image: 'shop/api:1' }] }), 'production');
    expect(() => app.synth()).toThrow(/Job workloads\/migrate is bound to api, which serves ports in production[\s\S]*fix: declare the job as a client of its own, a service without ports \(ports\.service\('migrate', \{\}\)/);
  });
});

describe('Ingress backends in the app\'s own charts', () => {
  const NO = path.join(os.tmpdir(), 'cdk8s-ports-no-such-lock.json');
  const app = (edge: (chart: Chart, web: ReturnType<PortRegistry['getService']>) => void, namespace?: string) => {
    const a = Testing.app();
    const ports = new PortRegistry(a, 'shop', { environments: { production: { range: [8100, 8199], namespace: 'shop-prod' } }, lockFile: NO });
    ports.service('web', { public: true, ports: { http: Port.offset(1), metrics: Port.offset(90) } });
    edge(new Chart(a, 'edge', namespace ? { namespace } : {}), ports.getService('web'));
    return a;
  };
  const typed = (chart: Chart, port: k8s.ServiceBackendPort) => new k8s.KubeIngress(chart, 'web', {
    spec: { rules: [{ http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port } } }] } }] },
  });

  test('an Ingress from ingressBackend() in the environment\'s namespace is clean', () => {
    const a = app((chart, web) => new kplus.Ingress(chart, 'web', { rules: [{ backend: web.ingressBackend('production', 'http') }] }), 'shop-prod');
    expect(() => a.synth()).not.toThrow();
  });

  test('an Ingress to a registry Service in no namespace, or on a port the Service does not have, is workload-drift', () => {
    const lost = app((chart, web) => new kplus.Ingress(chart, 'web', { rules: [{ backend: web.ingressBackend('production', 'http') }] }));
    expect(() => lost.synth()).toThrow(/Ingress .* routes to Service web, but it is in no namespace \(it lands in default\)[\s\S]*fix: put the Ingress in shop-prod: new Chart\(app, '<id>', \{ namespace: ports\.namespace\('production'\) \}\)/);
    expect(() => app(chart => typed(chart, { number: 8080 }), 'shop-prod').synth())
      .toThrow(/routes to web on port 8080, but web's Service has http 8101, metrics 8190 in the registry \(production\)/);
    expect(() => app(chart => typed(chart, { name: 'htp' }), 'shop-prod').synth()).toThrow(/on port "htp", but web's Service ports are named http, metrics/);
    expect(() => app(chart => typed(chart, { name: 'http' }), 'shop-prod').synth()).not.toThrow();
    // A Service named web in a namespace the registry does not manage is someone else's.
    expect(() => app(chart => typed(chart, { number: 8080 }), 'legacy').synth()).not.toThrow();
  });
});

test('a hand-typed port in a bound workload that disagrees says to remove it, not to bind again', () => {
  const app = Testing.app();
  const ports = new PortRegistry(app, 'shop', { environments: { production: { range: [8100, 8199] } }, lockFile: path.join(os.tmpdir(), 'cdk8s-ports-no-lock.json') });
  const api = ports.service('api', { ports: { http: Port.offset(0) } });
  api.bind(new kplus.Deployment(new Chart(app, 'w'), 'api', { containers: [{ image: 'shop/api:1', portNumber: 8080 }] }), 'production');
  expect(() => app.synth()).toThrow(/containerPort is 8080, but api has ports 8100 in the registry[\s\S]*fix: remove the hand-typed value \(bind\(\) adds api's ports, probe and settings\)/);
});
