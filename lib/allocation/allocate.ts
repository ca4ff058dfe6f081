import { Finding, RuleId, Where, finding } from '../model/finding';
import {
  Environment, avoidedPortsOf, avoidedRangesOf, defactoPortsOf, formatRange, inAny, inRange, presentIn,
} from '../model/normalize';
import type { Range, RegistrySpec } from '../model/schema';
import { SYSTEM_PORT_LIMIT } from '../model/well-known';
import { Lock, emptyLock } from './lock';
import { PortAllocator } from './port-allocator';
import { Allocation, Request, buildAllocation, labelOf, lockKeyOf, pick } from './request';

export type { Allocation } from './request';

export interface AllocationResult {
  readonly allocations: Allocation[];
  readonly findings: Finding[];
  readonly lock: Lock;
}

/** Who holds a port: a request's port, its fallback, a stale lock entry or a suggested fix. */
interface Owner {
  readonly request?: Request;
  readonly what: 'port' | 'fallback' | 'stale' | 'suggested';
  readonly stale?: string;
}

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
export function allocate(spec: RegistrySpec, envs: readonly Environment[], lock: Lock = emptyLock()): AllocationResult {
  const registry = spec.name;
  const findings: Finding[] = [];
  const allocations: Allocation[] = [];
  const owners: Owner[] = [];
  const shared = new Map<string, number>();
  const spaces = new Map<string, PortAllocator>();
  const avoidedPorts = avoidedPortsOf(spec);
  const avoidedRanges = avoidedRangesOf(spec);
  const defacto = defactoPortsOf(spec);
  const categories = spec.categories ?? {};
  const newLock: Lock = { ports: {}, offsets: {} };
  const collisions: Array<{ request: Request; port: number; other: number; what: 'port' | 'fallback' }> = [];

  const spaceOf = (scope: string, protocol: string) => {
    const key = `${scope}/${protocol}`;
    let space = spaces.get(key);
    if (!space) spaces.set(key, space = new PortAllocator());
    return space;
  };
  const avoidedRange = (port: number) => (avoidedRanges.length ? avoidedRanges.find(a => inRange(port, a.range)) : undefined);
  const defactoConflict = (port: number, kind?: string) => {
    const d = defacto.get(port);
    return d && !(kind && d.kinds?.includes(kind)) ? d : undefined;
  };
  const isFree = (r: Request, port: number) =>
    validPort(port) && !r.space.has(port) && !avoidedPorts.has(port) && !avoidedRange(port) &&
    !defactoConflict(port, r.kind) && (r.privileged || port >= SYSTEM_PORT_LIMIT);

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
    registry, service: r.service, environment: r.env.name, portName: r.portName, ...(port !== undefined ? { port } : {}), path: r.path, ...extra,
  });
  const report = (rule: RuleId, message: string, where: Where, fix?: string) => findings.push(finding(rule, message, where, fix));

  const checkPortValue = (r: Request, value: number, field: string): boolean => {
    if (validPort(value)) return true;
    report('port-range', `${field} ${value} of ${labelOf(r)} is not a port: ports are integers in 1-65535`,
      whereOf(r, value, { path: `${r.path}.${field}` }), suggestion(r, 'use a port inside', Number.isFinite(value) ? value : 0));
    return false;
  };

  /** Takes the port for `owner`; records a collision when someone else holds it. */
  const take = (r: Request, port: number, owner: number, what: 'port' | 'fallback') => {
    const previous = r.space.allocate(port, owner);
    if (previous !== -1 && previous !== owner) collisions.push({ request: r, port, other: previous, what });
  };

  /** The rules that look at one placed port; they only build messages when something is wrong. */
  const checkPlacement = (r: Request, a: Allocation) => {
    const port = a.port;
    const pinned = () => (a.source === 'auto' && r.of === 'service' ? ` (pinned in the lock file as ${lockKeyOf(r)}; delete that entry to reallocate)` : '');
    if (r.of === 'service' && r.env.band && !inRange(port, r.env.band)) {
      report('outside-band', `${labelOf(r)} is on ${port}, outside ${r.env.name}'s band ${formatRange(r.env.band)}${pinned()}`,
        whereOf(r, port), suggestion(r, 'move it into'));
    }
    const category = r.category !== undefined ? categories[r.category] : undefined;
    if (category && !inAny(port, category.ranges)) {
      report('outside-category', `${labelOf(r)} is on ${port}, outside category ${r.category} (${category.ranges.map(formatRange).join(', ')})${pinned()}`,
        whereOf(r, port, { category: r.category }), suggestion(r, 'move it into'));
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
    if (port < SYSTEM_PORT_LIMIT && !r.privileged) {
      report('privileged-port', `${labelOf(r)} is on ${port}, a system port that needs privileges to bind`,
        whereOf(r, port), `add privileged: true to the port if this is intended, or ${suggestion(r, 'move it into')}`);
    }
    const d = defactoConflict(port, r.kind);
    if (d) {
      report('defacto-port', `${labelOf(r)} is on ${port}, the default port of ${d.what}; ` +
        `one running on the same host will take it first${r.kind ? '' : ' (set kind if this service is one of them)'}`,
        whereOf(r, port), suggestion(r, 'move it within', port));
    }
    if (a.nodePort !== undefined && checkPortValue(r, a.nodePort, 'nodePort') && !inRange(a.nodePort, r.env.nodePortRange)) {
      report('nodeport-range', `NodePort ${a.nodePort} of ${labelOf(r)} is outside ${r.env.name}'s NodePort range ${formatRange(r.env.nodePortRange)}`,
        whereOf(r, port, { path: `${r.path}.nodePort` }), `use a NodePort in ${formatRange(r.env.nodePortRange)}`);
    }
    if (a.targetPort !== port) checkPortValue(r, a.targetPort, 'targetPort');
  };

  /** Places a request's port; returns the allocation's index. */
  const place = (r: Request, port: number, source: Allocation['source']): number => {
    const a = buildAllocation(r, port, source);
    allocations.push(a);
    let owner: number;
    if (r.shared !== undefined) {
      // An external shared by environments of one scope is one listener: one owner, checked once.
      const known = shared.get(r.shared);
      if (known === undefined) {
        owner = owners.push({ request: r, what: 'port' }) - 1;
        shared.set(r.shared, owner);
        checkPlacement(r, a);
      } else {
        owner = known;
      }
    } else {
      owner = owners.push({ request: r, what: 'port' }) - 1;
      checkPlacement(r, a);
    }
    take(r, port, owner, 'port');
    return allocations.length - 1;
  };

  const placeFallback = (r: Request, index: number) => {
    if (r.fallback === undefined) return;
    const a = allocations[index];
    const fb = typeof r.fallback === 'number' ? r.fallback : a.port + r.fallback.shift;
    if (!checkPortValue(r, fb, 'fallback')) return;
    allocations[index] = { ...a, fallback: fb };
    if (avoidedPorts.has(fb) || avoidedRange(fb)) {
      report('avoided-port', `fallback ${fb} of ${labelOf(r)} is an avoided port`, whereOf(r, fb, { path: `${r.path}.fallback` }), 'choose another fallback');
    }
    const key = r.shared !== undefined ? `${r.shared}#fallback` : undefined;
    let owner = key !== undefined ? shared.get(key) : undefined;
    if (owner === undefined) {
      owner = owners.push({ request: r, what: 'fallback' }) - 1;
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
  const fixed: Array<{ r: Request; port: number; source: Allocation['source'] }> = [];
  const autos: Request[] = [];
  const offsetGroups: Array<{ key: string; requests: Request[] }> = [];

  for (const [name, ext] of Object.entries(spec.externals ?? {})) {
    const present = presentIn(ext, envs);
    for (const [portName, p] of Object.entries(ext.ports)) {
      const path = `externals.${name}.ports.${portName}`;
      const protocol = p.protocol ?? 'TCP';
      for (const env of present) {
        fixed.push({
          r: {
            env, of: 'external', service: name, portName, protocol, kind: ext.kind, category: ext.category, privileged: p.privileged ?? false,
            path, ranges: rangesFor(env, 'external', ext.category), fallback: p.fallback, spec: p, entry: ext,
            space: spaceOf(env.scope, protocol), shared: `${name}/${portName}@${env.scope}`,
          },
          port: p.port, source: 'explicit',
        });
      }
    }
  }

  for (const [name, svc] of Object.entries(spec.services ?? {})) {
    const present = presentIn(svc, envs);
    for (const [portName, p] of Object.entries(svc.ports)) {
      const path = `services.${name}.ports.${portName}`;
      const given = (['port', 'offset', 'auto'] as const).filter(k => p[k] !== undefined && p[k] !== false);
      if (given.length > 1) {
        report('port-source', `${name}.${portName} sets ${given.join(' and ')}; a port is given by exactly one of them`,
          { registry, service: name, portName, path }, `keep one of ${given.join(', ')}`);
        continue;
      }
      const protocol = p.protocol ?? 'TCP';
      const requests: Request[] = present.map(env => ({
        env, of: 'service', service: name, portName, protocol, kind: svc.kind, category: svc.category, privileged: p.privileged ?? false,
        path, ranges: rangesFor(env, 'service', svc.category), fallback: p.fallback, spec: p, entry: svc, space: spaceOf(env.scope, protocol),
      }));
      if (p.port !== undefined) {
        for (const r of requests) {
          const port = pick(p.port, r.env.name);
          if (port === undefined) {
            report('port-source', `${name}.${portName} gives ports per environment but none for ${r.env.name}`,
              { registry, service: name, portName, environment: r.env.name, path: `${path}.port` }, `add ${r.env.name}: <port> to its port map`);
          } else {
            fixed.push({ r, port, source: 'explicit' });
          }
        }
      } else if (p.offset !== undefined) {
        for (const r of requests) {
          if (!r.env.band) {
            report('offset-without-band', `${name}.${portName} uses an offset, but environment ${r.env.name} has no band`,
              whereOf(r), `give ${r.env.name} a range, or give ${name}.${portName} an explicit port`);
          }
        }
        const banded = requests.filter(r => r.env.band);
        if (p.offset === 'auto') {
          const key = `${name}/${portName}`;
          const pinned = lock.offsets[key];
          if (pinned !== undefined) {
            newLock.offsets[key] = pinned;
            for (const r of banded) fixed.push({ r, port: r.env.band![0] + pinned, source: 'offset' });
          } else if (banded.length) {
            offsetGroups.push({ key, requests: banded });
          }
        } else {
          for (const r of banded) fixed.push({ r, port: r.env.band![0] + p.offset, source: 'offset' });
        }
      } else {
        for (const r of requests) {
          const key = lockKeyOf(r);
          const pinned = lock.ports[key];
          if (pinned !== undefined) {
            newLock.ports[key] = pinned;
            fixed.push({ r, port: pinned, source: 'auto' });
          } else {
            autos.push(r);
          }
        }
      }
    }
  }

  // 2. Fixed ports, then their fallbacks, so automatic ports keep clear of both.
  const placed: Array<{ r: Request; index: number }> = [];
  for (const { r, port, source } of fixed) {
    if (checkPortValue(r, port, 'port')) placed.push({ r, index: place(r, port, source) });
  }
  for (const { r, index } of placed) placeFallback(r, index);

  // A stale lock entry still holds its port for this run, so a service added in the same
  // change cannot silently take over a port that clients of the removed one may still call.
  for (const [key, port] of Object.entries(lock.ports)) {
    const env = envs.find(e => e.name === key.split('/')[0]);
    if (key in newLock.ports || !env || !validPort(port)) continue;
    spaceOf(env.scope, 'TCP').allocate(port, owners.push({ what: 'stale', stale: key }) - 1);
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
      report('no-free-port', `no offset is free in every band of ${group.requests.map(x => x.env.name).join(', ')} for ${r.service}.${r.portName}`,
        { registry, service: r.service, portName: r.portName, path: r.path }, 'widen the bands or free an offset');
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
    const holder = owners[c.other];
    const other = holder.request ? `${labelOf(holder.request)}${holder.what === 'fallback' ? ' as its fallback' : ''}` : `lock entry ${holder.stale} (stale)`;
    const fix = suggestion(r, `move ${r.service}.${r.portName} in ${r.env.name} to a free port in`, c.port);
    const free = nextFree(r, fixRanges(r), c.port);
    if (free !== undefined) r.space.allocate(free, owners.push({ request: r, what: 'suggested' }) - 1);
    report('collision', `${c.what === 'fallback' ? 'fallback ' : ''}port ${c.port}/${r.protocol} of ${labelOf(r)} is already taken by ${other}` +
      ` (scope ${r.env.scope})`, { ...whereOf(r, c.port), other: holder.request ? labelOf(holder.request) : `lock entry ${holder.stale}` }, fix);
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
