import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';
import { ROOT } from './support/project';
import { schemaErrors, semanticErrors } from './support/k8s-schema';

/**
 * The package as another infra repo gets it: `npm pack`, a throwaway consumer project with its
 * own cdk8s app in TypeScript and in plain CommonJS JavaScript, installed from the tarball.
 */
jest.setTimeout(600_000);

function run(cmd: string, args: string[], cwd: string) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', CDK8S_CHECK_UPGRADE: 'false' }, timeout: 500_000 });
  if (r.error) throw r.error;
  return r;
}

let tarball: string;
let consumer: string;

beforeAll(() => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-pack-'));
  const pack = run('npm', ['pack', '--pack-destination', out, '--json'], ROOT);
  expect(pack.status).toBe(0);
  tarball = path.join(out, JSON.parse(pack.stdout.slice(pack.stdout.indexOf('[')))[0].filename);

  consumer = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-consumer-'));
  const own = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  fs.writeFileSync(path.join(consumer, 'package.json'), JSON.stringify({
    name: 'infra', private: true,
    dependencies: {
      'cdk8s-ports': `file:${tarball}`,
      'cdk8s': own.devDependencies.cdk8s, 'cdk8s-plus-27': own.devDependencies['cdk8s-plus-27'], 'constructs': own.devDependencies.constructs,
    },
    devDependencies: { 'typescript': own.devDependencies.typescript, 'ts-node': own.devDependencies['ts-node'], '@types/node': own.devDependencies['@types/node'] },
  }, null, 2));
  const install = run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], consumer);
  expect(install.stderr).not.toMatch(/ERR!/);
  expect(install.status).toBe(0);
});

test('the published types have no internals and the packed package.json runs nothing on install', () => {
  const dir = path.join(consumer, 'node_modules', 'cdk8s-ports');
  const types = ['constructs/port-registry.d.ts', 'constructs/registered-service.d.ts', 'constructs/registered-external.d.ts', 'constructs/registry-charts.d.ts', 'constructs/ports-app.d.ts', 'index.d.ts'].map(f => fs.readFileSync(path.join(dir, 'build', 'lib', f), 'utf8')).join('\n');
  expect(types).not.toMatch(/@internal|\bprivate\b|_resolution|_handOut|pipelineInput/);
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  expect(Object.keys(manifest.scripts ?? {}).filter(s => /^(pre|post)?install$|^prepare$/.test(s))).toEqual([]);
});

test('the README quick start, copied as it is into a fresh app, synthesizes schema-valid output with `cdk8s synth`', () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Use it in your cdk8s app'));
  const code = /```ts\n([\s\S]*?)```/.exec(section)![1];
  const config = /```yaml\n(language: typescript[\s\S]*?)```/.exec(section)![1];
  const dir = path.join(consumer, 'quickstart');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'main.ts'), code);
  // The README's tsconfig.json as it is (ts-node on Node 20 needs one; without it `main.ts` is an unknown file extension).
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), /```json\n(\{ "compilerOptions"[\s\S]*?)```/.exec(section)![1]);
  fs.writeFileSync(path.join(dir, 'cdk8s.yaml'), config.replace(/npx ts-node/, `${path.join(consumer, 'node_modules', '.bin', 'ts-node')}`));
  const r = run(path.join(ROOT, 'node_modules', '.bin', 'cdk8s'), ['synth', '--no-check-upgrade'], dir);
  expect(r.stderr).not.toMatch(/Error/);
  expect(r.status).toBe(0);
  const objects = fs.readdirSync(path.join(dir, 'dist')).flatMap(f => parseAllDocuments(fs.readFileSync(path.join(dir, 'dist', f), 'utf8')).map(d => d.toJS()));
  expect(objects.map(o => o.kind)).toEqual(expect.arrayContaining(['Namespace', 'Service', 'NetworkPolicy', 'Deployment']));
  for (const o of objects) expect({ object: `${o.kind}/${o.metadata?.name}`, errors: [...schemaErrors(o), ...semanticErrors(o)] }).toEqual({ object: `${o.kind}/${o.metadata?.name}`, errors: [] });
  expect(fs.existsSync(path.join(dir, 'ports.lock.json'))).toBe(true);
});

