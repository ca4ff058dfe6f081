/**
 * Fixes that agree with each other. A finding that is fixed by moving a port does not carry its
 * fix text from the moment it is found; it carries a plan (where the port may go). After every
 * finding of every rule is known, {@link planFixes} walks them in report order against one shared
 * port space and holds each port it proposes, so no two fixes name the same port and no fix names
 * a port that is taken, avoided, reserved or a de-facto default.
 */
import type { Finding } from '../model/finding';
import { formatRange } from '../model/normalize';
import type { Range } from '../model/schema';
import { isVendorDefault } from '../model/vendor-defaults';
import { FIX_KEEPS_CLEAR } from '../model/well-known';
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
export function planFixes(findings: readonly Finding[], spaces: PortSpaces, syntax: 'code' | 'data' = 'data'): Finding[] {
  return findings.map(f => {
    const plan = plans.get(f);
    // A waived finding needs no fix, and must not take a free port another fix could offer (a planned one keeps its fix).
    if (!plan || (f.waived !== undefined && !f.planned)) return f;
    if (plan.blocked !== undefined) return { ...f, fix: plan.wrap ? plan.wrap(plan.blocked, f.rule, syntax) : plan.blocked };
    const space = spaces.of(plan.scope, plan.protocol);
    // A fix never proposes a de-facto default (the port rules skip them) nor a port kept clear (X11's 6000), unless it is the server's own.
    const free = space.findNext(plan.ranges, spaces.rules, plan.use, plan.from ?? 0,
      p => FIX_KEEPS_CLEAR[p] === undefined || isVendorDefault(plan.use.kind, p));
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
