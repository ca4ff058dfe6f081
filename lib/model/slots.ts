/**
 * Ports given by their place in a category (`slot: 'last'`: "the last port of the range is the
 * debug port"), turned into one published port per environment before anything else reads them.
 */
import { Finding, finding } from './finding';
import { Environment, formatRange, mergeRanges, ownEntry, presentIn } from './normalize';
import type { CategorySpec, PortSpec, Range, RegistrySpec, ServiceSpec } from './schema';

/** The slot a port was given by, kept for the documents once the port is a number (see {@link slotOf}). */
const SLOTS = new WeakMap<object, PortSpec['slot']>();

/** The ranges a resolved slot port was counted over, per environment (see {@link slotIndexOf}). */
const COUNTED = new WeakMap<object, ReadonlyMap<string, readonly Range[]>>();

/** The slot a resolved port came from (`'last'`, `0`, `-2`), or undefined when it was not given by one. */
export function slotOf(port: object): PortSpec['slot'] | undefined {
  return SLOTS.get(port);
}

/**
 * The slot (from 0) that `port` is in the ranges a slot port of environment `env` is counted over:
 * what a fix gives the port instead of a number. Undefined for a port not given by a slot, or a
 * port outside those ranges.
 */
export function slotIndexOf(resolved: object, env: string, port: number): number | undefined {
  const ranges = COUNTED.get(resolved)?.get(env);
  if (!ranges) return undefined;
  let index = 0;
  for (const [a, b] of mergeRanges(ranges)) {
    if (port >= a && port <= b) return index + port - a;
    index += b - a + 1;
  }
  return undefined;
}

/**
 * What a slot past its category's last port asked for, kept with its `port-source` findings: the fix
 * offers a slot that is free and inside the band in every environment the service runs in
 * (lib/allocation/fixes.ts).
 */
export interface SlotAsk {
  /** `service.port` */
  readonly label: string;
  readonly category: string;
  readonly protocol: string;
  readonly kind?: string;
  readonly privileged: boolean;
  /** The ranges the slot is counted over, in each environment the service runs in. */
  readonly counted: ReadonlyArray<{ readonly env: Environment; readonly ranges: readonly Range[]; /** The port allocated to it meanwhile (free for the fix). */ readonly self?: number }>;
}

const ASKS = new WeakMap<Finding, SlotAsk>();

/** The slot a `port-source` finding of a slot past its category's last port asked for, or undefined. */
export function slotAskOf(f: Finding): SlotAsk | undefined {
  return ASKS.get(f);
}

/** The port at slot `index` (from 0) of `ranges`, or undefined past their last port. */
export function slotPort(ranges: readonly Range[], index: number): number | undefined {
  return portAt(ranges, index).port;
}

/** The number of ports `ranges` count (each port once). */
export function slotCount(ranges: readonly Range[]): number {
  return portAt(ranges, 0).size;
}

/** The category's ranges in one environment, as written: declared ranges, and offsets in that environment's band. */
function rangesIn(category: CategorySpec, env: Environment): Range[] {
  const ranges: Range[] = [...(category.ranges ?? [])];
  if (env.band) {
    for (const [a, b] of category.offsets ?? []) {
      if (!Number.isInteger(a) || !Number.isInteger(b) || a < 0 || a > b) continue;
      const first = env.band[0] + a;
      const last = Math.min(env.band[0] + b, env.band[1]);
      if (first <= last) ranges.push([first, last]);
    }
  }
  return ranges.filter(r => Number.isInteger(r[0]) && Number.isInteger(r[1]) && r[0] <= r[1]).sort((x, y) => x[0] - y[0]);
}

/** The port at `slot` of `ranges` (counted over them in order, without repeating a port), or the number of ports when there is none. */
function portAt(ranges: readonly Range[], slot: number | 'first' | 'last'): { port?: number; size: number } {
  const ports = mergeRanges(ranges);
  const size = ports.reduce((n, [a, b]) => n + b - a + 1, 0);
  const index = slot === 'first' ? 0 : slot === 'last' ? size - 1 : slot < 0 ? size + slot : slot;
  if (index < 0 || index >= size) return { size };
  let rest = index;
  for (const [a, b] of ports) {
    if (rest <= b - a) return { port: a + rest, size };
    rest -= b - a + 1;
  }
  return { size };
}

