import { DEFACTO_PORTS, DefactoPort } from './well-known';
import type { CategorySpec, EnvironmentSpec, Range, RegistrySpec, ServiceSpec, ExternalSpec, Status } from './schema';
import { ENVIRONMENT_KINDS } from './schema';

export type EnvironmentKind = typeof ENVIRONMENT_KINDS[number];

/** An environment with every default filled in. */
export interface Environment {
  readonly name: string;
  readonly band?: Range;
  readonly namespace: string;
  readonly scope: string;
  readonly kind: EnvironmentKind;
  readonly nodePortRange: Range;
}

export interface AvoidedRange {
  readonly range: Range;
  readonly reason: string;
  /** 'avoid' for `avoid.ranges`, or the name of a reserved category. */
  readonly source: string;
}

export const DEFAULT_NODE_PORT_RANGE: Range = [30000, 32767];

/** Planned and reserved services hold their ports but are not deployed: no Service, no policy, no container. */
export function isDeployed(status: Status | undefined): boolean {
  return status === undefined || status === 'active' || status === 'dev-only';
}
export const DEFAULT_SCOPE = 'default';

export function inferKind(name: string): EnvironmentKind {
  if (/^prod/.test(name)) return 'production';
  if (/^(dev|local)/.test(name)) return 'development';
  if (/^(test|ci|e2e|qa)/.test(name)) return 'test';
  if (/^(stag|preprod|uat)/.test(name)) return 'staging';
  // Unknown names are treated as production: the strictest reading is the safe one.
  return 'production';
}

export function environmentsOf(spec: RegistrySpec): Environment[] {
  const envs: Record<string, EnvironmentSpec> = spec.environments ?? { default: {} };
  return Object.entries(envs).map(([name, e]) => ({
    name,
    band: e.range,
    namespace: e.namespace ?? `${spec.name}-${name}`,
    scope: e.scope ?? DEFAULT_SCOPE,
    kind: e.kind ?? inferKind(name),
    nodePortRange: e.nodePortRange ?? DEFAULT_NODE_PORT_RANGE,
  }));
}

/**
 * The registry's services and externals as lists, in declaration order. A registry with
 * thousands of services is a dictionary-mode object, and every `for … in` over it enumerates and
 * sorts its keys again; the rules walk these lists instead, built once per check.
 */
export interface SpecIndex {
  readonly serviceNames: readonly string[];
  readonly services: readonly ServiceSpec[];
  readonly externalNames: readonly string[];
  readonly externals: readonly ExternalSpec[];
}

export function indexSpec(spec: RegistrySpec): SpecIndex {
  const serviceNames: string[] = [];
  const services: ServiceSpec[] = [];
  const externalNames: string[] = [];
  const externals: ExternalSpec[] = [];
  const s = spec.services ?? {};
  for (const name in s) {
    serviceNames.push(name);
    services.push(s[name]);
  }
  const e = spec.externals ?? {};
  for (const name in e) {
    externalNames.push(name);
    externals.push(e[name]);
  }
  return { serviceNames, services, externalNames, externals };
}

/** `record[key]` when `key` is the record's own (a connection to "constructor" is not a service). */
export function ownEntry<T>(record: Record<string, T>, key: string): T | undefined {
  return Object.prototype.hasOwnProperty.call(record, key) ? record[key] : undefined;
}

/** The environments a service or external is present in (unknown names are dropped; a rule reports them). */
export function presentIn(entry: ServiceSpec | ExternalSpec, envs: readonly Environment[]): readonly Environment[] {
  if (entry.environments) return envs.filter(e => entry.environments!.includes(e.name));
  if (entry.status === 'dev-only') return envs.filter(e => e.kind !== 'production');
  // Most entries run everywhere: the list itself, not a copy per entry.
  return envs;
}

export function inRange(port: number, range: Range): boolean {
  return port >= range[0] && port <= range[1];
}

export function inAny(port: number, ranges: readonly Range[]): boolean {
  return ranges.some(r => inRange(port, r));
}

/** Whether two ranges share at least one port. */
export function overlaps(a: Range, b: Range): boolean {
  return a[0] <= b[1] && b[0] <= a[1];
}

