/**
 * Rules about where a placed port sits: its band, its category, avoided and reserved ports,
 * system ports, de-facto defaults, NodePorts and target ports. Each looks at the placements the
 * allocator made (an external shared by the environments of a scope is looked at once). Fixes
 * that move a port are planned, not written: see lib/allocation/fixes.ts. The port-range,
 * avoided-port and privileged-port rules also report what the allocator met for them (values that
 * are no port, refused fallbacks) before what they find in the placements.
 */
import type { Placement } from '../allocation/allocate';
import { relocate } from '../allocation/fixes';
import type { FallbackRefused, Outcome } from '../allocation/outcomes';
import { labelOf, portLabel, validPort } from '../allocation/request';
import { Finding, RULES, RuleId, Where, finding } from '../model/finding';
import { declaredRanges, formatRange, inAny, inRange, isInternalIn, overlaps, ownRanges, presentIn, rangeOrigin } from '../model/normalize';
import { vendorDefault, vendorsOnPort } from '../model/vendor-defaults';
import { SYSTEM_PORT_LIMIT } from '../model/well-known';
import { slotOf } from '../model/slots';
import type { Range } from '../model/schema';
import { whereOf } from './allocation';
import { relocationOf } from './relocation';
import type { Rule, RuleContext } from './rule';

type Check = (p: Placement, ctx: RuleContext, report: (message: string, where?: Partial<Where>, fix?: string) => Finding) => void;

/**
 * Rules about the host's port scheme (its bands, categories, avoided and reserved ports, system
 * ports, other servers' defaults): a port that is internal in an environment (not published on the
 * host) is not placed in that scheme there.
 */
const HOST_RULES: ReadonlySet<RuleId> = new Set<RuleId>(['outside-band', 'outside-category', 'avoided-port', 'reserved-range', 'privileged-port', 'defacto-port']);

/** A rule over every placement; `report` builds the finding with the placement's `where`. */
function placementRule(id: RuleId, check: Check): Rule {
  return {
    id, severity: RULES[id][0],
    check(ctx) {
      const out: Finding[] = [];
      const registry = ctx.spec.name;
      // One reporter for the whole walk (a hundred thousand placements), reading the current one.
      let p: Placement;
      const report = (message: string, extra?: Partial<Where>, fix?: string) => {
        const a = p.allocation;
        const f = finding(id, message, {
          registry, service: a.service, environment: a.environment, portName: a.portName, port: a.port, path: p.decl.path, ...extra,
        }, fix);
        out.push(f);
        return f;
      };
      const placements = ctx.allocation.placements;
      const hostOnly = HOST_RULES.has(id);
      for (let i = 0; i < placements.length; i++) {
        p = placements[i];
        // An internal port is the container's own, not the host's: the host's scheme does not place it.
        if (hostOnly && p.decl.of === 'service' && isInternalIn(p.decl.spec as { internal?: boolean | string[] }, p.env.name)) continue;
        check(p, ctx, report);
      }
      return out;
    },
  };
}

/**
 * A placement rule that first reports what the allocator met for the same rule while placing ports
 * (fallbacks it refused, values that are no port: lib/allocation/outcomes.ts), then its placements.
 */
function alsoMet(rule: Rule, met: (o: Outcome, registry: string) => Finding | undefined): Rule {
  return {
    ...rule,
    check(ctx) {
      const out: Finding[] = [];
      for (const o of ctx.allocation.outcomes) {
        const f = met(o, ctx.spec.name);
        if (f) out.push(f);
      }
      return out.concat(rule.check(ctx));
    },
  };
}

/** A fallback the allocator refused, as `rule`'s finding. */
const refusedFallback = (why: 'avoided' | 'system', rule: RuleId, message: (o: FallbackRefused) => string, fix: string) =>
  (o: Outcome, registry: string) => (o.kind === 'fallback-refused' && o.why === why
    ? finding(rule, message(o), whereOf(registry, o.request, o.port, { path: `${o.request.decl.path}.fallback` }), fix) : undefined);

const label = (p: Placement) => portLabel(p.decl.service, p.decl.portName, p.decl.of, p.env.name);

// Stryker disable next-line ConditionalExpression: equivalent, an external's port is always given, never pinned by the lock
const pinnedNote = (p: Placement) => (p.allocation.source === 'auto' && p.decl.of === 'service'
  ? ` (pinned in the lock file as ${p.env.name}/${p.decl.service}/${p.decl.portName}; delete that entry to reallocate)` : '');

