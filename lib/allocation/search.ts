/**
 * Finding new ports: the next free port of an automatic port's ranges (after the highest one used,
 * for a category that assigns sequentially), and the common offset of an `offset: auto` port.
 */
import { formatRange } from '../model/normalize';
import type { Range, RegistrySpec } from '../model/schema';
import type { Full } from './outcomes';
import type { PortRules, PortUse } from './port-space';
import { Request, validPort } from './request';

const useOf = (r: Request): PortUse => ({ kind: r.decl.kind, privileged: r.decl.privileged });

/**
 * The lowest offset free in every band of the group. Each request jumps to its own next free
 * port from the candidate; the candidate moves to the furthest of them until all agree, so the
 * search only moves forward (linear in the band, not in the band times the offsets tried).
 */
export function commonOffset(requests: readonly Request[], rules: PortRules): number | undefined {
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

/** New automatic ports: each takes the next free port of its ranges, in request order. */
export class AutoPorts {
  /** Categories that assign sequentially hand out the port after the highest one used, never a gap. */
  private readonly sequentialNext = new Map<string, number>();

  constructor(private readonly spec: RegistrySpec, public readonly rules: PortRules) {}

  /** The port for `r`, or why there is none. */
  public next(r: Request): number | Full {
    const categories = this.spec.categories ?? {};
    const sequential = r.decl.category !== undefined && categories[r.decl.category]?.assign === 'sequential';
    const port = sequential ? this.nextSequential(r) : r.space.findNext(r.ranges, this.rules, useOf(r));
    if (port !== undefined) return port;
    const category = r.decl.category !== undefined ? categories[r.decl.category] : undefined;
    // A category range that is not a range at all is the invalid-range finding's to report.
    const why = r.ranges.length === 0 && (category?.ranges ?? []).some(x => !(validPort(x[0]) && validPort(x[1]) && x[0] <= x[1])) ? 'invalid-range'
      : r.ranges.length === 0 && category && r.env.band ? 'category-outside-band'
        : r.ranges.length === 0 ? 'no-range' : sequential ? 'sequential' : 'taken';
    return { kind: 'full', request: r, why };
  }

  private nextSequential(r: Request): number | undefined {
    const key = `${r.env.scope}\u0000${r.decl.protocol}\u0000${r.ranges.map(formatRange).join(',')}`;
    let from = this.sequentialNext.get(key);
    // From the port after the highest one held (highestIn gives -1 when none is); a range wholly below is empty and skipped.
    if (from === undefined) from = r.space.highestIn(r.ranges) + 1;
    const above = r.ranges.map(x => [Math.max(x[0], from!), x[1]] as Range);
    const port = r.space.findNext(above, this.rules, useOf(r));
    if (port !== undefined) this.sequentialNext.set(key, port + 1);
    return port;
  }
}
