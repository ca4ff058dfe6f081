/**
 * The allocator: places every port of a registry and says what it met, as outcomes (see
 * lib/allocation/outcomes.ts; the rules turn them into findings). Its steps are their own files:
 * the requests (requests.ts), placing a port in its port space (placement.ts), finding new ports
 * and common offsets (search.ts).
 */
import { Environment, SpecIndex, indexSpec } from '../model/normalize';
import type { Allocation, Lock } from '../model/resolved';
import { emptyLock } from '../model/resolved';
import type { RegistrySpec } from '../model/schema';
import type { Outcome } from './outcomes';
import { Placement, Placer, declaredFallback } from './placement';
import { PortRules, PortSpaces } from './port-space';
import { Request, lockKeyOf, validPort } from './request';
import { Requests, collectRequests, requestMaker, sourceOf } from './requests';
import { AutoPorts, commonOffset } from './search';

export type { Allocation } from '../model/resolved';
export type { Placement } from './placement';

/** A port held on a host (a scope) for a protocol: another registry's, which new automatic ports keep clear of. */
export interface HeldPort {
  readonly scope: string;
  readonly protocol: string;
  readonly port: number;
}

export interface AllocationResult {
  readonly allocations: Allocation[];
  /** What the allocator met, in the order it met it (lib/rules/allocation.ts reports them). */
  readonly outcomes: readonly Outcome[];
  readonly lock: Lock;
  /** What the placement rules look at, in placement order. */
  readonly placements: readonly Placement[];
  /** The port spaces as allocation left them: fixes are planned against them. */
  readonly spaces: PortSpaces;
}

/**
 * Places every port of the registry. Explicit, offset and lock-pinned ports are placed
 * first, then new automatic ones in a fixed order, so that adding a service never moves
 * another: an automatic port, once chosen, is pinned in the lock. Collisions are found in
 * one port space per scope and protocol (lib/allocation/port-space.ts), where finding the
 * next free port is amortised constant time, so the cost grows linearly with the number of
 * ports. Whether a placed port sits where it should (band, category, avoided …) is for the
 * placement rules (lib/rules/placement.ts); fixes are written after every rule has run.
 *
 * Without `details`, allocations leave out what only outputs show: the IANA name of a port and
 * the note of the well-known ports an automatic port skipped (`check` prints findings alone).
 */
export function allocate(spec: RegistrySpec, envs: readonly Environment[], lock: Lock = emptyLock(), index: SpecIndex = indexSpec(spec),
  foreign: readonly HeldPort[] = [], details = true): AllocationResult {
  const outcomes: Outcome[] = [];
  const spaces = new PortSpaces(new PortRules(spec));
  // 1. Requests, in declaration order: externals first (infrastructure rarely moves), then services.
  const requestFor = requestMaker(spec, spaces);
  const requests = collectRequests(envs, lock, index, requestFor, outcomes);
  // The result lists allocations in declaration order (then environment order), whatever was placed
  // first: a port that was just pinned in the lock must not come out in another place than a pinned one.
  const envRank = new Map(envs.map((e, i) => [e, i] as const));
  const placer = new Placer(spec, spaces, outcomes, r => requests.declRank.get(r.decl)! * envs.length + envRank.get(r.env)!, details);
  // 2. Fixed ports, then their fallbacks, so automatic ports keep clear of both; then stale lock entries.
  placeFixed(placer, requests, requestFor);
  const envByName = new Map(envs.map(e => [e.name, e]));
  for (const [key, port] of Object.entries(lock.ports)) {
    const env = envByName.get(key.split('/')[0]);
    if (key in requests.lock.ports || !env || !validPort(port)) continue;
    placer.holdStale(env.scope, port, key);
  }
  // … and the ports other registries of the same base hold on the same hosts (lib/check/pipeline.ts).
  for (const h of foreign) placer.holdForeign(h.scope, h.protocol, h.port);
  // 3. New automatic ports, in declaration order: a common offset across bands first, then per environment.
  placeNew(placer, requests, outcomes, new AutoPorts(spec, spaces.rules));
  // 4. Collisions, once every port is placed.
  outcomes.push(...placer.collisions);
  // 5. Lock entries that no port uses any more.
  for (const [key, value] of Object.entries(lock.ports)) {
    if (!(key in requests.lock.ports)) outcomes.push({ kind: 'stale-lock', key, value });
  }
  for (const [key, value] of Object.entries(lock.offsets)) {
    if (!(key in requests.lock.offsets)) outcomes.push({ kind: 'stale-lock', key: `offset ${key}`, value });
  }
  return { allocations: inDeclarationOrder(placer.allocations, placer.ranks), outcomes, lock: requests.lock, placements: placer.placements, spaces };
}

