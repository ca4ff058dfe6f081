import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PortRegistry, PortsApp } from '../lib';
import { recover, replaceDirectory } from '../lib/io/output';
import { ROOT, treeHashes } from './support/project';

/**
 * Atomic output: a synth killed at any point leaves the previous complete output or the new
 * complete output, never a mix; two synths at once leave one of them whole.
 */
jest.setTimeout(300_000);

// A registry big enough that writing its output takes a while (every file changes between A and B).
const SCRIPT = `
const { PortsApp, PortRegistry } = require(${JSON.stringify(path.join(ROOT, 'build', 'lib', 'index.js'))});
const variant = process.argv[2];
const app = new PortsApp({ manifestsDir: 'manifests', outdir: 'staging-' + variant + '-' + process.pid, lockFile: 'lock-' + variant + '.json' });
const r = new PortRegistry(app, 'big', { description: 'variant ' + variant, environments: { production: { range: [20000, 21999] }, staging: { range: [30000, 31999] } } });
for (let i = 0; i < 250; i++) r.service('svc-' + i, { public: true, description: variant, ports: { http: { offset: i * 2 + (variant === 'A' ? 0 : 1) } } });
const result = app.trySynth();
process.exit(result.ok ? 0 : 1);
`;

function project(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-atomic-'));
  fs.writeFileSync(path.join(dir, 'synth.js'), SCRIPT);
  return dir;
}

// Each file write pauses (a test seam in lib/io/output.ts), so that many kills land while output is being written.
const SLOW_ENV = { ...process.env, CDK8S_PORTS_TEST_WRITE_DELAY_MS: '25' };
const runSync = (dir: string, variant: string) => {
  const r = spawnSync(process.execPath, ['synth.js', variant], { cwd: dir, encoding: 'utf8', env: SLOW_ENV });
  if (r.status !== 0) throw new Error(r.stderr);
};
const start = (dir: string, variant: string): ChildProcess => spawn(process.execPath, ['synth.js', variant], { cwd: dir, stdio: 'ignore', env: SLOW_ENV });
const exited = (child: ChildProcess) => new Promise<void>(resolve => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
const leftovers = (dir: string) => fs.readdirSync(dir).filter(n => n.startsWith('.manifests'));

let A: Record<string, string>;
let B: Record<string, string>;
let duration = 0;

beforeAll(() => {
  const a = project();
  runSync(a, 'A');
  A = treeHashes(path.join(a, 'manifests'));
  const b = project();
  const t = Date.now();
  runSync(b, 'B');
  duration = Date.now() - t;
  B = treeHashes(path.join(b, 'manifests'));
  expect(Object.keys(A).length).toBeGreaterThan(10);
  // Nearly every file differs between A and B, so a mix of the two would show.
  expect(Object.keys(A).filter(f => A[f] !== B[f]).length).toBeGreaterThanOrEqual(Object.keys(A).length - 3);
});

test('SIGKILL at random points never leaves a half-written manifests/', async () => {
  const dir = project();
  runSync(dir, 'A');
  const outcomes = { old: 0, new: 0 };
  for (let i = 0; i < 16; i++) {
    const child = start(dir, i % 2 ? 'B' : 'A');
    const previous = treeHashes(path.join(dir, 'manifests'));
    // Spread the kills over the whole run, including its very start and end.
    await new Promise(r => setTimeout(r, Math.round((i / 15) * duration * 1.1)));
    child.kill('SIGKILL');
    await exited(child);
    recover(path.join(dir, 'manifests')); // what the next synth does first
    const now = treeHashes(path.join(dir, 'manifests'));
    const state = JSON.stringify(now) === JSON.stringify(A) ? 'A' : JSON.stringify(now) === JSON.stringify(B) ? 'B' : 'mixed';
    expect(state).not.toBe('mixed');
    outcomes[JSON.stringify(now) === JSON.stringify(previous) ? 'old' : 'new']++;
    expect(leftovers(dir)).toEqual([]);
  }
  expect(outcomes.old + outcomes.new).toBe(16);
});

test('two synths at once leave one complete output, never a mix', async () => {
  for (let i = 0; i < 3; i++) {
    const dir = project();
    runSync(dir, 'A');
    const children = [start(dir, 'B'), start(dir, 'A'), start(dir, 'B')];
    await Promise.all(children.map(exited));
    expect(children.map(c => c.exitCode)).toEqual([0, 0, 0]);
    const now = treeHashes(path.join(dir, 'manifests'));
    expect([JSON.stringify(A), JSON.stringify(B)]).toContain(JSON.stringify(now));
    expect(leftovers(dir)).toEqual([]);
  }
});

describe('hostile leftovers and modes', () => {
  test.each([['empty', ''], ['garbage', 'not a pid\n'], ['zero', '0']])('a lock file left %s by a kill is taken over at once, not after a minute', (_kind, content) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-lock-'));
    const target = path.join(dir, 'manifests');
    const lock = path.join(dir, '.manifests.lock');
    fs.writeFileSync(lock, content);
    const old = new Date(Date.now() - 5000);
    fs.utimesSync(lock, old, old);
    const started = Date.now();
    replaceDirectory(target, new Map([['a.txt', 'a']]));
    expect(Date.now() - started).toBeLessThan(5000);
    expect(fs.readFileSync(path.join(target, 'a.txt'), 'utf8')).toBe('a');
    expect(fs.existsSync(lock)).toBe(false);
  });

  test('the swapped folder keeps the previous mode (0755 for a new one), not mkdtemp\'s 0700', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-mode-'));
    const target = path.join(dir, 'manifests');
    const umask = process.umask();
    replaceDirectory(target, new Map([['a.txt', 'a']]));
    expect(fs.statSync(target).mode & 0o777).toBe(0o777 & ~umask);
    fs.chmodSync(target, 0o750);
    replaceDirectory(target, new Map([['b.txt', 'b']]));
    expect(fs.statSync(target).mode & 0o777).toBe(0o750);
  });
});

