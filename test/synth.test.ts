import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';
import { ApiObject, Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { PortRegistry, PortsApp } from '../lib';
import { defineAura, defineLumiere } from '../main';
import { realisticRegistry } from '../bench/generate';
import { schemaErrors, semanticErrors } from './support/k8s-schema';
import { ROOT, cdk8sSynth, tempProject, treeHashes, treeTexts } from './support/project';

function synthInProcess(options: { charts?: boolean } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-inproc-'));
  const app = new PortsApp({ manifestsDir: path.join(dir, 'manifests'), outdir: path.join(dir, 'staging'), lockFile: path.join(dir, 'ports.lock.json') });
  const lumiere = defineLumiere(app);
  const previous = process.cwd();
  process.chdir(ROOT); // the AURA registry file is read relative to the project
  try {
    const aura = defineAura(app);
    // Asking for a chart builds the registry's constructs: the synth then renders them through cdk8s.
    if (options.charts) for (const r of [lumiere, aura]) for (const env of r._resolution().environments) r.chart(env.name);
    const result = app.trySynth();
    return { result, dir, files: treeTexts(path.join(dir, 'manifests')), registries: [lumiere, aura] };
  } finally {
    process.chdir(previous);
  }
}

const docsOf = (text: string) => parseAllDocuments(text).map(d => d.toJS());

describe('the example (Lumiere)', () => {
  const { result, files } = synthInProcess();

  test('checks clean: no errors, no warnings, and every exception is waived with a reason', () => {
    expect(result.ok).toBe(true);
    expect(result.findings.filter(f => !f.waived)).toEqual([]);
    expect(result.findings.filter(f => f.where.registry === 'lumiere')).toHaveLength(5);
    for (const f of result.findings) expect(f.waived!.length).toBeGreaterThan(20);
  });

  test('has one namespace per environment and the band ports as Service ports', () => {
    const expected: Record<string, [string, Record<string, number>]> = {
      production: ['lumiere-prod', { pourtier: 8000, courier: 8765, passeur: 8766 }],
      development: ['lumiere-dev', { pourtier: 9000, courier: 9765, passeur: 9766 }],
      test: ['lumiere-test', { pourtier: 7000, courier: 7765, passeur: 7766 }],
    };
    for (const [env, [namespace, ports]] of Object.entries(expected)) {
      const docs = docsOf(files[`k8s/lumiere-${env}.k8s.yaml`]);
      expect(docs.filter(d => d.kind === 'Namespace').map(d => d.metadata.name)).toEqual([namespace]);
      const services = docs.filter(d => d.kind === 'Service');
      expect(Object.fromEntries(services.map(s => [s.metadata.name, s.spec.ports[0].port]))).toEqual(ports);
      for (const s of services) {
        expect(s.metadata.namespace).toBe(namespace);
        expect(s.spec.selector).toEqual({ 'app.kubernetes.io/name': s.metadata.name });
        expect(s.spec.ports[0].targetPort).toBe(s.spec.ports[0].port);
      }
    }
  });

  test('every emitted Kubernetes object is valid against the 1.27 schema and the name rules', () => {
    const objects = Object.entries(files).filter(([f]) => f.startsWith('k8s/lumiere-')).flatMap(([, t]) => docsOf(t));
    const count = (kind: string) => objects.filter(o => o.kind === kind).length;
    expect([count('Namespace'), count('Service'), count('NetworkPolicy')]).toEqual([3, 9, 27]);
    const all = Object.entries(files).filter(([f]) => f.startsWith('k8s/')).flatMap(([, t]) => docsOf(t)); // AURA's too
    expect(all.length).toBeGreaterThan(objects.length);
    for (const o of all) {
      expect({ name: o.metadata.name, errors: [...schemaErrors(o), ...semanticErrors(o)] }).toEqual({ name: o.metadata.name, errors: [] });
    }
  });

  test("the example's own Deployments are valid and agree with the registry's Services: ports, labels, namespace, probe", () => {
    const deployments = docsOf(files['k8s/lumiere-workloads.k8s.yaml']);
    expect(deployments.map(d => d.metadata.name)).toEqual(['pourtier', 'courier', 'passeur']);
    const services = docsOf(files['k8s/lumiere-production.k8s.yaml']).filter(o => o.kind === 'Service');
    for (const d of deployments) {
      expect({ name: d.metadata.name, errors: [...schemaErrors(d), ...semanticErrors(d)] }).toEqual({ name: d.metadata.name, errors: [] });
      const svc = services.find(x => x.metadata.name === d.metadata.name)!;
      expect(d.metadata.namespace).toBe(svc.metadata.namespace);
      for (const [k, v] of Object.entries(svc.spec.selector)) expect(d.spec.template.metadata.labels[k]).toBe(v);
      const container = d.spec.template.spec.containers[0];
      expect(container.ports).toEqual(svc.spec.ports.map((p: { name: string; targetPort: number; protocol: string }) => ({ containerPort: p.targetPort, name: p.name, protocol: p.protocol })));
    }
    expect(deployments[0].spec.template.spec.containers[0].readinessProbe).toEqual({ httpGet: { path: '/health', port: 8000 } });
    const env = Object.fromEntries(deployments[0].spec.template.spec.containers[0].env.map((e: { name: string; value: string }) => [e.name, e.value]));
    expect(env).toMatchObject({ COURIER_PORT: '8765', COURIER_URL: 'ws://courier.lumiere-prod.svc.cluster.local:8765', REDIS_URL: 'redis://10.20.0.10:6379' });
  });

  test('names are stable and readable: no hash suffixes', () => {
    for (const text of Object.values(files)) expect(text).not.toMatch(/-[0-9a-f]{8}\b/);
  });

  test('ports.json lists every allocation and every finding', () => {
    const doc = JSON.parse(files['ports.json']);
    expect(doc.registry).toBe('lumiere');
    const row = (env: string, service: string) => doc.allocations.find((a: any) => a.environment === env && a.service === service);
    expect(row('production', 'courier')).toMatchObject({ portName: 'ws', port: 8765, targetPort: 8765, protocol: 'TCP', status: 'active' });
    expect(row('test', 'postgres-test')).toMatchObject({ of: 'external', port: 5433 });
    expect(row('development', 'postgres-test')).toBeUndefined();
    expect(row('production', 'pourtier')).toMatchObject({ port: 8000, fallback: 18000, iana: 'irdmi' });
    // 3 services in 3 environments; postgres in 2, postgres-test in 1, redis, influxdb and the mirror in 3.
    expect(doc.allocations).toHaveLength(3 * 3 + 2 + 1 + 3 * 3);
    expect(doc.findings.map((f: any) => f.rule).sort()).toEqual(result.registries.get('lumiere')!.findings.map(f => f.rule).sort());
  });

  // The whole tree is compared with the committed manifests/ below; these pin what a reader checks by eye.
  test('the production .env: every published port and connection URL, credentials as references', () => {
    expect(files['env/production.env']).toMatchInlineSnapshot(`
"# Generated by cdk8s-ports from registry lumiere, environment production. Do not edit.
# Ports as published on the host. \${VARIABLE} references are yours to supply (no secret is ever written here).
# Set before use (unset, the URLs that refer to them are incomplete): POSTGRES_DB, POSTGRES_PASSWORD, POSTGRES_USER
COURIER_URL=ws://localhost:8765
COURIER_WS_PORT=8765
DATABASE_URL=postgres://\${POSTGRES_USER}:\${POSTGRES_PASSWORD}@localhost:5432/\${POSTGRES_DB}
INFLUXDB_MAIN_PORT=8086
PASSEUR_HTTP_PORT=8766
PASSEUR_URL=http://localhost:8766
POSTGRES_MAIN_PORT=5432
POSTGRES_URL=postgres://\${POSTGRES_USER}:\${POSTGRES_PASSWORD}@localhost:5432/\${POSTGRES_DB}
POURTIER_HTTP_PORT=8000
POURTIER_HTTP_PORT_ALT=18000
PYPI_MIRROR_MAIN_PORT=9001
REDIS_MAIN_PORT=6379
REDIS_URL=redis://localhost:6379
"
`);
  });

  test('the production compose overlay: published ports and the settings of each container', () => {
    expect(files['compose/docker-compose.production.yml']).toMatchInlineSnapshot(`
"# Generated by cdk8s-ports from registry lumiere: overlay for environment production.
# Do not edit: change the registry and synthesize again.
services:
  courier:
    ports:
      - target: 8765
        published: 8765
        protocol: tcp
        x-name: ws
    environment:
      PORT: "8765"
      PASSEUR_HOST: passeur
      PASSEUR_PORT: "8766"
      PASSEUR_URL: http://passeur:8766
  passeur:
    ports:
      - target: 8766
        published: 8766
        protocol: tcp
        x-name: http
    environment:
      PORT: "8766"
  pourtier:
    ports:
      - target: 8000
        published: 8000
        protocol: tcp
        x-name: http
    environment:
      PORT: "8000"
      COURIER_HOST: courier
      COURIER_PORT: "8765"
      COURIER_URL: ws://courier:8765
      DATABASE_URL: postgres://\${POSTGRES_USER:?POSTGRES_USER}:\${POSTGRES_PASSWORD:?POSTGRES_PASSWORD}@host.docker.internal:5432/\${POSTGRES_DB:?POSTGRES_DB}
      POSTGRES_HOST: host.docker.internal
      POSTGRES_PORT: "5432"
      POSTGRES_URL: postgres://\${POSTGRES_USER:?POSTGRES_USER}:\${POSTGRES_PASSWORD:?POSTGRES_PASSWORD}@host.docker.internal:5432/\${POSTGRES_DB:?POSTGRES_DB}
      REDIS_HOST: host.docker.internal
      REDIS_PORT: "6379"
      REDIS_URL: redis://host.docker.internal:6379
    extra_hosts:
      - host.docker.internal:host-gateway
"
`);
  });

  test('the files written, by name', () => {
    expect(Object.keys(files).sort()).toMatchInlineSnapshot(`
[
  ".cdk8s-ports-written.json",
  "PORTS.md",
  "aura/PORTS.md",
  "aura/compose/docker-compose.development.yml",
  "aura/compose/docker-compose.yml",
  "aura/connections.md",
  "aura/env/development.env",
  "aura/firewall/development.nix",
  "aura/ports.json",
  "aura/ports.svg",
  "aura/traffic-development.svg",
  "compose/docker-compose.development.yml",
  "compose/docker-compose.production.yml",
  "compose/docker-compose.test.yml",
  "compose/docker-compose.yml",
  "connections.md",
  "env/development.env",
  "env/production.env",
  "env/test.env",
  "firewall/development.nix",
  "firewall/production.nix",
  "firewall/test.nix",
  "k8s/aura-development.k8s.yaml",
  "k8s/lumiere-development.k8s.yaml",
  "k8s/lumiere-production.k8s.yaml",
  "k8s/lumiere-test.k8s.yaml",
  "k8s/lumiere-workloads.k8s.yaml",
  "ports.json",
  "ports.svg",
  "traffic-development.svg",
  "traffic-production.svg",
  "traffic-test.svg",
]
`);
  });

  test('registry objects rendered as data are byte for byte what their constructs render', () => {
    const asData = synthInProcess();
    const asConstructs = synthInProcess({ charts: true });
    expect(asConstructs.result.ok).toBe(true);
    expect(asData.registries.map(r => r._output.hasCharts)).toEqual([false, false]);
    expect(asConstructs.registries.map(r => r._output.hasCharts)).toEqual([true, true]);
    const k8sFiles = Object.keys(asData.files).filter(f => f.includes('/k8s/') || f.startsWith('k8s/'));
    expect(k8sFiles.length).toBeGreaterThanOrEqual(4);
    expect(asData.files).toEqual(asConstructs.files);
  });

  test('the same holds for a generated registry: categories, externals with addresses, automatic ports, many policies', () => {
    const render = (charts: boolean) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-gen-'));
      const app = new PortsApp({ manifestsDir: path.join(dir, 'manifests'), outdir: path.join(dir, 'staging'), lockFile: path.join(dir, 'ports.lock.json') });
      const { services, externals, name, ...props } = realisticRegistry(60);
      const registry = new PortRegistry(app, name, props);
      for (const [n, e] of Object.entries(externals ?? {})) registry.external(n, e);
      for (const [n, svc] of Object.entries(services ?? {})) registry.service(n, svc);
      if (charts) for (const env of registry._resolution().environments) registry.chart(env.name);
      expect(app.trySynth().ok).toBe(true);
      return treeTexts(path.join(dir, 'manifests'));
    };
    const asData = render(false);
    expect(Object.keys(asData).filter(f => f.startsWith('k8s/'))).toHaveLength(3);
    expect(asData).toEqual(render(true));
  });

  test('two synths of the same registry are byte-identical', () => {
    expect(synthInProcess().files).toEqual(files);
  });

  test('the committed manifests/ equal what the registry produces', () => {
    expect(treeTexts(path.join(ROOT, 'manifests'))).toEqual(files);
  });
});

