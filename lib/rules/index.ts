/**
 * The rule list: every rule the pipeline runs on a registry, one entry per rule id, in the order
 * their findings are reported. Adding a rule is one file (a {@link Rule}), one line here, and its
 * test and fixture. Rules that need more than one registry or a file on disk (cross-registry
 * collisions, compose drift) and the lock and waiver checks run in the pipeline, after these.
 *
 * Some rules are found together by one walk of the registry (a {@link Walk}: the names of every
 * service and port, the references, the connections, what the allocator met while placing ports).
 * Each of those rules is still its own entry: it reads its findings from its walks, which run once
 * per check (memoised in the context), whichever rule asks first.
 */
import type { Finding, RuleId } from '../model/finding';
import { RULES } from '../model/finding';
import { allocationFindings } from './allocation';
import { appProtocol } from './app-protocol';
import { checkConnections } from './connections';
import { checkNames } from './names';
import { PLACEMENT_RULES } from './placement';
import { checkRanges } from './ranges';
import { checkReferences } from './references';
import type { Rule, RuleContext, Walk } from './rule';
import { chosenVariables, connectionVariableClashes } from './variables';
import { selectorOverlap } from './selectors';
import { values } from './values';
import { deadWiring } from './wiring';
import { routes } from './routes';

export type { Rule, RuleContext, Syntax, Walk } from './rule';

/** The connections are walked once, for the reference rules and the connection rules alike. */
function connectionWalk(ctx: RuleContext): { references: Finding[]; findings: Finding[] } {
  let walk = ctx.memo.get('connections') as { references: Finding[]; findings: Finding[] } | undefined;
  if (!walk) {
    const references: Finding[] = [];
    walk = { references, findings: checkConnections(ctx.spec, ctx.environments, references, ctx.index, ctx.syntax, ctx.kubernetes ?? true) };
    ctx.memo.set('connections', walk);
  }
  return walk;
}

/** In the order their findings are reported. */
const WALKS: readonly Walk[] = [
  { id: 'names', run: c => checkNames(c.spec, c.environments, c.index, c.kubernetes ?? true) },
  values,
  selectorOverlap,
  chosenVariables,
  connectionVariableClashes,
  appProtocol,
  { id: 'ranges', run: c => checkRanges(c.spec, c.environments, c.allocation.placements) },
  { id: 'references', run: c => checkReferences(c.spec, c.environments, c.index) },
  { id: 'connection-references', run: c => connectionWalk(c).references },
  // What the allocator met while placing ports (port values, sources, collisions, free ports, the lock).
  { id: 'allocation', run: c => allocationFindings(c.spec, c.allocation.outcomes) },
  deadWiring,
  routes,
  { id: 'connections', run: c => connectionWalk(c).findings },
];

/** Every walk's findings by rule, in walk order; each walk runs once per check. */
function walked(ctx: RuleContext): ReadonlyMap<RuleId, readonly Finding[]> {
  let byRule = ctx.memo.get('walks') as Map<RuleId, Finding[]> | undefined;
  if (!byRule) {
    byRule = new Map();
    for (const walk of WALKS) {
      for (const f of walk.run(ctx)) {
        // A walk that reports a rule the list does not name would lose its findings: a bug, said loudly.
        // Stryker disable next-line StringLiteral: unreachable, every walk reports only listed rules (a guard against a bug)
        if (!WALKED_RULES.has(f.rule)) throw new Error(`walk ${walk.id} reported ${f.rule}, which is not in the rule list (lib/rules/index.ts)`);
        const list = byRule.get(f.rule);
        if (list) list.push(f);
        else byRule.set(f.rule, [f]);
      }
    }
    ctx.memo.set('walks', byRule);
  }
  return byRule;
}

/** A rule whose findings one or more walks make. */
const walkedRule = (id: RuleId): Rule => ({ id, severity: RULES[id][0], check: ctx => walked(ctx).get(id) ?? [] });

export const RULE_LIST: readonly Rule[] = [
  walkedRule('schema'),
  walkedRule('service-name'),
  walkedRule('namespace-name'),
  walkedRule('port-name'),
  walkedRule('duplicate-service'),
  walkedRule('env-var-collision'),
  walkedRule('invalid-value'),
  walkedRule('namespace-shared'),
  walkedRule('selector-overlap'),
  walkedRule('app-protocol'),
  walkedRule('app-protocol-unknown'),
  walkedRule('invalid-range'),
  walkedRule('range-overlap'),
  walkedRule('unknown-category'),
  walkedRule('unknown-environment'),
  walkedRule('unknown-service'),
  walkedRule('unknown-port'),
  walkedRule('dev-only-in-production'),
  walkedRule('port-source'),
  walkedRule('container-port-unknown'),
  walkedRule('offset-without-band'),
  walkedRule('collision'),
  walkedRule('no-free-port'),
  walkedRule('lock-stale'),
  // Where placed ports sit (lib/rules/placement.ts), with the fallbacks and values that are no port the allocator met.
  ...PLACEMENT_RULES,
  walkedRule('dead-wiring'),
  walkedRule('route-invalid'),
  walkedRule('no-policies'),
  walkedRule('unreachable'),
  walkedRule('inactive-target'),
  walkedRule('cross-environment'),
  walkedRule('external-unaddressed'),
  walkedRule('external-no-host'),
  walkedRule('invalid-cidr'),
  walkedRule('open-cidr'),
];

/** The ids the walks may report; a walk that reports another would be lost (test/rules.test.ts checks). */
export const WALKED_RULES: ReadonlySet<RuleId> = new Set(RULE_LIST.filter(r => !PLACEMENT_RULES.some(p => p.id === r.id)).map(r => r.id));
