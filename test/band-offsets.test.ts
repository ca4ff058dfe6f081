import { checkRegistry } from '../lib';
import { portsMarkdown } from '../lib/emit/ports-md';
import { parseRegistryText } from '../lib/file/registry-file';

/**
 * Category ranges counted from each environment's band (`offsets`), so one layout repeats across
 * environments and projects: "the first 20 ports of every band are the APIs".
 */

const layout = {
  name: 'lab',
  environments: { production: { range: [8100, 8199] as [number, number] }, development: { range: [9100, 9199] as [number, number] } },
  categories: {
    api: { offsets: [[0, 19]] as Array<[number, number]>, description: 'APIs' },
    web: { offsets: [[20, 39]] as Array<[number, number]> },
    tools: { ranges: [[5000, 5009]] as Array<[number, number]> },
  },
  services: {
    orders: { public: true, category: 'api', ports: { http: { auto: true } } },
    billing: { public: true, category: 'api', ports: { http: { auto: true } } },
    shop: { public: true, category: 'web', ports: { http: { auto: true } } },
  },
};

test('offsets repeat a category in every band: automatic ports land in each band\'s part, and a port outside it is reported', () => {
  const r = checkRegistry(layout);
  expect(r.findings).toEqual([]);
  const ports = Object.fromEntries(r.allocations.map(a => [`${a.environment}/${a.service}`, a.port]));
  expect(ports).toEqual({
    'production/orders': 8100, 'development/orders': 9100, 'production/billing': 8101, 'development/billing': 9101,
    'production/shop': 8120, 'development/shop': 9120,
  });
  expect(r.spec.categories!.api.ranges).toEqual([[8100, 8119], [9100, 9119]]);
  // An explicit port of the web category inside the api part of a band: outside its category.
  const moved = checkRegistry({ ...layout, services: { ...layout.services, shop: { public: true, category: 'web', ports: { http: { port: { production: 8105, development: 9125 } } } } } });
  expect(moved.findings.map(f => [f.rule, f.where.environment, f.where.port])).toEqual([['outside-category', 'production', 8105]]);
  expect(moved.findings[0].message).toContain('8120-8139, 9120-9139');
  // Resolved again from its own output (ports.json holds the resolved spec): the same ports, nothing added twice.
  const again = checkRegistry(r.spec);
  expect(again.findings).toEqual([]);
  expect(again.allocations.map(a => a.port)).toEqual(r.allocations.map(a => a.port));
  expect(again.spec.categories!.api.ranges).toEqual([[8100, 8119], [9100, 9119]]);
});

test('offsets that overlap, reach past a band, are reversed or have no band: errors at the offset', () => {
  const overlap = checkRegistry({ ...layout, categories: { ...layout.categories, web: { offsets: [[15, 39]] } } });
  const f = overlap.findings.find(x => x.rule === 'range-overlap')!;
  expect(f.message).toMatch(/offsets 0-19 of production's band[\s\S]*offsets 15-39 of production's band|offsets 15-39 of production's band[\s\S]*offsets 0-19 of production's band/);
  expect([f.where.path, f.where.other]).toEqual(expect.arrayContaining([expect.stringMatching(/^categories\.(api|web)\.offsets\[0\]$/)]));
  const past = checkRegistry({ ...layout, environments: { ...layout.environments, development: { range: [9100, 9129] } } });
  expect(past.findings.map(x => [x.rule, x.where.path, x.fix])).toEqual([['invalid-range', 'categories.web.offsets[0]', 'end them at offset 29, or widen the band']]);
  expect(past.findings[0].message).toBe('offsets 20-39 of category web reach past the band of development (development 9100-9129, offsets 0-29)');
  const reversed = checkRegistry({ ...layout, categories: { ...layout.categories, web: { offsets: [[39, 20]] } } });
  expect(reversed.findings.filter(x => x.rule === 'invalid-range').map(x => [x.where.path, x.fix])).toEqual([['categories.web.offsets[0]', 'write it as [20, 39]']]);
  const unbanded = checkRegistry({ name: 'lab', kubernetes: false, environments: { lab: {} }, categories: { api: { offsets: [[0, 9]] } }, services: { a: { ports: { http: { port: 8210 } } } } });
  expect(unbanded.findings.map(x => [x.rule, x.where.path])).toEqual([['invalid-range', 'categories.api.offsets']]);
  expect(checkRegistry({ ...layout, categories: { api: {} as never } }).findings.map(x => [x.rule, x.message])).toEqual([['schema', expect.stringContaining('a category has ranges, offsets')]]);
});

