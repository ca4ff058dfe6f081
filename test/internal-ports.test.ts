import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parse } from 'yaml';
import { checkRegistry } from '../lib';
import { composeFiles } from '../lib/emit/compose';
import { firewallFiles } from '../lib/emit/firewall';
import { portsMarkdown } from '../lib/emit/ports-md';
import { checkComposeText } from '../lib/compose/drift';
import { composeSchema as loadComposeSchema } from './support/compose-schema';
import { dockerCompose } from './support/tools';

/**
 * Ports that are internal only (`internal: true`), or not published in some environments
 * (`internal: [production]`): reached by the other containers, never published on the host.
 */

const lab = (ports: Record<string, unknown>, extra: Record<string, unknown> = {}) => checkRegistry({
  name: 'lab', kubernetes: false,
  environments: { production: { range: [8100, 8199], scope: 'prod-host' }, development: { range: [9100, 9199], scope: 'dev-host' } },
  services: {
    app: { public: true, ports: { http: { offset: 0 } }, connectsTo: [{ to: 'db', port: 'pg' }] },
    db: { public: true, ports, ...extra },
  },
} as never);

test('compose exposes an internal port instead of publishing it, per environment, and docker-compose reads it that way', () => {
  const r = lab({ pg: { offset: 10, targetPort: 5432, internal: ['production'] }, metrics: { offset: 11, internal: true, protocol: 'UDP' } });
  expect(r.findings).toEqual([]);
  const files = composeFiles(r);
  const prod = parse(files.get('docker-compose.production.yml')!).services.db;
  const dev = parse(files.get('docker-compose.development.yml')!).services.db;
  expect(prod.ports).toBeUndefined();
  expect(prod.expose).toEqual(['5432', '8111/udp']);
  expect(dev.ports.map((p: { published: number; target: number }) => [p.published, p.target])).toEqual([[9110, 5432]]);
  expect(dev.expose).toEqual(['9111/udp']);
  // The client inside compose still reaches it by name on the container port.
  expect(parse(files.get('docker-compose.production.yml')!).services.app.environment.DB_PORT).toBe('5432');
  // The compose JSON schema accepts the overlay.
  const validate = loadComposeSchema();
  for (const [name, text] of files) expect({ name, ok: validate(parse(text)), errors: validate.errors ?? null }).toEqual({ name, ok: true, errors: null });
});

dockerCompose.test('docker-compose config: the internal port is exposed, not published', () => {
  const r = lab({ pg: { offset: 10, targetPort: 5432, internal: ['production'] } });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-internal-'));
  for (const [name, text] of composeFiles(r)) fs.writeFileSync(path.join(dir, name), text);
  const run = (env: string) => {
    const p = spawnSync('docker-compose', ['-f', 'docker-compose.yml', '-f', `docker-compose.${env}.yml`, 'config'], { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH! } });
    expect(p.stderr).not.toMatch(/ERROR|invalid/i);
    return parse(p.stdout).services.db;
  };
  const prod = run('production');
  expect(prod.ports).toBeUndefined();
  expect(prod.expose).toEqual(['5432']);
  expect(run('development').ports).toEqual([expect.objectContaining({ published: 9110, target: 5432 })]);
});

test('the firewall opens no internal port, and PORTS.md marks it', () => {
  const r = lab({ pg: { offset: 10, internal: ['production'] } });
  const fw = firewallFiles(r);
  expect(fw.get('production.nix')).not.toContain('8110');
  expect(fw.get('development.nix')).toContain('9110');
  const md = portsMarkdown(r);
  expect(md).toContain('| 8110 | db | pg (internal) |');
  expect(md).toContain('| 9110 | db | pg |');
});

