/**
 * Fixes that agree with each other. A finding that is fixed by moving a port does not carry its
 * fix text from the moment it is found; it carries a plan (where the port may go). After every
 * finding of every rule is known, {@link planFixes} walks them in report order against one shared
 * port space and holds each port it proposes, so no two fixes name the same port and no fix names
 * a port that is taken, avoided, reserved or a de-facto default.
 */
import type { Finding } from '../model/finding';
import { Environment, formatRange, inAny, mergeRanges, overlaps, presentIn } from '../model/normalize';
import type { ExternalSpec, Range, RegistrySpec, ServiceSpec } from '../model/schema';
import { SlotAsk, slotCount, slotPort } from '../model/slots';
import type { PortSpaces, PortUse } from './port-space';
import { noFreeOffset, skippedOffsets } from './offset-fix';

/** Where a finding's port may move to. */
export interface Relocation {
  readonly scope: string;
  readonly protocol: string;
  /** The ranges the port belongs in (band ∩ category), or any non-system port when it has none. */
  readonly ranges: readonly Range[];
  /**
   * Set when the port belongs nowhere yet (its category has no range inside its band): what must
   * change before it can move. The fix says that instead of offering a port.
   */
  readonly blocked?: string;
  readonly use: PortUse;
  /** Look from here first (the current port), then from the start. @default the ranges' start */
  readonly from?: number;
  /** `move it into`, `pick a port in` … */
  readonly verb: string;
  /**
   * Set for a port given by its place in a category (`slot:`): the fix gives it another slot, not
   * a number. `index` is the slot of a free port (undefined outside the counted ranges).
   */
  readonly slot?: { readonly label: string; readonly index: (port: number) => number | undefined };
  /**
   * Set for a port given by an offset from its environment's band (`offset: 1`): the fix gives it
   * another offset, one free in the band of every environment the service runs in, not a number.
   */
  readonly offset?: { readonly label: string; readonly entry: ServiceSpec | ExternalSpec; readonly env: string };
  /**
   * Set when what moves is the service's port itself (not its fallback, target port or NodePort): a
   * compose file of the registry's `composeChecks` that publishes it must publish the new port too.
   */
  readonly movesPort?: boolean;
  /**
   * Set for a slot past its category's last port (`port-source`): the fix offers a slot free and
   * inside the band in every environment the service runs in, the same for all its findings.
   */
  readonly pick?: SlotAsk;
  /** Wraps the sentence, e.g. to offer another fix first. @default the sentence itself */
  readonly wrap?: (sentence: string, rule: string, syntax: 'code' | 'data') => string;
}

const plans = new WeakMap<Finding, Relocation>();

/** A port's new source in the registry's own syntax: `offset: 2` in a file, `Port.offset(2)` in TypeScript. */
const sourceText = (syntax: 'code' | 'data', key: 'offset' | 'slot', n: number) => (syntax === 'code' ? `Port.${key}(${n})` : `${key}: ${n}`);

/** A registry port that a checked compose file publishes (see {@link notePublished}). */
export interface Published {
  readonly service: string;
  readonly portName: string;
  readonly environment: string;
  readonly port: number;
  readonly protocol: string;
  /** `file:line` of the compose `ports` entry. */
  readonly at: string;
}

const published = new WeakMap<object, Published[]>();

/**
 * Records, for a resolved registry, the ports its `composeChecks` files publish for it (lib/compose/drift.ts):
 * a fix that moves one of them says to publish the new port there too, or the move is a `compose-drift`.
 */
export function notePublished(resolved: object, entries: readonly Published[]): void {
  published.set(resolved, [...(published.get(resolved) ?? []), ...entries]);
}

/** The ports recorded by {@link notePublished} for a resolved registry. */
export function publishedOf(resolved: object): readonly Published[] {
  return published.get(resolved) ?? [];
}

/** Attaches a relocation plan to a finding (its fix is written by {@link planFixes}). */
export function relocate(f: Finding, plan: Relocation): Finding {
  plans.set(f, plan);
  return f;
}

