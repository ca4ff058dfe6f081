/**
 * What `verify`, `explain` and `diff --traffic` read: a folder of manifests (or one at a git
 * revision) as a cluster, and the registries whose declared traffic it is compared with.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { TrafficRegistry } from '../netpol/verify';
import { readRegularFile } from '../io/read';
import type * as Load from '../netpol/load';
import type { InvalidValue, Loaded } from '../netpol/load';
import { UsageError, hasRegistryFile, isResolved, loadRegistries, resolvedFilesUnder } from './registries';
import { appCommand, appOutput, checkApp } from './app-check';
import type { Finding } from '../model/finding';
import type * as PortChain from '../validate/port-chain';
import type * as RouteExposure from '../validate/route-exposure';

/** The manifest loader, loaded when a traffic command runs (not at every command's start). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const netpolLoad = () => require('../netpol/load') as typeof Load;

/** What to pass instead of a manifests folder that does not exist: a plain cdk8s App writes to its output folder. */
export function missingFolderHint(cwd: string): string {
  const output = appOutput(cwd);
  return output && fs.existsSync(path.resolve(cwd, output))
    ? `a plain cdk8s App writes its manifests to ${output}/: pass -m ${output}`
    : 'pass the folder of manifests with -m (default: manifests, what a PortsApp writes; a plain cdk8s App writes dist/)';
}

/** A folder of manifests that must exist. */
export function manifestsFolder(cwd: string, folder: string): string {
  const dir = path.resolve(cwd, folder);
  if (!fs.existsSync(dir)) throw new UsageError(`${folder}: no such folder; ${missingFolderHint(cwd)}`);
  if (!fs.statSync(dir).isDirectory()) throw new UsageError(`${folder} is a file, not a folder of manifests`);
  return dir;
}

/**
 * The registries to compare with: those given with -r, else the project's ports.yaml, else the
 * ports.json files the synth wrote into the folder; none for a folder of hand-written manifests.
 */
export function trafficRegistries(cwd: string, dir: string, registry: readonly string[]): TrafficRegistry[] {
  if (registry.length) return loadRegistries(registry, cwd).map(r => r.resolved);
  // The project's own registry file; a ports.json the synth wrote (run from inside manifests/) is not one.
  if (hasRegistryFile(cwd) && !isWritten(path.join(cwd, 'ports.json'))) return loadRegistries(undefined, cwd).map(r => r.resolved);
  // The ports.json files the synth wrote beside the manifests say what is declared, as resolved
  // then: read as they are (the drift gate, `diff`, keeps them equal to what the registry produces).
  const written = resolvedFilesUnder(dir).map(file => writtenRegistry(file));
  if (written.length) return written;
  // A plain cdk8s App writes only Kubernetes objects: its registries come from running the app (as `check` does).
  const app = appCommand(cwd);
  return app ? checkApp(cwd, app).map(r => r.resolved) : [];
}

/** Whether a ports.json is one the synth wrote (and no ports.yaml/ports.yml is beside it). */
function isWritten(file: string): boolean {
  const dir = path.dirname(file);
  if (['ports.yaml', 'ports.yml'].some(f => fs.existsSync(path.join(dir, f))) || !fs.existsSync(file)) return false;
  try {
    return isResolved(JSON.parse(readRegularFile(file)));
  } catch {
    return false;
  }
}

function writtenRegistry(file: string): TrafficRegistry {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readRegularFile(file));
  } catch (e) {
    throw new UsageError(`${file}: ${(e as Error).message}`);
  }
  const doc = parsed as Partial<TrafficRegistry> & { formatVersion?: unknown };
  if (!isResolved(parsed) || doc.formatVersion !== 1 || !Array.isArray(doc.environments) || !Array.isArray(doc.allocations) || !Array.isArray(doc.connections)) {
    throw new UsageError(`${file} is not a ports.json written by cdk8s-ports (format 1): run the synth again, or pass the registry with -r`);
  }
  return { spec: doc.spec!, environments: doc.environments, allocations: doc.allocations, connections: doc.connections,
    ...(Array.isArray(doc.inbound) ? { inbound: doc.inbound } : {}) };
}

