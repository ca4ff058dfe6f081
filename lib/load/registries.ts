/**
 * Reading the registries of a project: a ports.yaml/ports.json (with its lock and base), or the
 * ports.json a synth wrote. The CLI, the cdk8s validation plugin and the tests read them this way.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseLockFile } from '../allocation/lock';
import { Lock, LockFile, emptyLock } from '../model/resolved';
import type { ResolvedRegistry } from '../model/resolved';
import type * as Pipeline from '../check/pipeline';
import type { RegistryInput } from '../check/pipeline';
import { RESOLVED_FORMAT_VERSION } from '../emit/resolved-json';
import type * as RegistryFile from '../file/registry-file';
import type * as Extend from '../model/extend';
import type * as CheckFiles from '../compose/check-files';
import type { Finding } from '../model/finding';
import type * as Normalize from '../model/normalize';
import type { RegistrySpec } from '../model/schema';
import { ReadError, readRegularFile } from '../io/read';

/*
 * The pipeline and the registry file's reader (zod, the rules) are loaded when a registry is
 * read, not when the CLI starts: `verify`, `explain` and `diff --traffic` on a folder the synth
 * wrote, `scan` and `--help` never need them.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
const pipeline = () => require('../check/pipeline') as typeof Pipeline;
const registryFile = () => require('../file/registry-file') as typeof RegistryFile;
const extend = () => require('../model/extend') as typeof Extend;
const checkFiles = () => require('../compose/check-files') as typeof CheckFiles;
const normalize = () => require('../model/normalize') as typeof Normalize;
/* eslint-enable @typescript-eslint/no-require-imports */

/** Bad arguments or input that cannot be read: exit code 2. */
export class UsageError extends Error {}

export interface LoadedRegistry {
  readonly name: string;
  /** The file it was read from. */
  readonly source: string;
  /** 'file' for ports.yaml/ports.json, 'resolved' for the ports.json a synth writes. */
  readonly kind: 'file' | 'resolved';
  readonly resolved: ResolvedRegistry;
  /** The lock entries on disk for this registry (stale ones included). */
  readonly lock: Lock;
  /** The project folder (where ports.lock.json and cdk8s.yaml live). */
  readonly root: string;
}

const REGISTRY_FILES = ['ports.yaml', 'ports.yml', 'ports.json'];

/** Whether `dir` holds a registry file of its own (ports.yaml, ports.yml or ports.json). */
export function hasRegistryFile(dir: string): boolean {
  return REGISTRY_FILES.some(f => fs.existsSync(path.join(dir, f)));
}