/** The finding with another message, keeping its relocation plan. */
export function withMessage(f: Finding, message: string): Finding {
  const copy = { ...f, message };
  const plan = plans.get(f);
  if (plan) plans.set(copy, plan);
  return copy;
}

/** The finding with more fields (a waiver), keeping its relocation plan. */
export function withFields(f: Finding, fields: Partial<Finding>): Finding {
  const copy = { ...f, ...fields };
  const plan = plans.get(f);
  if (plan) plans.set(copy, plan);
  return copy;
}

/** Owner number of a port held only because a fix proposes it. */
export const SUGGESTED_OWNER = -2;

/**
 * Writes the fix of every finding that carries a relocation plan, in report order, each against
 * the port space as the earlier fixes left it. Findings without a plan are returned as they are.
 */
export function planFixes(findings: readonly Finding[], spaces: PortSpaces, syntax: 'code' | 'data' = 'data', envs: readonly Environment[] = [],
  spec?: RegistrySpec, composed: readonly Published[] = []): Finding[] {
  // A port a compose file publishes that the fix moves: publish the new one there too (` and publish 8001 in docker-compose.yml:16`).
  const republish = (f: Finding, plan: Relocation, port: number | undefined) => {
    if (port === undefined || !plan.movesPort || !composed.length) return '';
    const w = f.where;
    const at = [...new Set(composed.filter(c => c.service === w.service && c.portName === w.portName && c.environment === w.environment &&
      c.port === w.port && c.protocol === plan.protocol && c.port !== port).map(c => c.at))];
    return at.length ? ` and publish ${port} in ${at.join(' and ')}` : '';
  };
  // The offset each offset port is told to take: its findings in other environments tell the same one.
  const offsets = new Map<string, number | undefined>();
  // The slot each slot port past its category's end is told to take.
  const picked = new Map<string, string>();
  return findings.map(f => {
    const plan = plans.get(f);
    // A waived finding needs no fix, and must not take a free port another fix could offer (a planned one keeps its fix).
    if (!plan || (f.waived !== undefined && !f.planned)) return f;
    if (plan.blocked !== undefined) return { ...f, fix: plan.wrap ? plan.wrap(plan.blocked, f.rule, syntax) : plan.blocked };
    const space = spaces.of(plan.scope, plan.protocol);
    // A fix never proposes a de-facto default nor a port kept clear (X11's 6000), unless it is the server's own: the port rules skip them.
    if (plan.pick) {
      const pick = plan.pick;
      const sentence = picked.get(pick.label) ?? pickSlot(pick, spaces, syntax);
      picked.set(pick.label, sentence);
      return { ...f, fix: sentence };
    }
    const own = plan.offset ? envs.find(e => e.name === plan.offset!.env) : undefined;
    if (plan.offset && own?.band) {
      const { label } = plan.offset;
      const start = own.band[0];
      const others = presentIn(plan.offset.entry, envs).filter(e => e !== own && e.band);
      // The same offset in another band: free there too, allowed there, and inside that band.
      const freeElsewhere = (offset: number) => others.every(o => {
        const q = o.band![0] + offset;
        return q <= o.band![1] && !(o.scope === plan.scope && q === start + offset) &&
          !spaces.of(o.scope, plan.protocol).has(q) && spaces.rules.skip(q, plan.use) === q;
      });
      if (!offsets.has(label)) {
        const free = space.findNext(plan.ranges, spaces.rules, plan.use, plan.from ?? 0, p => freeElsewhere(p - start));
        offsets.set(label, free === undefined ? undefined : free - start);
        if (free !== undefined) {
          space.allocate(free, SUGGESTED_OWNER);
          for (const o of others) spaces.of(o.scope, plan.protocol).allocate(o.band![0] + free - start, SUGGESTED_OWNER);
        }
      }
      const offset = offsets.get(label);
      const bands = { envs: [own, ...others], use: plan.use, protocol: plan.protocol };
      const sentence = offset === undefined
        ? noFreeOffset(label, bands, spaces, plan.ranges, envs, spec, f.where, SUGGESTED_OWNER)
        : `give ${label} another offset from the band: the next one free in every environment it runs in is ${sourceText(syntax, 'offset', offset)} (${envs.filter(e => e === own || others.includes(e)).map(e => `port ${e.band![0] + offset} in ${e.name}`).join(', ')})` +
          skippedOffsets(bands, spaces, plan.ranges, plan.from ?? 0, start + offset) + republish(f, plan, start + offset);
      return { ...f, fix: plan.wrap ? plan.wrap(sentence, f.rule, syntax) : sentence };
    }
    const free = space.findNext(plan.ranges, spaces.rules, plan.use, plan.from ?? 0);
    if (free !== undefined) space.allocate(free, SUGGESTED_OWNER);
    const where = plan.ranges.map(formatRange).join(', ');
    const slot = free !== undefined && plan.slot ? plan.slot.index(free) : undefined;
    const sentence = (slot !== undefined
      ? `give ${plan.slot!.label} another slot: the next free port in ${where} is ${free}, ${sourceText(syntax, 'slot', slot)}`
      : free === undefined
        ? noFreePort(f, plan, spaces, envs, spec)
        : `${plan.verb} ${where}: the next free port is ${free}`) + republish(f, plan, free);
    return { ...f, fix: plan.wrap ? plan.wrap(sentence, f.rule, syntax) : sentence };
  });
}

