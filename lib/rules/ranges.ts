import { Finding, finding } from '../model/finding';
import type { Placement } from '../allocation/allocate';
import { Environment, declaredRanges, formatRange, overlaps, rangeOrigin, subtractRanges } from '../model/normalize';
import type { Range, RegistrySpec } from '../model/schema';
import { bandChange, bandChangeText } from './band-change';

interface DeclaredRange {
  readonly range: Range;
  readonly kind: 'band' | 'category';
  readonly owner: string;
  readonly scope?: string;
  readonly label: string;
  readonly path: string;
  /** For a category range counted from a band: which offset, from which environment's band. */
  readonly origin?: { readonly offset: number; readonly environment: string };
}

function isValid(r: Range): boolean {
  return Number.isInteger(r[0]) && Number.isInteger(r[1]) && r[0] >= 1 && r[1] <= 65535 && r[0] <= r[1];
}

function contains(outer: Range, inner: Range): boolean {
  return outer[0] <= inner[0] && inner[1] <= outer[1];
}

/** A category's offsets must be ranges counted from 0 that fit in the bands they are counted from. */
function offsetProblems(registry: string, name: string, offsets: readonly Range[], envs: readonly Environment[]): Finding[] {
  if (!offsets.length) return [];
  const banded = envs.filter(e => e.band);
  if (!banded.length) {
    return [finding('invalid-range', `category ${name} gives offsets, but no environment has a band to count them from`,
      { registry, category: name, path: `categories.${name}.offsets` }, 'give the environments a range (their band), or give the category ranges of ports')];
  }
  const out: Finding[] = [];
  offsets.forEach(([a, b], i) => {
    const path = `categories.${name}.offsets[${i}]`;
    if (!Number.isInteger(a) || !Number.isInteger(b) || a < 0 || a > b) {
      out.push(finding('invalid-range', `offsets [${a}, ${b}] of category ${name} are not a range of offsets${a > b ? ' (reversed)' : ''}`,
        { registry, category: name, path }, a > b && a >= 0 ? `write it as [${b}, ${a}]` : 'use [first, last] with integers 0 <= first <= last, counted from the band\'s first port'));
      return;
    }
    const short = banded.filter(e => b > e.band![1] - e.band![0]);
    if (short.length) {
      const widths = short.map(e => `${e.name} ${formatRange(e.band!)}, offsets 0-${e.band![1] - e.band![0]}`).join('; ');
      const last = Math.min(...short.map(e => e.band![1] - e.band![0]));
      out.push(finding('invalid-range', `offsets ${a}-${b} of category ${name} reach past the band of ${short.map(e => e.name).join(', ')} (${widths})`,
        { registry, category: name, environment: short[0].name, path }, a <= last ? `end them at offset ${last}, or widen the band` : 'move them into the band, or widen the band'));
    }
  });
  return out;
}

/** Ranges must be well-formed and must not overlap, so that a port number tells its owner. */
export function checkRanges(spec: RegistrySpec, envs: readonly Environment[], placements: readonly Placement[] = []): Finding[] {
  const out: Finding[] = [];
  const registry = spec.name;
  const declared = declaredOf(spec, envs, out);
  out.push(...avoidAndFallbackProblems(spec));
  const valid = declared.filter(d => {
    if (isValid(d.range)) return true;
    out.push(finding('invalid-range', `${d.label.replace(formatRange(d.range), `[${d.range.join(', ')}]`)} is not a valid range`,
      { registry, ...(d.kind === 'band' ? { environment: d.owner } : { category: d.owner }), path: d.path },
      'use [first, last] with integers 1 <= first <= last <= 65535'));
    return false;
  });
  const categories = spec.categories ?? {};
  out.push(...subRangeProblems(registry, categories));
  const overlap: OverlapContext = { registry, categories, ancestors: ancestorsIn(categories), ...rangeFixes(spec, envs, placements, valid) };
  for (let i = 0; i < valid.length; i++) {
    for (let j = i + 1; j < valid.length; j++) {
      const f = overlapFinding(valid[i], valid[j], overlap);
      if (f) out.push(f);
    }
  }
  return out;
}

