import { App } from 'cdk8s';
import { Finding, PortRegistry, RegistrySpec, checkRegistry, crossRegistryCollisions, extendSpec } from '../lib';
import { resolve, resolveAll } from '../lib/check/pipeline';
import { checkComposeText } from '../lib/compose/drift';
import { cleanSpec, seedLumiere, variant } from './support/specs';
import { registryWithFindings } from '../bench/generate';

/**
 * The one pipeline: every finding goes through fixes and waivers, whoever found it (a rule of the
 * list, compose drift, another registry of the same base, the construct API), and fixes agree.
 */

const unwaived = (findings: readonly Finding[], rule: string) => findings.filter(f => f.rule === rule && !f.waived);

describe('waivers come last and reach every finding', () => {
  const compose = 'services:\n  api:\n    ports:\n      - "8111:8110"\n';

  test('a waiver for compose-drift waives it and the registry is ok', () => {
    const spec = variant(s => { s.composeChecks = [{ file: 'docker-compose.yml', environment: 'production' }]; });
    const composeChecks = (r: Parameters<typeof checkComposeText>[0]) => checkComposeText(r, compose, 'docker-compose.yml', 'production');
    const drifting = resolve({ spec, composeChecks });
    expect(unwaived(drifting.findings, 'compose-drift').length).toBeGreaterThan(0);
    expect(drifting.ok).toBe(false);

    const waived = resolve({ spec: { ...spec, waivers: [{ rule: 'compose-drift', service: 'api', reason: 'the laptop compose file moves it on purpose' }] }, composeChecks });
    expect(waived.findings.filter(f => f.rule === 'compose-drift').map(f => f.waived)).toEqual(
      drifting.findings.filter(f => f.rule === 'compose-drift').map(() => 'the laptop compose file moves it on purpose'));
    expect(waived.findings.map(f => f.rule)).not.toContain('waiver-unused');
    expect(waived.ok).toBe(true);
  });

  const base = { name: 'org', environments: { production: { range: [8100, 8199] as [number, number] } } };
  const team = (name: string, offset: number, waivers: RegistrySpec['waivers'] = []): RegistrySpec =>
    extendSpec(base, { name, services: { [`${name}-api`]: { public: true, ports: { http: { offset } } } }, waivers });

  test('a cross-registry collision is found by the pipeline and a waiver waives it', () => {
    const [first, second] = resolveAll([{ spec: team('shop', 10) }, { spec: team('blog', 10) }]);
    expect(first.ok).toBe(true);
    const collision = unwaived(second.findings, 'collision');
    expect(collision).toHaveLength(1);
    expect(collision[0].where).toMatchObject({ registry: 'blog', service: 'blog-api', port: 8110, other: 'shop:shop-api.http' });
    expect(second.ok).toBe(false);

    const [, waived] = resolveAll([{ spec: team('shop', 10) }, { spec: team('blog', 10, [{ rule: 'collision', service: 'blog-api', reason: 'shop and blog never run on one host' }]) }]);
    expect(waived.findings.find(f => f.rule === 'collision')?.waived).toBe('shop and blog never run on one host');
    expect(waived.findings.map(f => f.rule)).not.toContain('waiver-unused');
    expect(waived.ok).toBe(true);
  });

  test('cross-registry collisions, finding by finding: ports and fallbacks, only where the numbers meet, with the next port free in both', () => {
    const spec = (name: string, services: RegistrySpec['services']) => extendSpec(base, { name, services });
    const [shop, blog, other] = resolveAll([
      { spec: spec('shop', { web: { public: true, ports: { http: { offset: 10 } } }, api: { public: true, ports: { http: { offset: 11, fallback: 8150 } } } }) },
      { spec: spec('blog', { front: { public: true, ports: { http: { offset: 11 } } }, feed: { public: true, ports: { http: { offset: 20, fallback: 8150 } } }, quiet: { public: true, ports: { http: { offset: 30 } } } }) },
      { spec: extendSpec({ ...base, name: 'elsewhere' }, { name: 'other', services: { web: { public: true, ports: { http: { offset: 10 } } } } }) },
    ]);
    expect(unwaived(shop.findings, 'collision')).toEqual([]);
    expect(unwaived(other.findings, 'collision')).toEqual([]);
    expect(unwaived(blog.findings, 'collision').map(f => [f.message, f.where, f.fix])).toEqual([
      ['port 8111/TCP of front.http (production) in registry blog is already taken by api.http (production) in registry shop, which extends the same base org',
        { registry: 'blog', service: 'front', portName: 'http', environment: 'production', port: 8111, other: 'shop:api.http' },
        'move front.http in production to 8100, the next port free in both registries'],
      ['fallback port 8150/TCP of feed.http (production) in registry blog is already taken by api.http (production) in registry shop, which extends the same base org',
        { registry: 'blog', service: 'feed', portName: 'http', environment: 'production', port: 8150, other: 'shop:api.http' },
        'move the fallback of feed.http in production to 8100, the next port free in both registries'],
    ]);
  });

  test('three registries on one port: each later one is told the first holder; with no port free in all of them, the fix says how to ask', () => {
    const full = { name: 'org', environments: { production: { range: [8100, 8102] as [number, number] } } };
    const spec = (name: string, services: RegistrySpec['services']) => extendSpec(full, { name, services });
    const results = resolveAll([
      { spec: spec('shop', { web: { public: true, ports: { http: { offset: 0 } } }, a: { public: true, ports: { http: { offset: 1 } } }, b: { public: true, ports: { http: { offset: 2 } } } }) },
      { spec: spec('blog', { front: { public: true, ports: { http: { offset: 0 } } } }) },
      { spec: spec('wiki', { page: { public: true, ports: { http: { offset: 0 } } } }) },
    ]);
    expect(results.map(r => unwaived(r.findings, 'collision').map(f => [f.message, f.where.other, f.fix]))).toEqual([
      [],
      [['port 8100/TCP of front.http (production) in registry blog is already taken by web.http (production) in registry shop, which extends the same base org',
        'shop:web.http', 'ask for a free port with all 3 registries of base org loaded (cdk8s-ports suggest --env production)']],
      [['port 8100/TCP of page.http (production) in registry wiki is already taken by web.http (production) in registry shop, which extends the same base org',
        'shop:web.http', 'ask for a free port with all 3 registries of base org loaded (cdk8s-ports suggest --env production)']],
    ]);
  });

  test('a fallback that collides across registries is offered another fallback, in its category\'s fallback ranges when it has them', () => {
    const withFallbacks = { ...base, categories: { web: { ranges: [[8100, 8189]] as [number, number][], fallbackRanges: [[8190, 8199]] as [number, number][] } } };
    const [, blog] = resolveAll([
      { spec: extendSpec(withFallbacks, { name: 'shop', services: { api: { public: true, category: 'web', ports: { http: { offset: 11, fallback: 8190 } } } } }) },
      { spec: extendSpec(withFallbacks, { name: 'blog', services: { feed: { public: true, category: 'web', ports: { http: { offset: 20, fallback: 8190 } } } } }) },
    ]);
    expect(unwaived(blog.findings, 'collision').map(f => [f.where.port, f.fix])).toEqual([
      [8190, 'move the fallback of feed.http in production to a port of 8190-8199 free in both registries']]);
  });

  test('two registries resolved together (one app, one check a.yaml b.yaml) with an environment in one namespace: the later one is told, naming both', () => {
    const one = (name: string, namespace?: string): RegistrySpec => ({
      name, environments: { production: { range: [8100, 8199], ...(namespace ? { namespace } : {}) } }, services: { web: { public: true, ports: { http: { offset: 0 } } } },
    });
    const [shop, blog, wiki] = resolveAll([{ spec: one('shop') }, { spec: one('blog', 'shop-production') }, { spec: one('wiki') }]);
    expect(shop.findings.filter(f => f.rule === 'namespace-shared')).toEqual([]);
    expect(wiki.findings.filter(f => f.rule === 'namespace-shared')).toEqual([]);
    expect(blog.findings.filter(f => f.rule === 'namespace-shared').map(f => [f.message, f.where, f.fix])).toEqual([[
      'environment production of registry blog is in namespace shop-production, which environment production of registry shop uses already: their objects would overwrite each other and each one\'s NetworkPolicies would select the other\'s pods',
      { registry: 'blog', environment: 'production', other: 'shop:production', path: 'environments.production.namespace' },
      'give production a namespace of its own (namespace: blog-production)',
    ]]);
    expect(blog.ok).toBe(false);
    // Each alone is clean.
    expect(resolveAll([{ spec: one('blog', 'shop-production') }])[0].findings.filter(f => f.rule === 'namespace-shared')).toEqual([]);
  });

  test('a registry given twice does not collide with itself', () => {
    const [first, again] = resolveAll([{ spec: team('shop', 10) }, { spec: team('shop', 10) }]);
    expect([...first.findings, ...again.findings].filter(f => f.rule === 'collision')).toEqual([]);
  });

  test('a waiver never hides a finding of another rule on the same service', () => {
    const r = checkRegistry(variant(s => {
      s.services.api.ports.http = { port: 8150 };
      s.services.worker.ports.metrics = { port: 8150 };
      s.waivers = [{ rule: 'defacto-port', service: 'worker', reason: 'not this one' }];
    }));
    expect(unwaived(r.findings, 'collision').filter(f => f.where.service === 'worker').length).toBeGreaterThan(0);
    expect(r.findings.filter(f => f.waived)).toEqual([]);
    expect(r.findings.map(f => f.rule)).toContain('waiver-unused');
    expect(r.ok).toBe(false);
  });

  test.each([
    ['port-range', (s: ReturnType<typeof cleanSpec>) => { s.services!.api.ports.http = { port: 70000 }; }],
    ['service-name', (s: ReturnType<typeof cleanSpec>) => { s.services!.Api_Bad = { ports: { http: { offset: 50 } } }; }],
    ['invalid-cidr', (s: ReturnType<typeof cleanSpec>) => { s.externals!.db.cidrs = ['10.0.0.0/33']; }],
    ['unknown-service', (s: ReturnType<typeof cleanSpec>) => { s.services!.api.connectsTo = [{ to: 'ghost' }]; }],
  ])('a waiver for %s, which keeps the output valid, is an error and the finding still blocks', (rule, edit) => {
    const spec = cleanSpec();
    edit(spec);
    spec.waivers = [{ rule, reason: 'please' }];
    const r = checkRegistry(spec);
    expect(unwaived(r.findings, rule).length).toBeGreaterThan(0);
    const invalid = unwaived(r.findings, 'waiver-invalid');
    expect(invalid).toHaveLength(1);
    expect(invalid[0].message).toContain(`${rule} keeps the output valid`);
    expect(invalid[0].where.path).toBe('waivers[0]');
    expect(r.findings.map(f => f.rule)).not.toContain('waiver-unused');
    expect(r.ok).toBe(false);
  });

  test('a waiver for duplicate-service on a registry built in code is an error too', () => {
    const registry = new PortRegistry(new App(), 'dup', {
      environments: { production: { range: [8100, 8199] } },
      waivers: [{ rule: 'duplicate-service', service: 'api', reason: 'on purpose' }],
    });
    registry.service('api', { public: true, ports: { http: { offset: 1 } } });
    registry.service('api', { public: true, ports: { http: { offset: 2 } } });
    const r = registry.check();
    expect(unwaived(r.findings, 'duplicate-service')).toHaveLength(1);
    expect(unwaived(r.findings, 'waiver-invalid')).toHaveLength(1);
    expect(r.ok).toBe(false);
  });
});

