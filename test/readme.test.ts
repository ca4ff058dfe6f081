import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PortsApp, RULES } from '../lib';
import { connectionsTable } from '../lib/emit/connections-table';
import { defineLumiere } from '../main';
import { withTable } from '../scripts/update-readme';

const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');

test('the README documents every rule the checker has, with its severity, and no rule it lacks', () => {
  const rows = [...readme.matchAll(/^\| `([a-z-]+)` \| (error|warning) \|/gm)].map(m => [m[1], m[2]]);
  expect(Object.fromEntries(rows)).toEqual(Object.fromEntries(Object.entries(RULES).map(([rule, [severity]]) => [rule, severity])));
});

test('the README starts with the synth command and the test command, and .ci/run uses the same test command', () => {
  const first = readme.split('\n').slice(0, 6).join('\n');
  expect(first).toMatch(/npm install && npm run synth/);
  expect(first).toMatch(/npm install && npm test/);
  expect(fs.readFileSync(path.join(__dirname, '..', '.ci', 'run'), 'utf8')).toMatch(/^npm test$/m);
});

test('the connection table in the README is the generated one', () => {
  const app = new PortsApp({ manifestsDir: fs.mkdtempSync(path.join(os.tmpdir(), 'readme-')), outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'readme-s-')) });
  const registry = defineLumiere(app);
  const table = connectionsTable(registry.check());
  expect(withTable(readme, table)).toBe(readme);
  expect(table).toMatch(/\| pourtier \| courier \| ws\/TCP \| 8765 \| 9765 \| 7765 \|/);
});
