import { checkRegistry, CheckOptions, Finding, RegistrySpec } from '../../lib';

/**
 * A small registry that checks clean: two environments in bands on one host, one API,
 * one worker and a PostgreSQL outside the bands.
 */
export function cleanSpec(): RegistrySpec {
  return {
    name: 'acme',
    environments: {
      production: { range: [8100, 8199] },
      development: { range: [9100, 9199] },
    },
    categories: {
      infra: { ranges: [[5400, 5499]] },
    },
    services: {
      api: { public: true, ports: { http: { offset: 10 } }, connectsTo: [{ to: 'db' }, { to: 'worker' }] },
      worker: { ports: { metrics: { offset: 20 } } },
    },
    externals: {
      db: { kind: 'postgres', category: 'infra', cidrs: ['10.0.0.5/32'], ports: { main: { port: 5432 } } },
    },
  };
}

/** A clean spec with `edit` applied to a deep copy. */
export function variant(edit: (s: RegistrySpec & Required<Pick<RegistrySpec, 'services' | 'externals' | 'environments'>>) => void): RegistrySpec {
  const s = structuredClone(cleanSpec()) as Parameters<typeof edit>[0];
  edit(s);
  return s;
}

export function findingsOf(spec: unknown, options?: CheckOptions): Finding[] {
  return [...checkRegistry(spec, options).findings];
}

export function rulesOf(spec: unknown, options?: CheckOptions): string[] {
  return findingsOf(spec, options).filter(f => !f.waived).map(f => f.rule);
}

/**
 * shared/seeds/000_…: Lumiere's hand-kept PORTS.md, encoded literally, with its own
 * allocation rules ("Infrastructure: 5000-6999, 8080, 9001+") and no exceptions declared.
 * The checker must say where that document breaks its own rules.
 */
export function seedLumiere(): RegistrySpec {
  return {
    name: 'lumiere',
    environments: {
      production: { range: [8000, 8799] },
      development: { range: [9000, 9799] },
      test: { range: [7000, 7799] },
    },
    categories: { infrastructure: { ranges: [[5000, 6999], [8080, 8080], [9001, 65535]] } },
    services: {
      pourtier: { kind: 'http', ports: { http: { offset: 0 } } },
      courier: { ports: { ws: { offset: 765 } } },
      passeur: { ports: { http: { offset: 766 } } },
    },
    externals: {
      postgres: { kind: 'postgres', category: 'infrastructure', ports: { main: { port: 5432 } } },
      'postgres-test': { kind: 'postgres', category: 'infrastructure', environments: ['test'], ports: { main: { port: 5433 } } },
      redis: { kind: 'redis', category: 'infrastructure', ports: { main: { port: 6379 } } },
      influxdb: { category: 'infrastructure', ports: { main: { port: 8086 } } },
      'pypi-mirror': { category: 'infrastructure', ports: { main: { port: 9001 } } },
    },
  };
}