describe('fixes agree with each other', () => {
  /** Applies every "the next free port is N" fix to the registry: the port moves there in that environment. */
  function applyFixes(spec: RegistrySpec, findings: readonly Finding[]): RegistrySpec {
    const out = structuredClone(spec) as Required<Pick<RegistrySpec, 'services' | 'externals'>> & RegistrySpec;
    const allocations = checkRegistry(spec).allocations;
    for (const f of findings) {
      // A port given by an offset is told another offset, for every environment at once.
      const offset = /another offset from the band: the next one free in every environment it runs in is offset: (\d+)/.exec(f.fix ?? '');
      if (offset && !f.waived) {
        const { offset: _old, ...rest } = out.services[f.where.service!].ports[f.where.portName!] as { offset?: number };
        out.services[f.where.service!].ports[f.where.portName!] = { ...rest, offset: Number(offset[1]) };
        continue;
      }
      const m = /the next free port is (\d+)/.exec(f.fix ?? '');
      if (!m || f.waived) continue;
      const port = Number(m[1]);
      const { service, portName, environment } = f.where;
      if (out.externals?.[service!]) {
        out.externals[service!].ports[portName!].port = port;
        continue;
      }
      const decl = out.services[service!].ports[portName!];
      // Every environment keeps the port it has, except the one the fix moves.
      const current = Object.fromEntries(allocations.filter(a => a.service === service && a.portName === portName).map(a => [a.environment, a.port]));
      const previous = typeof decl.port === 'object' ? decl.port : {};
      out.services[service!].ports[portName!] = { port: { ...current, ...previous, [environment!]: port } };
    }
    return out;
  }

  const PLACED = ['collision', 'avoided-port', 'reserved-range', 'defacto-port', 'outside-category', 'outside-band', 'privileged-port'];

  function expectFixesToHold(spec: RegistrySpec) {
    const before = checkRegistry(spec);
    // The ports each fix proposes: an offset fix names one port per environment, once for all its findings.
    const offsetFixes = new Map<string, string[]>();
    for (const f of before.findings) {
      const m = /another offset from the band: .* \((port .*)\)$/.exec(f.fix ?? '');
      if (m) offsetFixes.set(`${f.where.service}.${f.where.portName}`, [...m[1].matchAll(/port (\d+) in/g)].map(x => x[1]));
    }
    const proposed = [...before.findings.map(f => /the next free port is (\d+)/.exec(f.fix ?? '')?.[1]).filter((p): p is string => !!p), ...[...offsetFixes.values()].flat()];
    expect(proposed.length).toBeGreaterThan(3);
    // No two fixes of one report name the same port (one scope and protocol here).
    expect(new Set(proposed).size).toBe(proposed.length);
    // No fix names a port that is already taken.
    const taken = new Set(before.allocations.flatMap(a => [a.port, ...(a.fallback !== undefined ? [a.fallback] : [])]));
    for (const p of proposed) expect(taken.has(Number(p))).toBe(false);
    const after = checkRegistry(applyFixes(spec, before.findings));
    const left = after.findings.filter(f => PLACED.includes(f.rule) && !f.waived).map(f => `${f.rule} ${f.message}`);
    expect(left).toEqual([]);
  }

  test('six services outside their category are offered six different free ports, and applying them is clean', () => {
    const services: NonNullable<RegistrySpec['services']> = {};
    for (let i = 0; i < 6; i++) services[`svc-${i}`] = { category: 'apps', public: true, ports: { http: { port: 3100 + i } } };
    expectFixesToHold({
      name: 'six', categories: { apps: { ranges: [[2000, 2009]] }, monitoring: { ranges: [[3000, 3999]] } },
      avoid: { ports: [2000, 2002] }, services,
    });
  });

  test('the literal Lumiere PORTS.md (seed 000), as written: applying every fix leaves no misplaced port', () => {
    expectFixesToHold(seedLumiere());
  });

  test('Lumiere with more services, avoided and de-facto ports: applying every fix adds no collision', () => {
    expectFixesToHold({
      name: 'lumiere',
      environments: { production: { range: [8000, 8799] }, development: { range: [9000, 9799] }, test: { range: [7000, 7799] } },
      categories: { infrastructure: { ranges: [[5000, 6999]] } },
      avoid: { ports: [8001, 9001, 7001], ranges: [[8002, 8010]] },
      services: {
        pourtier: { public: true, ports: { http: { offset: 0 } } },
        courier: { public: true, ports: { ws: { offset: 765 } } },
        passeur: { public: true, ports: { http: { offset: 766 } } },
        hermes: { public: true, ports: { http: { offset: 1 } } },
        iris: { public: true, ports: { http: { offset: 5 } } },
      },
      externals: {
        postgres: { kind: 'postgres', category: 'infrastructure', cidrs: ['10.0.0.1/32'], ports: { main: { port: 5432 } } },
        redis: { kind: 'redis', category: 'infrastructure', cidrs: ['10.0.0.1/32'], ports: { main: { port: 6379 } } },
        influxdb: { category: 'infrastructure', cidrs: ['10.0.0.1/32'], ports: { main: { port: 8086 } } },
        'pypi-mirror': { category: 'infrastructure', cidrs: ['10.0.0.1/32'], ports: { main: { port: 9002 } } },
        minio: { category: 'infrastructure', cidrs: ['10.0.0.1/32'], ports: { main: { port: 5000 } } },
      },
    });
  });
});

