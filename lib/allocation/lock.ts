/**
 * The lock pins automatic allocations, like a package lock pins versions: once a port
 * is chosen it stays until its entry is deleted. Keys are `<env>/<service>/<port>` for
 * ports and `<service>/<port>` for common band offsets.
 */
import type { Lock, LockFile } from '../model/resolved';

export type { Lock, LockFile } from '../model/resolved';
export { emptyLock } from '../model/resolved';

export const LOCKFILE_VERSION = 1;

function sortedRecord(r: Record<string, number>): Record<string, number> {
  // Keys in code-unit order (what sort() does with strings), the same on every machine.
  return Object.fromEntries(Object.keys(r).sort().map(k => [k, r[k]]));
}

/** Parses lock file text; throws an Error naming the problem when it is not a lock file. */
export function parseLockFile(text: string, file = 'ports.lock.json'): LockFile {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file} is not valid JSON (${(e as Error).message}); restore it from git or delete it to reallocate every automatic port`);
  }
  const d = data as Partial<LockFile> | null;
  if (!d || typeof d !== 'object' || d.lockfileVersion !== LOCKFILE_VERSION || typeof d.registries !== 'object' || d.registries === null) {
    throw new Error(`${file} is not a cdk8s-ports lock file (expected { "lockfileVersion": 1, "registries": { … } })`);
  }
  const registries: Record<string, Lock> = {};
  for (const [name, lock] of Object.entries(d.registries)) {
    const fix = 'restore the lock file from git, or delete the entry to let that port be chosen again';
    if (!lock || typeof lock !== 'object' || Array.isArray(lock)) {
      throw new Error(`${file}: registries.${name} is ${JSON.stringify(lock)}, not { "ports": { … }, "offsets": { … } }; ${fix}`);
    }
    for (const kind of ['ports', 'offsets'] as const) {
      const table = (lock as Partial<Lock>)[kind];
      if (table !== undefined && (table === null || typeof table !== 'object' || Array.isArray(table))) {
        throw new Error(`${file}: registries.${name}.${kind} is ${JSON.stringify(table)}, not a map of "<environment>/<service>/<port>" to a port; ${fix}`);
      }
      for (const [key, value] of Object.entries(table ?? {})) {
        if (!Number.isInteger(value)) throw new Error(`${file}: registries.${name}.${kind} entry "${key}" is ${JSON.stringify(value)}, not an integer; ${fix}`);
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
