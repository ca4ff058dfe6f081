import * as fs from 'fs';
import * as path from 'path';
import fc from 'fast-check';
import { LineCounter, isAlias, isPair, isScalar, isSeq, parseDocument, visit } from 'yaml';
import { dump } from 'js-yaml';
import { keyLocator } from '../lib/file/key-positions';
import { fastLoad } from '../lib/file/registry-file';
import { RegistryStyle, realisticRegistry, registryText, registryWithFindings } from '../bench/generate';
import { ROOT } from './support/project';

/**
 * A finding's `file:line:column` comes from one pass over the text (lib/file/key-positions.ts),
 * not from a second parse. It must put every key and list item where the position-keeping parser
 * (`yaml`) puts it, in every style users write: block, flow over one line or several, JSON,
 * anchors, quoted keys, comments, block scalars.
 */

type Pos = { line: number; col: number };
/**
 * Every key path of the text and where `yaml` puts it (the key of a map entry, the item of a
 * list), and where each scalar or alias value stands.
 */
function parserPositions(text: string): { keys: Map<string, Pos>; values: Map<string, Pos> } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false });
  const out = new Map<string, Pos>();
  const values = new Map<string, Pos>();
  const putValue = (where: string, node: unknown) => {
    if ((isScalar(node) || isAlias(node)) && node.range && node.range[1] > node.range[0] && !values.has(where)) values.set(where, lines.linePos(node.range[0]));
  };
  const pathOf = (trail: readonly unknown[], last: unknown): string => {
    let p = '';
    const chain = [...trail, last];
    for (let i = 0; i < chain.length - 1; i++) {
      const node = chain[i];
      const child = chain[i + 1];
      if (isPair(node) && child !== node.key) p += `${p ? '.' : ''}${String((node.key as { value?: unknown }).value)}`;
      if (isSeq(node)) p += `[${node.items.indexOf(child as never)}]`;
    }
    return p;
  };
  const put = (where: string, offset: number | undefined) => {
    if (offset !== undefined && !out.has(where)) out.set(where, lines.linePos(offset));
  };
  visit(doc, {
    Pair(_k, pair, trail) {
      if (!isScalar(pair.key) || !pair.key.range) return;
      const parent = pathOf(trail, pair);
      const where = `${parent}${parent ? '.' : ''}${String(pair.key.value)}`;
      put(where, pair.key.range[0]);
      putValue(where, pair.value);
    },
    Seq(_k, seq, trail) {
      const parent = pathOf(trail, seq);
      seq.items.forEach((item, i) => {
        put(`${parent}[${i}]`, (item as { range?: [number] }).range?.[0]);
        putValue(`${parent}[${i}]`, item);
      });
    },
  });
  return { keys: out, values };
}

/**
 * Compares the locator with the parser on every path the parser has, keys and scalar values;
 * returns how many it found.
 */
function agree(text: string, label: string): { found: number; total: number } {
  const expected = parserPositions(text);
  const locate = keyLocator(text);
  let found = 0;
  for (const [where, pos] of expected.keys) {
    const hit = locate.key(where);
    if (!hit) continue; // not followed: the parser is asked instead
    expect({ label, where, ...hit }).toEqual({ label, where, ...pos });
    found++;
  }
  for (const [where, pos] of expected.values) {
    const hit = locate.value(where);
    if (!hit) continue;
    expect({ label, where, value: true, ...hit }).toEqual({ label, where, value: true, ...pos });
    found++;
  }
  // A value the pass records is one the parser has (not a map or a list read as a scalar).
  for (const where of expected.keys.keys()) {
    if (locate.value(where) && !expected.values.has(where)) expect({ label, where, value: 'recorded' }).toEqual({ label, where, value: 'none in the parser' });
  }
  return { found, total: expected.keys.size + expected.values.size };
}

test('every style the bench writes is located whole, key for key where the parser puts it', () => {
  for (const style of ['block', 'flow', 'mixed'] as RegistryStyle[]) {
    for (const findings of [0, 3]) {
      const text = registryText(registryWithFindings(60, findings), style);
      expect(fastLoad(text)).toBeDefined();
      const { found, total } = agree(text, style);
      expect(total).toBeGreaterThan(1000);
      expect(found).toBe(total);
    }
  }
});

test('JSON registries, pretty and on one line, are located whole', () => {
  const spec = realisticRegistry(40);
  for (const text of [JSON.stringify(spec, null, 2), JSON.stringify(spec), JSON.stringify(spec, null, '\t')]) {
    const { found, total } = agree(text, 'json');
    expect(total).toBeGreaterThan(500);
    expect(found).toBe(total);
  }
});

