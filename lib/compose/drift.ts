import { formatRange, isInternalIn, mergeRanges, ownEntry } from '../model/normalize';
import { yamlLib } from '../file/yaml-lib';
import type { Allocation, ResolvedRegistry } from '../model/resolved';
import { PortMapping, parsePortEntry, portName, unknownTargetMappings, withVariableDefaults } from './ports';
import { Finding, finding } from '../model/finding';
import { freePorts } from '../allocation/free-ports';
import { Published, notePublished } from '../allocation/fixes';
import { dns1035Problem, suggestLabel } from '../rules/names';

/** How to publish a port the registry keeps internal: remove `internal: true`, or the environments from its list. */
function unpublish(internal: boolean | readonly string[] | undefined, at: string, environments: readonly string[]): string {
  if (!Array.isArray(internal)) return `remove internal: true from ${at}`;
  const rest = internal.filter(e => !environments.includes(e));
  return rest.length ? `set ${at}.internal to [${rest.join(', ')}]` : `remove internal from ${at}`;
}

/**
 * The fix for a service the registry does not declare whose published port is another's: the
 * entry to add (its published ports, those taken or outside the band moved to free ones) and
 * what to publish instead in the compose file. Undefined when no free port is found.
 */
function declareFix(resolved: ResolvedRegistry, composeName: string, mappings: readonly PortMapping[], allocations: readonly Allocation[],
  environment: string, file: string): string | undefined {
  const env = resolved.environments.find(e => e.name === environment);
  if (!env) return undefined;
  // Offsets where every environment has a band (one layout for all), else port numbers.
  const banded = resolved.environments.every(e => e.band);
  const chosen = new Set<string>();
  const names = new Set<string>();
  const ports: string[] = [];
  const moves: string[] = [];
  for (const m of mappings) {
    if (m.published === undefined || m.published === 0) continue;
    const protocol = m.protocol.toUpperCase() as Allocation['protocol'];
    let port = m.published;
    const clash = allocations.some(a => a.port === port && a.protocol === protocol) || chosen.has(`${port}/${protocol}`);
    const outside = !!env.band && (port < env.band[0] || port > env.band[1]);
    if (clash || outside) {
      let free: readonly number[];
      try {
        // Without a band: the next free port above the one published.
        const within = env.band ? undefined : [[Math.max(m.published, 1024), 65535] as [number, number]];
        free = freePorts(resolved, { environment, protocol, count: chosen.size + 1, ...(within ? { within } : {}) }).ports;
      } catch {
        return undefined;
      }
      const next = free.find(p => !chosen.has(`${p}/${protocol}`));
      if (next === undefined) return undefined;
      const host = m.hostIp ? `${m.hostIp.includes(':') ? `[${m.hostIp}]` : m.hostIp}:` : '';
      const suffix = protocol === 'TCP' ? '' : `/${m.protocol}`;
      const target = m.targetVariable ?? m.target;
      moves.push(`"${host}${next}:${target}${suffix}" instead of "${host}${m.published}:${target}${suffix}"`);
      port = next;
    }
    chosen.add(`${port}/${protocol}`);
    const key = portName(m.targetVariable !== undefined ? { ...m, target: port } : m, undefined, undefined, names);
    names.add(key);
    const fields = [banded ? `offset: ${port - env.band![0]}` : `port: ${port}`,
      ...(m.targetVariable !== undefined ? ['targetPort: unknown'] : m.target !== port ? [`targetPort: ${m.target}`] : []), ...(protocol !== 'TCP' ? [`protocol: ${protocol}`] : []), ...(m.hostIp ? [`hostIp: ${JSON.stringify(m.hostIp)}`] : []),
      ...(!banded && port < 1024 ? ['privileged: true'] : [])];
    ports.push(`${key}: { ${fields.join(', ')} }`);
  }
  if (!ports.length) return undefined;
  // A compose name that is no Kubernetes Service name is declared under a DNS label, keeping its compose name.
  const name = dns1035Problem(composeName) ? suggestLabel(composeName, 63) : composeName;
  const keep = name !== composeName ? `composeName: ${composeName}, ` : '';
  return `declare services.${name}: { ${keep}ports: { ${ports.join(', ')} } }` +
    (moves.length ? ` and publish ${moves.join(', ')} for ${composeName} in ${file}` : '');
}

