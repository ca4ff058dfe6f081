import * as fs from 'fs';
import * as path from 'path';
import ignore, { Ignore } from 'ignore';
import type { Allocation } from '../model/resolved';
import type * as Normalize from '../model/normalize';

/* fast-glob and the model (zod) are loaded when a scan runs, not at every command's start. */
/* eslint-disable @typescript-eslint/no-require-imports */
const fastGlob = (): typeof import('fast-glob') => require('fast-glob');
const normalize = () => require('../model/normalize') as typeof Normalize;
/* eslint-enable @typescript-eslint/no-require-imports */

export interface ScanHit {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly port: number;
  /** The line, trimmed. */
  readonly text: string;
  /** Who the registry gives this port to, e.g. `pourtier.http (production)`. */
  readonly owners: readonly string[];
  /**
   * `collision`: the file belongs to one service (its path names it) and hard-codes another's
   * port; `duplicate`: a copy of a registry port that will drift when the registry changes.
   */
  readonly kind: 'collision' | 'duplicate';
  /** The variable the code should read instead. */
  readonly variable: string;
}

const EXTENSIONS = new Set(['.ts', '.tsx', '.js', '.jsx', '.mjs', '.cjs', '.py', '.go', '.yaml', '.yml', '.json', '.env', '.toml', '.ini', '.conf']);
export const DEFAULT_EXCLUDES = ['node_modules', '.git', 'manifests', '.cdk8s.out', 'build', 'dist', 'coverage'];
const SKIPPED_FILES = new Set(['package-lock.json', 'ports.lock.json', 'ports.yaml', 'ports.yml', 'yarn.lock', 'pnpm-lock.yaml']);
const MAX_BYTES = 1024 * 1024;

/** Lines that talk about ports; a bare number elsewhere (a timeout, a count) is not reported. */
const PORTISH = /\b(ports?|listen|expose|bind|addr|address|url|uri|host)\b|localhost|127\.0\.0\.1|0\.0\.0\.0|https?:\/\/|_PORT\b|PORT=/i;
const NUMBER = /(?<![\w.$-])(\d{2,5})(?![\w.])/g;

export function scannable(file: string): boolean {
  const base = path.basename(file);
  if (SKIPPED_FILES.has(base)) return false;
  return EXTENSIONS.has(path.extname(base)) || /^Dockerfile/.test(base) || /^\.env/.test(base) || /^docker-compose/.test(base);
}

/** The `.env` variable of an allocation when its port names none of its own (`env`): `<SERVICE>_<PORT>_PORT`. */
export function envVariableFor(a: Allocation): string {
  return `${normalize().envVarStem(a.service, a.portName)}_PORT`;
}

/** Hard-coded registry ports in one file's text. `byPort` maps a port to its allocations. */
export function scanText(text: string, file: string, byPort: ReadonlyMap<number, readonly Allocation[]>, services: ReadonlySet<string>,
  variableOf: (a: Allocation) => string = envVariableFor): ScanHit[] {
  const segments = file.split(/[\\/]/);
  const owner = segments.find(s => services.has(s));
  const hits: ScanHit[] = [];
  text.split('\n').forEach((line, i) => {
    for (const m of line.matchAll(NUMBER)) {
      const port = Number(m[1]);
      const allocations = byPort.get(port);
      if (!allocations) continue;
      const column = m.index! + 1;
      const before = line[m.index! - 1];
      const after = line[m.index! + m[1].length];
      if (!(before === ':' || after === ':' || PORTISH.test(line))) continue;
      const mine = owner !== undefined && allocations.some(a => a.service === owner);
      const kind = owner !== undefined && !mine ? 'collision' : 'duplicate';
      const reference = allocations.find(a => a.service === owner) ?? allocations[0];
      hits.push({
        file, line: i + 1, column, port, text: line.trim().slice(0, 200), kind, variable: mine ? 'PORT' : variableOf(reference),
        owners: [...new Set(allocations.map(a => `${a.service}.${a.portName} (${a.environment})`))],
      });
    }
  });
  return hits;
}

