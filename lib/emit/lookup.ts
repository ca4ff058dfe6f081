import type { Allocation } from '../allocation/allocate';
import type { ResolvedConnection, ResolvedRegistry } from '../check';

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
}

const cache = new WeakMap<ResolvedRegistry, Lookup>();

export function lookup(resolved: ResolvedRegistry): Lookup {
  let l = cache.get(resolved);
  if (l) return l;
  const byPort = new Map<string, Allocation>();
  const byService = new Map<string, Allocation[]>();
  for (const a of resolved.allocations) {
    byPort.set(`${a.environment}/${a.service}/${a.portName}`, a);
    const key = `${a.environment}/${a.service}`;
    const list = byService.get(key);
    if (list) list.push(a);
    else byService.set(key, [a]);
  }
  const byClient = new Map<string, ResolvedConnection[]>();
  for (const c of resolved.connections) {
    const key = `${c.environment}/${c.from}`;
    const list = byClient.get(key);
    if (list) list.push(c);
    else byClient.set(key, [c]);
  }
  l = {
    allocation: (environment, service, portName) => byPort.get(`${environment}/${service}/${portName}`),
    allocationsOf: (environment, service) => byService.get(`${environment}/${service}`) ?? [],
    connectionsFrom: (environment, client) => byClient.get(`${environment}/${client}`) ?? [],
  };
  cache.set(resolved, l);
  return l;
}