const flow = (ranges: readonly Range[]) => `[${ranges.map(r => `[${r[0]}, ${r[1]}]`).join(', ')}]`;

/**
 * The fix of a port with no free port left where it belongs: the nearest free port outside those
 * ranges, and the change to the category's ranges (or the band) that would hold it, when one can be
 * made without overlapping another range; otherwise what holds the ports and what to widen.
 */
function noFreePort(f: Finding, plan: Relocation, spaces: PortSpaces, envs: readonly Environment[], spec?: RegistrySpec): string {
  const where = plan.ranges.map(formatRange).join(', ');
  const one = plan.ranges.length === 1 && plan.ranges[0][0] === plan.ranges[0][1];
  const taken = one ? `its only port, ${where}, is taken and two services cannot share a port` : `every port of ${where} is taken or avoided`;
  const subject = plan.slot ? `give ${plan.slot.label} another slot: none is free (${taken})` : `${plan.verb} ${where}: ${taken}`;
  const env = envs.find(e => e.name === f.where.environment);
  const entry = f.where.service !== undefined ? spec?.services?.[f.where.service] ?? spec?.externals?.[f.where.service] : undefined;
  const portSpec = entry && f.where.portName !== undefined ? (entry.ports as Record<string, { category?: string } | undefined>)[f.where.portName] : undefined;
  const categoryName = portSpec?.category ?? entry?.category;
  const categories = spec?.categories ?? {};
  const category = categoryName !== undefined ? categories[categoryName] : undefined;
  // Where a new port may lie: a category's inside its band, inside the enclosing category of a sub-range; a band's anywhere it may grow.
  const bounds: Range = categoryName !== undefined && env?.band ? env.band : [plan.use.privileged ? 1 : 1024, 65535];
  const parent = category?.within !== undefined ? categories[category.within]?.ranges ?? [] : undefined;
  // Ranges of other categories (not this one's sub-ranges): a port there belongs to them.
  const others = Object.entries(categories).filter(([n, c]) => n !== categoryName && !(c.within === categoryName && categoryName !== undefined)).flatMap(([, c]) => c.ranges ?? []);
  // … and the bands of the other environments of its scope.
  const otherBands = envs.filter(e => e !== env && e.scope === plan.scope && e.band).map(e => e.band!);
  const space = spaces.of(plan.scope, plan.protocol);
  const usable = (p: number) => p >= bounds[0] && p <= bounds[1] && !inAny(p, plan.ranges) && !space.has(p) && spaces.rules.skip(p, plan.use) === p &&
    !inAny(p, others) && !inAny(p, otherBands) && (parent === undefined || inAny(p, parent));
  let nearest: number | undefined;
  for (let d = 1; d <= 65535 && nearest === undefined; d++) {
    for (const r of plan.ranges) {
      if (usable(r[0] - d)) { nearest = r[0] - d; break; }
      if (usable(r[1] + d)) { nearest = r[1] + d; break; }
    }
  }
  if (nearest === undefined) return `${subject}, and no free port is left ${categoryName !== undefined && env?.band ? `in the band of ${env.name}` : 'anywhere'}: free one of them`;
  space.allocate(nearest, SUGGESTED_OWNER);
  const then = plan.slot ? 'then give it the slot of that port' : 'then move it there';
  // A category declared by ranges only grows by the port; one counted by `offsets` is changed by hand.
  if (category && categoryName !== undefined && !category.offsets?.length && category.ranges?.length) {
    return `${subject}; the nearest free port outside ${plan.ranges.length === 1 ? 'it' : 'them'} is ${nearest}: set categories.${categoryName}.ranges: ${flow(mergeRanges([...category.ranges, [nearest, nearest]]))}, ${then}`;
  }
  if (!category && env?.band && categoryName === undefined) {
    const band: Range = [Math.min(env.band[0], nearest), Math.max(env.band[1], nearest)];
    // The wider band must not overlap another band of its scope, nor cut a category range in two.
    const clash = envs.some(e => e !== env && e.scope === env.scope && e.band && overlaps(e.band, band)) ||
      Object.values(categories).flatMap(c => c.ranges ?? []).some(r => overlaps(r, band) && !(band[0] <= r[0] && r[1] <= band[1]) && !(r[0] <= band[0] && band[1] <= r[1]));
    if (!clash) return `${subject}; the nearest free port outside ${plan.ranges.length === 1 ? 'it' : 'them'} is ${nearest}: set environments.${env.name}.range: ${flow([band]).slice(1, -1)}, ${then}`;
  }
  return `${subject}; the nearest free port outside ${plan.ranges.length === 1 ? 'it' : 'them'} is ${nearest}: widen ${categoryName !== undefined ? `the ranges of category ${categoryName}` : `the band of ${env?.name ?? 'its environment'}`} to hold it, ${then}`;
}

