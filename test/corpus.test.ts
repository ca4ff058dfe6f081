import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Finding, PortRegistry, PortsApp, RULES, RuleId } from '../lib';
import { ROOT, treeHashes } from './support/project';

/**
 * The bad-registry corpus (test/fixtures/bad): every file and TypeScript registry there is
 * wrong in one way. Each goes through the synth and through the CLI: non-zero exit, a message
 * naming the rule and the culprit's location, no stack trace, bounded time, manifests untouched.
 * A line ending in `# <-` marks where the finding must point.
 */
jest.setTimeout(300_000);

const DIR = path.join(ROOT, 'test', 'fixtures', 'bad');
interface Expectation {
  rule: RuleId | null;
  exit?: number;
  path?: string;
  line?: boolean;
  message?: string;
  frozen?: boolean;
  cli?: boolean;
  ts?: boolean;
  named?: boolean;
}
const expectations: Record<string, Expectation> = JSON.parse(fs.readFileSync(path.join(DIR, 'expectations.json'), 'utf8'));
const fileCases = Object.entries(expectations).filter(([, e]) => !e.ts);
const tsCases = Object.entries(expectations).filter(([, e]) => e.ts);

/** The registry's own name where the file has one (lock files are keyed by it), else a name from the file's. */
function registryName(file: string): string {
  const m = /^name: ([a-z0-9-]+)$/m.exec(fs.readFileSync(path.join(DIR, file), 'latin1'));
  return m ? m[1] : path.basename(file).replace(/\W+/g, '-').toLowerCase();
}

/** The 1-based line marked `# <-`, if any. */
function markedLine(file: string): number | undefined {
  const text = fs.readFileSync(path.join(DIR, file), 'latin1');
  const i = text.split('\n').findIndex(l => l.endsWith('# <-'));
  return i < 0 ? undefined : i + 1;
}

const noStackTrace = (text: string) => expect(text).not.toMatch(/\n\s+at .+:\d+:\d+\)?(\n|$)/);

