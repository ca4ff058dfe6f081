import type { Allocation } from '../model/resolved';
import type { ResolvedConnection, ResolvedRegistry } from '../model/resolved';

/**
 * Indexes over a resolved registry that every emitter needs, built once per registry:
 * emitters run over thousands of connections, and a scan of all allocations per connection
 * would make the synth quadratic.
 */
export interface Lookup {
  /** `env/service/port` -> allocation. */
  allocation(environment: string, service: string, portName: string): Allocation | undefined;
  /** The allocations of one service (or external) in one environment, in declaration order. */
  allocationsOf(environment: string, service: string): readonly Allocation[];
  /** The connections a client makes from one environment. */
  connectionsFrom(environment: string, client: string): readonly ResolvedConnection[];
  /** The port a connection reaches: of this registry's target, or of another registry's (`peer`). */
  target(c: ResolvedConnection): Allocation | undefined;
}

const cache = new WeakMap<ResolvedRegistry, Lookup>();
const NONE: readonly never[] = [];

/** Adds `value` to the list under `outer` then `inner`, making the map and list on first use. */
function group<V>(map: Map<string, Map<string, V[]>>, outer: string, inner: string, value: V): void {
  let m = map.get(outer);
  if (!m) map.set(outer, m = new Map());
  const list = m.get(inner);
  if (list) list.push(value);
  else m.set(inner, [value]);
}

export function lookup(resolved: ResolvedRegistry): Lookup {
  let l = cache.get(resolved);
  if (l) return l;
  // environment -> service -> allocations; environment -> client -> connections (no key strings built per call).
  const byService = new Map<string, Map<string, Allocation[]>>();
  for (const a of resolved.allocations) group(byService, a.environment, a.service, a);
  const byClient = new Map<string, Map<string, ResolvedConnection[]>>();
  for (const c of resolved.connections) group(byClient, c.environment, c.from, c);
  const allocationsOf = (environment: string, service: string): readonly Allocation[] => byService.get(environment)?.get(service) ?? NONE;
  l = {
    // A service has a handful of ports: a scan of its list beats building a key.
    allocation: (environment, service, portName) => allocationsOf(environment, service).find(a => a.portName === portName),
    allocationsOf,
    connectionsFrom: (environment, client) => byClient.get(environment)?.get(client) ?? NONE,
    target: c => c.peer?.allocation ?? allocationsOf(c.targetEnvironment, c.to).find(a => a.portName === c.portName),
  };
  cache.set(resolved, l);
  return l;
}
