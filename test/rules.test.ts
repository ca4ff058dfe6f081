import * as fs from 'fs';
import * as path from 'path';
import { RULES, RegistrySpec, checkRegistry } from '../lib';
import { allocate } from '../lib/allocation/allocate';
import { environmentsOf, indexSpec } from '../lib/model/normalize';
import { RegistrySpecSchema } from '../lib/model/schema';
import { RULE_LIST } from '../lib/rules';
import { cleanSpec, findingsOf, rulesOf, variant } from './support/specs';

/**
 * Every rule: one registry that breaks it (asserting the rule and where it points) and
 * a near-identical one that does not.
 */

test('the clean registry checks clean: zero findings', () => {
  expect(findingsOf(cleanSpec())).toEqual([]);
  expect(checkRegistry(cleanSpec()).ok).toBe(true);
});

/** One more public service, so that adding it needs no connection. */
const extra = (ports: Record<string, { offset: number }> = { http: { offset: 30 } }) => ({ public: true, ports });

interface Case {
  readonly rule: keyof typeof RULES;
  readonly bad: Parameters<typeof variant>[0];
  readonly where: Record<string, unknown>;
  readonly good: Parameters<typeof variant>[0];
  readonly fix?: RegExp;
}

const cases: Record<string, Case> = {
  'port out of range': {
    rule: 'port-range', bad: s => { s.services.api.ports.http = { port: 70000 }; },
    where: { service: 'api', environment: 'production', port: 70000 },
    good: s => { s.services.api.ports.http = { port: { production: 8150, development: 9150 } }; },
    fix: /next free port is 8100/,
  },
  'port is a float': {
    rule: 'port-range', bad: s => { s.services.api.ports.http = { port: { production: 8100.5, development: 9100 } }; },
    where: { service: 'api', environment: 'production', port: 8100.5 },
    good: s => { s.services.api.ports.http = { port: { production: 8100, development: 9100 } }; },
  },
  'port is 0': {
    rule: 'port-range', bad: s => { s.externals.db.ports.main.port = 0; },
    where: { service: 'db', port: 0 },
    good: s => { s.externals.db.ports.main.port = 5433; },
  },
  'target port out of range': {
    rule: 'port-range', bad: s => { s.services.api.ports.http.targetPort = 65536; },
    where: { service: 'api', environment: 'production', path: 'services.api.ports.http.targetPort' },
    good: s => { s.services.api.ports.http.targetPort = 80; },
  },
  'container port unknown with Kubernetes output': {
    rule: 'container-port-unknown', bad: s => { s.services.api.ports.http.targetPort = { production: 8080, development: 'unknown' }; },
    where: { service: 'api', portName: 'http', environment: 'development', path: 'services.api.ports.http.targetPort' },
    good: s => { s.services.api.ports.http.targetPort = { production: 8080, development: 8080 }; },
    fix: /^set services\.api\.ports\.http\.targetPort: <the port its container listens on>, or set kubernetes: false/,
  },
  'two port sources': {
    rule: 'port-source', bad: s => { s.services.api.ports.http = { offset: 10, port: 8110 }; },
    where: { service: 'api', portName: 'http' },
    good: s => { s.services.api.ports.http = { port: { production: 8110, development: 9110 } }; },
  },
  'per-environment map misses an environment': {
    rule: 'port-source', bad: s => { s.services.api.ports.http = { port: { production: 8110 } }; },
    where: { service: 'api', environment: 'development' },
    good: s => { s.services.api.ports.http = { port: { production: 8110, development: 9110 } }; },
  },
  'offset without a band': {
    rule: 'offset-without-band', bad: s => { delete s.environments.development.range; },
    where: { service: 'api', environment: 'development', portName: 'http' },
    good: s => { s.environments.development.range = [9300, 9399]; },
  },
  'outside its band': {
    rule: 'outside-band', bad: s => { s.services.api.ports.http = { port: { production: 8500, development: 9110 } }; },
    where: { service: 'api', environment: 'production', port: 8500 },
    good: s => { s.services.api.ports.http = { port: { production: 8150, development: 9110 } }; },
    fix: /8100-8199: the next free port is 8100/,
  },
  'outside its category': {
    rule: 'outside-category', bad: s => { s.externals.db.ports.main.port = 5532; },
    where: { service: 'db', port: 5532, category: 'infra' },
    good: s => { s.externals.db.ports.main.port = 5433; },
    fix: /5400-5499/,
  },
  'unknown category': {
    rule: 'unknown-category', bad: s => { s.services.worker.category = 'infr'; },
    where: { service: 'worker', category: 'infr' },
    good: s => { s.categories = { ...s.categories, apps: { ranges: [[8100, 8199], [9100, 9199]] } }; s.services.worker.category = 'apps'; },
    fix: /did you mean "infra"/,
  },
  'unknown environment': {
    rule: 'unknown-environment', bad: s => { s.services.worker.environments = ['prod']; },
    where: { service: 'worker', environment: 'prod' },
    good: s => { s.services.worker.environments = ['production']; },
    fix: /did you mean "production"/,
  },
  'bands overlap on one host': {
    rule: 'range-overlap', bad: s => { s.environments.development.range = [8150, 8250]; s.services.api.ports.http.offset = 60; s.services.worker.ports.metrics.offset = 70; },
    where: { environment: 'production', port: 8150 },
    good: s => { s.environments.development = { range: [8150, 8250], scope: 'dev-laptop' }; s.services.api.ports.http.offset = 60; s.services.worker.ports.metrics.offset = 70; },
  },
  'category straddles a band': {
    rule: 'range-overlap', bad: s => { s.categories!.infra.ranges = [[5400, 5499], [8150, 8250]]; },
    where: { environment: 'production', other: 'category infra' },
    good: s => { s.categories!.infra.ranges = [[5400, 5499], [8150, 8199]]; },
  },
  'reversed range': {
    rule: 'invalid-range', bad: s => { s.categories!.infra.ranges = [[5499, 5400]]; },
    where: { category: 'infra' },
    good: s => { s.categories!.infra.ranges = [[5400, 5499]]; },
  },
  'two services on one port': {
    rule: 'collision', bad: s => { s.services.worker.ports.metrics.offset = 10; },
    where: { service: 'worker', environment: 'production', port: 8110, other: 'api.http (production)' },
    good: s => { s.services.worker.ports.metrics.offset = 11; },
    // A port given by an offset is told the offset, which is the good variant.
    fix: /another offset from the band: the next one free in every environment it runs in is offset: 11 \(port 8111 in production, port 9111 in development\)$/,
  },
  'avoided port': {
    rule: 'avoided-port', bad: s => { s.avoid = { ports: [{ port: 8110, reason: 'legacy proxy' }] }; },
    where: { service: 'api', environment: 'production', port: 8110 },
    good: s => { s.avoid = { ports: [{ port: 8111, reason: 'legacy proxy' }] }; },
  },
  'avoided range': {
    rule: 'avoided-port', bad: s => { s.avoid = { ranges: [[9105, 9115]] }; },
    where: { service: 'api', environment: 'development', port: 9110 },
    good: s => { s.avoid = { ranges: [[9111, 9115]] }; },
  },
  'reserved category': {
    rule: 'reserved-range', bad: s => { s.categories!.later = { ranges: [[8105, 8115]], reserved: true }; },
    where: { service: 'api', environment: 'production', port: 8110 },
    good: s => { s.categories!.later = { ranges: [[8111, 8115]], reserved: true }; },
  },
  'privileged port without opt-in': {
    rule: 'privileged-port', bad: s => { s.externals.proxy = { ports: { http: { port: 80 } } }; },
    where: { service: 'proxy', port: 80 },
    good: s => { s.externals.proxy = { ports: { http: { port: 80, privileged: true } } }; },
  },
  'de-facto port taken by another kind of server': {
    rule: 'defacto-port', bad: s => { s.externals.cache = { ports: { main: { port: 6379 } } }; },
    where: { service: 'cache', port: 6379 },
    good: s => { s.externals.cache = { kind: 'redis', ports: { main: { port: 6379 } } }; },
  },
  'NodePort outside the NodePort range': {
    rule: 'nodeport-range', bad: s => { s.services.api.ports.http.nodePort = 8080; },
    where: { service: 'api', environment: 'production', port: 8110 },
    good: s => { s.services.api.ports.http.nodePort = { production: 30110, development: 30111 }; },
  },
  'service name is not a DNS-1035 label': {
    rule: 'service-name', bad: s => { s.services.Worker_1 = extra(); },
    where: { service: 'Worker_1' },
    good: s => { s.services['worker-1'] = extra(); },
    fix: /"worker-1"/,
  },
  'service name over 63 characters': {
    rule: 'service-name', bad: s => { s.services['w'.repeat(64)] = extra(); },
    where: { service: 'w'.repeat(64) },
    good: s => { s.services['w'.repeat(63)] = extra(); },
  },
  'namespace is not a DNS-1123 label': {
    rule: 'namespace-name', bad: s => { s.environments.production.namespace = 'Acme_Prod'; },
    where: { environment: 'production' },
    good: s => { s.environments.production.namespace = 'acme-prod'; },
  },
  'port name over 15 characters': {
    rule: 'port-name', bad: s => { s.services.worker.ports = { 'metrics-exporter': { offset: 20 } }; },
    where: { service: 'worker', portName: 'metrics-exporter' },
    good: s => { s.services.worker.ports = { 'metrics-export': { offset: 20 } }; },
  },
  'port name without a letter': {
    rule: 'port-name', bad: s => { s.services.worker.ports = { 9100: { offset: 20 } }; },
    where: { service: 'worker', portName: '9100' },
    good: s => { s.services.worker.ports = { p9100: { offset: 20 } }; },
  },
  'port name with a double dash': {
    rule: 'port-name', bad: s => { s.services.worker.ports = { 'm--x': { offset: 20 } }; },
    where: { service: 'worker', portName: 'm--x' },
    good: s => { s.services.worker.ports = { 'm-x': { offset: 20 } }; },
  },
  'service and external share a name': {
    rule: 'duplicate-service', bad: s => { s.services.db = extra(); },
    where: { service: 'db' },
    good: s => { s.services.dbadmin = extra(); },
  },
  'generated variable names collide': {
    rule: 'env-var-collision', bad: s => { s.services['a-b'] = extra({ c: { offset: 30 } }); s.services.a = extra({ 'b-c': { offset: 31 } }); },
    where: { service: 'a', portName: 'b-c', other: 'a-b.c' },
    good: s => { s.services['a-b'] = extra({ c: { offset: 30 } }); s.services.a = extra({ d: { offset: 31 } }); },
  },
  'connection to an unknown service': {
    rule: 'unknown-service', bad: s => { s.services.api.connectsTo = [{ to: 'dbb' }, { to: 'worker' }]; },
    where: { service: 'api', other: 'dbb' },
    good: s => { s.services.api.connectsTo = [{ to: 'db' }, { to: 'worker' }]; },
    fix: /did you mean "db"/,
  },
  'connection to an undeclared port': {
    rule: 'unknown-port', bad: s => { s.services.api.connectsTo = [{ to: 'worker', port: 'http' }]; },
    where: { service: 'api', other: 'worker', portName: 'http' },
    good: s => { s.services.api.connectsTo = [{ to: 'worker', port: 'metrics' }]; },
    fix: /metrics/,
  },
  'service nobody connects to': {
    rule: 'unreachable', bad: s => { s.services.api.connectsTo = [{ to: 'db' }]; },
    where: { service: 'worker' },
    good: s => { s.services.api.connectsTo = [{ to: 'db' }]; s.services.worker.public = { namespaces: ['monitoring'] }; },
  },
  'connection to a planned service': {
    rule: 'inactive-target', bad: s => { s.services.worker.status = 'planned'; },
    where: { service: 'api', other: 'worker' },
    good: s => { s.services.worker.status = 'active'; },
  },
  'connection into another environment': {
    rule: 'cross-environment', bad: s => { s.services.api.connectsTo = [{ to: 'db' }, { to: 'worker', environment: 'production' }]; },
    where: { service: 'api', environment: 'production', other: 'worker' },
    good: s => { s.services.api.connectsTo = [{ to: 'db' }, { to: 'worker' }]; },
  },
  'public to a namespace of another environment': {
    rule: 'cross-environment', bad: s => { s.services.api.public = { namespaces: ['acme-development'] }; },
    where: { service: 'api', environment: 'development' },
    good: s => { s.services.api.public = { namespaces: ['ingress-nginx'] }; },
  },
  'connection to an external with no address': {
    rule: 'external-unaddressed', bad: s => { delete s.externals.db.cidrs; },
    where: { service: 'db', other: 'api' },
    good: s => { delete s.externals.db.cidrs; s.externals.db.namespace = 'databases'; },
  },
  'connection to an external with a block of addresses and no host': {
    rule: 'external-no-host', bad: s => { s.externals.db.cidrs = ['10.0.0.0/24']; },
    where: { service: 'api', other: 'db', path: 'externals.db' },
    good: s => { s.externals.db.cidrs = ['10.0.0.0/24']; s.externals.db.host = 'db.internal'; },
    fix: /add host: <name or address> to db/,
  },
  'malformed CIDR': {
    rule: 'invalid-cidr', bad: s => { s.externals.db.cidrs = ['10.0.0.5/33']; },
    where: { service: 'db' },
    good: s => { s.externals.db.cidrs = ['10.0.0.5/32', '2001:db8::/32']; },
  },
  'no free port left for an automatic port': {
    rule: 'no-free-port', bad: s => { s.environments.production.range = [8100, 8101]; s.services.api.ports.http = { port: { production: 8100, development: 9110 } }; s.services.worker.ports.metrics = { port: { production: 8101, development: 9120 } }; s.services.extra = { environments: ['production'], public: true, ports: { http: {} } }; },
    where: { service: 'extra', environment: 'production' },
    good: s => { s.environments.production.range = [8100, 8102]; s.services.api.ports.http = { port: { production: 8100, development: 9110 } }; s.services.worker.ports.metrics = { port: { production: 8101, development: 9120 } }; s.services.extra = { environments: ['production'], public: true, ports: { http: {} } }; },
  },
  'dev-only service in production': {
    rule: 'dev-only-in-production', bad: s => { s.services.worker.status = 'dev-only'; s.services.worker.environments = ['production', 'development']; },
    where: { service: 'worker', environment: 'production' },
    good: s => { s.services.worker.status = 'dev-only'; },
  },
  'waiver that matches nothing': {
    rule: 'waiver-unused', bad: s => { s.waivers = [{ rule: 'collision', service: 'api', reason: 'historic' }]; },
    where: { service: 'api' },
    good: s => { s.waivers = []; },
  },
  'waiver for a rule that keeps the output valid': {
    rule: 'waiver-invalid', bad: s => { s.services.api.ports.http = { port: 70000 }; s.waivers = [{ rule: 'port-range', service: 'api', reason: 'fine on our hosts' }]; },
    where: { service: 'api' },
    good: s => { s.waivers = []; },
  },
  'one NodePort for two services of one scope': {
    rule: 'collision', bad: s => {
      s.services.api.ports.http = { offset: 10, nodePort: { production: 30080, development: 30081 } };
      s.services.worker.ports.metrics = { offset: 20, nodePort: { production: 30080, development: 30082 } };
    },
    where: { service: 'worker', environment: 'production', path: 'services.worker.ports.metrics.nodePort' },
    fix: /another NodePort in 30000-32767/,
    good: s => { s.services.api.ports.http = { offset: 10, nodePort: { production: 30080, development: 30081 } }; },
  },
  'fallback below 1024 without privileged': {
    rule: 'privileged-port', bad: s => { s.services.api.ports.http = { offset: 10, fallback: { shift: -8000 } }; },
    where: { service: 'api', environment: 'production', port: 110, path: 'services.api.ports.http.fallback' },
    good: s => { s.services.api.ports.http = { offset: 10, fallback: { shift: 10000 } }; },
  },
  'no connection and no public service at all': {
    rule: 'no-policies', bad: s => { delete s.services.api.public; delete s.services.api.connectsTo; },
    where: { registry: 'acme', path: 'services' },
    fix: /connectsTo: \[\{ to: <server>, port: <port> \}\]/,
    good: () => undefined,
  },
  'appProtocol Kubernetes does not define': {
    rule: 'app-protocol', bad: s => { s.services.api.ports.http = { offset: 10, appProtocol: 'kubernetes.io/websocket' }; },
    where: { service: 'api', portName: 'http', path: 'services.api.ports.http.appProtocol' },
    good: s => { s.services.api.ports.http = { offset: 10, appProtocol: 'ws' }; },
  },
  'a primary port inside the range its category keeps for fallbacks': {
    rule: 'fallback-range', bad: s => { s.categories!.infra.fallbackRanges = [[5430, 5439]]; },
    where: { service: 'db', port: 5432 },
    good: s => { s.categories!.infra.fallbackRanges = [[5490, 5499]]; },
  },
  'a registry name that would break the files it heads': {
    rule: 'invalid-value', bad: s => { s.name = 'acme\nbuiltins.exec "rm -rf ~"'; },
    where: { path: 'name' },
    good: s => { s.name = 'acme-two'; },
  },
  'two environments in one namespace': {
    rule: 'namespace-shared', bad: s => { s.environments.development.namespace = 'acme-production'; },
    where: { environment: 'development', other: 'production' },
    good: s => { s.environments.development.namespace = 'acme-dev'; },
  },
  'one service\'s selector holds every label of another\'s ({tier: web} and {tier: web, role: b})': {
    rule: 'selector-overlap', bad: s => { s.services.api.selector = { tier: 'web', role: 'b' }; s.services.worker.selector = { tier: 'web' }; },
    where: { service: 'api', other: 'worker', environment: 'production', path: 'services.api.selector' },
    good: s => { s.services.api.selector = { tier: 'web', role: 'b' }; s.services.worker.selector = { tier: 'web', role: 'w' }; },
    fix: /give api a selector with a label worker's selector does not ask for/,
  },
  'a selector naming another service\'s default labels': {
    rule: 'selector-overlap', bad: s => { s.services.worker.selector = { 'app.kubernetes.io/name': 'api' }; },
    where: { service: 'api', other: 'worker' },
    good: s => { s.services.worker.selector = { 'app.kubernetes.io/name': 'worker', tier: 'back' }; },
  },
  'an appProtocol IANA does not list': {
    rule: 'app-protocol-unknown', bad: s => { s.services.api.ports.http = { offset: 10, appProtocol: 'prometheus-metrics' }; },
    where: { service: 'api', portName: 'http' },
    good: s => { s.services.api.ports.http = { offset: 10, appProtocol: 'http' }; },
  },
  'a connection between services that never run in one environment': {
    rule: 'dead-wiring', bad: s => { s.services.api.environments = ['production']; s.services.worker.environments = ['development']; },
    where: { service: 'api', other: 'worker', path: 'services.api.connectsTo[1]' },
    good: s => { s.services.worker.environments = ['production', 'development']; },
  },
  'a connection to a dev-only service in a registry with only production environments': {
    rule: 'dead-wiring', bad: s => { s.environments = { production: s.environments.production }; s.services.worker.status = 'dev-only'; },
    where: { service: 'api', other: 'worker', path: 'services.api.connectsTo[1]' },
    good: s => { s.environments = { production: s.environments.production }; },
  },
  'a route to a port the service does not have': {
    rule: 'route-invalid', bad: s => { s.services.api.public = { namespaces: ['ingress-nginx'], route: { kind: 'Ingress', port: 'htp' } }; },
    where: { service: 'api', path: 'services.api.public.route.port' },
    good: s => { s.services.api.public = { namespaces: ['ingress-nginx'], route: { kind: 'Ingress', port: 'http' } }; },
    fix: /name one of api's ports/,
  },
  'a connection that names no port, to a target with two ports': {
    rule: 'unknown-port', bad: s => { s.services.worker.ports.grpc = { offset: 21 }; },
    where: { service: 'api', other: 'worker', path: 'services.api.connectsTo[1]' },
    good: s => { s.services.worker.ports.grpc = { offset: 21 }; s.services.api.connectsTo = [{ to: 'db' }, { to: 'worker', port: 'grpc' }, { to: 'worker', port: 'metrics' }]; },
  },
  'a connection into an environment the registry does not declare': {
    rule: 'unknown-environment', bad: s => { s.services.api.connectsTo![1] = { to: 'worker', environment: 'prodution' }; },
    where: { service: 'api', environment: 'prodution', path: 'services.api.connectsTo[1].environment' },
    good: s => { s.services.api.connectsTo![1] = { to: 'worker' }; },
  },
  'a per-environment port for an environment the registry does not declare': {
    rule: 'unknown-environment', bad: s => { s.services.worker.ports.metrics = { port: { production: 8120, development: 9120, staging: 7120 } }; },
    where: { service: 'worker', environment: 'staging', path: 'services.worker.ports.metrics.port' },
    good: s => { s.services.worker.ports.metrics = { port: { production: 8120, development: 9120 } }; },
  },
  'a connection to a reserved service': {
    rule: 'inactive-target', bad: s => { s.services.worker.status = 'reserved'; },
    where: { service: 'api', other: 'worker' },
    good: s => { s.services.worker.status = 'dev-only'; s.environments.development = { ...s.environments.development, kind: 'development' }; },
  },
  'an external at every address': {
    rule: 'open-cidr', bad: s => { s.externals.db.cidrs = ['0.0.0.0/0']; },
    where: { service: 'db' },
    good: s => { s.externals.db.cidrs = ['10.0.0.0/8']; s.externals.db.host = 'db.internal'; },
  },
  'an IPv6 block with a prefix over 128': {
    rule: 'invalid-cidr', bad: s => { s.externals.db.cidrs = ['2001:db8::/129']; },
    where: { service: 'db' },
    good: s => { s.externals.db.cidrs = ['2001:db8::/128']; },
  },
  'a service name that starts with a digit': {
    rule: 'service-name', bad: s => { s.services['1worker'] = { public: true, ports: { metrics: { offset: 30 } } }; },
    where: { service: '1worker' },
    good: s => { s.services['worker1'] = { public: true, ports: { metrics: { offset: 30 } } }; },
  },
  'two bands that share exactly one port': {
    rule: 'range-overlap', bad: s => { s.environments.development.range = [8199, 8299]; s.services.worker.ports.metrics.offset = 50; },
    where: { environment: 'production', port: 8199 },
    good: s => { s.environments.development.range = [8200, 8299]; s.services.worker.ports.metrics.offset = 50; },
  },
  'a NodePort range that is not a range': {
    rule: 'invalid-range', bad: s => { s.environments.production.nodePortRange = [32767, 30000]; },
    where: { environment: 'production', path: 'environments.production.nodePortRange' },
    good: s => { s.environments.production.nodePortRange = [30000, 32767]; },
  },
  'misspelt key': {
    rule: 'schema', bad: s => { (s.services.api as unknown as Record<string, unknown>).prots = {}; },
    where: { service: 'api', path: 'services.api' },
    good: s => { s.services.api.description = 'the API'; },
  },
  'port given as a string': {
    rule: 'schema', bad: s => { (s.externals.db.ports.main as unknown as Record<string, unknown>).port = '5432/tcp'; },
    where: { service: 'db', path: 'externals.db.ports.main.port' },
    good: s => { s.externals.db.ports.main.port = 5432; },
  },
};

