import { checkRegistry, RegistrySpec } from '../lib';
import { networkPolicies } from '../lib/emit/network-policies';
import { envVarStem } from '../lib/model/normalize';
import { variant } from './support/specs';

/**
 * What the registry means before any rule reads it: the kind of each environment (from its name
 * unless given), the reasons shown for avoided ports and ranges, and the stems of variable names.
 */

describe('the kind of an environment comes from its name unless it is given', () => {
  const names: Array<[string, string]> = [
    ['production', 'production'], ['prod-eu', 'production'],
    ['development', 'development'], ['dev', 'development'], ['local', 'development'], ['localhost', 'development'],
    ['test', 'test'], ['testing', 'test'], ['ci', 'test'], ['e2e', 'test'], ['qa', 'test'], ['qa2', 'test'],
    ['staging', 'staging'], ['stage', 'staging'], ['preprod', 'staging'], ['uat', 'staging'],
    // Unknown names read as production, the strictest; a kind word inside a name does not count.
    ['sandbox', 'production'], ['eu-dev', 'production'], ['my-test', 'production'], ['pre-staging', 'production'], ['live', 'production'],
  ];

  test.each(names)('%s is a %s environment', (name, kind) => {
    const r = checkRegistry({ name: 'r', environments: { [name]: { range: [8100, 8199] } } });
    expect(r.environments.map(e => [e.name, e.kind])).toEqual([[name, kind]]);
  });

  test('a kind given wins over the name', () => {
    const r = checkRegistry({ name: 'r', environments: { dev: { range: [8100, 8199], kind: 'staging' }, sandbox: { range: [9100, 9199], kind: 'development' } } });
    expect(r.environments.map(e => [e.name, e.kind])).toEqual([['dev', 'staging'], ['sandbox', 'development']]);
  });

  test('a dev-only service runs where the kind is not production, with its policies, and nowhere else', () => {
    const envs: RegistrySpec['environments'] = { production: { range: [8100, 8199] }, qa: { range: [9100, 9199] }, uat: { range: [10100, 10199] }, local: { range: [11100, 11199] } };
    const r = checkRegistry({
      name: 'r', environments: envs,
      services: {
        api: { ports: { http: { offset: 1 } } },
        seed: { status: 'dev-only', ports: { http: { offset: 2 } }, connectsTo: [{ to: 'api' }] },
      },
    });
    expect(r.findings.filter(f => f.severity === 'error')).toEqual([]);
    expect(r.allocations.filter(a => a.service === 'seed').map(a => [a.environment, a.port])).toEqual([['qa', 9102], ['uat', 10102], ['local', 11102]]);
    const policies = networkPolicies(r);
    for (const env of ['qa', 'uat', 'local']) {
      const names = policies.get(env)!.map(p => p.name);
      expect(names).toEqual(expect.arrayContaining(['allow-api-from-seed', 'allow-seed-to-api']));
    }
    expect(policies.get('production')!.map(p => p.name).filter(n => n.includes('seed'))).toEqual([]);
  });
});

describe('avoided ports and ranges say why they are avoided', () => {
  const placed = (avoid: RegistrySpec['avoid'], categories?: RegistrySpec['categories']) => checkRegistry(variant(s => {
    s.avoid = avoid;
    if (categories) s.categories = { ...s.categories, ...categories };
    s.services.api.ports.http = { port: 8110 };
  })).findings.filter(f => f.where.service === 'api' && ['avoided-port', 'reserved-range'].includes(f.rule)).map(f => f.message);

  test('a port listed by number', () => {
    expect(placed({ ports: [8110] })).toEqual(['api.http (production) is on 8110, an avoided port (listed in avoid.ports)',
      'api.http (development) is on 8110, an avoided port (listed in avoid.ports)']);
  });

  test('a port listed with and without a reason', () => {
    expect(placed({ ports: [{ port: 8110 }] })[0]).toBe('api.http (production) is on 8110, an avoided port (listed in avoid.ports)');
    expect(placed({ ports: [{ port: 8110, reason: 'the legacy proxy' }] })[0]).toBe('api.http (production) is on 8110, an avoided port (the legacy proxy)');
  });

  test('a range listed as a pair, with and without a reason', () => {
    expect(placed({ ranges: [[8105, 8115]] })[0]).toBe('api.http (production) is on 8110, inside an avoided range 8105-8115 (listed in avoid.ranges)');
    expect(placed({ ranges: [{ range: [8105, 8115] }] })[0]).toBe('api.http (production) is on 8110, inside an avoided range 8105-8115 (listed in avoid.ranges)');
    expect(placed({ ranges: [{ range: [8105, 8115], reason: 'the batch window' }] })[0]).toBe('api.http (production) is on 8110, inside an avoided range 8105-8115 (the batch window)');
  });

  test('a reserved category, with and without a description', () => {
    expect(placed(undefined, { legacy: { reserved: true, ranges: [[8108, 8112]] } })[0]).toBe('api.http (production) is on 8110, inside reserved category legacy 8108-8112');
    expect(placed(undefined, { legacy: { reserved: true, description: 'kept for the old gateway', ranges: [[8108, 8112]] } })[0])
      .toBe('api.http (production) is on 8110, inside reserved category legacy 8108-8112 (kept for the old gateway)');
  });
});

describe('variable names', () => {
  test.each([
    [['api', 'http'], 'API_HTTP'],
    [['my-api', 'http'], 'MY_API_HTTP'],
    [['my_api'], 'MY_API'],
    [['my.api', 'http'], 'MY_API_HTTP'],
    [['My.Api'], 'MY_API'],
    [['-api-', 'http-'], 'API_HTTP'],
    [['..api', 'x.y'], 'API_X_Y'],
    [['api', '--'], 'API'],
    [['a..b'], 'A_B'],
  ])('%j becomes %s: one "_" per run of other characters, none at either end', (parts, stem) => {
    expect(envVarStem(...parts)).toBe(stem);
  });
});
