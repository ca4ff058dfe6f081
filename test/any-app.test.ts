import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Chart, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { Port, PortRegistry, PortsApp } from '../lib';
import { ROOT, treeTexts } from './support/project';

/**
 * The same guarantees in any App: a plain cdk8s App writes the lock, prints warnings and is found
 * by the CLI; output is a function of the registry and the lock's pins (never of whether a pin was
 * just made, nor of the folder a test runs in); declarations, handles and binds come in any order.
 */

const CLI = path.join(ROOT, 'bin', 'cdk8s-ports.js');

/** A project folder with a cdk8s.yaml, as `cdk8s init` leaves one. */
function project(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-anyapp-'));
  fs.writeFileSync(path.join(dir, 'cdk8s.yaml'), 'language: typescript\napp: node app.js\n');
  return dir;
}

function inDir<T>(dir: string, f: () => T): T {
  const previous = process.cwd();
  process.chdir(dir);
  try {
    return f();
  } finally {
    process.chdir(previous);
  }
}

/** The shop: `worker` (an automatic port) may be declared before `api`, which has one too. */
function shop(scope: Construct, options: { workerFirst?: boolean; withWorker?: boolean } = {}) {
  const ports = new PortRegistry(scope, 'shop', { environments: { production: { range: [8100, 8199], namespace: 'shop-prod' }, development: { range: [9100, 9199] } } });
  const worker = () => options.withWorker !== false && ports.service('worker', { ports: { metrics: Port.auto() } });
  if (options.workerFirst) worker();
  const api = ports.service('api', { public: true, ports: { http: Port.auto(), admin: Port.offset(50) } });
  if (!options.workerFirst) worker();
  return { ports, api };
}

