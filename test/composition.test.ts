import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PortsApp, PortRegistry, RegistryBase } from '../lib';

/** An organisation-wide base: two environments on shared hosts, avoided ports, shared infrastructure. */
const ORG: RegistryBase = {
  name: 'org',
  environments: { production: { range: [20000, 20999] }, staging: { range: [21000, 21999] } },
  categories: { platform: { ranges: [[5400, 5499]] } },
  avoid: { ports: [{ port: 20080, reason: 'the shared proxy' }] },
  externals: { db: { kind: 'postgres', category: 'platform', cidrs: ['10.0.0.5/32'], ports: { main: { port: 5432 } } } },
};

function app() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-org-'));
  return { dir, app: new PortsApp({ manifestsDir: path.join(dir, 'manifests'), outdir: path.join(dir, 'staging'), lockFile: path.join(dir, 'lock.json') }) };
}

test('a team registry inherits environments, ranges, avoided ports and infrastructure from the base', () => {
  const { app: a } = app();
  const team = new PortRegistry(a, 'payments', { extends: ORG });
  team.service('api', { public: true, ports: { http: { offset: 80 } } }).connectsTo('db');
  const resolved = team.check();
  expect(resolved.spec.base).toBe('org');
  expect(resolved.environments.map(e => e.name)).toEqual(['production', 'staging']);
  // offset 80 lands on the base's avoided 20080 in production
  expect(resolved.findings.map(f => [f.rule, f.where.environment, f.where.port])).toEqual([['avoided-port', 'production', 20080]]);
  expect(resolved.findings[0].message).toMatch(/the shared proxy/);
});

test("a team's service on a port of the base's infrastructure collides", () => {
  const { app: a } = app();
  const team = new PortRegistry(a, 'payments', { extends: ORG });
  team.service('cache', { public: true, category: 'platform', ports: { main: { port: 5432 } } });
  expect(team.check().findings.filter(f => f.rule === 'collision').map(f => f.where)).toEqual([
    expect.objectContaining({ service: 'cache', environment: 'production', port: 5432, other: 'db.main (external)' }),
    expect.objectContaining({ service: 'cache', environment: 'staging', port: 5432, other: 'db.main (external)' }),
  ]);
});

test('two team registries on one base are checked against each other, and the synth stops', () => {
  const { dir, app: a } = app();
  const payments = new PortRegistry(a, 'payments', { extends: ORG, outputDir: 'payments' });
  payments.service('api', { public: true, ports: { http: { offset: 10 } } });
  const search = new PortRegistry(a, 'search', { extends: ORG, outputDir: 'search' });
  search.service('indexer', { public: true, ports: { http: { offset: 10 } } });
  const result = a.trySynth();
  expect(result.ok).toBe(false);
  const cross = result.findings.filter(f => f.rule === 'collision');
  expect(cross.map(f => [f.where.registry, f.where.service, f.where.environment, f.where.port, f.where.other])).toEqual([
    ['search', 'indexer', 'production', 20010, 'payments:api.http'],
    ['search', 'indexer', 'staging', 21010, 'payments:api.http'],
  ]);
  expect(cross[0].fix).toMatch(/move indexer\.http in production to 20000, the next port free in both registries/);
  expect(fs.existsSync(path.join(dir, 'manifests'))).toBe(false);
});

test('registries without a common base may reuse numbers', () => {
  const { app: a } = app();
  new PortRegistry(a, 'one', { environments: { production: { range: [20000, 20999] } }, outputDir: 'one' })
    .service('api', { public: true, ports: { http: { offset: 10 } } });
  new PortRegistry(a, 'two', { environments: { production: { range: [20000, 20999] } }, outputDir: 'two' })
    .service('api', { public: true, ports: { http: { offset: 10 } } });
  expect(a.trySynth().ok).toBe(true);
});

test('a base can be a file, and a registry file can extend it', () => {
  const { dir, app: a } = app();
  fs.writeFileSync(path.join(dir, 'org.yaml'), 'name: org\nenvironments:\n  production: { range: [20000, 20999] }\navoid:\n  ports: [20001]\n');
  fs.writeFileSync(path.join(dir, 'ports.yaml'), 'name: team\nextends: org.yaml\nservices:\n  api:\n    public: true\n    ports:\n      http: { auto: true }\n');
  const fromFile = PortRegistry.fromFile(a, 'team', path.join(dir, 'ports.yaml')).check();
  expect(fromFile.spec.base).toBe('org');
  expect(fromFile.allocations.map(x => x.port)).toEqual([20000]);
  const viaPath = new PortRegistry(a, 'other', { extends: path.join(dir, 'org.yaml') });
  viaPath.service('web', { public: true, ports: { http: { offset: 1 } } });
  expect(viaPath.check().findings.map(f => f.rule)).toEqual(['avoided-port']);
});

test('a base with services, or one that cannot be read, is reported', () => {
  const { app: a } = app();
  const withServices = new PortRegistry(a, 'x', { extends: { ...ORG, services: { web: { ports: { http: { port: 20001 } } } } } });
  expect(withServices.check().findings[0].message).toMatch(/base org declares services \(web\)/);
  const missing = new PortRegistry(a, 'y', { extends: '/nonexistent/org.yaml' });
  expect(missing.check().findings[0].message).toMatch(/base registry \/nonexistent\/org.yaml does not exist/);
});

describe('output folders stay inside the manifests folder', () => {
  const app = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-outdir-'));
    return { dir, app: new PortsApp({ manifestsDir: path.join(dir, 'project', 'manifests'), outdir: path.join(dir, 'staging'), lockFile: path.join(dir, 'lock.json') }) };
  };
  const registry = (a: PortsApp, id: string, outputDir: string) =>
    new PortRegistry(a, id, { environments: { production: { range: [20000, 20999] } }, outputDir }).service('api', { public: true, ports: { http: { offset: 1 } } });

  test.each(['../../escaped', '..', '/tmp/elsewhere', 'team/../../x'])('outputDir %s is refused, and nothing is written anywhere', outputDir => {
    const { dir, app: a } = app();
    registry(a, 'team', outputDir);
    const result = a.trySynth();
    expect(result.ok).toBe(false);
    const f = result.findings.find(x => x.rule === 'invalid-value')!;
    expect(f.where).toMatchObject({ registry: 'team', path: 'outputDir' });
    expect(f.message).toMatch(/leads out of the manifests folder|is absolute/);
    expect(fs.readdirSync(dir).sort()).toEqual([]);
  });

  test('team and ./team/ are one folder: two registries there are refused', () => {
    const { app: a } = app();
    registry(a, 'one', 'team');
    registry(a, 'two', './team/');
    const result = a.trySynth();
    expect(result.ok).toBe(false);
    expect(result.problem).toMatch(/registries one and two both write to .*team/);
  });
});