// A mutation run (npm run mutate sets CDK8S_PORTS_MUTATION) leaves these two out: they run the same
// core as the in-process tests above, in child processes, for 15-20 s per mutant.
(process.env.CDK8S_PORTS_MUTATION ? describe.skip : describe)('cdk8s synth (the real CLI)', () => {
  let dir: string;
  beforeAll(() => { dir = tempProject(); });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('synthesizes the example into manifests/ and a second run changes no byte', () => {
    fs.rmSync(path.join(dir, 'manifests'), { recursive: true, force: true });
    const first = cdk8sSynth(dir);
    expect(first.status).toBe(0);
    const hashes = treeHashes(path.join(dir, 'manifests'));
    expect(Object.keys(hashes)).toEqual(expect.arrayContaining(['k8s/lumiere-development.k8s.yaml', 'k8s/lumiere-production.k8s.yaml', 'k8s/lumiere-test.k8s.yaml', 'ports.json']));
    expect(treeTexts(path.join(dir, 'manifests'))).toEqual(synthInProcess().files);
    expect(cdk8sSynth(dir).status).toBe(0);
    expect(treeHashes(path.join(dir, 'manifests'))).toEqual(hashes);
    // `npm run synth` leaves manifests/ only, not the cdk8s CLI's staging copy beside it.
    const npmRun = spawnSync(process.execPath, [path.join(dir, 'scripts', 'synth.js')], { cwd: dir, encoding: 'utf8' });
    expect(npmRun.status).toBe(0);
    expect(fs.existsSync(path.join(dir, '.cdk8s.out'))).toBe(false);
    expect(treeHashes(path.join(dir, 'manifests'))).toEqual(hashes);
  });

  test('a registry with two services on one port fails, names both, the port, the environment and the next free port, and writes nothing', () => {
    expect(cdk8sSynth(dir).status).toBe(0);
    const before = treeHashes(path.join(dir, 'manifests'));
    const main = fs.readFileSync(path.join(dir, 'main.ts'), 'utf8');
    fs.writeFileSync(path.join(dir, 'main.ts'), main.replace("ports: { http: Port.offset(766, { appProtocol: 'http' }) }", "ports: { http: Port.offset(765, { appProtocol: 'http' }) }"));
    try {
      const run = cdk8sSynth(dir);
      expect(run.status).not.toBe(0);
      expect(run.stderr).toMatch(/\[collision\] lumiere \/ production \/ passeur\.http \/ port 8765/);
      expect(run.stderr).toMatch(/already taken by courier\.ws \(production\)/);
      // The port is given by an offset (Port.offset(765)): the fix is the offset, in the construct API's syntax, for every band.
      expect(run.stderr).toMatch(/give passeur\.http another offset from the band: the next one free in every environment it runs in is Port\.offset\(766\) \(port 8766 in production, port 9766 in development, port 7766 in test\)/);
      expect(run.stderr).toMatch(/nothing was written/);
      expect(run.stderr).not.toMatch(/\n\s+at .*\.(ts|js):\d+/); // no stack trace
      expect(treeHashes(path.join(dir, 'manifests'))).toEqual(before);
      // `npm run synth` ends with the product's own line, not the cdk8s CLI's "app expected to create .cdk8s.out".
      const npmRun = spawnSync(process.execPath, [path.join(dir, 'scripts', 'synth.js')], { cwd: dir, encoding: 'utf8' });
      expect(npmRun.status).not.toBe(0);
      expect(npmRun.stderr).not.toMatch(/synthesis failed, app expected to create/);
      expect(npmRun.stderr.trim().split('\n').pop()).toBe('synth stopped: nothing was written, manifests/ is unchanged');
      // Run without the cdk8s CLI, the app itself exits non-zero.
      const direct = spawnSync(path.join(ROOT, 'node_modules/.bin/ts-node'), ['-T', 'main.ts'], { cwd: dir, encoding: 'utf8' });
      expect(direct.status).toBe(1);
      expect(direct.stderr).toMatch(/3 errors/);
      expect(treeHashes(path.join(dir, 'manifests'))).toEqual(before);
    } finally {
      fs.writeFileSync(path.join(dir, 'main.ts'), main);
    }
  });
});

