import * as fs from 'fs';
import * as path from 'path';
import { formatFinding } from '../lib/model/format';
import { githubAnnotations } from '../lib/cli/format-output';
import { checkRegistry } from '../lib';
import { parseRegistryText } from '../lib/file/registry-file';

/** What real registries write that the format now says: range shorthand. */

test('ranges may be written as a ports document writes them: "8000-8099", "10000+", "0-1023"', () => {
  const text = [
    'name: doc', 'kubernetes: false',
    'environments:', '  prod: { range: "10000+" }',
    'categories:', '  system: { ranges: ["0-1023"], reserved: true }', '  api: { ranges: ["16000-16099", [17000, 17099]] }',
    'services:', '  a: { category: api, ports: { http: { auto: true } } }',
  ].join('\n');
  const loaded = parseRegistryText(text, 'ports.yaml');
  expect(loaded.findings).toEqual([]);
  expect(loaded.spec!.environments!.prod.range).toEqual([10000, 65535]);
  expect(loaded.spec!.categories!.system.ranges).toEqual([[1, 1023]]);
  expect(loaded.spec!.categories!.api.ranges).toEqual([[16000, 16099], [17000, 17099]]);
  const r = checkRegistry(loaded.spec);
  expect(r.findings).toEqual([]);
  expect(r.allocations.map(a => a.port)).toEqual([16000]);
  // Anything else is a schema finding that says what a range is.
  const bad = checkRegistry({ name: 'doc', environments: { prod: { range: '10000 and up' } } });
  expect(bad.findings.map(f => [f.rule, f.message])).toEqual([['schema', expect.stringMatching(/^environments\.prod\.range: .*a range is \[first, last\], "first-last", "first\+" or one port/)]]);
});

test('the JSON Schema lets editors accept the shorthand', () => {
  const schema = fs.readFileSync(path.join(__dirname, '..', 'schema', 'ports.schema.json'), 'utf8');
  expect(schema).toContain('^\\\\s*\\\\d+\\\\s*(-\\\\s*\\\\d+|\\\\+)?\\\\s*$');
});

test('a port may have its own category (a document\'s category per port), checked and allocated there', () => {
  const spec = (debugCategory: string) => ({ name: 'doc', kubernetes: false,
    categories: { api: { ranges: [[16000, 16079]] }, debug: { ranges: [[16080, 16099]] } },
    services: { gw: { category: 'api', ports: { http: { auto: true }, debug: { auto: true, category: debugCategory } } } } });
  const r = checkRegistry(spec('debug'));
  expect(r.findings).toEqual([]);
  expect(r.allocations.map(a => [a.portName, a.port, a.category])).toEqual([['http', 16000, 'api'], ['debug', 16080, 'debug']]);
  const pinned = checkRegistry({ ...spec('debug'), services: { gw: { category: 'api', ports: { debug: { port: 16001, category: 'debug' } } } } });
  expect(pinned.findings.map(f => [f.rule, f.where.portName, f.where.category])).toEqual([['outside-category', 'debug', 'debug']]);
  expect(checkRegistry(spec('debgu')).findings.filter(f => f.rule === 'unknown-category').map(f => [f.rule, f.where.path, f.fix])).toEqual([
    ['unknown-category', 'services.gw.ports.debug.category', expect.stringContaining('debug')]]);
});

test('mutually exclusive services (compose profiles, one up at a time) may share a port; others still collide', () => {
  const spec = (exclusiveWith?: string[]) => ({ name: 'doc', kubernetes: false, environments: { dev: { range: [8100, 8199] } }, services: {
    'ollama-gpu': { ports: { http: { port: 8111 } }, ...(exclusiveWith ? { exclusiveWith } : {}) },
    'ollama-cpu': { ports: { http: { port: 8111 } } },
  } });
  expect(checkRegistry(spec()).findings.map(f => f.rule)).toEqual(['collision']);
  expect(checkRegistry(spec(['ollama-cpu'])).findings).toEqual([]);
  expect(checkRegistry(spec(['ollama-cpx'])).findings.map(f => [f.rule, f.where.path])).toEqual([['unknown-service', 'services.ollama-gpu.exclusiveWith[0]'], ['collision', 'services.ollama-cpu.ports.http']]);
});

