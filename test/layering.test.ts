import * as fs from 'fs';
import * as path from 'path';
import { ROOT } from './support/project';

/**
 * The folders of lib/ are its layers. A file's layer is its folder (the first one under lib/); their
 * order, lowest first, is docs/development.md's layer map, the one table of them. A file imports only
 * its own folder and lower ones; the folders import each other without a cycle (computed from the
 * imports alone, whatever the map says); lib/'s root holds only the package entry, index.ts.
 */
const LIB = path.join(ROOT, 'lib');
const ENTRY = 'index.ts';

/** The folders of docs/development.md's layer map, lowest first. */
function layerMap(markdown = fs.readFileSync(path.join(ROOT, 'docs', 'development.md'), 'utf8')): string[] {
  const section = markdown.slice(markdown.indexOf('## The layer map'));
  const table = section.slice(0, section.indexOf('\n\n', section.indexOf('| ---')));
  return [...table.matchAll(/^\| `lib\/([a-z-]+)\/` \|/gm)].map(m => m[1]);
}

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap(e =>
    e.isDirectory() ? filesUnder(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []);
}

/** lib/'s folder of a lib/ file, or the file's name for one at lib/'s root. */
function folderOf(file: string): string {
  return path.relative(LIB, file).split(path.sep)[0];
}

/**
 * The lib/ files a file imports: static imports and re-exports (type-only ones included), side-effect
 * imports, and lazy `require()` and `import()` calls.
 */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:\bfrom\s+|\brequire\(\s*|\bimport\(\s*|(?:^|\n)\s*import\s+)['"](\.[^'"]*)['"]/g)) {
    const target = path.resolve(path.dirname(file), m[1]);
    const hit = [`${target}.ts`, path.join(target, 'index.ts')].find(c => fs.existsSync(c));
    if (hit && hit.startsWith(LIB + path.sep)) out.push(hit);
  }
  return out;
}

type Edge = { readonly from: string; readonly to: string; readonly file: string; readonly target: string };

/** One edge per import of one lib/ folder (or root file) from another. */
function folderImports(): Edge[] {
  return filesUnder(LIB).flatMap(file => importsOf(file)
    .map(target => ({ from: folderOf(file), to: folderOf(target), file: path.relative(LIB, file), target: path.relative(LIB, target) }))
    .filter(e => e.from !== e.to));
}

/** The imports that go up: to a folder later in `order` than the importer's (the entry, last, may import any). */
function upwardImports(edges: readonly Edge[], order: readonly string[]): string[] {
  const rank = (folder: string) => folder === ENTRY ? order.length : order.indexOf(folder);
  return edges.filter(e => rank(e.to) > rank(e.from)).map(e => `lib/${e.file} (${e.from}) imports lib/${e.target} (${e.to})`);
}

/** Each cycle of the folder graph, as `a -> b -> a` (one per strongly connected set, found by depth-first search). */
function folderCycles(edges: readonly Edge[]): string[] {
  const next = new Map<string, Set<string>>();
  for (const e of edges) next.set(e.from, (next.get(e.from) ?? new Set()).add(e.to));
  const done = new Set<string>();
  const cycles: string[] = [];
  const visit = (node: string, trail: string[]): void => {
    const at = trail.indexOf(node);
    if (at >= 0) {
      cycles.push([...trail.slice(at), node].join(' -> '));
      return;
    }
    if (done.has(node)) return;
    for (const to of [...(next.get(node) ?? [])].sort()) visit(to, [...trail, node]);
    done.add(node);
  };
  for (const node of [...next.keys()].sort()) visit(node, []);
  return cycles;
}

test('every folder of lib/ is a line of the layer map, and lib/\'s root holds only the entry', () => {
  const entries = fs.readdirSync(LIB, { withFileTypes: true });
  const map = layerMap();
  expect(new Set(map).size).toBe(map.length);
  expect([...map].sort()).toEqual(entries.filter(e => e.isDirectory()).map(e => e.name).sort());
  expect(entries.filter(e => !e.isDirectory()).map(e => e.name)).toEqual([ENTRY]);
});

test('no file in lib/ imports from a higher layer, and nothing imports the entry', () => {
  const edges = folderImports();
  expect(upwardImports(edges, layerMap())).toEqual([]);
  expect(edges.filter(e => e.to === ENTRY).map(e => `lib/${e.file}`)).toEqual([]);
});

test('the folders of lib/ import each other without a cycle', () => {
  expect(folderCycles(folderImports())).toEqual([]);
});

test('the checks see an upward import, a cycle and every kind of import', () => {
  const edge = (from: string, to: string): Edge => ({ from, to, file: `${from}/a.ts`, target: `${to}/b.ts` });
  expect(upwardImports([edge('rules', 'model'), edge(ENTRY, 'cli')], ['model', 'rules', 'cli'])).toEqual([]);
  expect(upwardImports([edge('model', 'rules')], ['model', 'rules'])).toEqual(['lib/model/a.ts (model) imports lib/rules/b.ts (rules)']);
  expect(folderCycles([edge('a', 'b'), edge('b', 'c'), edge('c', 'd')])).toEqual([]);
  expect(folderCycles([edge('a', 'b'), edge('b', 'c'), edge('c', 'a'), edge('c', 'd')])).toEqual(['a -> b -> c -> a']);
  expect(layerMap('# x\n\n## The layer map\n\n| folder | what |\n| --- | --- |\n| `lib/model/` | m |\n| `lib/cli/` | c |\n\n| `lib/other/` | no |\n'))
    .toEqual(['model', 'cli']);
  const imported = (file: string) => importsOf(path.join(LIB, file)).map(f => path.relative(LIB, f).split(path.sep).join('/'));
  expect(imported('check/pipeline.ts')).toContain('rules/index.ts'); // import { … } from
  expect(imported('load/registries.ts')).toContain('compose/check-files.ts'); // a lazy require()
  expect(imported('cli/commands/import.ts')).toContain('compose/import.ts'); // import type * as … and require()
});
