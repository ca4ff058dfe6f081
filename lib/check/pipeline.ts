/**
 * The one pipeline every caller runs: the synth, `PortRegistry.check()`, the CLI and the bench.
 *
 *   schema -> allocation -> every rule of the list (lib/rules/index.ts) -> compose drift ->
 *   cross-registry collisions and band overlaps -> waivers -> fixes of the unwaived findings,
 *   planned together -> ok
 *
 * Nothing but the waivers' own findings is added after the waivers, so a waiver can reach every
 * finding; a waived finding gets no fix and holds no free port. Fixes are planned
 * against one port space once every finding is known. Data in, data out: the callers do the I/O
 * (reading compose files is a callback they pass in).
 */
import { HeldPort, allocate, fixedServicePorts, heldPortsOf } from '../allocation/allocate';
import type { core } from 'zod';
import { schemaFix, valueAtPath } from '../model/schema-fix';
import { planFixes, publishedOf, relocate, withFields, withMessage } from '../allocation/fixes';
import { Finding, UNWAIVABLE_RULES, Where, blocking, finding } from '../model/finding';
import { Environment, environmentsOf, indexSpec, ownEntry, presentIn, withBandOffsets } from '../model/normalize';
import { slotAskOf, withCategorySlots } from '../model/slots';
import type { Lock, ResolvedConnection, ResolvedRegistry } from '../model/resolved';
import { emptyLock } from '../model/resolved';
import { RegistrySpec, RegistrySpecSchema } from '../model/schema';
import { crossRegistryBandOverlaps, crossRegistryCollisions, crossRegistryNamespaces } from '../rules/cross-registry';
import { peerConnections, withoutPeerConnections } from '../rules/peer-connections';
import { RULE_LIST, Syntax } from '../rules/index';

/** One registry to resolve. */
export interface RegistryInput {
  /** The registry as data; checked against the schema unless `parsed` is set. Undefined when its source could not be read (see `findings`). */
  readonly spec: unknown;
  /** The spec is the schema's own output already (a loaded file): no second schema pass. @default false */
  readonly parsed?: boolean;
  /** Pinned automatic allocations. @default an empty lock */
  readonly lock?: Lock;
  /** Fail (rule lock-outdated) instead of adding or dropping lock entries, as CI should. @default false */
  readonly frozenLock?: boolean;
  /** Findings about the registry's source found before the pipeline (file, base, duplicate declarations). @default none */
  readonly findings?: readonly Finding[];
  /** Reads and checks the registry's `composeChecks` files (the caller's I/O). @default no compose checks */
  readonly composeChecks?: (resolved: ResolvedRegistry) => readonly Finding[];
  /** How the registry is written, so that fixes speak its language. @default 'data' */
  readonly syntax?: Syntax;
  /**
   * Whether Kubernetes output is produced or asked for, when the registry does not say
   * (`kubernetes`): the Kubernetes-only rules run only then. @default true
   */
  readonly kubernetes?: boolean;
  /**
   * Whether the allocations carry what only outputs show (a port's IANA name, the note of the
   * well-known ports an automatic port skipped): `check`, which prints findings alone, goes without. @default true
   */
  readonly details?: boolean;
  /** Adds `file:line:column` to findings of a registry read from a file. @default findings as they are */
  readonly locate?: (findings: readonly Finding[]) => Finding[];
}

interface Stage {
  readonly input: RegistryInput;
  readonly resolved: ResolvedRegistry;
  readonly findings: Finding[];
  readonly spaces?: Parameters<typeof planFixes>[1];
}

/** Resolves one registry (see {@link resolveAll}). */
export function resolve(input: RegistryInput): ResolvedRegistry {
  return resolveAll([input])[0];
}

/**
 * Resolves registries that are synthesized together: each through every step, with registries
 * that extend the same base checked against each other before fixes and waivers.
 */