/** The nearest folder at or above `dir` that holds `.git` (where a repository's `.gitignore` files start), or undefined. */
function gitRoot(dir: string): string | undefined {
  for (let d = dir; ; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, '.git'))) return d;
    if (path.dirname(d) === d) return undefined;
  }
}

/**
 * Every scannable file under `dir`, in a stable order: folders named in `excludes` are skipped,
 * and so is whatever a `.gitignore` ignores (in `dir`, its subfolders, and the folders above it up
 * to the repository's root), as git itself would. Symbolic links are not followed.
 */
export function filesUnder(dir: string, excludes: readonly string[], skip: ReadonlySet<string> = new Set()): string[] {
  const ignoreDirs = excludes.map(e => `**/${e}/**`);
  const found = fastGlob().sync('**/*', { cwd: dir, dot: true, onlyFiles: true, followSymbolicLinks: false, ignore: ignoreDirs, absolute: true, suppressErrors: true });
  // Each .gitignore applies to paths relative to its own folder.
  const top = gitRoot(dir) ?? dir;
  const above: string[] = [];
  if (top !== dir) {
    for (let d = path.dirname(dir); ; d = path.dirname(d)) {
      above.push(d);
      if (d === top || path.dirname(d) === d) break;
    }
  }
  const inside = fastGlob().sync('**/.gitignore', { cwd: dir, dot: true, ignore: ignoreDirs, absolute: true, suppressErrors: true }).map(f => path.dirname(f));
  const rules = new Map<string, Ignore>();
  for (const d of [...above, dir, ...inside]) {
    const file = path.join(d, '.gitignore');
    if (!rules.has(d) && fs.existsSync(file)) rules.set(d, ignore().add(fs.readFileSync(file, 'utf8')));
  }
  const ignored = (file: string) => [...rules].some(([d, ig]) => {
    const rel = path.relative(d, file);
    return !rel.startsWith('..') && !path.isAbsolute(rel) && ig.ignores(rel.split(path.sep).join('/'));
  });
  return found.filter(f => scannable(f) && !skip.has(path.resolve(f)) && !ignored(f)).sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
}

export function scanTree(dir: string, allocations: readonly Allocation[], excludes: readonly string[] = DEFAULT_EXCLUDES, cwd = process.cwd(),
  skip: ReadonlySet<string> = new Set(), variableOf: (a: Allocation) => string = envVariableFor): ScanHit[] {
  return scanTreeWithNotes(dir, allocations, excludes, cwd, skip, variableOf).hits;
}

/** A file scan did not read, and why (said to the user: a file left out is never silent). */
export interface ScanSkip {
  readonly file: string;
  readonly reason: string;
}

/** {@link scanTree}, with the files it left out (larger than 1 MB). */
export function scanTreeWithNotes(dir: string, allocations: readonly Allocation[], excludes: readonly string[] = DEFAULT_EXCLUDES, cwd = process.cwd(),
  skip: ReadonlySet<string> = new Set(), variableOf: (a: Allocation) => string = envVariableFor): { hits: ScanHit[]; skipped: ScanSkip[] } {
  const byPort = new Map<number, Allocation[]>();
  for (const a of allocations) {
    for (const port of new Set([a.port, a.targetPort])) byPort.set(port, [...(byPort.get(port) ?? []), a]);
  }
  const services = new Set(allocations.map(a => a.service));
  const hits: ScanHit[] = [];
  const skipped: ScanSkip[] = [];
  for (const file of filesUnder(dir, excludes, skip)) {
    const size = fs.statSync(file).size;
    if (size > MAX_BYTES) {
      skipped.push({ file: path.relative(cwd, file) || file, reason: `larger than 1 MB (${(size / 1024 / 1024).toFixed(1)} MB), not scanned` });
      continue;
    }
    const text = fs.readFileSync(file, 'utf8');
    if (text.includes('\u0000')) continue;
    hits.push(...scanText(text, path.relative(cwd, file) || file, byPort, services, variableOf));
  }
  return { hits, skipped };
}