describe.each(Object.entries(cases))('%s', (_title, c) => {
  test(`fails with ${c.rule}, pointing at the culprit`, () => {
    const findings = findingsOf(variant(c.bad)).filter(f => f.rule === c.rule);
    expect(findings.length).toBeGreaterThan(0);
    expect(findings[0].where).toMatchObject(c.where);
    expect(findings[0].message.length).toBeGreaterThan(10);
    expect(findings[0].severity).toBe(RULES[c.rule][0]);
    if (c.fix) expect(findings[0].fix).toMatch(c.fix);
  });
  test('passes when fixed', () => {
    expect(rulesOf(variant(c.good))).toEqual([]);
  });
});

/** Rules of the manifests (the port chain, routes against public): their cases are in test/port-chain.test.ts and test/route-exposure.test.ts. */
const CHAIN_RULES = Object.keys(RULES).filter(r => r.startsWith('chain-') || r === 'route-undeclared' || r === 'route-missing');

test('every rule of the checker has a failing case here, in the lock tests or in the compose tests', () => {
  const covered = new Set([...Object.values(cases).map(c => c.rule), 'lock-stale', 'lock-outdated', 'compose-drift', 'compose-file', 'workload-drift', ...CHAIN_RULES,
    // connections to other registries: test/peer-connections.test.ts
    'unknown-registry']);
  expect(Object.keys(RULES).filter(r => !covered.has(r as keyof typeof RULES))).toEqual([]);
});

