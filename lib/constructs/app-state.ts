/**
 * What the registries of one cdk8s app share, whatever the App class: the lock file they read
 * by default, one resolution of all of them together (so that registries extending one base are
 * checked against each other in a plain `App` as in a `PortsApp`), and the once-per-synth work a
 * plain `App` gets from its registries (warnings on stderr, the lock written, `check`'s report).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Construct, IConstruct } from 'constructs';
import { parseLockFile, serializeLockFile } from '../allocation/lock';
import type { Lock, LockFile, ResolvedRegistry } from '../model/resolved';
import { Finding, blocking, finding } from '../model/finding';
import { formatFinding, summarize } from '../model/format';
import { ownEntry } from '../model/normalize';
import { readRegularFile } from '../io/read';
import { writeFileAtomic } from '../io/output';
import { resolveAll } from '../check/pipeline';
import { manifestsByEnvironment } from '../emit/manifest';
import { appPortChain } from './port-chain';
import { isRegistryChart } from './registry-charts';
import type { PortRegistry } from './port-registry';

/** Marks a PortsApp (lib/constructs/ports-app.ts), which writes its own lock and output: its registries leave that to it. */
export const PORTS_APP = Symbol.for('cdk8s-ports.PortsApp');

export function isPortsApp(root: IConstruct): root is IConstruct & { readonly lockFile: string; readonly frozenLock: boolean } {
  return (root as unknown as Record<symbol, unknown>)[PORTS_APP] === true;
}

/**
 * Whether the app is cdk8s' `Testing.app()` (its output folder is a fresh `cdk8s.outdir.*` in the
 * system's temporary folder): a snapshot test must not depend on the folder jest runs in, so such an
 * app reads and writes no lock unless one is named (`lockFile`).
 */
export function isTestingApp(root: IConstruct): boolean {
  const outdir = (root as { readonly outdir?: unknown }).outdir;
  if (typeof outdir !== 'string') return false;
  return path.dirname(path.resolve(outdir)) === path.resolve(os.tmpdir()) && path.basename(outdir).startsWith('cdk8s.outdir.');
}

/** The folder of the nearest cdk8s.yaml from the working folder up (the project's root), else the working folder. */
export function projectRoot(cwd = process.cwd()): string {
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'cdk8s.yaml'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(cwd);
  }
}

/** `ports.lock.json` beside the nearest cdk8s.yaml from the working folder up (the project's root), else in the working folder. */
export function projectLockFile(cwd = process.cwd()): string {
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'cdk8s.yaml'))) return path.relative(cwd, path.join(dir, 'ports.lock.json')) || 'ports.lock.json';
    if (path.dirname(dir) === dir) return 'ports.lock.json';
  }
}

/** The lock file at `file` (an empty one when there is none); a file that is not a lock file is a finding, not a throw. */
export function readLockFile(file: string | undefined, registry: string): { readonly lock: LockFile; readonly problem?: Finding } {
  const empty: LockFile = { lockfileVersion: 1, registries: {} };
  if (file === undefined || !fs.existsSync(file)) return { lock: empty };
  try {
    return { lock: parseLockFile(readRegularFile(file), file) };
  } catch (e) {
    return {
      lock: empty,
      problem: finding('schema', (e as Error).message, { registry, file }, `restore ${file} from git, or delete it to let every automatic port be chosen again`),
    };
  }
}

/**
 * Lock entries of registries this app does not declare: kept (another app may share the lock), and
 * said, since a renamed registry leaves its old entries behind.
 */
export function foreignLockEntries(lock: LockFile, file: string, declared: ReadonlySet<string>, registry: string): Finding[] {
  return Object.keys(lock.registries).filter(name => !declared.has(name)).sort().map(name => finding('lock-stale',
    `${file} has entries for registry ${name}, which this app does not declare; they are kept`,
    { registry, other: name, path: `${file} registries.${name}` },
    `if ${name} was renamed, delete registries.${name} from ${file}; if another app shares this lock file, give each app its own (lockFile)`));
}

