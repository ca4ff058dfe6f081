import { Finding, finding } from '../model/finding';
import {
  AvoidedRange, Environment, avoidedPortsOf, avoidedRangesOf, defactoPortsOf, formatRange, inAny, inRange, presentIn,
} from '../model/normalize';
import type { Fallback, PortSpec, Protocol, Range, RegistrySpec, Status } from '../model/schema';
import { DefactoPort, SYSTEM_PORT_LIMIT, ianaService } from '../model/well-known';
import { Lock, emptyLock } from './lock';
import { PortSpaces } from './port-allocator';

/** One port of one service (or external) in one environment, fully resolved. */
export interface Allocation {
  readonly environment: string;
  readonly namespace: string;
  readonly scope: string;
  readonly of: 'service' | 'external';
  readonly service: string;
  readonly portName: string;
  /** The published port: Service port in Kubernetes, host port in compose. */
  readonly port: number;
  /** The port the container listens on. */
  readonly targetPort: number;
  readonly protocol: Protocol;
  readonly appProtocol?: string;
  readonly nodePort?: number;
  readonly fallback?: number;
  readonly hostIp?: string;
  readonly status: Status;
  readonly category?: string;
  readonly kind?: string;
  /** How the port was chosen. */
  readonly source: 'explicit' | 'offset' | 'auto';
  /** The IANA service name registered for this port, for information. */
  readonly iana?: string;
}

export interface AllocationResult {
  readonly allocations: Allocation[];
  readonly findings: Finding[];
  readonly lock: Lock;
}

/** A port to place: its identity, where it lives, and what constrains it. */
interface Request {
  readonly env: Environment;
  readonly of: 'service' | 'external';
  readonly service: string;
  readonly portName: string;
  readonly protocol: Protocol;
  readonly kind?: string;
  readonly category?: string;
  readonly privileged: boolean;
  readonly path: string;
  /** Externals present in several environments of one scope are one listener, not a collision. */
  readonly identity: string;
  readonly ranges: readonly Range[];
  readonly build: (port: number, source: Allocation['source']) => Allocation;
  readonly fallback?: Fallback;
  readonly lockKey?: string;
}

interface Owner {
  readonly identity: string;
  readonly label: string;
}

const pick = <T>(value: T | Record<string, T> | undefined, env: string): T | undefined =>
  value === undefined || typeof value !== 'object' || value === null ? value as T | undefined : (value as Record<string, T>)[env];

// An external is one listener for all the environments of its scope, so its label names no environment.
const label = (r: Pick<Request, 'service' | 'portName' | 'env' | 'of'>) =>
  `${r.service}.${r.portName} (${r.of === 'external' ? 'external' : r.env.name})`;

const validPort = (n: number) => Number.isInteger(n) && n >= 1 && n <= 65535;

function intersect(a: Range, b: Range): Range | undefined {
  const lo = Math.max(a[0], b[0]);
  const hi = Math.min(a[1], b[1]);
  return lo <= hi ? [lo, hi] : undefined;
}

/**
 * Places every port of the registry. Explicit, offset and lock-pinned ports are placed
 * first, then new automatic ones in a fixed order, so that adding a service never moves
 * another: an automatic port, once chosen, is pinned in the lock.
 */