test('the tarball holds the compiled library, the CLI and the schema, and no tests or fixtures', () => {
  const files = run('tar', ['-tzf', tarball], ROOT).stdout.split('\n').filter(Boolean);
  expect(files).toEqual(expect.arrayContaining(['package/build/lib/index.js', 'package/build/lib/index.d.ts', 'package/bin/cdk8s-ports.js',
    'package/schema/ports.schema.json', 'package/README.md', 'package/CHANGELOG.md']));
  expect(files.filter(f => /\/(test|tests|examples|manifests|scripts)\/|\.test\.|__snapshots__|fixtures/.test(f))).toEqual([]);
  expect(files.filter(f => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
});

const REGISTRY = `
  const ports = new PortRegistry(app, 'shop', {
    environments: { production: { range: [8100, 8199] }, development: { range: [9100, 9199] } },
  });
  const api = ports.service('api', { public: true, ports: { http: { offset: 10 } } });
  const worker = ports.service('worker', { ports: { metrics: { offset: 20 } } });
  api.connectsTo(worker, 'metrics');
  app.synth();
`;

test('a TypeScript cdk8s app imports the constructs, type-checks and synthesizes its own registry', () => {
  fs.writeFileSync(path.join(consumer, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, module: 'commonjs', target: 'ES2022', esModuleInterop: true, skipLibCheck: false } }));
  fs.writeFileSync(path.join(consumer, 'main.ts'), `import { PortsApp, PortRegistry, ResolvedRegistry } from 'cdk8s-ports';\nconst app = new PortsApp();\n${REGISTRY}\nconst check: ResolvedRegistry = ports.check();\nif (!check.ok) process.exit(3);\n`);
  const r = run(path.join(consumer, 'node_modules', '.bin', 'ts-node'), ['main.ts'], consumer);
  expect(r.stderr).toMatch(/wrote \d+ files to manifests\//);
  expect(r.status).toBe(0);
  const prod = fs.readFileSync(path.join(consumer, 'manifests', 'k8s', 'shop-production.k8s.yaml'), 'utf8');
  expect(prod).toMatch(/name: api\n\s+namespace: shop-production/);
  expect(prod).toMatch(/port: 8110/);
  expect(prod).toMatch(/name: allow-worker-from-api/);
});

test('a plain CommonJS JavaScript app works too', () => {
  const dir = path.join(consumer, 'js');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'app.js'), `const { PortsApp, PortRegistry } = require('cdk8s-ports');\nconst app = new PortsApp();\n${REGISTRY}`);
  const r = run(process.execPath, ['app.js'], dir);
  expect(r.status).toBe(0);
  expect(fs.readFileSync(path.join(dir, 'manifests', 'k8s', 'shop-development.k8s.yaml'), 'utf8')).toMatch(/port: 9110/);
});

test('npx cdk8s-ports check runs in the consumer project', () => {
  const r = run('npx', ['cdk8s-ports', 'check', '--json'], consumer);
  expect(r.status).toBe(0);
  expect(JSON.parse(r.stdout).registries.map((x: { name: string }) => x.name)).toEqual(['shop']);
  const help = run('npx', ['cdk8s-ports', '--help'], consumer);
  expect(help.stdout).toMatch(/suggest/);
});

