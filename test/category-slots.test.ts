import { Port, checkRegistry } from '../lib';
import { portsMarkdown } from '../lib/emit/ports-md';
import { parseRegistryText } from '../lib/file/registry-file';
import { resolve } from '../lib/check/pipeline';

/**
 * A port given by its place in a category (`slot`): "the last port of the range is the debug port",
 * in every environment, also when the category counts from each band (`offsets`).
 */

const base = {
  name: 'lab',
  kubernetes: false,
  environments: { production: { range: [8100, 8199] as [number, number] }, development: { range: [9100, 9199] as [number, number] } },
  categories: {
    api: { offsets: [[0, 19]] as Array<[number, number]> },
  },
};
const toolsLab = (services: Record<string, unknown>) => checkRegistry({
  name: 'tools', kubernetes: false, environments: { lab: {} }, categories: { tools: { ranges: [[5100, 5104], [5110, 5114]] }, api: { ranges: [[7100, 7109]] } }, services,
} as never);
const registry = (services: Record<string, unknown>) => checkRegistry({ ...base, services } as never);
const portsOf = (r: ReturnType<typeof checkRegistry>, service: string) =>
  Object.fromEntries(r.allocations.filter(a => a.service === service).map(a => [`${a.environment}/${a.portName}`, a.port]));

test('first, last, counted from either end, over several ranges and in each band; automatic ports keep clear of them', () => {
  const r = registry({
    orders: { category: 'api', ports: { http: { auto: true }, debug: { slot: 'last' }, admin: { slot: -2 }, first: { slot: 'first' } } },
  });
  expect(r.findings).toEqual([]);
  expect(portsOf(r, 'orders')).toEqual({
    'production/debug': 8119, 'development/debug': 9119, 'production/admin': 8118, 'development/admin': 9118,
    'production/first': 8100, 'development/first': 9100,
    // the automatic port takes the next free one, not a slot's
    'production/http': 8101, 'development/http': 9101,
  });
  // slot 5 is the first port of the second range (5100-5104, then 5110-5114); -6 is the fifth from 5100
  const t = toolsLab({ tool: { category: 'tools', ports: { a: { slot: 5 }, b: { slot: -6 }, c: Port.slot(9) } } });
  expect(t.findings).toEqual([]);
  expect(portsOf(t, 'tool')).toEqual({ 'lab/a': 5110, 'lab/b': 5104, 'lab/c': 5114 });
});

test('a port\'s own category wins over the service\'s', () => {
  const r = toolsLab({ orders: { category: 'tools', ports: { http: { slot: 0 }, debug: { slot: 'last', category: 'api' } } } });
  expect(r.findings).toEqual([]);
  expect(portsOf(r, 'orders')).toEqual({ 'lab/http': 5100, 'lab/debug': 7109 });
});

test('a slot that cannot be placed is an error at the slot that says how to fix it, and nothing else is reported for it', () => {
  const past = registry({ orders: { category: 'api', ports: { debug: { slot: 20 } } } });
  // One slot for both findings, free and inside the band in every environment (applied, it leaves no finding).
  const free = 'give orders.debug another slot: the next one free in every environment it runs in is slot: 0 (port 8100 in production, port 9100 in development)';
  expect(registry({ orders: { category: 'api', ports: { debug: { slot: 0 } } } }).findings).toEqual([]);
  expect(past.ok).toBe(false);
  expect(past.findings.map(f => [f.rule, f.severity, f.where.path, f.where.environment, f.message, f.fix])).toEqual([
    ['port-source', 'error', 'services.orders.ports.debug.slot', 'production', 'orders.debug asks for slot 20 of category api, which has 20 ports in production (8100-8119)', free],
    ['port-source', 'error', 'services.orders.ports.debug.slot', 'development', 'orders.debug asks for slot 20 of category api, which has 20 ports in development (9100-9119)', free],
  ]);
  expect(registry({ orders: { category: 'api', ports: { debug: { slot: -21 } } } }).findings.map(f => f.rule)).toEqual(['port-source', 'port-source']);
  expect(registry({ orders: { category: 'api', ports: { debug: { slot: -20 } } } }).findings).toEqual([]);

  const both = registry({ orders: { category: 'api', ports: { debug: { slot: 'last', port: { production: 8119, development: 9119 } } } } });
  expect(both.findings.map(f => [f.rule, f.where.path, f.message, f.fix])).toEqual([
    ['port-source', 'services.orders.ports.debug.slot', 'orders.debug sets slot and port; a port is given by exactly one of them', 'keep one of slot, port'],
  ]);

  const uncategorised = registry({ orders: { ports: { debug: { slot: 'last' } } } });
  expect(uncategorised.findings.map(f => [f.rule, f.fix])).toEqual([
    ['port-source', 'give the port or the service a category (category: <name>), or give it port: instead of slot:'],
  ]);

  const noBand = checkRegistry({ name: 'lab', kubernetes: false, environments: { lab: {} }, categories: { api: { offsets: [[0, 9]] } },
    services: { a: { category: 'api', ports: { debug: { slot: 'last' } } } } } as never);
  expect(noBand.findings.filter(f => f.rule === 'port-source').map(f => f.message)).toEqual([
    'a.debug asks for the last slot of category api, which has no range in lab (its offsets count from a band, and lab has none)',
  ]);
});

