import * as fs from 'fs';
import * as path from 'path';
import { ROOT } from './support/project';

/**
 * The library's layers, each importing only its own and lower ones:
 * model -> allocation (and loaders of the model's inputs) -> rules -> pipeline -> emitters ->
 * registry loading and manifest checks (load, validate) -> constructs -> CLI. A file added to lib/ must be given a layer here.
 */
const LAYERS: Array<[layer: string, patterns: RegExp[]]> = [
  ['model', [/^model\//]],
  ['allocation', [/^allocation\//, /^file\//, /^io\//]],
  ['rules', [/^rules\//]],
  ['pipeline', [/^check\//, /^compose\//, /^netpol\//]],
  ['emit', [/^emit\//]],
  // Reading a project's registry files and checking rendered manifests: shared by the constructs, the
  // cdk8s validation plugin and the CLI.
  ['validate', [/^load\//, /^validate\//]],
  ['constructs', [/^index\.ts$/, /^constructs\//]],
  ['cli', [/^cli\//]],
];

const LIB = path.join(ROOT, 'lib');

function layerOf(file: string): number {
  const rel = path.relative(LIB, file).split(path.sep).join('/');
  const i = LAYERS.findIndex(([, patterns]) => patterns.some(p => p.test(rel)));
  if (i < 0) throw new Error(`lib/${rel} has no layer: add it to LAYERS in test/layering.test.ts`);
  return i;
}

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap(e =>
    e.isDirectory() ? filesUnder(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []);
}

/** The lib/ files a file imports (relative imports and re-exports, type-only ones included). */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'";]*?from\s+['"](\.[^'"]+)['"]/g)) {
    const target = path.resolve(path.dirname(file), m[1]);
    const candidates = [`${target}.ts`, path.join(target, 'index.ts')];
    const hit = candidates.find(c => fs.existsSync(c));
    if (hit && hit.startsWith(LIB + path.sep)) out.push(hit);
  }
  return out;
}

test('no file in lib/ imports from a higher layer', () => {
  const violations: string[] = [];
  for (const file of filesUnder(LIB)) {
    const mine = layerOf(file);
    for (const target of importsOf(file)) {
      const theirs = layerOf(target);
      if (theirs > mine) {
        violations.push(`lib/${path.relative(LIB, file)} (${LAYERS[mine][0]}) imports lib/${path.relative(LIB, target)} (${LAYERS[theirs][0]})`);
      }
    }
  }
  expect(violations).toEqual([]);
});

test('the layering check sees an upward import', () => {
  // The rules read the model, never the pipeline: a rule that imported it would be reported.
  expect(layerOf(path.join(LIB, 'rules', 'names.ts'))).toBeLessThan(layerOf(path.join(LIB, 'check', 'pipeline.ts')));
  expect(importsOf(path.join(LIB, 'check', 'pipeline.ts')).map(f => path.relative(LIB, f))).toContain(path.join('rules', 'index.ts'));
});
