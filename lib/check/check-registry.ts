/**
 * Checking a registry as data: the entry points of the library's pure API. Both run the one
 * pipeline (lib/check/pipeline.ts).
 */
import type { Lock, ResolvedRegistry } from '../model/resolved';
import type { RegistrySpec } from '../model/schema';
import { resolve } from './pipeline';

export type { InboundConnection, PeerTarget, ResolvedConnection, ResolvedRegistry } from '../model/resolved';

/** Options of {@link checkRegistry}. */
export interface CheckOptions {
  /** Pinned automatic allocations. @default an empty lock */
  readonly lock?: Lock;
  /** Fail (rule lock-outdated) instead of adding or dropping lock entries, as CI should. @default false */
  readonly frozenLock?: boolean;
}

/**
 * Checks a registry and allocates its ports: data in, data out, no I/O. Every finding is
 * reported, not just the first.
 */
export function checkRegistry(input: unknown, options: CheckOptions = {}): ResolvedRegistry {
  return resolve({ spec: input, ...options });
}

/**
 * {@link checkRegistry} for a registry that has already passed the schema (`RegistrySpecSchema`,
 * or the file schema a `ports.yaml` is loaded with): every rule and the allocation, without a
 * second schema pass. Internal: callers must hand it the schema's own output.
 */
export function checkParsed(spec: RegistrySpec, options: CheckOptions = {}): ResolvedRegistry {
  // Stryker disable next-line BooleanLiteral: equivalent, the schema has no transforms: a second pass over its output only costs time
  return resolve({ spec, parsed: true, syntax: 'data', ...options });
}
