import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ROOT } from './support/project';

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
  const app = (body: string) => `import { App, Chart } from 'cdk8s';
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