/** The fix of a port in the wrong place: the next free port where it belongs. */
const moveInto = (f: Finding, p: Placement, verb: string, from?: number, wrap?: (s: string, rule: string, syntax: 'code' | 'data') => string, movesPort = true) =>
  relocate(f, relocationOf(p.decl, p.env, p.ranges, verb, from, wrap, movesPort));

export const outsideBand = placementRule('outside-band', (p, ctx, report) => {
  const band = p.env.band;
  if (p.decl.of !== 'service' || !band || inRange(p.allocation.port, band)) return;
  // A server on its vendor's port (postgres 5432) in every band: the container keeps it, each environment publishes a port of its band.
  const declared = (p.decl.spec as { port?: unknown }).port;
  const svc = ctx.spec.services?.[p.decl.service];
  const banded = svc ? presentIn(svc, ctx.environments).filter(e => e.band).length : 0;
  const vendor = typeof declared === 'number' && banded > 1 ? declared : undefined;
  moveInto(report(`${label(p)} is on ${p.allocation.port}, outside ${p.env.name}'s band ${formatRange(band)}${pinnedNote(p)}`), p, 'move it into', undefined,
    vendor === undefined ? undefined : (s, _rule, syntax) => `to keep the container on ${vendor} and publish a port of each band, declare ${p.decl.portName} as ` +
      (syntax === 'code' ? `Port.container(${vendor})` : `{ auto: true, targetPort: ${vendor} }`) + `; or ${s}`);
});

/** A category's own ranges (without its sub-ranges), once per check. */
function ownOf(ctx: RuleContext, name: string): Range[] {
  let memo = ctx.memo.get('own-ranges') as Map<string, Range[]> | undefined;
  if (!memo) ctx.memo.set('own-ranges', memo = new Map());
  return memo.get(name) ?? remember(memo, name, ownRanges(ctx.spec.categories ?? {}, name));
}
const remember = <K, V>(map: Map<K, V>, key: K, value: V): V => (map.set(key, value), value);

/** Every placement of each declared port (a service's port in each environment it is placed in), once per check. */
function placementsOf(ctx: RuleContext, decl: Placement['decl']): readonly Placement[] {
  let memo = ctx.memo.get('placements-of') as Map<Placement['decl'], Placement[]> | undefined;
  if (!memo) {
    ctx.memo.set('placements-of', memo = new Map());
    for (const q of ctx.allocation.placements) {
      if (q.decl.of === 'service' && isInternalIn(q.decl.spec as { internal?: boolean | string[] }, q.env.name)) continue;
      memo.set(q.decl, [...(memo.get(q.decl) ?? []), q]);
    }
  }
  return memo.get(decl) ?? [];
}

/** Whether category `name` holds the port of `q` in its environment (its own ranges, and a service's band). */
const holds = (ctx: RuleContext, name: string, q: Placement) =>
  inAny(q.allocation.port, ownOf(ctx, name)) && (q.decl.of !== 'service' || !q.env.band || inRange(q.allocation.port, q.env.band));

/**
 * The category to give a port outside its own, and the key that decides it: a category that holds
 * the port in every environment it is placed in (else there is none to offer: the fix would only
 * move the finding to another environment). The key is the port's own `category` when it has one
 * (the service's does nothing then), or when the service's would move a sibling port that inherits
 * it out of place (a sibling given by a slot or placed automatically, or not held by that category);
 * else the service's.
 */
function recategorize(p: Placement, ctx: RuleContext, candidates: ReadonlyArray<string>): { category: string; key: string; what: string } | undefined {
  const mine = placementsOf(ctx, p.decl);
  const category = candidates.find(n => mine.every(q => holds(ctx, n, q)));
  if (category === undefined) return undefined;
  const entryPath = p.decl.path.slice(0, p.decl.path.lastIndexOf('.ports.'));
  const portKey = { category, key: `${p.decl.path}.category`, what: `${p.decl.service}.${p.decl.portName}` };
  if ((p.decl.spec as { category?: string }).category !== undefined) return portKey;
  const siblings = [...new Set(ctx.allocation.placements.filter(q => q.decl.entry === p.decl.entry && q.decl !== p.decl &&
    (q.decl.spec as { category?: string }).category === undefined).map(q => q.decl))];
  const fits = siblings.every(d => slotOf(d.spec) === undefined && placementsOf(ctx, d).every(q => q.allocation.source !== 'auto' && holds(ctx, category, q)));
  return fits ? { category, key: `${entryPath}.category`, what: p.decl.service } : portKey;
}

