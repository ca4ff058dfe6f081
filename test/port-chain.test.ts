import { Chart, Testing } from 'cdk8s';
import { k8s } from '../imports/k8s';
import { Port, PortRegistry, PortsApp } from '../lib';
import type { Finding } from '../lib';
import { portChain } from '../lib/validate/port-chain';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/**
 * The port chain, link by link, each with a sound and a broken case: for hand-written objects (a
 * folder's or a chart's, read by portChain, which verify, connlist and the synth share) and for
 * what the registry generates together with the app's own charts (through the synth).
 */
const NS = 'shop';
const deployment = (name: string, ports: any[], extra: any = {}) => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: NS },
  spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', image: 'x', ports, ...extra }] } } },
});
const service = (name: string, ports: any[], selector: any = { app: name }) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: NS }, spec: { selector, ports } });
const ingress = (port: any, svc = 'web') => ({
  apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'web', namespace: NS },
  spec: { rules: [{ host: 'shop.example', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: svc, port } } }] } }] },
});
const httpRoute = (parentRef: any, backend: any = { name: 'web', port: 80 }) => ({
  apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'web', namespace: NS },
  spec: { parentRefs: [parentRef], rules: [{ backendRefs: [backend] }] },
});
const gateway = (listeners: any[], namespace = NS) => ({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'edge', namespace }, spec: { gatewayClassName: 'x', listeners } });
const policy = (port: any, protocol = 'TCP') => ({
  apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'allow-web', namespace: NS },
  spec: { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Ingress'], ingress: [{ ports: [{ port, protocol }] }] },
});
const WEB = deployment('web', [{ name: 'http', containerPort: 8080 }]);
const WEB_SVC = service('web', [{ name: 'http', port: 80, targetPort: 8080 }]);

const chain = (...objects: any[]) => portChain(objects.map((object, i) => ({ object, origin: `k8s/${i}.yaml`, file: `k8s/${i}.yaml` })));
const rules = (fs_: readonly Finding[]) => fs_.map(f => f.rule);