/**
 * Writes the registries' new lock entries into `file`, keeping the entries of every other registry,
 * atomically. Returns true when the file changed.
 */
export function writeLockEntries(file: string, entries: ReadonlyMap<string, Lock>): boolean {
  const current = readLockFile(file, '').lock;
  const registries = { ...current.registries };
  for (const [name, lock] of entries) registries[name] = lock;
  const text = serializeLockFile({ lockfileVersion: 1, registries });
  const hasEntries = Object.keys(JSON.parse(text).registries).length > 0;
  if (!hasEntries && !fs.existsSync(file)) return false;
  return writeFileAtomic(file, text);
}

/** The report `cdk8s-ports check` reads when it runs a TypeScript project's app (CDK8S_PORTS_CHECK_ONLY). */
export function writeCheckReport(file: string, registries: ReadonlyArray<readonly [string, ResolvedRegistry]>, findings: readonly Finding[], problem?: string): void {
  fs.writeFileSync(file, JSON.stringify({
    problem: problem ?? null,
    // Each registry with every finding about it, workload drift in the app's own charts included.
    registries: registries.map(([name, r]) => {
      const own = findings.filter(f => f.where.registry === name);
      return { name, spec: r.spec, environments: r.environments, allocations: r.allocations, connections: r.connections, ...(r.inbound ? { inbound: r.inbound } : {}), lock: r.lock, findings: own, ok: !own.some(f => f.severity === 'error' && !f.waived) };
    }),
  }));
}

/** Every PortRegistry (lib/constructs/port-registry.ts), marked when it is made. */
const REGISTRIES = new WeakSet<IConstruct>();

/** Marks a registry, so that {@link registriesOf} finds it. */
export function addRegistry(registry: PortRegistry): void {
  REGISTRIES.add(registry);
}

/** Every registry of an app, in construct order. */
export function registriesOf(root: IConstruct): PortRegistry[] {
  return root.node.findAll().filter((c): c is PortRegistry => REGISTRIES.has(c));
}

/** What the registries of one app share: one resolution of them all, and what their last validation found. */
interface AppState {
  version: number;
  resolution?: { readonly version: number; readonly byRegistry: Map<PortRegistry, ResolvedRegistry> };
  validated?: { readonly version: number; readonly messages: Map<PortRegistry, string[]> };
}
const APPS = new WeakMap<IConstruct, AppState>();
const appState = (c: IConstruct): AppState => {
  let s = APPS.get(c.node.root);
  if (!s) APPS.set(c.node.root, s = { version: 0 });
  return s;
};

/** Something was declared in the app of `c`: the next resolution and validation start afresh. */
export function declared(c: IConstruct): void {
  appState(c).version++;
}

/** Every registry of the app, resolved together with their locks (cross-registry checks, as a PortsApp does), reused until something is declared. */
export function appResolution(c: IConstruct): Map<PortRegistry, ResolvedRegistry> {
  const state = appState(c);
  if (state.resolution?.version === state.version) return state.resolution.byRegistry;
  const root = c.node.root;
  const registries = registriesOf(root);
  const frozenLock = isPortsApp(root) ? root.frozenLock : process.env.CDK8S_PORTS_FROZEN_LOCK === '1';
  const declaredIds = new Set(registries.map(r => r.node.id));
  const seenLocks = new Set<string>();
  const inputs = registries.map(r => {
    const { lock, problem } = readLockFile(r.lockFile, r.node.id);
    const input = r.pipelineInput({ lock: ownEntry(lock.registries, r.node.id), frozenLock, composeChecks: r._composeChecks() });
    const extra: Finding[] = problem ? [problem] : [];
    if (r.lockFile !== undefined && !seenLocks.has(r.lockFile)) {
      seenLocks.add(r.lockFile);
      extra.push(...foreignLockEntries(lock, r.lockFile, declaredIds, r.node.id));
    }
    return extra.length ? { ...input, findings: [...(input.findings ?? []), ...extra] } : input;
  });
  const results = resolveAll(inputs);
  const byRegistry = new Map(registries.map((r, i) => [r, results[i]] as const));
  state.resolution = { version: state.version, byRegistry };
  return byRegistry;
}

