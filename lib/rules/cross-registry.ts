import type { Allocation } from '../model/resolved';
import { freePorts } from '../allocation/free-ports';
import type { ResolvedRegistry } from '../model/resolved';
import { Finding, finding } from '../model/finding';
import { formatRange } from '../model/normalize';

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
