import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PortsApp, RULES } from '../lib';
import { defineAura, defineLumiere } from '../main';
import { updatedReadme } from '../scripts/update-readme';

const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
// The reference moved out of the README: the rules table and the generated blocks live there.
const reference = fs.readFileSync(path.join(__dirname, '..', 'docs', 'reference.md'), 'utf8');

test('the reference documents every rule the checker has, with its severity, and no rule it lacks', () => {
  const rows = [...reference.matchAll(/^\| `([a-z-]+)` \| (error|warning|info) \|/gm)].map(m => [m[1], m[2]]);
  expect(Object.fromEntries(rows)).toEqual(Object.fromEntries(Object.entries(RULES).map(([rule, [severity]]) => [rule, severity])));
});

test('the README starts with the synth command and the test command, and .ci/run uses the same test command', () => {
  const first = readme.split('\n').slice(0, 8).join('\n');
  expect(first).toMatch(/npm install && npm run synth/);
  expect(first).toMatch(/npm install && npm test/);
  expect(fs.readFileSync(path.join(__dirname, '..', '.ci', 'run'), 'utf8')).toMatch(/^npm test$/m);
});

test('the generated blocks of the reference (connections, AURA findings) are current', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'readme-'));
  const app = new PortsApp({ manifestsDir: path.join(dir, 'm'), outdir: path.join(dir, 's'), lockFile: path.join(dir, 'l.json') });
  defineLumiere(app);
  defineAura(app);
  const previous = process.cwd();
  process.chdir(path.join(__dirname, '..'));
  let result;
  try { result = app.trySynth(); } finally { process.chdir(previous); }
  expect(result.ok).toBe(true);
  expect(updatedReadme(reference, result.files.get('connections.md')!, result.registries.get('aura')!.findings)).toBe(reference);
  expect(reference).toMatch(/\| pourtier \| courier \| ws\/TCP \| 8765 \| 9765 \| 7765 \|/);
  expect(reference).toMatch(/`outside-category` at `examples\/aura\/ports.yaml:\d+:\d+`/);
});