/**
 * The finding for ports of a service the registry does not declare that no registry port uses: the
 * host port is taken on that machine, and the registry does not know it (so it could hand it out).
 * One finding per `ports` entry (a range is one entry); the fix declares the service, as for a
 * service that publishes a port of the registry's.
 */
function undeclaredFinding(resolved: ResolvedRegistry, composeName: string, name: string, mappings: readonly PortMapping[], where: string, file: string,
  environment: string | undefined, declare: (env: string) => string): Finding {
  const protocol = mappings[0].protocol.toUpperCase();
  const numbers = [...new Set(mappings.map(m => m.published!))].sort((a, b) => a - b);
  const ports = `${mergeRanges(numbers.map((n): [number, number] => [n, n])).map(formatRange).join(', ')}/${protocol}`;
  // Without an environment to compare with: the one whose band holds the port, else the first.
  const env = environment ?? (resolved.environments.find(e => e.band && numbers[0] >= e.band[0] && numbers[0] <= e.band[1]) ?? resolved.environments[0])?.name;
  const fix = (env !== undefined ? declare(env) : '') ||
    `declare ${name} in the registry (a service, or an external with ports: { main: { port: ${numbers[0]} } }), so no port of the registry is given ${numbers.length === 1 ? 'that port' : 'those ports'}`;
  return finding('compose-drift', `${file}: service ${composeName} publishes ${ports}, but the registry declares no ${name}: ${numbers.length === 1 ? 'the port is' : 'the ports are'} taken on that host, and the registry does not know it`,
    { registry: resolved.spec.name, service: name, port: numbers[0], file: where, ...(environment ? { environment } : {}) }, fix);
}

/**
 * Compares an existing docker-compose file with the registry: a service the registry knows
 * must publish the registry's port, and no service may publish a port the registry gives to
 * someone else. Pure: the caller reads the file.
 */
export function checkComposeText(resolved: ResolvedRegistry, text: string, file: string, environment?: string): Finding[] {
  const registry = resolved.spec.name;
  const lines = new (yamlLib().LineCounter)();
  const doc = yamlLib().parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  const at = (offset: number | undefined) => {
    if (offset === undefined) return file;
    const { line, col } = lines.linePos(offset);
    return `${file}:${line}:${col}`;
  };
  if (doc.errors.length) {
    const e = doc.errors[0];
    return [finding('compose-file', `${file} is not valid YAML: ${e.message.split('\n')[0]}`, { registry, file: at(e.pos[0]) }, 'fix the YAML')];
  }
  // Stryker disable next-line BooleanLiteral: equivalent, keepScalar changes only what a scalar gives, and a scalar is no map either way
  const services = doc.get('services', true);
  if (!yamlLib().isMap(services)) {
    return [finding('compose-file', `${file} has no services map`, { registry, file }, 'check that it is a docker-compose file')];
  }
  const c: Drift = {
    resolved, registry, file, environment, out: [], publishes: [], at,
    allocations: resolved.allocations.filter(a => environment === undefined || a.environment === environment),
    lineOf: item => lines.linePos((item as { range?: [number] }).range?.[0] ?? 0).line,
  };
  // A registry entry may have another name in compose files (`composeName`).
  const byComposeName = new Map<string, string>();
  for (const entries of [resolved.spec.services, resolved.spec.externals]) {
    // Stryker disable next-line ConditionalExpression: equivalent, an undefined key is never looked up (compose names are strings)
    for (const [name, entry] of Object.entries(entries ?? {})) if (entry.composeName) byComposeName.set(entry.composeName, name);
  }
  for (const pair of services.items) {
    // Stryker disable next-line LogicalOperator,OptionalChaining: equivalent, the parser's keys are nodes, and a scalar node prints as its value
    const composeName = String((pair.key as { value?: unknown })?.value ?? pair.key);
    const svc = pair.value;
    // Stryker disable next-line BooleanLiteral: equivalent, keepScalar changes only what a scalar gives, and a scalar is no list either way
    const ports = yamlLib().isMap(svc) ? svc.get('ports', true) : undefined;
    if (!yamlLib().isSeq(ports)) continue;
    serviceDrift(c, composeName, byComposeName.get(composeName) ?? composeName, ports.items);
  }
  const { out, publishes } = c;
  notePublished(resolved, publishes);
  return out;
}