describe('a folder that cannot be written', () => {
  const app = (dir: string) => {
    const a = new PortsApp({ manifestsDir: path.join(dir, 'manifests'), outdir: path.join(dir, 'staging'), lockFile: path.join(dir, 'ports.lock.json') });
    new PortRegistry(a, 'x', { environments: { dev: { range: [8000, 8099] } } }).service('api', { public: true, ports: { http: { offset: 1 } } });
    return a;
  };

  test.each([
    ['EACCES', 'mkdtempSync', 'permission denied'],
    ['EROFS', 'mkdtempSync', 'the file system is read-only'],
    ['ENOSPC', 'writeFileSync', 'the disk is full'],
  ] as const)('%s from %s is a clear problem, not a stack trace, and the previous output stays', (code, call, words) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-ro-'));
    fs.mkdirSync(path.join(dir, 'manifests'));
    fs.writeFileSync(path.join(dir, 'manifests', 'previous.yaml'), 'kept: true\n');
    const before = treeHashes(path.join(dir, 'manifests'));
    // The fs module itself (the library reads it through an import wrapper that forwards to it).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const realFs = require('fs') as typeof fs;
    const original = realFs[call] as (...args: unknown[]) => unknown;
    const spy = jest.spyOn(realFs, call).mockImplementation(((...args: unknown[]) => {
      const target = String(args[0]);
      // Only the new output folder fails, as a read-only or full parent would make it.
      if (target.includes(`${path.sep}.manifests-new-`) || (call === 'mkdtempSync' && target.endsWith('.manifests-new-'))) {
        throw Object.assign(new Error(`${code}: failed, ${call} '${target}'`), { code, syscall: call.replace('Sync', ''), path: target });
      }
      return original.apply(realFs, args);
    }) as never);
    let result;
    try {
      result = app(dir).trySynth();
    } finally {
      spy.mockRestore();
    }
    expect(result.ok).toBe(false);
    expect(result.problem).toMatch(new RegExp(`^cannot write .*manifests: ${words} .*\\[${code}\\]; check that the folder and its parent exist and are writable`));
    expect(result.problem).not.toMatch(/\n\s+at /);
    expect(treeHashes(path.join(dir, 'manifests'))).toEqual(before);
  });

  test('a lock file that cannot be written is named, and the manifests it belongs to are said to be written', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-lock-'));
    const a = new PortsApp({ manifestsDir: path.join(dir, 'manifests'), outdir: path.join(dir, 'staging'), lockFile: path.join(dir, 'no-such-folder', 'ports.lock.json') });
    new PortRegistry(a, 'x', { environments: { dev: { range: [8000, 8099] } } }).service('api', { public: true, ports: { http: {} } });
    const result = a.trySynth();
    expect(result.ok).toBe(false);
    expect(result.problem).toMatch(/^cannot write .*ports\.lock\.json: .*\[ENOENT\].*the manifests were written; the lock file was not/);
  });
});

