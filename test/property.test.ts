import * as fs from 'fs';
import * as path from 'path';
import fc from 'fast-check';
import { parse } from 'yaml';
import { k8s } from '../imports/k8s';
import { RULES, RegistrySpec, checkRegistry } from '../lib';
import { composeFiles } from '../lib/emit/compose';
import { envFiles } from '../lib/emit/env-files';
import { kubernetesObjects } from '../lib/emit/kubernetes';
import { networkPolicies } from '../lib/emit/network-policies';
import { environmentsOf, envVarStem } from '../lib/model/normalize';
import { checkNames } from '../lib/rules/names';
import { composeSchema as loadComposeSchema } from './support/compose-schema';
import { schemaErrors, semanticErrors } from './support/k8s-schema';

/**
 * Random registries, valid and not: the checker never throws; what it accepts yields valid
 * Kubernetes objects and compose files, unique ports per scope and the security defaults;
 * what it rejects names a rule. `FC_RUNS` raises the number of runs (npm run fuzz).
 * A failing case is written to test/fixtures/regressions/ and replayed by every later run.
 */
const RUNS = Number(process.env.FC_RUNS ?? 1000);
const REGRESSIONS = path.join(__dirname, 'fixtures', 'regressions');
jest.setTimeout(Math.max(120_000, RUNS * 200));

const composeSchema = loadComposeSchema();

const portNumber = fc.oneof(fc.integer({ min: 1024, max: 9999 }), fc.integer({ min: -5, max: 70000 }), fc.constantFrom(0, 80, 5432, 6379, 8080, 65535, 65536, 8000.5));
const portSpec = fc.oneof(
  fc.record({ offset: fc.integer({ min: 0, max: 300 }) }, { requiredKeys: ['offset'] }),
  fc.record({ port: portNumber, targetPort: fc.option(portNumber, { nil: undefined }) }, { requiredKeys: ['port'] }),
  fc.record({ auto: fc.constant(true), protocol: fc.constantFrom('TCP', 'UDP') }, { requiredKeys: ['auto'] }),
  fc.record({ offset: fc.integer({ min: 0, max: 300 }), nodePort: fc.integer({ min: 29990, max: 32800 }), fallback: fc.constant({ shift: 10000 }) }),
).map(p => Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)));
const serviceName = fc.constantFrom('api', 'web', 'worker', 'db-admin', 'a-b', 'a', 'Bad_Name', 'x'.repeat(64));
const portName = fc.constantFrom('http', 'metrics', 'grpc', 'b-http', '9100', 'a-very-long-port-name');
const envName = fc.constantFrom('production', 'development', 'test', 'staging', 'Bad_Env');

/** Registries that are mostly right: disjoint bands, good names, offsets and automatic ports, real targets. */
const plausible: fc.Arbitrary<RegistrySpec> = fc.record({
  envs: fc.subarray(['production', 'development', 'test'], { minLength: 1 }),
  services: fc.dictionary(fc.constantFrom('api', 'web', 'worker', 'auth', 'billing', 'search'), fc.record({
    public: fc.boolean(),
    ports: fc.dictionary(fc.constantFrom('http', 'metrics', 'grpc', 'admin'),
      fc.oneof(
        fc.record({ offset: fc.integer({ min: 0, max: 499 }) }),
        fc.integer({ min: 0, max: 499 }).map(o => ({ offset: o, nodePort: 30000 + o, fallback: { shift: 20000 } })),
        fc.constant({ auto: true }),
        fc.constant({ offset: 'auto' as const }),
      ), { minKeys: 1, maxKeys: 2 }),
    connectsTo: fc.array(fc.record({ to: fc.constantFrom('api', 'web', 'worker', 'db') }), { maxLength: 2 }),
  }), { minKeys: 1, maxKeys: 6 }),
  db: fc.boolean(),
}).map(({ envs, services, db }) => ({
  name: 'plausible',
  environments: Object.fromEntries(envs.map((e, i) => [e, { range: [10000 + i * 1000, 10499 + i * 1000] as [number, number] }])),
  // Environments of one scope share the nodes, so each gets its own NodePort (as a team would write it).
  services: Object.fromEntries(Object.entries(services).map(([name, svc]) => [name, {
    ...svc,
    ports: Object.fromEntries(Object.entries(svc.ports).map(([p, spec]) => [p, 'nodePort' in spec
      ? { ...spec, nodePort: Object.fromEntries(envs.map((e, i) => [e, (spec.nodePort as number) + i * 600])) } : spec])),
  }])),
  ...(db ? { externals: { db: { kind: 'postgres', cidrs: ['10.0.0.1/32'], ports: { main: { port: 5432 } } } } } : {}),
}) as unknown as RegistrySpec);