test('an internal port with a NodePort or a host address, or naming an unknown environment, is an error that says how to fix it', () => {
  const node = checkRegistry({
    name: 'lab', environments: { production: { range: [8100, 8199] } },
    services: { db: { public: true, ports: { pg: { offset: 10, internal: true, nodePort: 30010 } } } },
  } as never);
  expect(node.findings.filter(f => f.rule === 'invalid-value').map(f => [f.where.path, f.message, f.fix])).toEqual([
    ['services.db.ports.pg.nodePort', 'db.pg is internal but has NodePort 30010, which publishes it on every node', 'remove the nodePort, or publish the port there (drop production from internal)'],
  ]);
  const host = lab({ pg: { offset: 10, internal: ['development'], hostIp: '127.0.0.1' } });
  expect(host.findings.map(f => [f.rule, f.where.environment, f.where.path, f.message])).toEqual([
    ['invalid-value', 'development', 'services.db.ports.pg.hostIp', 'db.pg is internal in development but binds host address 127.0.0.1, which only a published port has'],
  ]);
  const unknown = lab({ pg: { offset: 10, internal: ['prod'] } });
  expect(unknown.findings.map(f => [f.rule, f.where.path, f.fix])).toEqual([
    ['unknown-environment', 'services.db.ports.pg.internal', expect.stringContaining('production')],
  ]);
});

test('compose-drift: a compose file that publishes an internal port is drift; exposing it is not', () => {
  const r = lab({ pg: { offset: 10, targetPort: 5432, internal: true } });
  const published = checkComposeText(r, 'services:\n  db:\n    ports: ["8110:5432"]\n', 'dc.yml', 'production');
  expect(published.map(f => [f.rule, f.message, f.fix])).toEqual([
    ['compose-drift', 'dc.yml: service db publishes 8110/TCP, but the registry keeps db.pg internal (not published) in production', 'list it under expose: ["5432"] instead of ports:, or remove internal: true from services.db.ports.pg'],
  ]);
  expect(checkComposeText(r, 'services:\n  db:\n    expose: ["5432"]\n', 'dc.yml', 'production')).toEqual([]);
});

test('.env files, as sh sources them, carry no variable for an internal port and say why in a comment', () => {
  const r = checkRegistry({
    name: 'lab', kubernetes: false,
    environments: { production: { range: [8100, 8199], scope: 'prod-host' }, development: { range: [9100, 9199], scope: 'dev-host' } },
    services: {
      app: { public: true, ports: { http: { offset: 0 } }, connectsTo: [{ to: 'db' }] },
      db: { kind: 'postgresql', ports: { pg: { offset: 10, targetPort: 5432, internal: ['production'] } } },
    },
  } as never);
  expect(r.findings).toEqual([]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-internal-env-'));
  const { envFiles } = require('../lib/emit/env-files');
  const seen = (env: string) => {
    const file = path.join(dir, `${env}.env`);
    fs.writeFileSync(file, (envFiles(r) as Map<string, string>).get(`${env}.env`)!);
    const p = spawnSync('sh', ['-c', `set -a; . "${file}"; echo "port=\${DB_PG_PORT-unset} url=\${DB_URL-unset}"`], { encoding: 'utf8', env: {} });
    expect(p.status).toBe(0);
    return p.stdout.trim();
  };
  expect(seen('production')).toBe('port=unset url=unset');
  expect(seen('development')).toMatch(/^port=9110 url=postgres:\/\/.*localhost:9110/);
  expect((envFiles(r) as Map<string, string>).get('production.env')).toContain('# Internal, not published on the host (no variable): db.pg');
});

test('import reads compose `expose:` as internal ports, and the imported registry writes them back as exposed', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-internal-import-'));
  fs.writeFileSync(path.join(dir, 'docker-compose.yml'), [
    'services:',
    '  web:', '    image: nginx:1.27', '    ports: ["8080:80"]', '    depends_on: [api]',
    '  api:', '    image: example/api', '    expose: ["3000", 9100]', '    depends_on: [db]',
    '  db:', '    image: postgres:16', '    expose: ["5432"]',
    '  metrics:', '    image: example/statsd', '    expose: ["8125/udp"]',
  ].join('\n'));
  const cli = (...args: string[]) => spawnSync(process.execPath, [path.join(__dirname, '..', 'bin', 'cdk8s-ports.js'), ...args], { cwd: dir, encoding: 'utf8' });
  const imported = cli('import', 'docker-compose.yml', '-o', 'ports.yaml');
  expect(imported.status).toBe(0);
  const spec = parse(fs.readFileSync(path.join(dir, 'ports.yaml'), 'utf8'));
  expect(spec.services.db.ports).toEqual({ postgres: { port: 5432, internal: true } });
  expect(spec.services.api.ports).toEqual({ http: { port: 3000, internal: true }, 'tcp-9100': { port: 9100, internal: true } });
  expect(spec.services.metrics.ports).toEqual({ 'udp-8125': { port: 8125, protocol: 'UDP', internal: true } });
  expect(spec.services.web.ports.http).toEqual({ port: 8080, targetPort: 80 });
  const check = cli('check', 'ports.yaml');
  expect({ status: check.status, errors: check.stdout.match(/^error .*$/gm) }).toEqual({ status: 0, errors: null });
  const r = checkRegistry(spec);
  expect(r.findings.filter(f => f.severity === 'error')).toEqual([]);
  const overlay = parse(composeFiles(r).get('docker-compose.development.yml')!).services;
  expect(overlay.db.expose).toEqual(['5432']);
  expect(overlay.db.ports).toBeUndefined();
  expect(overlay.web.ports).toEqual([expect.objectContaining({ published: 8080, target: 80 })]);
});