export function resolveAll(inputs: readonly RegistryInput[]): ResolvedRegistry[] {
  const stages = firstStages(inputs);
  // Registries that extend one base share its hosts: check them against each other.
  const checked = stages.filter(s => s.spaces).map(s => s.resolved);
  const cross = crossRegistryCollisions(checked);
  // … and each project has its own band there.
  const bands = crossRegistryBandOverlaps(checked);
  // Registries resolved together keep to namespaces of their own.
  const namespaces = crossRegistryNamespaces(checked);
  // … and may connect to each other's services (a registry that failed its schema has its own errors).
  const unresolved = new Set(stages.filter(s => !s.spaces).map(s => (s.resolved.spec as { name?: unknown })?.name).filter((n): n is string => typeof n === 'string'));
  const peers = peerConnections(checked, unresolved);
  return stages.map(stage => {
    let findings = stage.findings;
    // (A registry that failed its schema may have no name, or be no object at all.)
    const name = stage.spaces ? stage.resolved.spec.name : '';
    const outgoing = peers.connections.get(name) ?? [];
    const inbound = peers.inbound.get(name) ?? [];
    if (stage.spaces) {
      findings.push(...(bands.get(name) ?? []), ...(cross.get(name) ?? []), ...(namespaces.get(name) ?? []), ...(peers.findings.get(name) ?? []));
      // The registry's own rules saw neither side of its peer connections: a service another registry
      // connects to is reachable, and a registry with peer connections uses policies.
      if (outgoing.length || inbound.length) {
        const reached = new Set(inbound.map(c => c.to));
        findings = findings.filter(f => f.rule !== 'no-policies' && !(f.rule === 'unreachable' && f.where.service !== undefined && reached.has(f.where.service)));
      }
    }
    // Waivers first: a waived finding gets no fix and holds no free port.
    const waived = stage.spaces ? applyWaivers(stage.resolved.spec, findings) : findings;
    const fixed = stage.spaces ? planFixes(waived, stage.spaces, stage.input.syntax ?? 'data', stage.resolved.environments, stage.resolved.spec, publishedOf(stage.resolved)) : waived;
    const located = stage.input.locate ? stage.input.locate(fixed) : fixed;
    const r = stage.resolved;
    let connections: readonly ResolvedConnection[] | undefined;
    return {
      spec: r.spec, environments: r.environments, allocations: r.allocations,
      // Connections are resolved on first use: emitters need them, the check does not.
      get connections() { return (connections ??= outgoing.length ? [...r.connections, ...outgoing] : r.connections); },
      ...(inbound.length ? { inbound } : {}),
      findings: located, lock: r.lock, ok: blocking(located).length === 0,
    };
  });
}

/** A registry read and normalised, ready to be allocated (see {@link prepare}). */
interface Prepared {
  readonly input: RegistryInput;
  readonly before: Finding[];
  readonly spec: RegistrySpec;
  readonly environments: Environment[];
  readonly slotFindings: readonly Finding[];
  /** The spec without its connections to other registries: what its own rules see. */
  readonly own: RegistrySpec;
  readonly index: ReturnType<typeof indexSpec>;
  readonly lock: Lock;
}

/**
 * The first stage of every registry. Registries that extend one base share its hosts, so a new
 * automatic port keeps clear of the ports its siblings hold: every port of a sibling resolved
 * before it (in the order given, so the same command always gives the same ports), and the fixed
 * ports (explicit, offsets, pinned by their lock) of those after it, whose numbers do not depend
 * on allocation. A pinned port thus always wins over a new one, and locks stay as they are.
 */
function firstStages(inputs: readonly RegistryInput[]): Stage[] {
  const prepared = inputs.map(prepare);
  const groups = new Map<string, Prepared[]>();
  for (const p of prepared) {
    if ('resolved' in p || p.spec.base === undefined) continue;
    groups.set(p.spec.base, [...(groups.get(p.spec.base) ?? []), p]);
  }
  const fixed = new Map<Prepared, HeldPort[]>();
  for (const group of groups.values()) {
    if (group.length < 2) continue;
    for (const p of group) fixed.set(p, fixedServicePorts(p.own, p.environments, p.lock, p.index));
  }
  const done = new Map<Prepared, HeldPort[]>();
  return prepared.map(p => {
    if ('resolved' in p) return p;
    const group = p.spec.base !== undefined ? groups.get(p.spec.base)! : [p];
    const foreign = group.length < 2 ? [] : group.filter(o => o !== p).flatMap(o => done.get(o) ?? fixed.get(o)!);
    const stage = allocated(p, foreign);
    if (group.length > 1) {
      done.set(p, heldPortsOf(stage.resolved.allocations));
    }
    return stage;
  });
}

function prepare(input: RegistryInput): Prepared | Stage {
  const before = [...(input.findings ?? [])];
  const failed = (spec: unknown, findings: Finding[]): Stage => ({
    input, findings,
    // Stryker disable next-line BooleanLiteral: equivalent, resolveAll sets ok from the findings
    resolved: { spec: spec as RegistrySpec, environments: [], allocations: [], connections: [], findings: [], lock: emptyLock(), ok: false },
  });
  if (input.spec === undefined) return failed({}, before);
  let spec: RegistrySpec;
  if (input.parsed) {
    spec = input.spec as RegistrySpec;
  } else {
    const parsed = RegistrySpecSchema.safeParse(input.spec);
    if (!parsed.success) {
      const name = (input.spec as { name?: unknown })?.name;
      const registry = typeof name === 'string' ? name : undefined;
      return failed(input.spec, [...before, ...parsed.error.issues.map(issue => schemaFinding(registry, issue, input.spec))]);
    }
    spec = parsed.data;
  }
  const environments = environmentsOf(spec);
  // Ports given by their place in a category (`slot`), then category ranges given as offsets from
  // each band's start, are port numbers from here on.
  const slots = withCategorySlots(spec, environments);
  spec = withBandOffsets(slots.spec, environments);
  const lock = input.lock ?? emptyLock();
  // Connections to other registries are resolved with them (resolveAll); the rules of one registry see its own.
  const own = withoutPeerConnections(spec);
  return { input, before, spec, environments, slotFindings: slots.findings, own, index: indexSpec(own), lock };
}

