/**
 * The requests of a registry: every declared port in every environment it is present in, sorted
 * into what placement takes in turn. Ports with a known number (an external's, a `port`, an
 * `offset`, an automatic port pinned by the lock) are fixed; `offset: auto` ports of one
 * declaration are a group that needs a common offset; the other automatic ports are new.
 */
import type { Environment, SpecIndex } from '../model/normalize';
import { isInternalIn, ownRanges, presentIn } from '../model/normalize';
import type { Allocation, Lock } from '../model/resolved';
import type { PortSpec, Protocol, Range, RegistrySpec, ServiceSpec } from '../model/schema';
import type { Outcome } from './outcomes';
import type { PortSpace, PortSpaces } from './port-space';
import { PortDecl, Request, declOf, lockKey, pick } from './request';

/** The request of a declared port in one environment. */
export type RequestFor = (decl: PortDecl, env: Environment) => Request;

/**
 * Ports with a known number, as parallel arrays (one entry per port and environment). The source
 * follows from the declaration (see {@link sourceOf}).
 */
export interface FixedPorts {
  readonly decls: PortDecl[];
  readonly envs: Environment[];
  readonly ports: number[];
}

/** The environments of one `offset: auto` port, which take the same offset in their bands. */
export interface OffsetGroup {
  /** Its lock key, `service/port`. */
  readonly key: string;
  readonly requests: readonly Request[];
}

export interface Requests {
  readonly fixed: FixedPorts;
  readonly offsetGroups: readonly OffsetGroup[];
  /** New automatic ports, in declaration order. */
  readonly autos: readonly Request[];
  /** The declaration order of every declaration that is placed (the result lists allocations in it). */
  readonly declRank: ReadonlyMap<PortDecl, number>;
  /** The lock entries still used: pinned ports and offsets (new ones are added as they are chosen). */
  readonly lock: Lock;
}

function intersect(a: Range, b: Range): Range | undefined {
  const lo = Math.max(a[0], b[0]);
  const hi = Math.min(a[1], b[1]);
  return lo <= hi ? [lo, hi] : undefined;
}

/**
 * Builds requests. A request is built when it is placed and dropped after (the allocation is what
 * the result keeps), so a registry's hundred thousand requests never outlive a young-generation
 * collection; their ranges and spaces are looked up once per environment.
 */
export function requestMaker(spec: RegistrySpec, spaces: PortSpaces): RequestFor {
  const categories = spec.categories ?? {};
  const rangesCache = new Map<Environment, Map<string, Range[]>>();
  const rangesFor = (env: Environment, of: 'service' | 'external', category?: string): Range[] => {
    let perEnv = rangesCache.get(env);
    if (!perEnv) rangesCache.set(env, perEnv = new Map());
    const key = of === 'service' ? category ?? '' : `\u0000${category ?? ''}`;
    let ranges = perEnv.get(key);
    if (!ranges) {
      // A category's own ports: its sub-ranges (`within`) are theirs.
      const cat = category !== undefined && categories[category] ? ownRanges(categories, category) : undefined;
      const band = of === 'service' ? env.band : undefined;
      ranges = band && cat ? cat.map(c => intersect(band, c)).filter((x): x is Range => !!x) : band ? [band] : cat ? [...cat] : [];
      ranges.sort((a, b) => a[0] - b[0]);
      perEnv.set(key, ranges);
    }
    return ranges;
  };
  // The space per environment and protocol, without building a key for every port.
  const envSpaces = new Map<Environment, Partial<Record<Protocol, PortSpace>>>();
  const spaceOf = (env: Environment, protocol: Protocol): PortSpace => {
    let perEnv = envSpaces.get(env);
    if (!perEnv) envSpaces.set(env, perEnv = {});
    return perEnv[protocol] ??= spaces.of(env.scope, protocol);
  };
  return (decl, env) => ({
    decl, env, ranges: rangesFor(env, decl.of, decl.category),
    // An internal port is not published on the host: it holds its number in its own container only.
    space: decl.of === 'service' && isInternalIn(decl.spec as PortSpec, env.name)
      ? spaces.of(`${env.scope}\u0000${env.name}\u0000internal\u0000${decl.service}`, decl.protocol) : spaceOf(env, decl.protocol),
    shared: decl.of === 'external' ? `${decl.service}/${decl.portName}@${env.scope}` : undefined,
    // (Set when placed: one object shape for every request.)
    allocation: undefined,
  });
}

/** An external's or a `port` is explicit, an `offset` is an offset, anything else is an automatic port pinned by the lock. */
export function sourceOf(decl: PortDecl): Allocation['source'] {
  const p = decl.spec as { port?: unknown; offset?: unknown };
  return decl.of === 'external' || p.port !== undefined ? 'explicit' : p.offset !== undefined ? 'offset' : 'auto';
}

/** What collecting writes to. */
interface Collector {
  readonly lock: Lock;
  readonly newLock: Lock;
  readonly requestFor: RequestFor;
  readonly outcomes: Outcome[];
  readonly fixed: FixedPorts;
  readonly offsetGroups: OffsetGroup[];
  readonly autos: Request[];
}

