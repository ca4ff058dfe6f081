import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import { fastLoad } from '../lib/file/registry-file';
import { ROOT } from './support/project';

/**
 * Registry files load on a fast path (js-yaml, linear) and are re-parsed with positions only when
 * needed. The fast path must read every file exactly as the position-keeping parser does, and the
 * block locator must find every key where the parser puts it.
 */
const files = [
  path.join(ROOT, 'examples', 'aura', 'ports.yaml'),
  ...fs.readdirSync(path.join(ROOT, 'test', 'fixtures', 'bad')).filter(f => /\.(ya?ml|json)$/.test(f) && f !== 'expectations.json')
    .map(f => path.join(ROOT, 'test', 'fixtures', 'bad', f)),
];

test.each(files.map(f => [path.relative(ROOT, f), f]))('%s reads the same on the fast path as with positions', (_name, file) => {
  const text = fs.readFileSync(file, 'utf8');
  const fast = fastLoad(text);
  if (fast === undefined) return; // left to the slow path (aliases, tags, duplicates, syntax errors …)
  expect(fast).toEqual(parse(text, { uniqueKeys: false }));
});

test('most of the corpus takes the fast path (the test above is not vacuous)', () => {
  const taken = files.filter(f => fastLoad(fs.readFileSync(f, 'utf8')) !== undefined).length;
  expect(taken).toBeGreaterThan(files.length / 2);
});

test('anchors and aliases load on the fast path as the slow path reads them; an alias bomb does not', () => {
  const shared = 'environments:\n  production: { range: &band [8000, 8099] }\n  staging: { range: *band, scope: s }\nnote: R&D * 2\n';
  expect(fastLoad(shared)).toEqual(parse(shared));
  const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]', ...'bcdef'.split('').map((n, i) => `${n}: &${n} [${Array(9).fill(`*${'abcdef'[i]}`).join(', ')}]`)].join('\n');
  expect(fastLoad(bomb)).toBeUndefined();
});

test('duplicate keys, merge keys, tags and __proto__ are left to the slow path', () => {
  for (const text of ['a: 1\na: 2\n', 'a: { <<: { b: 1 } }\n', 'a: !!str 1\n', '__proto__: 1\n', 'a: 0b101\n', 'a: [\n']) {
    expect(fastLoad(text)).toBeUndefined();
  }
});