function allocated(p: Prepared, foreign: readonly HeldPort[]): Stage {
  const { input, spec, environments, own, index, lock } = p;
  const allocation = allocate(own, environments, lock, index, foreign, input.details ?? true);
  const syntax = input.syntax ?? 'data';
  // Kubernetes-only rules where Kubernetes output is produced or asked for (the caller knows; the registry may say).
  const kubernetes = spec.kubernetes ?? input.kubernetes ?? true;
  const ctx = { spec: own, environments, index, allocation, memo: new Map<string, unknown>(), syntax, kubernetes };
  // A slot past its category's last port is told a slot free in every environment (planned with the other fixes).
  const slotFindings = p.slotFindings.map(f => {
    const ask = slotAskOf(f);
    if (!ask) return f;
    // Placed meanwhile as an automatic port: that port is free for the slot.
    const self = (env: string) => allocation.allocations.find(a => a.of === 'service' && a.service === f.where.service && a.portName === f.where.portName && a.environment === env)?.port;
    const pick = { ...ask, counted: ask.counted.map(c => ({ ...c, self: self(c.env.name) })) };
    return relocate(f, { scope: ask.counted[0].env.scope, protocol: ask.protocol, ranges: [], use: {}, verb: 'use', pick });
  });
  const findings: Finding[] = [...p.before, ...slotFindings];
  for (const rule of RULE_LIST) findings.push(...rule.check(ctx));
  oneCulpritOneFinding(findings);
  if (input.frozenLock) findings.push(...frozenLockFindings(spec.name, lock, allocation.lock));
  let connections: ResolvedConnection[] | undefined;
  const resolved: ResolvedRegistry = {
    spec, environments, allocations: allocation.allocations,
    get connections() { return (connections ??= resolveConnections(own, environments)); },
    findings: [], lock: allocation.lock, ok: false,
  };
  if (input.composeChecks) findings.push(...input.composeChecks(resolved));
  return { input, resolved, findings, spaces: allocation.spaces };
}

/** Errors that already say a port must move: a de-facto warning on the same port would only restate them. */
const PORT_ERRORS = new Set(['collision', 'avoided-port', 'reserved-range']);

/**
 * One culprit, one finding: a `defacto-port` warning is dropped where the same port of the same
 * service in the same environment has a collision or avoided-port error; the error says it instead.
 */
function oneCulpritOneFinding(findings: Finding[]): void {
  const key = (f: Finding) => `${f.where.service}\u0000${f.where.portName}\u0000${f.where.environment}\u0000${f.where.port}`;
  const errors = new Map<string, number>();
  findings.forEach((f, i) => { if (PORT_ERRORS.has(f.rule) && !errors.has(key(f))) errors.set(key(f), i); });
  if (!errors.size) return;
  // Stryker disable next-line EqualityOperator: equivalent, a defacto-port warning is never first: its error comes before it
  for (let i = findings.length - 1; i >= 0; i--) {
    const f = findings[i];
    const error = f.rule === 'defacto-port' ? errors.get(key(f)) : undefined;
    if (error === undefined) continue;
    // The rule's own message: "…, the default port of <what>; one running on the same host …" (<what> may hold ";").
    const what = /the default port of ([\s\S]+); one running on the same host/.exec(f.message)?.[1];
    // Stryker disable next-line ConditionalExpression: equivalent, every defacto-port message matches
    if (what) findings[error] = withMessage(findings[error], `${findings[error].message}; it is also the default port of ${what}`);
    findings.splice(i, 1);
  }
}

/**
 * Marks the findings each waiver matches (the first matching waiver wins). A waiver that matches
 * nothing is reported, and one for a rule that keeps the output valid is an error and waives nothing.
 */
