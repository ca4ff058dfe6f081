import type { RegistrySpec } from './types';

/**
 * An organisation-wide base: environments, ranges, avoided ports and shared infrastructure
 * (externals) that team registries extend. It declares no services of its own.
 */
export type RegistryBase = Omit<RegistrySpec, 'base' | 'composeChecks'>;

const merged = <T>(a: Record<string, T> | undefined, b: Record<string, T> | undefined) => (a || b ? { ...a, ...b } : undefined);

/**
 * A team registry on top of a base: the base's environments, categories, avoided ports,
 * de-facto list, externals and waivers come first; the team's are added, and a key defined in
 * both takes the team's value. The result records the base's name, which groups the
 * registries that share hosts.
 */
export function extendSpec(base: RegistryBase, team: RegistrySpec): RegistrySpec {
  const environments = merged(base.environments, team.environments);
  const categories = merged(base.categories, team.categories);
  const avoid = base.avoid || team.avoid ? {
    ports: [...(base.avoid?.ports ?? []), ...(team.avoid?.ports ?? [])],
    ranges: [...(base.avoid?.ranges ?? []), ...(team.avoid?.ranges ?? [])],
  } : undefined;
  const defactoPorts = team.defactoPorts === false || base.defactoPorts === false
    ? (team.defactoPorts ?? base.defactoPorts)
    : merged(base.defactoPorts || undefined, team.defactoPorts || undefined);
  const externals = merged(base.externals, team.externals);
  const waivers = [...(base.waivers ?? []), ...(team.waivers ?? [])];
  return {
    ...team,
    base: base.name,
    ...(environments ? { environments } : {}),
    ...(categories ? { categories } : {}),
    ...(avoid ? { avoid } : {}),
    ...(defactoPorts !== undefined ? { defactoPorts } : {}),
    ...(externals ? { externals } : {}),
    ...(waivers.length ? { waivers } : {}),
  };
}

/** Why a spec cannot serve as a base, or undefined. */
export function baseProblem(base: RegistryBase): string | undefined {
  const services = Object.keys(base.services ?? {});
  return services.length
    ? `base ${base.name} declares services (${services.join(', ')}); a base holds environments, ranges, avoided ports and shared infrastructure`
    : undefined;
}
