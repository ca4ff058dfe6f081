/**
 * The allocator as it was before the port space (commit d7cc558), kept as a test oracle only:
 * test/allocation.test.ts checks that the linear allocator places every port exactly where this
 * quadratic one did, on random registries. Not part of the library.
 */
/* eslint-disable */
/** The old owner table: a port -> owner array per scope and protocol. */
class PortAllocator {
  private readonly owners = new Int32Array(65536).fill(-1);
  public allocate(port: number, owner: number): number {
    const previous = this.owners[port];
    if (previous === -1) this.owners[port] = owner;
    return previous;
  }
  public has(port: number): boolean {
    return this.owners[port] !== -1;
  }
}
type Request = Omit<NewRequest, 'space'> & { readonly space: PortAllocator };
const asNew = (r: Request) => r as unknown as NewRequest;
const labelOf = (r: Request) => labelOfNew(asNew(r));
const lockKeyOf = (r: Request) => lockKeyOfNew(asNew(r));
const buildAllocation = (r: Request, port: number, source: Allocation['source'], fallback?: number) => buildNew(asNew(r), port, source, fallback);
import { Finding, RuleId, Where, finding } from '../../lib/model/finding';
import {
  Environment, SpecIndex, avoidedPortsOf, avoidedRangesOf, defactoPortsOf, formatRange, inAny, inRange, indexSpec, presentIn,
} from '../../lib/model/normalize';
import type { Protocol, Range, RegistrySpec } from '../../lib/model/schema';
import { SYSTEM_PORT_LIMIT } from '../../lib/model/well-known';
import { Lock, emptyLock } from '../../lib/model/resolved';
import { PortDecl, Request as NewRequest, buildAllocation as buildNew, declOf, labelOf as labelOfNew, lockKey, lockKeyOf as lockKeyOfNew, pick, portLabel } from '../../lib/allocation/request';
import type { Allocation } from '../../lib/model/resolved';


export interface AllocationResult {
  readonly allocations: Allocation[];
  readonly findings: Finding[];
  readonly lock: Lock;
}

/** Why an owner other than a placed port holds a port: a request's fallback, a stale lock entry or a suggested fix. */
type OtherOwner = 'fallback' | 'stale' | 'suggested';

const validPort = (n: number) => Number.isInteger(n) && n >= 1 && n <= 65535;

function intersect(a: Range, b: Range): Range | undefined {
  const lo = Math.max(a[0], b[0]);
  const hi = Math.min(a[1], b[1]);
  return lo <= hi ? [lo, hi] : undefined;
}

/**
 * Places every port of the registry. Explicit, offset and lock-pinned ports are placed
 * first, then new automatic ones in a fixed order, so that adding a service never moves
 * another: an automatic port, once chosen, is pinned in the lock. Collisions are found with
 * one owner table per scope and protocol (as Kubernetes' port allocator does with a bitmap),
 * so the cost grows linearly with the number of ports.
 */
