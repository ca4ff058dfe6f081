/**
 * A test oracle for the allocator: where every port goes, worked out the slow and obvious way.
 * test/allocation.test.ts checks that lib/allocation/allocate.ts places every port exactly where
 * this does, on random registries. It shares no code with the allocator (only the registry's types
 * and the table of de-facto ports, which is data): its own search, one port at a time, over a set
 * of held ports per scope and protocol, so that a bug in a helper of the allocator cannot hide here.
 *
 * It covers what the random registries of that test use: bands and scopes, one category, avoided
 * ports and ranges, kinds, explicit, offset, `offset: auto` and automatic ports with fallbacks,
 * externals and a lock. Not: fallback ranges, sequential categories, sub-ranges, NodePorts.
 * Not part of the library.
 */
import type { Environment } from '../../lib/model/normalize';
import type { RegistrySpec } from '../../lib/model/schema';
import { DEFACTO_PORTS, FIX_KEEPS_CLEAR } from '../../lib/model/well-known';
import { isVendorDefault } from '../../lib/model/vendor-defaults';

type Range = readonly [number, number];

export interface ReferenceAllocation {
  readonly environment: string;
  readonly service: string;
  readonly portName: string;
  readonly port: number;
  readonly fallback?: number;
}

export interface ReferenceResult {
  readonly allocations: ReferenceAllocation[];
  readonly lock: { ports: Record<string, number>; offsets: Record<string, number> };
  /** `service/environment` of every port without a free one (`service/undefined` for an `offset: auto` port). */
  readonly full: string[];
}

/** One port to place in one environment. */
interface Want {
  readonly service: string;
  readonly portName: string;
  readonly env: Environment;
  readonly protocol: string;
  readonly kind?: string;
  readonly privileged: boolean;
  /** Band ∩ category ranges (an external: none). */
  readonly ranges: readonly Range[];
  readonly fallback?: number | { shift: number };
}

const isPort = (n: number) => Number.isInteger(n) && n >= 1 && n <= 65535;

