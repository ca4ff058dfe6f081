import { resolveAll } from '../lib/check/pipeline';
import { extendSpec } from '../lib/model/extend';

/** Projects sharing one machine (one base): each has its own band, and a band widened over another's is a finding. */

const org = { name: 'machine', environments: { shared: { range: [3000, 3099] as [number, number] } }, defactoPorts: false as const };
const team = (name: string, band: [number, number], extra: Record<string, unknown> = {}) => extendSpec(org, {
  name, kubernetes: false, environments: { [name]: { range: band, ...extra } },
  services: { [`${name}-api`]: { environments: [name], ports: { http: { offset: 80 } } } },
});
const rows = (specs: unknown[]) => resolveAll(specs.map(spec => ({ spec }))).map(r => r.findings.map(f => [f.rule, f.message, f.fix]));

test('five projects in their own bands of one machine check clean; the base environment inherited by all is one band', () => {
  const specs = ['a', 'b', 'c', 'd', 'e'].map((n, i) => team(n, [10000 + i * 100, 10099 + i * 100]));
  expect(rows(specs)).toEqual([[], [], [], [], []]);
});

test('a band widened over another project\'s is a range-overlap on the later registry, with fixes that apply', () => {
  const specs = [team('a', [10000, 10099]), team('b', [10050, 10199])];
  const [, b] = rows(specs);
  expect(b).toEqual([['range-overlap',
    'band 10050-10199 of environment b in registry b overlaps band 10000-10099 of environment a in registry a, which extends the same base machine (shared ports 10050-10099, scope default)',
    'make the bands disjoint: shrink it (set environments.b.range: [10100, 10199] in registry b; it moves b-api.http (b) to 10180), or declare it shared with a if both projects use those ports (set environments.b.shared: true), ' +
    'or give environment b a scope of its own (set environments.b.scope: b-b) if it runs on other hosts']]);
  // Each fix, applied as written, clears it.
  expect(rows([specs[0], team('b', [10100, 10199])])[1]).toEqual([]);
  expect(rows([specs[0], team('b', [10050, 10199], { shared: true })])[1]).toEqual([]);
  expect(rows([specs[0], team('b', [10050, 10199], { scope: 'b-b' })])[1]).toEqual([]);
});

test('a band whose overlap holds the project\'s own port is not told to shrink over it', () => {
  const [, b] = rows([team('a', [10000, 10099]), team('b', [10050, 10199])].map((s, i) => (i === 1 ? { ...s, services: { 'b-api': { environments: ['b'], ports: { http: { port: 10060 } } } } } : s)));
  expect(b.map(f => f[0])).toEqual(['range-overlap']);
  expect(b[0][2]).not.toMatch(/shrink/);
});

test('a waived finding gets no fix and leaves its free port to the next fix', () => {
  const { checkRegistry } = require('../lib');
  const spec = (waivers: unknown[]) => ({ name: 'w', kubernetes: false, defactoPorts: false, environments: { dev: { range: [8100, 8199] } },
    services: { a: { ports: { http: { port: 8300 } } }, b: { ports: { http: { port: 8301 } } } }, waivers });
  const plain = checkRegistry(spec([])).findings.map((f: any) => [f.where.service, f.fix]);
  expect(plain).toEqual([['a', 'move it into 8100-8199: the next free port is 8100'], ['b', 'move it into 8100-8199: the next free port is 8101']]);
  const waived = checkRegistry(spec([{ rule: 'outside-band', service: 'a', reason: 'kept on purpose' }])).findings.map((f: any) => [f.where.service, f.waived, f.fix]);
  expect(waived).toEqual([['a', 'kept on purpose', undefined], ['b', undefined, 'move it into 8100-8199: the next free port is 8100']]);
});

test('registries checked together without a base: bands overlap only where both name the same scope', () => {
  const plain = (name: string, band: [number, number], scope?: string) => ({ name, kubernetes: false, defactoPorts: false,
    environments: { [name]: { range: band, ...(scope ? { scope } : {}) } } });
  expect(rows([plain('a', [10000, 10099]), plain('b', [10050, 10199])])).toEqual([[], []]);
  expect(rows([plain('a', [10000, 10099], 'box'), plain('b', [10050, 10199], 'box')])[1].map(f => [f[0], f[1]])).toEqual([['range-overlap',
    'band 10050-10199 of environment b in registry b overlaps band 10000-10099 of environment a in registry a, checked with it on the same scope box (shared ports 10050-10099)']]);
});

