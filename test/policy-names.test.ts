import fc from 'fast-check';
import { k8s } from '../imports/k8s';
import { checkRegistry, RegistrySpec } from '../lib';
import { kubernetesObjects } from '../lib/emit/kubernetes';
import { networkPolicies } from '../lib/emit/network-policies';
import { Cluster, Pod, Policy } from './support/netpol-eval';

/**
 * NetworkPolicy names are unique by construction: services whose names contain `-to-`, `-from-`,
 * `public`, `dns` or `default-deny` never merge two policies into one. Proved with the independent
 * evaluator: the paths the policies allow between the registry's pods are exactly the declared ones.
 */
const NAMES = ['a', 'b', 'c', 'a-to-b', 'b-to-c', 'x-from-y', 'y', 'public', 'dns', 'default-deny', 'allow', 'b-in-test'];

const random = fc.record({
  services: fc.uniqueArray(fc.constantFrom(...NAMES), { minLength: 2, maxLength: 8 }),
  edges: fc.array(fc.tuple(fc.nat(20), fc.nat(20), fc.boolean()), { maxLength: 14 }),
  publics: fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
  twoEnvs: fc.boolean(),
}).map(({ services, edges, publics, twoEnvs }) => ({
  services, twoEnvs, publics: services.filter((_, i) => publics[i]),
  edges: edges.map(([from, to, metrics]) => [services[from % services.length], services[to % services.length], metrics] as const),
}));

/** Registries built to collide: x -> y-to-z and x-to-y -> z read alike, so do x-from-... and a service named public, dns. */
const adversarial = fc.record({
  x: fc.constantFrom('a', 'b', 'public', 'dns'), y: fc.constantFrom('c', 'd', 'default-deny'), z: fc.constantFrom('e', 'f', 'public'),
  extra: fc.array(fc.tuple(fc.nat(6), fc.nat(6), fc.boolean()), { maxLength: 6 }), twoEnvs: fc.boolean(),
}).filter(({ x, y, z }) => new Set([x, y, z]).size === 3).map(({ x, y, z, extra, twoEnvs }) => {
  const services = [x, `${x}-to-${y}`, `${y}-to-${z}`, z, `${z}-from-${x}`, 'public', 'dns'].filter((n, i, all) => all.indexOf(n) === i);
  return {
    services, twoEnvs, publics: [z, x] as string[],
    edges: [[x, `${y}-to-${z}`, false], [`${x}-to-${y}`, z, false], ['public', z, true], ['dns', x, false],
      ...extra.map(([from, to, metrics]) => [services[from % services.length], services[to % services.length], metrics] as const)] as Array<readonly [string, string, boolean]>,
  };
});

const registry = fc.oneof(random, adversarial).map(({ services, edges, publics, twoEnvs }): RegistrySpec => ({
  name: 'names',
  environments: twoEnvs ? { production: { range: [8000, 8499] }, test: { range: [9000, 9499] } } : { production: { range: [8000, 8499] } },
  services: Object.fromEntries(services.map((name, i) => [name, {
    ...((publics as readonly string[]).includes(name) ? { public: true } : {}),
    ports: { http: { offset: i * 2 }, metrics: { offset: i * 2 + 1 } },
    connectsTo: edges.filter(([from, to]) => from === name && to !== name && services.includes(to)).map(([, to, metrics]) => ({ to, port: metrics ? 'metrics' : 'http' })),
  }])),
}));

function allowedAndDeclared(spec: RegistrySpec) {
  const resolved = checkRegistry(spec);
  if (!resolved.ok) throw new Error(JSON.stringify(resolved.findings.filter(f => f.severity === 'error')));
  const policies = networkPolicies(resolved);
  const namespaces: Record<string, Record<string, string>> = {};
  const pods: Array<[string, Pod]> = [];
  const all: Policy[] = [];
  for (const env of resolved.environments) {
    const objects = kubernetesObjects(resolved, env);
    namespaces[env.namespace] = { ...(objects.namespace.props.metadata!.labels ?? {}), 'kubernetes.io/metadata.name': env.namespace };
    for (const svc of objects.services) pods.push([`${env.name}/${svc.name}`, { namespace: env.namespace, name: svc.name, labels: svc.props.spec!.selector! }]);
    const names = (policies.get(env.name) ?? []).map(p => p.name);
    // Unique names in every namespace: no policy was merged into another.
    if (new Set(names).size !== names.length) throw new Error(`duplicate policy names in ${env.name}: ${names.join(', ')}`);
    all.push(...(policies.get(env.name) ?? []).map(p => k8s.KubeNetworkPolicy.manifest(p.props) as unknown as Policy));
  }
  const cluster = new Cluster(namespaces, all);
  const ports = [...new Set(resolved.allocations.map(a => a.targetPort))];
  const allowed: string[] = [];
  for (const [src, a] of pods) {
    for (const [dst, b] of pods) {
      if (src === dst) continue;
      for (const port of ports) if (cluster.allowed(a, b, port, 'TCP')) allowed.push(`${src} -> ${dst} ${port}`);
    }
  }
  const declared = new Set<string>();
  for (const c of resolved.connections) {
    const a = resolved.allocations.find(x => x.environment === c.targetEnvironment && x.service === c.to && x.portName === c.portName)!;
    declared.add(`${c.environment}/${c.from} -> ${c.targetEnvironment}/${c.to} ${a.targetPort}`);
  }
  return { allowed: allowed.sort(), declared: [...declared].sort(), policies };
}