/** What the comparison of one compose file shares across its services. */
interface Drift {
  readonly resolved: ResolvedRegistry;
  readonly registry: string;
  readonly file: string;
  readonly environment?: string;
  /** The registry's allocations in the environment compared (every one without). */
  readonly allocations: readonly Allocation[];
  readonly out: Finding[];
  /** The registry's ports this file publishes, and where: a fix that moves one says to publish the new port there. */
  readonly publishes: Published[];
  /** `file:line:column` of a node's offset. */
  readonly at: (offset: number | undefined) => string;
  readonly lineOf: (item: unknown) => number;
}

/** A `ports` entry read: its mappings, or the variable without a default it takes a port from, or why it cannot be read. */
interface PortEntry {
  readonly item: unknown;
  readonly mappings?: PortMapping[];
  readonly variable?: string;
  readonly error?: Error;
}

function portEntry(item: unknown): PortEntry {
  let raw = (item as { toJSON(): unknown }).toJSON();
  // Compose variables read with their defaults, as docker-compose does without them set (and import did).
  const variables = typeof raw === 'string' && raw.includes('$') ? withVariableDefaults(raw) : undefined;
  // Only the container port from a variable: the published port is compared all the same.
  const unknownTarget = variables?.missing !== undefined ? unknownTargetMappings(raw as string) : undefined;
  if (unknownTarget) return { item, mappings: unknownTarget };
  if (variables?.missing !== undefined) return { item, variable: variables.missing };
  if (variables) raw = variables.text;
  try {
    return { item, mappings: parsePortEntry(raw) };
  } catch (e) {
    return { item, error: e as Error };
  }
}

/** One compose service's `ports` entries against the registry. */
function serviceDrift(c: Drift, composeName: string, name: string, items: readonly unknown[]): void {
  const { resolved, registry, file, out } = c;
  const own = c.allocations.filter(a => a.service === name);
  const declared = !!(ownEntry(resolved.spec.services ?? {}, name) ?? ownEntry(resolved.spec.externals ?? {}, name));
  // Every entry read once: the fix that declares the service needs all its mappings.
  const entries = items.map(portEntry);
  const everyMapping: PortMapping[] = entries.flatMap(e => e.mappings ?? []);
  let declareText: string | undefined;
  // The fix that declares the service, computed once for all its findings.
  const declareOnce = (env: string) => (declareText ??= declareFix(resolved, composeName, everyMapping, c.allocations, env, file) ?? '');
  for (const { item, mappings, error, variable } of entries) {
    const where = c.at((item as { range?: [number] }).range?.[0]);
    if (variable !== undefined) {
      const text = String((item as { toJSON(): unknown }).toJSON());
      out.push(finding('compose-file', `${file}: service ${composeName}: "${text}" takes a port from the variable ${variable}, which has no default here, so it cannot be compared with the registry`,
        { registry, service: name, file: where }, `give it a default (\${${variable}:-<port>}), or write the port`, 'warning'));
      continue;
    }
    if (!mappings) {
      out.push(finding('compose-file', `${file}: service ${composeName}: ${error!.message}`, { registry, service: name, file: where }, 'fix the port entry'));
      continue;
    }
    // The ports of an undeclared service that no one of the registry holds: taken on that host all the same.
    const unknown = mappings.filter(m => m.published !== undefined && !mappingDrift(c, { composeName, name, own, declared, declareOnce, item, where }, m));
    if (unknown.length) out.push(undeclaredFinding(resolved, composeName, name, unknown, where, file, c.environment, declareOnce));
  }
}

