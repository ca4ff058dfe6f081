import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parse } from 'yaml';
import { PortsApp, PortRegistry, SynthResult, checkRegistry } from '../lib';
import { parsePortEntry, parseShortPort } from '../lib/compose/ports';
import { checkComposeText } from '../lib/compose/drift';
import { defineLumiere } from '../main';
import { composeSchema as loadComposeSchema } from './support/compose-schema';
import { dockerCompose as dockerComposeTool } from './support/tools';

const withDockerCompose = dockerComposeTool.test;

function synth(define: (app: PortsApp) => PortRegistry, cwd?: string): { result: SynthResult; dir: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-compose-'));
  const app = new PortsApp({ manifestsDir: path.join(dir, 'manifests'), outdir: path.join(dir, 'staging'), lockFile: path.join(dir, 'lock.json') });
  define(app);
  const previous = process.cwd();
  if (cwd) process.chdir(cwd);
  try {
    return { result: app.trySynth(), dir };
  } finally {
    process.chdir(previous);
  }
}

function dockerCompose(dir: string, env: string, extraEnv: Record<string, string> = {}) {
  const which = spawnSync('sh', ['-c', 'command -v docker-compose']);
  if (which.status !== 0) throw new Error('docker-compose is not installed: apt-get install -y docker-compose (.ci/run does this)');
  const r = spawnSync('docker-compose', ['-f', 'docker-compose.yml', '-f', `docker-compose.${env}.yml`, 'config'], {
    cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH!, ...extraEnv },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, config: r.status === 0 ? parse(r.stdout) : undefined };
}

const composeSchema = loadComposeSchema();