/** The bands and category ranges a port may be placed in, in that order; invalid NodePort ranges and offsets go to `out`. */
function declaredOf(spec: RegistrySpec, envs: readonly Environment[], out: Finding[]): DeclaredRange[] {
  const registry = spec.name;
  const declared: DeclaredRange[] = [];
  for (const env of envs) {
    if (env.band) {
      declared.push({ range: env.band, kind: 'band', owner: env.name, scope: env.scope,
        label: `band ${formatRange(env.band)} of environment ${env.name}`, path: `environments.${env.name}.range` });
    }
    if (!isValid(env.nodePortRange)) {
      out.push(finding('invalid-range', `NodePort range ${formatRange(env.nodePortRange)} of environment ${env.name} is not a valid range`,
        { registry, environment: env.name, path: `environments.${env.name}.nodePortRange` }, 'use [first, last] with 1 <= first <= last <= 65535'));
    }
  }
  for (const [name, c] of Object.entries(spec.categories ?? {})) {
    (c.ranges ?? []).forEach((range, i) => {
      // A range computed from an offset is named by it: that is what the registry says.
      const origin = rangeOrigin(c, i);
      const offset = origin && c.offsets![origin.offset];
      declared.push(origin && offset
        ? { range, kind: 'category', owner: name, origin, label: `range ${formatRange(range)} of category ${name} (offsets ${offset[0]}-${offset[1]} of ${origin.environment}'s band)`, path: `categories.${name}.offsets[${origin.offset}]` }
        : { range, kind: 'category', owner: name, label: `range ${formatRange(range)} of category ${name}`, path: `categories.${name}.ranges[${i}]` });
    });
    out.push(...offsetProblems(registry, name, c.offsets ?? [], envs));
  }
  return declared;
}

/** Avoided ports and ranges are ports too: a reversed range would avoid nothing, 70000 or 8001.5 nothing real; so are fallback ranges. */
function avoidAndFallbackProblems(spec: RegistrySpec): Finding[] {
  const registry = spec.name;
  const out: Finding[] = [];
  (spec.avoid?.ports ?? []).forEach((p, i) => {
    const port = typeof p === 'number' ? p : p.port;
    if (Number.isInteger(port) && port >= 1 && port <= 65535) return;
    out.push(finding('invalid-range', `avoided port ${port} is not a port: ports are integers in 1-65535`,
      { registry, path: `avoid.ports[${i}]` }, 'list ports as integers in 1-65535, or remove the entry'));
  });
  (spec.avoid?.ranges ?? []).forEach((r, i) => {
    const range = Array.isArray(r) ? r as Range : r.range;
    if (isValid(range)) return;
    out.push(finding('invalid-range', `avoided range [${range.join(', ')}] is not a valid range${range[0] > range[1] ? ' (it is reversed, so it avoids nothing)' : ''}`,
      { registry, path: `avoid.ranges[${i}]` }, range[0] > range[1] ? `write it as [${range[1]}, ${range[0]}]` : 'use [first, last] with integers 1 <= first <= last <= 65535'));
  });
  for (const [name, c] of Object.entries(spec.categories ?? {})) {
    (c.fallbackRanges ?? []).forEach((range, i) => {
      if (isValid(range)) return;
      out.push(finding('invalid-range', `fallback range [${range.join(', ')}] of category ${name} is not a valid range`,
        { registry, category: name, path: `categories.${name}.fallbackRanges[${i}]` }, 'use [first, last] with integers 1 <= first <= last <= 65535'));
    });
  }
  return out;
}

type Categories = NonNullable<RegistrySpec['categories']>;

/** The categories a category is declared within, nearest first (none for a cycle, which declares nothing). */
function ancestorsIn(categories: Categories): (name: string) => string[] {
  const parentOf = (name: string): string | undefined => {
    const w = categories[name]?.within;
    return w !== undefined && Object.prototype.hasOwnProperty.call(categories, w) ? w : undefined;
  };
  return name => {
    const seen: string[] = [];
    for (let p = parentOf(name); p !== undefined; p = parentOf(p)) {
      // A cycle declares nothing (it is reported by subRangeProblems): its ranges overlap like any others.
      if (p === name || seen.includes(p)) return [];
      seen.push(p);
    }
    return seen;
  };
}

/**
 * The sub-range declarations (`within`): the parent exists, is not the category itself or one of
 * its own sub-ranges, and holds every range of the sub-range.
 */
function subRangeProblems(registry: string, categories: Categories): Finding[] {
  const out: Finding[] = [];
  for (const [name, c] of Object.entries(categories)) {
    if (c.within === undefined) continue;
    const path = `categories.${name}.within`;
    const parent = categories[c.within];
    if (!parent) {
      out.push(finding('unknown-category', `category ${name} is declared within "${c.within}", which the registry does not declare`,
        { registry, category: name, path }, `name a declared category (${Object.keys(categories).filter(n => n !== name).join(', ') || 'none'}), or remove ${path}`));
      continue;
    }
    let p: string | undefined = c.within;
    const chain = [name];
    while (p !== undefined && !chain.includes(p)) { chain.push(p); p = categories[p]?.within; }
    if (p !== undefined) {
      out.push(finding('invalid-value', `category ${name} is declared within ${c.within}, which is itself within ${name} (${[...chain, p].join(' -> ')})`,
        { registry, category: name, path }, `remove ${path}`));
      continue;
    }
    (c.ranges ?? []).forEach((range, i) => {
      if (!isValid(range) || (parent.ranges ?? []).some(r => isValid(r) && contains(r, range))) return;
      out.push(finding('range-overlap', `range ${formatRange(range)} of category ${name} is not inside category ${c.within} (${(parent.ranges ?? []).map(formatRange).join(', ')}), which it is declared within`,
        { registry, category: name, path: `categories.${name}.ranges[${i}]` },
        `move it inside ${(parent.ranges ?? []).map(formatRange).join(', ')}, or remove ${path} if ${name} is no sub-range of ${c.within}`));
    });
  }
  return out;
}

