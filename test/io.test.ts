import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'cdk8s';
import { PortRegistry } from '../lib';
import { composeCheckFindings } from '../lib/compose/check-files';
import { ReadError, readRegularFile } from '../lib/io/read';
import { ROOT, tempProject } from './support/project';

/** Every read is bounded before it happens: no hang on a FIFO, no 15 GB read of /dev/zero, no stack trace for a folder. */

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-io-'));
const fifo = (dir: string, name: string) => {
  const p = path.join(dir, name);
  expect(spawnSync('mkfifo', [p]).status).toBe(0);
  return p;
};
const cli = (args: string[], cwd: string) => spawnSync(process.execPath, [path.join(ROOT, 'bin', 'cdk8s-ports.js'), ...args],
  { cwd, encoding: 'utf8', timeout: 15_000, env: { ...process.env, NO_COLOR: '1' } });

test.each([
  ['a FIFO', (d: string) => fifo(d, 'ports.yaml'), /is not a regular file \(a FIFO\)/],
  ['/dev/zero', () => '/dev/zero', /is not a regular file \(a device\)/],
  ['a folder', (d: string) => d, /is a folder, not a file/],
  ['a missing file', (d: string) => path.join(d, 'nope.yaml'), /does not exist/],
])('reading %s is refused at once', (_what, make, reason) => {
  const started = Date.now();
  expect(() => readRegularFile(make(tmp()))).toThrow(reason);
  expect(Date.now() - started).toBeLessThan(2000);
});

test('a file over the limit is refused before it is read', () => {
  const file = path.join(tmp(), 'big.yaml');
  fs.writeFileSync(file, 'x'.repeat(2048));
  expect(() => readRegularFile(file, 1024)).toThrow(ReadError);
  expect(() => readRegularFile(file, 1024)).toThrow(/is 2048 bytes; the limit is 1024/);
});

test('the CLI refuses a FIFO or /dev/zero as the registry with exit 2 and one line, no hang', () => {
  const dir = tmp();
  for (const target of [fifo(dir, 'ports.yaml'), '/dev/zero']) {
    const r = cli(['check', target], dir);
    expect(r.error).toBeUndefined(); // not killed by the timeout
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^error: cannot read .*: it is not a regular file/m);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }
});

test('a composeChecks entry naming a folder, a FIFO as extends, and a FIFO lock file are findings, not hangs or stack traces', () => {
  const dir = tmp();
  const app = new App({ outdir: path.join(dir, 'out') });
  const previous = process.cwd();
  process.chdir(dir);
  try {
    fs.mkdirSync(path.join(dir, 'compose-dir'));
    const r = new PortRegistry(app, 'shop', { environments: { production: { range: [8000, 8099] } }, composeChecks: [{ file: 'compose-dir' }], lockFile: fifo(dir, 'lock.json') });
    r.service('api', { public: true, ports: { http: { offset: 1 } } });
    expect(r.check().findings).toContainEqual(expect.objectContaining({ rule: 'schema', severity: 'error', message: expect.stringMatching(/lock\.json is not a regular file/) }));
    // In the synth too: the finding stops it, with the others, instead of a stack trace.
    expect(() => app.synth()).toThrow(/\[schema\][\s\S]*lock\.json is not a regular file/);
    const resolved = r.check({ lock: { ports: {}, offsets: {} } });
    expect(composeCheckFindings(resolved, dir).map(f => [f.rule, f.message])).toEqual([['compose-file', `compose file compose-dir (read as ${path.join(dir, 'compose-dir')}, relative to the folder the synth runs in) is a folder, not a file`]]);
    const base = new PortRegistry(app, 'team', { extends: fifo(dir, 'base.yaml'), lockFile: path.join(dir, 'none.json') });
    expect(base.check().findings.map(f => f.message)).toEqual([expect.stringMatching(/base registry .*base\.yaml is not a regular file \(a FIFO\)/)]);
  } finally {
    process.chdir(previous);
  }
});

test('diff never follows a symbolic link in the committed manifests: the link is drift, its target is never printed', () => {
  const project = tempProject();
  const secret = path.join(project, 'secret.txt');
  fs.writeFileSync(secret, 'AWS_SECRET_ACCESS_KEY=do-not-print-me\n');
  fs.symlinkSync(secret, path.join(project, 'manifests', 'leak.txt'));
  const r = cli(['diff'], project);
  expect(r.stdout + r.stderr).not.toContain('do-not-print-me');
  expect(r.stdout + r.stderr).toMatch(/leak\.txt/);
  expect(r.status).toBe(1);
});
