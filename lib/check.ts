import { Allocation, allocate } from './allocation/allocate';
import { Lock, emptyLock } from './allocation/lock';
import { Finding, Where, blocking, finding } from './model/finding';
import { Environment, environmentsOf, indexSpec, ownEntry, presentIn } from './model/normalize';
import { RegistrySpec, RegistrySpecSchema } from './model/schema';
import { checkConnections } from './rules/connections';
import { checkNames } from './rules/names';
import { checkRanges } from './rules/ranges';
import { checkReferences } from './rules/references';

/** A declared connection from a client in one environment, where both ends exist. */
export interface ResolvedConnection {
  /** The client's environment. */
  readonly environment: string;
  readonly from: string;
  readonly to: string;
  readonly portName: string;
  /** The target's environment: the client's own unless the connection crosses environments. */
  readonly targetEnvironment: string;
  readonly targetKind: 'service' | 'external';
}

/** Everything a registry resolves to: the input of every emitter and of `ports.json`. */
export interface ResolvedRegistry {
  readonly spec: RegistrySpec;
  readonly environments: readonly Environment[];
  readonly allocations: readonly Allocation[];
  readonly connections: readonly ResolvedConnection[];
  readonly findings: readonly Finding[];
  readonly lock: Lock;
  /** True when no unwaived error was found: emitters may run. */
  readonly ok: boolean;
}

/** Options of {@link checkRegistry}. */
export interface CheckOptions {
  /** Pinned automatic allocations. @default an empty lock */
  readonly lock?: Lock;
  /** Fail (rule lock-outdated) instead of adding or dropping lock entries, as CI should. @default false */
  readonly frozenLock?: boolean;
}

/**
 * Checks a registry and allocates its ports: data in, data out, no I/O. Every finding is
 * reported, not just the first.
 */
export function checkRegistry(input: unknown, options: CheckOptions = {}): ResolvedRegistry {
  const parsed = RegistrySpecSchema.safeParse(input);
  if (!parsed.success) {
    const registry = typeof (input as { name?: unknown })?.name === 'string' ? (input as { name: string }).name : undefined;
    const findings = parsed.error.issues.map(issue => schemaFinding(registry, issue.path, issue.message));
    return { spec: input as RegistrySpec, environments: [], allocations: [], connections: [], findings, lock: emptyLock(), ok: false };
  }
  return checkParsed(parsed.data, options);
}

/**
 * {@link checkRegistry} for a registry that has already passed the schema (`RegistrySpecSchema`,
 * or the file schema a `ports.yaml` is loaded with): every rule and the allocation, without a
 * second schema pass. Internal: callers must hand it the schema's own output.
 */
export function checkParsed(spec: RegistrySpec, options: CheckOptions = {}): ResolvedRegistry {
  const environments = environmentsOf(spec);
  const lock = options.lock ?? emptyLock();
  const index = indexSpec(spec);
  const result = allocate(spec, environments, lock, index);
  // Connections are walked once, for the reference rules and the connection rules alike.
  const connectionRefs: Finding[] = [];
  const connectionFindings = checkConnections(spec, environments, connectionRefs, index);
  const findings: Finding[] = [
    ...checkNames(spec, environments, index),
    ...checkRanges(spec, environments),
    ...checkReferences(spec, environments, { connections: false }, index),
    ...connectionRefs,
    ...result.findings,
    ...connectionFindings,
  ];
  if (options.frozenLock) findings.push(...frozenLockFindings(spec.name, lock, result.lock));
  const waived = applyWaivers(spec, findings);
  // Connections are resolved on first use: emitters need them, the check does not.
  let connections: ResolvedConnection[] | undefined;
  return {
    spec, environments, allocations: result.allocations,
    get connections() { return (connections ??= resolveConnections(spec, environments)); },
    findings: waived, lock: result.lock, ok: blocking(waived).length === 0,
  };
}

function schemaFinding(registry: string | undefined, path: PropertyKey[], message: string): Finding {
  const keyPath = path.map(String).join('.');
  const where: Where = { ...(registry ? { registry } : {}), path: keyPath };
  const [section, name] = path.map(String);
  if ((section === 'services' || section === 'externals') && name) Object.assign(where, { service: name });
  if (section === 'environments' && name) Object.assign(where, { environment: name });
  return finding('schema', `${keyPath || 'registry'}: ${message}`, where, 'fix the value at that key path (see the README for the model)');
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

function applyWaivers(spec: RegistrySpec, findings: Finding[]): Finding[] {
  const waivers = spec.waivers ?? [];
  const used = new Set<number>();
  const out = findings.map(f => {
    const index = waivers.findIndex(w => w.rule === f.rule &&
      (w.service === undefined || w.service === f.where.service) &&
      (w.environment === undefined || w.environment === f.where.environment) &&
      (w.port === undefined || w.port === f.where.port));
    if (index < 0) return f;
    used.add(index);
    return { ...f, waived: waivers[index].reason };
  });
  waivers.forEach((w, i) => {
    if (used.has(i)) return;
    out.push(finding('waiver-unused', `the waiver for ${w.rule}${w.service ? ` on ${w.service}` : ''}${w.environment ? ` in ${w.environment}` : ''}` +
      `${w.port ? ` at ${w.port}` : ''} matches no finding`, {
      registry: spec.name, ...(w.service ? { service: w.service } : {}), ...(w.environment ? { environment: w.environment } : {}),
      ...(w.port ? { port: w.port } : {}), path: `waivers[${i}]`,
    }, 'remove the waiver'));
  });
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
        if (targetEnvs.has(targetEnvironment)) out.push({ environment: env.name, from, to: c.to, portName, targetEnvironment, targetKind });
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