interface RangeFixes {
  /** Whether a port is placed in `lost` that belongs to `d`'s owner (a band's environment, a category). */
  readonly placedIn: (d: DeclaredRange, lost: Range) => boolean;
  /** `set <path>: <ranges>`: `d` without the ports of `hole`, when that strands none of its ports and overlaps nothing else. */
  readonly without: (d: DeclaredRange, hole: Range, other: DeclaredRange) => string | undefined;
}

/** The edits a `range-overlap` fix may offer: a range given up in part, as the registry writes it. */
function rangeFixes(spec: RegistrySpec, envs: readonly Environment[], placements: readonly Placement[], valid: readonly DeclaredRange[]): RangeFixes {
  const categories = spec.categories ?? {};
  // The ports placed in a declared range's owner (a band's environment, a category): a fix that
  // takes ports away from it must not strand one of them.
  const placedIn = (d: DeclaredRange, lost: Range): boolean => placements.some(pl => {
    const port = pl.allocation.port;
    if (port < lost[0] || port > lost[1]) return false;
    return d.kind === 'band' ? pl.env.name === d.owner && pl.decl.of === 'service' : pl.decl.category === d.owner;
  });
  const clashesElsewhere = (r: Range, self: DeclaredRange, other: DeclaredRange) => valid.some(v => v !== self && v !== other &&
    !(v.owner === self.owner && v.kind === self.kind) && (v.kind !== 'band' || self.kind !== 'band' || v.scope === self.scope) &&
    overlaps(v.range, r) && !(v.kind !== self.kind && (contains(v.range, r) || contains(r, v.range))));
  const rangeText = (r: Range) => `[${r[0]}, ${r[1]}]`;
  const allocations = placements.map(p => p.allocation);
  const without = (d: DeclaredRange, hole: Range, other: DeclaredRange): string | undefined => {
    const parts = subtractRanges([d.range], [hole]);
    if (!parts.length || parts.some(r => clashesElsewhere(r, d, other))) return undefined;
    if (d.kind === 'band') {
      // A band's start is what offsets count from: every port of its environment is checked where it will be.
      const change = parts.length === 1 ? bandChange(spec, envs, allocations, d.owner, parts[0]) : undefined;
      if (!change) return undefined;
      const text = bandChangeText(change);
      return `set ${d.path}: ${rangeText(parts[0])}${text.sets}${text.moves}`;
    }
    if (placedIn(d, [Math.max(hole[0], d.range[0]), Math.min(hole[1], d.range[1])])) return undefined;
    const category = categories[d.owner];
    const index = Number(/\[(\d+)\]$/.exec(d.path)![1]);
    if (d.origin) {
      // A range counted from a band is fixed where it is written: the offsets, which every band shares.
      const start = envs.find(e => e.name === d.origin!.environment)?.band?.[0];
      if (start === undefined) return undefined;
      const lost: Range = [Math.max(hole[0], d.range[0]) - start, Math.min(hole[1], d.range[1]) - start];
      if (envs.some(e => e.band && placedIn(d, [e.band[0] + lost[0], e.band[0] + lost[1]]))) return undefined;
      const offsets = category.offsets ?? [];
      const kept = [...offsets.slice(0, index), ...parts.map(r => [r[0] - start, r[1] - start] as Range), ...offsets.slice(index + 1)];
      return `set categories.${d.owner}.offsets: [${kept.map(rangeText).join(', ')}]`;
    }
    // A category's whole list as the registry writes it (not the ranges its offsets give), the
    // range replaced by what is left of it (a split is two ranges).
    const list = declaredRanges(category);
    const ranges = [...list.slice(0, index), ...parts, ...list.slice(index + 1)];
    return `set categories.${d.owner}.ranges: [${ranges.map(rangeText).join(', ')}]`;
  };
  return { placedIn, without };
}