const fix = (c: Collector, decl: PortDecl, env: Environment, port: number) => {
  c.fixed.decls.push(decl);
  c.fixed.envs.push(env);
  c.fixed.ports.push(port);
};

/**
 * Every request of the registry, in declaration order: externals first (infrastructure rarely
 * moves), then services. What makes a port unplaceable (several sources, no port for an
 * environment, an offset without a band) is added to `outcomes`.
 */
export function collectRequests(envs: readonly Environment[], lock: Lock, index: SpecIndex, requestFor: RequestFor, outcomes: Outcome[]): Requests {
  const c: Collector = {
    lock, newLock: { ports: {}, offsets: {} }, requestFor, outcomes, fixed: { decls: [], envs: [], ports: [] }, offsetGroups: [], autos: [],
  };
  const declRank = new Map<PortDecl, number>();
  for (let x = 0; x < index.externals.length; x++) {
    const name = index.externalNames[x];
    const ext = index.externals[x];
    const present = presentIn(ext, envs);
    for (const portName in ext.ports) {
      const p = ext.ports[portName];
      const decl = declOf('external', name, portName, `externals.${name}.ports.${portName}`, p, ext);
      declRank.set(decl, declRank.size);
      for (const env of present) fix(c, decl, env, p.port);
    }
  }
  for (let s = 0; s < index.services.length; s++) {
    const name = index.serviceNames[s];
    const svc = index.services[s];
    const present = presentIn(svc, envs);
    for (const portName in svc.ports) {
      const decl = serviceDecl(c, name, portName, svc);
      if (!decl) continue;
      declRank.set(decl, declRank.size);
      const p = svc.ports[portName];
      if (p.port !== undefined) explicitPorts(c, decl, p.port, present);
      else if (p.offset !== undefined) offsetPorts(c, decl, p.offset, present);
      else autoPorts(c, decl, present);
    }
  }
  return { fixed: c.fixed, offsetGroups: c.offsetGroups, autos: c.autos, declRank, lock: c.newLock };
}

/** The declaration of a service's port, unless it gives its port in more than one way (or in none). */
function serviceDecl(c: Collector, name: string, portName: string, svc: ServiceSpec): PortDecl | undefined {
  const p = svc.ports[portName];
  const path = `services.${name}.ports.${portName}`;
  const given = (p.port !== undefined ? 1 : 0) + (p.offset !== undefined ? 1 : 0) + (p.auto !== undefined && p.auto !== false ? 1 : 0);
  if (given > 1) {
    const sources = (['port', 'offset', 'auto'] as const).filter(k => p[k] !== undefined && p[k] !== false);
    c.outcomes.push({ kind: 'several-sources', service: name, portName, path, sources });
    return undefined;
  }
  if (p.auto === false && p.port === undefined && p.offset === undefined) {
    c.outcomes.push({ kind: 'no-source', service: name, portName, path });
    return undefined;
  }
  return declOf('service', name, portName, path, p, svc);
}

/** `port: 8080` or `port: { production: 8080, … }`. */
function explicitPorts(c: Collector, decl: PortDecl, port: NonNullable<PortSpec['port']>, present: readonly Environment[]) {
  for (const env of present) {
    const value = pick(port, env.name);
    if (value === undefined) c.outcomes.push({ kind: 'no-port-for-environment', service: decl.service, portName: decl.portName, path: decl.path, environment: env.name });
    else fix(c, decl, env, value);
  }
}

/** `offset: 5` from each band's start, or `offset: auto`: the lowest offset free in every band (pinned in the lock). */
function offsetPorts(c: Collector, decl: PortDecl, offset: NonNullable<PortSpec['offset']>, present: readonly Environment[]) {
  for (const env of present) if (!env.band) c.outcomes.push({ kind: 'no-band', decl, env });
  if (offset !== 'auto') {
    for (const env of present) if (env.band) fix(c, decl, env, env.band[0] + offset);
    return;
  }
  const key = `${decl.service}/${decl.portName}`;
  const pinned = c.lock.offsets[key];
  const banded = present.filter(env => env.band);
  if (pinned !== undefined) {
    c.newLock.offsets[key] = pinned;
    for (const env of banded) fix(c, decl, env, env.band![0] + pinned);
  } else if (banded.length) {
    c.offsetGroups.push({ key, requests: banded.map(env => c.requestFor(decl, env)) });
  }
}

/** An automatic port: the one the lock pins, or a new one. */
function autoPorts(c: Collector, decl: PortDecl, present: readonly Environment[]) {
  for (const env of present) {
    const key = lockKey(env.name, decl.service, decl.portName);
    const pinned = c.lock.ports[key];
    if (pinned !== undefined) {
      c.newLock.ports[key] = pinned;
      fix(c, decl, env, pinned);
    } else {
      c.autos.push(c.requestFor(decl, env));
    }
  }
}