export function referenceAllocate(spec: RegistrySpec, envs: readonly Environment[], lock: Lock = emptyLock(), index: SpecIndex = indexSpec(spec)): AllocationResult {
  const registry = spec.name;
  const findings: Finding[] = [];
  const allocations: Allocation[] = [];
  // Owners of ports, indexed by owner number: the placed allocation (which the result keeps
  // anyway, so no request outlives its placement), and rarely a request or lock entry instead.
  const owners: Array<Allocation | undefined> = [];
  const ownerOther = new Map<number, { kind: OtherOwner; request?: Request; stale?: string }>();
  const addOwner = (a: Allocation): number => owners.push(a) - 1;
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
  const spaces = new Map<string, PortAllocator>();
  const avoidedPorts = avoidedPortsOf(spec);
  const avoidedRanges = avoidedRangesOf(spec);
  const defacto = defactoPortsOf(spec);
  const categories = spec.categories ?? {};
  const newLock: Lock = { ports: {}, offsets: {} };
  const collisions: Array<{ request: Request; port: number; other: number; what: 'port' | 'fallback' }> = [];

  const spaceOf = (scope: string, protocol: Protocol) => {
    const key = `${scope}/${protocol}`;
    let space = spaces.get(key);
    if (!space) spaces.set(key, space = new PortAllocator());
    return space;
  };
  // The same lookup per environment and protocol, without building a key for every port.
  const envSpaces = new Map<Environment, Partial<Record<Protocol, PortAllocator>>>();
  const envSpaceOf = (env: Environment, protocol: Protocol): PortAllocator => {
    let perEnv = envSpaces.get(env);
    if (!perEnv) envSpaces.set(env, perEnv = {});
    return perEnv[protocol] ??= spaceOf(env.scope, protocol);
  };
  const avoidedRange = (port: number) => (avoidedRanges.length ? avoidedRanges.find(a => inRange(port, a.range)) : undefined);
  const defactoConflict = (port: number, kind?: string) => {
    const d = defacto.get(port);
    return d && !(kind && d.kinds?.includes(kind)) ? d : undefined;
  };
  const isFree = (r: Request, port: number) =>
    validPort(port) && !r.space.has(port) && !avoidedPorts.has(port) && !avoidedRange(port) &&
    !defactoConflict(port, r.decl.kind) && (r.decl.privileged || port >= SYSTEM_PORT_LIMIT);

  /** The first free port at or after `from` in the request's ranges, wrapping to their start. */
  const nextFree = (r: Request, ranges: readonly Range[] = r.ranges, from = 0): number | undefined => {
    const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
    for (const pass of from === 0 ? [0] : [from, 0]) {
      for (const range of sorted) {
        for (let p = Math.max(range[0], pass); p <= range[1]; p++) if (isFree(r, p)) return p;
      }
    }
    return undefined;
  };

  /** For a fix, a request without a band or category may take any non-system port. */
  const fixRanges = (r: Request): readonly Range[] => (r.ranges.length ? r.ranges : [[SYSTEM_PORT_LIMIT, 65535]]);
  const suggestion = (r: Request, verb: string, from?: number): string => {
    const ranges = fixRanges(r);
    const free = nextFree(r, ranges, from);
    const where = ranges.map(formatRange).join(', ');
    return free === undefined ? `${verb} ${where} (no free port is left there: widen the range)` : `${verb} ${where}: the next free port is ${free}`;
  };

  const whereOf = (r: Request, port?: number, extra?: Partial<Where>): Where => ({
    registry, service: r.decl.service, environment: r.env.name, portName: r.decl.portName, ...(port !== undefined ? { port } : {}), path: r.decl.path, ...extra,
  });
  const report = (rule: RuleId, message: string, where: Where, fix?: string) => findings.push(finding(rule, message, where, fix));

  const checkPortValue = (r: Request, value: number, field: string): boolean => {
    if (validPort(value)) return true;
    report('port-range', `${field} ${value} of ${labelOf(r)} is not a port: ports are integers in 1-65535`,
      whereOf(r, value, { path: `${r.decl.path}.${field}` }), suggestion(r, 'use a port inside', Number.isFinite(value) ? value : 0));
    return false;
  };

  /** Takes the port for `owner`; records a collision when someone else holds it. */
  const take = (r: Request, port: number, owner: number, what: 'port' | 'fallback') => {
    const previous = r.space.allocate(port, owner);
    if (previous !== -1 && previous !== owner) collisions.push({ request: r, port, other: previous, what });
  };

  const pinnedNote = (r: Request, a: Allocation) =>
    (a.source === 'auto' && r.decl.of === 'service' ? ` (pinned in the lock file as ${lockKeyOf(r)}; delete that entry to reallocate)` : '');

  /** The rules that look at one placed port; they only build messages when something is wrong. */
  const checkPlacement = (r: Request, a: Allocation) => {
    const port = a.port;
    const decl = r.decl;
    if (decl.of === 'service' && r.env.band && !inRange(port, r.env.band)) {
      report('outside-band', `${labelOf(r)} is on ${port}, outside ${r.env.name}'s band ${formatRange(r.env.band)}${pinnedNote(r, a)}`,
        whereOf(r, port), suggestion(r, 'move it into'));
    }
    const category = decl.category !== undefined ? categories[decl.category] : undefined;
    if (category && !inAny(port, category.ranges ?? [])) {
      report('outside-category', `${labelOf(r)} is on ${port}, outside category ${decl.category} (${(category.ranges ?? []).map(formatRange).join(', ')})${pinnedNote(r, a)}`,
        whereOf(r, port, { category: decl.category }), suggestion(r, 'move it into'));
    }
    if (avoidedPorts.has(port)) {
      report('avoided-port', `${labelOf(r)} is on ${port}, an avoided port (${avoidedPorts.get(port)})`, whereOf(r, port), suggestion(r, 'pick a port in', port));
    }
    const avoided = avoidedRange(port);
    if (avoided) {
      const what = avoided.source === 'avoid' ? 'an avoided range' : `reserved category ${avoided.source}`;
      report(avoided.source === 'avoid' ? 'avoided-port' : 'reserved-range',
        `${labelOf(r)} is on ${port}, inside ${what} ${formatRange(avoided.range)} (${avoided.reason})`, whereOf(r, port), suggestion(r, 'pick a port in', port));
    }
    if (port < SYSTEM_PORT_LIMIT && !decl.privileged) {
      report('privileged-port', `${labelOf(r)} is on ${port}, a system port that needs privileges to bind`,
        whereOf(r, port), `add privileged: true to the port if this is intended, or ${suggestion(r, 'move it into')}`);
    }
    const defactoHit = defactoConflict(port, decl.kind);
    if (defactoHit) {
      report('defacto-port', `${labelOf(r)} is on ${port}, the default port of ${defactoHit.what}; ` +
        `one running on the same host will take it first${decl.kind ? '' : ' (set kind if this service is one of them)'}`,
        whereOf(r, port), suggestion(r, 'move it within', port));
    }
    if (a.nodePort !== undefined && checkPortValue(r, a.nodePort, 'nodePort') && !inRange(a.nodePort, r.env.nodePortRange)) {
      report('nodeport-range', `NodePort ${a.nodePort} of ${labelOf(r)} is outside ${r.env.name}'s NodePort range ${formatRange(r.env.nodePortRange)}`,
        whereOf(r, port, { path: `${decl.path}.nodePort` }), `use a NodePort in ${formatRange(r.env.nodePortRange)}`);
    }
    if (a.targetPort !== port) checkPortValue(r, a.targetPort, 'targetPort');
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
  const place = (r: Request, port: number, source: Allocation['source']): number => {
    const a = buildAllocation(r, port, source, fallbackOf(r, port));
    allocations.push(a);
    let owner: number;
    if (r.shared !== undefined) {
      // An external shared by environments of one scope is one listener: one owner, checked once.
      const known = shared.get(r.shared);
      if (known === undefined) {
        owner = addOwner(a);
        shared.set(r.shared, owner);
        checkPlacement(r, a);
      } else {
        owner = known;
      }
    } else {
      owner = addOwner(a);
      checkPlacement(r, a);
    }
    take(r, port, owner, 'port');
    return allocations.length - 1;
  };

  /** Holds a placed request's fallback port (after every fixed port is placed). */
  const placeFallback = (r: Request, index: number) => {
    const fb = declaredFallback(r, allocations[index].port);
    if (fb === undefined || !checkPortValue(r, fb, 'fallback')) return;
    if (avoidedPorts.has(fb) || avoidedRange(fb)) {
      report('avoided-port', `fallback ${fb} of ${labelOf(r)} is an avoided port`, whereOf(r, fb, { path: `${r.decl.path}.fallback` }), 'choose another fallback');
    }
    const key = r.shared !== undefined ? `${r.shared}#fallback` : undefined;
    let owner = key !== undefined ? shared.get(key) : undefined;
    if (owner === undefined) {
      owner = addOtherOwner('fallback', r);
      if (key !== undefined) shared.set(key, owner);
    }
    take(r, fb, owner, 'fallback');
  };

  // 1. Requests, in declaration order: externals first (infrastructure rarely moves), then services.
  const rangesCache = new Map<Environment, Map<string, Range[]>>();
  const rangesFor = (env: Environment, of: 'service' | 'external', category?: string): Range[] => {
    let perEnv = rangesCache.get(env);
    if (!perEnv) rangesCache.set(env, perEnv = new Map());
    const key = of === 'service' ? category ?? '' : `\u0000${category ?? ''}`;
    let ranges = perEnv.get(key);
    if (!ranges) {
      const cat = category !== undefined ? categories[category]?.ranges : undefined;
      const band = of === 'service' ? env.band : undefined;
      ranges = band && cat ? cat.map(c => intersect(band, c)).filter((x): x is Range => !!x) : band ? [band] : cat ? [...cat] : [];
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
    decl, env, ranges: rangesFor(env, decl.of, decl.category), space: envSpaceOf(env, decl.protocol),
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
  const offsetGroups: Array<{ key: string; requests: Request[] }> = [];

  for (let x = 0; x < index.externals.length; x++) {
    const name = index.externalNames[x];
    const ext = index.externals[x];
    const present = presentIn(ext, envs);
    for (const portName in ext.ports) {
      const p = ext.ports[portName];
      const decl = declOf('external', name, portName, `externals.${name}.ports.${portName}`, p, ext);
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
          { registry, service: name, portName, path }, `keep one of ${which.join(', ')}`);
        continue;
      }
      const decl = declOf('service', name, portName, path, p, svc);
      if (p.port !== undefined) {
        for (const env of present) {
          const port = pick(p.port, env.name);
          if (port === undefined) {
            report('port-source', `${name}.${portName} gives ports per environment but none for ${env.name}`,
              { registry, service: name, portName, environment: env.name, path: `${path}.port` }, `add ${env.name}: <port> to its port map`);
          } else {
            fix(decl, env, port);
          }
        }
      } else if (p.offset !== undefined) {
        for (const env of present) {
          if (!env.band) {
            report('offset-without-band', `${name}.${portName} uses an offset, but environment ${env.name} has no band`,
              whereOf(requestFor(decl, env)), `give ${env.name} a range, or give ${name}.${portName} an explicit port`);
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
  for (const [key, port] of Object.entries(lock.ports)) {
    const env = envs.find(e => e.name === key.split('/')[0]);
    if (key in newLock.ports || !env || !validPort(port)) continue;
    spaceOf(env.scope, 'TCP').allocate(port, addOtherOwner('stale', undefined, key));
  }

  // 3. New automatic ports, in declaration order: a common offset across bands first, then per environment.
  for (const group of offsetGroups) {
    const width = Math.min(...group.requests.map(r => r.env.band![1] - r.env.band![0]));
    let offset = -1;
    for (let o = 0; o <= width && offset < 0; o++) {
      if (group.requests.every(r => isFree(r, r.env.band![0] + o) && inAny(r.env.band![0] + o, r.ranges))) offset = o;
    }
    if (offset < 0) {
      const r = group.requests[0];
      report('no-free-port', `no offset is free in every band of ${group.requests.map(x => x.env.name).join(', ')} for ${r.decl.service}.${r.decl.portName}`,
        { registry, service: r.decl.service, portName: r.decl.portName, path: r.decl.path }, 'widen the bands or free an offset');
      continue;
    }
    newLock.offsets[group.key] = offset;
    for (const r of group.requests) placeFallback(r, place(r, r.env.band![0] + offset, 'offset'));
  }
  for (const r of autos) {
    const port = nextFree(r);
    if (port === undefined) {
      const why = r.ranges.length === 0 ? 'it has no range: give the environment a band (range) or the service a category'
        : `every port of ${r.ranges.map(formatRange).join(', ')} is taken or avoided`;
      report('no-free-port', `no free port for ${labelOf(r)}: ${why}`, whereOf(r),
        r.ranges.length === 0 ? `add range: [first, last] to environment ${r.env.name}` : 'widen the range or free a port');
      continue;
    }
    newLock.ports[lockKeyOf(r)] = port;
    placeFallback(r, place(r, port, 'auto'));
  }

  // 4. Collisions, with a fix computed against the final state of every port space; each fix
  // holds its port, so two collisions are never offered the same one.
  for (const c of collisions) {
    const r = c.request;
    const holder = ownerLabel(c.other);
    const why = ownerOther.get(c.other);
    const other = holder ? `${holder}${why?.kind === 'fallback' ? ' as its fallback' : ''}` : `lock entry ${why?.stale} (stale)`;
    const fix = suggestion(r, `move ${r.decl.service}.${r.decl.portName} in ${r.env.name} to a free port in`, c.port);
    const free = nextFree(r, fixRanges(r), c.port);
    if (free !== undefined) r.space.allocate(free, addOtherOwner('suggested', r));
    report('collision', `${c.what === 'fallback' ? 'fallback ' : ''}port ${c.port}/${r.decl.protocol} of ${labelOf(r)} is already taken by ${other}` +
      ` (scope ${r.env.scope})`, { ...whereOf(r, c.port), other: holder ?? `lock entry ${why?.stale}` }, fix);
  }

  // 5. Lock entries that no port uses any more.
  for (const [key, value] of Object.entries(lock.ports)) {
    if (!(key in newLock.ports)) findings.push(staleLock(registry, key, value));
  }
  for (const [key, value] of Object.entries(lock.offsets)) {
    if (!(key in newLock.offsets)) findings.push(staleLock(registry, `offset ${key}`, value));
  }
  return { allocations, findings, lock: newLock };
}

function staleLock(registry: string, key: string, value: number): Finding {
  const [a, b] = key.replace(/^offset /, '').split('/');
  const offset = key.startsWith('offset ');
  return finding('lock-stale', `lock entry ${key} = ${value} belongs to no automatic port of the registry; it is dropped`,
    { registry, service: offset ? a : b, ...(offset ? {} : { environment: a }), port: value, path: `ports.lock.json ${key}` },
    'commit the updated ports.lock.json');
}