test('the example, the seeds\' registries and the corpus: every position found is the parser\'s, and most are found', () => {
  const bad = path.join(ROOT, 'test', 'fixtures', 'bad');
  const files = [
    path.join(ROOT, 'examples', 'aura', 'ports.yaml'),
    ...fs.readdirSync(bad).filter(f => /\.(ya?ml|json)$/.test(f) && f !== 'expectations.json').map(f => path.join(bad, f)),
  ];
  let found = 0;
  let total = 0;
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf8');
    if (fastLoad(text) === undefined) continue;
    const r = agree(text, path.relative(ROOT, file));
    found += r.found;
    total += r.total;
  }
  expect(total).toBeGreaterThan(1000);
  expect(found / total).toBeGreaterThan(0.98);
});

test('hand-written shapes: comments, block scalars, quoted keys, values on the next line, anchors, CRLF', () => {
  const texts = [
    'a: # note\n  b: 1\n  c: |\n    x: not a key\n    - nor an item\n  d: 2\n',
    'a:\n  { b: 1, c: [ 1, 2,\n    3 ] }\ne: 5\n',
    '"quoted key": { "x y": 1, \'it\'\'s\': 2 }\nlist:\n- 1\n- [ a, b ]\n- { k: v }\n-   &anchor { k: w }\n- *anchor\n',
    'a: >-\n  folded\n  text: here\nb:\n  - c: 1\n    d: [x]\n  - - 1\n    - 2\n',
    'a: "multi\n  line: not a key"\nb: 1\n',
    'a: 1\r\nb:\r\n  c: { d: 2 }\r\n',
    '{ "name": "x",\n  "services": { "api": { "ports": { "http": { "port": 80 } } } } }\n',
    'k: { a: 1, # a comment\n  b: 2 }\n',
    'k: [ { a: 1 }, { b: [ 2, { c: 3 } ] } ]\n',
  ];
  for (const text of texts) {
    expect(fastLoad(text)).toBeDefined();
    const { found, total } = agree(text, JSON.stringify(text));
    expect({ text, found }).toEqual({ text, found: total });
  }
});

test('random registry-like documents in random styles: every position found is the parser\'s', () => {
  const key = fc.oneof(
    fc.constantFrom('name', 'port', 'http', 'a.b', 'app.kubernetes.io/name', 'x-y', 'on', '1', 'with space'),
    fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/),
  );
  const scalar = fc.oneof(fc.integer({ min: 1, max: 65535 }), fc.boolean(), fc.constant(null), fc.stringMatching(/^[a-z][a-z0-9 .:/-]{0,12}$/),
    fc.constantFrom('a # not a comment', "it's", 'say "hi"', 'x: y', '[not a list]', '{not a map}', '- dash', '#hash', ''));
  const { value } = fc.letrec(tie => ({
    value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, tie('map'), tie('list')),
    map: fc.dictionary(key, tie('value'), { maxKeys: 4 }),
    list: fc.array(tie('value'), { maxLength: 4 }),
  }));
  let found = 0;
  let total = 0;
  fc.assert(fc.property(fc.dictionary(key, value, { minKeys: 1, maxKeys: 5 }), fc.integer({ min: 0, max: 4 }), fc.boolean(), (doc, flowLevel, json) => {
    const text = json ? JSON.stringify(doc, null, flowLevel || undefined) : dump(doc, { flowLevel: flowLevel === 0 ? -1 : flowLevel, lineWidth: -1 });
    if (fastLoad(text) === undefined) return;
    const r = agree(text, text);
    found += r.found;
    total += r.total;
  }), { numRuns: 1500 });
  // Not vacuous: nearly every position is found by the pass itself.
  expect(total).toBeGreaterThan(5000);
  expect(found / total).toBeGreaterThan(0.95);
});

