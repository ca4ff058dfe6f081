import { checkRegistry, RegistrySpec } from '../lib';

/**
 * The fix of a port given by an offset from its band says which offsets it stepped over (a de-facto
 * default or a port kept clear in some band), and when no offset is free in every band, what blocks
 * them and the band change that makes room; applied as written, it leaves no error.
 */

const errors = (spec: RegistrySpec) => checkRegistry(spec).findings.filter(f => f.severity === 'error');

/** `set environments.<e>.range: [a, b]` (each) and `give it offset: n` / `… is offset: n`, applied literally to a copy of `spec` for `service.port`. */
function apply(spec: RegistrySpec, fix: string, service: string, port: string): RegistrySpec {
  const out = structuredClone(spec);
  for (const m of fix.matchAll(/set environments\.([\w-]+)\.range: \[(\d+), (\d+)\]/g)) out.environments![m[1]].range = [Number(m[2]), Number(m[3])];
  const offset = [...fix.matchAll(/\boffset: (\d+)/g)].pop();
  expect(offset).toBeDefined();
  out.services![service].ports[port] = { offset: Number(offset![1]) };
  return out;
}

test('an offset that moves past a de-facto default in a band says it skipped it, in every environment the port runs in', () => {
  const spec: RegistrySpec = {
    name: 'skip', kubernetes: false, environments: { dev: { range: [7990, 8099] }, prod: { range: [9990, 10099] } },
    services: { a: { ports: { http: { offset: 9 } } }, b: { ports: { http: { offset: 9 } } } },
  };
  const fixes = errors(spec).map(f => f.fix);
  expect(fixes).toEqual([1, 2].map(() => 'give b.http another offset from the band: the next one free in every environment it runs in is offset: 11 ' +
    '(port 8001 in dev, port 10001 in prod), skipping offset 10: 8000 in dev (Django and `python -m http.server`)'));
  expect(errors(apply(spec, fixes[0]!, 'b', 'http'))).toEqual([]);
  // Without the de-facto port, offset 10 is offered and nothing is said.
  expect(errors({ ...spec, defactoPorts: false })[0].fix).toMatch(/is offset: 10 \(port 8000 in dev, port 10000 in prod\)$/);
});

test('X11 (6000), kept clear in another band than the own one, is named with that band', () => {
  const spec: RegistrySpec = {
    name: 'x11', kubernetes: false, defactoPorts: false, environments: { dev: { range: [8100, 8199] }, lab: { range: [5990, 6089] } },
    services: { a: { ports: { http: { offset: 9 } } }, b: { ports: { http: { offset: 9 } } } },
  };
  const [f] = errors(spec);
  expect(f.fix).toBe('give b.http another offset from the band: the next one free in every environment it runs in is offset: 11 ' +
    '(port 8111 in dev, port 6001 in lab), skipping offset 10: 6000 in lab (X11, display :0)');
  expect(errors(apply(spec, f.fix!, 'b', 'http'))).toEqual([]);
});

test('every offset taken: the fix names what blocks them in each band and widens the bands to the first offset free in all', () => {
  const spec: RegistrySpec = {
    name: 'full', kubernetes: false, defactoPorts: false, environments: { dev: { range: [8100, 8102] }, prod: { range: [9100, 9103] } },
    services: {
      a: { ports: { http: { offset: 0 } } }, b: { ports: { http: { offset: 1 } } }, c: { ports: { http: { offset: 2 } } }, d: { ports: { http: { offset: 2 } } },
      // 9103 is taken: offset 4 is the first free past the end of both bands
      e: { environments: ['prod'], ports: { http: { port: 9103 } } },
    },
  };
  const found = errors(spec).filter(f => f.where.service === 'd');
  expect(found.map(f => [f.where.environment, f.fix])).toEqual([
    ['dev', 'give d.http another offset from the band: none is free in 8100-8102 and in the band of every environment it runs in ' +
      '(taken or kept clear: 8100-8102 in dev; 9100-9102 in prod); widened, offset 4 is free in every band: ' +
      'set environments.dev.range: [8100, 8104] and set environments.prod.range: [9100, 9104] and give it offset: 4'],
    ['prod', 'give d.http another offset from the band: none is free in 9100-9103 and in the band of every environment it runs in ' +
      '(taken or kept clear: 9100-9103 in prod; 8100-8102 in dev); widened, offset 4 is free in every band: ' +
      'set environments.prod.range: [9100, 9104] and set environments.dev.range: [8100, 8104] and give it offset: 4'],
  ]);
  expect(errors(apply(spec, found[0].fix!, 'd', 'http'))).toEqual([]);
});

test('a widening that would overlap another band, or a port in a category, is told what to change by hand', () => {
  const spec: RegistrySpec = {
    name: 'tight', kubernetes: false, defactoPorts: false, environments: { dev: { range: [8100, 8101] }, qa: { range: [8102, 8110] } },
    services: { a: { environments: ['dev'], ports: { http: { offset: 0 } } }, b: { environments: ['dev'], ports: { http: { offset: 1 } } }, c: { environments: ['dev'], ports: { http: { offset: 1 } } } },
  };
  expect(errors(spec).map(f => f.fix)).toEqual(['give c.http another offset from the band: none is free in 8100-8101 and in the band of every environment it runs in ' +
    '(taken or kept clear: 8100-8101 in dev): widen the bands (no offset past their ends is free in all of them without overlapping another range), or give it a port per environment']);
  const categorised: RegistrySpec = {
    name: 'cat', kubernetes: false, defactoPorts: false, environments: { dev: { range: [8100, 8199] } }, categories: { api: { ranges: [[8100, 8101]] } },
    services: { a: { category: 'api', ports: { http: { offset: 0 } } }, b: { category: 'api', ports: { http: { offset: 1 } } }, c: { category: 'api', ports: { http: { offset: 1 } } } },
  };
  expect(errors(categorised).map(f => f.fix)).toEqual(['give c.http another offset from the band: none is free in 8100-8101 and in the band of every environment it runs in ' +
    '(taken or kept clear: 8100-8101 in dev): widen the ranges of category api in every band it runs in, or give it a port per environment']);
});