test('the rule list has one entry per rule, each listed once with its own severity; the pipeline adds only the rest', () => {
  const ids = RULE_LIST.map(r => r.id);
  expect(new Set(ids).size).toBe(ids.length);
  for (const r of RULE_LIST) expect({ id: r.id, severity: r.severity }).toEqual({ id: r.id, severity: RULES[r.id][0] });
  // Rules that need the lock file, compose files, other registries, the app's own charts or the waivers themselves.
  const pipeline = ['lock-outdated', 'compose-drift', 'compose-file', 'workload-drift', 'waiver-unused', 'waiver-invalid', 'unknown-registry', ...CHAIN_RULES];
  expect(Object.keys(RULES).filter(id => !ids.includes(id as keyof typeof RULES) && !pipeline.includes(id))).toEqual([]);
  // Each entry reports its own rule only.
  let checked = 0;
  for (const c of Object.values(cases)) {
    const parsed = RegistrySpecSchema.safeParse(variant(c.bad));
    if (!parsed.success) continue; // a schema case: the rule list never runs on it
    const spec = parsed.data;
    const environments = environmentsOf(spec);
    const index = indexSpec(spec);
    const ctx = { spec, environments, index, allocation: allocate(spec, environments, undefined, index), memo: new Map(), syntax: 'data' as const };
    for (const rule of RULE_LIST) expect(rule.check(ctx).filter(f => f.rule !== rule.id)).toEqual([]);
    checked++;
  }
  expect(checked).toBeGreaterThan(30);
});