/**
 * Whether a registry written as data asks for Kubernetes output: it names a namespace, a NodePort
 * (range), a Service selector, an external's podSelector or namespace, or public namespaces.
 */
export function asksForKubernetes(spec: RegistrySpec): boolean {
  if (Object.values(spec.environments ?? {}).some(e => e.namespace !== undefined || e.nodePortRange !== undefined)) return true;
  if (Object.values(spec.externals ?? {}).some(x => x.namespace !== undefined || x.podSelector !== undefined)) return true;
  return Object.values(spec.services ?? {}).some(s => s.selector !== undefined ||
    (typeof s.public === 'object' && !!s.public.namespaces?.length) ||
    Object.values(s.ports ?? {}).some(p => (p as { nodePort?: unknown }).nodePort !== undefined));
}

/** Reached only on its own host: declared, or every port bound to a loopback address. */
export function isLocalOnly(svc: ServiceSpec): boolean {
  if (svc.localOnly !== undefined) return svc.localOnly;
  const ports = Object.values(svc.ports ?? {});
  return ports.length > 0 && ports.every(p => typeof p.hostIp === 'string' && /^(127\.|::1$|\[::1\]$|localhost$)/.test(p.hostIp));
}

/** `ranges` as disjoint pieces in ascending order, ranges that overlap or touch merged: `[[8100, 8100], [8101, 8102]]` is `[[8100, 8102]]`. */
export function mergeRanges(ranges: readonly Range[]): Range[] {
  const out: Range[] = [];
  for (const [a, b] of [...ranges].sort((x, y) => x[0] - y[0])) {
    const last = out[out.length - 1];
    if (last && a <= last[1] + 1) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

/** `ranges` without the ports of `holes`, in order. */
export function subtractRanges(ranges: readonly Range[], holes: readonly Range[]): Range[] {
  let out: Range[] = ranges.map(r => [r[0], r[1]] as Range);
  for (const h of holes) {
    out = out.flatMap((r): Range[] => {
      if (!overlaps(r, h)) return [r];
      const parts: Range[] = [];
      if (r[0] < h[0]) parts.push([r[0], h[0] - 1]);
      if (h[1] < r[1]) parts.push([h[1] + 1, r[1]]);
      return parts;
    });
  }
  return out;
}

/**
 * The ranges whose ports are category `name`'s own: its ranges without those of the categories
 * declared `within` it (a sub-range's ports are the sub-range's, so nested ranges never overlap).
 */
export function ownRanges(categories: Readonly<Record<string, { readonly ranges?: readonly Range[]; readonly within?: string }>>, name: string): Range[] {
  const c = categories[name];
  if (!c) return [];
  const holes = Object.entries(categories).filter(([n, x]) => n !== name && x.within === name).flatMap(([, x]) => x.ranges ?? []);
  return holes.length ? subtractRanges(c.ranges ?? [], holes) : [...(c.ranges ?? [])];
}

/** Where a range of a category came from when it was computed from `offsets`: the offset's index and the environment whose band it counts from. */
export interface RangeOrigin {
  readonly offset: number;
  readonly environment: string;
}
const ORIGINS = new WeakMap<object, ReadonlyArray<RangeOrigin | undefined>>();

/**
 * The registry with each category's `offsets` (counted from the start of each environment's band)
 * added to its `ranges` as ports, once per band (a range two bands give alike, once), clipped to the
 * band. Every later step reads ports only; `rangeOrigin` tells which offset and band a range came
 * from. Offsets that are no range, or start past a band, give nothing (checkRanges reports them).
 * The same object when no category has offsets; applying it twice adds nothing the second time.
 */
export function withBandOffsets(spec: RegistrySpec, envs: readonly Environment[]): RegistrySpec {
  const categories = spec.categories;
  if (!categories) return spec;
  let changed: Record<string, CategorySpec> | undefined;
  for (const name of Object.keys(categories)) {
    const c = categories[name];
    if (!c.offsets?.length) continue;
    const ranges: Range[] = [...(c.ranges ?? [])];
    const origins: Array<RangeOrigin | undefined> = ranges.map(() => undefined);
    const seen = new Set(ranges.map(r => `${r[0]}-${r[1]}`));
    for (const env of envs) {
      const band = env.band;
      if (!band) continue;
      c.offsets.forEach(([a, b], i) => {
        if (!Number.isInteger(a) || !Number.isInteger(b) || a < 0 || a > b) return;
        const first = band[0] + a;
        const last = Math.min(band[0] + b, band[1]);
        const key = `${first}-${last}`;
        if (first > last || seen.has(key)) return;
        seen.add(key);
        ranges.push([first, last]);
        origins.push({ offset: i, environment: env.name });
      });
    }
    const expanded: CategorySpec = { ...c, ranges };
    ORIGINS.set(expanded, origins);
    (changed ??= { ...categories })[name] = expanded;
  }
  return changed ? { ...spec, categories: changed } : spec;
}

/** Which offset and band range `index` of `category` was computed from (see {@link withBandOffsets}); undefined for a declared range. */
export function rangeOrigin(category: CategorySpec, index: number): RangeOrigin | undefined {
  return ORIGINS.get(category)?.[index];
}

/** The ranges of `category` as the registry writes them under `ranges`, without those its `offsets` give (see {@link rangeOrigin}). */
export function declaredRanges(category: CategorySpec): Range[] {
  return (category.ranges ?? []).filter((_, i) => rangeOrigin(category, i) === undefined);
}

/** Whether a port is internal (not published on the host) in environment `env` (see `PortSpec.internal`). */
export function isInternalIn(port: { readonly internal?: boolean | readonly string[] } | undefined, env: string): boolean {
  const internal = port?.internal;
  return internal === true || (Array.isArray(internal) && internal.includes(env));
}

export function formatRange(range: Range): string {
  return range[0] === range[1] ? `${range[0]}` : `${range[0]}-${range[1]}`;
}

/** The effective de-facto port list of a registry. */
export function defactoPortsOf(spec: RegistrySpec): ReadonlyMap<number, DefactoPort> {
  const map = new Map<number, DefactoPort>();
  if (spec.defactoPorts === false) return map;
  for (const [port, entry] of Object.entries(DEFACTO_PORTS)) map.set(Number(port), entry);
  for (const [port, entry] of Object.entries(spec.defactoPorts ?? {})) {
    if (entry === false) map.delete(Number(port));
    else map.set(Number(port), entry);
  }
  return map;
}

export function avoidedPortsOf(spec: RegistrySpec): ReadonlyMap<number, string> {
  const map = new Map<number, string>();
  for (const p of spec.avoid?.ports ?? []) {
    if (typeof p === 'number') map.set(p, 'listed in avoid.ports');
    else map.set(p.port, p.reason ?? 'listed in avoid.ports');
  }
  return map;
}

export function avoidedRangesOf(spec: RegistrySpec): AvoidedRange[] {
  const out: AvoidedRange[] = [];
  for (const r of spec.avoid?.ranges ?? []) {
    if (Array.isArray(r)) out.push({ range: r as Range, reason: 'listed in avoid.ranges', source: 'avoid' });
    else out.push({ range: r.range, reason: r.reason ?? 'listed in avoid.ranges', source: 'avoid' });
  }
  for (const [name, c] of Object.entries(spec.categories ?? {})) {
    if (!c.reserved) continue;
    for (const range of c.ranges ?? []) {
      out.push({ range, reason: c.description ?? `reserved category ${name}`, source: name });
    }
  }
  return out;
}

/** `my-api` + `http` -> `MY_API_HTTP`: the stem of every generated variable name. */
export function envVarStem(...parts: string[]): string {
  const joined = parts.join('_');
  // Most names are already lowercase words and dashes: skip the regular expressions for them.
  if (SIMPLE.test(joined)) return joined.toUpperCase().replaceAll('-', '_');
  return joined.toUpperCase().replace(/[^A-Z0-9]+/g, '_').replace(/^_|_$/g, '');
}
const SIMPLE = /^[a-z0-9]+(?:[-_][a-z0-9]+)*$/;

/** Whether the service's `public` entry reaches its port `portName` (a port may opt out with `public: false`). */
export function portIsPublic(svc: { readonly public?: unknown; readonly ports?: Readonly<Record<string, { readonly public?: boolean }>> } | undefined, portName: string): boolean {
  return !!svc?.public && svc.ports?.[portName]?.public !== false;
}