test('names that read like policy names never merge two policies: the allowed paths are exactly the declared ones', () => {
  fc.assert(fc.property(registry, spec => {
    const { allowed, declared } = allowedAndDeclared(spec);
    expect(allowed).toEqual(declared);
  }), { numRuns: Number(process.env.FC_RUNS ?? 300), seed: process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined });
});

test('the examples from the report: a -> b-to-c and a-to-b -> c, and a service named public', () => {
  const spec: RegistrySpec = {
    name: 'names', environments: { production: { range: [8000, 8499] } },
    services: {
      a: { ports: { http: { offset: 1 } }, connectsTo: [{ to: 'b-to-c' }] },
      'a-to-b': { ports: { http: { offset: 2 } }, connectsTo: [{ to: 'c' }] },
      'b-to-c': { ports: { http: { offset: 3 } } },
      c: { public: true, ports: { http: { offset: 4 } } },
      public: { ports: { http: { offset: 5 } }, connectsTo: [{ to: 'c' }] },
    },
  };
  const { allowed, declared, policies } = allowedAndDeclared(spec);
  expect(allowed).toEqual(declared);
  expect(allowed).toContain('production/a -> production/b-to-c 8003');
  expect(allowed).toContain('production/a-to-b -> production/c 8004');
  expect(allowed).not.toContain('production/a -> production/c 8004');
  const names = policies.get('production')!.map(p => p.name);
  // The first to want a readable name keeps it; the other is dotted (service names have no dots).
  expect(names).toEqual(expect.arrayContaining(['allow-a-to-b-to-c', 'allow.a-to-b.to.c', 'allow-c-from-public', 'allow.c.from-public']));
  expect(allowed).toContain('production/public -> production/c 8004');
});

test('two ingress policies of one environment that would read alike: the second is dotted, and each admits its own client only', () => {
  const spec: RegistrySpec = {
    name: 'names', environments: { production: { range: [8000, 8099] } },
    services: {
      z: { ports: { http: { offset: 1 } }, connectsTo: [{ to: 'x-from-y' }] },
      'x-from-y': { ports: { http: { offset: 2 } } },
      'y-from-z': { ports: { http: { offset: 3 } }, connectsTo: [{ to: 'x' }] },
      x: { ports: { http: { offset: 4 } } },
    },
  };
  const { allowed, declared, policies } = allowedAndDeclared(spec);
  expect(allowed).toEqual(declared);
  const names = policies.get('production')!.map(p => p.name).filter(n => /^allow[-.]x[-.]from[-.]/.test(n));
  expect(names).toEqual(['allow-x-from-y-from-z', 'allow.x.from.y-from-z']);
});

test('cross-environment policies whose readable names clash with a same-environment one get the dotted form with the environment', () => {
  const spec: RegistrySpec = {
    name: 'names', environments: { production: { range: [8000, 8099] }, staging: { range: [9000, 9099] } },
    services: {
      'a-in-staging': { ports: { http: { offset: 4 } }, connectsTo: [{ to: 'b' }] },
      a: { ports: { http: { offset: 1 } }, connectsTo: [{ to: 'b-in-production' }, { to: 'b', environment: 'production' }] },
      b: { ports: { http: { offset: 2 } } },
      'b-in-production': { ports: { http: { offset: 3 } } },
    },
  };
  const policies = networkPolicies(checkRegistry(spec));
  const names = (env: string) => policies.get(env)!.map(p => p.name).filter(n => n !== 'default-deny' && n !== 'allow-dns');
  // staging: a's egress to b-in-production (same environment) came first and keeps the readable name.
  expect(names('staging')).toEqual(expect.arrayContaining(['allow-a-to-b-in-production', 'allow.a.to.b.in.production']));
  // production: b's ingress from a-in-staging (same environment, declared first) keeps it; from a in staging is dotted.
  expect(names('production')).toEqual(expect.arrayContaining(['allow-b-from-a-in-staging', 'allow.b.from.a.in.staging']));
});
