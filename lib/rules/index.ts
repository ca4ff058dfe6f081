/**
 * The rule list: every rule the pipeline runs on a registry, in the order its findings are
 * reported. Adding a rule is one file (a {@link Rule}), one line here, and its test and fixture.
 * Rules that need more than one registry or a file on disk (cross-registry collisions,
 * compose drift) run in the pipeline, after these.
 */
import type { Finding } from '../model/finding';
import { appProtocol } from './app-protocol';
import { checkConnections } from './connections';
import { checkNames } from './names';
import { PLACEMENT_RULES } from './placement';
import { checkRanges } from './ranges';
import { checkReferences } from './references';
import type { Rule, RuleContext } from './rule';
import { chosenVariables, connectionVariableClashes } from './variables';
import { values } from './values';
import { deadWiring } from './wiring';

export type { Rule, RuleContext, Syntax } from './rule';

/** The connections are walked once, for the reference rules and the connection rules alike. */
function connectionWalk(ctx: RuleContext): { references: Finding[]; findings: Finding[] } {
  let walk = ctx.memo.get('connections') as { references: Finding[]; findings: Finding[] } | undefined;
  if (!walk) {
    const references: Finding[] = [];
    walk = { references, findings: checkConnections(ctx.spec, ctx.environments, references, ctx.index, ctx.syntax) };
    ctx.memo.set('connections', walk);
  }
  return walk;
}

export const RULE_LIST: readonly Rule[] = [
  { id: 'names', reports: ['service-name', 'namespace-name', 'port-name', 'env-var-collision'], check: c => checkNames(c.spec, c.environments, c.index) },
  values,
  chosenVariables,
  connectionVariableClashes,
  appProtocol,
  { id: 'ranges', reports: ['invalid-range', 'range-overlap'], check: c => checkRanges(c.spec, c.environments) },
  {
    id: 'references', reports: ['unknown-category', 'unknown-environment', 'unknown-service', 'unknown-port', 'dev-only-in-production', 'schema'],
    check: c => checkReferences(c.spec, c.environments, { connections: false }, c.index),
  },
  { id: 'connection-references', reports: ['unknown-service', 'unknown-port', 'unknown-environment'], check: c => connectionWalk(c).references },
  // What the allocator itself found (port values, sources, collisions, free ports, the lock).
  {
    id: 'allocation', reports: ['port-range', 'port-source', 'offset-without-band', 'collision', 'no-free-port', 'avoided-port', 'privileged-port', 'lock-stale'],
    check: c => c.allocation.findings,
  },
  ...PLACEMENT_RULES,
  deadWiring,
  {
    id: 'connections', reports: ['no-policies', 'unreachable', 'inactive-target', 'cross-environment', 'external-unaddressed', 'invalid-cidr'],
    check: c => connectionWalk(c).findings,
  },
];
