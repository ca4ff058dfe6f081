import { Testing } from 'cdk8s';
import { PortRegistry, Port, checkRegistry } from '../lib';
import type { RegistrySpec } from '../lib';
import { gatewaySchemaErrors } from './support/gateway-schema';
import { schemaErrors } from './support/k8s-schema';

/** A registry with one route of each kind, in two environments. */
function spec(): RegistrySpec {
  return {
    name: 'shop',
    environments: {
      production: { range: [8100, 8199], gateway: { name: 'edge', namespace: 'gateway-system', sectionName: 'https' } },
      development: { range: [9100, 9199], gateway: { name: 'edge-dev', namespace: 'gateway-system' } },
    },
    services: {
      api: {
        public: { namespaces: ['gateway-system'], route: { kind: 'HTTPRoute', hostnames: { production: ['api.shop.example'], development: ['api.dev.shop.example'] }, path: '/v1' } },
        ports: { http: { offset: 10 }, metrics: { offset: 90, public: false } },
      },
      grpc: { public: { namespaces: ['gateway-system'], route: { kind: 'GRPCRoute', hostnames: ['grpc.shop.example'] } }, ports: { rpc: { offset: 20, targetPort: 50051 } } },
      web: { public: { namespaces: ['ingress-nginx'], route: { kind: 'Ingress', ingressClassName: 'nginx', hostnames: ['shop.example', 'www.shop.example'] } }, ports: { http: { offset: 30 } } },
    },
  };
}

function synth(s: RegistrySpec): Record<string, any[]> {
  const app = Testing.app();
  const ports = new PortRegistry(app, s.name, { environments: s.environments as Record<'production' | 'development', any> });
  for (const [name, svc] of Object.entries(s.services ?? {})) ports.service(name, svc);
  return Object.fromEntries(['production', 'development'].map(env => [env, Testing.synth(ports.chart(env as never))]));
}