test('in a registry file, "0-19" counts from the band\'s first port, and PORTS.md says where each range comes from', () => {
  const text = [
    'name: lab',
    'environments:', '  production: { range: "8100-8199" }', '  development: { range: "9100-9199" }',
    'categories:', '  api: { offsets: ["0-19"] }', '  debug: { offsets: [[99, 99]] }',
    'services:', '  orders: { public: true, category: api, ports: { http: { auto: true } } }',
    '  probe: { public: true, category: debug, ports: { debug: { auto: true } } }',
  ].join('\n');
  const loaded = parseRegistryText(text, 'ports.yaml');
  expect(loaded.findings).toEqual([]);
  expect(loaded.spec!.categories!.api.offsets).toEqual([[0, 19]]);
  const r = checkRegistry(loaded.spec);
  expect(r.findings).toEqual([]);
  expect(r.allocations.filter(a => a.service === 'probe').map(a => a.port)).toEqual([8199, 9199]);
  const md = portsMarkdown(r);
  expect(md).toContain('| 8100-8119 | api | category, offsets 0-19 of production\'s band |');
  expect(md).toContain('| 9199 | debug | category, offsets 99-99 of development\'s band |');
});

describe('a fix for overlapping ranges is written where the registry writes them, and applying it clears the overlap', () => {
  /** Applies `set categories.<name>.<key>: <JSON>` to a copy of the registry. */
  const apply = (spec: typeof layout, fix: string): typeof layout => {
    const m = /set categories\.([\w-]+)\.(offsets|ranges): (\[[^()]*?\]\])/.exec(fix);
    if (!m) throw new Error(`no set in: ${fix}`);
    const copy = JSON.parse(JSON.stringify(spec)) as typeof layout;
    (copy.categories as Record<string, Record<string, unknown>>)[m[1]][m[2]] = JSON.parse(m[3]);
    return copy;
  };
  const cases: Array<[string, typeof layout]> = [
    ['two offsets categories', { ...layout, categories: { ...layout.categories, web: { offsets: [[15, 39]] } } }],
    ['an offsets category and a category with ranges and offsets', { ...layout, categories: { ...layout.categories, web: { offsets: [[30, 39]], ranges: [[8110, 8115]] } as never } }],
  ];
  test.each(cases)('%s', (_label, spec) => {
    const before = checkRegistry(spec).findings.filter(f => f.rule === 'range-overlap');
    expect(before.length).toBeGreaterThan(0);
    for (const f of before) {
      const options = f.fix!.replace(/^make the ranges disjoint: /, '').split(', or ');
      const sets = options.filter(o => /set categories\./.test(o));
      expect(sets.length).toBeGreaterThan(0);
      for (const option of sets) {
        // The key the fix sets is the one the category is written with: offsets stay offsets.
        const [, name, key] = /set categories\.([\w-]+)\.(offsets|ranges)/.exec(option)!;
        const own = (spec.categories as Record<string, { offsets?: unknown; ranges?: unknown }>)[name];
        expect(own[key as 'offsets' | 'ranges']).toBeDefined();
        const after = checkRegistry(apply(spec, option)).findings;
        expect({ option, left: after.filter(x => x.rule === 'range-overlap').map(x => x.message) }).toEqual({ option, left: [] });
        expect(after.length).toBeLessThan(before.length);
      }
    }
  });
});

test('a port given by an offset that must move is told another offset, free in every band it runs in; every fix applied as written leaves no finding', () => {
  const spec = {
    name: 'offcol', kubernetes: false,
    environments: { production: { range: [8100, 8199] as [number, number] }, development: { range: [9100, 9199] as [number, number] } },
    categories: { api: { offsets: [[0, 19]] as Array<[number, number]> } },
    services: {
      users: { category: 'api', ports: { http: { offset: 1 } } },
      orders: { category: 'api', ports: { http: { offset: 1 } } },
      pay: { category: 'api', ports: { http: { offset: 30 } } },
      // Offset 2 is free in production only: the fix must not offer it.
      blocker: { category: 'api', environments: ['development'], ports: { http: { port: 9102 } } },
      mail: { ports: { smtp: { offset: 100 } } },
    } as Record<string, { category?: string; environments?: string[]; ports: Record<string, Record<string, unknown>> }>,
  };
  const before = checkRegistry(spec).findings;
  expect(before.length).toBeGreaterThan(0);
  const told = new Map<string, number>();
  for (const f of before) {
    const m = /give (\w+)\.(\w+) another offset from the band: the next one free in every environment it runs in is offset: (\d+) \(port (\d+) in production, port (\d+) in development\)$/.exec(f.fix ?? '');
    expect({ rule: f.rule, fix: f.fix, offset: !!m }).toEqual({ rule: f.rule, fix: f.fix, offset: true });
    const key = `${m![1]}.${m![2]}`;
    // One offset per port, whichever environment's finding tells it.
    expect(told.get(key) ?? Number(m![3])).toBe(Number(m![3]));
    told.set(key, Number(m![3]));
    expect([Number(m![4]) - 8100, Number(m![5]) - 9100]).toEqual([Number(m![3]), Number(m![3])]);
  }
  expect(told.get('orders.http')).not.toBe(2);
  const fixed = JSON.parse(JSON.stringify(spec)) as typeof spec;
  for (const [key, offset] of told) {
    const [service, port] = key.split('.');
    fixed.services[service].ports[port] = { offset };
  }
  expect(checkRegistry(fixed).findings).toEqual([]);
});
