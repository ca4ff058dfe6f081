import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import Ajv2020 from 'ajv/dist/2020';
import { parse } from 'yaml';
import { PortsApp, PortRegistry, checkRegistry } from '../lib';
import { checkParsed } from '../lib/check/check-registry';
import { parseRegistryText } from '../lib/file/registry-file';
import { SCHEMA_FILE, schemaText } from '../scripts/write-schema';
import { cleanSpec } from './support/specs';
import { treeHashes } from './support/project';

const GOOD = `
name: shop
environments:
  production: { range: [8000, 8099] }
services:
  api:
    public: true
    ports:
      http: { offset: 10 }
`;

const findingsOf = (text: string, file = 'ports.yaml') => {
  const loaded = parseRegistryText(text, file);
  if (!loaded.spec) return loaded.findings;
  return checkRegistry(loaded.spec).findings.map(f => ({ ...f, where: { ...f.where, file: f.where.file ?? loaded.locate(f.where.path) } }));
};

test('a good file loads into the same model the constructs use', () => {
  const loaded = parseRegistryText(GOOD, 'ports.yaml');
  expect(loaded.findings).toEqual([]);
  expect(checkRegistry(loaded.spec!).allocations.map(a => a.port)).toEqual([8010]);
});

test('a misspelt key fails with file:line:column, the key path and a did-you-mean', () => {
  const text = GOOD.replace('    ports:', '    prots:');
  const [f, ...rest] = parseRegistryText(text, 'ports.yaml').findings;
  expect(rest).toEqual([]);
  expect(f).toMatchObject({ rule: 'schema', where: { service: 'api', path: 'services.api.prots', file: 'ports.yaml:8:5' } });
  expect(f.message).toMatch(/unknown key "prots" at services\.api; did you mean "ports"\?/);
});

test('a port of 70000 fails with file:line:column and the key path', () => {
  const f = findingsOf(GOOD.replace('{ offset: 10 }', '{ port: 70000 }')).find(x => x.rule === 'port-range')!;
  expect(f.where).toMatchObject({ service: 'api', port: 70000, path: 'services.api.ports.http.port', file: 'ports.yaml:9:21' });
});

test('wrong types name what was found and what is expected', () => {
  const [f] = parseRegistryText(GOOD.replace('{ offset: 10 }', '{ port: "8080/tcp" }'), 'ports.yaml').findings;
  expect(f.where).toMatchObject({ path: 'services.api.ports.http.port', file: 'ports.yaml:9:21' });
  expect(f.message).toMatch(/"8080\/tcp".*expected number or a map/);
});

test('duplicate keys are errors, in YAML and in JSON', () => {
  const yaml = parseRegistryText(`${GOOD}  api:\n    ports: { http: { offset: 11 } }\n`, 'ports.yaml').findings;
  expect(yaml[0]).toMatchObject({ rule: 'schema', where: { file: 'ports.yaml:10:3' } });
  expect(yaml[0].message).toMatch(/duplicate key/);
  const json = parseRegistryText('{ "name": "a", "name": "b", "services": {} }', 'ports.json').findings;
  expect(json[0]).toMatchObject({ rule: 'schema', where: { file: 'ports.json:1:16' } });
});

test('JSON files read like YAML files, with positions', () => {
  const json = JSON.stringify({ name: 'shop', environments: { production: { range: [8000, 8099] } }, services: { api: { public: true, ports: { http: { port: 70000 } } } } }, null, 2);
  const f = findingsOf(json, 'ports.json').find(x => x.rule === 'port-range')!;
  expect(f.where.file).toMatch(/^ports\.json:\d+:\d+$/);
});

test.each([
  ['an empty file', '', /is empty/],
  ['a binary file', 'name: a\u0000\u0001', /binary/],
  ['a YAML alias bomb', 'a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n', /alias/i],
  ['malformed YAML', 'name: [unclosed\n', /invalid YAML\/JSON/],
  ['a list at the top', '- a\n- b\n', /mapping/],
  ['a file over 5 MB', `name: x\n# ${'x'.repeat(6 * 1024 * 1024)}\n`, /larger than 5 MB/],
])('%s is a schema finding, not a crash', (_what, text, message) => {
  const findings = parseRegistryText(text, 'ports.yaml').findings;
  expect(findings.length).toBeGreaterThan(0);
  expect(findings[0].rule).toBe('schema');
  expect(findings[0].message).toMatch(message);
});