describe('a plain cdk8s App', () => {
  test('writes the lock beside cdk8s.yaml, so an automatic port never moves when a service is declared before it', () => {
    const dir = project();
    const first = inDir(dir, () => {
      const app = new App({ outdir: path.join(dir, 'dist') });
      const { api } = shop(app, { withWorker: false });
      app.synth();
      return api.port('http').in('production').port;
    });
    expect(first).toBe(8100);
    const lock = JSON.parse(fs.readFileSync(path.join(dir, 'ports.lock.json'), 'utf8'));
    expect(lock.registries.shop.ports).toEqual({ 'production/api/http': 8100, 'development/api/http': 9100 });
    // A worker with an automatic port declared before api: api keeps 8100, the worker takes the next one.
    const second = inDir(dir, () => {
      const app = new App({ outdir: path.join(dir, 'dist2') });
      const { ports } = shop(app, { workerFirst: true });
      app.synth();
      return ports.check().allocations.filter(a => a.environment === 'production').map(a => `${a.service}.${a.portName}=${a.port}`);
    });
    expect(second).toEqual(['worker.metrics=8101', 'api.http=8100', 'api.admin=8150']);
  });

  test('the first synth after adding an automatic port equals the second, byte for byte (plain App and PortsApp)', () => {
    for (const kind of ['App', 'PortsApp'] as const) {
      const dir = project();
      const synth = (out: string) => inDir(dir, () => {
        const app = kind === 'App' ? new App({ outdir: path.join(dir, out) })
          : new PortsApp({ outdir: path.join(dir, `${out}-staging`), manifestsDir: path.join(dir, out), lockFile: path.join(dir, 'ports.lock.json') });
        shop(app);
        app.synth();
      });
      synth('one');
      expect(fs.existsSync(path.join(dir, 'ports.lock.json'))).toBe(true);
      synth('two');
      const [one, two] = [treeTexts(path.join(dir, 'one')), treeTexts(path.join(dir, 'two'))];
      expect(Object.keys(one).length).toBeGreaterThan(0);
      expect(two).toEqual(one);
    }
  });

  test('prints the findings that do not stop it on stderr, with the summary', () => {
    const dir = project();
    const errors: string[] = [];
    const spy = jest.spyOn(console, 'error').mockImplementation((...args) => { errors.push(args.join(' ')); });
    try {
      inDir(dir, () => {
        const app = new App({ outdir: path.join(dir, 'dist') });
        new PortRegistry(app, 'shop', { environments: { production: { range: [3000, 3099] } } }).service('api', { public: true, ports: { http: Port.offset(0) } });
        app.synth();
      });
    } finally {
      spy.mockRestore();
    }
    expect(errors.join('\n')).toMatch(/warning \[defacto-port\] shop \/ production \/ api\.http \/ port 3000/);
    expect(errors.join('\n')).toMatch(/0 errors, 1 warning/);
  });

  test('writes the same file names as a PortsApp writes into k8s/', () => {
    const dir = project();
    const names = (kind: 'App' | 'PortsApp') => inDir(dir, () => {
      const out = path.join(dir, kind);
      const app = kind === 'App' ? new App({ outdir: out }) : new PortsApp({ outdir: `${out}-staging`, manifestsDir: out, lockFile: path.join(dir, `${kind}.lock`) });
      const { api } = shop(app);
      api.bind(new kplus.Deployment(new Chart(app, 'workloads'), 'api', { containers: [{ image: 'shop/api:1' }] }), 'production');
      app.synth();
      return kind === 'App' ? fs.readdirSync(out).sort() : fs.readdirSync(path.join(out, 'k8s')).sort();
    });
    expect(names('App')).toEqual(['shop-development.k8s.yaml', 'shop-production.k8s.yaml', 'workloads.k8s.yaml']);
    expect(names('PortsApp')).toEqual(names('App'));
  });

  test('the CLI finds its registries by running the app: check, verify, diff and suggest', () => {
    const dir = project();
    const lib = path.join(ROOT, 'build', 'lib');
    fs.writeFileSync(path.join(dir, 'app.js'), `const { App } = require('cdk8s');
const { PortRegistry, Port } = require(${JSON.stringify(lib)});
const app = new App();
const ports = new PortRegistry(app, 'shop', { environments: { production: { range: [8100, 8199] } } });
const api = ports.service('api', { public: true, ports: { http: Port.auto() } });
const worker = ports.service('worker', { ports: { metrics: Port.offset(${process.env.CLASH ? 0 : 90}) } });
worker.connectsTo(api);
app.synth();
`);
    // The project resolves cdk8s and cdk8s-plus-27 as a consumer's would.
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
    const run = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, CDK8S_CHECK_UPGRADE: 'false' } });
    const check = run(['check', '--json']);
    expect(check.stderr).toBe('');
    expect(JSON.parse(check.stdout)).toMatchObject({ ok: true, errors: 0, registries: [{ name: 'shop', ok: true }] });
    expect(check.status).toBe(0);
    // The synth (node app.js as cdk8s runs it) writes dist/ and the lock.
    expect(spawnSync(process.execPath, ['app.js'], { cwd: dir, encoding: 'utf8' }).status).toBe(0);
    expect(fs.existsSync(path.join(dir, 'ports.lock.json'))).toBe(true);
    const verify = run(['verify', 'dist']);
    expect(verify.stdout).toMatch(/^verified: .*compared with shop; every allowed path is declared/m);
    expect(verify.status).toBe(0);
    const diff = run(['diff', '-m', 'dist']);
    expect(diff.status).toBe(0);
    fs.appendFileSync(path.join(dir, 'dist', 'shop-production.k8s.yaml'), '# edited by hand\n');
    expect(run(['diff', '-m', 'dist']).status).toBe(1);
    // Without -m, the commands say where a plain App's manifests are instead of failing on manifests/.
    const explainHere = run(['explain', 'production/worker', 'production/api']);
    expect(explainHere.status).toBe(2);
    expect(explainHere.stderr).toMatch(/a plain cdk8s App writes its manifests to dist\/: pass -m dist/);
    const diffHere = run(['diff']);
    expect(diffHere.status).toBe(2);
    expect(diffHere.stderr).toMatch(/pass -m dist/);
    expect(run(['explain', 'production/worker', 'production/api', '-m', 'dist']).stdout).toMatch(/ 8100\/TCP: allowed/);
    // check --frozen-lock reaches the app: a missing pin is lock-outdated, not "clean".
    const lock = fs.readFileSync(path.join(dir, 'ports.lock.json'), 'utf8');
    fs.rmSync(path.join(dir, 'ports.lock.json'));
    const frozen = run(['check', '--frozen-lock']);
    expect(frozen.status).toBe(1);
    expect(frozen.stdout).toMatch(/error \[lock-outdated\]/);
    fs.writeFileSync(path.join(dir, 'ports.lock.json'), lock);
    const suggest = run(['suggest', '--env', 'production', '--count', '2', '--json']);
    expect(suggest.status).toBe(0);
    expect(suggest.stdout).toMatch(/8101/);
    // A collision in the app: check reports it (exit 1) instead of "no report".
    fs.writeFileSync(path.join(dir, 'app.js'), fs.readFileSync(path.join(dir, 'app.js'), 'utf8').replace('Port.offset(90)', 'Port.offset(0)'));
    const clash = run(['check']);
    expect(clash.status).toBe(1);
    expect(clash.stdout).toMatch(/error \[collision\] shop \/ production \/ worker\.metrics \/ port 8100/);
  });
});