describe('waivers match by rule, service, environment and port', () => {
  // Four avoided-port errors: api on 8110 (production) and 9110 (development), worker on 8120 and 9120.
  const spec = (waivers: RegistrySpec['waivers']) => variant(s => { s.avoid = { ports: [8110, 9110, 8120, 9120] }; s.waivers = waivers; });
  const waivedOnes = (waivers: RegistrySpec['waivers']) => checkRegistry(spec(waivers)).findings
    .filter(f => f.rule === 'avoided-port').map(f => [f.where.service, f.where.environment, f.where.port, f.waived ?? null]);

  test('without a waiver, all four are errors', () => {
    expect(waivedOnes([])).toEqual([
      ['api', 'production', 8110, null], ['api', 'development', 9110, null], ['worker', 'production', 8120, null], ['worker', 'development', 9120, null]]);
  });

  test('a service and an environment: that one finding', () => {
    expect(waivedOnes([{ rule: 'avoided-port', service: 'api', environment: 'production', reason: 'r' }])).toEqual([
      ['api', 'production', 8110, 'r'], ['api', 'development', 9110, null], ['worker', 'production', 8120, null], ['worker', 'development', 9120, null]]);
  });

  test('an environment alone: every service there', () => {
    expect(waivedOnes([{ rule: 'avoided-port', environment: 'development', reason: 'r' }])).toEqual([
      ['api', 'production', 8110, null], ['api', 'development', 9110, 'r'], ['worker', 'production', 8120, null], ['worker', 'development', 9120, 'r']]);
  });

  test('a port alone: the findings on that port', () => {
    expect(waivedOnes([{ rule: 'avoided-port', port: 9120, reason: 'r' }])).toEqual([
      ['api', 'production', 8110, null], ['api', 'development', 9110, null], ['worker', 'production', 8120, null], ['worker', 'development', 9120, 'r']]);
  });

  test('a rule alone: every finding of the rule, and the first matching waiver gives the reason', () => {
    const r = checkRegistry(spec([{ rule: 'avoided-port', service: 'worker', reason: 'first' }, { rule: 'avoided-port', reason: 'second' }]));
    expect(r.findings.filter(f => f.rule === 'avoided-port').map(f => f.waived)).toEqual(['second', 'second', 'first', 'first']);
    expect(r.findings.filter(f => f.rule.startsWith('waiver'))).toEqual([]);
  });

  test('a waiver that matches nothing says what it was for and where it is', () => {
    const r = checkRegistry(spec([
      { rule: 'avoided-port', service: 'api', environment: 'production', port: 8111, reason: 'r' },
      { rule: 'avoided-port', service: 'api', environment: 'production', port: 8110, reason: 'r' },
      { rule: 'defacto-port', reason: 'r' },
    ]));
    expect(r.findings.filter(f => f.rule === 'waiver-unused').map(f => ({ message: f.message, where: f.where, fix: f.fix }))).toEqual([
      { message: 'the waiver for avoided-port on api in production at 8111 matches no finding',
        where: { registry: 'acme', service: 'api', environment: 'production', port: 8111, path: 'waivers[0]' }, fix: 'remove the waiver' },
      { message: 'the waiver for defacto-port matches no finding', where: { registry: 'acme', path: 'waivers[2]' }, fix: 'remove the waiver' },
    ]);
  });
});