describe('a plain cdk8s App in the consumer, run by `cdk8s synth`', () => {
  const CDK8S = path.join(ROOT, 'node_modules', '.bin', 'cdk8s');
  const app = (body: string) => `import * as cdk8s from 'cdk8s';
import { App, Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-27';
import * as kplus from 'cdk8s-plus-27';
import { Port, PortRegistry } from 'cdk8s-ports';
const app = new App();
const ports = new PortRegistry(app, 'shop', { environments: { production: { range: [8100, 8199] } } });
const api = ports.service('api', { public: true, healthCheck: { path: '/healthz', port: 'http' }, ports: { http: Port.auto() } });
const worker = ports.service('worker', { ports: { metrics: Port.offset(20) } });
api.connectsTo(worker, 'metrics');
const workloads = new Chart(app, 'workloads');
${body}
app.synth();
`;
  let dir: string;
  const synth = (body: string) => {
    fs.writeFileSync(path.join(dir, 'main.ts'), app(body));
    fs.rmSync(path.join(dir, 'dist'), { recursive: true, force: true });
    return run(CDK8S, ['synth', '--no-check-upgrade'], dir);
  };
  const docs = () => fs.readdirSync(path.join(dir, 'dist')).map(f => fs.readFileSync(path.join(dir, 'dist', f), 'utf8')).join('\n---\n');

  beforeAll(() => {
    dir = path.join(consumer, 'plain');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, module: 'commonjs', target: 'ES2022', esModuleInterop: true } }));
    fs.writeFileSync(path.join(dir, 'cdk8s.yaml'), `language: typescript\napp: ${path.join(consumer, 'node_modules', '.bin', 'ts-node')} -T main.ts\n`);
    // The lock pins api.http to 8102: a fresh allocation would have taken 8100.
    fs.writeFileSync(path.join(dir, 'ports.lock.json'), JSON.stringify({ lockfileVersion: 1, registries: { shop: { ports: { 'production/api/http': 8102 }, offsets: {} } } }));
  });

  test('a bound kplus Deployment takes the container port (pinned in the lock), pod labels and connection variables of the registry', () => {
    const r = synth(`api.bind(new kplus.Deployment(workloads, 'api', { containers: [{ image: 'shop/api:1' }] }), 'production');`);
    expect(r.stderr + r.stdout).not.toMatch(/Error/);
    expect(r.status).toBe(0);
    const out = docs();
    expect(out).toMatch(/kind: Service[\s\S]*name: api[\s\S]*port: 8102/);
    expect(out).toMatch(/containerPort: 8102\n\s+name: http/);
    expect(out).toMatch(/app\.kubernetes\.io\/name: api/);
    expect(out).toMatch(/name: WORKER_PORT\n\s+value: "8120"/);
    expect(out).toMatch(/name: WORKER_HOST\n\s+value: worker\.shop-production\.svc\.cluster\.local/);
    expect(out).toMatch(/readinessProbe:\n\s+httpGet:\n\s+path: \/healthz\n\s+port: 8102/);
  });

  test('the user\'s own workloads keep every field they wrote: kplus Deployment, StatefulSet and Job, a typed KubeDeployment; every object is schema-valid', () => {
    const r = synth(`
const deployment = new kplus.Deployment(workloads, 'web', {
  containers: [{ image: 'shop/web:1', resources: { cpu: { limit: kplus.Cpu.millis(500) }, memory: { limit: cdk8s.Size.mebibytes(256) } },
    liveness: kplus.Probe.fromTcpSocket({ port: 8102 }), startup: kplus.Probe.fromHttpGet('/start', { port: 8102 }),
    envVariables: { MODE: kplus.EnvValue.fromValue('on') }, volumeMounts: [{ path: '/cache', volume: kplus.Volume.fromEmptyDir(workloads, 'cache', 'cache') }] }],
});
api.bind(deployment, 'production');
const db = new kplus.StatefulSet(workloads, 'db', { containers: [{ image: 'shop/db:1' }], service: worker.headlessService(workloads, 'production') });
worker.bind(db, 'production');
new kplus.Job(workloads, 'migrate', { containers: [{ image: 'shop/migrate:1', envVariables: { STEP: kplus.EnvValue.fromValue('all') } }] });
const typed = new k8s.KubeDeployment(workloads, 'typed', { spec: { selector: { matchLabels: { app: 'typed' } }, template: { metadata: { labels: { app: 'typed' } }, spec: {
  volumes: [{ name: 'data', emptyDir: {} }],
  containers: [{ name: 'typed', image: 'shop/typed:1', resources: { limits: { cpu: k8s.Quantity.fromString('250m'), memory: k8s.Quantity.fromString('128Mi') } },
    livenessProbe: { tcpSocket: { port: k8s.IntOrString.fromNumber(8102) } }, startupProbe: { httpGet: { path: '/', port: k8s.IntOrString.fromString('http') } },
    readinessProbe: { exec: { command: ['true'] } }, env: [{ name: 'LOG', value: 'debug' }], volumeMounts: [{ name: 'data', mountPath: '/data' }] }] } } } });
api.bind(typed, 'production');
`);
    expect(r.stderr + r.stdout).not.toMatch(/Error/);
    expect(r.status).toBe(0);
    const objects = fs.readdirSync(path.join(dir, 'dist')).flatMap(f => parseAllDocuments(fs.readFileSync(path.join(dir, 'dist', f), 'utf8')).map(d => d.toJS()));
    for (const o of objects) expect({ object: `${o.kind}/${o.metadata?.name}`, errors: [...schemaErrors(o), ...semanticErrors(o)] }).toEqual({ object: `${o.kind}/${o.metadata?.name}`, errors: [] });
    const web = objects.find(o => o.kind === 'Deployment' && o.metadata.name.includes('web')).spec.template.spec.containers[0];
    expect(web.resources.limits).toEqual({ cpu: '500m', memory: '256Mi' });
    expect(web.livenessProbe.tcpSocket).toEqual({ port: 8102 });
    expect(web.startupProbe.httpGet).toMatchObject({ path: '/start', port: 8102 });
    expect(web.env[0]).toEqual({ name: 'MODE', value: 'on' });
    expect(web.volumeMounts).toEqual([expect.objectContaining({ mountPath: '/cache', name: 'cache' })]);
    const typed = objects.find(o => o.metadata.name.includes('typed')).spec.template.spec.containers[0];
    expect(typed.resources).toEqual({ limits: { cpu: '250m', memory: '128Mi' } });
    expect(typed.livenessProbe).toEqual({ tcpSocket: { port: 8102 } });
    expect(typed.startupProbe).toEqual({ httpGet: { path: '/', port: 'http' } });
    const headless = objects.find(o => o.kind === 'Service' && o.metadata.name === 'worker-headless');
    expect(headless).toMatchObject({ metadata: { namespace: 'shop-production' }, spec: { clusterIP: 'None', ports: [{ name: 'metrics', port: 8120 }] } });
    expect(objects.find(o => o.kind === 'StatefulSet').metadata.namespace).toBe('shop-production');
  });

  test('a collision makes `cdk8s synth` exit non-zero with the finding', () => {
    const r = synth(`ports.service('clash', { public: true, ports: { http: Port.offset(20) } });`);
    expect(r.status).not.toBe(0);
    expect(r.stderr + r.stdout).toMatch(/\[collision\][\s\S]*port 8120\/TCP of clash\.http \(production\) is already taken by worker\.metrics/);
  });

  test('a hand-typed wrong containerPort in a bound service\'s Deployment fails with workload-drift', () => {
    const r = synth(`new kplus.Deployment(workloads, 'api', { podMetadata: { labels: api.podLabels } as never, containers: [{ image: 'shop/api:1', portNumber: 8101 }] });`);
    expect(r.status).not.toBe(0);
    expect(r.stderr + r.stdout).toMatch(/\[workload-drift\][\s\S]*containerPort is 8101, but api has ports 8102/);
  });
});