export const outsideCategory = placementRule('outside-category', (p, ctx, report) => {
  const name = p.decl.category;
  const categories = ctx.spec.categories ?? {};
  const category = name !== undefined ? categories[name] : undefined;
  const port = p.allocation.port;
  if (!category) return;
  // Its own ports: the ranges of its sub-ranges (`within`) are theirs.
  const own = ownOf(ctx, name!);
  if (inAny(port, own)) return;
  // Where else it could go: a category whose range already holds the port, or every range there is.
  const others = Object.entries(categories).filter(([n, c]) => n !== name && !c.reserved);
  const holding = others.find(([n]) => inAny(port, ownOf(ctx, n)));
  const list = (entries: typeof others) => entries.map(([n, c]) => `${n} ${(c.ranges ?? []).map(formatRange).join(', ')}`).join('; ');
  const context = holding ? `; it lies in ${holding[1].within === name ? `${name}'s sub-range` : 'category'} ${holding[0]} (${(holding[1].ranges ?? []).map(formatRange).join(', ')})`
    : others.length ? `; it lies in no category's range (the others: ${list(others)})` : '';
  const head = `${label(p)} is on ${port}, outside category ${name} (${own.map(formatRange).join(', ') || 'no ports of its own'})`;
  // Another category, offered only where it holds the port in every environment (the one holding it here first).
  const other = holding ? recategorize(p, ctx, [holding[0], ...others.map(([n]) => n).filter(n => n !== holding[0])]) : undefined;
  const recategorized = other ? `set ${other.key}: ${other.category} if that is what ${other.what} is` : '';
  // No port is in both the band and the category: there is nowhere to move it until one of them changes.
  if (p.ranges.length === 0 && p.env.band) {
    const fitting = ctx.environments.filter(e => e.band && (category.ranges ?? []).some(r => overlaps(r, e.band!))).map(e => e.name);
    report(`${head}, whose ranges lie outside the band ${formatRange(p.env.band)} of ${p.env.name}${context}${pinnedNote(p)}`, { category: name },
    `move a range of category ${name} inside ${formatRange(p.env.band)}${other || fitting.length ? ', ' : ' or '}widen the band of ${p.env.name}` +
      (other ? `, or ${recategorized}` : fitting.length ? `, or limit ${p.decl.service} to environments: [${fitting.join(', ')}]` : ''));
    return;
  }
  moveInto(report(`${head}${context}${pinnedNote(p)}`, { category: name }), p, 'move it into', undefined,
    other ? s => `${recategorized}, or ${s}` : undefined);
});

export const avoidedPort = alsoMet(placementRule('avoided-port', (p, ctx, report) => {
  const port = p.allocation.port;
  const rules = ctx.allocation.spaces.rules;
  const reason = rules.avoidedPorts.get(port);
  if (reason !== undefined) moveInto(report(`${label(p)} is on ${port}, an avoided port (${reason})`), p, 'pick a port in', port);
  const range = rules.avoidedRange(port);
  if (range?.source === 'avoid') {
    moveInto(report(`${label(p)} is on ${port}, inside an avoided range ${formatRange(range.range)} (${range.reason})`), p, 'pick a port in', port);
  }
}), refusedFallback('avoided', 'avoided-port', o => `fallback ${o.port} of ${labelOf(o.request)} is an avoided port`, 'choose another fallback'));