/** The finding, remembering the slot it asked for. */
const asked = (f: Finding, ask: SlotAsk) => (ASKS.set(f, ask), f);

const slotText = (slot: number | 'first' | 'last') => (typeof slot === 'number' ? `slot ${slot}` : `the ${slot} slot`);

/**
 * Gives every service port that has a `slot` (and no other source) its port in each environment it
 * is present in, as `port: { <environment>: <n> }`. A slot that cannot be placed stays as it is and
 * is reported (`port-source`, at `services.<s>.ports.<p>.slot`): a slot beside `port`, `offset` or
 * `auto`, a port without a category, a category without a range in an environment, a slot past the
 * category's last port. An unknown category is left to `unknown-category`.
 */
export function withCategorySlots(spec: RegistrySpec, envs: readonly Environment[]): { spec: RegistrySpec; findings: Finding[] } {
  const findings: Finding[] = [];
  const services = spec.services;
  if (!services) return { spec, findings };
  let changed: Record<string, ServiceSpec> | undefined;
  for (const name of Object.keys(services)) {
    const svc = services[name];
    let ports: Record<string, PortSpec> | undefined;
    for (const portName of Object.keys(svc.ports ?? {})) {
      const p = svc.ports![portName];
      if (p.slot === undefined) continue;
      const slot = p.slot;
      const path = `services.${name}.ports.${portName}.slot`;
      const where = { registry: spec.name, service: name, portName, path };
      const others = (['port', 'offset', 'auto'] as const).filter(k => p[k] !== undefined && p[k] !== false);
      if (others.length) {
        findings.push(finding('port-source', `${name}.${portName} sets slot and ${others.join(' and ')}; a port is given by exactly one of them`,
          where, `keep one of slot, ${others.join(', ')}`));
        continue;
      }
      const categoryName = p.category ?? svc.category;
      if (categoryName === undefined) {
        findings.push(finding('port-source', `${name}.${portName} asks for ${slotText(slot)}, but neither the port nor the service has a category to count it in`,
          where, `give the port or the service a category (category: <name>), or give it port: instead of slot:`));
        continue;
      }
      const category = ownEntry(spec.categories ?? {}, categoryName);
      if (!category) continue; // unknown-category says so
      const port: Record<string, number> = {};
      let placed = true;
      const ask: SlotAsk = {
        label: `${name}.${portName}`, category: categoryName, protocol: p.protocol ?? 'TCP', kind: svc.kind, privileged: p.privileged ?? false,
        counted: presentIn(svc, envs).map(env => ({ env, ranges: rangesIn(category, env) })),
      };
      for (const { env, ranges } of ask.counted) {
        const at = portAt(ranges, slot);
        if (at.port !== undefined) {
          port[env.name] = at.port;
          continue;
        }
        placed = false;
        findings.push(at.size === 0
          ? finding('port-source', `${name}.${portName} asks for ${slotText(slot)} of category ${categoryName}, which has no range in ${env.name}${category.offsets?.length && !env.band ? ` (its offsets count from a band, and ${env.name} has none)` : ''}`,
            { ...where, environment: env.name, category: categoryName }, `give category ${categoryName} a range for ${env.name}, or give ${name}.${portName} port: instead of slot:`)
          : asked(finding('port-source', `${name}.${portName} asks for ${slotText(slot)} of category ${categoryName}, which has ${at.size} port${at.size === 1 ? '' : 's'} in ${env.name} (${ranges.map(formatRange).join(', ')})`,
            { ...where, environment: env.name, category: categoryName }, `use a slot from 0 to ${at.size - 1}, or from -1 (the last) to -${at.size}`), ask));
      }
      if (!placed) continue;
      const resolved: PortSpec = { ...p, port };
      delete (resolved as { slot?: unknown }).slot;
      SLOTS.set(resolved, slot);
      COUNTED.set(resolved, new Map(ask.counted.map(c => [c.env.name, c.ranges])));
      (ports ??= { ...svc.ports })[portName] = resolved;
    }
    if (ports) (changed ??= { ...services })[name] = { ...svc, ports };
  }
  return { spec: changed ? { ...spec, services: changed } : spec, findings };
}