function readLock(root: string): LockFile {
  const file = path.join(root, 'ports.lock.json');
  if (!fs.existsSync(file)) return { lockfileVersion: 1, registries: {} };
  try {
    return parseLockFile(readRegularFile(file), file);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** The project root for a registry file: the nearest folder up with a lock file, cdk8s.yaml or package.json. */
function rootOf(file: string, fallback: string): string {
  let dir = path.dirname(path.resolve(file));
  for (;;) {
    if (['ports.lock.json', 'cdk8s.yaml', 'package.json'].some(f => fs.existsSync(path.join(dir, f)))) return dir;
    const up = path.dirname(dir);
    if (up === dir) return fallback;
    dir = up;
  }
}

/** Whether parsed JSON is a ports.json the synth wrote (the resolved registry, with its spec). */
export function isResolved(data: unknown): data is { formatVersion: number; generatedBy: string; registry: string; spec: RegistrySpec } {
  const d = data as { generatedBy?: unknown; spec?: unknown };
  return !!d && typeof d === 'object' && d.generatedBy === 'cdk8s-ports' && !!d.spec && typeof d.spec === 'object' && !Array.isArray(d.spec) &&
    typeof (d.spec as { name?: unknown }).name === 'string';
}

/** A registry file read and parsed, ready for the pipeline. */
interface Pending {
  readonly name: string;
  readonly source: string;
  readonly kind: 'file' | 'resolved';
  readonly lock: Lock;
  readonly root: string;
  readonly input: RegistryInput;
}

function readOne(file: string, cwd: string, options: LoadOptions = {}): Pending {
  let text: string;
  try {
    text = readRegularFile(file);
  } catch (e) {
    throw new UsageError(e instanceof ReadError ? `cannot read ${e.file}: it ${e.reason}` : `cannot read ${file}: ${(e as Error).message}`);
  }
  const display = path.relative(cwd, file) || file;
  const root = rootOf(file, cwd);
  const locks = readLock(root);
  const frozenLock = options.frozenLock;

  if (file.endsWith('.json')) {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      data = undefined; // read below with positions
    }
    const generated = !!data && typeof data === 'object' && (data as { generatedBy?: unknown }).generatedBy === 'cdk8s-ports';
    if (generated && !isResolved(data)) {
      throw new UsageError(`${display} was written by cdk8s-ports but holds no registry (its "spec" is missing or not a map); synthesize again`);
    }
    if (isResolved(data)) {
      if (data.formatVersion !== RESOLVED_FORMAT_VERSION) {
        throw new UsageError(`${display} was written by another version of cdk8s-ports (format ${data.formatVersion}); synthesize again`);
      }
      const lock = normalize().ownEntry(locks.registries, data.spec.name) ?? emptyLock();
      return { name: data.spec.name, source: display, kind: 'resolved', lock, root, input: { spec: data.spec, lock, frozenLock, details: options.details } };
    }
  }
  // A file without a name is named after itself, as `cdk8s-ports import` would name it.
  const { loadBaseFile, locateFindings, parseRegistryText } = registryFile();
  const loaded = parseRegistryText(text, display, undefined, path.basename(file).replace(/\.(ya?ml|json)$/, ''));
  if (loaded.unreadable) {
    throw new UsageError(loaded.findings.map(f => `${f.where.file ?? display}: ${f.message}`).join('\n'));
  }
  const name = loaded.spec?.name ?? loaded.name ?? path.basename(file).replace(/\.(ya?ml|json)$/, '');
  const lock = normalize().ownEntry(locks.registries, name) ?? emptyLock();
  if (!loaded.spec) {
    return { name, source: display, kind: 'file', lock, root, input: { spec: undefined, findings: loaded.findings } };
  }
  const { extends: basePath, ...own } = loaded.spec;
  let spec: RegistrySpec = own;
  if (basePath !== undefined) {
    const baseFile = path.resolve(path.dirname(file), basePath);
    const loadedBase = loadBaseFile(baseFile, path.relative(cwd, baseFile), [realFile(file)]);
    if (!loadedBase.base) throw new UsageError(`base ${basePath} of ${display}: ${loadedBase.findings.map(f => f.message).join('; ')}`);
    spec = extend().extendSpec(loadedBase.base, own);
  }
  return {
    name, source: display, kind: 'file', lock, root,
    input: {
      spec,
      // The file schema has validated `own` already; a merge with a base is checked whole again.
      parsed: basePath === undefined,
      syntax: 'data', lock, frozenLock, details: options.details,
      // composeChecks name files relative to the registry file, as `extends` does: the same wherever the command runs.
      composeChecks: r => checkFiles().composeCheckFindings(r, path.dirname(file), `the registry file's folder`),
      // Kubernetes-only rules where the file asks for Kubernetes, or sits beside a cdk8s app's cdk8s.yaml.
      kubernetes: normalize().asksForKubernetes(spec) || fs.existsSync(path.join(path.dirname(file), 'cdk8s.yaml')),
      locate: findings => locateFindings(findings, loaded.locate),
    },
  };
}

/** The ports.json files a synth wrote under a folder, sorted. */
export function resolvedFilesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.isDirectory()) walk(path.join(d, e.name));
      else if (e.name === 'ports.json') out.push(path.join(d, e.name));
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out;
}

/**
 * The registries a command works on: the file given, or else the project's own (a
 * ports.yaml/ports.yml/ports.json in the folder, else every ports.json a synth wrote under
 * manifests/).
 */
export interface LoadOptions {
  /** Report lock-outdated instead of planning lock changes. @default false */
  readonly frozenLock?: boolean;
  /**
   * Whether allocations carry what only outputs show (IANA names, skipped-port notes); a command
   * that prints findings alone (check) goes without. @default true
   */
  readonly details?: boolean;
}

export function loadRegistries(args: string | readonly string[] | undefined, cwd = process.cwd(), options: LoadOptions = {}): LoadedRegistry[] {
  const list = typeof args === 'string' ? [args] : args ?? [];
  const files = list.length ? list.flatMap(a => registryFiles(a, cwd)) : registryFiles(undefined, cwd);
  const pending = files.map(f => readOne(f, cwd, options));
  // One pipeline for the whole set: registries checked together see each other's collisions,
  // and their waivers reach those findings too.
  const resolved = pipeline().resolveAll(pending.map(p => p.input));
  return pending.map((p, i) => ({ name: p.name, source: p.source, kind: p.kind, lock: p.lock, root: p.root, resolved: resolved[i] }));
}

/** The registry files an argument names (a file, or a folder's own registry), or the project's own. */
function registryFiles(arg: string | undefined, cwd: string): string[] {
  if (arg !== undefined) {
    const target = path.resolve(cwd, arg);
    if (fs.existsSync(target) && fs.statSync(target).isDirectory()) return registryFiles(undefined, target);
    return [target];
  }
  for (const name of REGISTRY_FILES) {
    const file = path.join(cwd, name);
    if (fs.existsSync(file)) return [file];
  }
  const resolved = resolvedFilesUnder(path.join(cwd, 'manifests'));
  if (resolved.length) return resolved;
  throw new UsageError(`no registry found in ${cwd}: pass a ports.yaml/ports.json, or run the synth so that manifests/ports.json exists`);
}

export function allFindings(registries: readonly LoadedRegistry[]): Finding[] {
  return registries.flatMap(r => r.resolved.findings);
}


/** The file as its real path (for the loop check of extends), or as given when it does not resolve. */
function realFile(file: string): string {
  try {
    return fs.realpathSync(file);
  } catch {
    return path.resolve(file);
  }
}