test('an internal port holds its number in its own container only: no collision with other internal or published ports, nor with a server\'s default', () => {
  const r = checkRegistry({
    name: 'lab', kubernetes: false,
    environments: { production: { scope: 'one-host' }, development: { scope: 'one-host' } },
    services: {
      db1: { ports: { pg: { port: 5432, internal: true } } },
      db2: { ports: { pg: { port: 5432, internal: true } } },
      proxy: { kind: 'postgres', ports: { pg: { port: { production: 5432, development: 15432 } } } },
    },
  } as never);
  expect(r.findings).toEqual([]);
  // Internal in production only: in development it takes the host's port like any published port.
  const half = (otherPort: unknown) => checkRegistry({
    name: 'lab', kubernetes: false,
    environments: { production: { scope: 'prod-host' }, development: { scope: 'dev-host' } },
    services: { half: { ports: { http: { port: 8088, internal: ['production'] } } }, other: { ports: { http: { port: otherPort } } } },
  } as never);
  expect(half({ production: 8088, development: 8090 }).findings).toEqual([]);
  expect(half({ production: 8090, development: 8088 }).findings.map(f => [f.rule, f.where.environment, f.where.port])).toEqual([
    ['collision', 'development', 8088],
  ]);
  // Automatic internal ports do not step around the host's ports.
  const auto = checkRegistry({
    name: 'lab', kubernetes: false, environments: { development: { range: [9100, 9199] } },
    services: { web: { ports: { http: { port: 9100 } } }, cache: { ports: { redis: { auto: true, internal: true } } } },
  } as never);
  expect(auto.findings).toEqual([]);
  expect(auto.allocations.find(a => a.service === 'cache')!.port).toBe(9100);
});

test('the host\'s scheme does not place an internal port: no band, category, avoided, reserved, system-port or de-facto finding where it is internal', () => {
  const spec = (internal: unknown) => ({
    name: 'lab', kubernetes: false,
    environments: { production: { range: [3200, 3299], scope: 'p' }, development: { range: [4200, 4299], scope: 'd' } },
    categories: { data: { ranges: [[3200, 3249], [4200, 4249]] }, old: { ranges: [[27000, 27100]], reserved: true } },
    avoid: { ports: [443] },
    services: {
      mongo: { category: 'data', ports: { main: { port: 27017, internal } } },
      caddy: { ports: { https: { port: 443, protocol: 'UDP', internal } } },
    },
  });
  expect(checkRegistry(spec(true) as never).findings).toEqual([]);
  // Published in development: there the scheme applies as to any port.
  const rules = checkRegistry(spec(['production']) as never).findings.map(f => `${f.rule} ${f.where.environment}`).sort();
  expect(rules).toEqual(['avoided-port development', 'outside-band development', 'outside-band development', 'outside-category development', 'privileged-port development', 'reserved-range development']);
});