function applyWaivers(spec: RegistrySpec, findings: readonly Finding[]): Finding[] {
  const waivers = spec.waivers ?? [];
  const usable = waivers.map(w => !UNWAIVABLE_RULES.has(w.rule as never));
  const used = new Set<number>();
  const out = findings.map(f => {
    const index = waivers.findIndex((w, i) => usable[i] && w.rule === f.rule &&
      (w.service === undefined || w.service === f.where.service) &&
      (w.environment === undefined || w.environment === f.where.environment) &&
      (w.port === undefined || w.port === f.where.port));
    if (index < 0) return f;
    used.add(index);
    const w = waivers[index];
    return withFields(f, w.planned
      ? { waived: `known conflict, fix planned by ${w.planned.owner} by ${w.planned.by}: ${w.reason}`, planned: { owner: w.planned.owner, by: w.planned.by } }
      : { waived: w.reason });
  });
  waivers.forEach((w, i) => {
    const what = `${w.rule}${w.service ? ` on ${w.service}` : ''}${w.environment ? ` in ${w.environment}` : ''}${w.port ? ` at ${w.port}` : ''}`;
    const where: Where = {
      registry: spec.name, ...(w.service ? { service: w.service } : {}), ...(w.environment ? { environment: w.environment } : {}),
      ...(w.port ? { port: w.port } : {}), path: `waivers[${i}]`,
    };
    if (!usable[i]) {
      out.push(finding('waiver-invalid', `the waiver for ${what} cannot be honoured: ${w.rule} keeps the output valid, so it cannot be waived`,
        where, `remove the waiver and fix the ${w.rule} finding itself`));
    } else if (!used.has(i)) {
      out.push(finding('waiver-unused', `the waiver for ${what} matches no finding`, where, 'remove the waiver'));
    }
  });
  return out;
}

function schemaFinding(registry: string | undefined, issue: core.$ZodIssue, data: unknown): Finding {
  const { path, message } = issue;
  const keyPath = path.map(String).join('.');
  const got = valueAtPath(data, path);
  const where: Where = { ...(registry ? { registry } : {}), path: keyPath };
  const [section, name] = path.map(String);
  if ((section === 'services' || section === 'externals') && name) Object.assign(where, { service: name });
  if (section === 'environments' && name) Object.assign(where, { environment: name });
  return finding('schema', `${keyPath || 'registry'}: ${message}`, where, schemaFix(issue, keyPath, got));
}

function frozenLockFindings(registry: string, before: Lock, after: Lock): Finding[] {
  const out: Finding[] = [];
  for (const kind of ['ports', 'offsets'] as const) {
    for (const key of Object.keys(after[kind])) {
      if (!(key in before[kind])) {
        out.push(finding('lock-outdated', `${key} has no entry in the lock file`, { registry, path: `ports.lock.json ${key}` },
          'run the synth without a frozen lock and commit ports.lock.json'));
      }
    }
    for (const key of Object.keys(before[kind])) {
      if (!(key in after[kind])) {
        out.push(finding('lock-outdated', `the lock file still holds ${key}, which no port uses`, { registry, path: `ports.lock.json ${key}` },
          'run the synth without a frozen lock and commit ports.lock.json'));
      }
    }
  }
  return out;
}

function resolveConnections(spec: RegistrySpec, envs: readonly Environment[]): ResolvedConnection[] {
  const services = spec.services ?? {};
  const externals = spec.externals ?? {};
  const out: ResolvedConnection[] = [];
  // Where each service and external runs, computed once: registries have thousands of connections.
  const where = new Map<string, { envs: readonly Environment[]; names: Set<string> }>();
  const presence = (name: string, entry: Parameters<typeof presentIn>[0]) => {
    let p = where.get(name);
    // Stryker disable next-line ConditionalExpression: equivalent, a memo (computed again, the same)
    if (!p) {
      const list = presentIn(entry, envs);
      where.set(name, p = { envs: list, names: new Set(list.map(e => e.name)) });
    }
    return p;
  };
  for (const [from, svc] of Object.entries(services)) {
    if (!svc.connectsTo?.length) continue;
    const mine = presence(from, svc).envs;
    for (const c of svc.connectsTo) {
      const service = ownEntry(services, c.to);
      const target = service ?? ownEntry(externals, c.to);
      if (!target) continue;
      const portName = c.port ?? onlyPort(target.ports);
      if (portName === undefined || !(portName in target.ports)) continue;
      const targetEnvs = presence(c.to, target).names;
      const targetKind = service ? 'service' : 'external';
      for (const env of mine) {
        const targetEnvironment = c.environment ?? env.name;
        if (targetEnvs.has(targetEnvironment)) {
          out.push({ environment: env.name, from, to: c.to, portName, targetEnvironment, targetKind, ...(c.env ? { env: c.env } : {}), ...(c.url ? { url: c.url } : {}) });
        }
      }
    }
  }
  return out;
}

function onlyPort(ports: Record<string, unknown>): string | undefined {
  let only: string | undefined;
  for (const name in ports) {
    if (only !== undefined) return undefined;
    only = name;
  }
  return only;
}
