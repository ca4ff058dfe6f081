/**
 * What the registries of one cdk8s app share, whatever the App class: the lock file they read
 * by default, one resolution of all of them together (so that registries extending one base are
 * checked against each other in a plain `App` as in a `PortsApp`), and the once-per-synth work a
 * plain `App` gets from its registries (warnings on stderr, the lock written, `check`'s report).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { IConstruct } from 'constructs';
import { parseLockFile, serializeLockFile } from '../allocation/lock';
import type { Lock, LockFile, ResolvedRegistry } from '../model/resolved';
import { Finding, finding } from '../model/finding';
import { readRegularFile } from '../io/read';
import { writeFileAtomic } from '../io/output';

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