describe('one culprit, one finding', () => {
  test('a de-facto warning on a port that also collides is folded into the collision, in that environment only', () => {
    const r = checkRegistry(variant(s => {
      s.environments.development.scope = 'laptop';
      s.defactoPorts = { 8150: { what: 'the a; b daemon' } };
      s.services.api.ports.http = { port: 8150 };
      s.services.worker.ports.metrics = { port: 8150 };
      s.services.api.environments = ['production'];
    }));
    // worker collides with api in production; in development (another host) it is alone on the port.
    const onWorker = r.findings.filter(f => f.where.service === 'worker' && ['collision', 'defacto-port'].includes(f.rule)).map(f => [f.rule, f.where.environment]);
    expect(onWorker).toEqual([['collision', 'production'], ['defacto-port', 'development']]);
    const collision = r.findings.find(f => f.rule === 'collision')!;
    expect(collision.message).toMatch(/; it is also the default port of the a; b daemon$/);
    expect(r.findings.filter(f => f.rule === 'defacto-port').map(f => [f.where.service, f.where.environment])).toEqual([['api', 'production'], ['worker', 'development']]);
  });
});

describe('schema findings say where they are', () => {
  const schemaWhere = (input: unknown) => checkRegistry(input).findings.filter(f => f.rule === 'schema').map(f => ({ message: f.message, where: f.where }));

  test('a service, an external and an environment are named', () => {
    const found = schemaWhere({
      name: 'r', environments: { production: { range: 'all' } },
      services: { api: { ports: { http: { offset: 'x' } } } }, externals: { db: { ports: { main: { port: 'y' } } } },
    });
    expect(found.map(f => f.where)).toEqual(expect.arrayContaining([
      { registry: 'r', environment: 'production', path: 'environments.production.range' },
      { registry: 'r', service: 'api', path: 'services.api.ports.http.offset' },
      { registry: 'r', service: 'db', path: 'externals.db.ports.main.port' },
    ]));
    expect(found.every(f => f.message.startsWith(`${f.where.path}: `))).toBe(true);
  });

  test('a whole section or the whole registry names no service or environment', () => {
    // No key at all, not a key holding undefined: callers test `'environment' in where`.
    expect(schemaWhere({ name: 'r', environments: 5, services: 'none' }).map(f => f.where)).toStrictEqual([
      { registry: 'r', path: 'environments' }, { registry: 'r', path: 'services' }]);
    const [root] = schemaWhere(null);
    expect(root.where).toEqual({ path: '' });
    expect(root.message).toMatch(/^registry: /);
    expect(schemaWhere({ name: 7 }).map(f => f.where)).toEqual([{ path: 'name' }]);
  });
});