/**
 * The severity users read in docs/reference.md is the one each rule's finding carries. The rule
 * table is what both the rules and RULE_LIST are built from, so comparing them with each other
 * could not fail; the documented table is written by hand and pins each severity independently.
 */
function documentedSeverities(): Map<string, string> {
  const reference = fs.readFileSync(path.join(__dirname, '..', 'docs', 'reference.md'), 'utf8');
  return new Map([...reference.matchAll(/^\| `([a-z-]+)` \| (error|warning|info) \|/gm)].map(m => [m[1], m[2]]));
}
function severityMismatches(): string[] {
  const documented = documentedSeverities();
  const out: string[] = [];
  for (const c of Object.values(cases)) {
    for (const f of findingsOf(variant(c.bad)).filter(x => x.rule === c.rule)) {
      if (f.severity !== documented.get(f.rule)) out.push(`${f.rule}: ${f.severity}, documented ${documented.get(f.rule)}`);
    }
  }
  return [...new Set(out)];
}

test('every rule\'s finding has the severity docs/reference.md gives it', () => {
  expect(severityMismatches()).toEqual([]);
  expect(new Set(Object.values(cases).map(c => c.rule)).size).toBeGreaterThan(40);
});

test('… and that check fails when one rule\'s severity changes in the rule table', () => {
  const entry = RULES.unreachable as unknown as [string, string];
  const before = entry[0];
  entry[0] = 'error';
  try {
    expect(severityMismatches()).toEqual(['unreachable: error, documented warning']);
  } finally {
    entry[0] = before;
  }
});