export function referenceAllocate(spec: RegistrySpec, envs: readonly Environment[], lock = { ports: {} as Record<string, number>, offsets: {} as Record<string, number> }): ReferenceResult {
  const held = new Map<string, Set<number>>();
  const heldIn = (scope: string, protocol: string) => {
    const key = `${scope} ${protocol}`;
    if (!held.has(key)) held.set(key, new Set());
    return held.get(key)!;
  };
  const avoidedPorts = new Set((spec.avoid?.ports ?? []).map(p => (typeof p === 'number' ? p : p.port)));
  const avoidedRanges: Range[] = (spec.avoid?.ranges ?? []).map(r => (Array.isArray(r) ? r as unknown as Range : (r as { range: Range }).range));
  for (const c of Object.values(spec.categories ?? {})) if (c.reserved) avoidedRanges.push(...(c.ranges ?? []));
  const defacto = new Map<number, readonly string[]>();
  if (spec.defactoPorts !== false) {
    for (const [port, d] of Object.entries(DEFACTO_PORTS)) defacto.set(Number(port), d.kinds ?? []);
    for (const [port, d] of Object.entries(spec.defactoPorts ?? {})) {
      if (d === false) defacto.delete(Number(port));
      else defacto.set(Number(port), d.kinds ?? []);
    }
  }
  const allowed = (w: Want, port: number) => isPort(port) && !avoidedPorts.has(port) && !avoidedRanges.some(r => r[0] <= port && port <= r[1]) &&
    !(defacto.has(port) && !(w.kind !== undefined && defacto.get(port)!.includes(w.kind))) && (w.privileged || port >= 1024) &&
    // A port kept clear (X11's 6000) is no new port's, unless it is the server's own.
    !(FIX_KEEPS_CLEAR[port] !== undefined && !isVendorDefault(w.kind, port));
  const isFree = (w: Want, port: number) => allowed(w, port) && !heldIn(w.env.scope, w.protocol).has(port);
  const inRanges = (w: Want, port: number) => w.ranges.some(r => r[0] <= port && port <= r[1]);

  const allocations: ReferenceAllocation[] = [];
  const newLock = { ports: {} as Record<string, number>, offsets: {} as Record<string, number> };
  const full: string[] = [];
  const place = (w: Want, port: number) => {
    const fallback = w.fallback === undefined ? undefined : typeof w.fallback === 'number' ? w.fallback : port + w.fallback.shift;
    allocations.push({ environment: w.env.name, service: w.service, portName: w.portName, port, fallback: fallback !== undefined && isPort(fallback) ? fallback : undefined });
    heldIn(w.env.scope, w.protocol).add(port);
    return fallback;
  };
  const holdFallback = (w: Want, fallback: number | undefined) => {
    if (fallback !== undefined && isPort(fallback)) heldIn(w.env.scope, w.protocol).add(fallback);
  };

  // The wants, in declaration order: externals, then services; sorted by what they ask for.
  const fixed: Array<{ w: Want; port: number }> = [];
  const groups: Array<{ key: string; wants: Want[] }> = [];
  const autos: Want[] = [];
  const present = (entry: { environments?: readonly string[] }) => envs.filter(e => !entry.environments || entry.environments.includes(e.name));
  for (const [name, ext] of Object.entries(spec.externals ?? {})) {
    for (const [portName, p] of Object.entries(ext.ports)) {
      for (const env of present(ext)) {
        fixed.push({ w: { service: name, portName, env, protocol: p.protocol ?? 'TCP', kind: ext.kind, privileged: !!p.privileged, ranges: [], fallback: p.fallback }, port: p.port });
      }
    }
  }
  for (const [name, svc] of Object.entries(spec.services ?? {})) {
    for (const [portName, p] of Object.entries(svc.ports)) {
      const sources = [p.port !== undefined, p.offset !== undefined, p.auto !== undefined && p.auto !== false].filter(Boolean).length;
      if (sources > 1 || (p.auto === false && sources === 0)) continue;
      const category = p.category ?? svc.category;
      const want = (env: Environment): Want => {
        const cat = category !== undefined ? spec.categories?.[category]?.ranges : undefined;
        const band = env.band;
        const ranges: Range[] = !band ? [...(cat ?? [])] : !cat ? [band]
          : cat.map(c => [Math.max(c[0], band[0]), Math.min(c[1], band[1])] as Range).filter(r => r[0] <= r[1]);
        return { service: name, portName, env, protocol: p.protocol ?? 'TCP', kind: svc.kind, privileged: !!p.privileged, ranges, fallback: p.fallback };
      };
      const envsOf = present(svc);
      if (p.port !== undefined) {
        for (const env of envsOf) {
          const port = typeof p.port === 'number' ? p.port : p.port[env.name];
          if (port !== undefined) fixed.push({ w: want(env), port });
        }
      } else if (typeof p.offset === 'number') {
        for (const env of envsOf) if (env.band) fixed.push({ w: want(env), port: env.band[0] + p.offset });
      } else if (p.offset === 'auto') {
        const key = `${name}/${portName}`;
        const banded = envsOf.filter(e => e.band);
        if (lock.offsets[key] !== undefined) {
          newLock.offsets[key] = lock.offsets[key];
          for (const env of banded) fixed.push({ w: want(env), port: env.band![0] + lock.offsets[key] });
        } else if (banded.length) {
          groups.push({ key, wants: banded.map(want) });
        }
      } else {
        for (const env of envsOf) {
          const key = `${env.name}/${name}/${portName}`;
          if (lock.ports[key] !== undefined) {
            newLock.ports[key] = lock.ports[key];
            fixed.push({ w: want(env), port: lock.ports[key] });
          } else {
            autos.push(want(env));
          }
        }
      }
    }
  }

  // Ports with a number first, then their fallbacks; then what stale lock entries still hold.
  const fallbacks: Array<{ w: Want; fallback: number | undefined }> = [];
  for (const { w, port } of fixed) if (isPort(port)) fallbacks.push({ w, fallback: place(w, port) });
  for (const { w, fallback } of fallbacks) holdFallback(w, fallback);
  for (const [key, port] of Object.entries(lock.ports)) {
    const env = envs.find(e => e.name === key.split('/')[0]);
    if (!(key in newLock.ports) && env && isPort(port)) heldIn(env.scope, 'TCP').add(port);
  }
  // Common offsets: the lowest offset free in every band, tried one by one.
  for (const { key, wants } of groups) {
    const width = Math.min(...wants.map(w => w.env.band![1] - w.env.band![0]));
    let offset: number | undefined;
    for (let o = 0; o <= width && offset === undefined; o++) {
      if (wants.every(w => inRanges(w, w.env.band![0] + o) && isFree(w, w.env.band![0] + o))) offset = o;
    }
    if (offset === undefined) {
      full.push(`${wants[0].service}/undefined`);
      continue;
    }
    newLock.offsets[key] = offset;
    for (const w of wants) holdFallback(w, place(w, w.env.band![0] + offset));
  }
  // Automatic ports: the lowest free port of their ranges, tried one by one.
  for (const w of autos) {
    let port: number | undefined;
    for (const r of [...w.ranges].sort((a, b) => a[0] - b[0])) {
      for (let p = r[0]; p <= r[1] && port === undefined; p++) if (isFree(w, p)) port = p;
      if (port !== undefined) break;
    }
    if (port === undefined) {
      full.push(`${w.service}/${w.env.name}`);
      continue;
    }
    newLock.ports[`${w.env.name}/${w.service}/${w.portName}`] = port;
    holdFallback(w, place(w, port));
  }
  return { allocations, lock: newLock, full };
}