describe('automatic ports of registries on one base keep clear of each other', () => {
  // The shapes of a shared machine: a base with two bands and an avoided port, teams that only declare services.
  const acme = { name: 'acme', environments: { production: { range: [20000, 20999] as [number, number] }, staging: { range: [21000, 21999] as [number, number] } },
    avoid: { ports: [{ port: 20080, reason: 'shared proxy' }] } };
  const teamOf = (name: string, services: Record<string, unknown>) => extendSpec(acme, { name, kubernetes: false, services } as never);
  const c = teamOf('teamc', { api: { public: true, ports: { http: { auto: true } } } });
  const e = teamOf('teame', { api2: { public: true, ports: { http: { auto: true } } } });
  const d = teamOf('teamd', { api2: { public: true, ports: { http: { auto: true } } }, api3: { public: true, ports: { http: { offset: 0 } } } });
  const ports = (results: ReturnType<typeof resolveAll>) => results.map(r => r.allocations.map(a => `${a.service}@${a.environment}=${a.port}`));

  test('two teams with one automatic port each: clean, the later one takes the next port, the same every time', () => {
    const run = () => resolveAll([{ spec: c }, { spec: e }]);
    const results = run();
    expect(results.map(r => r.findings)).toEqual([[], []]);
    expect(ports(results)).toEqual([['api@production=20000', 'api@staging=21000'], ['api2@production=20001', 'api2@staging=21001']]);
    expect(ports(run())).toEqual(ports(results));
    // The new ports are what each registry's lock pins, and pinned they stay where they are.
    expect(results.map(r => r.lock.ports)).toEqual([
      { 'production/api/http': 20000, 'staging/api/http': 21000 }, { 'production/api2/http': 20001, 'staging/api2/http': 21001 }]);
    const pinned = resolveAll([{ spec: c, lock: results[0].lock, frozenLock: true }, { spec: e, lock: results[1].lock, frozenLock: true }]);
    expect(pinned.map(r => r.findings)).toEqual([[], []]);
    expect(ports(pinned)).toEqual(ports(results));
    // In the other order, the other team goes first: also clean.
    expect(resolveAll([{ spec: e }, { spec: c }]).map(r => r.findings)).toEqual([[], []]);
  });

  test('an automatic port keeps clear of a later registry\'s fixed port, and of a port its lock pins', () => {
    const [rc, rd] = resolveAll([{ spec: c }, { spec: d }]);
    expect([rc.findings, rd.findings]).toEqual([[], []]);
    expect(ports([rc, rd])).toEqual([['api@production=20001', 'api@staging=21001'],
      ['api2@production=20002', 'api2@staging=21002', 'api3@production=20000', 'api3@staging=21000']]);
    // teame synthesized alone first pinned 20000; teamc, new, must not take it from it.
    const lock = { ports: { 'production/api2/http': 20000, 'staging/api2/http': 21000 }, offsets: {} };
    const [lc, le] = resolveAll([{ spec: c }, { spec: e, lock }]);
    expect([lc.findings, le.findings]).toEqual([[], []]);
    expect(ports([lc, le])).toEqual([['api@production=20001', 'api@staging=21001'], ['api2@production=20000', 'api2@staging=21000']]);
  });

  test('the construct API agrees: two PortRegistry of one base in a PortsApp synthesize, and the lock keeps the ports', () => {
    const { PortsApp, PortRegistry } = require('../lib');
    const fs = require('fs') as typeof import('fs');
    const os = require('os') as typeof import('os');
    const path = require('path') as typeof import('path');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-siblings-'));
    const synth = () => {
      const app = new PortsApp({ manifestsDir: path.join(dir, 'manifests'), outdir: path.join(dir, 'staging'), lockFile: path.join(dir, 'lock.json') });
      const one = new PortRegistry(app, 'teamc', { extends: acme, kubernetes: false, outputDir: 'c' });
      one.service('api', { public: true, ports: { http: { auto: true } } });
      const two = new PortRegistry(app, 'teame', { extends: acme, kubernetes: false, outputDir: 'e' });
      two.service('api2', { public: true, ports: { http: { auto: true } } });
      const result = app.trySynth();
      return { result, checked: [one.check(), two.check()] };
    };
    const first = synth();
    expect(first.result.findings).toEqual([]);
    expect(first.result.ok).toBe(true);
    expect(ports([...first.result.registries.values()])).toEqual([['api@production=20000', 'api@staging=21000'], ['api2@production=20001', 'api2@staging=21001']]);
    expect(ports(first.checked)).toEqual(ports([...first.result.registries.values()]));
    const lock = JSON.parse(fs.readFileSync(path.join(dir, 'lock.json'), 'utf8'));
    expect(lock.registries).toEqual({
      teamc: { ports: { 'production/api/http': 20000, 'staging/api/http': 21000 }, offsets: {} },
      teame: { ports: { 'production/api2/http': 20001, 'staging/api2/http': 21001 }, offsets: {} },
    });
    const again = synth();
    expect(again.result.ok).toBe(true);
    expect(again.result.lockChanged).toBe(false);
    expect(ports([...again.result.registries.values()])).toEqual(ports([...first.result.registries.values()]));
  });
});