describe('the example', () => {
  const { result, dir } = synth(app => defineLumiere(app));
  const composeDir = path.join(dir, 'manifests', 'compose');
  const expected: Record<string, { pourtier: number; courier: number; passeur: number; db: string }> = {
    production: { pourtier: 8000, courier: 8765, passeur: 8766, db: 'host.docker.internal:5432' },
    development: { pourtier: 9000, courier: 9765, passeur: 9766, db: 'host.docker.internal:5432' },
    test: { pourtier: 7000, courier: 7765, passeur: 7766, db: 'host.docker.internal:5433' },
  };

  test('synthesizes a base file and one overlay per environment', () => {
    expect(result.ok).toBe(true);
    expect(fs.readdirSync(composeDir).sort()).toEqual(
      ['docker-compose.development.yml', 'docker-compose.production.yml', 'docker-compose.test.yml', 'docker-compose.yml']);
    expect(parse(fs.readFileSync(path.join(composeDir, 'docker-compose.yml'), 'utf8')).services.pourtier).toEqual({
      image: '${POURTIER_IMAGE:-lumiere/pourtier:latest}',
    });
  });

  withDockerCompose.each(Object.entries(expected))('docker-compose config merges base + %s overlay and publishes the registry ports', (env, want) => {
    const run = dockerCompose(composeDir, env, { POSTGRES_USER: 'app', POSTGRES_PASSWORD: 'from-the-shell', POSTGRES_DB: 'lumiere',
      POSTGRES_TEST_USER: 'app', POSTGRES_TEST_PASSWORD: 'from-the-shell', POSTGRES_TEST_DB: 'lumiere_test' });
    expect(run.stderr).not.toMatch(/invalid|ERROR/i);
    expect(run.status).toBe(0);
    const services = run.config.services;
    expect(Object.keys(services).sort()).toEqual(['courier', 'passeur', 'pourtier']);
    for (const name of ['pourtier', 'courier', 'passeur'] as const) {
      expect(services[name].ports).toEqual([{ target: want[name], published: want[name], protocol: 'tcp' }]);
      expect(services[name].environment.PORT).toBe(String(want[name]));
      expect(services[name].image).toBe(`lumiere/${name}:latest`);
    }
    const pourtier = services.pourtier.environment;
    expect(pourtier.COURIER_URL).toBe(`ws://courier:${want.courier}`);
    expect(pourtier.DATABASE_URL).toBe(`postgres://app:from-the-shell@${want.db}/${env === 'test' ? 'lumiere_test' : 'lumiere'}`);
    expect(pourtier.REDIS_URL).toBe('redis://host.docker.internal:6379');
    expect(services.pourtier.extra_hosts).toEqual({ 'host.docker.internal': 'host-gateway' });
    expect(services.courier.environment.PASSEUR_URL).toBe(`http://passeur:${want.passeur}`);
    expect(services.passeur.environment).toEqual({ PORT: String(want.passeur) });
  });

  test('every compose file passes the compose JSON schema', () => {
    for (const file of fs.readdirSync(composeDir)) {
      const ok = composeSchema(parse(fs.readFileSync(path.join(composeDir, file), 'utf8')));
      expect({ file, errors: ok ? [] : composeSchema.errors }).toEqual({ file, errors: [] });
    }
  });

  test('each .env holds that environment\'s published ports, fallbacks and URLs', () => {
    for (const [env, want] of Object.entries(expected)) {
      const text = fs.readFileSync(path.join(dir, 'manifests', 'env', `${env}.env`), 'utf8');
      const vars = Object.fromEntries(text.split('\n').filter(l => l && !l.startsWith('#')).map(l => l.split(/=(.*)/s).slice(0, 2)));
      expect(vars.POURTIER_HTTP_PORT).toBe(String(want.pourtier));
      expect(vars.POURTIER_HTTP_PORT_ALT).toBe(String(want.pourtier + 10000));
      expect(vars.COURIER_WS_PORT).toBe(String(want.courier));
      expect(vars.PASSEUR_HTTP_PORT).toBe(String(want.passeur));
      expect(vars.COURIER_URL).toBe(`ws://localhost:${want.courier}`);
      expect(vars.REDIS_URL).toBe('redis://localhost:6379');
      expect(vars.DATABASE_URL).toMatch(env === 'test' ? /@localhost:5433\// : /@localhost:5432\//);
      expect(Object.keys(vars).filter(k => k.endsWith('_PORT')).length).toBe(result.registries.get('lumiere')!.allocations.filter(a => a.environment === env).length);
    }
  });

  test('the firewall snippet opens no port wider than the registry: pourtier is public to ingress-nginx only, so not on the host', () => {
    const nix = fs.readFileSync(path.join(dir, 'manifests', 'firewall', 'development.nix'), 'utf8');
    expect(nix).toMatch(/allowedTCPPorts = \[ \];\n {2}networking\.firewall\.allowedUDPPorts = \[ \];/);
    expect(nix).toContain('# Public to namespaces only, so not opened on the host: pourtier.http 9000/TCP.');
  });

  test('no emitted file contains a literal secret', () => {
    const files = [...result.files];
    expect(files.length).toBeGreaterThan(10);
    for (const [file, text] of files) {
      // A credential in a URL must be a variable reference: ${VARIABLE}, ${VARIABLE:?message} (compose) or $(VARIABLE) (Kubernetes).
      for (const m of text.matchAll(/:\/\/([^/@\s]*)@/g)) {
        expect({ file, credentials: m[1].replace(/\$\{[A-Z0-9_]+(:\?[^}]*)?\}|\$\([A-Z0-9_]+\)/g, '') }).toEqual({ file, credentials: ':' });
      }
      // So must every value of a variable whose name says it is a secret.
      for (const m of text.matchAll(/^\s*([A-Z0-9_]*(PASSWORD|SECRET|TOKEN|API_KEY)[A-Z0-9_]*)\s*[:=]\s*(.*)$/gm)) {
        expect({ file, variable: m[1], value: m[3].replace(/\$\{[A-Z0-9_]+\}/g, '').replace(/["']/g, '').trim() }).toEqual({ file, variable: m[1], value: '' });
      }
    }
  });
});

describe('published and container ports that differ', () => {
  const { result, dir } = synth(app => {
    const r = new PortRegistry(app, 'hi', {
      environments: { local: { range: [54000, 54999] } },
      avoid: { ports: [54000] },
    });
    const api = r.service('api', { public: true, ports: { http: { port: 54080, targetPort: 8080, appProtocol: 'http' } } });
    const db = r.external('db', { kind: 'postgres', image: 'postgres:16', namespace: 'data', port: 54432, targetPort: 5432 });
    const cache = r.external('cache', { kind: 'redis', cidrs: ['10.1.2.3/32'], host: 'cache.internal', port: 56379, targetPort: 6379 });
    api.connectsTo(db).connectsTo(cache);
    return r;
  });
  const overlay = parse(fs.readFileSync(path.join(dir, 'manifests', 'compose', 'docker-compose.local.yml'), 'utf8')).services;
  const dotenv = fs.readFileSync(path.join(dir, 'manifests', 'env', 'local.env'), 'utf8');

  test('compose publishes the registry port and keeps the container port', () => {
    expect(result.ok).toBe(true);
    expect(overlay.api.ports).toEqual([{ target: 8080, published: 54080, protocol: 'tcp', 'x-name': 'http' }]);
    expect(overlay.db.ports).toEqual([{ target: 5432, published: 54432, protocol: 'tcp', 'x-name': 'main' }]);
    expect(overlay.api.environment.PORT).toBe('8080');
  });

  test('inside compose a client uses the service name and container port; outside, the host and the published port', () => {
    expect(overlay.api.environment).toMatchObject({
      DB_HOST: 'db', DB_PORT: '5432', DATABASE_URL: 'postgres://${DB_USER:?DB_USER}:${DB_PASSWORD:?DB_PASSWORD}@db:5432/${DB_DB:?DB_DB}',
      CACHE_HOST: 'cache.internal', CACHE_PORT: '56379', REDIS_URL: 'redis://cache.internal:56379',
    });
    expect(overlay.api.extra_hosts).toBeUndefined();
    expect(dotenv).toMatch(/^DB_MAIN_PORT=54432$/m);
    expect(dotenv).toMatch(/^DATABASE_URL=postgres:\/\/\$\{DB_USER\}:\$\{DB_PASSWORD\}@localhost:54432\/\$\{DB_DB\}$/m);
    expect(dotenv).toMatch(/^REDIS_URL=redis:\/\/cache\.internal:56379$/m);
  });

  withDockerCompose('docker-compose accepts it, with the credentials supplied', () => {
    const run = dockerCompose(path.join(dir, 'manifests', 'compose'), 'local', { DB_USER: 'app', DB_PASSWORD: 'from-the-shell', DB_DB: 'shop' });
    expect(run.status).toBe(0);
    expect(run.config.services.db.image).toBe('postgres:16');
    expect(run.config.services.api.environment.DATABASE_URL).toBe('postgres://app:from-the-shell@db:5432/shop');
  });

  withDockerCompose('an unset credential stops docker-compose with its name, instead of a URL with empty credentials', () => {
    const run = dockerCompose(path.join(dir, 'manifests', 'compose'), 'local', { DB_USER: 'app', DB_DB: 'shop' });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/Missing mandatory value[\s\S]*DB_PASSWORD/);
  });
});

describe('names that YAML 1.1 reads as booleans', () => {
  // docker-compose reads YAML with PyYAML (YAML 1.1), where on/yes/off are booleans.
  const { result, dir } = synth(app => {
    const r = new PortRegistry(app, 'flags', { environments: { local: { range: [55000, 55099] } } });
    const on = r.service('on', { public: true, image: 'off', ports: { http: { offset: 1 } } });
    const yes = r.service('yes', { ports: { http: { offset: 2 } } });
    on.connectsTo(yes);
    return r;
  });

  withDockerCompose('stay strings for docker-compose', () => {
    expect(result.ok).toBe(true);
    const run = dockerCompose(path.join(dir, 'manifests', 'compose'), 'local');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(Object.keys(run.config.services).sort()).toEqual(['on', 'yes']);
    expect(run.config.services.on.image).toBe('off');
    expect(run.config.services.on.environment.YES_HOST).toBe('yes');
  });
});

describe('checking an existing compose file against the registry', () => {
  const resolved = (() => {
    const { result } = synth(app => defineLumiere(app));
    return result.registries.get('lumiere')!;
  })();

  test('a service publishing another port is reported with file, line and service', () => {
    const text = 'services:\n  pourtier:\n    image: x\n    ports:\n      - "8001:8000"\n  courier:\n    ports:\n      - target: 8765\n        published: 8765\n';
    const findings = checkComposeText(resolved, text, 'docker-compose.yml', 'production');
    expect(findings.map(f => [f.rule, f.where.service, f.where.port, f.where.file])).toEqual([
      ['compose-drift', 'pourtier', 8001, 'docker-compose.yml:5:9'],
    ]);
    expect(findings[0].message).toMatch(/registry gives pourtier 8000\/TCP \(http, production\)/);
  });

  test('an unknown service publishing a registry port is reported; agreeing files are clean', () => {
    const text = 'services:\n  legacy:\n    ports: ["127.0.0.1:9765:80"]\n  pourtier:\n    ports: ["9000:9000", "7000:7000/tcp"]\n  other:\n    ports: ["3999:80"]\n';
    const findings = checkComposeText(resolved, text, 'dev.yml');
    // (other publishes a port no one of the registry holds: taken on that host, and the registry does not know it.)
    expect(findings.map(f => [f.rule, f.where.service, f.where.other])).toEqual([['compose-drift', 'legacy', 'courier.ws'], ['compose-drift', 'other', undefined]]);
  });

  test('a file that is not YAML is a compose-file finding', () => {
    expect(checkComposeText(resolved, 'services: [\n', 'broken.yml')[0]).toMatchObject({ rule: 'compose-file', where: { file: expect.stringMatching(/^broken\.yml/) } });
  });

  test('composeChecks make a synth fail on drift and write nothing', () => {
    const project = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-drift-'));
    fs.writeFileSync(path.join(project, 'docker-compose.yml'), 'services:\n  web:\n    ports: ["8081:80"]\n');
    const { result, dir } = synth(app => {
      const r = new PortRegistry(app, 'shop', { environments: { production: { range: [8000, 8099] } }, composeChecks: [{ file: 'docker-compose.yml' }] });
      r.service('web', { public: true, ports: { http: { offset: 80 } } });
      return r;
    }, project);
    expect(result.ok).toBe(false);
    expect(result.findings.find(f => f.rule === 'compose-drift')?.where).toMatchObject({ service: 'web', port: 8081, file: 'docker-compose.yml:3:13' });
    expect(fs.existsSync(path.join(dir, 'manifests'))).toBe(false);
  });
});

test('a code registry reads composeChecks relative to the project (where cdk8s.yaml is), whichever subfolder the synth runs in', () => {
  const project = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-drift-root-'));
  fs.mkdirSync(path.join(project, 'charts'));
  fs.writeFileSync(path.join(project, 'docker-compose.yml'), 'services:\n  web:\n    ports: ["8081:80"]\n');
  const define = (app: PortsApp) => {
    const r = new PortRegistry(app, 'shop', { environments: { production: { range: [8000, 8099] } }, composeChecks: [{ file: 'docker-compose.yml' }] });
    r.service('web', { public: true, ports: { http: { offset: 80 } } });
    return r;
  };
  // Without a cdk8s.yaml the folder the synth runs in is all there is: the message says which path was tried.
  const lost = synth(define, path.join(project, 'charts')).result;
  expect(lost.findings.filter(f => f.rule !== 'defacto-port').map(f => [f.rule, f.message])).toEqual([['compose-file', expect.stringContaining(`read as ${path.join(project, 'charts', 'docker-compose.yml')}, relative to the folder the synth runs in`)]]);
  fs.writeFileSync(path.join(project, 'cdk8s.yaml'), 'language: typescript\napp: npx ts-node -T main.ts\n');
  const found = synth(define, path.join(project, 'charts')).result;
  expect(found.findings.filter(f => f.rule !== 'defacto-port').map(f => [f.rule, f.where.port])).toEqual([['compose-drift', 8081]]);
  fs.rmSync(path.join(project, 'docker-compose.yml'));
  const missing = synth(define, path.join(project, 'charts')).result;
  expect(missing.findings.filter(f => f.rule === 'compose-file').map(f => f.fix)).toEqual([expect.stringContaining('relative to the project folder (where cdk8s.yaml is)')]);
});

describe('compose port syntax', () => {
  test.each([
    ['8080', [{ target: 8080, protocol: 'tcp' }]],
    ['8080:80', [{ published: 8080, target: 80, protocol: 'tcp' }]],
    ['127.0.0.1:8080:80/udp', [{ published: 8080, target: 80, protocol: 'udp', hostIp: '127.0.0.1' }]],
    ['[::1]:8080:80', [{ published: 8080, target: 80, protocol: 'tcp', hostIp: '::1' }]],
    ['9000-9001:80-81', [{ published: 9000, target: 80, protocol: 'tcp' }, { published: 9001, target: 81, protocol: 'tcp' }]],
  ])('%s', (entry, want) => {
    expect(parseShortPort(entry)).toEqual(want);
  });

  test('long syntax and errors', () => {
    expect(parsePortEntry({ target: 5432, published: '54432', protocol: 'tcp', host_ip: '0.0.0.0' })).toEqual([{ published: 54432, target: 5432, protocol: 'tcp', hostIp: '0.0.0.0' }]);
    expect(() => parseShortPort('80:80:80:80')).toThrow(/not a port mapping/);
    expect(() => parseShortPort('http:80')).toThrow(/published port "http"/);
    expect(() => parseShortPort('80/icmp')).toThrow(/protocol/);
  });
});

describe('compose drift, finding by finding', () => {
  const resolved = checkRegistry({
    name: 'shop',
    environments: { production: { range: [8000, 8099] }, development: { range: [9000, 9099] } },
    services: {
      web: { composeName: 'frontend', ports: { http: { offset: 0 } } },
      api: { ports: { http: { offset: 10 }, metrics: { offset: 11, protocol: 'UDP' } } },
    },
  });
  const check = (text: string, environment?: string) => checkComposeText(resolved, text, 'dc.yml', environment);

  test('a service publishing a port the registry does not give it: rule, service, port, position, environment, fix', () => {
    const findings = check('services:\n  api:\n    ports:\n      - "8011:8011"\n      - "8011:8011/udp"\n', 'production');
    expect(findings).toEqual([{
      rule: 'compose-drift', severity: 'error',
      message: 'dc.yml: service api publishes 8011/TCP, but the registry gives api 8010/TCP (http, production), 8011/UDP (metrics, production)',
      where: { registry: 'shop', service: 'api', port: 8011, file: 'dc.yml:4:9', environment: 'production' },
      fix: 'publish 8010 (or change the registry and synthesize again)',
    }]);
  });

  test('the environment chooses the ports compared; without one, every environment counts', () => {
    const text = 'services:\n  frontend:\n    ports: ["9000:80"]\n';
    expect(check(text, 'production').map(f => [f.rule, f.where.service, f.where.port, f.message])).toEqual([
      ['compose-drift', 'web', 9000, 'dc.yml: service frontend publishes 9000/TCP, but the registry gives web 8000/TCP (http, production)'],
    ]);
    expect(check(text, 'development')).toEqual([]);
    expect(check(text)).toEqual([]);
  });

  test('a service the registry does not know, publishing a registry port, is told whose it is', () => {
    expect(check('services:\n  legacy:\n    ports: ["127.0.0.1:8010:80", "7000:80"]\n')).toEqual([{
      rule: 'compose-drift', severity: 'error',
      message: 'dc.yml: service legacy publishes 8010/TCP, which the registry gives api.http (production)',
      where: { registry: 'shop', service: 'legacy', port: 8010, other: 'api.http', file: 'dc.yml:3:13', environment: 'production' },
      fix: 'declare services.legacy: { ports: { http: { offset: 1, targetPort: 80, hostIp: "127.0.0.1" }, tcp-80: { offset: 2, targetPort: 80 } } } ' +
        'and publish "127.0.0.1:8001:80" instead of "127.0.0.1:8010:80", "8002:80" instead of "7000:80" for legacy in dc.yml',
    }, {
      // 7000 is no one's in the registry, but taken on that host all the same: the same fix declares it.
      rule: 'compose-drift', severity: 'error',
      message: 'dc.yml: service legacy publishes 7000/TCP, but the registry declares no legacy: the port is taken on that host, and the registry does not know it',
      where: { registry: 'shop', service: 'legacy', port: 7000, file: 'dc.yml:3:34' },
      fix: 'declare services.legacy: { ports: { http: { offset: 1, targetPort: 80, hostIp: "127.0.0.1" }, tcp-80: { offset: 2, targetPort: 80 } } } ' +
        'and publish "127.0.0.1:8001:80" instead of "127.0.0.1:8010:80", "8002:80" instead of "7000:80" for legacy in dc.yml',
    }]);
    // Applied as written: no drift left.
    const applied = checkRegistry({ ...resolved.spec, services: { ...resolved.spec.services,
      legacy: { ports: { http: { offset: 1, targetPort: 80, hostIp: '127.0.0.1' }, 'tcp-80': { offset: 2, targetPort: 80 } } } } });
    expect(applied.findings.map(f => f.rule)).toEqual(resolved.findings.map(f => f.rule));
    expect(checkComposeText(applied, 'services:\n  legacy:\n    ports: ["127.0.0.1:8001:80", "8002:80"]\n', 'dc.yml')).toEqual([]);
  });

  test('a service the registry does not know, publishing a port no one of the registry holds, is told the port is taken on that host', () => {
    const findings = check('services:\n  cache:\n    ports: ["8050:6379", "8060-8062:7060-7062"]\n', 'production');
    expect(findings.map(f => [f.message, f.where])).toEqual([
      ['dc.yml: service cache publishes 8050/TCP, but the registry declares no cache: the port is taken on that host, and the registry does not know it',
        { registry: 'shop', service: 'cache', port: 8050, file: 'dc.yml:3:13', environment: 'production' }],
      // a range is one entry, one finding
      ['dc.yml: service cache publishes 8060-8062/TCP, but the registry declares no cache: the ports are taken on that host, and the registry does not know it',
        { registry: 'shop', service: 'cache', port: 8060, file: 'dc.yml:3:26', environment: 'production' }],
    ]);
    const fix = 'declare services.cache: { ports: { tcp-6379: { offset: 50, targetPort: 6379 }, tcp-7060: { offset: 60, targetPort: 7060 }, ' +
      'tcp-7061: { offset: 61, targetPort: 7061 }, tcp-7062: { offset: 62, targetPort: 7062 } } }';
    expect(findings.map(f => f.fix)).toEqual([fix, fix]);
    // Applied as written: the registry holds the ports, the file agrees, and an automatic port keeps off them.
    const applied = checkRegistry({ ...resolved.spec, services: { ...resolved.spec.services,
      cache: { ports: { 'tcp-6379': { offset: 50, targetPort: 6379 }, 'tcp-7060': { offset: 60, targetPort: 7060 }, 'tcp-7061': { offset: 61, targetPort: 7061 }, 'tcp-7062': { offset: 62, targetPort: 7062 } } } } });
    expect(applied.findings.filter(f => f.severity === 'error')).toEqual([]);
    expect(checkComposeText(applied, 'services:\n  cache:\n    ports: ["8050:6379", "8060-8062:7060-7062"]\n', 'dc.yml', 'production')).toEqual([]);
    // Without an environment to compare with, the port is still taken on some host of the registry.
    expect(check('services:\n  cache:\n    ports: ["9050:6379"]\n').map(f => [f.where.port, f.where.environment, f.fix])).toEqual([
      [9050, undefined, 'declare services.cache: { ports: { tcp-6379: { offset: 50, targetPort: 6379 } } }']]);
  });

  test('a service publishing its own port is clean even where another environment gives that number to another service', () => {
    const sharing = checkRegistry({
      name: 'shop',
      environments: { production: { range: [8000, 8099] }, staging: { range: [8000, 8099], scope: 'staging-host' } },
      services: {
        web: { ports: { http: { port: { production: 8000, staging: 8001 } } } },
        api: { ports: { http: { port: { production: 8010, staging: 8000 } } } },
      },
    });
    expect(sharing.findings.filter(f => f.severity === 'error')).toEqual([]);
    expect(checkComposeText(sharing, 'services:\n  web:\n    ports: ["8000:80"]\n', 'dc.yml')).toEqual([]);
    expect(checkComposeText(sharing, 'services:\n  api:\n    ports: ["8000:80"]\n', 'dc.yml')).toEqual([]);
    expect(checkComposeText(sharing, 'services:\n  api:\n    ports: ["8000:80"]\n', 'dc.yml', 'production').map(f => [f.rule, f.where.service, f.where.port])).toEqual([['compose-drift', 'api', 8000]]);
  });

  test('entries without a published port, services without ports or not maps are skipped', () => {
    expect(check('services:\n  api:\n    ports: ["8011", { target: 8011 }]\n  worker:\n    image: x\n  odd: just-a-string\n  empty:\n', 'production')).toEqual([]);
  });

  test('compose variables are read with their defaults; one without a default cannot be compared, and says so', () => {
    expect(check('services:\n  api:\n    ports: ["${API_PORT:-8010}:8010"]\n', 'production')).toEqual([]);
    expect(check('services:\n  api:\n    ports: ["${API_PORT:-8012}:8010"]\n', 'production').map(f => [f.rule, f.where.port])).toEqual([['compose-drift', 8012]]);
    expect(check('services:\n  api:\n    ports: ["${API_PORT}:8010"]\n', 'production')).toEqual([{
      rule: 'compose-file', severity: 'warning',
      message: 'dc.yml: service api: "${API_PORT}:8010" takes a port from the variable API_PORT, which has no default here, so it cannot be compared with the registry',
      where: { registry: 'shop', service: 'api', file: 'dc.yml:3:13' }, fix: 'give it a default (${API_PORT:-<port>}), or write the port',
    }]);
  });

  test('a port entry compose cannot read is a compose-file finding at its position', () => {
    expect(check('services:\n  frontend:\n    ports:\n      - "eighty:80"\n')).toEqual([expect.objectContaining({
      rule: 'compose-file', where: { registry: 'shop', service: 'web', file: 'dc.yml:4:9' },
      message: expect.stringMatching(/^dc\.yml: service frontend: .*eighty/), fix: 'fix the port entry',
    })]);
  });

  test('not YAML, duplicate keys, or no services map: a compose-file finding that says which', () => {
    expect(check('services:\n  api: [\n')).toEqual([expect.objectContaining({
      rule: 'compose-file', where: { registry: 'shop', file: expect.stringMatching(/^dc\.yml:\d+:\d+$/) }, fix: 'fix the YAML',
      message: expect.stringMatching(/^dc\.yml is not valid YAML: \S/),
    })]);
    const duplicate = check('services:\n  api:\n    ports: ["8010:8010"]\n  api:\n    ports: ["8099:8099"]\n');
    expect(duplicate).toEqual([expect.objectContaining({ rule: 'compose-file', where: { registry: 'shop', file: 'dc.yml:4:3' } })]);
    expect(duplicate[0].message).toMatch(/^dc\.yml is not valid YAML: .*unique/);
    for (const text of ['version: "3"\n', 'services: [api]\n']) {
      expect(check(text)).toEqual([{ rule: 'compose-file', severity: 'error', message: 'dc.yml has no services map', where: { registry: 'shop', file: 'dc.yml' }, fix: 'check that it is a docker-compose file' }]);
    }
  });
});

test('an unknown compose service on a registry port is drift only on the same protocol', () => {
  const resolved = checkRegistry({ name: 'r', environments: { production: { range: [8100, 8199] } },
    services: { api: { public: true, ports: { http: { port: 8110 }, dns: { port: 8153, protocol: 'UDP' } } } } });
  const text = 'services:\n  legacy:\n    ports: ["8110:80/udp", "8153:53/tcp", "8111:81"]\n  other:\n    ports: ["8153:53/udp"]\n';
  // legacy's ports clash with no one (another protocol), but the registry does not know them either.
  expect(checkComposeText(resolved, text, 'dev.yml', 'production').map(f => [f.where.service, f.where.port, f.where.other, f.message])).toEqual([
    ...[['8110/UDP', 8110], ['8153/TCP', 8153], ['8111/TCP', 8111]].map(([text, port]) =>
      ['legacy', port, undefined, `dev.yml: service legacy publishes ${text}, but the registry declares no legacy: the port is taken on that host, and the registry does not know it`]),
    ['other', 8153, 'api.dns', 'dev.yml: service other publishes 8153/UDP, which the registry gives api.dns (production)']]);
});