test('no finding is reported twice (each problem is found by one rule, once)', () => {
  let findings = 0;
  for (const c of Object.values(cases)) {
    const seen = new Set<string>();
    for (const f of findingsOf(variant(c.bad))) {
      const key = JSON.stringify([f.rule, f.message, f.where]);
      expect({ twice: seen.has(key) ? key : undefined }).toEqual({ twice: undefined });
      seen.add(key);
      findings++;
    }
  }
  expect(findings).toBeGreaterThan(50);
});

test('all findings are reported at once, not just the first', () => {
  const spec = variant(s => {
    s.services.worker.ports.metrics.offset = 10; // collision in both environments
    s.services.api.connectsTo = [{ to: 'nope' }];
    s.externals.db.ports.main.port = 70000;
  });
  const findings = findingsOf(spec);
  expect(findings.filter(f => f.rule === 'collision').map(f => f.where.environment)).toEqual(['production', 'development']);
  expect(findings.map(f => f.rule)).toEqual(expect.arrayContaining(['unknown-service', 'port-range']));
});

test('a collision names both services, the port, the environment and the next free port', () => {
  const [f] = findingsOf(variant(s => { s.services.worker.ports.metrics.offset = 10; })).filter(x => x.rule === 'collision');
  expect(f.message).toMatch(/8110/);
  expect(f.message).toMatch(/worker\.metrics/);
  expect(f.message).toMatch(/api\.http/);
  expect(f.message).toMatch(/production/);
  expect(f.fix).toMatch(/8111/);
});