function expectFinding(findings: readonly Finding[], name: string, e: Expectation, file: string) {
  const hits = findings.filter(f => f.rule === e.rule);
  expect({ name, rules: hits.length ? [e.rule] : findings.map(f => f.rule) }).toEqual({ name, rules: [e.rule] });
  if (e.path) expect(hits.map(f => f.where.path)).toContain(e.path);
  if (e.message) expect(hits.map(f => f.message).join('\n')).toContain(e.message);
  const line = e.line ? markedLine(name) : undefined;
  if (line !== undefined) {
    expect(hits.map(f => f.where.file)).toContainEqual(expect.stringMatching(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:${line}:\\d+$`)));
  }
  for (const f of hits) {
    expect(f.message.length).toBeGreaterThan(10);
    expect(f.fix ?? f.waived ?? '').not.toBe('');
  }
}

test('the corpus has at least 60 bad registries, covering every rule of the checker', () => {
  expect(Object.keys(expectations).length).toBeGreaterThanOrEqual(60);
  const covered = new Set(Object.values(expectations).map(e => e.rule));
  // Findings of severity info stop nothing, so they have no place in a corpus of registries that must fail (test/rules.test.ts has them).
  // The port chain's other links and the routes against public are rules of manifests, with their cases in test/port-chain.test.ts and test/route-exposure.test.ts.
  const manifestRules = (r: string) => (r.startsWith('chain-') && r !== 'chain-target-port') || r === 'route-undeclared' || r === 'route-missing';
  expect(Object.keys(RULES).filter(r => RULES[r as RuleId][0] !== 'info' && !covered.has(r as RuleId) && !manifestRules(r))).toEqual([]);
  for (const name of Object.keys(expectations)) expect(fs.existsSync(path.join(DIR, name))).toBe(true);
});

describe.each(fileCases)('%s', (name, e) => {
  test('through the CLI: non-zero exit, the rule and its location, no stack trace, bounded time', () => {
    if (e.cli === false) return;
    const started = Date.now();
    const args = [path.join(ROOT, 'bin', 'cdk8s-ports.js'), 'check', name, '--json', '--strict', ...(e.frozen ? ['--frozen-lock'] : [])];
    const r = spawnSync(process.execPath, args, { cwd: DIR, encoding: 'utf8', timeout: 20_000, env: { ...process.env, NO_COLOR: '1', NODE_OPTIONS: '--max-old-space-size=256' } });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(r.status).toBe(e.exit ?? 1);
    noStackTrace(r.stderr + r.stdout);
    if ((e.exit ?? 1) === 2) {
      expect(r.stderr).toMatch(/^error: .+/);
      if (e.message) expect(r.stderr).toContain(e.message);
      return;
    }
    const findings = JSON.parse(r.stdout).registries.flatMap((x: { findings: Finding[] }) => x.findings);
    expectFinding(findings, name, e, name);
  });

  test('through the synth: stopped, the rule reported, manifests/ untouched', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-corpus-'));
    const manifests = path.join(out, 'manifests');
    fs.mkdirSync(manifests);
    fs.writeFileSync(path.join(manifests, 'previous.yaml'), 'kind: Previous\n');
    const before = treeHashes(manifests);
    // A fixture's lock file is copied: a synth must never be able to touch the corpus.
    const fixtureLock = path.join(path.dirname(path.join(DIR, name)), 'ports.lock.json');
    const lockFile = path.join(out, 'ports.lock.json');
    if (fs.existsSync(fixtureLock)) fs.copyFileSync(fixtureLock, lockFile);
    const lockBefore = fs.existsSync(lockFile) ? fs.readFileSync(lockFile, 'utf8') : undefined;
    const app = new PortsApp({ manifestsDir: manifests, outdir: path.join(out, 'staging'), strict: true, frozenLock: !!e.frozen, lockFile });
    const previous = process.cwd();
    process.chdir(DIR); // composeChecks are relative to where the synth runs
    let result;
    try {
      PortRegistry.fromFile(app, registryName(name), name);
      result = app.trySynth();
    } finally {
      process.chdir(previous);
    }
    expect(result.ok).toBe(false);
    expect(treeHashes(manifests)).toEqual(before);
    if (e.rule) expectFinding(result.findings, name, { ...e, line: e.line }, name);
    else expect(result.problem).toContain(e.message);
    expect(fs.existsSync(lockFile) ? fs.readFileSync(lockFile, 'utf8') : undefined).toBe(lockBefore);
  });
});

describe.each(tsCases)('%s', (name, e) => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const define = require(path.join(DIR, name)).default as (app: PortsApp) => PortRegistry;

  test('through the synth: stopped, the rule and its key path reported, nothing written', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-corpus-ts-'));
    const app = new PortsApp({ manifestsDir: path.join(out, 'manifests'), outdir: path.join(out, 'staging'), lockFile: path.join(out, 'lock.json') });
    define(app);
    const result = app.trySynth();
    expect(result.ok).toBe(false);
    expect(fs.existsSync(path.join(out, 'manifests'))).toBe(false);
    expectFinding(result.findings, name, e, name);
  });

  test('through the CLI, as the registry data a synth would record', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-corpus-cli-'));
    const app = new PortsApp({ manifestsDir: path.join(out, 'manifests') });
    const registry = define(app);
    if (e.rule === 'duplicate-service' || e.cli === false) {
      // A second declaration, or a user's chart, never reaches the registry data: the CLI sees a clean registry.
      fs.writeFileSync(path.join(out, 'ports.json'), JSON.stringify(registry.spec));
      const clean = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'cdk8s-ports.js'), 'check', 'ports.json', '--json'], { cwd: out, encoding: 'utf8' });
      expect(JSON.parse(clean.stdout).registries[0].findings.map((f: Finding) => f.rule)).not.toContain(e.rule);
      return;
    }
    fs.writeFileSync(path.join(out, 'ports.json'), JSON.stringify(registry.spec, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)));
    const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'cdk8s-ports.js'), 'check', 'ports.json', '--json'], { cwd: out, encoding: 'utf8' });
    expect(r.status).toBe(1);
    noStackTrace(r.stderr);
    const findings = JSON.parse(r.stdout).registries[0].findings as Finding[];
    expect(findings.some(f => f.rule === e.rule || f.rule === 'schema')).toBe(true);
  });
});