interface OverlapContext extends RangeFixes {
  readonly registry: string;
  readonly categories: Categories;
  readonly ancestors: (name: string) => string[];
}

/** The `range-overlap` finding of two declared ranges (bands before categories), or undefined when they may share ports. */
function overlapFinding(a: DeclaredRange, b: DeclaredRange, ctx: OverlapContext): Finding | undefined {
  if (a.owner === b.owner && a.kind === b.kind) return undefined;
  if (!overlaps(a.range, b.range)) return undefined;
  // Bands on different hosts may reuse numbers; a category nested in a band (or a band
  // in a category) is a deliberate subdivision, not an overlap.
  // (Bands are listed before categories: when b is a band, so is a.)
  if (b.kind === 'band' && a.scope !== b.scope) return undefined;
  if (a.kind !== b.kind && (contains(a.range, b.range) || contains(b.range, a.range))) return undefined;
  // A declared sub-range inside its (or an ancestor's) range is nested by design.
  if (a.kind === 'category' && b.kind === 'category') {
    if (ctx.ancestors(b.owner).includes(a.owner) && contains(a.range, b.range)) return undefined;
    if (ctx.ancestors(a.owner).includes(b.owner) && contains(b.range, a.range)) return undefined;
  }
  const shared: Range = [Math.max(a.range[0], b.range[0]), Math.min(a.range[1], b.range[1])];
  const env = a.kind === 'band' ? a.owner : undefined;
  const fixes = overlapFixes(a, b, shared, ctx);
  if (b.kind === 'band') fixes.push(`give environment ${b.owner} a scope of its own (set environments.${b.owner}.scope: ${b.owner}) if it runs on other hosts`);
  if (!fixes.length) fixes.push(`move the ports placed in ${formatRange(shared)} out of one of them first`);
  return finding('range-overlap', `${a.label} overlaps ${b.label} (shared ports ${formatRange(shared)})`,
    { registry: ctx.registry, ...(env ? { environment: env } : {}), port: shared[0], other: `${b.kind} ${b.owner}`, path: b.path },
    `make the ranges disjoint: ${fixes.join(', or ')}`);
}

/** The edits that make two overlapping ranges disjoint: a sub-range declared, a range shrunk, split or fitted inside a band. */
function overlapFixes(a: DeclaredRange, b: DeclaredRange, shared: Range, ctx: OverlapContext): string[] {
  const { categories, ancestors, placedIn, without } = ctx;
  const fixes: string[] = [];
  const nested = contains(a.range, b.range) ? { outer: a, inner: b } : contains(b.range, a.range) ? { outer: b, inner: a } : undefined;
  if (nested && nested.inner.kind === 'category' && nested.outer.kind === 'category') {
    // One category's range inside another's: the inner one is a sub-range, or the outer one gives its ports up.
    const { outer, inner } = nested;
    const innerSpec = categories[inner.owner];
    const allInside = (innerSpec.ranges ?? []).every(r => (categories[outer.owner].ranges ?? []).some(o => contains(o, r)));
    const cyclic = ancestors(outer.owner).includes(inner.owner);
    if (allInside && !cyclic && innerSpec.within === undefined && !placedIn(outer, inner.range)) {
      fixes.push(`declare ${inner.owner} a sub-range of ${outer.owner} (set categories.${inner.owner}.within: ${outer.owner})`);
    }
    const shrink = without(outer, inner.range, inner);
    if (shrink) fixes.push(`${subtractRanges([outer.range], [inner.range]).length > 1 ? 'split' : 'shrink'} ${outer.owner}'s range around it (${shrink})`);
  } else if (nested) {
    const shrink = without(nested.outer, nested.inner.range, nested.inner);
    if (shrink) fixes.push(`shrink ${nested.outer.kind} ${nested.outer.owner}'s range around it (${shrink})`);
  } else {
    // A partial overlap: either range can give up the shared ports and stay a range.
    for (const [d, o] of [[b, a], [a, b]] as const) {
      const shrink = without(d, shared, o);
      if (shrink) fixes.push(`shrink ${d.kind} ${d.owner}'s range (${shrink})`);
    }
    // A category partly in a band: nested in it, it is a subdivision of the band.
    const cat = a.kind === 'category' ? a : b.kind === 'category' ? b : undefined;
    const band = a.kind === 'band' ? a : b.kind === 'band' ? b : undefined;
    if (cat && band) {
      const outside = subtractRanges([cat.range], [band.range]);
      const fit = outside.length ? without(cat, outside.length === 1 ? outside[0] : [cat.range[0], cat.range[1]], band) : undefined;
      if (fit && outside.length === 1) fixes.push(`fit category ${cat.owner}'s range inside the band (${fit})`);
    }
  }
  return fixes;
}