function git(cwd: string, args: string[]): { ok: boolean; out: string; err: string } {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8', maxBuffer: 1 << 30 });
  return { ok: r.status === 0, out: r.stdout ?? '', err: (r.stderr ?? '').trim() || (r.error ? r.error.message : '') };
}

/**
 * The cluster of `folder` as it was at a git revision (files as committed, links never followed:
 * a link's target is not read).
 */
export function loadAtRevision(cwd: string, revision: string, folder: string): Loaded {
  if (revision.startsWith('-')) throw new UsageError(`${revision} is not a git revision`);
  const top = git(cwd, ['rev-parse', '--show-toplevel']);
  if (!top.ok) throw new UsageError(`${cwd} is not in a git repository: give a folder to compare with instead of a revision`);
  const root = top.out.trim();
  const commit = git(root, ['rev-parse', '--verify', '--quiet', `${revision}^{commit}`]);
  if (!commit.ok) throw new UsageError(`${revision}: no such git revision (and no such folder)`);
  const rel = path.relative(root, path.resolve(cwd, folder)).split(path.sep).join('/');
  const list = git(root, ['ls-tree', '-r', '-z', '--full-tree', commit.out.trim(), '--', rel || '.']);
  if (!list.ok) throw new UsageError(`cannot list ${folder} at ${revision}: ${list.err}`);
  const texts: Array<{ file: string; text: string }> = [];
  const linked: Array<{ file: string; message: string }> = [];
  for (const entry of list.out.split('\0').filter(Boolean)) {
    const [meta, file] = entry.split('\t');
    const [mode, type, object] = meta.split(' ');
    // Regular files only: 120000 is a symbolic link (said: it is not followed at a revision), 160000 a submodule.
    if (type === 'blob' && mode === '120000' && /\.(ya?ml|json)$/.test(file)) {
      linked.push({ file: rel ? path.posix.relative(rel, file) : file, message: `a symbolic link: not followed at ${revision} (the working tree's copy is read as kubectl reads it)` });
      continue;
    }
    if (type !== 'blob' || mode === '120000' || !/\.(ya?ml|json)$/.test(file)) continue;
    const blob = git(root, ['cat-file', 'blob', object]);
    if (!blob.ok) throw new UsageError(`cannot read ${file} at ${revision}: ${blob.err}`);
    texts.push({ file: rel ? path.posix.relative(rel, file) : file, text: blob.out });
  }
  const { clusterOf, parseManifests } = netpolLoad();
  const { objects, problems } = parseManifests(texts);
  problems.unshift(...linked);
  if (texts.length === 0) problems.push({ file: folder, message: `no manifest files at ${revision}: everything in the folder now is new` });
  const invalid: InvalidValue[] = [];
  return { cluster: clusterOf(objects, invalid), problems, invalid };
}

/** A folder, or the same folder at a git revision when `base` is not a folder. */
export function loadBase(cwd: string, base: string, folder: string): Loaded {
  const dir = path.resolve(cwd, base);
  if (fs.existsSync(dir) && fs.statSync(dir).isDirectory()) return netpolLoad().loadFolder(dir);
  return loadAtRevision(cwd, base, folder);
}

/**
 * The checks of a folder beyond its traffic: the port chain (lib/validate/port-chain.ts) and the
 * exposure through its routes against the registries' `public` entries (lib/validate/route-exposure.ts).
 */
export function manifestChecks(objects: readonly Load.SourcedObject[], registries: readonly TrafficRegistry[]): Array<Finding & { readonly severity: 'error' | 'warning' }> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { indexObjects, portChain } = require('../validate/port-chain') as typeof PortChain;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { routeDeclarations, routeExposures } = require('../validate/route-exposure') as typeof RouteExposure;
  // (Read once for both.)
  const ix = indexObjects(objects.map(o => ({ object: o.object, origin: o.file, file: o.file })));
  // (None of these rules is an `info`.)
  return [...portChain(ix), ...routeDeclarations(routeExposures(ix), registries, ix)] as Array<Finding & { readonly severity: 'error' | 'warning' }>;
}
