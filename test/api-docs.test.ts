import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ROOT, treeTexts } from './support/project';

jest.setTimeout(120_000);

interface Reflection {
  name: string;
  kind: number;
  flags?: { isOptional?: boolean };
  comment?: { summary?: unknown[]; blockTags?: Array<{ tag: string }> };
  children?: Reflection[];
}

const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-typedoc-'));
const run = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'typedoc'), ['--out', path.join(out, 'api'), '--json', path.join(out, 'api.json')], { cwd: ROOT, encoding: 'utf8' });

test('every public export is documented (typedoc fails on an undocumented one)', () => {
  expect(run.stdout + run.stderr).not.toMatch(/warning|error/i);
  expect(run.status).toBe(0);
});

test('every optional prop or option of the public API states its @default', () => {
  const project = JSON.parse(fs.readFileSync(path.join(out, 'api.json'), 'utf8')) as Reflection;
  const missing: string[] = [];
  for (const item of project.children ?? []) {
    if (!/(Props|Options|Query)$/.test(item.name)) continue;
    for (const prop of item.children ?? []) {
      if (prop.flags?.isOptional && !(prop.comment?.blockTags ?? []).some(t => t.tag === '@default')) missing.push(`${item.name}.${prop.name}`);
    }
  }
  expect(missing).toEqual([]);
});

test('the committed API reference in docs/api is the generated one (npm run docs)', () => {
  expect(treeTexts(path.join(ROOT, 'docs', 'api'))).toEqual(treeTexts(path.join(out, 'api')));
});