describe('hand-written objects', () => {
  test('sound: Gateway listener -> HTTPRoute -> Service port -> targetPort -> container port -> probe -> policy on the targetPort', () => {
    const web = deployment('web', [{ name: 'http', containerPort: 8080 }], { readinessProbe: { httpGet: { path: '/', port: 'http' } }, livenessProbe: { tcpSocket: { port: 8080 } } });
    expect(chain(gateway([{ name: 'https', port: 443, protocol: 'HTTPS' }]), httpRoute({ name: 'edge', sectionName: 'https' }), ingress({ number: 80 }), ingress({ name: 'http' }), web, WEB_SVC,
      service('web-named', [{ port: 81, targetPort: 'http' }], { app: 'web' }), policy(8080), policy('http'))).toEqual([]);
  });

  test('Gateway listener -> route: a missing listener, a listener of another protocol, a listener that admits its own namespace only', () => {
    const [missing] = chain(gateway([{ name: 'https', port: 443, protocol: 'HTTPS' }]), httpRoute({ name: 'edge', sectionName: 'http' }), WEB, WEB_SVC);
    expect(missing).toMatchObject({ rule: 'chain-gateway-listener', where: { file: 'k8s/1.yaml', path: 'k8s/1.yaml/HTTPRoute/web.spec.parentRefs[0]' } });
    expect(missing.message).toBe('HTTPRoute shop/web attaches to Gateway shop/edge listener http, which it does not have (its listeners: https 443/HTTPS)');
    expect(chain(gateway([{ name: 'tcp', port: 5000, protocol: 'TCP' }]), httpRoute({ name: 'edge' }), WEB, WEB_SVC).map(f => [f.rule, f.message])).toEqual([
      ['chain-protocol', 'HTTPRoute shop/web attaches to Gateway shop/edge, whose listeners tcp (TCP) do not carry HTTP (an HTTPRoute needs an HTTP or HTTPS listener)']]);
    expect(rules(chain(gateway([{ name: 'http', port: 80, protocol: 'HTTP' }], 'infra'), httpRoute({ name: 'edge', namespace: 'infra' }), WEB, WEB_SVC))).toEqual(['chain-gateway-listener']);
    expect(chain(gateway([{ name: 'http', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'All' } } }], 'infra'), httpRoute({ name: 'edge', namespace: 'infra' }), WEB, WEB_SVC)).toEqual([]);
  });

  test('route -> Service port (kube-linter dangling-ingress): the targetPort instead of the port, a name the Service lacks, a missing Service, a UDP port', () => {
    const [onTarget] = chain(ingress({ number: 8080 }), WEB, WEB_SVC);
    expect(onTarget).toMatchObject({ rule: 'chain-route-backend', where: { port: 8080, path: 'k8s/0.yaml/Ingress/web.spec.rules[0].http.paths[0].backend.service.port' } });
    expect(onTarget.message).toBe('Ingress shop/web sends to Service shop/web on port 8080, which the Service does not have (its ports: http 80; a route names the Service\'s port, not the targetPort)');
    expect(onTarget.fix).toBe('send to one of the Service\'s ports: 80');
    expect(rules(chain(ingress({ name: 'web' }), WEB, WEB_SVC))).toEqual(['chain-route-backend']);
    expect(chain(ingress({ number: 80 }, 'wbe'), WEB, WEB_SVC)[0].message).toBe('Ingress shop/web sends to Service shop/wbe, which does not exist (kube-linter: dangling-ingress)');
    expect(rules(chain(httpRoute({ name: 'edge' }, { name: 'web', port: 8080 }), WEB, WEB_SVC))).toEqual(['chain-route-backend']);
    expect(rules(chain(httpRoute({ name: 'edge' }, { name: 'web' }), WEB, WEB_SVC))).toEqual(['chain-route-backend']);
    const udp = service('web', [{ name: 'http', port: 80, targetPort: 8080, protocol: 'UDP' }]);
    expect(rules(chain(ingress({ number: 80 }), deployment('web', [{ name: 'http', containerPort: 8080, protocol: 'UDP' }]), udp))).toEqual(['chain-protocol']);
  });

  test('Service -> pods (kube-linter dangling-service): a selector no workload matches is a warning; a Service without selector is not checked', () => {
    const [none] = chain(WEB, service('web', [{ port: 80, targetPort: 8080 }], { app: 'wbe' }));
    expect(none).toMatchObject({ rule: 'chain-no-pods', severity: 'warning' });
    expect(none.message).toBe('Service shop/web selects no pod: no workload in shop has the labels app=wbe (kube-linter: dangling-service)');
    expect(chain(WEB, { ...WEB_SVC, spec: { ports: WEB_SVC.spec.ports } })).toEqual([]);
  });

  test('Service targetPort -> container port, by number and by name, and its protocol', () => {
    const [num] = chain(deployment('web', [{ name: 'http', containerPort: 8081 }]), WEB_SVC);
    expect(num).toMatchObject({ rule: 'chain-target-port', severity: 'error', where: { port: 8080, path: 'k8s/1.yaml/Service/web.spec.ports[0].targetPort' } });
    expect(num.message).toBe('Service shop/web port http sends to targetPort 8080, but Deployment shop/web, which it selects, has no container port of that number (its ports: http 8081/TCP)');
    expect(chain(WEB, service('web', [{ port: 80, targetPort: 'web' }]))[0].message).toMatch(/targetPort "web", but Deployment shop\/web, which it selects, has no container port named so/);
    expect(chain(WEB, service('web', [{ port: 8080 }]))).toEqual([]); // no targetPort: the port itself
    expect(num.severity).toBe('error');
    // Pods that declare no port at all may listen on it: a warning.
    expect(chain(deployment('web', []), WEB_SVC).map(f => [f.rule, f.severity])).toEqual([['chain-target-port', 'warning']]);
    expect(rules(chain(WEB, service('web', [{ port: 80, targetPort: 8080, protocol: 'UDP' }])))).toEqual(['chain-protocol']);
  });

  test('probe -> the container\'s own ports (kube-linter liveness-port, readiness-port, startup-port)', () => {
    const probed = (probe: any) => chain(deployment('web', [{ name: 'http', containerPort: 8080 }], probe));
    expect(probed({ readinessProbe: { httpGet: { port: 8080 } }, startupProbe: { tcpSocket: { port: 'http' } } })).toEqual([]);
    const [wrong] = probed({ livenessProbe: { httpGet: { port: 9090 } } });
    // An undeclared number is probed all the same (a warning); a name the kubelet cannot resolve fails the probe (an error).
    expect(wrong).toMatchObject({ rule: 'chain-probe-port', severity: 'warning', where: { port: 9090, path: 'k8s/0.yaml/Deployment/web.spec.template.spec.containers[0].livenessProbe' } });
    expect(wrong.message).toBe('Deployment shop/web, container main: the livenessProbe probes port 9090, which the container does not open (its ports: http 8080/TCP; kube-linter: liveness-port)');
    expect(probed({ readinessProbe: { tcpSocket: { port: 'health' } } }).map(f => [f.rule, f.severity])).toEqual([['chain-probe-port', 'error']]);
    // A probe connects over TCP: a UDP port of that name or number does not count (kube-linter reads it so too).
    expect(rules(chain(deployment('web', [{ name: 'dns', containerPort: 53, protocol: 'UDP' }], { livenessProbe: { tcpSocket: { port: 'dns' } } })))).toEqual(['chain-probe-port']);
  });

  test('NetworkPolicy port -> the targetPort: a policy on the Service port opens nothing; a protocol mismatch; a name no pod has', () => {
    const [servicePort] = chain(WEB, WEB_SVC, policy(80));
    expect(servicePort).toMatchObject({ rule: 'chain-policy-port', where: { port: 80, path: 'k8s/2.yaml/NetworkPolicy/allow-web.spec.ingress[0].ports[0].port' } });
    expect(servicePort.message).toBe('NetworkPolicy shop/allow-web opens port 80/TCP, which is Service shop/web\'s port; the pods it reaches (Deployment shop/web) listen on targetPort 8080, and a policy sees the port after the Service\'s translation, so this opens nothing');
    expect(servicePort.fix).toBe('open the targetPort: port: 8080');
    expect(rules(chain(WEB, WEB_SVC, policy(8080, 'UDP')))).toEqual(['chain-protocol']);
    expect(rules(chain(WEB, WEB_SVC, policy('metrics')))).toEqual(['chain-policy-port']);
    // Egress towards the pods sees the targetPort too.
    const egress = { ...policy(80), spec: { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ podSelector: { matchLabels: { app: 'web' } } }], ports: [{ port: 80, protocol: 'TCP' }] }] } };
    expect(rules(chain(WEB, WEB_SVC, egress))).toEqual(['chain-policy-port']);
    expect(chain(WEB, WEB_SVC, { ...egress, spec: { ...egress.spec, egress: [{ ...egress.spec.egress[0], ports: [{ port: 8080, protocol: 'TCP' }] }] } })).toEqual([]);
  });
});

