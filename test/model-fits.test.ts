import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { parseAllDocuments } from 'yaml';
import { Port, PortRegistry, PortsApp, checkRegistry } from '../lib';
import { dockerCompose } from './support/tools';

/** The model fits what Kubernetes runs: clients without ports, servers on their vendor's port in every band. */

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any
const docsOf = (text: string): Json[] => parseAllDocuments(text).map(d => d.toJS());

test('a service without ports (a queue worker) is declarable: egress policies, connection variables, no Service, and a verified synth', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-worker-'));
  const app = new PortsApp({ manifestsDir: path.join(dir, 'manifests'), outdir: path.join(dir, 'out'), lockFile: path.join(dir, 'lock.json') });
  const ports = new PortRegistry(app, 'shop', { environments: { production: { range: [8100, 8199] } } });
  const api = ports.service('api', { public: true, ports: { http: Port.offset(0) } });
  const queue = ports.external('queue', { kind: 'rabbitmq', cidrs: ['10.0.0.7/32'], port: 5672 });
  const worker = ports.service('worker', { description: 'consumes the queue, calls the API' });
  worker.connectsTo(api, 'http').connectsTo(queue);
  worker.bind(new kplus.Deployment(new Chart(app, 'workloads'), 'worker', { containers: [{ image: 'shop/worker:1' }] }), 'production');
  const result = app.trySynth();
  expect(result.findings.filter(f => !f.waived)).toEqual([]);
  expect(result.ok).toBe(true);
  const k8s = docsOf(result.files.get('k8s/shop-production.k8s.yaml')!);
  expect(k8s.filter(o => o.kind === 'Service').map(o => o.metadata.name)).toEqual(['api']);
  const egress = k8s.filter(o => o.kind === 'NetworkPolicy' && o.spec.podSelector.matchLabels?.['app.kubernetes.io/name'] === 'worker');
  expect(egress.map(o => o.metadata.name).sort()).toEqual(['allow-worker-to-api', 'allow-worker-to-queue']);
  expect(egress.find(o => o.metadata.name === 'allow-worker-to-queue').spec.egress).toEqual([{ to: [{ ipBlock: { cidr: '10.0.0.7/32' } }], ports: [{ port: 5672, protocol: 'TCP' }] }]);
  const deployment = docsOf(result.files.get('k8s/workloads.k8s.yaml')!).find(o => o.kind === 'Deployment');
  expect(deployment.metadata.namespace).toBe('shop-production');
  const env = Object.fromEntries(deployment.spec.template.spec.containers[0].env.map((e: Json) => [e.name, e.value]));
  expect(env).toMatchObject({ API_PORT: '8100', QUEUE_HOST: '10.0.0.7', QUEUE_PORT: '5672' });
  expect(deployment.spec.template.spec.containers[0].ports).toBeUndefined();
});

test('a server on its vendor\'s port in every banded environment of one host: one line, no findings; the five errors say how', () => {
  const environments = { production: { range: [8100, 8199] as [number, number] }, staging: { range: [8200, 8299] as [number, number] }, development: { range: [9100, 9199] as [number, number] } };
  const clean = checkRegistry({ name: 'shop', environments, services: {
    api: { public: true, ports: { http: Port.offset(0) }, connectsTo: [{ to: 'postgres' }] },
    postgres: { kind: 'postgres', ports: { main: Port.container(5432) } },
  } });
  expect(clean.findings).toEqual([]);
  expect(clean.allocations.filter(a => a.service === 'postgres').map(a => [a.environment, a.port, a.targetPort])).toEqual([
    ['production', 8101, 5432], ['staging', 8201, 5432], ['development', 9101, 5432],
  ]);
  const fixed = checkRegistry({ name: 'shop', environments, services: {
    api: { public: true, ports: { http: Port.offset(0) }, connectsTo: [{ to: 'postgres' }] },
    postgres: { kind: 'postgres', ports: { main: Port.fixed(5432) } },
  } });
  const outside = fixed.findings.filter(f => f.rule === 'outside-band');
  expect(outside).toHaveLength(3);
  for (const f of outside) expect(f.fix).toMatch(/^to keep the container on 5432 and publish a port of each band, declare main as \{ auto: true, targetPort: 5432 \}; or /);
  // In code, the fix names the factory.
  const app = Testing.app();
  const ports = new PortRegistry(app, 'shop', { environments, lockFile: path.join(os.tmpdir(), 'cdk8s-ports-none.json') });
  ports.service('postgres', { kind: 'postgres', ports: { main: Port.fixed(5432) } });
  expect(ports.check().findings.find(f => f.rule === 'outside-band')!.fix).toMatch(/declare main as Port\.container\(5432\)/);
});

dockerCompose.test('a service without ports runs in the compose stacks too: docker-compose config reads it with its connection settings and no ports', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-worker-compose-'));
  const app = new PortsApp({ manifestsDir: path.join(dir, 'manifests'), outdir: path.join(dir, 'out'), lockFile: path.join(dir, 'lock.json') });
  const ports = new PortRegistry(app, 'shop', { environments: { production: { range: [8100, 8199] }, development: { range: [9100, 9199] } } });
  const api = ports.service('api', { public: true, ports: { http: Port.offset(0) } });
  ports.service('worker', {}).connectsTo(api, 'http');
  expect(app.trySynth().ok).toBe(true);
  const compose = path.join(dir, 'manifests', 'compose');
  const r = spawnSync('docker-compose', ['-f', 'docker-compose.yml', '-f', 'docker-compose.development.yml', 'config'], { cwd: compose, encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const worker = parseAllDocuments(r.stdout)[0].toJS().services.worker;
  expect(worker.ports).toBeUndefined();
  expect(worker.environment).toMatchObject({ API_HOST: 'api', API_PORT: '9100' });
});

test('public per port: a metrics port that says public: false is left out of the public policy and the firewall, and the synth verifies it so', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-public-port-'));
  const app = new PortsApp({ manifestsDir: path.join(dir, 'manifests'), outdir: path.join(dir, 'out'), lockFile: path.join(dir, 'lock.json') });
  const ports = new PortRegistry(app, 'shop', { environments: { production: { range: [8100, 8199] } } });
  const api = ports.service('api', { public: true, ports: { http: Port.offset(0), metrics: Port.offset(90, { public: false }) } });
  const prom = ports.service('prometheus', { ports: { web: Port.offset(50) } });
  prom.connectsTo(api, 'metrics');
  api.connectsTo(prom, 'web');
  const result = app.trySynth();
  expect(result.findings.filter(f => !f.waived)).toEqual([]);
  expect(result.ok).toBe(true);
  const policy = docsOf(result.files.get('k8s/shop-production.k8s.yaml')!).find(o => o.metadata.name === 'allow-api-from-public');
  expect(policy.spec.ingress[0].ports).toEqual([{ port: 8100, protocol: 'TCP' }]);
  expect(result.files.get('firewall/production.nix')).toMatch(/allowedTCPPorts = \[ 8100 \]/);
  // Every port opting out leaves nothing public: a finding, not a silent no-op.
  expect(checkRegistry({ name: 'r', environments: { production: { range: [8100, 8199] } },
    services: { api: { public: true, ports: { metrics: { offset: 90, public: false } } } } }).findings.map(f => [f.rule, f.message]))
    .toContainEqual(['invalid-value', 'api is public, but every one of its ports says public: false: nothing of it is reached from outside']);
});
