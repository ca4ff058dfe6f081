/**
 * Fixes that agree with each other. A finding that is fixed by moving a port does not carry its
 * fix text from the moment it is found; it carries a plan (where the port may go). After every
 * finding of every rule is known, {@link planFixes} walks them in report order against one shared
 * port space and holds each port it proposes, so no two fixes name the same port and no fix names
 * a port that is taken, avoided, reserved or a de-facto default.
 */
import type { Finding } from '../model/finding';
import { Environment, formatRange, presentIn } from '../model/normalize';
import type { ExternalSpec, Range, ServiceSpec } from '../model/schema';
import type { PortSpaces, PortUse } from './port-space';

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
  /** Wraps the sentence, e.g. to offer another fix first. @default the sentence itself */
  readonly wrap?: (sentence: string, rule: string, syntax: 'code' | 'data') => string;
}

const plans = new WeakMap<Finding, Relocation>();

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
export function planFixes(findings: readonly Finding[], spaces: PortSpaces, syntax: 'code' | 'data' = 'data', envs: readonly Environment[] = []): Finding[] {
  // The offset each offset port is told to take: its findings in other environments tell the same one.
  const offsets = new Map<string, number | undefined>();
  return findings.map(f => {
    const plan = plans.get(f);
    // A waived finding needs no fix, and must not take a free port another fix could offer (a planned one keeps its fix).
    if (!plan || (f.waived !== undefined && !f.planned)) return f;
    if (plan.blocked !== undefined) return { ...f, fix: plan.wrap ? plan.wrap(plan.blocked, f.rule, syntax) : plan.blocked };
    const space = spaces.of(plan.scope, plan.protocol);
    // A fix never proposes a de-facto default nor a port kept clear (X11's 6000), unless it is the server's own: the port rules skip them.
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
      const where = plan.ranges.map(formatRange).join(', ');
      const sentence = offset === undefined
        ? `give ${label} another offset from the band: none is free in ${where} and in the band of every environment it runs in (widen the bands, or give it a port per environment)`
        : `give ${label} another offset from the band: the next one free in every environment it runs in is ${syntax === 'code' ? `Port.offset(${offset})` : `offset: ${offset}`} (${envs.filter(e => e === own || others.includes(e)).map(e => `port ${e.band![0] + offset} in ${e.name}`).join(', ')})`;
      return { ...f, fix: plan.wrap ? plan.wrap(sentence, f.rule, syntax) : sentence };
    }
    const free = space.findNext(plan.ranges, spaces.rules, plan.use, plan.from ?? 0);
    if (free !== undefined) space.allocate(free, SUGGESTED_OWNER);
    const where = plan.ranges.map(formatRange).join(', ');
    const slot = free !== undefined && plan.slot ? plan.slot.index(free) : undefined;
    const sentence = slot !== undefined
      ? `give ${plan.slot!.label} another slot: the next free port in ${where} is ${free}, ${syntax === 'code' ? `Port.slot(${slot})` : `slot: ${slot}`}`
      : free === undefined
        ? `${plan.verb} ${where} (no free port is left there: widen the range)`
        : `${plan.verb} ${where}: the next free port is ${free}`;
    return { ...f, fix: plan.wrap ? plan.wrap(sentence, f.rule, syntax) : sentence };
  });
}