test('charts a user adds beside the registries are written under their own names, nested ones too', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-extra-'));
  const app = new PortsApp({ manifestsDir: path.join(dir, 'manifests'), outdir: path.join(dir, 'staging'), lockFile: path.join(dir, 'ports.lock.json') });
  new PortRegistry(app, 'shop', { environments: { production: { range: [8000, 8099] } } })
    .service('api', { public: true, ports: { http: { offset: 0 } } });
  const extras = new Chart(app, 'extras');
  new ApiObject(extras, 'settings', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data: { mode: 'on' } });
  const group = new Construct(app, 'group');
  new ApiObject(new Chart(group, 'nested'), 'flags', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'flags' } });
  const result = app.trySynth();
  expect(result.ok).toBe(true);
  const files = treeTexts(path.join(dir, 'manifests'));
  expect(Object.keys(files).filter(f => f.endsWith('.k8s.yaml')).sort()).toEqual(['k8s/extras.k8s.yaml', 'k8s/group-nested.k8s.yaml', 'k8s/shop-production.k8s.yaml']);
  expect(docsOf(files['k8s/extras.k8s.yaml'])).toEqual([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data: { mode: 'on' } }]);
  expect(docsOf(files['k8s/group-nested.k8s.yaml'])[0].metadata.name).toBe('flags');
  expect(files['k8s/shop-production.k8s.yaml']).toContain('kind: Service');

  // Two charts whose paths read the same (a-b and a/b) would overwrite each other: the synth stops.
  const clash = new PortsApp({ manifestsDir: path.join(dir, 'clash'), outdir: path.join(dir, 'staging2'), lockFile: path.join(dir, 'clash.lock.json') });
  new Chart(clash, 'a-b');
  new Chart(new Construct(clash, 'a'), 'b');
  const failed = clash.trySynth();
  expect(failed.ok).toBe(false);
  expect(failed.problem).toMatch(/chart a\/b would be written to k8s\/a-b\.k8s\.yaml, which another chart .* already uses/);
  expect(fs.existsSync(path.join(dir, 'clash'))).toBe(false);
});
