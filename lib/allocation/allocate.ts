import { Finding, RuleId, Where, finding } from '../model/finding';
import { Environment, SpecIndex, formatRange, indexSpec, isInternalIn, ownRanges, presentIn } from '../model/normalize';
import type { Allocation, Lock } from '../model/resolved';
import { emptyLock } from '../model/resolved';
import type { PortSpec, Protocol, Range, RegistrySpec } from '../model/schema';
import { SYSTEM_PORT_LIMIT } from '../model/well-known';
import { Relocation, relocate } from './fixes';
import { PortRules, PortSpace, PortSpaces } from './port-space';
import { PortDecl, Request, buildAllocation, declOf, labelOf, lockKey, lockKeyOf, pick, portLabel } from './request';

export type { Allocation } from '../model/resolved';

/** A placed port whose placement the rules check (an external shared by environments of a scope once). */
export interface Placement {
  readonly allocation: Allocation;
  readonly decl: PortDecl;
  readonly env: Environment;
  /** Band ∩ category ranges: where the port belongs. */
  readonly ranges: readonly Range[];
}

export interface AllocationResult {
  readonly allocations: Allocation[];
  readonly findings: Finding[];
  readonly lock: Lock;
  /** What the placement rules look at, in placement order. */
  readonly placements: readonly Placement[];
  /** The port spaces as allocation left them: fixes are planned against them. */
  readonly spaces: PortSpaces;
}

/** Where a request's port may move when it is wrong (see lib/allocation/fixes.ts). */
export function relocationOf(decl: PortDecl, env: Environment, ranges: readonly Range[], verb: string, from?: number,
  wrap?: Relocation['wrap']): Relocation {
  // An external another team owns: its port is not ours to pick; they decide, or the exception is recorded.
  if (decl.of === 'external' && decl.entry.owner) {
    const owner = decl.entry.owner;
    const inner = wrap;
    wrap = (sentence, rule, syntax) => `${decl.service} is an external endpoint: its port is ${owner}'s to choose. Agree with them and record a waiver (` +
      (syntax === 'code' ? `registry.waive({ rule: '${rule}', service: '${decl.service}', reason: 'agreed with ${owner}' })`
        : `waivers: [{ rule: ${rule}, service: ${decl.service}, reason: "agreed with ${owner}" }]`) +
      `), or ask them to ${inner ? inner(sentence, rule, syntax) : sentence}`;
  }
  // A service port of a category that has no range inside the band belongs nowhere until one of them changes.
  const blocked = ranges.length === 0 && decl.of === 'service' && env.band && decl.category !== undefined
    ? `move a range of category ${decl.category} inside ${formatRange(env.band)} or widen the band of ${env.name}, then move the port there` : undefined;
  return {
    scope: env.scope, protocol: decl.protocol, ranges: ranges.length ? ranges : [[decl.privileged ? 1 : SYSTEM_PORT_LIMIT, 65535]],
    use: { kind: decl.kind, privileged: decl.privileged }, verb, ...(from !== undefined ? { from } : {}), ...(wrap ? { wrap } : {}),
    ...(blocked !== undefined ? { blocked } : {}),
  };
}

/** Why an owner other than a placed port holds a port: a request's fallback or a stale lock entry. */
type OtherOwner = 'fallback' | 'stale';

/** An integer in 1-65535. */
export const validPort = (n: number) => Number.isInteger(n) && n >= 1 && n <= 65535;

function intersect(a: Range, b: Range): Range | undefined {
  const lo = Math.max(a[0], b[0]);
  const hi = Math.min(a[1], b[1]);
  return lo <= hi ? [lo, hi] : undefined;
}

/**
 * Places every port of the registry. Explicit, offset and lock-pinned ports are placed
 * first, then new automatic ones in a fixed order, so that adding a service never moves
 * another: an automatic port, once chosen, is pinned in the lock. Collisions are found in
 * one port space per scope and protocol (lib/allocation/port-space.ts), where finding the
 * next free port is amortised constant time, so the cost grows linearly with the number of
 * ports. Whether a placed port sits where it should (band, category, avoided …) is for the
 * placement rules (lib/rules/placement.ts); fixes are written after every rule has run.
 */