describe('generated routes', () => {
  const out = synth(spec());

  test('one route per public service with a route, named after it, in the environment namespace, to the registry Service port', () => {
    const routes = out.production.filter(o => ['Ingress', 'HTTPRoute', 'GRPCRoute'].includes(o.kind));
    expect(routes.map(o => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`)).toEqual(['HTTPRoute/shop-production/api', 'GRPCRoute/shop-production/grpc', 'Ingress/shop-production/web']);
    const [api, grpc, web] = routes;
    expect(api.spec).toEqual({
      parentRefs: [{ name: 'edge', namespace: 'gateway-system', sectionName: 'https' }],
      hostnames: ['api.shop.example'],
      rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/v1' } }], backendRefs: [{ name: 'api', port: 8110 }] }],
    });
    expect(grpc.spec.rules).toEqual([{ backendRefs: [{ name: 'grpc', port: 8120 }] }]); // the Service port, not the target port 50051
    expect(web.spec).toEqual({
      ingressClassName: 'nginx',
      rules: ['shop.example', 'www.shop.example'].map(host => ({ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 8130 } } } }] } })),
    });
    const dev = out.development.filter(o => o.kind === 'HTTPRoute')[0];
    expect(dev.spec.parentRefs).toEqual([{ name: 'edge-dev', namespace: 'gateway-system' }]);
    expect(dev.spec.hostnames).toEqual(['api.dev.shop.example']);
    expect(dev.spec.rules[0].backendRefs).toEqual([{ name: 'api', port: 9110 }]);
  });

  test('every generated route passes its CRD schema, and the Ingress the Kubernetes 1.27 schema', () => {
    for (const env of Object.values(out)) {
      for (const o of env) {
        if (o.kind === 'HTTPRoute' || o.kind === 'GRPCRoute') expect([o.kind, gatewaySchemaErrors(o)]).toEqual([o.kind, []]);
        if (o.kind === 'Ingress') expect(schemaErrors(o)).toEqual([]);
      }
    }
  });

  test('the schema check catches what the API server would reject (the check is not vacuous)', () => {
    const route = out.production.find(o => o.kind === 'HTTPRoute');
    expect(gatewaySchemaErrors({ ...route, spec: { ...route.spec, hostnames: ['API.shop'] } })).not.toEqual([]);
    const grpc = out.production.find(o => o.kind === 'GRPCRoute');
    expect(gatewaySchemaErrors({ ...grpc, spec: { ...grpc.spec, rules: [{ backendRefs: [{ name: 'grpc', port: 70000 }] }] } })).not.toEqual([]);
    const ingress = out.production.find(o => o.kind === 'Ingress');
    expect(schemaErrors({ ...ingress, spec: { rules: [{ http: { paths: [{ path: '/', backend: { service: { name: 'web', port: 8130 } } }] } }] } })).not.toEqual([]);
  });

  test('the output is stable: same objects, same order, no hashes in names', () => {
    expect(synth(spec())).toEqual(out);
    for (const o of out.production) expect(o.metadata.name).not.toMatch(/-[0-9a-f]{8}$/);
  });
});

describe('route-invalid', () => {
  const rules = (s: RegistrySpec) => checkRegistry(s).findings.filter(f => f.rule === 'route-invalid');
  const withApi = (api: any): RegistrySpec => ({ ...spec(), services: { api } });

  test('a sound route has no finding', () => {
    expect(rules(spec())).toEqual([]);
  });

  test('a route to a missing, inside-only or UDP port, or with several to choose from, names the port and the fix', () => {
    const pub = (route: any) => ({ namespaces: ['gateway-system'], route });
    expect(rules(withApi({ public: pub({ kind: 'HTTPRoute', port: 'htp' }), ports: { http: { offset: 10 } } }))[0].message).toMatch(/port htp, which api does not have \(its ports: http\)/);
    expect(rules(withApi({ public: pub({ kind: 'HTTPRoute', port: 'metrics' }), ports: { http: { offset: 10 }, metrics: { offset: 90, public: false } } }))[0].message).toMatch(/kept inside/);
    expect(rules(withApi({ public: pub({ kind: 'Ingress', port: 'dns' }), ports: { dns: { offset: 53, protocol: 'UDP' } } }))[0].message).toMatch(/UDP/);
    const several = rules(withApi({ public: pub({ kind: 'Ingress' }), ports: { http: { offset: 10 }, admin: { offset: 11 } } }));
    expect(several[0].fix).toBe("name the port: route: { port: 'http' }");
  });

  test('an HTTPRoute without a Gateway in an environment, a GRPCRoute with a path, a bad host name', () => {
    const s = spec();
    delete s.environments!.development.gateway;
    expect(rules(s).map(f => [f.where.service, f.where.environment])).toEqual([['api', 'development'], ['grpc', 'development']]);
    const found = rules(withApi({ public: { namespaces: ['x'], route: { kind: 'GRPCRoute', path: '/x', hostnames: ['https://Api.example:443'] } }, ports: { rpc: { offset: 1 } } }));
    expect(found.map(f => f.message)).toEqual([
      expect.stringMatching(/not paths/),
      expect.stringMatching(/"https:\/\/Api.example:443" is not a host name/),
    ]);
    expect(found[1].fix).toBe('write it as "api.example"');
  });

  test('route-invalid stops the synth: the registry writes no route it cannot check', () => {
    expect(checkRegistry(withApi({ public: { namespaces: ['x'], route: { kind: 'Ingress', port: 'nope' } }, ports: { http: { offset: 1 } } })).ok).toBe(false);
  });
});

test('Port factories and the construct API take a route', () => {
  const app = Testing.app();
  const ports = new PortRegistry(app, 'shop', { environments: { production: { range: [8100, 8199] } } });
  ports.service('web', { public: { namespaces: ['ingress-nginx'], route: { kind: 'Ingress', hostnames: ['shop.example'] } }, ports: { http: Port.offset(1) } });
  const objects = Testing.synth(ports.chart('production'));
  expect(objects.filter(o => o.kind === 'Ingress').map(o => o.spec.rules[0].http.paths[0].backend.service)).toEqual([{ name: 'web', port: { number: 8101 } }]);
});

test('a PortsApp writes the same route bytes whether the registry charts are built or rendered as data', () => {
  const fs = require('fs') as typeof import('fs');
  const os = require('os') as typeof import('os');
  const path = require('path') as typeof import('path');
  const { PortsApp } = require('../lib') as typeof import('../lib');
  const files = (build: boolean) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-route-bytes-'));
    const app = new PortsApp({ manifestsDir: path.join(dir, 'm'), outdir: path.join(dir, 'o'), lockFile: path.join(dir, 'l.json') });
    const s = spec();
    const ports = new PortRegistry(app, s.name, { environments: s.environments as Record<'production' | 'development', any> });
    for (const [name, svc] of Object.entries(s.services ?? {})) ports.service(name, svc);
    if (build) ports.chart('production');
    const result = app.trySynth();
    expect(result.ok).toBe(true);
    return result.files.get('k8s/shop-production.k8s.yaml')!;
  };
  const data = files(false);
  expect(data).toContain('kind: HTTPRoute');
  expect(files(true)).toBe(data);
});