/** Registries with anything in them: bad names, ports out of range, overlapping bands. */
const chaotic: fc.Arbitrary<RegistrySpec> = fc.record({
  environments: fc.dictionary(envName, fc.record({
    range: fc.option(fc.tuple(fc.integer({ min: 1000, max: 60000 }), fc.integer({ min: -10, max: 600 })).map(([a, w]) => [a, a + w] as [number, number]), { nil: undefined }),
    scope: fc.option(fc.constantFrom('default', 'other'), { nil: undefined }),
  }), { minKeys: 1, maxKeys: 3 }),
  services: fc.dictionary(serviceName, fc.record({
    public: fc.boolean(),
    status: fc.constantFrom('active', 'active', 'planned', 'dev-only'),
    ports: fc.dictionary(portName, portSpec, { minKeys: 1, maxKeys: 3 }),
    connectsTo: fc.array(fc.record({ to: fc.constantFrom('api', 'web', 'worker', 'db', 'ghost') }), { maxLength: 3 }),
  }), { maxKeys: 5 }),
  externals: fc.dictionary(fc.constantFrom('db', 'cache'), fc.record({
    kind: fc.constantFrom('postgres', 'redis', 'http'),
    cidrs: fc.constantFrom(['10.0.0.1/32'], ['10.0.0.1/33'], []),
    ports: fc.record({ main: fc.record({ port: portNumber }) }),
  }), { maxKeys: 2 }),
}).map(r => ({ name: 'fuzz', ...r }) as unknown as RegistrySpec);

const registry = fc.oneof({ weight: 1, arbitrary: plausible }, { weight: 1, arbitrary: chaotic });

/** The property every registry must satisfy; throws (with a reason) when it does not. */
let accepted = 0;
function property(spec: RegistrySpec): void {
  const resolved = checkRegistry(spec); // must not throw, whatever the input
  if (resolved.ok) accepted++;
  const errors = resolved.findings.filter(f => f.severity === 'error' && !f.waived);
  if (!resolved.ok) {
    if (errors.length === 0) throw new Error('rejected without an error finding');
    for (const f of errors) if (!(f.rule in RULES) || !f.message) throw new Error(`finding without a rule or message: ${JSON.stringify(f)}`);
    return;
  }
  // Accepted: ports are unique per scope and protocol (a shared external is one listener).
  const seen = new Map<string, string>();
  for (const a of resolved.allocations) {
    for (const port of a.fallback !== undefined ? [a.port, a.fallback] : [a.port]) {
      const key = `${a.scope}/${a.protocol}/${port}`;
      const owner = a.of === 'external' ? `${a.service}/${a.portName}` : `${a.environment}/${a.service}/${a.portName}/${port === a.port ? 'p' : 'f'}`;
      const previous = seen.get(key);
      if (previous !== undefined && previous !== owner) throw new Error(`port ${key} used twice: ${previous} and ${owner}`);
      seen.set(key, owner);
      if (!(Number.isInteger(port) && port >= 1 && port <= 65535)) throw new Error(`accepted port ${port}`);
    }
  }
  // Every Kubernetes object is valid, and the security defaults hold.
  const policies = networkPolicies(resolved);
  for (const env of resolved.environments) {
    const objects = kubernetesObjects(resolved, env);
    const manifests = [
      k8s.KubeNamespace.manifest(objects.namespace.props),
      ...objects.services.map(s => k8s.KubeService.manifest(s.props)),
      ...(policies.get(env.name) ?? []).map(p => k8s.KubeNetworkPolicy.manifest(p.props)),
    ];
    for (const m of manifests) {
      const problems = [...schemaErrors(m), ...semanticErrors(m)];
      if (problems.length) throw new Error(`${m.kind} ${m.metadata.name}: ${problems.join('; ')}`);
      if (m.kind === 'Service') {
        const declared = resolved.allocations.some(a => a.environment === env.name && a.service === m.metadata.name && a.nodePort !== undefined);
        if (m.spec.type !== (declared ? 'NodePort' : 'ClusterIP')) throw new Error(`Service ${m.metadata.name} is ${m.spec.type}`);
      }
    }
    const deny = manifests.find(m => m.kind === 'NetworkPolicy' && m.metadata.name === 'default-deny');
    if (!deny || JSON.stringify(deny.spec.podSelector) !== '{}' || deny.spec.policyTypes.length !== 2) throw new Error(`no default deny in ${env.name}`);
    if (manifests.some(m => JSON.stringify(m).includes('"port":0') || JSON.stringify(m).includes('hostPort'))) throw new Error('port 0 or hostPort emitted');
  }
  // Compose files pass the compose schema; no literal secret anywhere.
  for (const [file, text] of [...composeFiles(resolved), ...envFiles(resolved)]) {
    if (file.endsWith('.yml') && !composeSchema(parse(text))) throw new Error(`${file}: ${JSON.stringify(composeSchema.errors)}`);
    for (const m of text.matchAll(/:\/\/([^/@\s]*)@/g)) {
      if (m[1].replace(/\$\{[A-Z0-9_]+(:\?[A-Z0-9_]+)?\}/g, '') !== ':') throw new Error(`${file}: literal credentials ${m[1]}`);
    }
  }
}