describe('a frozen lock (CI) names each entry it lacks or holds in vain', () => {
  const spec = (services: string[]): RegistrySpec => ({
    name: 'auto', environments: { production: { range: [20000, 20099] } },
    services: Object.fromEntries(services.map(s => [s, { ports: { http: {} } }])),
  });
  const outdated = (r: ReturnType<typeof checkRegistry>) => r.findings.filter(f => f.rule === 'lock-outdated').map(f => [f.message, f.where, f.fix]);
  const fix = 'run the synth without a frozen lock and commit ports.lock.json';

  test('a complete lock: nothing', () => {
    const lock = checkRegistry(spec(['a', 'b'])).lock;
    const r = checkRegistry(spec(['a', 'b']), { lock, frozenLock: true });
    expect(outdated(r)).toEqual([]);
    expect(r.ok).toBe(true);
  });

  test('a service added: its entry is missing', () => {
    const lock = checkRegistry(spec(['a'])).lock;
    const r = checkRegistry(spec(['a', 'b']), { lock, frozenLock: true });
    expect(outdated(r)).toEqual([['production/b/http has no entry in the lock file', { registry: 'auto', path: 'ports.lock.json production/b/http' }, fix]]);
    expect(r.ok).toBe(false);
  });

  test('a service removed: its entry is stale', () => {
    const lock = checkRegistry(spec(['a', 'b'])).lock;
    const r = checkRegistry(spec(['a']), { lock, frozenLock: true });
    expect(outdated(r)).toEqual([['the lock file still holds production/b/http, which no port uses', { registry: 'auto', path: 'ports.lock.json production/b/http' }, fix]]);
    expect(r.ok).toBe(false);
  });
});

