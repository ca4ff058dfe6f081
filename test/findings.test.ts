import fc from 'fast-check';
import { checkRegistry } from '../lib';
import { resolve } from '../lib/check/pipeline';
import { variant } from './support/specs';

/** What a finding says: one culprit, one finding; the real cause and the real fixes. */

test('a port with a collision gets no de-facto warning restating it; the error carries it as context', () => {
  const r = checkRegistry(variant(s => {
    s.environments = { production: { range: [8000, 8199] } };
    s.services.api.ports.http = { port: 8080 };
    s.services.worker.ports.metrics = { port: 8080 };
  }));
  const onWorker = r.findings.filter(f => f.where.service === 'worker');
  expect(onWorker.map(f => f.rule)).toEqual(['collision']);
  expect(onWorker[0].message).toMatch(/already taken by api\.http .*; it is also the default port of/);
  expect(onWorker[0].fix).toMatch(/the next free port is \d+/);
  // The holder itself still gets its de-facto warning: nothing else says it.
  expect(r.findings.filter(f => f.where.service === 'api').map(f => f.rule)).toEqual(['defacto-port']);
});

test('a service on one port in two environments of one scope is told what is going on, with the real fixes', () => {
  const r = checkRegistry(variant(s => { s.services.worker.ports.metrics = { port: 8150 }; }));
  const self = r.findings.filter(f => f.rule === 'collision');
  expect(self).toHaveLength(1);
  expect(self[0].message).toBe('worker.metrics runs in production and development, which share a host (scope default), and its port 8150/TCP would be the same in both');
  expect(self[0].fix).toMatch(/different scopes .*environments: \[production\].*port: \{ production: 8150, development: <another port> \}/);
  expect(self[0].fix).not.toMatch(/widen/);
});