export function allocate(spec: RegistrySpec, envs: readonly Environment[], lock: Lock = emptyLock(), index: SpecIndex = indexSpec(spec)): AllocationResult {
  const registry = spec.name;
  const findings: Finding[] = [];
  const allocations: Allocation[] = [];
  const placements: Placement[] = [];
  // Owners of ports, indexed by owner number: the placed allocation, or a fallback / stale lock entry.
  const owners: Array<Allocation | undefined> = [];
  const ownerOther = new Map<number, { kind: OtherOwner; request?: Request; stale?: string }>();
  const addOwner = (a: Allocation): number => owners.push(a) - 1;
  /** Whether two services are declared mutually exclusive (either one's `exclusiveWith` names the other). */
  const exclusive = (a: string, b: string): boolean => a !== b &&
    (!!spec.services?.[a]?.exclusiveWith?.includes(b) || !!spec.services?.[b]?.exclusiveWith?.includes(a));
  const addOtherOwner = (kind: OtherOwner, request?: Request, stale?: string): number => {
    const owner = owners.push(undefined) - 1;
    ownerOther.set(owner, { kind, request, stale });
    return owner;
  };
  /** How a collision names the holder of a port. */
  const ownerLabel = (owner: number): string | undefined => {
    const a = owners[owner];
    if (a) return portLabel(a.service, a.portName, a.of, a.environment);
    const other = ownerOther.get(owner);
    return other?.request ? labelOf(other.request) : undefined;
  };
  const shared = new Map<string, number>();
  const rules = new PortRules(spec);
  const spaces = new PortSpaces(rules);
  const categories = spec.categories ?? {};
  const newLock: Lock = { ports: {}, offsets: {} };
  const collisions: Array<{ request: Request; port: number; other: number; what: 'port' | 'fallback' | 'nodePort' }> = [];

  // The space per environment and protocol, without building a key for every port.
  const envSpaces = new Map<Environment, Partial<Record<Protocol, PortSpace>>>();
  const envSpaceOf = (env: Environment, protocol: Protocol): PortSpace => {
    let perEnv = envSpaces.get(env);
    if (!perEnv) envSpaces.set(env, perEnv = {});
    return perEnv[protocol] ??= spaces.of(env.scope, protocol);
  };
  const useOf = (r: Request) => ({ kind: r.decl.kind, privileged: r.decl.privileged });

  const whereOf = (r: Request, port?: number, extra?: Partial<Where>): Where => ({
    registry, service: r.decl.service, environment: r.env.name, portName: r.decl.portName, ...(port !== undefined ? { port } : {}), path: r.decl.path, ...extra,
  });
  const report = (rule: RuleId, message: string, where: Where, plan?: Relocation, fix?: string) => {
    const f = finding(rule, message, where, fix);
    findings.push(plan ? relocate(f, plan) : f);
  };

  const checkPortValue = (r: Request, value: number, field: string): boolean => {
    if (validPort(value)) return true;
    report('port-range', `${field} ${value} of ${labelOf(r)} is not a port: ports are integers in 1-65535`,
      whereOf(r, value, { path: `${r.decl.path}.${field}` }),
      relocationOf(r.decl, r.env, r.ranges, 'use a port inside', Number.isFinite(value) ? Math.min(Math.max(Math.trunc(value), 0), 65535) : 0));
    return false;
  };

  // An external shared by environments of one scope meets another owner once, not once per environment.
  const sharedClashes = new Set<string>();
  /** Takes the port for `owner`; records a collision when someone else holds it. */
  /** Takes a port for an owner; true when another owner held it (a collision is recorded, or was already for a shared external). */
  const take = (r: Request, space: PortSpace, port: number, owner: number, what: 'port' | 'fallback' | 'nodePort'): boolean => {
    const previous = space.allocate(port, owner);
    if (previous === -1 || previous === owner) return false;
    // Services that never run together (compose profiles of which one is up) may share a port.
    const holder = owners[previous];
    if (holder && holder.of === 'service' && r.decl.of === 'service' && exclusive(r.decl.service, holder.service)) return false;
    if (r.shared !== undefined) {
      const key = `${r.shared} ${what} ${port} ${previous}`;
      if (sharedClashes.has(key)) return true;
      sharedClashes.add(key);
    }
    collisions.push({ request: r, port, other: previous, what });
    return true;
  };

  /**
   * A NodePort is one per number on the scope's nodes, whatever the protocol: two Services cannot
   * share it, but one Service may give it to a TCP and a UDP port of the same number
   * (Kubernetes' NodePort allocator is not protocol-aware; kubernetes/kubernetes#91404).
   */
  const firstNodePort = new Map<string, number>();
  const placeNodePort = (r: Request, a: Allocation, owner: number) => {
    const nodePort = a.nodePort!;
    if (take(r, spaces.of(r.env.scope, `nodePort/${r.decl.protocol}`), nodePort, owner, 'nodePort')) return;
    const key = `${r.env.scope}\u0000${nodePort}`;
    const first = firstNodePort.get(key);
    if (first === undefined) {
      firstNodePort.set(key, owner);
      return;
    }
    const holder = owners[first]!;
    // Only services have NodePorts; one service in two environments is two Services.
    const sameService = holder.service === a.service && holder.environment === a.environment;
    if (!sameService) collisions.push({ request: r, port: nodePort, other: first, what: 'nodePort' });
  };

  /** The fallback a request declares for its primary `port`: a port, or the primary shifted. */
  const declaredFallback = (r: Request, port: number): number | undefined => {
    const f = r.decl.fallback;
    return f === undefined ? undefined : typeof f === 'number' ? f : port + f.shift;
  };
  /** The declared fallback when it is a port at all (placeFallback reports it otherwise). */
  const fallbackOf = (r: Request, port: number): number | undefined => {
    const fb = declaredFallback(r, port);
    return fb !== undefined && validPort(fb) ? fb : undefined;
  };

  /** Places a request's port; returns the allocation's index. */
  /** The well-known ports an automatic port stepped over in its range (not its own kind's): said beside it, not silently. */
  const defactoList = [...rules.defacto.keys()].sort((x, y) => x - y);
  const skippedDefaults = (r: Request, port: number): string => {
    if (defactoList.length === 0) return '';
    const range = r.ranges.find(x => x[0] <= port && port <= x[1]);
    if (!range) return '';
    const passed = defactoList.filter(p => p >= range[0] && p < port && rules.defactoConflict(p, r.decl.kind));
    return passed.length ? `automatic allocation skipped ${passed.map(p => `${p} (${rules.defacto.get(p)!.what})`).join(', ')}` : '';
  };
  const place = (r: Request, port: number, source: Allocation['source']): number => {
    const built = buildAllocation(r, port, source, fallbackOf(r, port));
    const skipped = source === 'auto' ? skippedDefaults(r, port) : '';
    const a: Allocation = skipped ? { ...built, note: skipped } : built;
    allocations.push(a);
    ranks.push(declRank.get(r.decl)! * envs.length + envRank.get(r.env)!);
    let owner: number;
    // An external shared by environments of one scope is one listener: one owner, checked once.
    const known = r.shared !== undefined ? shared.get(r.shared) : undefined;
    if (known !== undefined) {
      owner = known;
    } else {
      owner = addOwner(a);
      if (r.shared !== undefined) shared.set(r.shared, owner);
      placements.push({ allocation: a, decl: r.decl, env: r.env, ranges: r.ranges });
      if (a.nodePort !== undefined && validPort(a.nodePort)) placeNodePort(r, a, owner);
    }
    take(r, r.space, port, owner, 'port');
    return allocations.length - 1;
  };

  /** Holds a placed request's fallback port (after every fixed port is placed). */
  const placeFallback = (r: Request, index: number) => {
    const fb = declaredFallback(r, allocations[index].port);
    if (fb === undefined || !checkPortValue(r, fb, 'fallback')) return;
    const where = whereOf(r, fb, { path: `${r.decl.path}.fallback` });
    if (rules.avoidedPorts.has(fb) || rules.avoidedRange(fb)) report('avoided-port', `fallback ${fb} of ${labelOf(r)} is an avoided port`, where, undefined, 'choose another fallback');
    if (fb < SYSTEM_PORT_LIMIT && !r.decl.privileged) {
      report('privileged-port', `fallback ${fb} of ${labelOf(r)} is a system port that needs privileges to bind`, where, undefined,
        'choose a fallback of 1024 or above (a shift that keeps it there), or add privileged: true to the port if this is intended');
    }
    const key = r.shared !== undefined ? `${r.shared}#fallback` : undefined;
    let owner = key !== undefined ? shared.get(key) : undefined;
    if (owner === undefined) {
      owner = addOtherOwner('fallback', r);
      if (key !== undefined) shared.set(key, owner);
    }
    take(r, r.space, fb, owner, 'fallback');
  };

  // 1. Requests, in declaration order: externals first (infrastructure rarely moves), then services.
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
  /**
   * The request of a declared port in one environment. Built when it is placed and dropped after
   * (the allocation is what the result keeps), so a registry's hundred thousand requests never
   * outlive a young-generation collection.
   */
  const requestFor = (decl: PortDecl, env: Environment): Request => ({
    decl, env, ranges: rangesFor(env, decl.of, decl.category),
    // An internal port is not published on the host: it holds its number in its own container only.
    space: decl.of === 'service' && isInternalIn(decl.spec as PortSpec, env.name)
      ? spaces.of(`${env.scope}\u0000${env.name}\u0000internal\u0000${decl.service}`, decl.protocol) : envSpaceOf(env, decl.protocol),
    shared: decl.of === 'external' ? `${decl.service}/${decl.portName}@${env.scope}` : undefined,
  });
  // Ports with a known number, as parallel arrays (one entry per port and environment). The
  // source follows from the declaration: an external's or a `port` is explicit, an `offset` is an
  // offset, anything else is an automatic port pinned by the lock.
  const fixedDecls: PortDecl[] = [];
  const fixedEnvs: Environment[] = [];
  const fixedPorts: number[] = [];
  const fix = (decl: PortDecl, env: Environment, port: number) => {
    fixedDecls.push(decl);
    fixedEnvs.push(env);
    fixedPorts.push(port);
  };
  const sourceOf = (decl: PortDecl): Allocation['source'] => {
    const p = decl.spec as { port?: unknown; offset?: unknown };
    return decl.of === 'external' || p.port !== undefined ? 'explicit' : p.offset !== undefined ? 'offset' : 'auto';
  };
  const autos: Request[] = [];
  // The result lists allocations in declaration order (then environment order), whatever was placed
  // first: a port that was just pinned in the lock must not come out in another place than a pinned one.
  const declRank = new Map<PortDecl, number>();
  const envRank = new Map(envs.map((e, i) => [e, i] as const));
  const ranks: number[] = [];
  const offsetGroups: Array<{ key: string; requests: Request[] }> = [];

  for (let x = 0; x < index.externals.length; x++) {
    const name = index.externalNames[x];
    const ext = index.externals[x];
    const present = presentIn(ext, envs);
    for (const portName in ext.ports) {
      const p = ext.ports[portName];
      const decl = declOf('external', name, portName, `externals.${name}.ports.${portName}`, p, ext);
      declRank.set(decl, declRank.size);
      for (const env of present) fix(decl, env, p.port);
    }
  }

  for (let s = 0; s < index.services.length; s++) {
    const name = index.serviceNames[s];
    const svc = index.services[s];
    const present = presentIn(svc, envs);
    for (const portName in svc.ports) {
      const p = svc.ports[portName];
      const path = `services.${name}.ports.${portName}`;
      const given = (p.port !== undefined ? 1 : 0) + (p.offset !== undefined ? 1 : 0) + (p.auto !== undefined && p.auto !== false ? 1 : 0);
      if (given > 1) {
        const which = (['port', 'offset', 'auto'] as const).filter(k => p[k] !== undefined && p[k] !== false);
        report('port-source', `${name}.${portName} sets ${which.join(' and ')}; a port is given by exactly one of them`,
          { registry, service: name, portName, path }, undefined, `keep one of ${which.join(', ')}`);
        continue;
      }
      if (p.auto === false && p.port === undefined && p.offset === undefined) {
        report('port-source', `${name}.${portName} sets auto: false but neither port nor offset, so it would still be allocated automatically`,
          { registry, service: name, portName, path: `${path}.auto` }, undefined, 'give it port: or offset:, or remove auto: false (a port without either is automatic)');
        continue;
      }
      const decl = declOf('service', name, portName, path, p, svc);
      declRank.set(decl, declRank.size);
      if (p.port !== undefined) {
        for (const env of present) {
          const port = pick(p.port, env.name);
          if (port === undefined) {
            report('port-source', `${name}.${portName} gives ports per environment but none for ${env.name}`,
              { registry, service: name, portName, environment: env.name, path: `${path}.port` }, undefined, `add ${env.name}: <port> to its port map`);
          } else {
            fix(decl, env, port);
          }
        }
      } else if (p.offset !== undefined) {
        for (const env of present) {
          if (!env.band) {
            report('offset-without-band', `${name}.${portName} uses an offset, but environment ${env.name} has no band`,
              whereOf(requestFor(decl, env)), undefined, `give ${env.name} a range, or give ${name}.${portName} an explicit port`);
          }
        }
        if (p.offset === 'auto') {
          const key = `${name}/${portName}`;
          const pinned = lock.offsets[key];
          const banded = present.filter(env => env.band);
          if (pinned !== undefined) {
            newLock.offsets[key] = pinned;
            for (const env of banded) fix(decl, env, env.band![0] + pinned);
          } else if (banded.length) {
            offsetGroups.push({ key, requests: banded.map(env => requestFor(decl, env)) });
          }
        } else {
          for (const env of present) if (env.band) fix(decl, env, env.band[0] + p.offset);
        }
      } else {
        for (const env of present) {
          const key = lockKey(env.name, name, portName);
          const pinned = lock.ports[key];
          if (pinned !== undefined) {
            newLock.ports[key] = pinned;
            fix(decl, env, pinned);
          } else {
            autos.push(requestFor(decl, env));
          }
        }
      }
    }
  }

  // 2. Fixed ports, then their fallbacks, so automatic ports keep clear of both.
  const placedRequests: Request[] = [];
  const placedIndexes: number[] = [];
  for (let i = 0; i < fixedDecls.length; i++) {
    const r = requestFor(fixedDecls[i], fixedEnvs[i]);
    if (!checkPortValue(r, fixedPorts[i], 'port')) continue;
    const index = place(r, fixedPorts[i], sourceOf(r.decl));
    if (r.decl.fallback !== undefined) {
      placedRequests.push(r);
      placedIndexes.push(index);
    }
  }
  for (let i = 0; i < placedRequests.length; i++) placeFallback(placedRequests[i], placedIndexes[i]);

  // A stale lock entry still holds its port for this run, so a service added in the same
  // change cannot silently take over a port that clients of the removed one may still call.
  // It holds it in the scope of its environment (every environment of that scope sees it).
  const envByName = new Map(envs.map(e => [e.name, e]));
  for (const [key, port] of Object.entries(lock.ports)) {
    const env = envByName.get(key.split('/')[0]);
    if (key in newLock.ports || !env || !validPort(port)) continue;
    spaces.of(env.scope, 'TCP').allocate(port, addOtherOwner('stale', undefined, key));
  }

  // 3. New automatic ports, in declaration order: a common offset across bands first, then per environment.
  for (const group of offsetGroups) {
    const offset = commonOffset(group.requests);
    if (offset === undefined) {
      const r = group.requests[0];
      report('no-free-port', `no offset is free in every band of ${group.requests.map(x => x.env.name).join(', ')} for ${r.decl.service}.${r.decl.portName}`,
        { registry, service: r.decl.service, portName: r.decl.portName, path: r.decl.path }, undefined, 'widen the bands or free an offset');
      continue;
    }
    newLock.offsets[group.key] = offset;
    for (const r of group.requests) placeFallback(r, place(r, r.env.band![0] + offset, 'offset'));
  }
  // Categories that assign sequentially hand out the port after the highest one used, never a gap.
  const sequentialNext = new Map<string, number>();
  const nextSequential = (r: Request): number | undefined => {
    const key = `${r.env.scope}\u0000${r.decl.protocol}\u0000${r.ranges.map(formatRange).join(',')}`;
    let from = sequentialNext.get(key);
    // From the port after the highest one held (highestIn gives -1 when none is); a range wholly below is empty and skipped.
    if (from === undefined) from = r.space.highestIn(r.ranges) + 1;
    const above = r.ranges.map(x => [Math.max(x[0], from!), x[1]] as Range);
    const port = r.space.findNext(above, rules, useOf(r));
    if (port !== undefined) sequentialNext.set(key, port + 1);
    return port;
  };
  for (const r of autos) {
    const sequential = r.decl.category !== undefined && categories[r.decl.category]?.assign === 'sequential';
    const port = sequential ? nextSequential(r) : r.space.findNext(r.ranges, rules, useOf(r));
    if (port === undefined) {
      const category = r.decl.category !== undefined ? categories[r.decl.category] : undefined;
      // A category range that is not a range at all is the invalid-range finding's to report.
      if (r.ranges.length === 0 && (category?.ranges ?? []).some(x => !(validPort(x[0]) && validPort(x[1]) && x[0] <= x[1]))) continue;
      if (r.ranges.length === 0 && category && r.env.band) {
        report('no-free-port', `no free port for ${labelOf(r)}: the ranges of category ${r.decl.category} (${(category.ranges ?? []).map(formatRange).join(', ')}) ` +
          `lie outside the band ${formatRange(r.env.band)} of ${r.env.name}`, whereOf(r), undefined,
          `move a range of category ${r.decl.category} inside ${formatRange(r.env.band)}, or widen the band of ${r.env.name}`);
        continue;
      }
      const why = r.ranges.length === 0 ? 'it has no range: give the environment a band (range) or the service a category'
        : sequential ? `category ${r.decl.category} assigns sequentially and no port is free after the highest one used in ${r.ranges.map(formatRange).join(', ')}`
          : `every port of ${r.ranges.map(formatRange).join(', ')} is taken or avoided`;
      report('no-free-port', `no free port for ${labelOf(r)}: ${why}`, whereOf(r), undefined,
        r.ranges.length === 0 ? `add range: [first, last] to environment ${r.env.name}` : 'widen the range or free a port');
      continue;
    }
    newLock.ports[lockKeyOf(r)] = port;
    placeFallback(r, place(r, port, 'auto'));
  }

  // 4. Collisions. Their fixes are written with every other fix (lib/allocation/fixes.ts).
  for (const c of collisions) {
    const r = c.request;
    const holder = ownerLabel(c.other);
    const why = ownerOther.get(c.other);
    const other = holder ? `${holder}${why?.kind === 'fallback' ? ' as its fallback' : ''}` : `lock entry ${why?.stale} (stale)`;
    const where = { ...whereOf(r, c.port), other: holder ?? `lock entry ${why?.stale}`, ...(c.what === 'fallback' ? { path: `${r.decl.path}.fallback` } : {}) };
    if (c.what === 'nodePort') {
      const theirs = owners[c.other]?.protocol;
      const across = theirs !== undefined && theirs !== r.decl.protocol ? ` on ${theirs} (a NodePort number is taken whatever its protocol)` : '';
      report('collision', `NodePort ${c.port}/${r.decl.protocol} of ${labelOf(r)} is already the NodePort of ${other}${across} (scope ${r.env.scope})`,
        { ...where, path: `${r.decl.path}.nodePort` }, undefined, `give one of them another NodePort in ${formatRange(r.env.nodePortRange)}, or leave nodePort out to let Kubernetes choose`);
      continue;
    }
    // The same port of the same service in another environment of the scope: the environments
    // share a host, and the port cannot be in both. Moving it is one fix; the others are about scopes.
    const holderAllocation = owners[c.other];
    const holderRequest = why?.request;
    const self = (holderAllocation && holderAllocation.of === r.decl.of && holderAllocation.service === r.decl.service && holderAllocation.portName === r.decl.portName) ||
      (holderRequest && holderRequest.decl === r.decl);
    if (self) {
      const envs = [holderAllocation?.environment ?? holderRequest!.env.name, r.env.name];
      report('collision', `${r.decl.service}.${r.decl.portName} runs in ${envs.join(' and ')}, which share a host (scope ${r.env.scope}), ` +
        `and its ${c.what === 'fallback' ? 'fallback ' : ''}port ${c.port}/${r.decl.protocol} would be the same in both`, where, undefined,
        `give the environments different scopes (environments.${r.env.name}.scope), limit ${r.decl.service} to one of them (environments: [${envs[0]}]), ` +
        (c.what === 'fallback' ? 'or give it a fallback that follows its port in each environment (fallback: { shift: <n> })'
          : `or give it a port per environment (port: { ${envs[0]}: ${c.port}, ${r.env.name}: <another port> })`));
      continue;
    }
    const message = `${c.what === 'fallback' ? 'fallback ' : ''}port ${c.port}/${r.decl.protocol} of ${labelOf(r)} is already taken by ${other} (scope ${r.env.scope})`;
    if (c.what === 'fallback') {
      // Another fallback, not another port: where the category keeps fallbacks, else any port it may bind.
      // (The port space keeps fallback ranges from primary ports, so a free one there is not searched for: the range is named.)
      const kept = r.decl.category !== undefined ? categories[r.decl.category]?.fallbackRanges : undefined;
      if (kept?.length) {
        report('collision', message, where, undefined,
          `choose another fallback for ${r.decl.service}.${r.decl.portName} in ${r.env.name} in ${kept.map(formatRange).join(', ')}, one no other port of scope ${r.env.scope} uses`);
      } else {
        report('collision', message, where, relocationOf(r.decl, r.env, [[r.decl.privileged ? 1 : SYSTEM_PORT_LIMIT, 65535]],
          `choose another fallback for ${r.decl.service}.${r.decl.portName} in ${r.env.name}, a free port in`, c.port));
      }
      continue;
    }
    report('collision', message, where, relocationOf(r.decl, r.env, r.ranges, `move ${r.decl.service}.${r.decl.portName} in ${r.env.name} to a free port in`, c.port));
  }

  // 5. Lock entries that no port uses any more.
  for (const [key, value] of Object.entries(lock.ports)) {
    if (!(key in newLock.ports)) findings.push(staleLock(registry, key, value));
  }
  for (const [key, value] of Object.entries(lock.offsets)) {
    if (!(key in newLock.offsets)) findings.push(staleLock(registry, `offset ${key}`, value));
  }
  return { allocations: inDeclarationOrder(allocations, ranks), findings, lock: newLock, placements, spaces };

  /**
   * The lowest offset free in every band of the group. Each request jumps to its own next free
   * port from the candidate; the candidate moves to the furthest of them until all agree, so the
   * search only moves forward (linear in the band, not in the band times the offsets tried).
   */
  function commonOffset(requests: readonly Request[]): number | undefined {
    // Each band bounds its own search (a start past it finds nothing), and o only grows: the loop ends.
    let o = 0;
    for (;;) {
      let next = o;
      for (const r of requests) {
        const start = r.env.band![0] + o;
        // A range wholly below the start becomes empty, which findNext skips.
        const ranges = r.ranges.map(x => [Math.max(x[0], start), x[1]] as Range);
        const port = r.space.findNext(ranges, rules, useOf(r));
        if (port === undefined) return undefined;
        next = Math.max(next, port - r.env.band![0]);
      }
      if (next === o) return o;
      o = next;
    }
  }
}

/** The allocations sorted by rank (stable); the same array when they already are in order. */
function inDeclarationOrder(allocations: Allocation[], ranks: readonly number[]): Allocation[] {
  let sorted = true;
  for (let i = 1; i < ranks.length && sorted; i++) sorted = ranks[i - 1] <= ranks[i];
  if (sorted) return allocations;
  const order = allocations.map((_, i) => i).sort((a, b) => ranks[a] - ranks[b] || a - b);
  return order.map(i => allocations[i]);
}

function staleLock(registry: string, key: string, value: number): Finding {
  const offset = key.startsWith('offset ');
  const [a, b] = (offset ? key.slice('offset '.length) : key).split('/');
  return finding('lock-stale', `lock entry ${key} = ${value} belongs to no automatic port of the registry; it is dropped`,
    { registry, service: offset ? a : b, ...(offset ? {} : { environment: a }), port: value, path: `ports.lock.json ${key}` },
    'commit the updated ports.lock.json');
}
