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

test('every field of every Props / Options interface is documented, and every optional one states its @default', () => {
  const project = JSON.parse(fs.readFileSync(path.join(out, 'api.json'), 'utf8')) as Reflection;
  const INTERFACE = 256;
  const problems: string[] = [];
  const checked: string[] = [];
  for (const item of project.children ?? []) {
    if (!/(Props|Options|Query)$/.test(item.name)) continue;
    // A type alias has no fields for typedoc to list (and none for this test to check).
    if (item.kind !== INTERFACE) problems.push(`${item.name} is not an interface`);
    for (const prop of item.children ?? []) {
      checked.push(`${item.name}.${prop.name}`);
      if (!(prop.comment?.summary ?? []).length) problems.push(`${item.name}.${prop.name} has no doc comment`);
      if (prop.flags?.isOptional && !(prop.comment?.blockTags ?? []).some(t => t.tag === '@default')) problems.push(`${item.name}.${prop.name} has no @default`);
    }
  }
  expect(problems).toEqual([]);
  // The fields users write most must have been seen (the test cannot pass by checking nothing).
  expect(checked).toEqual(expect.arrayContaining(['ServiceProps.ports', 'ServiceProps.public', 'ExternalProps.port', 'PortRegistryProps.environments', 'BindOptions.container', 'PortsAppProps.manifestsDir']));
});

test('the committed API reference in docs/api is the generated one (npm run docs)', () => {
  expect(treeTexts(path.join(ROOT, 'docs', 'api'))).toEqual(treeTexts(path.join(out, 'api')));
});