test('outside-category says which category the port does lie in, or lists the ranges it could go in', () => {
  const inAnother = checkRegistry(variant(s => {
    s.categories = { infra: { ranges: [[5400, 5499]] }, monitoring: { ranges: [[3000, 3099]] } };
    s.externals.db.ports.main.port = 3005;
  })).findings.find(f => f.rule === 'outside-category')!;
  expect(inAnother.message).toMatch(/outside category infra \(5400-5499\); it lies in category monitoring \(3000-3099\)/);
  expect(inAnother.fix).toMatch(/set externals\.db\.category: monitoring if that is what db is, or .*the next free port is 5400/);

  const inNone = checkRegistry(variant(s => {
    s.categories = { infra: { ranges: [[5400, 5499]] }, monitoring: { ranges: [[3000, 3099]] }, later: { ranges: [[3100, 3199]], reserved: true } };
    s.externals.db.ports.main.port = 7000;
  })).findings.find(f => f.rule === 'outside-category')!;
  expect(inNone.message).toMatch(/it lies in no category's range \(the others: monitoring 3000-3099\)/);
});

test("a fix for another team's external is a waiver agreed with its owner, or a request to them, never just a port", () => {
  const r = checkRegistry(variant(s => {
    s.externals.db.owner = 'the data team';
    s.externals.db.ports.main.port = 5500;
  }));
  const f = r.findings.find(x => x.rule === 'outside-category')!;
  expect(f.fix).toMatch(/^db is an external endpoint: its port is the data team's to choose\. Agree with them and record a waiver \(waivers: \[\{ rule: outside-category, service: db, reason: "agreed with the data team" \}\]\), or ask them to move it into 5400-5499: the next free port is 5400$/);
  // A registry written in TypeScript is told the waiver in its own syntax.
  const code = resolve({ spec: variant(s => {
    s.externals.db.owner = 'the data team';
    s.externals.db.ports.main.port = 5500;
  }), syntax: 'code' }).findings.find(x => x.rule === 'outside-category')!;
  expect(code.fix).toMatch(/^db is an external endpoint: its port is the data team's to choose\. Agree with them and record a waiver \(registry\.waive\(\{ rule: 'outside-category', service: 'db', reason: 'agreed with the data team' \}\)\), or ask them to /);
});

test('a CIDR that is not ADDRESS/PREFIX, or whose prefix is too long, is one invalid-cidr naming it, for externals and public services', () => {
  const errors = (edit: (s: any) => void) => checkRegistry(variant(edit)).findings.filter(f => f.severity === 'error')
    .map(f => [f.rule, f.message, f.where.service, f.where.path, f.fix]);
  for (const cidr of ['10.0.0.0', 'x/8', '10.0.0.0/8/9', '10.0.0.0/abc', '10.0.0.0/0008', '10.0.0.0/']) {
    expect(errors(s => { s.externals.db.cidrs = [cidr]; })).toEqual([
      ['invalid-cidr', `CIDR "${cidr}" of external db is not ADDRESS/PREFIX`, 'db', 'externals.db.cidrs', 'write it like 10.0.0.5/32'],
    ]);
  }
  expect(errors(s => { s.externals.db.cidrs = ['10.0.0.0/33']; })).toEqual([
    ['invalid-cidr', 'CIDR "10.0.0.0/33" of external db has a prefix longer than 32', 'db', 'externals.db.cidrs', 'write it like 10.0.0.5/32'],
  ]);
  expect(errors(s => { s.externals.db.cidrs = ['2001:db8::/129']; })).toEqual([
    ['invalid-cidr', 'CIDR "2001:db8::/129" of external db has a prefix longer than 128', 'db', 'externals.db.cidrs', 'write it like 10.0.0.5/32'],
  ]);
  expect(errors(s => { s.externals.db.cidrs = ['10.0.0.0/32', '2001:db8::/128', '0.0.0.0/0']; })).toEqual([]);
  expect(errors(s => { s.services.api.public = { cidrs: ['203.0.113.0', '203.0.113.0/24'] }; })).toEqual([
    ['invalid-cidr', 'public CIDR "203.0.113.0" of api is not ADDRESS/PREFIX', 'api', 'services.api.public.cidrs', 'write it like 203.0.113.0/24'],
  ]);
});

test('an unknown environment is named with where it was written, and the fix offers the closest name or the declared ones', () => {
  const found = (edit: (s: any) => void) => checkRegistry(variant(edit)).findings.filter(f => f.rule === 'unknown-environment')
    .map(f => [f.message, f.where.service, f.where.environment, f.where.path, f.fix]);
  expect(found(s => { s.services.api.connectsTo![1] = { to: 'worker', environment: 'prodution' }; })).toEqual([
    ['api names environment "prodution", which the registry does not declare', 'api', 'prodution', 'services.api.connectsTo[1].environment', 'did you mean "production"?'],
  ]);
  expect(found(s => { s.services.worker.environments = ['qa']; })).toEqual([
    ['worker names environment "qa", which the registry does not declare', 'worker', 'qa', 'services.worker.environments', 'declared environments: production, development'],
  ]);
});

test('selector label keys: a prefix must be a DNS subdomain of at most 253 characters, the name a label name', () => {
  const found = (key: string) => checkRegistry(variant(s => { s.services.api.selector = { [key]: 'api' }; })).findings
    .filter(f => f.rule === 'invalid-value').map(f => [f.message, f.where.service, f.where.path, f.fix]);
  const prefixProblem = (key: string) => [[`the label key of the selector of api ${JSON.stringify(key)} has a prefix that is not a DNS subdomain`, 'api', `services.api.selector.${key}`, 'use a label key such as app.kubernetes.io/name']];
  const nameProblem = (key: string) => [[`the label key of the selector of api ${JSON.stringify(key)} is not a label name (at most 63 letters, digits, "-", "_" and ".", starting and ending alphanumeric)`, 'api', `services.api.selector.${key}`, 'use a label key such as app.kubernetes.io/name']];
  for (const key of ['app', 'app.kubernetes.io/name', 'example.com/team', `${'a'.repeat(253)}/x`, 'a/b/c'.replace('a/b/c', 'a.b/c'), 'x'.repeat(63)]) {
    expect([key, found(key)]).toEqual([key, []]);
  }
  for (const key of ['Example.com/team', `${'a'.repeat(254)}/x`, '/name', 'a_b/name', 'a/b/c']) {
    expect([key, found(key)]).toEqual([key, prefixProblem(key)]);
  }
  for (const key of ['example.com/', 'example.com/-x', 'example.com/' + 'x'.repeat(64), 'x'.repeat(64), '-app', '']) {
    expect([key, found(key)]).toEqual([key, nameProblem(key)]);
  }
  const value = (v: string) => checkRegistry(variant(s => { s.services.api.selector = { app: v }; })).findings
    .filter(f => f.rule === 'invalid-value').map(f => [f.message, f.where.path, f.fix]);
  expect(value('x'.repeat(63))).toEqual([]);
  for (const v of ['x'.repeat(64), 'two words', '-api']) {
    expect(value(v)).toEqual([[`the label value of the selector of api ${JSON.stringify(v)} is not a label value (at most 63 letters, digits, "-", "_" and ".", starting and ending alphanumeric)`,
      'services.api.selector.app', 'use a label value such as my-service']]);
  }
});

test('appProtocol findings: the fix names the value to use (ws, h2c) or how to name an own protocol', () => {
  const found = (appProtocol: string) => checkRegistry(variant(s => { s.services.api.ports.http = { offset: 10, appProtocol }; })).findings
    .filter(f => f.rule.startsWith('app-protocol')).map(f => [f.rule, f.fix]);
  const own = 'use an IANA service name (http, https, postgresql …), kubernetes.io/ws, kubernetes.io/wss or kubernetes.io/h2c, or prefix your own with a domain (example.com/name)';
  expect(found('websocket')).toEqual([['app-protocol-unknown', 'use kubernetes.io/ws (or ws)']]);
  expect(found('http2')).toEqual([]); // an IANA name
  expect(found('http2-cleartext')).toEqual([['app-protocol-unknown', 'use kubernetes.io/h2c for HTTP/2 without TLS']]);
  expect(found('h2')).toEqual([['app-protocol-unknown', 'use kubernetes.io/h2c for HTTP/2 without TLS']]);
  expect(found('kubernetes.io/websocket')).toEqual([['app-protocol', own]]);
  expect(found('my-proto-x')).toEqual([['app-protocol-unknown', own]]);
  expect(found('http')).toEqual([]);
  expect(found('example.com/mine')).toEqual([]);
});

test('a chosen variable name that another chosen or generated one repeats is an env-var-collision naming both', () => {
  const found = (edit: (s: any) => void) => checkRegistry(variant(edit)).findings.filter(f => f.rule === 'env-var-collision')
    .map(f => [f.message, f.where.service, f.where.portName, f.where.other, f.where.path, f.fix]);
  // Two ports choose one name.
  expect(found(s => { s.services.api.ports.http.env = 'APP_PORT'; s.services.worker.ports.metrics.env = 'APP_PORT'; })).toEqual([
    ['the variable APP_PORT chosen for worker.metrics is also the variable of api.http', 'worker', 'metrics', 'api.http', 'services.worker.ports.metrics.env',
      'choose another name for worker.metrics (env: APP_PORT_2, say), or rename what it clashes with'],
  ]);
  // A connection chooses the name a port generates.
  expect(found(s => { s.services.api.connectsTo![0] = { ...s.services.api.connectsTo![0], env: 'WORKER_METRICS_PORT' }; })).toEqual([
    ['the variable WORKER_METRICS_PORT chosen for the connection from api to db is also the variable of worker.metrics', 'api', undefined, 'worker.metrics',
      'services.api.connectsTo[0].env', 'choose another name for the connection from api to db (env: WORKER_METRICS_PORT_2, say), or rename what it clashes with'],
    ['WORKER_METRICS_PORT is the .env variable of worker.metrics, and api also gets WORKER_METRICS_PORT for its connection to db, with another value', 'api', undefined, 'worker.metrics',
      'services.api.connectsTo', 'rename one of worker and db, or give worker.metrics its own variable (env: on the port)'],
  ]);
  // Each generated name says what generates it.
  for (const [name, what] of [['API_HTTP_PORT_ALT', 'the fallback of api.http'], ['DB_URL', 'the URL of db'], ['DATABASE_URL', 'the database alias'], ['REDIS_URL', 'the Redis alias']]) {
    expect(found(s => { s.services.worker.ports.metrics.env = name; }).map(f => f[0])).toContain(`the variable ${name} chosen for worker.metrics is also the variable of ${what}`);
  }
  // A port that chooses its name frees the one it would have generated.
  expect(found(s => { s.services.api.ports.http.env = 'WEB_PORT'; s.services.worker.ports.metrics.env = 'API_HTTP_PORT'; })).toEqual([]);
  // Two clients may choose one name for their connections: each client has its own settings.
  expect(found(s => {
    s.services.api.connectsTo![0] = { ...s.services.api.connectsTo![0], env: 'STORE' };
    s.services.worker.connectsTo = [{ to: 'db', env: 'STORE' }];
  })).toEqual([]);
});

test('a chosen name repeated by several ports names the first one each time; a port may not take a name a connection already chose', () => {
  const found = (services: any) => checkRegistry({ name: 'r', environments: { dev: { range: [8000, 8099] } }, services }).findings
    .filter(f => f.rule === 'env-var-collision').map(f => [f.message, f.where.other, f.where.path]);
  expect(found({ a: { ports: { x: { offset: 1, env: 'FOO' } } }, b: { ports: { x: { offset: 2, env: 'FOO' } } }, c: { ports: { x: { offset: 3, env: 'FOO' } } } })).toEqual([
    ['the variable FOO chosen for b.x is also the variable of a.x', 'a.x', 'services.b.ports.x.env'],
    ['the variable FOO chosen for c.x is also the variable of a.x', 'a.x', 'services.c.ports.x.env'],
  ]);
  expect(found({ a: { ports: { x: { offset: 1 } }, connectsTo: [{ to: 'b', env: 'FOO' }] }, b: { public: true, ports: { x: { offset: 2, env: 'FOO' } } } })).toEqual([
    ['the variable FOO chosen for b.x is also the variable of the connection from a to b', 'the connection from a to b', 'services.b.ports.x.env'],
  ]);
});

test('a client of two services whose names differ only in punctuation is told they give it the same variables', () => {
  // Nothing else about this client is unusual (known targets, no variables of its own), so only the stem check finds it.
  const r = checkRegistry({ name: 'r', environments: { dev: { range: [8000, 8099] } }, services: {
    c: { ports: { x: { offset: 1 } }, connectsTo: [{ to: 'a-b' }, { to: 'a_b' }] }, 'a-b': { public: true, ports: { x: { offset: 2 } } }, a_b: { ports: { y: { offset: 3 } } },
  } });
  expect(r.findings.filter(f => f.rule === 'env-var-collision').map(f => [f.message, f.where, f.fix])).toEqual([[
    'c connects to a-b and to a_b, and both give it the variable A_B_HOST', { registry: 'r', service: 'c', other: 'a-b', path: 'services.c.connectsTo[1]' },
    'rename one of a-b and a_b so their names differ in more than punctuation, or set env: on the connection for its URL']]);
});

test('a bad service or port name is offered a name that passes the rule', () => {
  const fixOf = (rule: 'service-name' | 'port-name', name: string) => checkRegistry(variant(s => {
    if (rule === 'service-name') (s.services as any)[name] = { public: true, ports: { http: { offset: 40 } } };
    else s.services.worker.ports = { [name]: { offset: 20 } } as any;
  })).findings.filter(f => f.rule === rule).map(f => f.fix);
  expect(fixOf('service-name', 'Web__API--2x--')).toEqual(['rename it to "web-api-2x"']);
  expect(fixOf('service-name', '12Worker')).toEqual(['rename it to "worker"']);
  expect(fixOf('service-name', `${'a'.repeat(62)}_bc`)).toEqual([`rename it to "${'a'.repeat(62)}"`]);
  expect(fixOf('service-name', '--')).toEqual(['rename it to "svc"']);
  expect(fixOf('port-name', 'Metrics__X--')).toEqual(['rename it to "metrics-x"']);
  expect(fixOf('port-name', 'a-very-long-port-name_x')).toEqual(['rename it to "a-very-long-por"']);
  // Whatever the name, the one offered passes the rule.
  fc.assert(fc.property(fc.string({ minLength: 1, maxLength: 80 }), name => {
    for (const rule of ['service-name', 'port-name'] as const) {
      const fix = fixOf(rule, name)[0];
      if (fix === undefined) continue;
      const offered = JSON.parse(fix.slice('rename it to '.length));
      expect([name, rule, fixOf(rule, offered)]).toEqual([name, rule, []]);
    }
  }), { numRuns: 100, seed: 7 });
});

test('a band inside another band of its host, or a category inside another category, is an overlap; the fixes are a declared sub-range or the enclosing range cut around it', () => {
  const found = (edit: (s: any) => void) => checkRegistry(variant(edit)).findings.filter(f => f.rule === 'range-overlap').map(f => [f.message, f.where, f.fix]);
  expect(found(s => { s.categories.web = { ranges: [[5000, 5999]] }; })).toEqual([['range 5400-5499 of category infra overlaps range 5000-5999 of category web (shared ports 5400-5499)',
    { registry: 'acme', port: 5400, other: 'category web', path: 'categories.web.ranges[0]' }, "make the ranges disjoint: declare infra a sub-range of web (set categories.infra.within: web), or split web's range around it (set categories.web.ranges: [[5000, 5399], [5500, 5999]])"]]);
  expect(found(s => { s.environments.staging = { range: [8120, 8130] }; })).toEqual([['band 8100-8199 of environment production overlaps band 8120-8130 of environment staging (shared ports 8120-8130)',
    { registry: 'acme', environment: 'production', port: 8120, other: 'band staging', path: 'environments.staging.range' },
    "make the ranges disjoint: give environment staging a scope of its own (set environments.staging.scope: staging) if it runs on other hosts"]]);
  // A category nested in a band is a subdivision; one partly in it is an overlap that nesting resolves.
  expect(found(s => { s.categories.web = { ranges: [[8150, 8180]] }; })).toEqual([]);
  expect(found(s => { s.categories.web = { ranges: [[8150, 8250]] }; })).toEqual([['band 8100-8199 of environment production overlaps range 8150-8250 of category web (shared ports 8150-8199)',
    { registry: 'acme', environment: 'production', port: 8150, other: 'category web', path: 'categories.web.ranges[0]' },
    "make the ranges disjoint: shrink category web's range (set categories.web.ranges: [[8200, 8250]]), or shrink band production's range (set environments.production.range: [8100, 8149]), or fit category web's range inside the band (set categories.web.ranges: [[8150, 8199]])"]]);
});

test('connection findings, more cases: environments listed in full, a planned target only, a public namespace of the registry, an unknown category, counts of services', () => {
  const all = (edit: (s: any) => void) => checkRegistry(variant(edit)).findings.map(f => [f.rule, f.message, f.where, f.fix]);
  expect(all(s => {
    s.environments.qa = { range: [7100, 7199] }; s.environments.staging = { range: [6100, 6199] };
    s.services.api.environments = ['production', 'staging']; s.services.worker.environments = ['development', 'qa'];
  })).toEqual([['dead-wiring', 'api connects to worker, but they never run in the same environment (api: production, staging; worker: development, qa)',
    { registry: 'acme', service: 'api', other: 'worker', path: 'services.api.connectsTo[1]' }, "run them in a common environment, or name the target's environment (environment: development)"]]);
  // A planned target: inactive, and nothing else about the connection.
  expect(all(s => { s.services.worker.status = 'planned'; }).map(f => f[0])).toEqual(['inactive-target']);
  expect(all(s => { s.services.api.public = { namespaces: ['acme-development'] }; })).toEqual([['cross-environment',
    'api is public to namespace acme-development, which is environment development of this registry',
    { registry: 'acme', service: 'api', environment: 'development', path: 'services.api.public' }, 'declare the clients in development as connections instead']]);
  expect(all(s => { s.services.api.category = 'infr'; })).toEqual([['unknown-category', 'api is in category "infr", which the registry does not declare',
    { registry: 'acme', service: 'api', category: 'infr', path: 'services.api.category' }, 'did you mean "infra"?']]);
  expect(all(s => { s.categories = {}; delete s.externals.db.category; s.services.api.category = 'web'; }).filter(f => f[0] === 'unknown-category').map(f => f[3]))
    .toEqual(['the registry declares no categories']);
  // no-policies counts the deployed services, and is not said when nothing is deployed or one service is public.
  const quiet = (edit: (s: any) => void) => all(s => { s.services.api.public = false; s.services.api.connectsTo = []; edit(s); }).filter(f => f[0] === 'no-policies').map(f => f[1]);
  expect(quiet(() => undefined)).toEqual(['acme declares no connections and no public service, so the NetworkPolicies it generates deny all traffic to its 2 services']);
  expect(quiet(s => { s.services.api.status = 'planned'; s.services.worker.status = 'reserved'; })).toEqual([]);
  expect(quiet(s => { s.services.worker.public = true; })).toEqual([]);
});

test('a host must be a DNS name of at most 253 characters or an IP address; a category name a DNS label', () => {
  const host = (h: string) => checkRegistry(variant(s => { s.services.api.host = h; })).findings.filter(f => f.rule === 'invalid-value')
    .map(f => [f.message, f.where.service, f.where.path, f.fix]);
  for (const ok of ['db.internal', '10.0.0.5', '2001:db8::1', `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`]) {
    expect([ok, host(ok)]).toEqual([ok, []]);
  }
  for (const h of ['Db.Internal', 'db_internal', '10.0.0.5:80', `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(62)}`]) {
    expect([h, host(h)]).toEqual([h, [[`the host of api ${JSON.stringify(h)} is neither a DNS name (lowercase letters, digits, "-" and ".") nor an IP address`,
      'api', 'services.api.host', 'use a DNS name such as db.internal or an address such as 10.0.0.5']]]);
  }
  const category = (name: string) => checkRegistry(variant(s => { s.categories = { [name]: { ranges: [[8100, 8199]] } }; })).findings
    .filter(f => f.rule === 'invalid-value').map(f => [f.message, f.where.path, f.fix]);
  expect(category('web-apps')).toEqual([]);
  expect(category('x'.repeat(63))).toEqual([]);
  for (const name of ['Web', 'web_apps', 'x'.repeat(64)]) {
    expect(category(name)).toEqual([[`the category name ${JSON.stringify(name)} is not lowercase letters, digits and "-"`, `categories.${name}`, 'rename the category']]);
  }
});

test('a registry with no connection and no public service is told its policies deny everything, with the fix in its own syntax', () => {
  const quiet = (syntax: 'code' | 'data') => resolve({ spec: { name: 'q', environments: { production: { range: [8100, 8199] } }, services: { a: { ports: { http: { offset: 1 } } } } }, syntax })
    .findings.filter(f => f.rule === 'no-policies').map(f => [f.message, f.fix]);
  expect(quiet('data')).toEqual([['q declares no connections and no public service, so the NetworkPolicies it generates deny all traffic to its 1 service',
    'declare who talks to whom (connectsTo: [{ to: <server>, port: <port> }] under each client) and what is reached from outside (public: true, or public: { namespaces: [ingress-nginx] })']]);
  expect(quiet('code')[0][1]).toBe("declare who talks to whom (client.connectsTo(server, 'port')) and what is reached from outside (public: true, or public: { namespaces: ['ingress-nginx'] })");
});

test('a connection naming an unknown environment is one unknown-environment finding, not also dead wiring', () => {
  const r = checkRegistry(variant(s => { s.services.worker.environments = ['production']; s.services.api.connectsTo![1] = { to: 'worker', environment: 'qa' }; }));
  expect(r.findings.filter(f => f.severity === 'error').map(f => [f.rule, f.where.service, f.where.environment])).toEqual([['unknown-environment', 'api', 'qa']]);
  expect(r.findings.filter(f => f.rule === 'dead-wiring')).toEqual([]);
  const dead = checkRegistry(variant(s => { s.services.worker.environments = ['production']; s.services.api.connectsTo![1] = { to: 'worker', environment: 'development' }; }));
  expect(dead.findings.filter(f => f.rule === 'dead-wiring').map(f => [f.message, f.where, f.fix])).toEqual([[
    'api connects to worker in development, where worker does not run',
    { registry: 'acme', service: 'api', environment: 'development', other: 'worker', path: 'services.api.connectsTo[1]' },
    'let worker run in development, or name an environment it runs in',
  ]]);
});

test('an unreachable service and a public namespace that is no namespace name: the findings and their fixes', () => {
  const unreachable = (syntax: 'code' | 'data') => resolve({ spec: variant(s => { s.services.api.connectsTo = [{ to: 'db' }]; }), syntax })
    .findings.filter(f => f.rule === 'unreachable').map(f => [f.message, f.where.service, f.fix]);
  expect(unreachable('data')).toEqual([['worker is not public and no service connects to it, so the default deny blocks all traffic to it', 'worker',
    'declare its clients (connectsTo: [{ to: worker }] under each client) or mark it public: true']]);
  expect(unreachable('code')[0][2]).toBe('declare its clients (client.connectsTo(worker)) or mark it public');
  const ns = checkRegistry(variant(s => { s.services.api.public = { namespaces: ['Ingress_Nginx', 'ingress-nginx'] }; })).findings
    .filter(f => f.rule === 'namespace-name').map(f => [f.message, f.where, f.fix]);
  expect(ns).toEqual([[expect.stringMatching(/^public namespace "Ingress_Nginx" of api must /), { registry: 'acme', service: 'api', path: 'services.api.public' }, 'use a namespace name']]);
});

test('outside-category says where the port lies instead, and offers that category; avoided ports and invalid NodePort ranges say what to pick', () => {
  const found = (rule: string, edit: (s: any) => void) => checkRegistry(variant(edit)).findings.filter(f => f.rule === rule).map(f => [f.message, f.fix]);
  expect(found('outside-category', s => { s.categories.cache = { ranges: [[6300, 6399]] }; s.externals.db.ports.main.port = 6379; })).toEqual([[
    'db.main (external) is on 6379, outside category infra (5400-5499); it lies in category cache (6300-6399)',
    'set externals.db.category: cache if that is what db is, or move it into 5400-5499: the next free port is 5400']]);
  expect(found('outside-category', s => { s.categories.cache = { ranges: [[6300, 6399]] }; s.externals.db.ports.main.port = 7000; })).toEqual([[
    "db.main (external) is on 7000, outside category infra (5400-5499); it lies in no category's range (the others: cache 6300-6399)",
    'move it into 5400-5499: the next free port is 5400']]);
  expect(found('outside-category', s => { s.externals.db.ports.main.port = 7000; })).toEqual([[
    'db.main (external) is on 7000, outside category infra (5400-5499)', 'move it into 5400-5499: the next free port is 5400']]);
  expect(found('avoided-port', s => { s.avoid = { ports: [{ port: 8110, reason: 'legacy' }] }; })).toEqual([[
    'api.http (production) is on 8110, an avoided port (legacy)', 'give api.http another offset from the band: the next one free in every environment it runs in is offset: 11 (port 8111 in production, port 9111 in development)']]);
  expect(found('invalid-range', s => { s.environments.production.nodePortRange = [32767, 30000]; })).toEqual([[
    'NodePort range 32767-30000 of environment production is not a valid range', 'use [first, last] with 1 <= first <= last <= 65535']]);
});

test('placement findings with several ranges, avoided ranges, bad target ports, fallback ranges and a kind that is not the default port’s, field by field', () => {
  const found = (rule: string, edit: (s: any) => void) => checkRegistry(variant(edit)).findings.filter(f => f.rule === rule).map(f => [f.message, f.fix, f.where.path, f.where.port]);
  expect(found('outside-category', s => {
    s.categories.cache = { ranges: [[6300, 6399], [6500, 6599]] }; s.categories.queue = { ranges: [[6700, 6799]] };
    s.categories.infra.ranges = [[5400, 5449], [5460, 5499]]; s.externals.db.ports.main.port = 7000;
  })).toEqual([["db.main (external) is on 7000, outside category infra (5400-5449, 5460-5499); it lies in no category's range (the others: cache 6300-6399, 6500-6599; queue 6700-6799)",
    'move it into 5400-5449, 5460-5499: the next free port is 5400', 'externals.db.ports.main', 7000]]);
  expect(found('outside-category', s => { s.categories.cache = { ranges: [[6300, 6399], [6500, 6599]] }; s.externals.db.ports.main.port = 6379; }).map(f => f[0])).toEqual([
    'db.main (external) is on 6379, outside category infra (5400-5499); it lies in category cache (6300-6399, 6500-6599)']);
  // A category that shares no port with the band: nowhere to move the port until one of them changes.
  expect(found('outside-category', s => { s.categories.web = { ranges: [[8100, 8199]] }; s.services.api.category = 'web'; s.services.api.ports.http = { offset: 91 }; })).toEqual([[
    "api.http (development) is on 9191, outside category web (8100-8199), whose ranges lie outside the band 9100-9199 of development; it lies in no category's range (the others: infra 5400-5499)",
    'move a range of category web inside 9100-9199, widen the band of development, or limit api to environments: [production]', 'services.api.ports.http', 9191]]);
  expect(found('outside-category', s => { s.categories.web = { ranges: [[7100, 7199]] }; s.categories.old = { ranges: [[9150, 9199]] }; s.services.api.category = 'web'; s.services.api.ports.http = { offset: 91 }; })
    .map(f => f[1])).toEqual(['move a range of category web inside 8100-8199 or widen the band of production',
    // old holds 9191 in development but not 8191 in production: setting it would only move the finding there.
    'move a range of category web inside 9100-9199 or widen the band of development']);
  // An avoided range is an avoided port, not a reserved category.
  const avoided = (s: any) => { s.avoid = { ranges: [{ range: [8105, 8115], reason: 'legacy' }] }; };
  expect(found('avoided-port', avoided)).toEqual([['api.http (production) is on 8110, inside an avoided range 8105-8115 (legacy)',
    'give api.http another offset from the band: the next one free in every environment it runs in is offset: 16 (port 8116 in production, port 9116 in development)', 'services.api.ports.http', 8110]]);
  expect(found('reserved-range', avoided)).toEqual([]);
  expect(found('port-range', s => { s.services.worker.ports.metrics.targetPort = 70000; })).toEqual([
    ['targetPort 70000 of worker.metrics (production) is not a port: ports are integers in 1-65535', 'use a port inside 8100-8199: the next free port is 8100', 'services.worker.ports.metrics.targetPort', 70000],
    ['targetPort 70000 of worker.metrics (development) is not a port: ports are integers in 1-65535', 'use a port inside 9100-9199: the next free port is 9100', 'services.worker.ports.metrics.targetPort', 70000],
  ]);
  expect(found('port-range', s => { s.services.worker.ports.metrics.targetPort = 8150.5; s.services.worker.environments = ['production']; })).toEqual([
    ['targetPort 8150.5 of worker.metrics (production) is not a port: ports are integers in 1-65535', 'use a port inside 8100-8199: the next free port is 8150', 'services.worker.ports.metrics.targetPort', 8150.5],
  ]);
  expect(found('fallback-range', s => {
    s.categories.web = { ranges: [[8100, 8199]], fallbackRanges: [[8190, 8194], [8196, 8199]] };
    s.services.api = { ...s.services.api, category: 'web', environments: ['production'], ports: { http: { offset: 91, fallback: 8150 } } };
  })).toEqual([
    ['api.http (production) is on 8191, inside 8190-8194, which category web keeps for fallbacks', 'give api.http another offset from the band: the next one free in every environment it runs in is offset: 95 (port 8195 in production)', 'services.api.ports.http', 8191],
    ['the fallback 8150 of api.http (production) is outside the fallback ranges of category web (8190-8194, 8196-8199)', 'give it a fallback in 8190-8194, 8196-8199',
      'services.api.ports.http.fallback', 8150],
  ]);
  // A service with a kind is not told to set one.
  expect(found('defacto-port', s => { s.services.worker.kind = 'redis'; s.services.worker.ports.metrics = { port: { production: 8080, development: 9120 } }; s.environments.production.range = [8000, 8199]; })).toEqual([[
    'worker.metrics (production) is on 8080, the default port of Tomcat, Jenkins and most HTTP alternates; one running on the same host will take it first',
    'move it within 8000-8199: the next free port is 8081', 'services.worker.ports.metrics', 8080]]);
});

test('placement and connection findings, field by field: reserved ranges, system ports, de-facto ports, inactive and unaddressed targets, dead wiring, a target without ports', () => {
  const found = (rule: string, edit: (s: any) => void) => checkRegistry(variant(edit)).findings.filter(f => f.rule === rule).map(f => [f.message, f.where, f.fix]);
  expect(found('reserved-range', s => { s.categories.old = { ranges: [[8105, 8115]], reserved: true, description: 'the old gateway' }; })).toEqual([[
    'api.http (production) is on 8110, inside reserved category old 8105-8115 (the old gateway)',
    { registry: 'acme', service: 'api', environment: 'production', portName: 'http', port: 8110, path: 'services.api.ports.http', category: 'old' },
    'give api.http another offset from the band: the next one free in every environment it runs in is offset: 16 (port 8116 in production, port 9116 in development); or, if 8110 is meant to stay api\'s, keep it out of the reserved range: set categories.old.ranges: [[8105, 8109], [8111, 8115]]']]);
  // The split applies as written and leaves no reserved-range finding.
  expect(found('reserved-range', s => { s.categories.old = { ranges: [[8105, 8109], [8111, 8115]], reserved: true, description: 'the old gateway' }; })).toEqual([]);
  // A port declared in the reserved category itself: the category is what to change (no port inside it is offered).
  expect(found('reserved-range', s => { s.categories.old = { ranges: [[8105, 8115]], reserved: true }; s.services.api.category = 'old'; }).map(f => [f[0], f[2]])).toContainEqual([
    'api.http (production) is on 8110, inside reserved category old 8105-8115',
    'a reserved category is kept free: remove reserved: true from category old if api belongs there, or give api.http another category']);
  expect(found('privileged-port', s => { s.externals.db.ports.main.port = 443; s.categories.infra.ranges = [[400, 5499]]; })).toEqual([[
    'db.main (external) is on 443, a system port that needs privileges to bind',
    { registry: 'acme', service: 'db', environment: 'production', portName: 'main', port: 443, path: 'externals.db.ports.main' },
    'add privileged: true to the port if this is intended, or move it into 400-5499: the next free port is 1024']]);
  expect(found('defacto-port', s => { s.services.worker.ports.metrics = { port: { production: 8080, development: 9120 } }; s.environments.production.range = [8000, 8199]; })).toEqual([[
    'worker.metrics (production) is on 8080, the default port of Tomcat, Jenkins and most HTTP alternates; one running on the same host will take it first (set kind if this service is one of them: jenkins, concourse, argocd, dozzle …)',
    { registry: 'acme', service: 'worker', environment: 'production', portName: 'metrics', port: 8080, path: 'services.worker.ports.metrics' },
    'set kind to the server worker is if it is one of them (kind: jenkins …), or move it within 8000-8199: the next free port is 8081']]);
  expect(found('inactive-target', s => { s.services.worker.status = 'planned'; })).toEqual([[
    'api connects to worker, which is planned and not deployed', { registry: 'acme', service: 'api', other: 'worker', path: 'services.api.connectsTo[1]' },
    'drop the connection until worker is active, or make worker active']]);
  // Two clients of one external without an address: one finding, on the external.
  expect(found('external-unaddressed', s => { delete s.externals.db.cidrs; s.services.worker.connectsTo = [{ to: 'db' }]; })).toEqual([[
    'api connects to external db, but db declares neither cidrs nor namespace, so no egress policy can allow the traffic and the default deny would block it',
    { registry: 'acme', service: 'db', other: 'api', path: 'externals.db' }, "add cidrs: ['<address>/32'] or namespace: '<namespace>' to db"]]);
  expect(found('dead-wiring', s => { s.services.api.environments = ['production']; s.services.worker.environments = ['development']; })).toEqual([[
    'api connects to worker, but they never run in the same environment (api: production; worker: development)',
    { registry: 'acme', service: 'api', other: 'worker', path: 'services.api.connectsTo[1]' },
    "run them in a common environment, or name the target's environment (environment: development)"]]);
  expect(found('dead-wiring', s => { s.environments = { production: s.environments.production }; s.services.worker.status = 'dev-only'; }).map(f => [f[0], f[2]])).toEqual([[
    'api connects to worker, but they never run in the same environment (api: production; worker: none)',
    "run them in a common environment, or name the target's environment (environment: <environment>)"]]);
  expect(found('unknown-port', s => { s.services.worker.ports = {}; s.services.api.connectsTo![1] = { to: 'worker', port: 'x' }; })).toEqual([[
    'the connection from api to worker names port "x", which worker does not declare',
    { registry: 'acme', service: 'api', other: 'worker', portName: 'x', path: 'services.api.connectsTo[1]' }, "name one of worker's ports: (none)"]]);
});

test('invalid values, field by field: the registry name, namespaces, one-line texts, images, compose names, namespaces of externals, host IPs, empty selectors', () => {
  const found = (edit: (s: any) => void, rules = ['invalid-value']) => checkRegistry(variant(edit)).findings.filter(f => rules.includes(f.rule)).map(f => [f.message, f.where, f.fix]);
  const oneLine = 'write it on one line, without control characters';
  for (const name of ['Acme_Corp', 'a'.repeat(64)]) {
    expect(found(s => { s.name = name; })).toEqual([[`the registry name ${JSON.stringify(name)} is not a DNS-1123 label (it is written into labels, file names and headers)`,
      { registry: name, path: 'name' }, 'use lowercase letters, digits and "-", at most 63 characters']]);
  }
  expect(found(s => { s.name = 'a'.repeat(63); })).toEqual([]);
  expect(found(s => { s.environments.development.namespace = 'acme-production'; }, ['namespace-shared', 'namespace-name'])).toEqual([[
    'environments production and development are both in namespace acme-production: their objects would overwrite each other and their pods reach each other',
    { registry: 'acme', environment: 'development', other: 'production', path: 'environments.development.namespace' }, 'give development a namespace of its own (namespace: acme-development)']]);
  expect(found(s => { s.environments.development.namespace = 'kube-system'; }, ['namespace-shared', 'namespace-name'])).toEqual([[
    'environment development uses namespace kube-system, which the cluster keeps for itself: a default deny there would break the cluster (DNS, controllers)',
    { registry: 'acme', environment: 'development', path: 'environments.development.namespace' }, 'give development a namespace of its own (namespace: acme-development)']]);
  expect(found(s => { s.categories.infra.description = 'a\nb'; s.categories.infra.owner = 'x\u0007'; s.waivers = [{ rule: 'collision', service: 'api', reason: 'r\nx' }]; })).toEqual([
    ['the description "a\\nb" contains a line break or control character', { registry: 'acme', path: 'categories.infra.description' }, oneLine],
    ['the owner "x\\u0007" contains a line break or control character', { registry: 'acme', path: 'categories.infra.owner' }, oneLine],
    ['the reason "r\\nx" contains a line break or control character', { registry: 'acme', path: 'waivers[0].reason' }, oneLine],
  ]);
  expect(found(s => { s.services.api.description = 'd\r'; s.services.worker.healthCheck = '/h\n'; s.externals.db.kind = 'pg\t'; s.externals.db.owner = 'ok'; })).toEqual([
    ['the description of api "d\\r" contains a line break or control character', { registry: 'acme', service: 'api', path: 'services.api.description' }, oneLine],
    ['the health check of worker "/h\\n" contains a line break or control character', { registry: 'acme', service: 'worker', path: 'services.worker.healthCheck' }, oneLine],
    ['the kind of db "pg\\t" contains a line break or control character', { registry: 'acme', service: 'db', path: 'externals.db.kind' }, oneLine],
  ]);
  expect(found(s => { s.services.api.image = 'Ghcr.io/Acme/API:1'; s.services.worker.image = 'ghcr.io/acme/worker:1.4'; })).toEqual([[
    'the image of api "Ghcr.io/Acme/API:1" is not an image reference', { registry: 'acme', service: 'api', path: 'services.api.image' },
    'use registry/name:tag, e.g. postgres:16 or ghcr.io/acme/api:1.4']]);
  expect(found(s => { s.services.api.composeName = '-api'; s.services.worker.composeName = 'worker_1.x'; })).toEqual([[
    'the compose name of api "-api" is not a compose service name', { registry: 'acme', service: 'api', path: 'services.api.composeName' }, 'use letters, digits, "_", "." and "-"']]);
  expect(found(s => { s.services.api.composeName = 'web!'; }).map(f => f[0])).toEqual(['the compose name of api "web!" is not a compose service name']);
  for (const ns of ['Data_Bases', 'd'.repeat(64)]) {
    expect(found(s => { s.externals.db.namespace = ns; })).toEqual([[`the namespace of db ${JSON.stringify(ns)} is not a DNS-1123 label`,
      { registry: 'acme', service: 'db', path: 'externals.db.namespace' }, "use the namespace's name"]]);
  }
  expect(found(s => { s.externals.db.namespace = 'd'.repeat(63); })).toEqual([]);
  expect(found(s => { s.services.api.ports.http.hostIp = 'localhost'; s.services.worker.ports.metrics.hostIp = '127.0.0.1'; })).toEqual([[
    'the hostIp of api.http "localhost" is not an IP address', { registry: 'acme', service: 'api', path: 'services.api.ports.http.hostIp' }, 'use an address such as 127.0.0.1']]);
  expect(found(s => { s.services.api.selector = {}; s.externals.db.podSelector = {}; s.externals.db.namespace = 'data'; })).toEqual([
    ['the selector of api {} is empty, so it would select every pod of the namespace', { registry: 'acme', service: 'api', path: 'services.api.selector' }, 'give it at least one label, e.g. { app.kubernetes.io/name: <name> }'],
    ['the podSelector of db {} is empty, so it would select every pod of the namespace', { registry: 'acme', service: 'db', path: 'externals.db.podSelector' }, 'give it at least one label, e.g. { app.kubernetes.io/name: <name> }'],
  ]);
});

test('references, field by field: a port-less connection to a target with two or no ports, an unknown target with no close name, waivers naming unknown rules or environments', () => {
  const found = (rules: string[], edit: (s: any) => void) => checkRegistry(variant(edit)).findings.filter(f => rules.includes(f.rule)).map(f => [f.message, f.where, f.fix]);
  const where = { registry: 'acme', service: 'api', other: 'worker', path: 'services.api.connectsTo[1]' };
  expect(found(['unknown-port'], s => { s.services.worker.ports.grpc = { offset: 21 }; })).toEqual([
    ['the connection from api to worker names no port and worker has 2 ports', where, "name one of worker's ports: metrics, grpc"]]);
  expect(found(['unknown-port'], s => { s.services.worker.ports = {}; })).toEqual([
    ['the connection from api to worker names no port and worker has 0 ports', where, "name one of worker's ports: (none)"]]);
  expect(found(['unknown-service'], s => { s.services.api.connectsTo![1] = { to: 'zzzzqqq' }; })).toEqual([
    ['api connects to "zzzzqqq", which the registry does not declare', { ...where, other: 'zzzzqqq' }, 'declared services: api, worker, db']]);
  const waivers = found(['schema', 'unknown-environment'], s => {
    s.waivers = [{ rule: 'colision', service: 'api', reason: 'x' }, { rule: 'nothing-like-this', reason: 'y' }, { rule: 'collision', service: 'api', environment: 'qa', reason: 'z' }];
  });
  expect(waivers.slice(0, 2)).toEqual([
    ['waiver for unknown rule "colision"', { registry: 'acme', path: 'waivers[0]' }, 'did you mean "collision"?'],
    ['waiver for unknown rule "nothing-like-this"', { registry: 'acme', path: 'waivers[1]' }, expect.stringMatching(/^declared rules: schema, port-range, .*, collision, .*waiver-invalid$/)],
  ]);
  expect(waivers.slice(2)).toEqual([
    ['the waiver for collision on api names environment "qa", which the registry does not declare', { registry: 'acme', service: 'api', environment: 'qa', path: 'waivers[2]' }, 'declared environments: production, development']]);
  // A waiver for no service in particular: no service in where.
  expect(found(['unknown-environment'], s => { s.waivers = [{ rule: 'collision', environment: 'prod', reason: 'z' }]; })).toEqual([
    ['the waiver for collision names environment "prod", which the registry does not declare', { registry: 'acme', environment: 'prod', path: 'waivers[0]' }, 'did you mean "production"?']]);
});

test('an unknown environment in a per-environment targetPort or nodePort map is named with its field', () => {
  const found = (edit: (s: any) => void) => checkRegistry(variant(edit)).findings.filter(f => f.rule === 'unknown-environment').map(f => [f.message, f.where.path]);
  expect(found(s => { s.services.worker.ports.metrics = { offset: 20, targetPort: { production: 9000, staging: 9001 } }; })).toEqual([
    ['worker names environment "staging", which the registry does not declare', 'services.worker.ports.metrics.targetPort']]);
  expect(found(s => { s.services.api.ports.http = { offset: 10, nodePort: { production: 30080, qa: 30081 } }; })).toEqual([
    ['api names environment "qa", which the registry does not declare', 'services.api.ports.http.nodePort']]);
});

test('a port whose category has no range inside its band is never offered a port: every rule says what must change first', () => {
  const r = checkRegistry({
    name: 'r', environments: { production: { range: [8100, 8199] } },
    categories: { u: { ranges: [[9000, 9099]] }, legacy: { reserved: true, ranges: [[9150, 9159]] } },
    avoid: { ports: [9010] }, defactoPorts: { 9020: { what: 'a local daemon' } },
    services: {
      a: { public: true, category: 'u', ports: { x: { port: 9010 }, y: { port: 9020 }, z: { port: 9155 }, w: { port: 80 } } },
      b: { public: true, category: 'u', ports: { x: { port: 9010 } } },
      // The same ports without a category are offered the band.
      c: { public: true, ports: { x: { port: 80 } } },
    },
  });
  const blocked = 'move a range of category u inside 8100-8199 or widen the band of production, then move the port there';
  const fixes = r.findings.filter(f => f.rule !== 'outside-category').map(f => [f.rule, `${f.where.service}.${f.where.portName}`, f.fix]);
  expect(fixes).toEqual([
    ['collision', 'b.x', blocked],
    ['collision', 'c.x', 'move c.x in production to a free port in 8100-8199: the next free port is 8100'],
    ...['a.x', 'a.y', 'a.z', 'a.w', 'b.x'].map(p => ['outside-band', p, blocked]),
    ['outside-band', 'c.x', 'move it into 8100-8199: the next free port is 8101'],
    ['avoided-port', 'a.x', blocked], ['avoided-port', 'b.x', blocked],
    ['reserved-range', 'a.z', `${blocked}; or, if 9155 is meant to stay a's, keep it out of the reserved range: set categories.legacy.ranges: [[9150, 9154], [9156, 9159]]`],
    ['privileged-port', 'a.w', `add privileged: true to the port if this is intended, or ${blocked}`],
    ['privileged-port', 'c.x', 'add privileged: true to the port if this is intended, or move it into 8100-8199: the next free port is 8102'],
    ['defacto-port', 'a.y', blocked],
  ]);
});

test('a privileged port without a band or category may move to another system port', () => {
  const r = checkRegistry({ name: 'r', environments: { production: {} }, services: {
    a: { public: true, ports: { x: { port: 80, privileged: true } } }, b: { public: true, ports: { x: { port: 80, privileged: true } } },
    c: { public: true, ports: { x: { port: 8500 } } }, d: { public: true, ports: { x: { port: 8500 } } } } });
  expect(r.findings.map(f => [f.rule, f.where.service, f.fix])).toEqual([
    ['collision', 'b', 'move b.x in production to a free port in 1-65535: the next free port is 81'],
    ['collision', 'd', 'move d.x in production to a free port in 1024-65535: the next free port is 8501'],
  ]);
});
