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

describe('one --format convention', () => {
  // What each command prints decides its formats: findings (text, json, sarif, github), and csv, md, dot where it lists paths.
  const FINDINGS = ['text', 'json', 'sarif', 'github'];
  const PATHS = ['csv', 'md', 'dot'];
  const expected: Record<string, string[]> = {
    check: FINDINGS, scan: FINDINGS, import: FINDINGS, verify: [...FINDINGS, ...PATHS], diff: [...FINDINGS, ...PATHS],
    explain: ['text', 'json', ...PATHS], connlist: ['text', 'json', ...PATHS], suggest: ['text', 'json'], status: ['text', 'json'],
  };

  test('every command takes --format with its choices, and --json as the short form', () => {
    const help = cli(['--help'], ROOT).stdout;
    const commands = [...help.matchAll(/^ {2}([a-z]+)\b/gm)].map(m => m[1]).filter(c => c !== 'help');
    expect(commands.sort()).toEqual(Object.keys(expected).sort());
    for (const command of commands) {
      const text = cli([command, '--help'], ROOT).stdout.replace(/\s+/g, ' ');
      const choices = /--format <format> output format \(default: text\) \(choices: ([^)]*)\)/.exec(text)?.[1];
      expect({ command, choices: choices?.split(', ').map(c => c.replace(/"/g, '')) }).toEqual({ command, choices: expected[command] });
      expect(text).toMatch(/--json print JSON for machines \(the same as --format json\)/);
    }
  });

  test('--format json is --json; --json with another format, or a format the command does not print, is a usage error (exit 2)', () => {
    const a = cli(['check', '-r', 'examples/aura/ports.yaml', '--format', 'json'], ROOT);
    expect(a.stdout).toBe(cli(['check', '-r', 'examples/aura/ports.yaml', '--json'], ROOT).stdout);
    const both = cli(['check', '-r', 'examples/aura/ports.yaml', '--json', '--format', 'sarif'], ROOT);
    expect(both.status).toBe(2);
    expect(both.stderr).toMatch(/--json is --format json: give one of them, not --json with --format sarif/);
    const wrong = cli(['check', '--format', 'csv'], ROOT);
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toMatch(/argument 'csv' is invalid\. Allowed choices are text, json, sarif, github/);
    const drift = cli(['diff', '--format', 'dot'], ROOT);
    expect(drift.status).toBe(2);
    expect(drift.stderr).toMatch(/--format dot lists traffic paths: it goes with --traffic/);
  });

  test('-r on explain and verify takes one file each time: the arguments after it stay arguments', () => {
    const r = cli(['explain', '-r', 'manifests/ports.json', 'development/pourtier', 'courier', '--json'], ROOT);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).forward).toEqual([expect.objectContaining({ from: 'lumiere-dev/pourtier', to: 'lumiere-dev/courier', allowed: true })]);
    // Repeated for more registries.
    const two = cli(['verify', '-r', 'manifests/ports.json', '-r', 'manifests/aura/ports.json', 'manifests', '--json'], ROOT);
    expect(two.status).toBe(0);
    expect(JSON.parse(two.stdout)).toMatchObject({ ok: true, folder: 'manifests', registries: ['lumiere', 'aura'] });
  });

  test('explain and verify list paths as csv, md and dot', () => {
    const csv = cli(['explain', 'development/pourtier', 'courier', '--format', 'csv'], ROOT).stdout;
    expect(csv.split('\n')[0]).toBe('verdict,from,to,port,protocol');
    expect(csv).toMatch(/^allowed,lumiere-dev\/pourtier,lumiere-dev\/courier,\d+,TCP$/m);
    const md = cli(['verify', '--format', 'md'], ROOT).stdout;
    expect(md).toMatch(/^\| lumiere-dev\/pourtier \| lumiere-dev\/courier \| \d+\/TCP \|$/m);
    const dot = cli(['verify', '--format', 'dot'], ROOT).stdout;
    expect(dot).toMatch(/^digraph traffic \{\n/);
    expect(dot).toMatch(/^ {2}"lumiere-dev\/pourtier" -> "lumiere-dev\/courier" \[label="\d+\/TCP"\];$/m);
  });
});