test('two collisions in one environment are offered different free ports', () => {
  const fixes = findingsOf(variant(s => {
    s.services.worker.ports.metrics.offset = 10;
    s.services.third = { environments: ['production'], ports: { http: { offset: 10 } } };
  })).filter(f => f.rule === 'collision' && f.where.environment === 'production').map(f => f.fix);
  expect(fixes).toHaveLength(2);
  expect(new Set(fixes).size).toBe(2);
});

test('a waiver turns a finding into a waived one that does not block, and keeps the reason', () => {
  const spec = variant(s => {
    s.externals.cache = { ports: { main: { port: 6379 } } };
    s.waivers = [{ rule: 'defacto-port', service: 'cache', reason: 'shared with the legacy stack' }];
  });
  const resolved = checkRegistry(spec);
  const f = resolved.findings.find(x => x.rule === 'defacto-port');
  expect(f?.waived).toBe('shared with the legacy stack');
  expect(resolved.ok).toBe(true);
});

test('environments in different scopes may reuse a port; in one scope they collide', () => {
  const shared = variant(s => { s.services.api.ports.http = { port: 8110 }; s.environments.development.range = undefined; });
  expect(rulesOf(shared)).toContain('collision');
  const separate = variant(s => {
    s.services.api.ports.http = { port: 8110 };
    s.environments.development = { scope: 'dev-cluster' };
    s.services.worker.environments = ['production'];
  });
  expect(rulesOf(separate)).toEqual([]);
});

test('an external present in several environments of one scope is one listener, not a collision', () => {
  expect(findingsOf(cleanSpec()).filter(f => f.rule === 'collision')).toEqual([]);
  const resolved = checkRegistry(cleanSpec());
  expect(resolved.allocations.filter(a => a.service === 'db').map(a => a.environment)).toEqual(['production', 'development']);
});

test('a fallback port that lands on another allocation is a collision', () => {
  const rules = findingsOf(variant(s => { s.services.api.ports.http.fallback = { shift: 10 }; })); // 8110 + 10 = worker's 8120
  expect(rules.find(f => f.rule === 'collision')).toMatchObject({ where: { service: 'api', port: 8120 } });
  expect(rulesOf(variant(s => { s.services.api.ports.http.fallback = { shift: 10000 }; }))).toEqual([]);
});

test('IANA names are information: a registered port gives no finding but is recorded', () => {
  const resolved = checkRegistry(variant(s => { s.services.api.ports.http = { port: { production: 8181, development: 9181 } }; }));
  expect(resolved.findings).toEqual([]);
  expect(resolved.allocations.find(a => a.service === 'db')?.iana).toBe('postgresql');
});

test('the de-facto list can be extended or switched off', () => {
  const extended = variant(s => { s.defactoPorts = { 8110: { what: 'our legacy admin UI' } }; });
  expect(findingsOf(extended).find(f => f.rule === 'defacto-port')?.message).toMatch(/legacy admin UI/);
  const off = variant(s => { s.externals.cache = { ports: { main: { port: 6379 } } }; s.defactoPorts = false; });
  expect(rulesOf(off)).toEqual([]);
});

