import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { createTwoFilesPatch } from 'diff';
import { checkComposeText } from '../compose/drift';
import { Finding, blocking } from '../model/finding';
import { checkRegistry } from '../check/check-registry';
import { parseRegistryText } from '../file/registry-file';
import { appCommand } from './app-check';
import { UsageError } from './registries';
import { ReadError, readRegularFile } from '../io/read';
import { WRITTEN_LIST, readWrittenList } from '../io/output';

export interface FileDrift {
  readonly file: string;
  readonly change: 'changed' | 'missing' | 'unexpected';
  readonly patch: string;
}

export interface DiffResult {
  readonly drift: FileDrift[];
  /** Disagreements of user compose and .env files passed by path. */
  readonly findings: Finding[];
  /** Set when the registry could not be synthesized (its errors, or a lock file that would change). */
  readonly synthError?: string;
}

/** How a symbolic link stands in a folder's tree: for itself, never followed. */
const LINK = '(a symbolic link, not followed)\n';

/**
 * The files of a folder as text. A symbolic link is never followed (a committed
 * `manifests/leak -> /proc/self/environ` must not print the CI's secrets): it stands for itself,
 * which no synth writes, so it shows as drift. Special files and oversized files likewise.
 */
function tree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      const rel = path.relative(dir, p).split(path.sep).join('/');
      if (e.isSymbolicLink()) out.set(rel, LINK);
      else if (e.isDirectory()) walk(p);
      else if (!e.isFile()) out.set(rel, '(a special file, not read)\n');
      else {
        try {
          out.set(rel, readRegularFile(p));
        } catch (err) {
          out.set(rel, `(${err instanceof ReadError ? err.reason : (err as Error).message})\n`);
        }
      }
    }
  };
  if (fs.existsSync(dir) && fs.lstatSync(dir).isDirectory()) walk(dir);
  return out;
}

/** Synthesizes the project into a scratch folder with a frozen lock; returns that folder or the error. */
function synthesizeFresh(root: string, scratch: string): { dir?: string; error?: string } {
  const manifests = path.join(scratch, 'manifests');
  const env = {
    ...process.env, CDK8S_OUTDIR: path.join(scratch, 'staging'), CDK8S_PORTS_MANIFESTS_DIR: manifests,
    CDK8S_PORTS_FROZEN_LOCK: '1', CDK8S_CHECK_UPGRADE: 'false',
  };
  const config = path.join(root, 'cdk8s.yaml');
  if (fs.existsSync(config)) {
    const app = appCommand(root);
    if (!app) throw new UsageError(`${config} has no app command`);
    const run = spawnSync(app, { cwd: root, env, shell: true, encoding: 'utf8', timeout: 300_000 });
    // A plain cdk8s App writes its Kubernetes objects where cdk8s writes them (and nothing else).
    if (run.status === 0 && !fs.existsSync(manifests) && fs.existsSync(env.CDK8S_OUTDIR)) return { dir: env.CDK8S_OUTDIR };
    if (run.status !== 0 || !fs.existsSync(manifests)) {
      return { error: `the registry did not synthesize (${app}):\n${(run.stderr || run.stdout || String(run.error ?? '')).trim()}` };
    }
    return { dir: manifests };
  }
  const file = ['ports.yaml', 'ports.yml', 'ports.json'].map(f => path.join(root, f)).find(f => fs.existsSync(f));
  if (!file) throw new UsageError(`${root} has neither cdk8s.yaml nor a ports.yaml/ports.json to synthesize`);
  // Loaded only here: the constructs pull in cdk8s, which the other commands do not need.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { PortsApp } = require('../constructs/ports-app') as typeof import('../constructs/ports-app');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { PortRegistry } = require('../constructs/port-registry') as typeof import('../constructs/port-registry');
  const previous = process.cwd();
  process.chdir(root);
  try {
    const app = new PortsApp({ manifestsDir: manifests, outdir: path.join(scratch, 'staging'), frozenLock: true });
    const name = parseRegistryText(fs.readFileSync(file, 'utf8'), file).spec?.name ?? 'ports';
    PortRegistry.fromFile(app, name, path.relative(root, file));
    const result = app.trySynth();
    if (!result.ok) return { error: blocking(result.findings).map(f => f.message).join('\n') || result.problem };
    return { dir: manifests };
  } finally {
    process.chdir(previous);
  }
}

function envVars(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (m && !line.trim().startsWith('#')) out.set(m[1], m[2].replace(/^(['"])(.*)\1$/, '$2'));
  }
  return out;
}

/** The committed manifests (and any user files) against what the registry produces now. */
export function diffProject(root: string, manifestsDir: string, userFiles: readonly string[]): DiffResult {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-diff-'));
  try {
    const fresh = synthesizeFresh(root, scratch);
    if (!fresh.dir) return { drift: [], findings: [], synthError: fresh.error };
    const want = tree(fresh.dir);
    const have = tree(manifestsDir);
    // Files the committed synth did not write (its list says which it did) are the user's: the synth keeps them, and so does the gate.
    const written = readWrittenList(manifestsDir);
    // (A link is never the user's plain file: it stays drift, its target unread.)
    if (written && have.has(WRITTEN_LIST)) {
      for (const [file, text] of [...have]) if (!want.has(file) && !written.has(file) && file !== WRITTEN_LIST && text !== LINK) have.delete(file);
    }
    const rel = path.relative(process.cwd(), manifestsDir) || manifestsDir;
    const drift: FileDrift[] = [];
    for (const file of [...new Set([...want.keys(), ...have.keys()])].sort()) {
      const a = have.get(file);
      const b = want.get(file);
      if (a === b) continue;
      const change = a === undefined ? 'missing' : b === undefined ? 'unexpected' : 'changed';
      drift.push({ file: `${rel}/${file}`, change, patch: createTwoFilesPatch(`a/${rel}/${file}`, `b/${rel}/${file}`, a ?? '', b ?? '', 'committed', 'from the registry') });
    }

    const findings: Finding[] = [];
    const registries = [...want.entries()].filter(([f]) => f === 'ports.json' || f.endsWith('/ports.json'))
      .map(([f, text]) => ({ dir: path.posix.dirname(f), doc: JSON.parse(text) }));
    for (const user of userFiles) {
      let text: string;
      try {
        text = readRegularFile(user);
      } catch (e) {
        throw new UsageError(e instanceof ReadError ? `cannot read ${user}: it ${e.reason}` : (e as Error).message);
      }
      const base = path.basename(user);
      if (/\.ya?ml$/.test(base)) {
        for (const r of registries) findings.push(...checkComposeText(checkRegistry(r.doc.spec), text, user));
        continue;
      }
      // An .env file: every variable the registry generates must have the generated value.
      const vars = envVars(text);
      const generated = [...want.entries()].filter(([f]) => f.endsWith('.env'));
      const candidates = generated.map(([f, t]) => ({ f, vars: envVars(t) }));
      const best = candidates.sort((x, y) => [...vars].filter(([k, v]) => y.vars.get(k) === v).length - [...vars].filter(([k, v]) => x.vars.get(k) === v).length)[0];
      if (!best) continue;
      for (const [key, value] of vars) {
        const expected = best.vars.get(key);
        if (expected !== undefined && expected !== value) {
          findings.push({ rule: 'compose-drift', severity: 'error', message: `${user}: ${key}=${value}, but ${rel}/${best.f} says ${key}=${expected}`,
            where: { file: user }, fix: `set ${key}=${expected}, or source ${rel}/${best.f}` });
        }
      }
    }
    return { drift, findings };
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}