describe('files the synth did not write', () => {
  const synth = (dir: string, environments: Record<string, { range: [number, number] }>) => {
    const app = new PortsApp({ manifestsDir: path.join(dir, 'manifests'), outdir: path.join(dir, 'staging'), lockFile: path.join(dir, 'ports.lock.json') });
    new PortRegistry(app, 'shop', { environments }).service('api', { public: true, ports: { http: { offset: 1 } } });
    return app.trySynth();
  };

  test('are kept, byte for byte (links as links), and named; what the previous synth wrote and this one does not is removed', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-keep-'));
    const both = { production: { range: [8000, 8099] as [number, number] }, development: { range: [9000, 9099] as [number, number] } };
    expect(synth(dir, both).ok).toBe(true);
    const m = path.join(dir, 'manifests');
    expect(fs.existsSync(path.join(m, 'k8s', 'shop-development.k8s.yaml'))).toBe(true);
    fs.writeFileSync(path.join(m, 'NOTES.md'), '# why the bands are where they are\n');
    fs.writeFileSync(path.join(m, 'k8s', 'extra.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: extra, namespace: shop-production }\n');
    fs.mkdirSync(path.join(m, 'custom'));
    fs.writeFileSync(path.join(m, 'custom', 'runbook.txt'), 'restart order\n');
    fs.symlinkSync('NOTES.md', path.join(m, 'README-link'));
    const before = treeHashes(m);
    // The second synth drops development: its file goes, the hand-added ones stay.
    const result = synth(dir, { production: both.production });
    expect(result.ok).toBe(true);
    expect(result.notes?.join('\n')).toMatch(/kept 4 files in .*manifests\/ that the synth does not write: NOTES\.md, README-link, custom\/runbook\.txt, k8s\/extra\.yaml/);
    const after = treeHashes(m);
    for (const f of ['NOTES.md', 'k8s/extra.yaml', 'custom/runbook.txt']) expect(after[f]).toBe(before[f]);
    expect(fs.readlinkSync(path.join(m, 'README-link'))).toBe('NOTES.md');
    expect(fs.existsSync(path.join(m, 'k8s', 'shop-development.k8s.yaml'))).toBe(false);
    // The list names what the synth wrote, not what it kept.
    const list = JSON.parse(fs.readFileSync(path.join(m, '.cdk8s-ports-written.json'), 'utf8')).files;
    expect(list).toContain('k8s/shop-production.k8s.yaml');
    expect(list).not.toContain('NOTES.md');
  });

  test('a folder from before the list is replaced as a whole (it is all an older synth\'s output)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-keep-old-'));
    fs.mkdirSync(path.join(dir, 'manifests', 'k8s'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'manifests', 'k8s', 'production.yaml'), 'kind: Namespace\n');
    expect(synth(dir, { production: { range: [8000, 8099] } }).ok).toBe(true);
    expect(fs.existsSync(path.join(dir, 'manifests', 'k8s', 'production.yaml'))).toBe(false);
  });
});