/** The registry (with a route of each kind, a Service whose targetPort differs from its port) and the app's own charts. */
function shop(app: any) {
  const ports = new PortRegistry(app, 'shop', { environments: { production: { range: [8100, 8199], namespace: 'shop', gateway: { name: 'edge', namespace: 'shop', sectionName: 'https' } } } });
  const web = ports.service('web', { public: { namespaces: ['ingress-nginx'], route: { kind: 'Ingress', hostnames: ['shop.example'] } }, healthCheck: { path: '/healthz', port: 'http' }, ports: { http: Port.fixed(8100, { targetPort: 8080 }) } });
  const api = ports.service('api', { public: { namespaces: ['shop'], route: { kind: 'HTTPRoute' } }, ports: { http: Port.fixed(8110) } });
  web.connectsTo(api);
  const charts = new Chart(app, 'workloads', { namespace: 'shop' });
  const bound = (name: string, svc: typeof web) => {
    const d = new k8s.KubeDeployment(charts, name, { spec: { selector: { matchLabels: {} }, template: { spec: { containers: [{ name: 'main', image: 'x' }] } } } });
    svc.bind(d, 'production');
    return d;
  };
  return { ports, web, api, charts, bound };
}

function synthFindings(build: (s: ReturnType<typeof shop>) => void): Finding[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-chain-'));
  const app = new PortsApp({ manifestsDir: path.join(dir, 'manifests'), outdir: path.join(dir, 'out'), lockFile: path.join(dir, 'lock.json') });
  build(shop(app));
  const result = app.trySynth();
  return result.findings.filter(f => f.rule.startsWith('chain-'));
}