/** What {@link mappingDrift} knows of the compose service and the entry. */
interface MappingSite {
  readonly composeName: string;
  readonly name: string;
  readonly own: readonly Allocation[];
  readonly declared: boolean;
  readonly declareOnce: (env: string) => string;
  readonly item: unknown;
  readonly where: string;
}

/**
 * One published mapping against the registry: its finding, if any. False when the service is
 * undeclared and no one of the registry holds the port (the caller reports those per entry).
 */
function mappingDrift(c: Drift, s: MappingSite, m: PortMapping): boolean {
  const { resolved, registry, file, environment, out } = c;
  const { composeName, name, own, where } = s;
  const protocol = m.protocol.toUpperCase();
  // The service's own allocations on this number (in each environment the file is checked for).
  const matching = own.filter(a => a.port === m.published && a.protocol === protocol);
  const mine = matching.length > 0;
  if (mine) {
    const line = c.lineOf(s.item);
    for (const a of matching) c.publishes.push({ service: name, portName: a.portName, environment: a.environment, port: a.port, protocol, at: `${file}:${line}` });
  }
  // Whose the published port is, when not this service's: the worse half of a drift.
  const taken = mine ? undefined : c.allocations.find(a => a.port === m.published && a.protocol === protocol && a.service !== name);
  if (own.length > 0 && !mine) {
    const expected = own.map(a => `${a.port}/${a.protocol} (${a.portName}, ${a.environment})`).join(', ');
    const also = taken ? `; ${m.published}/${protocol} is ${taken.service}.${taken.portName}'s (${taken.environment}), so the two would clash` : '';
    out.push(finding('compose-drift', `${file}: service ${composeName} publishes ${m.published}/${protocol}, but the registry gives ${name} ${expected}${also}`,
      { registry, service: name, port: m.published, file: where, ...(environment ? { environment } : {}), ...(taken ? { other: `${taken.service}.${taken.portName}` } : {}) },
      `publish ${own[0].port} (or change the registry and synthesize again)`));
    return true;
  }
  // Its own port, which the registry keeps off the host (internal) wherever it gives it this number.
  if (mine && matching.every(a => isInternalIn(resolved.spec.services?.[name]?.ports?.[a.portName], a.environment))) {
    const a = matching[0];
    out.push(finding('compose-drift', `${file}: service ${composeName} publishes ${m.published}/${protocol}, but the registry keeps ${name}.${a.portName} internal (not published) in ${[...new Set(matching.map(x => x.environment))].join(', ')}`,
      { registry, service: name, portName: a.portName, port: m.published, file: where, ...(environment ? { environment } : {}) },
      `list it under expose: ["${a.targetPort}"] instead of ports:, or ${unpublish(resolved.spec.services?.[name]?.ports?.[a.portName]?.internal, `services.${name}.ports.${a.portName}`, matching.map(x => x.environment))}`));
    return true;
  }
  // Here the registry gives this service no port at all (or it published its own): whose is the port?
  if (taken) {
    const fix = s.declared ? `publish a port the registry allocates to ${name}, or change the registry and synthesize again`
      : s.declareOnce(environment ?? taken.environment) || `publish a port the registry allocates to no one, or declare ${name} in the registry`;
    out.push(finding('compose-drift', `${file}: service ${composeName} publishes ${m.published}/${protocol}, which the registry gives ${taken.service}.${taken.portName} (${taken.environment})`,
      { registry, service: name, port: m.published, other: `${taken.service}.${taken.portName}`, file: where, environment: taken.environment },
      fix));
    return true;
  }
  return s.declared || m.published === 0;
}