describe('Testing.app() snapshots', () => {
  test('do not depend on the folder the tests run in (no implicit lock); an explicit lock file is read', () => {
    const pinned = project();
    fs.writeFileSync(path.join(pinned, 'ports.lock.json'), JSON.stringify({ lockfileVersion: 1, registries: { shop: { ports: { 'production/api/http': 8142 }, offsets: {} } } }));
    const render = (cwd: string, lockFile?: string) => inDir(cwd, () => {
      const app = Testing.app();
      const ports = new PortRegistry(app, 'shop', { environments: { production: { range: [8100, 8199] } }, ...(lockFile ? { lockFile } : {}) });
      ports.service('api', { public: true, ports: { http: Port.auto() } });
      return Testing.synth(ports.chart('production'));
    });
    const here = render(pinned);
    const elsewhere = render(os.tmpdir());
    expect(here).toEqual(elsewhere);
    expect(JSON.stringify(here)).toContain('"port":8100');
    expect(JSON.stringify(render(os.tmpdir(), path.join(pinned, 'ports.lock.json')))).toContain('"port":8142');
    // And a Testing app writes no lock.
    expect(JSON.parse(fs.readFileSync(path.join(pinned, 'ports.lock.json'), 'utf8')).registries.shop.ports).toEqual({ 'production/api/http': 8142 });
  });
});