describe('what the registry generates, with the app\'s own charts', () => {
  test('sound: generated routes, Services and policies with bound workloads (probe from the health check) have every link', () => {
    expect(synthFindings(s => { s.bound('web', s.web); s.bound('api', s.api); })).toEqual([]);
    // And the whole generated output as verify reads it: the registry's objects and the bound workloads.
    const app = Testing.app();
    const s = shop(app);
    s.bound('web', s.web);
    s.bound('api', s.api);
    const objects = [...Testing.synth(s.ports.chart('production')), ...Testing.synth(s.charts)];
    expect(objects.filter(o => o.kind === 'Ingress' || o.kind === 'HTTPRoute')).toHaveLength(2);
    expect(portChain(objects.map(object => ({ object, origin: 'out' })))).toEqual([]);
  });

  test('the platform\'s Gateway in the app\'s charts: the generated HTTPRoute must name one of its listeners', () => {
    const withGateway = (name: string) => (s: ReturnType<typeof shop>) => {
      s.bound('web', s.web); s.bound('api', s.api);
      new (require('cdk8s').ApiObject)(s.charts, 'gw', gateway([{ name, port: 443, protocol: 'HTTPS' }]));
    };
    expect(synthFindings(withGateway('https'))).toEqual([]);
    const [f] = synthFindings(withGateway('web'));
    expect(f).toMatchObject({ rule: 'chain-gateway-listener', severity: 'error' });
    expect(f.message).toBe('HTTPRoute shop/api attaches to Gateway shop/edge listener https, which it does not have (its listeners: web 443/HTTPS)');
  });

  test('a hand-written Ingress to the registry Service\'s targetPort, a policy on its port, a probe on a port the container does not open (beside workload-drift)', () => {
    const found = synthFindings(s => {
      s.bound('web', s.web); s.bound('api', s.api);
      new k8s.KubeIngress(s.charts, 'extra', { spec: { rules: [{ http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 8080 } } } }] } }] } });
      new k8s.KubeDeployment(s.charts, 'probed', { spec: { selector: { matchLabels: { app: 'probed' } }, template: { metadata: { labels: { app: 'probed' } }, spec: { containers: [{ name: 'main', image: 'x', ports: [{ containerPort: 9000 }], livenessProbe: { tcpSocket: { port: k8s.IntOrString.fromNumber(9001) } } }] } } } });
      new k8s.KubeNetworkPolicy(s.charts, 'mine', { spec: { podSelector: { matchLabels: s.web.podLabels }, ingress: [{ ports: [{ port: k8s.IntOrString.fromNumber(8100) }] }] } });
    });
    expect(found.map(f => f.rule)).toEqual(['chain-probe-port', 'chain-route-backend', 'chain-policy-port']);
    expect(found[2].message).toMatch(/opens port 8100\/TCP, which is Service shop\/web's port; .* listen on targetPort 8080/);
  });

  test('a registry Service whose pods the app\'s charts give another port; a Service that selects no pod', () => {
    const found = synthFindings(s => {
      s.bound('api', s.api);
      new k8s.KubeDeployment(s.charts, 'web', { spec: { selector: { matchLabels: s.web.podLabels }, template: { metadata: { labels: s.web.podLabels }, spec: { containers: [{ name: 'main', image: 'x', ports: [{ name: 'web', containerPort: 8081 }] }] } } } });
    });
    // Both links to the pods break: the Service's targetPort, and the generated policy that opens it.
    expect(found.map(f => [f.rule, f.where.path])).toEqual([
      ['chain-target-port', 'registry shop (production)/Service/web.spec.ports[0].targetPort'],
      ['chain-policy-port', 'registry shop (production)/NetworkPolicy/allow-web-from-public.spec.ingress[0].ports[0].port'],
    ]);
    expect(found[0].message).toMatch(/^Service shop\/web port http sends to targetPort 8080, but Deployment shop\/workloads-web-[0-9a-f]{8}, which it selects, has no container port of that number \(its ports: web 8081\/TCP\)$/);
    // No pod for a registry Service is not a broken link: another app may deploy them (verify's traffic-unmatched says so).
    expect(synthFindings(s => { s.bound('api', s.api); })).toEqual([]);
    // A hand-written Service beside the registry's that selects no pod is.
    const none = synthFindings(s => {
      s.bound('api', s.api); s.bound('web', s.web);
      new k8s.KubeService(s.charts, 'typo', { metadata: { name: 'typo' }, spec: { selector: { 'app.kubernetes.io/name': 'wbe' }, ports: [{ port: 80 }] } });
    });
    expect(none.map(f => [f.rule, f.severity, f.message])).toEqual([['chain-no-pods', 'warning', 'Service shop/typo selects no pod: no workload in shop has the labels app.kubernetes.io/name=wbe (kube-linter: dangling-service)']]);
  });

  test('a chain error stops the synth (a plain App too) and writes nothing', () => {
    const app = Testing.app();
    const s = shop(app);
    s.bound('web', s.web);
    s.bound('api', s.api);
    new k8s.KubeService(s.charts, 'mine', { spec: { selector: s.api.podLabels, ports: [{ port: 80, targetPort: k8s.IntOrString.fromString('htp') }] } });
    expect(() => app.synth()).toThrow(/chain-target-port[\s\S]*targetPort "htp"/);
  });
});