describe('connections resolve where both ends run', () => {
  test('a connection exists only in the environments where its target runs, or in the one it names', () => {
    const r = checkRegistry({
      name: 'r',
      environments: { production: { range: [8100, 8199] }, staging: { range: [9100, 9199] } },
      services: {
        api: { ports: { http: { offset: 1 } }, connectsTo: [{ to: 'search' }, { to: 'audit', environment: 'production' }] },
        search: { environments: ['production'], ports: { http: { offset: 2 } } },
        audit: { environments: ['production'], ports: { http: { offset: 3 } } },
        web: { environments: ['staging'], ports: { http: { offset: 4 } }, connectsTo: [{ to: 'audit', environment: 'staging' }] },
      },
    } as RegistrySpec);
    expect(r.connections.map(c => [c.environment, c.from, c.to, c.targetEnvironment])).toEqual([
      ['production', 'api', 'search', 'production'],
      ['production', 'api', 'audit', 'production'],
      ['staging', 'api', 'audit', 'production'],
    ]);
  });

  test('a connection without a port to a target of two ports resolves to nothing, and is an error', () => {
    const r = checkRegistry(variant(s => {
      s.services.worker.ports = { metrics: { offset: 20 }, admin: { offset: 21 } };
      s.services.api.connectsTo = [{ to: 'worker' }];
    }));
    expect(r.connections).toEqual([]);
    expect(r.findings.filter(f => f.rule === 'unknown-port').map(f => f.where)).toEqual([expect.objectContaining({ service: 'api', path: 'services.api.connectsTo[0]' })]);
    expect(r.ok).toBe(false);
  });
});

