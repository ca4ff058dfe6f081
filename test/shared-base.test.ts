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
    'make the bands disjoint: shrink it (set environments.b.range: [10100, 10199] in registry b), or declare it shared with a if both projects use those ports (set environments.b.shared: true), ' +
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