export function allocate(spec: RegistrySpec, envs: readonly Environment[], lock: Lock = emptyLock()): AllocationResult {
  const registry = spec.name;
  const findings: Finding[] = [];
  const allocations: Allocation[] = [];
  const spaces = new PortSpaces();
  const owners: Owner[] = [];
  const identities = new Map<string, number>();
  const avoidedPorts = avoidedPortsOf(spec);
  const avoidedRanges = avoidedRangesOf(spec);
  const defacto = defactoPortsOf(spec);
  const categories = spec.categories ?? {};
  const newLock: Lock = { ports: {}, offsets: {} };
  const collisions: Array<{ request: Request; port: number; other: number; what: string }> = [];

  const avoidedRange = (port: number): AvoidedRange | undefined => avoidedRanges.find(a => inRange(port, a.range));
  const defactoConflict = (port: number, kind?: string): DefactoPort | undefined => {
    const d = defacto.get(port);
    return d && !(kind && d.kinds?.includes(kind)) ? d : undefined;
  };
  const isFree = (r: Request, port: number) =>
    validPort(port) && !spaces.get(r.env.scope, r.protocol).has(port) && !avoidedPorts.has(port) && !avoidedRange(port) &&
    !defactoConflict(port, r.kind) && (r.privileged || port >= SYSTEM_PORT_LIMIT);

  /** The first free port at or after `from` in the request's ranges, wrapping to their start. */
  const nextFree = (r: Request, from = 0): number | undefined => {
    const sorted = [...r.ranges].sort((a, b) => a[0] - b[0]);
    for (const pass of [from, 0]) {
      for (const range of sorted) {
        for (let p = Math.max(range[0], pass); p <= range[1]; p++) if (isFree(r, p)) return p;
      }
      if (from === 0) break;
    }
    return undefined;
  };

  const ownerIndex = (r: Request, identity: string) => {
    const existing = identities.get(identity);
    if (existing !== undefined) return existing;
    owners.push({ identity, label: label(r) });
    identities.set(identity, owners.length - 1);
    return owners.length - 1;
  };

  /** Takes the port in the request's scope; records a collision when someone else holds it. */
  const take = (r: Request, port: number, identity: string, what: string): boolean => {
    const index = ownerIndex(r, identity);
    const previous = spaces.get(r.env.scope, r.protocol).allocate(port, index);
    if (previous === -1 || previous === index) return true;
    collisions.push({ request: r, port, other: previous, what });
    return false;
  };

  const whereOf = (r: Request, port?: number) => ({
    registry, service: r.service, environment: r.env.name, portName: r.portName, ...(port !== undefined ? { port } : {}), path: r.path,
  });

  const checkPortValue = (r: Request, value: number, field: string): boolean => {
    if (validPort(value)) return true;
    findings.push(finding('port-range', `${field} ${value} of ${label(r)} is not a port: ports are integers in 1-65535`,
      { ...whereOf(r), port: value, path: `${r.path}.${field}` }, suggestion(r, 'use a port inside', Number.isFinite(value) ? value : 0)));
    return false;
  };

  /** For a fix, a request without a band or category may take any non-system port. */
  const anyRange = (r: Request): Request => (r.ranges.length ? r : { ...r, ranges: [[SYSTEM_PORT_LIMIT, 65535]] });

  const suggestion = (r: Request, verb: string, from?: number): string => {
    const target = anyRange(r);
    const free = nextFree(target, from);
    const where = target.ranges.map(formatRange).join(', ');
    return free === undefined ? `${verb} ${where} (no free port is left there: widen the range)` : `${verb} ${where}: the next free port is ${free}`;
  };

  /** The rules that look at one placed port. */
  const checkPlacement = (r: Request, a: Allocation) => {
    const port = a.port;
    const where = whereOf(r, port);
    const pinned = r.lockKey && a.source === 'auto' ? ` (pinned in the lock file as ${r.lockKey}; delete that entry to reallocate)` : '';
    if (r.of === 'service' && r.env.band && !inRange(port, r.env.band)) {
      findings.push(finding('outside-band', `${label(r)} is on ${port}, outside ${r.env.name}'s band ${formatRange(r.env.band)}${pinned}`,
        where, suggestion(r, 'move it into')));
    }
    const category = r.category !== undefined ? categories[r.category] : undefined;
    if (category && !inAny(port, category.ranges)) {
      findings.push(finding('outside-category', `${label(r)} is on ${port}, outside category ${r.category} (${category.ranges.map(formatRange).join(', ')})${pinned}`,
        { ...where, category: r.category }, suggestion(r, 'move it into')));
    }
    if (avoidedPorts.has(port)) {
      findings.push(finding('avoided-port', `${label(r)} is on ${port}, an avoided port (${avoidedPorts.get(port)})`, where, suggestion(r, 'pick a port in', port)));
    }
    const avoided = avoidedRange(port);
    if (avoided) {
      const rule = avoided.source === 'avoid' ? 'avoided-port' : 'reserved-range';
      const what = avoided.source === 'avoid' ? 'an avoided range' : `reserved category ${avoided.source}`;
      findings.push(finding(rule, `${label(r)} is on ${port}, inside ${what} ${formatRange(avoided.range)} (${avoided.reason})`,
        where, suggestion(r, 'pick a port in', port)));
    }
    if (port < SYSTEM_PORT_LIMIT && !r.privileged) {
      findings.push(finding('privileged-port', `${label(r)} is on ${port}, a system port that needs privileges to bind`,
        where, `add privileged: true to the port if this is intended, or ${suggestion(r, 'move it into')}`));
    }
    const d = defactoConflict(port, r.kind);
    if (d) {
      findings.push(finding('defacto-port', `${label(r)} is on ${port}, the default port of ${d.what}; ` +
        `one running on the same host will take it first${r.kind ? '' : ' (set kind if this service is one of them)'}`,
        where, suggestion(r, 'move it within', port)));
    }
    if (a.nodePort !== undefined && checkPortValue(r, a.nodePort, 'nodePort') && !inRange(a.nodePort, r.env.nodePortRange)) {
      findings.push(finding('nodeport-range', `NodePort ${a.nodePort} of ${label(r)} is outside ${r.env.name}'s NodePort range ${formatRange(r.env.nodePortRange)}`,
        { ...where, path: `${r.path}.nodePort` }, `use a NodePort in ${formatRange(r.env.nodePortRange)}`));
    }
    checkPortValue(r, a.targetPort, 'targetPort');
  };

  const place = (r: Request, port: number, source: Allocation['source']) => {
    const a = r.build(port, source);
    allocations.push(a);
    // An external shared by environments of one scope is one listener: check it once.
    if (!identities.has(r.identity)) checkPlacement(r, a);
    take(r, port, r.identity, 'port');
    return a;
  };

  const fallbackOf = (r: Request, a: Allocation): number | undefined =>
    r.fallback === undefined ? undefined : typeof r.fallback === 'number' ? r.fallback : a.port + r.fallback.shift;

  const placeFallback = (r: Request, a: Allocation, index: number) => {
    const fb = fallbackOf(r, a);
    if (fb === undefined || !checkPortValue(r, fb, 'fallback')) return;
    allocations[index] = { ...a, fallback: fb };
    if (avoidedPorts.has(fb) || avoidedRange(fb)) {
      findings.push(finding('avoided-port', `fallback ${fb} of ${label(r)} is an avoided port`, { ...whereOf(r, fb), path: `${r.path}.fallback` },
        'choose another fallback'));
    }
    take(r, fb, `${r.identity}#fallback`, 'fallback');
  };

  // 1. Build the requests.
  const fixed: Array<{ r: Request; port: number; source: Allocation['source'] }> = [];
  const autos: Request[] = [];
  const offsetGroups: Array<{ key: string; requests: Request[] }> = [];

  const baseRanges = (env: Environment, of: 'service' | 'external', category?: string): Range[] => {
    const cat = category !== undefined ? categories[category]?.ranges : undefined;
    const band = of === 'service' ? env.band : undefined;
    if (band && cat) return cat.map(c => intersect(band, c)).filter((x): x is Range => !!x);
    if (band) return [band];
    return cat ? [...cat] : [];
  };

  for (const [name, ext] of Object.entries(spec.externals ?? {})) {
    for (const env of presentIn(ext, envs)) {
      for (const [portName, p] of Object.entries(ext.ports)) {
        const protocol = p.protocol ?? 'TCP';
        const r: Request = {
          env, of: 'external', service: name, portName, protocol, kind: ext.kind, category: ext.category,
          privileged: p.privileged ?? false, path: `externals.${name}.ports.${portName}`,
          identity: `external:${name}/${portName}@${env.scope}`, ranges: baseRanges(env, 'external', ext.category), fallback: p.fallback,
          build: (port, source) => ({
            environment: env.name, namespace: env.namespace, scope: env.scope, of: 'external', service: name, portName, port,
            targetPort: p.targetPort ?? port, protocol, ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}),
            status: ext.status ?? 'active', ...(ext.category ? { category: ext.category } : {}), ...(ext.kind ? { kind: ext.kind } : {}),
            source, ...ianaField(port, protocol),
          }),
        };
        fixed.push({ r, port: p.port, source: 'explicit' });
      }
    }
  }

  for (const [name, svc] of Object.entries(spec.services ?? {})) {
    const present = presentIn(svc, envs);
    for (const [portName, p] of Object.entries(svc.ports)) {
      const path = `services.${name}.ports.${portName}`;
      const given = (['port', 'offset', 'auto'] as const).filter(k => p[k] !== undefined && p[k] !== false);
      if (given.length > 1) {
        findings.push(finding('port-source', `${name}.${portName} sets ${given.join(' and ')}; a port is given by exactly one of them`,
          { registry, service: name, portName, path }, `keep one of ${given.join(', ')}`));
        continue;
      }
      const requests = present.map(env => serviceRequest(name, svc, portName, p, env, path, baseRanges(env, 'service', svc.category)));
      if (p.port !== undefined) {
        for (const r of requests) {
          const port = pick(p.port, r.env.name);
          if (port === undefined) {
            findings.push(finding('port-source', `${name}.${portName} gives ports per environment but none for ${r.env.name}`,
              { registry, service: name, portName, environment: r.env.name, path: `${path}.port` }, `add ${r.env.name}: <port> to its port map`));
          } else {
            fixed.push({ r, port, source: 'explicit' });
          }
        }
      } else if (p.offset !== undefined) {
        const bandless = requests.filter(r => !r.env.band);
        for (const r of bandless) {
          findings.push(finding('offset-without-band', `${name}.${portName} uses an offset, but environment ${r.env.name} has no band`,
            whereOf(r), `give ${r.env.name} a range, or give ${name}.${portName} an explicit port`));
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
          const pinned = lock.ports[r.lockKey!];
          if (pinned !== undefined) {
            newLock.ports[r.lockKey!] = pinned;
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
    if (!checkPortValue(r, port, 'port')) continue;
    place(r, port, source);
    placed.push({ r, index: allocations.length - 1 });
  }
  for (const { r, index } of placed) placeFallback(r, allocations[index], index);

  // A stale lock entry still holds its port for this run, so a service added in the same
  // change cannot silently take over a port that clients of the removed one may still call.
  for (const [key, port] of Object.entries(lock.ports)) {
    const env = envs.find(e => e.name === key.split('/')[0]);
    if (key in newLock.ports || !env || !validPort(port)) continue;
    const holder: Request = { ...STALE, env, service: key, identity: `stale:${key}` };
    take(holder, port, holder.identity, 'stale');
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
      findings.push(finding('no-free-port', `no offset is free in every band of ${group.requests.map(x => x.env.name).join(', ')} for ${r.service}.${r.portName}`,
        { registry, service: r.service, portName: r.portName, path: r.path }, 'widen the bands or free an offset'));
      continue;
    }
    newLock.offsets[group.key] = offset;
    for (const r of group.requests) {
      const a = place(r, r.env.band![0] + offset, 'offset');
      placeFallback(r, a, allocations.length - 1);
    }
  }
  for (const r of autos) {
    const port = nextFree(r);
    if (port === undefined) {
      const why = r.ranges.length === 0 ? 'it has no range: give the environment a band (range) or the service a category'
        : `every port of ${r.ranges.map(formatRange).join(', ')} is taken or avoided`;
      findings.push(finding('no-free-port', `no free port for ${label(r)}: ${why}`, whereOf(r),
        r.ranges.length === 0 ? `add range: [first, last] to environment ${r.env.name}` : 'widen the range or free a port'));
      continue;
    }
    newLock.ports[r.lockKey!] = port;
    const a = place(r, port, 'auto');
    placeFallback(r, a, allocations.length - 1);
  }

  // 4. Collisions, with a fix computed against the final state of every port space.
  for (const c of collisions) {
    const r = c.request;
    const other = owners[c.other].label;
    const fix = suggestion(r, `move ${r.service}.${r.portName} in ${r.env.name} to a free port in`, c.port);
    const free = nextFree(anyRange(r), c.port);
    if (free !== undefined) spaces.get(r.env.scope, r.protocol).allocate(free, ownerIndex(r, `${r.identity}#suggested`));
    findings.push(finding('collision', `${c.what === 'fallback' ? 'fallback ' : ''}port ${c.port}/${r.protocol} of ${label(r)} is already taken by ${other}` +
      ` (scope ${r.env.scope})`, { ...whereOf(r, c.port), other }, fix));
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

const STALE: Omit<Request, 'env' | 'service' | 'identity'> = {
  of: 'service', portName: '(stale lock entry)', protocol: 'TCP', privileged: true, path: 'ports.lock.json', ranges: [],
  build: () => { throw new Error('a stale lock entry is never built'); },
};

function staleLock(registry: string, key: string, value: number): Finding {
  const [a, b] = key.replace(/^offset /, '').split('/');
  const service = key.startsWith('offset ') ? a : b;
  return finding('lock-stale', `lock entry ${key} = ${value} belongs to no automatic port of the registry; it is dropped`,
    { registry, service, ...(key.startsWith('offset ') ? {} : { environment: a }), port: value, path: `ports.lock.json ${key}` },
    'commit the updated ports.lock.json');
}

function ianaField(port: number, protocol: Protocol) {
  const iana = ianaService(port, protocol);
  return iana ? { iana: iana.name } : {};
}

function serviceRequest(name: string, svc: NonNullable<RegistrySpec['services']>[string], portName: string,
  p: PortSpec, env: Environment, path: string, ranges: Range[]): Request {
  const protocol = p.protocol ?? 'TCP';
  return {
    env, of: 'service', service: name, portName, protocol, kind: svc.kind, category: svc.category, privileged: p.privileged ?? false,
    path, identity: `service:${name}/${portName}@${env.name}`, ranges, fallback: p.fallback, lockKey: `${env.name}/${name}/${portName}`,
    build: (port, source) => {
      const nodePort = pick(p.nodePort, env.name);
      return {
        environment: env.name, namespace: env.namespace, scope: env.scope, of: 'service', service: name, portName, port,
        targetPort: pick(p.targetPort, env.name) ?? port, protocol, ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}),
        ...(nodePort !== undefined ? { nodePort } : {}), ...(p.hostIp ? { hostIp: p.hostIp } : {}),
        status: svc.status ?? 'active', ...(svc.category ? { category: svc.category } : {}), ...(svc.kind ? { kind: svc.kind } : {}),
        source, ...ianaField(port, protocol),
      };
    },
  };
}