export const reservedRange = placementRule('reserved-range', (p, ctx, report) => {
  const port = p.allocation.port;
  const range = ctx.allocation.spaces.rules.avoidedRange(port);
  if (!range || range.source === 'avoid') return;
  const name = range.source;
  const why = range.reason === `reserved category ${name}` ? '' : ` (${range.reason})`;
  const message = `${label(p)} is on ${port}, inside reserved category ${name} ${formatRange(range.range)}${why}`;
  // Declared in the reserved category itself: the category, not the port, is what to change.
  if (p.decl.category === name) {
    report(message, { category: name },
      `a reserved category is kept free: remove reserved: true from category ${name} if ${p.decl.service} belongs there, or give ${p.decl.service}.${p.decl.portName} another category`);
    return;
  }
  const f = report(message, { category: name });
  // Else move the port, or take it out of the reserved range (split the declared range around it).
  const category = ctx.spec.categories?.[name];
  const declared = category ? declaredRanges(category) : [];
  const counted = (category?.ranges ?? []).filter((_, i) => rangeOrigin(category!, i) !== undefined);
  const splittable = inAny(port, declared) && !inAny(port, counted);
  // The fixes of one report that rewrite the ranges stack: each is written against the ranges as the
  // earlier ones (in report order, as planFixes writes them) leave them, so applied in order none undoes another.
  let memo = ctx.memo.get('reserved-splits') as Map<string, Range[]> | undefined;
  if (!memo) ctx.memo.set('reserved-splits', memo = new Map());
  const splits = memo;
  const split = () => {
    const current = splits.get(name) ?? declared;
    const at = current.findIndex(r => inRange(port, r));
    const next = at < 0 ? current
      : current.flatMap((r, i) => (i !== at ? [r] : [[r[0], port - 1], [port + 1, r[1]]].filter(([a, b]) => a <= b) as Range[]));
    splits.set(name, next);
    return next;
  };
  moveInto(f, p, 'pick a port in', port, splittable
    ? s => `${s}; or, if ${port} is meant to stay ${p.decl.service}'s, keep it out of the reserved range: set categories.${name}.ranges: [${split().map(r => `[${r[0]}, ${r[1]}]`).join(', ')}]`
    : undefined);
});

export const privilegedPort = alsoMet(placementRule('privileged-port', (p, _ctx, report) => {
  const port = p.allocation.port;
  if (port >= SYSTEM_PORT_LIMIT || p.decl.privileged) return;
  moveInto(report(`${label(p)} is on ${port}, a system port that needs privileges to bind`), p, 'move it into', undefined,
    s => `add privileged: true to the port if this is intended, or ${s}`);
}), refusedFallback('system', 'privileged-port', o => `fallback ${o.port} of ${labelOf(o.request)} is a system port that needs privileges to bind`,
  'choose a fallback of 1024 or above (a shift that keeps it there), or add privileged: true to the port if this is intended'));

/**
 * The kinds of the services on `port` that its de-facto entry warns about and the vendor table does
 * not know (each could be the port's own server), in report order, once per check.
 */
function ownerKinds(ctx: RuleContext, port: number): string[] {
  let memo = ctx.memo.get('defacto-kinds') as Map<number, string[]> | undefined;
  if (!memo) ctx.memo.set('defacto-kinds', memo = new Map());
  const known = memo.get(port);
  if (known) return known;
  const rules = ctx.allocation.spaces.rules;
  const kinds = [...new Set(ctx.allocation.placements.filter(q => q.allocation.port === port && q.decl.kind && !vendorDefault(q.decl.kind) &&
    !(q.decl.of === 'service' && isInternalIn(q.decl.spec as { internal?: boolean | string[] }, q.env.name)) && rules.defactoConflict(port, q.decl.kind))
    .map(q => q.decl.kind!))];
  return remember(memo, port, kinds);
}

export const defactoPort = placementRule('defacto-port', (p, ctx, report) => {
  const port = p.allocation.port;
  const hit = ctx.allocation.spaces.rules.defactoConflict(port, p.decl.kind);
  if (!hit) return;
  const kind = p.decl.kind;
  // The servers the entry names first, then the table's others on that port.
  const servers = [...new Set([...(hit.kinds ?? []), ...vendorsOnPort(port).map(v => v.kind)])];
  const known = servers.length ? `: ${servers.slice(0, 4).join(', ')}${servers.length > 4 ? ' …' : ''}` : '';
  const f = report(`${label(p)} is on ${port}, the default port of ${hit.what}; ` +
    `one running on the same host will take it first${kind ? '' : ` (set kind if this service is one of them${known})`}`);
  // A kind the table does not know may still be this port's server: say how to declare it its owner,
  // with every such kind on the port (one entry, each finding the same), kept with the entry's own.
  const declare = kind && !vendorDefault(kind)
    ? (s: string, _rule: string, syntax: 'code' | 'data') => {
      const existing = typeof ctx.spec.defactoPorts === 'object' ? ctx.spec.defactoPorts[String(port)] : undefined;
      const what = existing ? existing.what : hit.what;
      const kinds = [...new Set([...(existing ? existing.kinds ?? [] : hit.kinds ?? []), ...ownerKinds(ctx, port)])];
      const entry = syntax === 'code'
        ? `defactoPorts[${port}] to { what: '${what.replace(/[\\']/g, c => `\\${c}`)}', kinds: [${kinds.map(k => `'${k}'`).join(', ')}] }`
        : `defactoPorts.${port}: { what: ${JSON.stringify(what)}, kinds: [${kinds.join(', ')}] }`;
      return `if ${p.decl.service} (kind ${kind}) is a server whose own default is ${port}, declare it the port's owner: set ${entry}; or ${s}`;
    }
    : !kind && servers.length
      ? (s: string) => `set kind to the server ${p.decl.service} is if it is one of them (kind: ${servers[0]} …), or ${s}`
      : undefined;
  moveInto(f, p, 'move it within', port, declare);
});

