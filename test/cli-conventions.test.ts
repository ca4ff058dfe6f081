import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { namesService } from '../lib/cli/main';
import { ROOT, tempProject } from './support/project';

/** CLI conventions: --version, one -r everywhere, quiet on a closed pipe, a check that sees the code. */

const cli = (args: string[], cwd: string, input?: string) => spawnSync(process.execPath, [path.join(ROOT, 'bin', 'cdk8s-ports.js'), ...args],
  { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, ...(input ? { input } : {}) });

test('--version prints the package version', () => {
  const r = cli(['--version'], ROOT);
  expect(r.status).toBe(0);
  expect(r.stdout.trim()).toBe(JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version);
});

test('check takes -r like every other command', () => {
  const r = cli(['check', '-r', 'examples/aura/ports.yaml', '--json'], ROOT);
  expect(r.status).toBe(0);
  expect(JSON.parse(r.stdout).registries.map((x: { name: string }) => x.name)).toEqual(['aura']);
});

test('a reader that closes the pipe early ends the output quietly, without a stack trace', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-pipe-'));
  const services = Array.from({ length: 400 }, (_, i) => `  s${i}:\n    ports:\n      http: { port: ${20000 + i} }\n`).join('');
  // One connection, so that every other service is reported unreachable: hundreds of kilobytes of findings.
  fs.writeFileSync(path.join(dir, 'ports.yaml'), `name: big\nservices:\n${services}  client:\n    ports:\n      http: { port: 19999 }\n    connectsTo: [{ to: s0 }]\n`);
  const r = spawnSync('sh', ['-c', `node ${JSON.stringify(path.join(ROOT, 'bin', 'cdk8s-ports.js'))} check --json | head -c 100 >/dev/null`],
    { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  expect(r.stderr).not.toMatch(/EPIPE|\n\s+at /);
});

test('status never takes a process for a service because of a kind word', () => {
  expect(namesService('python3 -m http.server 9000', 'pourtier')).toBe(false);
  expect(namesService('/usr/bin/node /srv/pourtier/server.js', 'pourtier')).toBe(true);
  expect(namesService('pourtier --port 8000', 'pourtier')).toBe(true);
  expect(namesService('pourtier-worker', 'pourtier')).toBe(false);
});

test('check in a TypeScript project checks the code: a colliding edit to main.ts fails before the next synth', () => {
  const dir = tempProject();
  // The committed manifests/ports.json says clean; the code no longer is.
  const main = fs.readFileSync(path.join(dir, 'main.ts'), 'utf8');
  fs.writeFileSync(path.join(dir, 'main.ts'), main.replace("ports: { http: Port.offset(766, { appProtocol: 'http' }) }", "ports: { http: Port.offset(765, { appProtocol: 'http' }) }"));
  const before = fs.readFileSync(path.join(dir, 'manifests', 'ports.json'), 'utf8');
  const r = cli(['check'], dir);
  expect(r.status).toBe(1);
  expect(r.stdout).toMatch(/error \[collision\] lumiere \/ production \/ passeur\.http \/ port 8765/);
  // Nothing was written: the check-only run leaves the project as it was.
  expect(fs.readFileSync(path.join(dir, 'manifests', 'ports.json'), 'utf8')).toBe(before);
});
