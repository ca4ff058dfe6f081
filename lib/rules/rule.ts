import type { AllocationResult } from '../allocation/allocate';
import type { Finding, RuleId } from '../model/finding';
import type { Environment, SpecIndex } from '../model/normalize';
import type { RegistrySpec } from '../model/schema';

/** What every rule reads: the registry after the schema, its environments and the allocation. */
export interface RuleContext {
  readonly spec: RegistrySpec;
  readonly environments: readonly Environment[];
  /** Services and externals as lists, built once per check. */
  readonly index: SpecIndex;
  /** Where every port was placed, and the port spaces. */
  readonly allocation: AllocationResult;
  /**
   * Work shared by rules that walk the same data (the connections are walked once for the
   * reference and the connection rules): a rule memoises it here under its own key.
   */
  readonly memo: Map<string, unknown>;
  /** How the registry is written, so that fixes speak its language: `code` (the construct API) or `data` (YAML, JSON, objects). */
  readonly syntax: Syntax;
}

/** How a registry is written: with the construct API (`code`), or as data (`data`: a ports.yaml, JSON, a plain object). */
export type Syntax = 'code' | 'data';

/**
 * One entry of the rule list (lib/rules/index.ts). `reports` lists every rule id it can report;
 * most entries report one (their `id`), a few older ones walk the registry once for several.
 */
export interface Rule {
  readonly id: string;
  readonly reports: readonly RuleId[];
  check(ctx: RuleContext): readonly Finding[];
}