/** The service ports (and their fallbacks) of allocations, as ports held on their hosts. */
export function heldPortsOf(allocations: readonly Allocation[]): HeldPort[] {
  return allocations.filter(a => a.of === 'service')
    .flatMap(a => [{ scope: a.scope, protocol: a.protocol, port: a.port }, ...(a.fallback !== undefined ? [{ scope: a.scope, protocol: a.protocol, port: a.fallback }] : [])]);
}

/**
 * The service ports (and their fallbacks) a registry holds whatever else is allocated: explicit
 * ports, offsets, and automatic ports the lock pins. Other registries of the same base keep their
 * new automatic ports clear of them (lib/check/pipeline.ts), without a second allocation.
 */
export function fixedServicePorts(spec: RegistrySpec, envs: readonly Environment[], lock: Lock = emptyLock(), index: SpecIndex = indexSpec(spec)): HeldPort[] {
  const spaces = new PortSpaces(new PortRules(spec));
  const requestFor = requestMaker(spec, spaces);
  const { decls, envs: placed, ports } = collectRequests(envs, lock, index, requestFor, []).fixed;
  const out: HeldPort[] = [];
  for (let i = 0; i < decls.length; i++) {
    if (decls[i].of !== 'service' || !validPort(ports[i])) continue;
    const scope = placed[i].scope;
    const protocol = decls[i].protocol;
    out.push({ scope, protocol, port: ports[i] });
    const fallback = declaredFallback(requestFor(decls[i], placed[i]), ports[i]);
    if (fallback !== undefined) out.push({ scope, protocol, port: fallback });
  }
  return out;
}

/** Places the ports with a known number, then the fallbacks of those that declare one. */
function placeFixed(placer: Placer, requests: Requests, requestFor: (decl: Request['decl'], env: Environment) => Request) {
  const { decls, envs, ports } = requests.fixed;
  const withFallback: Request[] = [];
  const indexes: number[] = [];
  for (let i = 0; i < decls.length; i++) {
    const r = requestFor(decls[i], envs[i]);
    if (!placer.isPort(r, ports[i], 'port')) continue;
    const index = placer.place(r, ports[i], sourceOf(r.decl));
    if (r.decl.fallback !== undefined) {
      withFallback.push(r);
      indexes.push(index);
    }
  }
  for (let i = 0; i < withFallback.length; i++) placer.placeFallback(withFallback[i], indexes[i]);
}

/** Chooses and places new ports (and pins them in the lock): common offsets first, then automatic ports. */
function placeNew(placer: Placer, requests: Requests, outcomes: Outcome[], autos: AutoPorts) {
  for (const group of requests.offsetGroups) {
    const offset = commonOffset(group.requests, autos.rules);
    if (offset === undefined) {
      outcomes.push({ kind: 'no-common-offset', requests: group.requests });
      continue;
    }
    requests.lock.offsets[group.key] = offset;
    for (const r of group.requests) placer.placeFallback(r, placer.place(r, r.env.band![0] + offset, 'offset'));
  }
  for (const r of requests.autos) {
    const port = autos.next(r);
    if (typeof port !== 'number') {
      outcomes.push(port);
      continue;
    }
    requests.lock.ports[lockKeyOf(r)] = port;
    placer.placeFallback(r, placer.place(r, port, 'auto'));
  }
}

/**
 * The allocations sorted by rank (stable); the same array when they already are in order. Ranks
 * are distinct (one allocation per declaration and environment): each allocation goes straight to
 * its rank's slot, without a comparison sort (ranks met twice are sorted the usual way).
 */
function inDeclarationOrder(allocations: Allocation[], ranks: readonly number[]): Allocation[] {
  let sorted = true;
  let max = -1;
  for (let i = 0; i < ranks.length; i++) {
    if (i > 0 && ranks[i - 1] > ranks[i]) sorted = false;
    if (ranks[i] > max) max = ranks[i];
  }
  if (sorted) return allocations;
  const slots = new Array<Allocation | undefined>(max + 1);
  for (let i = 0; i < ranks.length; i++) {
    if (slots[ranks[i]] !== undefined) return sortedByRank(allocations, ranks);
    slots[ranks[i]] = allocations[i];
  }
  const out: Allocation[] = [];
  for (const a of slots) if (a !== undefined) out.push(a);
  return out;
}

function sortedByRank(allocations: Allocation[], ranks: readonly number[]): Allocation[] {
  const order = allocations.map((_, i) => i).sort((a, b) => ranks[a] - ranks[b] || a - b);
  return order.map(i => allocations[i]);
}