/** The fix of a slot past its category's last port: the first slot free and inside the band in every environment, held for it. */
function pickSlot(pick: SlotAsk, spaces: PortSpaces, syntax: 'code' | 'data'): string {
  const use = { kind: pick.kind, privileged: pick.privileged };
  const size = Math.min(...pick.counted.map(c => slotCount(c.ranges)));
  let inBands = false;
  for (let i = 0; i < size; i++) {
    const ports = pick.counted.map(c => slotPort(c.ranges, i)!);
    if (!pick.counted.every((c, j) => !c.env.band || (ports[j] >= c.env.band[0] && ports[j] <= c.env.band[1]))) continue;
    inBands = true;
    // Free in each environment's space, allowed there, and not one port twice on one host.
    const free = pick.counted.every((c, j) => (c.self === ports[j] || !spaces.of(c.env.scope, pick.protocol).has(ports[j])) && spaces.rules.skip(ports[j], use) === ports[j] &&
      !pick.counted.some((o, k) => k < j && o.env.scope === c.env.scope && ports[k] === ports[j]));
    if (!free) continue;
    pick.counted.forEach((c, j) => spaces.of(c.env.scope, pick.protocol).allocate(ports[j], SUGGESTED_OWNER));
    return `give ${pick.label} another slot: the next one free in every environment it runs in is ${sourceText(syntax, 'slot', i)} ` +
      `(${pick.counted.map((c, j) => `port ${ports[j]} in ${c.env.name}`).join(', ')})`;
  }
  const banded = pick.counted.filter(c => c.env.band);
  return inBands
    ? `no slot of category ${pick.category} is free in every environment ${pick.label} runs in: widen the category`
    : `no slot of category ${pick.category} lies inside the band of every environment ${pick.label} runs in (${banded.map(c => `${formatRange(c.env.band!)} in ${c.env.name}`).join(', ')}): ` +
      `move a range of category ${pick.category} inside the bands or widen them`;
}
