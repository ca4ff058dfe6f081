import * as fs from 'fs';
import * as path from 'path';
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
  expect(bad.findings.map(f => [f.rule, f.message])).toEqual([['schema', expect.stringMatching(/^environments\.prod\.range: .*a range is \[first, last\], "first-last" or "first\+"/)]]);
});

test('the JSON Schema lets editors accept the shorthand', () => {
  const schema = fs.readFileSync(path.join(__dirname, '..', 'schema', 'ports.schema.json'), 'utf8');
  expect(schema).toContain('^\\\\s*\\\\d+\\\\s*(-\\\\s*\\\\d+|\\\\+)\\\\s*$');
});