export const nodePortRange = placementRule('nodeport-range', (p, _ctx, report) => {
  const nodePort = p.allocation.nodePort;
  if (nodePort === undefined || !validPort(nodePort) || inRange(nodePort, p.env.nodePortRange)) return;
  report(`NodePort ${nodePort} of ${label(p)} is outside ${p.env.name}'s NodePort range ${formatRange(p.env.nodePortRange)}`,
    { path: `${p.decl.path}.nodePort` }, `use a NodePort in ${formatRange(p.env.nodePortRange)}`);
});

/** The nearest port to a value that is no port: where a fix starts looking. */
const nearest = (value: number) => (Number.isFinite(value) ? Math.min(Math.max(Math.trunc(value), 0), 65535) : 0);

/** A port or fallback the allocator could not place, and a NodePort or target port, that is no port. */
export const placedPortRange = alsoMet(placementRule('port-range', (p, _ctx, report) => {
  const a = p.allocation;
  for (const [field, value] of [['nodePort', a.nodePort], ['targetPort', a.targetPort !== a.port ? a.targetPort : undefined]] as const) {
    if (value === undefined || validPort(value)) continue;
    moveInto(report(`${field} ${value} of ${label(p)} is not a port: ports are integers in 1-65535`, { port: value, path: `${p.decl.path}.${field}` }),
      p, 'use a port inside', nearest(value), undefined, false);
  }
}), (o, registry) => {
  if (o.kind !== 'not-in-range') return undefined;
  const r = o.request;
  return relocate(finding('port-range', `${o.field} ${o.value} of ${labelOf(r)} is not a port: ports are integers in 1-65535`,
    whereOf(registry, r, o.value, { path: `${r.decl.path}.${o.field}` })), relocationOf(r.decl, r.env, r.ranges, 'use a port inside', nearest(o.value), undefined, o.field === 'port'));
});

/** A category's fallback ranges hold its ports' fallbacks and no primary port. */
export const fallbackRange = placementRule('fallback-range', (p, ctx, report) => {
  const rules = ctx.allocation.spaces.rules;
  if (!rules.fallbackRanges.length) return;
  const a = p.allocation;
  const kept = rules.fallbackRange(a.port);
  if (kept) {
    moveInto(report(`${label(p)} is on ${a.port}, inside ${formatRange(kept.range)}, which category ${kept.category} keeps for fallbacks`), p, 'move it into', a.port);
  }
  const category = p.decl.category !== undefined ? ctx.spec.categories?.[p.decl.category] : undefined;
  if (a.fallback !== undefined && category?.fallbackRanges?.length && !inAny(a.fallback, category.fallbackRanges)) {
    report(`the fallback ${a.fallback} of ${label(p)} is outside the fallback ranges of category ${p.decl.category} (${category.fallbackRanges.map(formatRange).join(', ')})`,
      { port: a.fallback, path: `${p.decl.path}.fallback` }, `give it a fallback in ${category.fallbackRanges.map(formatRange).join(', ')}`);
  }
});

/** The placement rules, in the order their findings are reported. */
export const PLACEMENT_RULES: readonly Rule[] = [
  outsideBand, outsideCategory, avoidedPort, reservedRange, privilegedPort, defactoPort, nodePortRange, placedPortRange, fallbackRange,
];
