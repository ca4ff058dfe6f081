/**
 * The lock pins automatic allocations, like a package lock pins versions: once a port
 * is chosen it stays until its entry is deleted. Keys are `<env>/<service>/<port>` for
 * ports and `<service>/<port>` for common band offsets.
 */
import type { Lock, LockFile } from '../model/resolved';
import { yamlLib } from '../file/yaml-lib';

export type { Lock, LockFile } from '../model/resolved';
export { emptyLock } from '../model/resolved';

export const LOCKFILE_VERSION = 1;

function sortedRecord(r: Record<string, number>): Record<string, number> {
  // Keys in code-unit order (what sort() does with strings), the same on every machine.
  return Object.fromEntries(Object.keys(r).sort().map(k => [k, r[k]]));
}

/** The number of keys JSON text writes (every string token followed by `:`), for valid JSON. */
function writtenKeys(text: string): number {
  let n = 0;
  for (const m of text.matchAll(/"(?:[^"\\]|\\.)*"(\s*:)?/g)) if (m[1]) n++;
  return n;
}

/** The number of keys of parsed JSON. */
function parsedKeys(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0;
  if (Array.isArray(value)) return value.reduce<number>((n, v) => n + parsedKeys(v), 0);
  return Object.entries(value).reduce((n, [, v]) => n + 1 + parsedKeys(v), 0);
}

/**
 * Positions in the lock file's text, read by the position-keeping parser when a message needs one
 * (most loads never do): `file:line:column` of a key path, and every repeated key.
 */
function lockPositions(text: string, file: string) {
  const lib = yamlLib();
  const lines = new lib.LineCounter();
  const doc = lib.parseDocument(text, { lineCounter: lines, uniqueKeys: false });
  const at = (offset: number) => {
    const { line, col } = lines.linePos(offset);
    return `${file}:${line}:${col}`;
  };
  return {
    of(path: readonly string[]): string {
      const node = doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
      return node?.range ? at(node.range[0]) : file;
    },
    duplicates(): string[] {
      const out: string[] = [];
      lib.visit(doc, {
        Map(_key, map) {
          const seen = new Set<string>();
          for (const pair of map.items) {
            const key = lib.isScalar(pair.key) ? String(pair.key.value) : undefined;
            if (key === undefined) continue;
            if (seen.has(key)) out.push(`${at((pair.key as { range: [number] }).range[0])}: the key ${JSON.stringify(key)} is written twice (JSON readers keep the last one silently)`);
            seen.add(key);
          }
        },
      });
      return out;
    },
  };
}

/**
 * Parses lock file text; throws an Error naming the problem, at `file:line:column`, when it is not
 * a lock file: not JSON, a key written twice, an entry that is not a map of ports, a port that is
 * not an integer in 1-65535, an offset that is not a whole number.
 */
export function parseLockFile(text: string, file = 'ports.lock.json'): LockFile {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file} is not valid JSON (${(e as Error).message}); restore it from git or delete it to reallocate every automatic port`);
  }
  if (writtenKeys(text) !== parsedKeys(data)) {
    const duplicates = lockPositions(text, file).duplicates();
    if (duplicates.length) throw new Error(`${duplicates.join('\n')}; keep one entry of each (restore the lock file from git, or delete the entry to let that port be chosen again)`);
  }
  const d = data as Partial<LockFile> | null;
  if (!d || typeof d !== 'object' || d.lockfileVersion !== LOCKFILE_VERSION || typeof d.registries !== 'object' || d.registries === null) {
    throw new Error(`${file} is not a cdk8s-ports lock file (expected { "lockfileVersion": 1, "registries": { … } })`);
  }
  const at = (...keys: string[]) => lockPositions(text, file).of(['registries', ...keys]);
  const registries: Record<string, Lock> = {};
  for (const [name, lock] of Object.entries(d.registries)) {
    const fix = 'restore the lock file from git, or delete the entry to let that port be chosen again';
    if (!lock || typeof lock !== 'object' || Array.isArray(lock)) {
      throw new Error(`${at(name)}: registries.${name} is ${JSON.stringify(lock)}, not { "ports": { … }, "offsets": { … } }; ${fix}`);
    }
    for (const kind of ['ports', 'offsets'] as const) {
      const table = (lock as Partial<Lock>)[kind];
      if (table !== undefined && (table === null || typeof table !== 'object' || Array.isArray(table))) {
        throw new Error(`${at(name, kind)}: registries.${name}.${kind} is ${JSON.stringify(table)}, not a map of "<environment>/<service>/<port>" to a port; ${fix}`);
      }
      for (const [key, value] of Object.entries(table ?? {})) {
        if (!Number.isInteger(value)) throw new Error(`${at(name, kind, key)}: registries.${name}.${kind} entry "${key}" is ${JSON.stringify(value)}, not an integer; ${fix}`);
        if (kind === 'ports' && (value < 1 || value > 65535)) throw new Error(`${at(name, kind, key)}: registries.${name}.ports entry "${key}" is ${value}, not a port (1-65535); ${fix}`);
        if (kind === 'offsets' && (value < 0 || value > 65534)) throw new Error(`${at(name, kind, key)}: registries.${name}.offsets entry "${key}" is ${value}, not an offset in a band (0-65534); ${fix}`);
      }
    }
    const ports = (lock as Partial<Lock>).ports ?? {};
    const offsets = (lock as Partial<Lock>).offsets ?? {};
    registries[name] = { ports, offsets };
  }
  return { lockfileVersion: 1, registries };
}

/** Stable text: sorted keys, registries without entries left out. */
export function serializeLockFile(lock: LockFile): string {
  const registries: Record<string, Lock> = {};
  for (const name of Object.keys(lock.registries).sort()) {
    const l = lock.registries[name];
    if (Object.keys(l.ports).length === 0 && Object.keys(l.offsets).length === 0) continue;
    registries[name] = { ports: sortedRecord(l.ports), offsets: sortedRecord(l.offsets) };
  }
  return `${JSON.stringify({ lockfileVersion: LOCKFILE_VERSION, registries }, null, 2)}\n`;
}
