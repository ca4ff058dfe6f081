import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import { checkRegistry } from '../lib';
import { VENDOR_DEFAULTS, isVendorDefault, kindKey, vendorDefault } from '../lib/model/vendor-defaults';

/** A server on its own vendor's default port is that port's owner, not a de-facto conflict. */

const fixture = (name: string) => parse(fs.readFileSync(path.join(__dirname, 'fixtures/real', name), 'utf8'));
const one = (kind: string | undefined, port: number) => checkRegistry({
  name: 'lab', environments: { lab: {} }, services: { s: { ...(kind ? { kind } : {}), public: true, ports: { http: { port } } } },
}).findings;

test.each([
  ['gitea', 3000], ['docker-registry', 5000], ['registry', 5000], ['portainer', 9000], ['postgrest', 3000],
  ['logstash', 5000], ['adguard', 3000], ['AdGuardHome', 3000], ['qbittorrent', 8080], ['grafana', 3000], ['Docker_Registry', 5000],
])('%s on its own default %d has no defacto-port finding', (kind, port) => {
  expect(one(kind, port).filter(f => f.rule === 'defacto-port')).toEqual([]);
  // Without the kind, the same port is a warning that names the servers it could be.
  const anonymous = one(undefined, port).filter(f => f.rule === 'defacto-port');
  expect(anonymous).toHaveLength(1);
  expect(anonymous[0].message).toMatch(/set kind if this service is one of them: /);
});

test('a known server off its own default still warns, and is told to move', () => {
  const f = one('redis', 3000).filter(x => x.rule === 'defacto-port');
  expect(f).toHaveLength(1);
  expect(f[0].fix).toBe('move it within 1024-65535: the next free port is 3001');
});

test('an unknown kind on a de-facto port is told how to declare the owner, and the declaration it is told clears the finding', () => {
  const spec = { name: 'lab', environments: { lab: {} }, services: { s: { kind: 'ourforge', public: true, ports: { http: { port: 3000 } } } } };
  const f = checkRegistry(spec).findings.filter(x => x.rule === 'defacto-port');
  expect(f).toHaveLength(1);
  expect(f[0].fix).toBe('if s (kind ourforge) is a server whose own default is 3000, declare it the port\'s owner: ' +
    'set defactoPorts.3000: { what: "Node.js/Rails/Grafana dev servers", kinds: [grafana, ourforge] }; or move it within 1024-65535: the next free port is 3001');
  // Applied as written (the flow mapping is YAML): one entry of defactoPorts.
  const declared = parse(f[0].fix!.slice(f[0].fix!.indexOf('defactoPorts.3000: ') + 'defactoPorts.3000: '.length, f[0].fix!.indexOf('; or ')));
  expect(checkRegistry({ ...spec, defactoPorts: { 3000: declared } }).findings).toEqual([]);
});

test('the table: every kind and alias is unique, names a real port, and matches without case or separators', () => {
  const keys = VENDOR_DEFAULTS.flatMap(v => [v.kind, ...(v.aliases ?? [])]).map(kindKey);
  expect(new Set(keys).size).toBe(keys.length);
  for (const v of VENDOR_DEFAULTS) for (const p of [...v.ports, ...(v.udp ?? [])]) expect(Number.isInteger(p) && p >= 1 && p <= 65535).toBe(true);
  expect(VENDOR_DEFAULTS.length).toBeGreaterThan(60);
  expect(vendorDefault('Docker-Registry')?.ports).toEqual([5000]);
  expect(isVendorDefault('qBittorrent', 8080)).toBe(true);
  expect(isVendorDefault('qbittorrent', 3000)).toBe(false);
});

test('no fix proposes 6000 (X11)', () => {
  const r = checkRegistry({ name: 'x', environments: { dev: { range: [5990, 6010] } }, services: {
    a: { public: true, ports: { http: { port: 5995 } } }, b: { public: true, ports: { http: { port: 5995 } } },
    c: { public: true, ports: { http: { port: 6001 } } },
  }, avoid: { ranges: [[5996, 5999]] } });
  const fixes = r.findings.map(f => f.fix ?? '');
  expect(fixes.some(f => /next free port is 6002/.test(f))).toBe(true);
  expect(fixes.filter(f => /\b6000\b/.test(f))).toEqual([]);
});

test('a clean home lab of servers on their vendor defaults has no defacto-port finding', () => {
  const r = checkRegistry(fixture('home-lab.yaml'));
  expect(r.findings.filter(f => f.rule === 'defacto-port')).toEqual([]);
});

test('import reads the kind of a vendor image, so the imported registry keeps the server on its default without a warning', () => {
  const { registryFromCompose } = require('../lib/compose/import');
  const compose = [
    'services:',
    '  git: { image: "gitea/gitea:1.21", ports: ["3000:3000"] }',
    '  reg: { image: "registry:2", ports: ["5000:5000"] }',
    '  qb: { image: "lscr.io/linuxserver/qbittorrent:latest", ports: ["8080:8080"] }',
    '  app: { image: "example/app:1", ports: ["9000:9000"] }',
  ].join('\n');
  const { spec } = registryFromCompose(compose, 'lab');
  expect([spec.services.git.kind, spec.services.reg.kind, spec.services.qb.kind, spec.services.app.kind]).toEqual(['gitea', 'docker-registry', 'qbittorrent', undefined]);
  const scope = { ...spec, environments: { a: { scope: 'a' } } };
  expect(checkRegistry(scope).findings.filter(f => f.rule === 'defacto-port').map(f => f.where.service)).toEqual(['app']);
});

test('automatic allocation that steps over a well-known port says so beside the port (ports.json), and a server of that kind takes it', () => {
  const spec = (kind?: string) => ({ name: 'lab', kubernetes: false, categories: { web: { ranges: [[3000, 3099]] } },
    services: { ui: { category: 'web', ...(kind ? { kind } : {}), ports: { http: { auto: true } } } } });
  const [plain] = checkRegistry(spec()).allocations;
  expect([plain.port, plain.note]).toEqual([3001, 'automatic allocation skipped 3000 (Node.js/Rails/Grafana dev servers)']);
  const [own] = checkRegistry(spec('gitea')).allocations;
  expect([own.port, own.note]).toEqual([3000, undefined]);
});