test(`random registries (${RUNS} runs): never a crash; accepted ones are valid and safe; rejected ones name a rule`, () => {
  const result = fc.check(fc.property(registry, spec => { property(spec); }), { numRuns: RUNS, seed: process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined });
  if (result.failed) {
    fs.mkdirSync(REGRESSIONS, { recursive: true });
    const file = path.join(REGRESSIONS, `seed-${result.seed}.json`);
    fs.writeFileSync(file, `${JSON.stringify(result.counterexample![0], null, 2)}\n`);
    throw new Error(`property failed (kept as ${path.relative(process.cwd(), file)}): ${fc.defaultReportMessage(result)}`);
  }
  // Both sides of the property must be exercised, not just rejections.
  expect(accepted).toBeGreaterThan(RUNS / 10);
});

test('kept counterexamples still hold the property', () => {
  const files = fs.existsSync(REGRESSIONS) ? fs.readdirSync(REGRESSIONS).filter(f => f.endsWith('.json')) : [];
  for (const f of files) property(JSON.parse(fs.readFileSync(path.join(REGRESSIONS, f), 'utf8')));
  expect(files.length).toBeGreaterThan(0);
});

test('env-var-collision is reported exactly for the ports whose variable names coincide, whatever the punctuation', () => {
  const word = fc.string({ unit: fc.constantFrom('a', 'B', '1', '-', '_', '.', ' ', 'ß', 'é'), minLength: 0, maxLength: 5 });
  fc.assert(fc.property(fc.dictionary(word, fc.uniqueArray(word, { minLength: 1, maxLength: 3 }), { maxKeys: 6 }), entries => {
    const services = Object.fromEntries(Object.entries(entries).map(([name, ports]) => [name, { ports: Object.fromEntries(ports.map(p => [p, {}])) }]));
    const spec = { name: 'x', services } as unknown as RegistrySpec;
    // The naive reading of the rule: every port's whole-name variable, in declaration order.
    const seen = new Map<string, string>();
    const expected: string[] = [];
    for (const [name, svc] of Object.entries(services)) {
      for (const portName of Object.keys(svc.ports)) {
        const variable = envVarStem(name, portName);
        if (seen.has(variable)) expected.push(`${name}.${portName}~${seen.get(variable)}`);
        else seen.set(variable, `${name}.${portName}`);
      }
    }
    const found = checkNames(spec, environmentsOf(spec)).filter(f => f.rule === 'env-var-collision').map(f => `${f.where.service}.${f.where.portName}~${f.where.other}`);
    expect(found).toEqual(expected);
  }), { numRuns: Math.min(RUNS, 2000) });
});
