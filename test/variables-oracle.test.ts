import fc from 'fast-check';
import { allocate } from '../lib/allocation/allocate';
import { environmentsOf, indexSpec } from '../lib/model/normalize';
import { RegistrySpec, RegistrySpecSchema } from '../lib/model/schema';
import { connectionVariableClashes } from '../lib/rules/variables';
import { referenceConnectionVariableClashes } from './support/reference-variables';

/**
 * The connection-variable rule skips clients that cannot clash (simple names, no variables of
 * their own, no alias targets). On registries built to clash (names that differ only in
 * punctuation or case, `a-b` beside port b of a, `database`/`redis` beside PostgreSQL and Redis,
 * own `env` names) it must report exactly what the name-by-name rule reports.
 */
const word = fc.constantFrom('a', 'b', 'a-b', 'a_b', 'A-b', 'b-c', 'a-b-c', 'database', 'redis', 'db', 'http', 'c');
const portName = fc.constantFrom('b', 'http', 'b-c', 'c', 'grpc');
const envName = fc.constantFrom('A_B_PORT', 'DATABASE_URL', 'REDIS_URL', 'B_URL', 'A_HOST', 'X_URL');

const registry = fc.record({
  services: fc.dictionary(word, fc.record({
    kind: fc.option(fc.constantFrom('postgres', 'redis', 'http'), { nil: undefined }),
    ports: fc.dictionary(portName, fc.record({ offset: fc.integer({ min: 0, max: 50 }), env: fc.option(envName, { nil: undefined }) }, { requiredKeys: ['offset'] }), { minKeys: 1, maxKeys: 3 }),
    connectsTo: fc.array(fc.record({ to: word, port: fc.option(portName, { nil: undefined }), env: fc.option(envName, { freq: 4, nil: undefined }) }, { requiredKeys: ['to'] }), { maxLength: 4 }),
  }), { minKeys: 1, maxKeys: 6 }),
  externals: fc.dictionary(fc.constantFrom('postgres', 'redis', 'cache', 'a-b'), fc.record({
    kind: fc.option(fc.constantFrom('postgres', 'redis'), { nil: undefined }),
    ports: fc.dictionary(portName, fc.record({ port: fc.integer({ min: 5000, max: 5100 }) }), { minKeys: 1, maxKeys: 2 }),
  }), { maxKeys: 2 }),
});

const strip = (o: unknown): unknown => JSON.parse(JSON.stringify(o));

test('the fast connection-variable rule reports what the name-by-name rule reports', () => {
  let clashes = 0;
  fc.assert(fc.property(registry, raw => {
    const parsed = RegistrySpecSchema.safeParse(strip({ name: 'r', environments: { dev: { range: [8000, 8999] } }, ...raw }));
    if (!parsed.success) return;
    const spec: RegistrySpec = parsed.data;
    const environments = environmentsOf(spec);
    const index = indexSpec(spec);
    const ctx = { spec, environments, index, allocation: allocate(spec, environments, undefined, index), memo: new Map(), syntax: 'data' as const };
    const expected = referenceConnectionVariableClashes.run(ctx);
    clashes += expected.length;
    // Whole findings (message, where, fix), in a stable order.
    const sort = (fs: readonly object[]) => fs.map(f => JSON.stringify(f)).sort();
    expect(sort(connectionVariableClashes.run(ctx))).toEqual(sort(expected));
  // At least 2,000 runs even where FC_RUNS is lowered (mutation runs): clashes that only the slow path
  // finds (a client whose other targets are all plain) come up about once in a hundred registries.
  }), { numRuns: Math.max(2000, Number(process.env.FC_RUNS ?? 2000)) });
  // The generator does make clashes: the comparison is not between two empty lists.
  expect(clashes).toBeGreaterThan(50);
});