test('the committed JSON Schema is the one generated from the zod model, and the examples validate against it', () => {
  expect(fs.readFileSync(SCHEMA_FILE, 'utf8')).toBe(schemaText());
  const validate = new Ajv2020({ strict: false }).compile(JSON.parse(schemaText()));
  expect(validate(parse(fs.readFileSync(path.join(__dirname, '..', 'examples', 'aura', 'ports.yaml'), 'utf8')))).toBe(true);
  expect(validate(cleanSpec())).toBe(true);
  expect(validate(parse(GOOD.replace('    ports:', '    prots:')))).toBe(false);
});

describe('a registry file in an app', () => {
  const project = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-file-'));
    fs.writeFileSync(path.join(dir, 'ports.yaml'), GOOD);
    return dir;
  };
  const synth = (dir: string) => {
    const app = new PortsApp({ manifestsDir: path.join(dir, 'manifests'), outdir: path.join(dir, 'staging'), lockFile: path.join(dir, 'lock.json') });
    PortRegistry.fromFile(app, 'shop', path.join(dir, 'ports.yaml'));
    return app.trySynth();
  };

  test('synthesizes like a TypeScript registry', () => {
    const dir = project();
    const result = synth(dir);
    expect(result.ok).toBe(true);
    expect(fs.readFileSync(path.join(dir, 'manifests', 'k8s', 'shop-production.k8s.yaml'), 'utf8')).toMatch(/port: 8010/);
  });

  test.each([
    ['a misspelt key', (t: string) => t.replace('    ports:', '    prots:'), /:8:5$/],
    ['a port of 70000', (t: string) => t.replace('{ offset: 10 }', '{ port: 70000 }'), /:9:21$/],
  ])('%s fails the synth with file:line:column and writes nothing', (_what, edit, position) => {
    const dir = project();
    expect(synth(dir).ok).toBe(true);
    const before = treeHashes(path.join(dir, 'manifests'));
    fs.writeFileSync(path.join(dir, 'ports.yaml'), edit(GOOD));
    const result = synth(dir);
    expect(result.ok).toBe(false);
    expect(result.findings[0].where.file).toMatch(position);
    expect(result.findings[0].where.file).toContain('ports.yaml');
    expect(treeHashes(path.join(dir, 'manifests'))).toEqual(before);
  });

  test('a missing file is a finding', () => {
    const app = new PortsApp({ manifestsDir: path.join(os.tmpdir(), 'never-written') });
    PortRegistry.fromFile(app, 'shop', '/nonexistent/ports.yaml');
    const result = app.trySynth();
    expect(result.ok).toBe(false);
    expect(result.findings[0].message).toMatch(/does not exist/);
  });
});

test('a registry file and the same registry in TypeScript resolve identically', () => {
  const fromFile = parseRegistryText(JSON.stringify(cleanSpec(), null, 2), 'ports.json').spec!;
  const a = checkRegistry(fromFile);
  const b = checkRegistry(cleanSpec());
  expect(a.allocations).toEqual(b.allocations);
  expect(a.findings).toEqual(b.findings);
});

test('a loaded file is checked without a second schema pass, with the same findings as a full check', () => {
  const dir = path.join(__dirname, 'fixtures', 'bad');
  const files = [
    ...fs.readdirSync(dir).filter(f => /\.(ya?ml|json)$/.test(f) && f !== 'expectations.json').map(f => path.join(dir, f)),
    path.join(__dirname, '..', 'examples', 'aura', 'ports.yaml'),
  ];
  let compared = 0;
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf8');
    const loaded = parseRegistryText(text, path.basename(file), undefined, 'fallback');
    if (!loaded.spec || loaded.spec.extends !== undefined) continue;
    const { extends: _base, ...spec } = loaded.spec;
    const once = checkParsed(spec);
    const twice = checkRegistry(spec);
    expect({ file, findings: once.findings, allocations: once.allocations }).toEqual({ file, findings: twice.findings, allocations: twice.allocations });
    compared++;
  }
  expect(compared).toBeGreaterThan(40);
});
