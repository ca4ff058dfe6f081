import type { AllocationResult } from '../allocation/allocate';
import type { Finding, RuleId, Severity } from '../model/finding';
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
  /** Whether the registry deploys to Kubernetes: the Kubernetes-only rules run only then. @default true */
  readonly kubernetes?: boolean;
}

/** How a registry is written: with the construct API (`code`), or as data (`data`: a ports.yaml, JSON, a plain object). */
export type Syntax = 'code' | 'data';

/** One rule of the rule list (lib/rules/index.ts): its id, its severity and its check. */
export interface Rule {
  readonly id: RuleId;
  readonly severity: Severity;
  check(ctx: RuleContext): readonly Finding[];
}

/**
 * One pass over the registry that finds the problems of several rules at once (the names of every
 * service and port, the references …). The rule list turns its findings into one entry per rule.
 */
export interface Walk {
  readonly id: string;
  run(ctx: RuleContext): readonly Finding[];
}