/** The findings that stop a synth of `registry`, for cdk8s' validation: every unwaived error, then workload drift. */
export function synthMessages(registry: PortRegistry): string[] {
  const state = appState(registry);
  if (state.validated?.version !== state.version) state.validated = { version: state.version, messages: validateApp(registry.node.root) };
  return state.validated.messages.get(registry) ?? [];
}

/**
 * Validates every registry of the app at once (cdk8s calls each registry's validation, and again
 * for every chart it renders): errors, then the charts, the bindings and drift. In a plain App this
 * is also where the synth's own work happens, once: warnings on stderr, the lock written.
 */
function validateApp(root: IConstruct): Map<PortRegistry, string[]> {
  const byRegistry = appResolution(root);
  const messages = new Map<PortRegistry, string[]>();
  const findings: Finding[] = [];
  for (const r of byRegistry.keys()) {
    const res = r._resolution();
    findings.push(...res.findings);
    const errors = blocking(res.findings);
    if (errors.length) {
      messages.set(r, errors.map(formatFinding));
      continue;
    }
    if (!isPortsApp(root) || r._output.built) r._output.build(res);
  }
  for (const r of byRegistry.keys()) {
    if (messages.has(r)) continue;
    const res = r._resolution();
    const drift = r._drift(res);
    findings.push(...drift);
    const messagesOf = [...blocking(drift).map(formatFinding), ...r._moved(res)];
    if (messagesOf.length) messages.set(r, messagesOf);
  }
  if (!isPortsApp(root)) plainAppSynth(root, byRegistry, findings, messages.size === 0);
  return messages;
}

/** The app's port chain (lib/constructs/port-chain.ts), reported by its first registry only. */
export function chainOfApp(registry: PortRegistry): Finding[] {
  const all = registriesOf(registry.node.root);
  if (all[0] !== registry) return [];
  const clean = all.map(r => ({ r, res: r._resolution() })).filter(x => x.res?.ok);
  return appPortChain(registry.node.root as Construct, isRegistryChart, clean.map(({ r, res }) => ({ name: r.node.id, manifests: () => manifestsByEnvironment(res) })));
}

/**
 * What a plain cdk8s App gets from its registries when it synthesizes, once: the findings that do
 * not stop it on stderr, the new pins in the lock file (only when nothing stopped it), and the
 * report `cdk8s-ports check` asks for (CDK8S_PORTS_CHECK_ONLY). A `Testing.app()` prints nothing.
 */
function plainAppSynth(root: IConstruct, byRegistry: ReadonlyMap<PortRegistry, ResolvedRegistry>, findings: readonly Finding[], clean: boolean): void {
  const report = process.env.CDK8S_PORTS_CHECK_ONLY;
  if (report) {
    writeCheckReport(report, [...byRegistry].map(([r, res]) => [r.node.id, res] as const), findings);
    return;
  }
  const testing = isTestingApp(root);
  if (!testing) {
    for (const f of findings) if (f.severity !== 'error' || f.waived) console.error(formatFinding(f));
    if (findings.length) console.error(summarize(findings));
  }
  if (!clean || process.env.CDK8S_PORTS_FROZEN_LOCK === '1') return;
  const byFile = new Map<string, Map<string, Lock>>();
  for (const [r, res] of byRegistry) {
    if (r.lockFile === undefined) continue;
    const entries = byFile.get(r.lockFile) ?? new Map<string, Lock>();
    entries.set(r.node.id, res.lock);
    byFile.set(r.lockFile, entries);
  }
  for (const [file, entries] of byFile) {
    try {
      if (writeLockEntries(file, entries) && !testing) console.error(`updated ${file}`);
    } catch (e) {
      throw new Error(`cannot write the lock file ${file}: ${(e as Error).message}; the automatic ports it would pin are not pinned`);
    }
  }
}