describe('range rules, finding by finding', () => {
  const rangeFindings = (spec: Partial<RegistrySpec>) => checkRegistry({ name: 'r', services: {}, environments: {}, ...spec }).findings
    .filter(f => f.rule === 'invalid-range' || f.rule === 'range-overlap').map(f => [f.rule, f.message, f.where, f.fix]);

  test('bands below 1, above 65535 or not integers', () => {
    expect(rangeFindings({ environments: { prod: { range: [0, 100] }, dev: { range: [60000, 70000] }, qa: { range: [1.5, 100] }, lab: { range: [100, 200.5] } } })).toEqual([
  [
    "invalid-range",
    "band [0, 100] of environment prod is not a valid range",
    {
      "registry": "r",
      "environment": "prod",
      "path": "environments.prod.range"
    },
    "use [first, last] with integers 1 <= first <= last <= 65535"
  ],
  [
    "invalid-range",
    "band [60000, 70000] of environment dev is not a valid range",
    {
      "registry": "r",
      "environment": "dev",
      "path": "environments.dev.range"
    },
    "use [first, last] with integers 1 <= first <= last <= 65535"
  ],
  [
    "invalid-range",
    "band [1.5, 100] of environment qa is not a valid range",
    {
      "registry": "r",
      "environment": "qa",
      "path": "environments.qa.range"
    },
    "use [first, last] with integers 1 <= first <= last <= 65535"
  ],
  [
    "invalid-range",
    "band [100, 200.5] of environment lab is not a valid range",
    {
      "registry": "r",
      "environment": "lab",
      "path": "environments.lab.range"
    },
    "use [first, last] with integers 1 <= first <= last <= 65535"
  ]
]);
  });

  test('the edges 1 and 65535 are ports', () => {
    expect(rangeFindings({ environments: { prod: { range: [1, 1023] }, dev: { range: [65535, 65535], scope: 'b' } } })).toEqual([]);
  });

  test('avoided ports and ranges: 0, 65536 and 1.5 are not ports; a reversed range says how to write it; [5, 5] is one port', () => {
    expect(rangeFindings({ environments: { prod: { range: [20000, 20999] } }, avoid: { ports: [0, 1, 65535, 65536, 1.5], ranges: [[5, 5], [10, 1], [70000, 70000], { range: [0, 3] }] } })).toEqual([
  [
    "invalid-range",
    "avoided port 0 is not a port: ports are integers in 1-65535",
    {
      "registry": "r",
      "path": "avoid.ports[0]"
    },
    "list ports as integers in 1-65535, or remove the entry"
  ],
  [
    "invalid-range",
    "avoided port 65536 is not a port: ports are integers in 1-65535",
    {
      "registry": "r",
      "path": "avoid.ports[3]"
    },
    "list ports as integers in 1-65535, or remove the entry"
  ],
  [
    "invalid-range",
    "avoided port 1.5 is not a port: ports are integers in 1-65535",
    {
      "registry": "r",
      "path": "avoid.ports[4]"
    },
    "list ports as integers in 1-65535, or remove the entry"
  ],
  [
    "invalid-range",
    "avoided range [10, 1] is not a valid range (it is reversed, so it avoids nothing)",
    {
      "registry": "r",
      "path": "avoid.ranges[1]"
    },
    "write it as [1, 10]"
  ],
  [
    "invalid-range",
    "avoided range [70000, 70000] is not a valid range",
    {
      "registry": "r",
      "path": "avoid.ranges[2]"
    },
    "use [first, last] with integers 1 <= first <= last <= 65535"
  ],
  [
    "invalid-range",
    "avoided range [0, 3] is not a valid range",
    {
      "registry": "r",
      "path": "avoid.ranges[3]"
    },
    "use [first, last] with integers 1 <= first <= last <= 65535"
  ]
]);
  });

  test('categories: overlapping ranges of one category are fine, ranges of two categories sharing one port are not, a category partly in a band is an overlap, one nested in it is not; fallback ranges are checked too', () => {
    expect(rangeFindings({ environments: { prod: { range: [20000, 20999] } }, categories: { web: { ranges: [[100, 200], [150, 250]], fallbackRanges: [[0, 5]] }, api: { ranges: [[250, 300]] }, prod: { ranges: [[20900, 21100]] }, inner: { ranges: [[20100, 20200]] } } })).toEqual([
  [
    "invalid-range",
    "fallback range [0, 5] of category web is not a valid range",
    {
      "registry": "r",
      "category": "web",
      "path": "categories.web.fallbackRanges[0]"
    },
    "use [first, last] with integers 1 <= first <= last <= 65535"
  ],
  [
    "range-overlap",
    "band 20000-20999 of environment prod overlaps range 20900-21100 of category prod (shared ports 20900-20999)",
    {
      "registry": "r",
      "environment": "prod",
      "port": 20900,
      "other": "category prod",
      "path": "categories.prod.ranges[0]"
    },
    "make the ranges disjoint: shrink category prod's range (set categories.prod.ranges: [[21000, 21100]]), or shrink band prod's range (set environments.prod.range: [20000, 20899]), or fit category prod's range inside the band (set categories.prod.ranges: [[20900, 20999]])"
  ],
  [
    "range-overlap",
    "range 150-250 of category web overlaps range 250-300 of category api (shared ports 250)",
    {
      "registry": "r",
      "port": 250,
      "other": "category api",
      "path": "categories.api.ranges[0]"
    },
    "make the ranges disjoint: shrink category api's range (set categories.api.ranges: [[251, 300]]), or shrink category web's range (set categories.web.ranges: [[100, 200], [150, 249]])"
  ]
]);
  });

  test('bands of one host overlap; bands of another host (scope) may reuse the numbers', () => {
    expect(rangeFindings({ environments: { prod: { range: [20000, 20999] }, dev: { range: [20500, 21500] }, lab: { range: [20000, 20999], scope: 'lab' } } })).toEqual([
  [
    "range-overlap",
    "band 20000-20999 of environment prod overlaps band 20500-21500 of environment dev (shared ports 20500-20999)",
    {
      "registry": "r",
      "environment": "prod",
      "port": 20500,
      "other": "band dev",
      "path": "environments.dev.range"
    },
    "make the ranges disjoint: shrink band dev's range (set environments.dev.range: [21000, 21500]), or shrink band prod's range (set environments.prod.range: [20000, 20499]), or give environment dev a scope of its own (set environments.dev.scope: dev) if it runs on other hosts"
  ]
]);
  });
});

