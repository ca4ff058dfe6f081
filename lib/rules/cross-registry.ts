import type { Allocation } from '../model/resolved';
import { freePorts } from '../allocation/free-ports';
import type { ResolvedRegistry } from '../model/resolved';
import { Finding, finding } from '../model/finding';
import { formatRange, overlaps, subtractRanges } from '../model/normalize';
import type { Range } from '../model/schema';
import { bandChange, bandChangeText } from './band-change';

/**
 * Registries that extend the same base share its hosts: a port one team takes in a scope
 * is taken for every other team too. Returns, per registry name, the collisions its service
 * ports have with another registry of the same base (the later registry gets the finding).
 */
export function crossRegistryCollisions(registries: readonly ResolvedRegistry[]): Map<string, Finding[]> {
  const out = new Map<string, Finding[]>();
  const groups = new Map<string, ResolvedRegistry[]>();
  for (const r of registries) {
    if (!r.spec.base) continue;
    groups.set(r.spec.base, [...(groups.get(r.spec.base) ?? []), r]);
  }
  for (const group of groups.values()) {
    // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent, a registry alone collides with no other (a fast path)
    if (group.length < 2) continue;
    const taken = new Map<string, { registry: string; a: Allocation }>();
    const key = (a: Allocation, port: number) => `${a.scope}/${a.protocol}/${port}`;
    // Every allocation of the group, built once, for the fixes (the next port free in all of them).
    let everything: Allocation[] | undefined;
    for (const r of group) {
      const findings: Finding[] = [];
      const mine = r.allocations.filter(a => a.of === 'service');
      for (const a of mine) {
        for (const port of a.fallback !== undefined ? [a.port, a.fallback] : [a.port]) {
          const other = taken.get(key(a, port));
          if (!other || other.registry === r.spec.name) continue;
          const everyone: ResolvedRegistry = { ...r, allocations: (everything ??= group.flatMap(g => g.allocations)) };
          const all = group.length === 2 ? 'both registries' : `all ${group.length} registries of base ${r.spec.base}`;
          const isFallback = port !== a.port;
          const what = isFallback ? `the fallback of ${a.service}.${a.portName}` : `${a.service}.${a.portName}`;
          let fix = `ask for a free port with ${all} loaded (cdk8s-ports suggest --env ${a.environment})`;
          // A category's fallback ranges are where its fallbacks go, and the free-port query looks in its primary ranges.
          const fallbackRanges = isFallback && a.category !== undefined ? r.spec.categories?.[a.category]?.fallbackRanges : undefined;
          if (fallbackRanges?.length) {
            fix = `move ${what} in ${a.environment} to a port of ${fallbackRanges.map(formatRange).join(', ')} free in ${all}`;
          } else {
            try {
              const [free] = freePorts(everyone, { environment: a.environment, category: a.category, protocol: a.protocol }).ports;
              if (free !== undefined) fix = `move ${what} in ${a.environment} to ${free}, the next port free in ${all}`;
            } catch {
              // no band or category to look in: keep the generic fix
            }
          }
          findings.push(finding('collision',
            `${port === a.port ? 'port' : 'fallback port'} ${port}/${a.protocol} of ${a.service}.${a.portName} (${a.environment}) in registry ${r.spec.name} ` +
            `is already taken by ${other.a.service}.${other.a.portName} (${other.a.environment}) in registry ${other.registry}, which extends the same base ${r.spec.base}`,
            { registry: r.spec.name, service: a.service, portName: a.portName, environment: a.environment, port, other: `${other.registry}:${other.a.service}.${other.a.portName}` },
            fix));
        }
      }
      for (const a of mine) {
        for (const port of a.fallback !== undefined ? [a.port, a.fallback] : [a.port]) {
          if (!taken.has(key(a, port))) taken.set(key(a, port), { registry: r.spec.name, a });
        }
      }
      if (findings.length) out.set(r.spec.name, findings);
    }
  }
  return out;
}

/**
 * Registries synthesized or checked together (one app, one `check a.yaml b.yaml`) each keep to
 * namespaces of their own: two registries with an environment in one namespace would overwrite
 * each other's default deny and policies, and each one's policies would select the other's pods.
 * Returns, per registry name, a `namespace-shared` finding for each namespace an earlier registry
 * has already (the later registry gets the finding, naming both).
 */