test('a slot port taken by another service is a collision like any fixed port', () => {
  const r = registry({ orders: { category: 'api', ports: { debug: { slot: 'last' } } }, other: { category: 'api', ports: { http: { port: { production: 8119, development: 9110 } } } } });
  const collisions = r.findings.filter(f => f.rule === 'collision');
  expect(collisions.map(f => [f.where.port, f.where.environment])).toEqual([[8119, 'production']]);
});

test('in a registry file: the slot is placed, its error points at the value of the slot, PORTS.md names the slot, and the JSON Schema accepts it', () => {
  const text = [
    'name: lab',
    'kubernetes: false',
    'environments:', '  production: { range: "8100-8199" }', '  development: { range: "9100-9199" }',
    'categories:', '  api: { offsets: ["0-19"] }',
    'services:',
    '  orders:',
    '    category: api',
    '    ports:',
    '      http: { auto: true }',
    '      debug: { slot: last }',
  ].join('\n');
  const loaded = parseRegistryText(text, 'ports.yaml');
  expect(loaded.findings).toEqual([]);
  const r = checkRegistry(loaded.spec);
  expect(r.findings).toEqual([]);
  expect(portsMarkdown(r)).toContain('| 8119 | orders | debug (last port of api) |');
  const bad = parseRegistryText(text.replace('slot: last', 'slot: 30'), 'ports.yaml');
  const f = checkRegistry(bad.spec).findings;
  expect(bad.locate(f[0].where.path)).toBe('ports.yaml:13:22');
  const schema = require('../schema/ports.schema.json');
  expect(JSON.stringify(schema.properties.services.additionalProperties)).toContain('"slot"');
});

test('a slot port that must move is given another slot, not a number: the fix applied as written leaves no finding', () => {
  const cases: Array<Record<string, unknown>> = [
    // Taken by a fixed port of another service, in one environment.
    { other: { category: 'api', ports: { http: { port: { production: 8119, development: 9110 } } } }, orders: { category: 'api', ports: { debug: { slot: 'last' } } } },
    // On a port the registry avoids, counted over two ranges (of one environment: the ranges hold ports, not offsets).
    { orders: { category: 'tools', environments: ['production'], ports: { debug: { slot: 5 } } } },
  ];
  const check = (services: Record<string, unknown>, withAvoid: boolean) => checkRegistry({
    ...base, categories: { ...base.categories, tools: { ranges: [[8170, 8174], [8180, 8184]] } }, ...(withAvoid ? { avoid: { ports: [8180] } } : {}), services,
  } as never);
  cases.forEach((services, i) => {
    const before = check(services, i === 1).findings;
    expect(before.length).toBeGreaterThan(0);
    for (const f of before) {
      const m = /give orders\.debug another slot: the next free port in [\d, -]+ is (\d+), slot: (-?\d+)$/.exec(f.fix ?? '');
      expect({ rule: f.rule, fix: f.fix, slotted: !!m }).toEqual({ rule: f.rule, fix: f.fix, slotted: true });
      const orders = services.orders as { ports: { debug: { slot: unknown } } };
      const after = check({ ...services, orders: { ...orders, ports: { debug: { slot: Number(m![2]) } } } }, i === 1);
      expect(after.findings).toEqual([]);
      expect(after.allocations.find(a => a.service === 'orders' && a.environment === f.where.environment)!.port).toBe(Number(m![1]));
    }
  });
  // A registry written in TypeScript is told the slot in the construct API's syntax.
  const code = resolve({ spec: { ...base, services: cases[0] }, syntax: 'code' }).findings.find(f => f.rule === 'collision')!;
  expect(code.fix).toBe('give orders.debug another slot: the next free port in 8100-8119 is 8100, Port.slot(0)');
  expect(Port.slot(0)).toEqual({ slot: 0 });
});

test('a waiver cannot waive a slot past its category: the finding still blocks, says the slot that is free, and the waiver is told why', () => {
  const r = checkRegistry({
    name: 'lab', kubernetes: false, environments: { production: { range: [8100, 8199] } }, categories: { api: { ranges: [[8100, 8102]] } },
    services: { a: { category: 'api', ports: { d: { slot: 5 } } }, b: { category: 'api', ports: { d: { slot: 0 } } } },
    waivers: [{ rule: 'port-source', service: 'a', reason: 'known' }],
  } as never);
  expect(r.findings.map(f => [f.rule, f.waived, f.message, f.fix])).toEqual([
    ['port-source', undefined, 'a.d asks for slot 5 of category api, which has 3 ports in production (8100-8102)',
      'give a.d another slot: the next one free in every environment it runs in is slot: 1 (port 8101 in production)'],
    ['waiver-invalid', undefined, 'the waiver for port-source on a cannot be honoured: port-source keeps the output valid, so it cannot be waived',
      'remove the waiver and fix the port-source finding itself'],
  ]);
});