test('hostile shapes: the position found is the parser\'s, or none is (the parser answers then)', () => {
  const texts = [
    // List items whose content starts on the next line, top-level lists, empty items with blanks after the dash.
    '-\n  name: web\n', '- # web\n  name: web\n', '- &x\n  b: 1\n', '- &x # c\n  b: 1\n', '- [1]\n- 5\n', '- a:\n    b: 1\n- a: 2\n',
    '- - - x\n    - y\n  - z\n- w\n', 'a:\n  -   \n', 'a:\n  - \n  - x\n',
    // Keys the pass does not read: it must not file their children under the parent.
    'a#b:\n  c: 1\nc: 2\n', 'http://x:\n  c: 1\nc: 2\n', 'a:b:\n  c: 1\nc: 2\n', 'a:\n  http://x: 1\n', 'a:\n  b#c: 1\n', 'a:\n  &x b: 1\n',
    'a:\n  ? b\n  : 1\n', 'a: &x k\nb:\n  *x : 1\n', '- ? x\n', '- &x a: 1\n',
    // Anchors before a comment, a map inside a flow list, a byte order mark, no-break spaces, a carriage return alone.
    'a: &x # c\n  b: 1\n', 'a: [ "b": 1 ]\n', '\ufeffa:\n b: 1\nb: 2\n', 'a:\u00a0x: 1\na: 2\n', 'z:\n  \u00a0a: 1\n  a: 2\n', 'a: 1\rb: 2\n',
  ];
  for (const text of texts) {
    if (fastLoad(text) === undefined) continue;
    agree(text, JSON.stringify(text));
  }
  // Where the content of an item is on the next line, so is the item; every top-level item has its own index.
  expect(keyLocator('-\n  name: web\n').key('[0]')).toEqual({ line: 2, col: 3 });
  expect(keyLocator('- a: 1\n- b: 2\n- 3\n').key('[2]')).toEqual({ line: 3, col: 3 });
  expect(keyLocator('- a: 1\n- b: 2\n- 3\n').value('[2]')).toEqual({ line: 3, col: 3 });
  // Nesting deeper than a registry's is given up without a stack overflow, in linear time.
  for (const deep of ['- '.repeat(8000) + 'x', '['.repeat(8000) + 'x' + ']'.repeat(8000), '{a: '.repeat(4000) + 'x' + '}'.repeat(4000)]) {
    expect(() => keyLocator(deep)).not.toThrow();
  }
});

/**
 * The pass asked for `wanted` answers `w` as the whole pass does wherever the whole pass answers,
 * and where it answers alone (it stepped over what stopped the whole pass), as the parser does.
 */
function sameAsWhole(text: string, wanted: readonly string[], w: string, parser: ReturnType<typeof parserPositions>) {
  const whole = keyLocator(text);
  const few = keyLocator(text, wanted);
  expect(few.covers(w)).toBe(true);
  for (const kind of ['key', 'value'] as const) {
    const mine = few[kind](w);
    const theirs = whole[kind](w);
    if (theirs) expect({ text, w, kind, at: mine }).toEqual({ text, w, kind, at: theirs });
    else if (mine) expect({ text, w, kind, at: mine }).toEqual({ text, w, kind, at: (kind === 'key' ? parser.keys : parser.values).get(w) });
  }
}

test('asked for a few paths, the pass steps over everything else and answers those paths as the whole pass does', () => {
  const texts: string[] = [];
  for (const style of ['block', 'flow', 'mixed'] as RegistryStyle[]) texts.push(registryText(registryWithFindings(40, 3), style));
  const spec = realisticRegistry(20);
  texts.push(JSON.stringify(spec, null, 2), JSON.stringify(spec));
  texts.push(
    'connectsTo:\n- to: a\n  port: http\n- to: b\n  port: |\n    x\n- - 1\n  - 2\nnext: { a: [ 1, "it\'s, ]", { b: 2 } ], c: it\'s }\nlast: 1\n',
    'a:\n  b:\n    c: 1\n  # note\n\n  d: 2\ne:\n- 1\n-\n  f: 2\n- g: "x\n    y"\n  h: 3\n',
  );
  let checked = 0;
  fc.assert(fc.property(fc.integer({ min: 0, max: texts.length - 1 }), fc.array(fc.nat(), { minLength: 1, maxLength: 6 }), (t, picks) => {
    const text = texts[t];
    const parser = parserPositions(text);
    const all = [...parser.keys.keys()];
    const wanted = picks.map(p => all[p % all.length]);
    for (const w of wanted) {
      sameAsWhole(text, wanted, w, parser);
      checked++;
    }
  }), { numRuns: 400 });
  expect(checked).toBeGreaterThan(400);
  // The random documents of every style too.
  const { value } = fc.letrec(tie => ({
    value: fc.oneof({ depthSize: 'small' }, fc.oneof(fc.integer(), fc.constantFrom('x', 'a: b', "it's", '[x]', '- y', '')), tie('map'), tie('list')),
    map: fc.dictionary(fc.stringMatching(/^[a-z][a-z.-]{0,6}$/), tie('value'), { maxKeys: 4 }),
    list: fc.array(tie('value'), { maxLength: 4 }),
  }));
  fc.assert(fc.property(fc.dictionary(fc.stringMatching(/^[a-z][a-z.-]{0,6}$/), value, { minKeys: 1, maxKeys: 5 }), fc.integer({ min: 0, max: 3 }), fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), (doc, flowLevel, picks) => {
    const text = dump(doc, { flowLevel: flowLevel === 0 ? -1 : flowLevel, lineWidth: -1 });
    if (fastLoad(text) === undefined) return;
    const parser = parserPositions(text);
    const all = [...parser.keys.keys()];
    if (!all.length) return;
    const wanted = picks.map(p => all[p % all.length]);
    for (const w of wanted) sameAsWhole(text, wanted, w, parser);
  }), { numRuns: 1500 });
});