export function crossRegistryNamespaces(registries: readonly ResolvedRegistry[]): Map<string, Finding[]> {
  const out = new Map<string, Finding[]>();
  const owner = new Map<string, { registry: string; environment: string }>();
  for (const r of registries) {
    const findings: Finding[] = [];
    const mine = new Map<string, string>();
    for (const env of r.environments) {
      const other = owner.get(env.namespace);
      if (other && other.registry !== r.spec.name) {
        findings.push(finding('namespace-shared',
          `environment ${env.name} of registry ${r.spec.name} is in namespace ${env.namespace}, which environment ${other.environment} of registry ${other.registry} uses already: their objects would overwrite each other and each one's NetworkPolicies would select the other's pods`,
          { registry: r.spec.name, environment: env.name, other: `${other.registry}:${other.environment}`, path: `environments.${env.name}.namespace` },
          `give ${env.name} a namespace of its own (namespace: ${r.spec.name}-${env.name})`));
      }
      if (!mine.has(env.namespace)) mine.set(env.namespace, env.name);
    }
    for (const [ns, environment] of mine) if (!owner.has(ns)) owner.set(ns, { registry: r.spec.name, environment });
    if (findings.length) out.set(r.spec.name, [...(out.get(r.spec.name) ?? []), ...findings]);
  }
  return out;
}

/**
 * Registries that extend the same base share its hosts, and "each project has its own range" is
 * such a layout's main rule: the bands two of them declare in one scope must not overlap, unless
 * one is declared `shared` or it is the same environment with the same band in both (the base's
 * own, inherited by every team). The later registry gets the finding, with fixes that apply to it.
 */
export function crossRegistryBandOverlaps(registries: readonly ResolvedRegistry[]): Map<string, Finding[]> {
  const out = new Map<string, Finding[]>();
  const groups = new Map<string, ResolvedRegistry[]>();
  // Registries checked together without a base share a host only where they name the same scope.
  const TOGETHER = '\u0000together';
  for (const r of registries) {
    const key = r.spec.base ?? TOGETHER;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  for (const [base, group] of groups) {
    const explicit = (g: ResolvedRegistry, env: string) => base !== TOGETHER || g.spec.environments?.[env]?.scope !== undefined;
    for (let j = 1; j < group.length; j++) {
      const r = group[j];
      const findings: Finding[] = [];
      for (const env of r.environments) {
        const band = env.band;
        if (!band || r.spec.environments?.[env.name]?.shared || !explicit(r, env.name)) continue;
        for (const o of group.slice(0, j)) {
          for (const other of o.environments) {
            const theirs = other.band;
            if (!theirs || other.scope !== env.scope || !overlaps(band, theirs) || o.spec.environments?.[other.name]?.shared || !explicit(o, other.name)) continue;
            // The base's environment, inherited unchanged by both: one band, not two.
            if (other.name === env.name && theirs[0] === band[0] && theirs[1] === band[1]) continue;
            const shared: Range = [Math.max(band[0], theirs[0]), Math.min(band[1], theirs[1])];
            const fixes: string[] = [];
            const left = subtractRanges([band], [theirs]);
            // Every port of the environment where the shrunk band puts it (offsets count from its start), clear of the other registries' ports.
            const others = base === TOGETHER ? [] : group.filter(g => g !== r).flatMap(g => g.allocations.filter(a => a.of === 'service'));
            const change = left.length === 1 ? bandChange(r.spec, r.environments, r.allocations, env.name, left[0], others) : undefined;
            if (change) {
              const text = bandChangeText(change);
              fixes.push(`shrink it (set environments.${env.name}.range: [${left[0][0]}, ${left[0][1]}]${text.sets} in registry ${r.spec.name}${text.moves})`);
            }
            fixes.push(`declare it shared with ${o.spec.name} if both projects use those ports (set environments.${env.name}.shared: true)`);
            fixes.push(`give environment ${env.name} a scope of its own (set environments.${env.name}.scope: ${r.spec.name}-${env.name}) if it runs on other hosts`);
            // (Checked together, the scope was named on purpose: a scope of its own is still the fix when it is another host.)
            findings.push(finding('range-overlap',
              `band ${formatRange(band)} of environment ${env.name} in registry ${r.spec.name} overlaps band ${formatRange(theirs)} of environment ${other.name} ` +
              `in registry ${o.spec.name}, ${base === TOGETHER ? 'checked with it on the same' : `which extends the same base ${base} (`}` +
              `${base === TOGETHER ? ` scope ${env.scope} (shared ports ${formatRange(shared)})` : `shared ports ${formatRange(shared)}, scope ${env.scope})`}`,
              { registry: r.spec.name, environment: env.name, port: shared[0], other: `${o.spec.name}:band ${other.name}`, path: `environments.${env.name}.range` },
              `make the bands disjoint: ${fixes.join(', or ')}`));
          }
        }
      }
      if (findings.length) out.set(r.spec.name, [...(out.get(r.spec.name) ?? []), ...findings]);
    }
  }
  return out;
}