describe('name rules, finding by finding', () => {
  const errors = (spec: Partial<RegistrySpec>) => checkRegistry({ name: 'r', environments: { production: { range: [20000, 20999] } }, services: {}, ...spec }).findings
    .filter(f => f.severity === 'error').map(f => [f.rule, f.message, f.where, f.fix]);

  test('names of 63 characters are labels, of 64 not: environment names and namespaces (the default namespace is registry-environment)', () => {
    expect(errors({ environments: { ['e'.repeat(63)]: { range: [20000, 20099] }, ['f'.repeat(64)]: { range: [20100, 20199], namespace: 'n'.repeat(64) } } })).toEqual([
  [
    "namespace-name",
    "namespace \"r-eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee\" of environment eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee is 65 characters long; the limit is 63",
    {
      "registry": "r",
      "environment": "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee",
      "path": "environments.eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee.namespace"
    },
    "use \"r-eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee\""
  ],
  [
    "namespace-name",
    "environment name \"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\" is 64 characters long; the limit is 63; it is used in namespaces, file names and labels",
    {
      "registry": "r",
      "environment": "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
      "path": "environments.ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
    },
    "rename it to \"fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\""
  ],
  [
    "namespace-name",
    "namespace \"nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn\" of environment ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff is 64 characters long; the limit is 63",
    {
      "registry": "r",
      "environment": "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
      "path": "environments.ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff.namespace"
    },
    "use \"nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn\""
  ]
]);
  });

  test('port names of 15 characters are IANA service names, of 16 not; the fix offers one that is', () => {
    expect(errors({ services: { api: { ports: { ['p'.repeat(15)]: { offset: 1 }, ['q'.repeat(16)]: { offset: 2 }, 'Web_UI': { offset: 3 } } } } })).toEqual([
  [
    "port-name",
    "port name \"qqqqqqqqqqqqqqqq\" of api is 16 characters long; the limit is 15 (Kubernetes port names are IANA service names)",
    {
      "registry": "r",
      "service": "api",
      "portName": "qqqqqqqqqqqqqqqq",
      "path": "services.api.ports.qqqqqqqqqqqqqqqq"
    },
    "rename it to \"qqqqqqqqqqqqqqq\""
  ],
  [
    "port-name",
    "port name \"Web_UI\" of api must be lowercase letters, digits and \"-\", and not start or end with \"-\" (Kubernetes port names are IANA service names)",
    {
      "registry": "r",
      "service": "api",
      "portName": "Web_UI",
      "path": "services.api.ports.Web_UI"
    },
    "rename it to \"web-ui\""
  ]
]);
  });

  test('service names: the fix offers a DNS-1035 label (lowercase, no leading digit, no doubled or trailing dash, at most 63, never empty)', () => {
    expect(errors({ services: { 'My_Service--X-': { ports: { http: { offset: 1 } } }, '9lives': { ports: { http: { offset: 2 } } }, '---': { ports: { http: { offset: 3 } } }, ['b-'.repeat(40)]: { ports: { http: { offset: 4 } } } } })).toEqual([
  [
    "service-name",
    "service name \"My_Service--X-\" must be lowercase letters, digits and \"-\", start with a letter and end with a letter or digit (Kubernetes Service names are DNS-1035 labels)",
    {
      "registry": "r",
      "service": "My_Service--X-",
      "path": "services.My_Service--X-"
    },
    "rename it to \"my-service-x\""
  ],
  [
    "service-name",
    "service name \"9lives\" must be lowercase letters, digits and \"-\", start with a letter and end with a letter or digit (Kubernetes Service names are DNS-1035 labels)",
    {
      "registry": "r",
      "service": "9lives",
      "path": "services.9lives"
    },
    "rename it to \"lives\""
  ],
  [
    "service-name",
    "service name \"---\" must be lowercase letters, digits and \"-\", start with a letter and end with a letter or digit (Kubernetes Service names are DNS-1035 labels)",
    {
      "registry": "r",
      "service": "---",
      "path": "services.---"
    },
    "rename it to \"svc\""
  ],
  [
    "service-name",
    "service name \"b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-\" is 80 characters long; the limit is 63 (Kubernetes Service names are DNS-1035 labels)",
    {
      "registry": "r",
      "service": "b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-",
      "path": "services.b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-"
    },
    "rename it to \"b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b\""
  ]
]);
  });

  test('two externals generating one variable: the finding names both ports', () => {
    expect(errors({ externals: { 'db-main': { ports: { pg: { port: 5432 } } }, db: { ports: { 'main-pg': { port: 5433 } } } } })).toEqual([
  [
    "env-var-collision",
    "db.main-pg and db-main.pg both generate the variable DB_MAIN_PG_PORT",
    {
      "registry": "r",
      "service": "db",
      "portName": "main-pg",
      "other": "db-main.pg",
      "path": "externals.db.ports.main-pg"
    },
    "rename the port or the service so that db.main-pg and db-main.pg differ in more than punctuation"
  ]
]);
  });

  test('a service without ports is a client only (a queue worker): no error; an external without ports is a schema error; a public service without ports is an invalid value', () => {
    expect(errors({ services: { empty: { ports: {} } } })).toEqual([]);
    expect(errors({ externals: { nothing: { cidrs: ['10.0.0.5/32'], ports: {} } } }).map(f => [f[0], f[1]])).toEqual([['schema', 'nothing declares no ports']]);
    expect(errors({ services: { empty: { public: true, ports: {} } } }).map(f => [f[0], f[1]])).toEqual([['invalid-value', 'empty is public but has no ports: nothing of it can be reached']]);
  });

  test('a name declared as a service and as an external is one duplicate-service error on the external', () => {
    expect(errors({ services: { db: { ports: { pg: { offset: 1 } } } }, externals: { db: { ports: { pg: { port: 5432 } } } } }).filter(f => f[0] === 'duplicate-service')).toEqual([
  [
    "duplicate-service",
    "\"db\" is declared twice (as services and as externals)",
    {
      "registry": "r",
      "service": "db",
      "path": "externals.db"
    },
    "give one of them another name"
  ]
]);
    // Its ports generate the same variables as the service's: that is the same mistake, not a second one.
    expect(errors({ services: { db: { ports: { pg: { offset: 1 } } } }, externals: { db: { ports: { pg: { port: 5432 } } } } }).map(f => f[0])).toEqual(['duplicate-service']);
  });
});

test('an invalid value is quoted on one line, line and paragraph separators included', () => {
  const r = checkRegistry(variant(s => { s.services.api.description = 'the api\u2028second line\u2029third\nfourth'; }));
  const [f] = r.findings.filter(x => x.rule === 'invalid-value');
  expect(f.message).toContain('"the api\\u2028second line\\u2029third\\nfourth"');
  expect(f.message).not.toMatch(/[\n\u2028\u2029]/);
});

test('an unknown environment named by a waiver without a service: where holds no service key at all', () => {
  const r = checkRegistry(variant(s => { s.waivers = [{ rule: 'collision', environment: 'qa', reason: 'r' }]; }));
  const f = r.findings.find(x => x.rule === 'unknown-environment')!;
  expect(f.where).toStrictEqual({ registry: 'acme', environment: 'qa', path: 'waivers[0]' });
});

test('per-environment port maps beside plain numbers: only the maps name environments', () => {
  const r = checkRegistry(variant(s => {
    s.services.api.ports.http = { port: { production: 8110, qa: 9110 }, targetPort: 8080, nodePort: { production: 30080 } };
    s.services.api.ports.admin = { port: { production: 8120, development: 9120 } };
  }));
  expect(r.findings.filter(x => x.rule === 'unknown-environment').map(x => x.where.path)).toEqual(['services.api.ports.http.port']);
});
