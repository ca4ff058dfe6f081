import * as fs from 'fs';
import * as path from 'path';
import { checkRegistry, RegistrySpec } from '../lib';
import { composeFiles } from '../lib/emit/compose';
import { envFiles } from '../lib/emit/env-files';
import { kubernetesObjects } from '../lib/emit/kubernetes';
import { parseRegistryText } from '../lib/file/registry-file';
import { checkComposeText } from '../lib/compose/drift';
import { ROOT } from './support/project';

/** What the registry format can say that real registries say: one test per field. */

const base = (extra: Partial<RegistrySpec> = {}): RegistrySpec => ({
  name: 'nlp',
  environments: { production: { range: [8100, 8199] } },
  categories: { infra: { ranges: [[5400, 5499]] } },
  ...extra,
});
const env = (r: ReturnType<typeof checkRegistry>) => envFiles(r).get('production.env')!;
const overlay = (r: ReturnType<typeof checkRegistry>) => composeFiles(r).get('docker-compose.production.yml')!;

test('a port can name its own .env variable; a clash with another variable is an error', () => {
  const r = checkRegistry(base({ services: { 'nlp-core-api': { public: true, ports: { http: { offset: 5, env: 'NLP_API_PORT' }, ws: { offset: 6, env: 'WEBSOCKET_PORT' } } } } }));
  expect(r.findings.filter(f => f.severity === 'error')).toEqual([]);
  expect(env(r)).toMatch(/^NLP_API_PORT=8105$/m);
  expect(env(r)).toMatch(/^WEBSOCKET_PORT=8106$/m);
  expect(env(r)).not.toMatch(/NLP_CORE_API_HTTP_PORT/);

  const clash = checkRegistry(base({ services: {
    api: { public: true, ports: { http: { offset: 5, env: 'WORKER_HTTP_PORT' } } },
    worker: { public: true, ports: { http: { offset: 6 } } },
  } })).findings.filter(f => f.rule === 'env-var-collision');
  expect(clash).toHaveLength(1);
  expect(clash[0].where).toMatchObject({ service: 'api', portName: 'http', path: 'services.api.ports.http.env', other: 'worker.http' });
  expect(checkRegistry(base({ services: { api: { public: true, ports: { http: { offset: 5, env: 'not a name' } } } } })).findings.map(f => f.rule)).toContain('schema');
});