test('a known conflict with a planned fix is reported with its fix, counted, and does not fail', () => {
  const r = checkRegistry({ name: 'doc', kubernetes: false, defactoPorts: false, environments: { dev: { range: [8100, 8199] } }, services: {
    a: { ports: { http: { port: 8111 } } }, b: { ports: { http: { port: 8111 } } },
  }, waivers: [{ rule: 'collision', service: 'b', reason: 'b moves with the next release', planned: { owner: 'team-b', by: '2026-03-01' } }] });
  expect(r.ok).toBe(true);
  expect(r.findings.map(f => [f.rule, f.waived, f.planned, f.fix])).toEqual([['collision',
    'known conflict, fix planned by team-b by 2026-03-01: b moves with the next release', { owner: 'team-b', by: '2026-03-01' },
    "move b.http in dev to a free port in 8100-8199: the next free port is 8112"]]);
  // The text report shows the planned fix under the waiver (a plain waiver shows none).
  expect(formatFinding(r.findings[0]).split('\n').slice(-2)).toEqual([
    '  waived: known conflict, fix planned by team-b by 2026-03-01: b moves with the next release',
    '  fix: move b.http in dev to a free port in 8100-8199: the next free port is 8112',
  ]);
  expect(formatFinding({ ...r.findings[0], planned: undefined })).not.toContain('fix:');
  expect(githubAnnotations([{ rule: 'collision', severity: 'error', message: 'm', waived: r.findings[0].waived, planned: r.findings[0].planned, fix: r.findings[0].fix }])).toContain('%0Afix: move b.http');
  expect(checkRegistry({ name: 'doc', waivers: [{ rule: 'collision', reason: 'x', planned: { owner: 'o', by: 'March' } }] }).findings.map(f => f.rule)).toEqual(['schema']);
});

test('import: services of disjoint compose profiles publishing one port become exclusiveWith, and the registry checks clean', () => {
  const { registryFromCompose } = require('../lib/compose/import');
  const compose = [
    'services:',
    '  ollama-gpu: { image: "ollama/ollama", profiles: [gpu], ports: ["11434:11434"] }',
    '  ollama-cpu: { image: "ollama/ollama", profiles: [cpu], ports: ["11434:11434"] }',
    '  web: { image: "example/web", ports: ["8081:80"] }',
  ].join('\n');
  const { spec } = registryFromCompose(compose, 'ai');
  expect(spec.services['ollama-gpu'].exclusiveWith).toEqual(['ollama-cpu']);
  expect(spec.services.web.exclusiveWith).toBeUndefined();
  expect(checkRegistry({ ...spec, kubernetes: false }).findings.filter((f: any) => f.rule === 'collision')).toEqual([]);
});

test('a public hostname per service: checked, listed in PORTS.md, and imported from reverse-proxy labels', () => {
  const { portsMarkdown } = require('../lib/emit/ports-md');
  const spec = (hostname: string) => ({ name: 'lab', kubernetes: false, environments: { lab: {} }, services: { gitea: { kind: 'gitea', hostname, ports: { http: { port: 3000 } } } } });
  const r = checkRegistry(spec('git.example.com'));
  expect(r.findings).toEqual([]);
  expect(portsMarkdown(r)).toContain('| 3000 | gitea (git\\.example\\.com) | http |');
  expect(checkRegistry(spec('Git Example')).findings.map(f => [f.rule, f.where.path])).toEqual([['invalid-value', 'services.gitea.hostname']]);
  const { registryFromCompose } = require('../lib/compose/import');
  const { spec: imported } = registryFromCompose([
    'services:',
    '  gitea:',
    '    image: gitea/gitea:1.21',
    '    ports: ["3000:3000"]',
    '    labels: ["traefik.http.routers.gitea.rule=Host(`git.example.com`)"]',
  ].join('\n'), 'lab');
  expect(imported.services.gitea.hostname).toBe('git.example.com');
});

test('groups classify services and externals without ranges: checked, a PORTS.md column when used, imported from compose profiles', () => {
  const { portsMarkdown } = require('../lib/emit/ports-md');
  const spec = (groups: string[]) => ({ name: 'lab', kubernetes: false, environments: { lab: {} },
    services: { grafana: { kind: 'grafana', groups, ports: { http: { port: 3001 } } }, gitea: { kind: 'gitea', ports: { http: { port: 3000 } } } },
    externals: { nas: { groups: ['storage'], ports: { smb: { port: 445, privileged: true } } } } });
  const r = checkRegistry(spec(['monitoring', 'stack b']));
  expect(r.findings).toEqual([]);
  const md: string = portsMarkdown(r);
  expect(md).toContain('| port | service | port name | protocol | target | fallback | status | owner | groups | description | health check | IANA name |');
  expect(md).toMatch(/\| 3001 \| grafana \| http \| TCP \| 3001 \|  \| active \|  \| monitoring, stack b \|/);
  expect(md).toMatch(/\| 445 \| nas \(external\) \| smb \|.*\| storage \|/);
  expect(md).toMatch(/\| 3000 \| gitea[^|]* \| http \| TCP \| 3000 \|  \| active \|  \|  \|/);
  // No groups anywhere: no empty column.
  expect(portsMarkdown(checkRegistry({ ...spec([]), externals: {} }))).not.toContain('| groups |');
  // A group is one line of text, not empty.
  expect(checkRegistry(spec(['a\nb'])).findings.map(f => [f.rule, f.where.path])).toEqual([['invalid-value', 'services.grafana.groups[0]']]);
  expect(checkRegistry(spec([''])).findings.map(f => [f.rule, f.where.path])).toEqual([['schema', 'services.grafana.groups.0']]);
  const { registryFromCompose } = require('../lib/compose/import');
  const { spec: imported } = registryFromCompose([
    'services:',
    '  grafana:', '    image: grafana/grafana:10', '    ports: ["3001:3000"]', '    profiles: [monitoring, monitoring]',
    '  gitea:', '    image: gitea/gitea:1.21', '    ports: ["3000:3000"]',
  ].join('\n'), 'lab');
  expect(imported.services.grafana.groups).toEqual(['monitoring']);
  expect(imported.services.gitea.groups).toBeUndefined();
});

