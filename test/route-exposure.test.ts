import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as jsYaml from 'js-yaml';
import { Port, PortRegistry, PortsApp } from '../lib';
import { ROOT } from './support/project';

/**
 * Exposure through routes (#39, item 4): `connlist --exposure` says what the outside reaches through
 * the Ingresses and Gateway routes of a folder, and `verify` compares it with the registries'
 * `public` entries (route-undeclared, route-missing) and checks the port chain of the folder.
 */
const cli = (args: string[], cwd: string) => spawnSync(process.execPath, [path.join(ROOT, 'bin', 'cdk8s-ports.js'), ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

/** A PortsApp's manifests/ for a registry with an Ingress to web, an HTTPRoute to api, and an internal db. */
function synthesized(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-routes-'));
  const app = new PortsApp({ manifestsDir: path.join(dir, 'manifests'), outdir: path.join(dir, 'out'), lockFile: path.join(dir, 'lock.json') });
  const ports = new PortRegistry(app, 'shop', { environments: { production: { range: [8100, 8199], namespace: 'shop', gateway: { name: 'edge', namespace: 'gateway-system' } } } });
  const web = ports.service('web', { public: { namespaces: ['ingress-nginx'], route: { kind: 'Ingress', hostnames: ['shop.example'] } }, ports: { http: Port.fixed(8100, { targetPort: 8080 }), metrics: Port.fixed(8190, { public: false }) } });
  const api = ports.service('api', { public: { namespaces: ['gateway-system'], route: { kind: 'HTTPRoute', hostnames: ['api.shop.example'] } }, ports: { http: Port.fixed(8110) } });
  const db = ports.service('db', { ports: { pg: Port.fixed(8150, { targetPort: 5432 }) } });
  web.connectsTo(api);
  api.connectsTo(db);
  const result = app.trySynth();
  expect(result.findings.filter(f => f.severity === 'error')).toEqual([]);
  return path.join(dir, 'manifests');
}

const extra = (dir: string, objects: unknown[]) => fs.writeFileSync(path.join(dir, 'k8s', 'extra.yaml'), objects.map(o => jsYaml.dump(o)).join('---\n'));
const ingress = (name: string, service: string, port: number) => ({
  apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name, namespace: 'shop' },
  spec: { rules: [{ host: `${name}.example`, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: service, port: { number: port } } } }] } }] },
});

describe('routes from outside, as verify and connlist read a folder', () => {
  test('the synth output verifies, and connlist --exposure lists the routes to the pods on the port they receive', () => {
    const dir = synthesized();
    const v = cli(['verify', '.'], dir);
    expect(v.stdout).toMatch(/^verified: /);
    expect(v.status).toBe(0);
    const c = cli(['connlist', '.', '--exposure'], dir);
    expect(c.stdout).toContain([
      'Exposure through routes (Ingress, Gateway API):',
      'shop/api[Service]  <=  [HTTPRoute shop/api] api.shop.example : TCP 8110',
      'shop/web[Service]  <=  [Ingress shop/web] shop.example : TCP 8080',
    ].join('\n'));
    expect(JSON.parse(cli(['connlist', '.', '--exposure', '-o', 'json'], dir).stdout).exposure.routes).toEqual([
      { route: '[HTTPRoute shop/api]', hosts: 'api.shop.example', dst: 'shop/api[Service]', conn: 'TCP 8110' },
      { route: '[Ingress shop/web]', hosts: 'shop.example', dst: 'shop/web[Service]', conn: 'TCP 8080' },
    ]);
    // The traffic picture draws the ways in (the policies admit the controller's and the gateway's namespaces).
    const svg = fs.readFileSync(path.join(dir, 'traffic-production.svg'), 'utf8');
    expect(svg).toContain('(Ingress shop/web)');
    expect(svg).toContain('(HTTPRoute shop/api)');
    // Without routes the output stays netpol-analyzer's.
    expect(cli(['connlist', '.'], dir).stdout).not.toContain('routes');
  });

  test('a hand-written route to a service that is not public, or to a port kept inside, is route-undeclared', () => {
    const dir = synthesized();
    extra(dir, [ingress('db', 'db', 8150), ingress('metrics', 'web', 8190)]);
    const v = cli(['verify', '.', '--json'], dir);
    expect(v.status).toBe(1);
    const found = JSON.parse(v.stdout).findings.filter((f: { rule: string }) => f.rule.startsWith('route-'));
    expect(found.map((f: { rule: string; message: string }) => [f.rule, f.message])).toEqual([
      ['route-undeclared', 'Ingress shop/db exposes db port pg (5432) in production to outside, but the registry shop does not declare db public'],
      ['route-undeclared', 'Ingress shop/metrics exposes web port metrics (8190) in production to outside, but the registry shop does not declare that port public'],
    ]);
    expect(found[1].fix).toBe('make metrics public (remove public: false), or remove the route');
  });

  test('a public service whose route is missing from the folder is route-missing; a broken chain link in the folder is reported by verify', () => {
    const dir = synthesized();
    const file = path.join(dir, 'k8s', 'shop-production.k8s.yaml');
    const docs = jsYaml.loadAll(fs.readFileSync(file, 'utf8')) as Array<{ kind: string }>;
    fs.writeFileSync(file, docs.filter(d => d.kind !== 'HTTPRoute').map(d => jsYaml.dump(d)).join('---\n'));
    extra(dir, [ingress('web-extra', 'web', 8080)]);
    const found = JSON.parse(cli(['verify', '.', '--json'], dir).stdout).findings;
    expect(found.map((f: { rule: string; severity: string }) => [f.rule, f.severity])).toEqual([['chain-route-backend', 'error'], ['route-missing', 'warning']]);
    expect(found[0].message).toBe('Ingress shop/web-extra sends to Service shop/web on port 8080, which the Service does not have (its ports: http 8100, metrics 8190; a route names the Service\'s port, not the targetPort)');
    expect(found[0].where.file).toBe('k8s/extra.yaml');
    expect(found[1].message).toBe('api asks for an HTTPRoute in production (public.route), but no Ingress or route in shop reaches it');
  });
});

test('a route the NetworkPolicies do not let in is not drawn as a way in', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { routePaths } = require('../lib/validate/route-exposure') as typeof import('../lib/validate/route-exposure');
  const e = { route: 'Ingress shop/web', namespace: 'shop', hosts: [], service: 'web', servicePort: 80, targetPort: 8080, protocol: 'TCP', pods: ['shop/web'], kinds: ['Deployment'] };
  expect(routePaths([e], [])).toEqual([]);
  expect(routePaths([e], [{ from: 'shop/other', to: 'shop/web', port: 8080, protocol: 'TCP' }])).toEqual([]); // from inside the namespace only
  expect(routePaths([e], [{ from: 'ingress-nginx/(unlisted-pod)', to: 'shop/web', port: 8000, endPort: 9000, protocol: 'TCP' }]))
    .toEqual([{ from: '(Ingress shop/web)', to: 'shop/web', port: 8080, protocol: 'TCP' }]);
});