describe('connection URLs', () => {
  const spec = base({
    services: {
      agent: { public: true, ports: { http: { offset: 1 } }, connectsTo: [
        { to: 'postgres', env: 'AGENT_DATABASE_URL', url: { path: '/claude_agent' } },
        { to: 'redis' },
      ] },
    },
    externals: {
      postgres: { kind: 'postgres', category: 'infra', cidrs: ['10.0.0.5/32'], url: { scheme: 'postgresql+asyncpg', user: '${PG_USER}', password: '${PG_PASSWORD}' }, ports: { main: { port: 5432 } } },
      redis: { kind: 'redis', category: 'infra', cidrs: ['10.0.0.5/32'], url: { suffix: '/0' }, ports: { main: { port: 5433 } } },
    },
  });
  const r = checkRegistry(spec);

  test('scheme, credential references, path and suffix per external and per connection', () => {
    expect(r.findings.filter(f => f.severity === 'error')).toEqual([]);
    expect(env(r)).toMatch(/^AGENT_DATABASE_URL=postgresql\+asyncpg:\/\/\$\{PG_USER\}:\$\{PG_PASSWORD\}@localhost:5432\/claude_agent$/m);
    expect(env(r)).toMatch(/^REDIS_URL=redis:\/\/localhost:5433\/0$/m);
    expect(overlay(r)).toContain('AGENT_DATABASE_URL: postgresql+asyncpg://${PG_USER:?PG_USER}:${PG_PASSWORD:?PG_PASSWORD}@host.docker.internal:5432/claude_agent');
  });

  test('unset credentials fail loudly: compose refuses to start, the .env file lists them', () => {
    expect(env(r)).toMatch(/^# Set before use .*: PG_PASSWORD, PG_USER$/m);
    expect(overlay(r)).not.toMatch(/:\/\/:@|\$\{PG_PASSWORD\}/);
  });

  test('a credential written as a value is refused', () => {
    const literal = structuredClone(spec);
    literal.externals!.postgres.url = { password: 'hunter2' };
    const f = checkRegistry(literal).findings.find(x => x.rule === 'schema')!;
    expect(f.message).toMatch(/externals\.postgres\.url\.password: credentials are \$\{VARIABLE\} references/);
  });
});

test('a service can declare the host processes outside the cluster reach it at', () => {
  const r = checkRegistry(base({ services: {
    gpu: { public: true, host: '10.0.0.7', kind: 'http', ports: { http: { offset: 3 } } },
    web: { public: true, ports: { http: { offset: 4 } }, connectsTo: [{ to: 'gpu' }] },
  } }));
  expect(env(r)).toMatch(/^GPU_URL=http:\/\/10\.0\.0\.7:8103$/m);
  expect(overlay(r)).toContain('GPU_URL: http://10.0.0.7:8103');
  // Inside the cluster it is still reached through its Service.
  expect(kubernetesObjects(r, r.environments[0]).services.map(s => s.name)).toContain('gpu');
});

test('a service can have another name in compose files, for the overlays and for composeChecks', () => {
  const r = checkRegistry(base({ services: {
    'nlp-core-api': { public: true, composeName: 'nlp-api', ports: { http: { offset: 5 } } },
    web: { public: true, ports: { http: { offset: 6 } }, connectsTo: [{ to: 'nlp-core-api' }] },
  } }));
  expect(overlay(r)).toMatch(/^ {2}nlp-api:$/m);
  expect(overlay(r)).not.toMatch(/nlp-core-api:/);
  expect(overlay(r)).toContain('NLP_CORE_API_HOST: nlp-api');
});

describe('fallback ranges', () => {
  const spec = (fallback: number, extra: object = {}) => base({
    categories: { apps: { ranges: [[8100, 8149]], fallbackRanges: [[8190, 8199]] } },
    services: { api: { public: true, category: 'apps', ports: { http: { offset: 5, fallback, ...extra } } } },
  });

  test('a fallback inside its category\'s fallback ranges is clean, one outside is an error', () => {
    expect(checkRegistry(spec(8195)).findings).toEqual([]);
    const f = checkRegistry(spec(8180)).findings.find(x => x.rule === 'fallback-range')!;
    expect(f.where).toMatchObject({ service: 'api', port: 8180, path: 'services.api.ports.http.fallback' });
    expect(f.fix).toBe('give it a fallback in 8190-8199');
  });

  test('automatic ports never land in a fallback range', () => {
    const r = checkRegistry(base({
      categories: { apps: { ranges: [[8100, 8105]], fallbackRanges: [[8100, 8102]] } },
      services: { api: { public: true, category: 'apps', ports: { http: { auto: true } } } },
    }));
    expect(r.allocations[0].port).toBe(8103);
  });
});

test('a category that assigns sequentially takes the port after the highest used, never a gap', () => {
  const services: NonNullable<RegistrySpec['services']> = {
    old: { public: true, category: 'apps', ports: { http: { port: 53010 } } },
    gap: { public: true, category: 'apps', ports: { http: { port: 53002 } } },
    a: { public: true, category: 'apps', ports: { http: { auto: true } } },
    b: { public: true, category: 'apps', ports: { http: { auto: true } } },
  };
  const sequential = checkRegistry({ name: 'high', categories: { apps: { ranges: [[53000, 54999]], assign: 'sequential' } }, services });
  const port = (r: ReturnType<typeof checkRegistry>, s: string) => r.allocations.find(a => a.service === s)!.port;
  expect([port(sequential, 'a'), port(sequential, 'b')]).toEqual([53011, 53012]);
  const firstFree = checkRegistry({ name: 'high', categories: { apps: { ranges: [[53000, 54999]] } }, services });
  expect([port(firstFree, 'a'), port(firstFree, 'b')]).toEqual([53000, 53001]);
  const full = checkRegistry({ name: 'high', categories: { apps: { ranges: [[53000, 53010]], assign: 'sequential' } }, services });
  expect(full.findings.find(f => f.rule === 'no-free-port')?.message).toMatch(/assigns sequentially and no port is free after the highest one used/);
});

test('appProtocol: ws is written as kubernetes.io/ws; an unknown Kubernetes value is an error, an unknown plain name a warning', () => {
  const r = checkRegistry(base({ services: { bus: { public: true, ports: { ws: { offset: 65, appProtocol: 'ws' }, grpc: { offset: 66, appProtocol: 'grpc' } } } } }));
  expect(r.findings).toEqual([]);
  expect(kubernetesObjects(r, r.environments[0]).services[0].props.spec!.ports!.map(p => p.appProtocol)).toEqual(['kubernetes.io/ws', 'grpc']);
  const bad = checkRegistry(base({ services: { bus: { public: true, ports: {
    ws: { offset: 65, appProtocol: 'kubernetes.io/websocket' }, x: { offset: 66, appProtocol: 'websocket' }, y: { offset: 67, appProtocol: 'HTTP/2' },
  } } } })).findings.filter(f => f.rule.startsWith('app-protocol')).sort((a, b) => a.where.portName!.localeCompare(b.where.portName!));
  expect(bad.map(f => [f.where.portName, f.rule, f.severity])).toEqual([['ws', 'app-protocol', 'error'], ['x', 'app-protocol-unknown', 'warning'], ['y', 'app-protocol', 'error']]);
  expect(bad[1].fix).toBe('use kubernetes.io/ws (or ws)');
});

test('the reference\'s example of these fields is a registry the checker accepts', () => {
  const readme = fs.readFileSync(path.join(ROOT, 'docs', 'reference.md'), 'utf8');
  const block = /## Saying what real registries say[\s\S]*?```yaml\n([\s\S]*?)```/.exec(readme)![1];
  const loaded = parseRegistryText(`name: readme\n${block}`, 'README.md', 'readme');
  expect(loaded.findings).toEqual([]);
  const r = checkRegistry(loaded.spec);
  expect(r.findings.map(f => `${f.rule}: ${f.message}`)).toEqual([]);
  const ports = Object.fromEntries(r.allocations.filter(a => a.of === 'service').map(a => [a.portName, [a.port, a.fallback]]));
  expect(ports).toEqual({ http: [53000, 13456], ws: [53001, 13457] });
  const dotEnv = envFiles(r).get('default.env')!;
  expect(dotEnv).toMatch(/^NLP_API_PORT=53000$/m);
  expect(dotEnv).toMatch(/^AGENT_DATABASE_URL=postgresql\+asyncpg:\/\/\$\{PG_USER\}:\$\{PG_PASSWORD\}@localhost:5432\/claude_agent$/m);
});

test('composeChecks match a compose service by its composeName', () => {
  const r = checkRegistry(base({ services: { 'nlp-core-api': { public: true, composeName: 'nlp-api', ports: { http: { offset: 5 } } } } }));
  const drift = checkComposeText(r, 'services:\n  nlp-api:\n    ports: ["8106:80"]\n', 'docker-compose.yml', 'production');
  expect(drift.map(f => [f.rule, f.where.service, f.where.port])).toEqual([['compose-drift', 'nlp-core-api', 8106]]);
  expect(checkComposeText(r, 'services:\n  nlp-api:\n    ports: ["8105:80"]\n', 'docker-compose.yml', 'production')).toEqual([]);
});