test('a category of one port, as a ports document lists it: `9163` or "9163" is [9163, 9163]', () => {
  const text = [
    'name: ocis', 'kubernetes: false', 'environments:', '  lab: {}',
    'categories:', '  ocdav: { ranges: ["9163"] }', '  proxy: { ranges: [9300, "9305-9309"] }',
    'services:', '  ocdav: { category: ocdav, ports: { http: { port: 9163 } } }', '  proxy: { category: proxy, ports: { http: { port: 9300 }, debug: { slot: last } } }',
  ].join('\n');
  const loaded = parseRegistryText(text, 'ports.yaml');
  expect(loaded.findings).toEqual([]);
  expect(loaded.spec!.categories!.ocdav.ranges).toEqual([[9163, 9163]]);
  expect(loaded.spec!.categories!.proxy.ranges).toEqual([[9300, 9300], [9305, 9309]]);
  const r = checkRegistry(loaded.spec);
  expect(r.findings).toEqual([]);
  expect(r.allocations.find(a => a.service === 'proxy' && a.portName === 'debug')!.port).toBe(9309);
  // A port outside the one-port category is still outside it.
  expect(checkRegistry(parseRegistryText(text.replace('port: 9163', 'port: 9164'), 'ports.yaml').spec).findings.map(f => f.rule)).toEqual(['outside-category']);
});

test('import of a real compose stack checks clean: images with compose variables, system ports the file already binds, a variable without a default named as such', () => {
  const { registryFromCompose } = require('../lib/compose/import');
  const compose = [
    'services:',
    '  caddy:', '    image: caddy:2', '    ports: ["80:80", "443:443", "443:443/udp"]', '    depends_on: [db]',
    '  db:', '    image: postgres:${POSTGRES_VERSION:-17}', '    expose: ["5432"]',
    '  vpn:', '    image: qmcgaw/gluetun', '    ports: ["${VPN_PORT}:8888"]',
  ].join('\n');
  const { spec, notes } = registryFromCompose(compose, 'stack');
  expect(spec.services.caddy.ports).toEqual({
    http: { port: 80, privileged: true }, https: { port: 443, privileged: true }, 'udp-443': { port: 443, protocol: 'UDP', privileged: true },
  });
  expect(spec.services.db).toMatchObject({ kind: expect.stringMatching(/^postgres/), image: 'postgres:${POSTGRES_VERSION:-17}' });
  expect(notes.join('\n')).toContain('give it a default (${VPN_PORT:-<port>})');
  expect(checkRegistry(spec).findings.filter(f => f.severity !== 'info')).toEqual([]);
  // An image reference is still checked, with the variables' defaults.
  expect(checkRegistry({ ...spec, services: { ...spec.services, db: { ...spec.services.db, image: 'Postgres:${V:-17}' } } }).findings.map(f => [f.rule, f.where.path]))
    .toContainEqual(['invalid-value', 'services.db.image']);
});

test('PORTS.md says of a service that it is local only on purpose and which services it never runs with', () => {
  const { portsMarkdown } = require('../lib/emit/ports-md');
  const r = checkRegistry({ name: 'ai', kubernetes: false, environments: { lab: {} }, services: {
    'ollama-gpu': { exclusiveWith: ['ollama-cpu'], ports: { api: { port: 11434 } } },
    'ollama-cpu': { exclusiveWith: ['ollama-gpu'], ports: { api: { port: 11434 } } },
    admin: { localOnly: true, hostname: 'admin.example.com', ports: { http: { port: 8081 } } },
    web: { ports: { http: { port: 8090 } } },
  } });
  expect(r.findings).toEqual([]);
  const md: string = portsMarkdown(r);
  expect(md).toContain('| 11434 | ollama-cpu (never with ollama-gpu) | api |');
  expect(md).toContain('| 11434 | ollama-gpu (never with ollama-cpu) | api |');
  expect(md).toContain('| 8081 | admin (admin\\.example\\.com, local only) | http |');
  expect(md).toContain('| 8090 | web | http |');
});