describe('calls in any order', () => {
  const NO_LOCK = path.join(os.tmpdir(), 'cdk8s-ports-no-such-lock.json');
  const declare = (app: App, order: 'handles-first' | 'handles-last') => {
    const ports = new PortRegistry(app, 'shop', { environments: { production: { range: [8100, 8199] } }, lockFile: NO_LOCK });
    const api = ports.service('api', { public: true, ports: { http: Port.offset(0) } });
    const chart = new Chart(app, 'workloads');
    const deployment = new kplus.Deployment(chart, 'api', { containers: [{ image: 'shop/api:1' }] });
    let service: string | undefined;
    if (order === 'handles-first') service = api.kubeService('production').name;
    api.bind(deployment, 'production');
    const web = ports.service('web', { public: true, ports: { http: Port.offset(10) } });
    const zed = ports.service('zed', { public: true, ports: { http: Port.offset(20) } });
    // A Service asked for before the ones that come before it in the output (Namespace, api, web).
    if (order === 'handles-first') zed.kubeService('production');
    web.connectsTo(api, 'http');
    if (order === 'handles-last') service = api.kubeService('production').name;
    return { app, service };
  };

  test('kubeService() before later declarations and binds gives the same output as at the end', () => {
    const early = declare(Testing.app(), 'handles-first');
    const late = declare(Testing.app(), 'handles-last');
    expect(early.service).toBe('api');
    expect(early.app.synthYaml()).toBe(late.app.synthYaml());
    expect(early.app.synthYaml()).toMatch(/kind: Namespace[\s\S]*kind: Service\n[\s\S]*name: api\n[\s\S]*name: web\n[\s\S]*name: zed\n/);
    // The same in a PortsApp, which renders the registry's objects itself.
    const files = (order: 'handles-first' | 'handles-last') => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-order-'));
      const app = new PortsApp({ manifestsDir: path.join(dir, 'm'), outdir: path.join(dir, 'o'), lockFile: path.join(dir, 'l.json') });
      declare(app, order);
      const result = app.trySynth();
      expect(result.ok).toBe(true);
      return result.files;
    };
    expect(files('handles-first')).toEqual(files('handles-last'));
  });

  test('a port handed out before a declaration that moves it fails the synth naming the call; an error in the registry is the synth\'s finding, not a throw of .in()', () => {
    const app = Testing.app();
    const ports = new PortRegistry(app, 'shop', { environments: { production: { range: [8100, 8199] } }, lockFile: NO_LOCK });
    const api = ports.service('api', { public: true, ports: { http: Port.auto() } });
    expect(api.port('http').in('production').port).toBe(8100);
    ports.service('web', { public: true, ports: { http: Port.fixed(8100) } });
    expect(() => app.synth()).toThrow(/api\.port\('http'\)\.in\('production'\) gave 8100\/TCP when it was called, but the synth writes 8101\/TCP/);

    const broken = Testing.app();
    const shopPorts = new PortRegistry(broken, 'shop', { environments: { production: { range: [8100, 8199] } }, lockFile: NO_LOCK });
    const a = shopPorts.service('a', { public: true, ports: { http: Port.fixed(8100) } });
    shopPorts.service('b', { public: true, ports: { http: Port.fixed(8100) } });
    expect(() => a.port('http').in('production')).not.toThrow();
    expect(() => broken.synth()).toThrow(/\[collision\][\s\S]*port 8100\/TCP of b\.http \(production\) is already taken by a\.http/);
  });

  test('a port handle of a registry read from a file, and the namespace of an environment', () => {
    const dir = project();
    fs.writeFileSync(path.join(dir, 'ports.yaml'), 'name: shop\nenvironments:\n  production: { range: [8100, 8199], namespace: shop-prod }\nservices:\n  api: { public: true, ports: { http: { offset: 5 } } }\n');
    const app = Testing.app();
    const ports = PortRegistry.fromFile(app, 'shop', path.join(dir, 'ports.yaml'), { lockFile: NO_LOCK });
    expect(ports.getService('api').port('http').in('production')).toMatchObject({ port: 8105, namespace: 'shop-prod' });
    expect(ports.namespace('production')).toBe('shop-prod');
    expect(() => ports.getService('nope')).toThrow(/registry shop has no service nope; its services are api/);
  });

  test('an Ingress backend from the registry for cdk8s-plus, on the registry\'s Service and port', () => {
    const app = Testing.app();
    const ports = new PortRegistry(app, 'shop', { environments: { production: { range: [8100, 8199], namespace: 'shop-prod' } }, lockFile: NO_LOCK });
    const api = ports.service('api', { public: true, ports: { http: Port.offset(0), metrics: Port.offset(90) } });
    const edge = new Chart(app, 'edge', { namespace: ports.namespace('production') });
    const ingress = new kplus.Ingress(edge, 'ingress');
    ingress.addHostRule('shop.example.com', '/', api.ingressBackend('production', 'http'));
    expect(() => api.ingressBackend('production')).toThrow(/api has ports http, metrics: name the backend's port/);
    app.synth();
    const doc = Testing.synth(edge).find(o => o.kind === 'Ingress');
    expect(doc.metadata.namespace).toBe('shop-prod');
    expect(doc.spec.rules[0].http.paths[0].backend.service).toEqual({ name: 'api', port: { number: 8100 } });
  });
});

test('explain resolves environment/service by the registry\'s labels, not by cdk8s-plus\'s hashed object names', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-explain-'));
  const app = new PortsApp({ manifestsDir: path.join(dir, 'manifests'), outdir: path.join(dir, 'out'), lockFile: path.join(dir, 'lock.json') });
  const ports = new PortRegistry(app, 'shop', { environments: { production: { range: [8100, 8199], namespace: 'shop-prod' } } });
  const api = ports.service('api', { ports: { http: Port.offset(0) } });
  const web = ports.service('web', { public: true, ports: { http: Port.offset(10) } });
  web.connectsTo(api, 'http');
  const chart = new Chart(app, 'workloads');
  api.bind(new kplus.Deployment(chart, 'api', { containers: [{ image: 'shop/api:1' }] }), 'production');
  web.bind(new kplus.Deployment(chart, 'web', { containers: [{ image: 'shop/web:1' }] }), 'production');
  expect(app.trySynth().ok).toBe(true);
  const r = spawnSync(process.execPath, [CLI, 'explain', 'production/web', 'production/api', '-m', path.join(dir, 'manifests')], { cwd: dir, encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.stdout).toMatch(/^shop-prod\/workloads-web-c8[0-9a-f]+ -> shop-prod\/workloads-api-c8[0-9a-f]+ 8100\/TCP: allowed/m);
  expect(r.status).toBe(0);
});
