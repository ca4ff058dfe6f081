/**
 * The synth's I/O step: a plan (plan.ts) written to the manifests folder as a whole (lib/io/output.ts
 * swaps it in atomically), the Kubernetes objects copied for the cdk8s CLI, and the lock written.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ApiObject, Chart } from 'cdk8s';
import { serializeLockFile } from '../allocation/lock';
import type { LockFile, ResolvedRegistry } from '../model/resolved';
import { FileSet, recover, replaceDirectory, writeFileAtomic, writeFiles } from '../io/output';
import type { SynthPlan } from './plan';

/** Where a plan goes. */
export interface SynthTarget {
  /** The manifests folder, replaced as a whole. */
  readonly manifestsDir: string;
  /** The cdk8s CLI's output folder, when `cdk8s synth` runs the app: it gets the Kubernetes objects. */
  readonly cliOutdir?: string;
  readonly lockFile: string;
  /** A frozen lock is never written: any change to it was already an error. */
  readonly frozenLock: boolean;
  /** The lock as it was read: the entries of registries the app does not declare are kept. */
  readonly lock: LockFile;
  /** The resolved registries by name: their new lock entries. */
  readonly registries: ReadonlyMap<string, ResolvedRegistry>;
}

/** What writing a plan did: `problem` when something could not be written (then `written` says whether the manifests were). */
export interface WriteResult {
  readonly written: boolean;
  readonly lockChanged: boolean;
  readonly problem?: string;
  /** Notes to add to the plan's (files kept in the folder). */
  readonly notes: readonly string[];
}

/** A synth killed halfway through its swap left the previous output beside the folder: put it back (first). Returns the problem when it cannot. */
export function recoverOutput(manifestsDir: string): string | undefined {
  try {
    recover(manifestsDir);
    return undefined;
  } catch (e) {
    return writeProblem(manifestsDir, e);
  }
}

/** Writes the plan's files into the manifests folder (and the cdk8s CLI's), then the lock. */
export function writePlan(plan: SynthPlan, target: SynthTarget): WriteResult {
  const notes: string[] = [];
  try {
    // The cdk8s CLI (and its validation plugins) read the Kubernetes objects from its output folder: those only, not a second copy of everything.
    if (target.cliOutdir !== undefined) writeFiles(target.cliOutdir, cliFiles(plan));
    const kept = replaceDirectory(target.manifestsDir, plan.files);
    if (kept.length) {
      notes.push(`kept ${kept.length === 1 ? 'a file' : `${kept.length} files`} in ${target.manifestsDir}/ that the synth does not write: ${kept.join(', ')} ` +
        `(delete ${kept.length === 1 ? 'it' : 'them'} there if no longer wanted; a hand-added manifest under k8s/ is applied with the rest)`);
    }
  } catch (e) {
    return { written: false, lockChanged: false, problem: writeProblem(target.manifestsDir, e), notes };
  }
  const newLock: LockFile = {
    lockfileVersion: 1,
    registries: { ...target.lock.registries, ...Object.fromEntries([...target.registries].map(([name, r]) => [name, r.lock])) },
  };
  const lockText = serializeLockFile(newLock);
  const hasEntries = Object.keys(JSON.parse(lockText).registries).length > 0;
  try {
    const lockChanged = !target.frozenLock && (hasEntries || fs.existsSync(target.lockFile)) ? writeFileAtomic(target.lockFile, lockText) : false;
    return { written: true, lockChanged, notes };
  } catch (e) {
    return { written: true, lockChanged: false, problem: `${writeProblem(target.lockFile, e)} (the manifests were written; the lock file was not)`, notes };
  }
}

/**
 * What the cdk8s CLI's output folder gets: the Kubernetes objects (k8s/), which it lists and its
 * validation plugins read, and, when it asks for them, the construct paths of the objects
 * (construct-metadata.json, as cdk8s' own App writes it).
 */
function cliFiles({ files, userCharts, registryYaml }: SynthPlan): FileSet {
  const out = new Map([...files].filter(([file]) => file.startsWith('k8s/')));
  if (process.env.CDK8S_RECORD_CONSTRUCT_METADATA === 'true') {
    const resources: Record<string, { path: string }> = {};
    for (const { chart } of userCharts) {
      for (const c of chart.node.findAll()) if (c instanceof ApiObject && Chart.of(c) === chart) resources[c.name] = { path: c.node.path };
    }
    for (const { file, docs } of registryYaml) {
      if (!file.startsWith('k8s/')) continue;
      const chart = path.posix.basename(file, '.k8s.yaml');
      for (const d of docs as Array<{ kind?: string; metadata?: { name?: string } }>) {
        const name = d?.metadata?.name;
        if (name && !(name in resources)) resources[name] = { path: `${chart}/${d.kind}-${name}` };
      }
    }
    out.set('construct-metadata.json', JSON.stringify({ version: '1.0.0', resources }));
  }
  return out;
}

/**
 * Why the output could not be written, as a person can act on it: the system's reason (EACCES,
 * EROFS, ENOSPC …), the path, and what to do. Errors that are not the file system's are bugs, and
 * are thrown on.
 */
export function writeProblem(target: string, e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (!err || typeof err.code !== 'string') throw e;
  const what: Record<string, string> = {
    EACCES: 'permission denied', EPERM: 'operation not permitted', EROFS: 'the file system is read-only', ENOSPC: 'the disk is full',
    ENOTDIR: 'a part of the path is a file, not a folder', EISDIR: 'it is a folder', EEXIST: 'something is in the way',
  };
  const where = err.path && path.resolve(err.path) !== path.resolve(target) ? ` (${err.syscall ?? 'writing'} ${err.path})` : '';
  return `cannot write ${target}: ${what[err.code] ?? err.message}${where} [${err.code}]; ` +
    'check that the folder and its parent exist and are writable by you; nothing else was changed';
}