test('crossRegistryCollisions (public API): an entry only for a registry that has collisions, under its own name', () => {
  const base = { name: 'org', environments: { production: { range: [8100, 8199] as [number, number] } } };
  const team = (name: string, offset: number) => checkRegistry(extendSpec(base, { name, services: { [`${name}-api`]: { public: true, ports: { http: { offset } } } } }));
  expect(crossRegistryCollisions([team('shop', 10), team('blog', 11)])).toEqual(new Map());
  const found = crossRegistryCollisions([team('shop', 10), team('blog', 10), team('wiki', 12)]);
  expect([...found.keys()]).toEqual(['blog']);
  expect(found.get('blog')!.map(f => f.where.other)).toEqual(['shop:shop-api.http']);
});

describe('allocations without details (what check asks for)', () => {
  test('give the same findings, and the same allocations without the IANA names and skipped-port notes only outputs show', () => {
    // Automatic ports around MongoDB's 27017: one steps over it (a note), one lands on an IANA-named port.
    const skipping = { name: 'r', environments: { production: { range: [27015, 27030] } }, services: { a: { ports: { http: { auto: true } } }, b: { ports: { http: { auto: true } } }, c: { ports: { http: { auto: true } } } } };
    const specs: unknown[] = [seedLumiere(), cleanSpec(), registryWithFindings(300, 30), skipping];
    for (const spec of specs) {
      const full = resolve({ spec });
      const lean = resolve({ spec, details: false });
      expect(lean.findings).toEqual(full.findings);
      expect(lean.ok).toBe(full.ok);
      expect(lean.allocations.map(a => a.iana ?? a.note)).toEqual(lean.allocations.map(() => undefined));
      expect(lean.allocations).toEqual(full.allocations.map(a => ({ ...a, iana: undefined, note: undefined })));
    }
    // The registries above do have both (the comparison is not of nothing).
    const full = resolve({ spec: skipping });
    expect(full.allocations.map(a => [a.port, a.iana !== undefined, a.note])).toEqual([[27015, false, undefined], [27016, true, undefined], [27018, false, 'automatic allocation skipped 27017 (MongoDB)']]);
  });
});
