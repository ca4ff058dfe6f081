/**
 * What the fix of a port given by an offset from its band (`offset: 9`) says beyond the offset it
 * offers: the offsets it stepped over because their port is a de-facto default or kept clear in a
 * band (as an automatic port's note says), and, when no offset is free in every band, what blocks
 * each one and the band change that would make room.
 */
import { Environment, formatRange, mergeRanges, overlaps } from '../model/normalize';
import type { Range, RegistrySpec } from '../model/schema';
import type { PortSpaces, PortUse } from './port-space';

/** The environments a port given by an offset runs in (its own first, each with a band), and what it is. */
export interface Bands {
  readonly envs: readonly Environment[];
  readonly use: PortUse;
  readonly protocol: string;
}

/** Why the rules keep `port` from `use`: a de-facto default or a port kept clear (X11's 6000), else undefined. */
function notable(spaces: PortSpaces, port: number, use: PortUse): string | undefined {
  return spaces.rules.defactoConflict(port, use.kind)?.what ?? spaces.rules.keptClear(port, use.kind);
}

/**
 * `, skipping offset 10: 8000 in dev (Django dev server), 10000 in prod (…)`: the offsets between
 * where the search started and the one chosen whose port is a de-facto default or kept clear in
 * some band. Empty when none was.
 */
export function skippedOffsets(b: Bands, spaces: PortSpaces, ranges: readonly Range[], fromPort: number, chosen: number): string {
  const own = b.envs[0].band![0];
  const range = ranges.find(r => r[0] <= chosen && chosen <= r[1]);
  if (!range) return '';
  // The search went up from the port the finding is on (inside this range), else from the range's start.
  const first = fromPort >= range[0] && fromPort < chosen ? fromPort : range[0];
  const skipped: string[] = [];
  for (let o = first - own; o < chosen - own; o++) {
    const why = b.envs.filter(e => e.band && e.band[0] + o <= e.band[1])
      .map(e => [e, notable(spaces, e.band![0] + o, b.use)] as const).filter(([, w]) => w !== undefined);
    if (why.length) skipped.push(`offset ${o}: ${why.map(([e, w]) => `${e.band![0] + o} in ${e.name} (${w})`).join(', ')}`);
  }
  return skipped.length ? `, skipping ${skipped.join('; ')}` : '';
}

/**
 * The fix of an offset port when no offset is free in every band: which ports block the offsets
 * (taken, or kept by the rules) in each band, and the smallest widening of the bands, past their
 * ends, that gives an offset free in all of them and overlaps no other band of their scopes nor a
 * category; else what to do by hand.
 */
export function noFreeOffset(label: string, b: Bands, spaces: PortSpaces, ranges: readonly Range[], envs: readonly Environment[],
  spec: RegistrySpec | undefined, where: { readonly service?: string; readonly portName?: string }, owner: number): string {
  const entry = where.service !== undefined ? spec?.services?.[where.service] : undefined;
  const categoryName = (where.portName !== undefined ? entry?.ports[where.portName]?.category : undefined) ?? entry?.category;
  const blocked = (e: Environment, port: number) =>
    spaces.of(e.scope, b.protocol).has(port) || spaces.rules.skip(port, b.use) !== port;
  // What blocks the offsets in each band, as ranges of ports.
  const own = b.envs[0];
  const offsets = ranges.flatMap(([lo, hi]) => [[lo - own.band![0], hi - own.band![0]] as Range]);
  const blocking = b.envs.map(e => {
    const ports: Range[] = [];
    for (const [lo, hi] of offsets) {
      for (let o = lo; o <= hi; o++) {
        const q = e.band![0] + o;
        if (q <= e.band![1] && blocked(e, q)) ports.push([q, q]);
      }
    }
    return `${mergeRanges(ports).map(formatRange).join(', ') || 'none'} in ${e.name}`;
  });
  const subject = `give ${label} another offset from the band: none is free in ${ranges.map(formatRange).join(', ')} and in the band of every environment it runs in ` +
    `(taken or kept clear: ${blocking.join('; ')})`;
  // A category's ranges decide where the port may lie: the bands alone cannot make room.
  if (categoryName !== undefined) return `${subject}: widen the ranges of category ${categoryName} in every band it runs in, or give it a port per environment`;
  const widened = widenedOffset(label, b, spaces, envs, spec, blocked, owner);
  if (widened === undefined) {
    return `${subject}: widen the bands (no offset past their ends is free in all of them without overlapping another range), or give it a port per environment`;
  }
  const sets = b.envs.map(e => (e.band![0] + widened > e.band![1] ? `set environments.${e.name}.range: [${e.band![0]}, ${e.band![0] + widened}]` : undefined)).filter(x => x !== undefined);
  return `${subject}; widened, offset ${widened} is free in every band: ${sets.join(' and ')} and give it offset: ${widened}`;
}

/** The offset each offset port with no free offset is told to widen the bands for, by port space: its findings in other environments tell the same one. */
const WIDENED = new WeakMap<PortSpaces, Map<string, number | undefined>>();

/**
 * The first offset past the end of the smallest band that is free in every band, such that the bands
 * widened to hold it overlap no other band of their scopes nor cut a category range; held for `owner`.
 */
function widenedOffset(label: string, b: Bands, spaces: PortSpaces, envs: readonly Environment[], spec: RegistrySpec | undefined,
  blocked: (e: Environment, port: number) => boolean, owner: number): number | undefined {
  const memo = WIDENED.get(spaces) ?? new Map<string, number | undefined>();
  WIDENED.set(spaces, memo);
  if (memo.has(label)) return memo.get(label);
  memo.set(label, undefined);
  const size = Math.min(...b.envs.map(e => e.band![1] - e.band![0]));
  const categories = Object.values(spec?.categories ?? {}).flatMap(c => c.ranges ?? []);
  for (let o = size + 1; o <= 65535; o++) {
    const ports = b.envs.map(e => e.band![0] + o);
    if (ports.some(q => q > 65535)) break;
    if (b.envs.some((e, i) => blocked(e, ports[i]) || b.envs.some((f, j) => j < i && f.scope === e.scope && ports[j] === ports[i]))) continue;
    const wider = b.envs.map((e, i): Range => [e.band![0], Math.max(e.band![1], ports[i])]);
    // The wider bands must not overlap another band of their scope, nor cut a category range in two.
    const clash = b.envs.some((e, i) => envs.some(x => x !== e && x.scope === e.scope && x.band && !b.envs.includes(x) && overlaps(x.band, wider[i])) ||
      categories.some(r => overlaps(r, wider[i]) && !(wider[i][0] <= r[0] && r[1] <= wider[i][1])) ||
      b.envs.some((f, j) => j < i && f.scope === e.scope && overlaps(wider[j], wider[i])));
    if (clash) break;
    b.envs.forEach((e, i) => spaces.of(e.scope, b.protocol).allocate(ports[i], owner));
    memo.set(label, o);
    return o;
  }
  return undefined;
}
