import { formatRange, ownRanges } from '../model/normalize';
import type { ResolvedRegistry } from '../model/resolved';
import type { Protocol, Range } from '../model/schema';
import { PortRules, PortSpace } from './port-space';

/** What {@link freePorts} looks for. */
export interface FreePortQuery {
  /** The environment to allocate in. */
  readonly environment: string;
  /** A category whose ranges to use (within the band). @default the band only */
  readonly category?: string;
  /** How many free ports to find. @default 1 */
  readonly count?: number;
  /** The protocol whose port space to look in. @default 'TCP' */
  readonly protocol?: Protocol;
  /** Ports to keep clear besides the allocations, e.g. every entry of the lock file on disk. @default none */
  readonly reserved?: readonly number[];
  /** Ranges to search instead of the band and category (an environment without a band). @default the band and category */
  readonly within?: readonly Range[];
  /** Extra test, e.g. "not listening on this machine right now". @default none */
  readonly isBusy?: (port: number) => boolean;
}

/** What {@link freePorts} found. */
export interface FreePorts {
  /** The ranges searched. */
  readonly ranges: readonly Range[];
  /** The free ports, lowest first. */
  readonly ports: readonly number[];
}

/**
 * The next free ports for a new service of `environment` (and `category`), in the same
 * order automatic allocation would take them: inside the band and category, not taken by
 * any allocation or fallback in the environment's scope, not avoided or reserved, not a
 * de-facto default and not a system port. Throws an Error with a usable message when the
 * query names something the registry lacks.
 */
export function freePorts(resolved: ResolvedRegistry, query: FreePortQuery): FreePorts {
  const env = resolved.environments.find(e => e.name === query.environment);
  if (!env) throw new Error(`unknown environment "${query.environment}"; the registry has ${resolved.environments.map(e => e.name).join(', ')}`);
  const categories = resolved.spec.categories ?? {};
  const category = query.category !== undefined ? categories[query.category] : undefined;
  if (query.category !== undefined && !category) {
    throw new Error(`unknown category "${query.category}"; the registry has ${Object.keys(categories).join(', ') || 'none'}`);
  }
  let ranges: Range[];
  if (query.within) {
    ranges = [...query.within];
  } else if (env.band && category) {
    ranges = ownRanges(categories, query.category!).map(r => [Math.max(r[0], env.band![0]), Math.min(r[1], env.band![1])] as Range).filter(r => r[0] <= r[1]);
  } else if (env.band) {
    ranges = [env.band];
  } else if (category) {
    ranges = ownRanges(categories, query.category!);
  } else {
    throw new Error(`environment ${env.name} has no band and no category was given: pass --category`);
  }
  const protocol = query.protocol ?? 'TCP';
  // The same port space the allocator and the fixes use: one definition of "free".
  const space = new PortSpace();
  for (const a of resolved.allocations) {
    if (a.scope !== env.scope || a.protocol !== protocol) continue;
    space.allocate(a.port, 0);
    if (a.fallback !== undefined) space.allocate(a.fallback, 0);
  }
  // Pinned ports are allocations already; entries of the lock file read from disk may add stale ones.
  for (const p of query.reserved ?? []) space.allocate(p, 0);
  const rules = new PortRules(resolved.spec);
  const wanted = query.count ?? 1;
  const isBusy = query.isBusy;
  const ports: number[] = [];
  while (ports.length < wanted) {
    const p = space.findNext(ranges, rules, {}, 0, isBusy ? port => !isBusy(port) : undefined);
    if (p === undefined) break;
    ports.push(p);
    space.allocate(p, 0);
  }
  return { ranges, ports };
}

/** `8000-8799, 9000-9799`. */
export function describeRanges(ranges: readonly Range[]): string {
  return ranges.map(formatRange).join(', ');
}
