import * as fs from 'fs';
import * as path from 'path';
import { parse, parseDocument, LineCounter, isPair, isScalar, isSeq, visit } from 'yaml';
import { dump } from 'js-yaml';
import { blockLocator, fastLoad } from '../lib/file/registry-file';
import { realisticRegistry } from '../bench/generate';
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

test('the block locator finds every map key and list item of the examples where the parser puts it', () => {
  let checked = 0;
  let inLists = 0;
  const generated = dump(realisticRegistry(30), { noRefs: true, lineWidth: -1 });
  const sources = [fs.readFileSync(path.join(ROOT, 'examples', 'aura', 'ports.yaml'), 'utf8'), generated, ...files.slice(1, 40).map(f => fs.readFileSync(f, 'utf8'))];
  for (const text of sources) {
    if (fastLoad(text) === undefined) continue;
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false });
    const locate = blockLocator(text);
    /** The dotted path (`a.b[2].c`) of a node, from the visitor's trail. */
    const pathOf = (trail: readonly unknown[], last: unknown): string => {
      let out = '';
      const chain = [...trail, last];
      for (let i = 0; i < chain.length - 1; i++) {
        const node = chain[i];
        const child = chain[i + 1];
        if (isPair(node) && child !== node.key) out += `${out ? '.' : ''}${String((node.key as { value?: unknown }).value)}`;
        if (isSeq(node)) out += `[${node.items.indexOf(child as never)}]`;
      }
      return out;
    };
    const compare = (where: string, hit: { line: number; col: number } | undefined, offset: number | undefined) => {
      if (!hit || offset === undefined) return; // flow style: the slow path
      const pos = lines.linePos(offset);
      expect({ where, line: hit.line, col: hit.col }).toEqual({ where, line: pos.line, col: pos.col });
      checked++;
    };
    visit(doc, {
      Pair(_k, pair, trail) {
        if (!isScalar(pair.key) || !pair.key.range) return;
        const where = `${pathOf(trail, pair)}${pathOf(trail, pair) ? '.' : ''}${String(pair.key.value)}`;
        compare(where, locate(where), pair.key.range[0]);
      },
      Seq(_k, seq, trail) {
        seq.items.forEach((item, i) => {
          const where = `${pathOf(trail, seq)}[${i}]`;
          const before = checked;
          compare(where, locate(where), (item as { range?: [number] }).range?.[0]);
          if (checked > before) inLists++;
        });
      },
    });
  }
  expect(checked).toBeGreaterThan(300);
  expect(inLists).toBeGreaterThan(50);
});
