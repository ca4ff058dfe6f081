import * as yaml from 'js-yaml';
import { checkRegistry, Finding, RegistrySpec } from '../lib';

/** A port with no free port left where it belongs is told the nearest free one and the change that would hold it; applied as written, it leaves fewer findings. */

/** Applies `…the nearest free port outside it is N: set <path>: <value>, then move it there` literally to a copy of `spec`. */
function apply(spec: RegistrySpec, f: Finding): RegistrySpec {
  const m = /the nearest free port outside (?:it|them) is (\d+): set ([\w.]+): (.+), then move it there$/.exec(f.fix ?? '');
  expect(m).not.toBeNull();
  const out = structuredClone(spec);
  const keys = m![2].split('.');
  let at = out as unknown as Record<string, unknown>;
  for (const k of keys.slice(0, -1)) at = at[k] as Record<string, unknown>;
  at[keys[keys.length - 1]] = yaml.load(m![3]);
  out.services![f.where.service!].ports[f.where.portName!] = { port: Number(m![1]) };
  return out;
}

const errors = (spec: RegistrySpec) => checkRegistry(spec).findings.filter(f => f.severity === 'error');

test('two services in a category of one port (audit 37, r7): the fix widens the category by the nearest free port and moves one there', () => {
  const spec: RegistrySpec = {
    name: 'one', kubernetes: false, environments: { lab: { range: [10000, 65535] } },
    categories: { metrics: { ranges: [[19163, 19163]] }, apps: { ranges: [[19164, 19199]] } },
    services: { exporter: { category: 'metrics', ports: { m: { port: 19163 } } }, exporter2: { category: 'metrics', ports: { m: { port: 19163 } } } },
  };
  const [f] = errors(spec);
  // 19164 is apps': growing metrics over it would overlap; 19162 is free and nobody's.
  expect(f.fix).toBe('move exporter2.m in lab to a free port in 19163: its only port, 19163, is taken and two services cannot share a port; ' +
    'the nearest free port outside it is 19162: set categories.metrics.ranges: [[19162, 19163]], then move it there');
  expect(errors(apply(spec, f))).toEqual([]);
});

test('a full band with no category: the fix widens the band by the nearest free port, keeping clear of another band of its scope', () => {
  const spec: RegistrySpec = {
    name: 'band', kubernetes: false, defactoPorts: false,
    environments: { dev: { range: [8100, 8101] }, prod: { range: [8095, 8099] } },
    services: { a: { environments: ['dev'], ports: { http: { port: 8100 } } }, b: { environments: ['dev'], ports: { http: { port: 8101 } } },
      c: { environments: ['dev'], ports: { http: { port: 8101 } } } },
  };
  const [f] = errors(spec);
  expect(f.fix).toBe('move c.http in dev to a free port in 8100-8101: every port of 8100-8101 is taken or avoided; ' +
    'the nearest free port outside it is 8102: set environments.dev.range: [8100, 8102], then move it there');
  expect(errors(apply(spec, f))).toEqual([]);
});

test('a full band at the top of the port space grows down', () => {
  const spec: RegistrySpec = {
    name: 'full', kubernetes: false, defactoPorts: false, environments: { dev: { range: [65534, 65535] } },
    services: { a: { ports: { http: { port: 65534 } } }, b: { ports: { http: { port: 65535 } } }, c: { ports: { http: { port: 65535 } } } },
  };
  const [f] = errors(spec);
  expect(f.fix).toMatch(/nearest free port outside it is 65533: set environments.dev.range: \[65533, 65535\], then move it there$/);
  expect(errors(apply(spec, f))).toEqual([]);
});

test('a category with every port of its band taken, and no room in the band: the fix says to free one', () => {
  const spec: RegistrySpec = {
    name: 'tight', kubernetes: false, defactoPorts: false, environments: { dev: { range: [8100, 8101] } }, categories: { c: { ranges: [[8100, 8101]] } },
    services: { a: { category: 'c', ports: { x: { port: 8100 } } }, b: { category: 'c', ports: { x: { port: 8101 } } }, d: { category: 'c', ports: { x: { port: 8101 } } } },
  };
  expect(errors(spec)[0].fix).toBe('move d.x in dev to a free port in 8100-8101: every port of 8100-8101 is taken or avoided, and no free port is left in the band of dev: free one of them');
});
