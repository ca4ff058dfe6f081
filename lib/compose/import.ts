import { Document, parseDocument } from 'yaml';
import { PortMapping, parsePortEntry, portName, unknownTargetMappings, withVariableDefaults } from './ports';
import type { PortSpec, RegistrySpec, ServiceSpec } from '../model/schema';
import { vendorDefault } from '../model/vendor-defaults';
import { ianaService } from '../model/well-known';
import { dns1035Problem, suggestLabel } from '../rules/names';
import { withComposeDefaults } from '../rules/values';

/** Image names that tell what a service is, so it may keep its standard port. */
const KINDS: Array<[RegExp, string]> = [
  [/(^|\/)postgres(ql)?(:|$)/, 'postgres'], [/(^|\/)(redis|valkey)(:|$)/, 'redis'], [/(^|\/)(mysql|mariadb)(:|$)/, 'mysql'],
  [/(^|\/)mongo(db)?(:|$)/, 'mongodb'], [/(^|\/)rabbitmq(:|$)/, 'rabbitmq'], [/(^|\/)(kafka|cp-kafka)(:|$)/, 'kafka'],
  [/(^|\/)memcached(:|$)/, 'memcached'], [/(^|\/)(elasticsearch|opensearch)(:|$)/, 'elasticsearch'], [/(^|\/)grafana(:|$)/, 'grafana'],
  [/(^|\/)minio(:|$)/, 'minio'],
];

function kindOf(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  const image = withComposeDefaults(raw);
  // Else the image's own name (`gitea/gitea:1.21` -> gitea, `registry:2` -> docker-registry), if the vendor table knows it.
  return KINDS.find(([re]) => re.test(image))?.[1] ?? vendorDefault(image.replace(/[@:][^/]*$/, '').split('/').pop())?.kind;
}

/** The public hostname a reverse proxy's labels give a service: Traefik's first ``Host(`name`)`` rule, or Caddy-docker-proxy's `caddy` label. */
function hostnameOf(labels: unknown): string | undefined {
  const entries: Array<[string, string]> = Array.isArray(labels)
    ? labels.map(String).map(l => [l.slice(0, l.indexOf('=') < 0 ? l.length : l.indexOf('=')), l.slice(l.indexOf('=') + 1)])
    : labels && typeof labels === 'object' ? Object.entries(labels as Record<string, unknown>).map(([k, v]) => [k, String(v)]) : [];
  for (const [key, value] of entries) {
    const m = /^traefik\.http\.routers\.[^.]+\.rule$/.test(key) ? /Host\(\s*`([^`]+)`/.exec(value) : undefined;
    if (m) return m[1].toLowerCase();
    if (key === 'caddy' && /^[a-z0-9.-]+$/i.test(value.trim())) return value.trim().toLowerCase();
  }
  return undefined;
}

/** Port ranges longer than this are not imported port by port. */
const MAX_RANGE = 100;

/**
 * A short-syntax entry with compose variables (`${PORT:-8080}:80`) replaced by their defaults, as
 * `docker-compose config` would without the variable set; undefined (and a note) when a variable
 * has no default, since import cannot know its value.
 */
function interpolated(entry: unknown, service: string, notes: string[]): unknown {
  if (typeof entry !== 'string' || !entry.includes('$')) return entry;
  const { text, missing } = withVariableDefaults(entry);
  // Only the container port from a variable: the published port is known, the container's is not.
  const unknownTarget = missing !== undefined ? unknownTargetMappings(entry) : undefined;
  if (unknownTarget) {
    notes.push(`${service}: "${entry}" takes its container port from the variable ${unknownTarget[0].targetVariable!.replace(/^\$\{?|\}$/g, '')}, which has no default here; imported with targetPort: unknown: write the container port when you know it`);
    return unknownTarget;
  }
  if (missing !== undefined) {
    notes.push(`${service}: "${entry}" takes a port from the variable ${missing}, which has no default here; left out: write the port, or give it a default (\${${missing}:-<port>})`);
    return undefined;
  }
  notes.push(`${service}: "${entry}" uses compose variables; imported with their defaults as "${text}"`);
  return text;
}

export interface ImportResult {
  readonly spec: RegistrySpec;
  /** IANA's name for each imported port (`service.port` -> `www-http (World Wide Web HTTP)`), written as a comment. */
  readonly iana: Readonly<Record<string, string>>;
  /** Problems of the compose file itself (unparseable port entries), by service. */
  readonly notes: string[];
}

type ComposeService = Record<string, unknown> | null | undefined;
type ComposeServices = Record<string, ComposeService>;

/**
 * A starting registry from a docker-compose file: one service per compose service with its
 * published ports (explicit), container ports where they differ, `kind` from well-known
 * images, connections from `depends_on`, and services that publish a port and that nothing
 * depends on marked public; with `composeFile` (the file's path from the registry file's folder),
 * `composeChecks` names it, so every check compares the two. Pure: the caller reads and writes files.
 */
export function registryFromCompose(text: string, name: string, composeFile?: string): ImportResult {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length) throw new Error(`not valid YAML: ${doc.errors[0].message.split('\n')[0]}`);
  const data = doc.toJS({ maxAliasCount: 100 }) as { services?: ComposeServices } | null;
  if (!data || typeof data.services !== 'object' || data.services === null) throw new Error('no services map: is this a docker-compose file?');
  const compose = data.services;
  const notes: string[] = [];
  const iana: Record<string, string> = {};
  const services: Record<string, ServiceSpec> = {};
  const nameOf = registryNames(compose);
  const dependedOn = new Set<string>();
  for (const svc of Object.values(compose)) for (const d of dependsOn(svc)) dependedOn.add(d);
  for (const [serviceName, svc] of Object.entries(compose)) {
    if (serviceName === '__proto__' || serviceName === 'constructor' || serviceName === 'prototype') {
      notes.push(`"${serviceName}" cannot be a service name (JavaScript reads it as an object's internals); left out: rename it in the compose file`);
      continue;
    }
    const image = typeof svc?.image === 'string' ? svc.image : undefined;
    const kind = kindOf(image);
    const taken = new Set<string>();
    const ports = publishedPorts(serviceName, svc, kind, taken, notes, iana, nameOf);
    exposedPorts(serviceName, svc, kind, taken, ports, notes);
    if (Object.keys(ports).length === 0) {
      notes.push(`${serviceName}: publishes no port; left out`);
      continue;
    }
    const hostname = hostnameOf(svc?.labels);
    // Compose profiles classify services without giving them ports: the registry's groups.
    const profiles = Array.isArray(svc?.profiles) ? [...new Set((svc!.profiles as unknown[]).map(String).filter(p => p.length > 0))] : [];
    const renamed = nameOf(serviceName) !== serviceName;
    if (renamed) {
      notes.push(`${serviceName}: named ${nameOf(serviceName)} in the registry (Kubernetes Service names are DNS-1035 labels), composeName: ${serviceName} in compose files`);
    }
    services[nameOf(serviceName)] = {
      ...(renamed ? { composeName: serviceName } : {}),
      ...(kind ? { kind } : {}),
      ...(hostname ? { hostname } : {}),
      ...(profiles.length ? { groups: profiles } : {}),
      ...(image ? { image } : {}),
      ...(!dependedOn.has(serviceName) ? { public: true } : {}),
      ports,
    };
  }
  markExclusive(services, compose);
  connect(services, compose, nameOf, notes);
  // The file it came from stays checked against it: the next check compares the two.
  const composeChecks = composeFile !== undefined ? { composeChecks: [{ file: composeFile }] } : {};
  return { spec: { name, environments: { development: {} }, services, ...composeChecks }, notes, iana };
}

/**
 * A compose name that is no Kubernetes Service name (home_assistant) gets a DNS label in the
 * registry, and keeps its own in compose files (composeName): the registry checks clean either way.
 */
function registryNames(compose: ComposeServices): (n: string) => string {
  const registryName = new Map<string, string>();
  const labels = new Set(Object.keys(compose).filter(n => !dns1035Problem(n)));
  for (const n of Object.keys(compose)) {
    if (!dns1035Problem(n)) continue;
    const label = suggestLabel(n, 63);
    if (labels.has(label)) continue; // taken: left as it is (a Kubernetes registry reports it)
    labels.add(label);
    registryName.set(n, label);
  }
  return n => registryName.get(n) ?? n;
}

/** The services a compose service depends on (`depends_on`, a list or a map). */
function dependsOn(svc: ComposeService): string[] {
  const deps = svc?.depends_on;
  return Array.isArray(deps) ? deps.map(String) : deps && typeof deps === 'object' ? Object.keys(deps) : [];
}

/** A compose service's published ports (`ports:`) as registry ports, named after what it is; what cannot be imported is a note. */
function publishedPorts(serviceName: string, svc: ComposeService, kind: string | undefined, taken: Set<string>, notes: string[],
  iana: Record<string, string>, nameOf: (n: string) => string): Record<string, PortSpec> {
  const ports: Record<string, PortSpec> = {};
  for (const raw of (Array.isArray(svc?.ports) ? svc.ports : []) as unknown[]) {
    const entry = interpolated(raw, serviceName, notes);
    if (entry === undefined) continue;
    let mappings: PortMapping[];
    try {
      // (An entry whose container port is unknown comes back as its mappings.)
      mappings = Array.isArray(entry) && typeof raw === 'string' ? entry as PortMapping[] : parsePortEntry(entry);
    } catch (e) {
      notes.push(`${serviceName}: ${(e as Error).message}`);
      continue;
    }
    if (mappings.length > MAX_RANGE) {
      notes.push(`${serviceName}: ${JSON.stringify(raw)} publishes ${mappings.length.toLocaleString('en')} ports; a registry names each port it uses, ` +
        `so ranges of more than ${MAX_RANGE} are left out: declare the ports of that range you use`);
      continue;
    }
    const explicit = entry && typeof entry === 'object' ? ((entry as Record<string, unknown>).name ?? (entry as Record<string, unknown>)['x-name']) as string | undefined : undefined;
    for (const m of mappings) {
      if (m.published === undefined) {
        notes.push(`${serviceName}: container port ${m.target} is not published; left out`);
        continue;
      }
      if (m.published === 0) {
        notes.push(`${serviceName}: ${JSON.stringify(raw)} publishes container port ${m.target} on a host port docker picks at each start (0); left out: give it a port`);
        continue;
      }
      const unknownTarget = m.targetVariable !== undefined;
      const notPort = [m.published, ...(unknownTarget ? [] : [m.target])].find(n => n < 1 || n > 65535);
      if (notPort !== undefined) {
        notes.push(`${serviceName}: ${JSON.stringify(raw)} names ${notPort}, which is not a port (1-65535); left out`);
        continue;
      }
      const key = portName(unknownTarget ? { ...m, target: m.published } : m, explicit, kind, taken);
      taken.add(key);
      const registered = ianaService(m.published, m.protocol.toUpperCase() as 'TCP');
      if (registered && registered.name !== key) iana[`${nameOf(serviceName)}.${key}`] = `${registered.name} (${registered.description})`;
      ports[key] = {
        port: m.published,
        ...(unknownTarget ? { targetPort: 'unknown' as const } : m.target !== m.published ? { targetPort: m.target } : {}),
        ...(m.protocol !== 'tcp' ? { protocol: m.protocol.toUpperCase() as PortSpec['protocol'] } : {}),
        ...(m.hostIp ? { hostIp: m.hostIp } : {}),
        // The compose file binds it already: a system port there is intended.
        ...(m.published < 1024 ? { privileged: true } : {}),
      };
    }
  }
  return ports;
}

/** `expose`: container ports the other containers reach, not published on the host (internal), added to `ports`. */
function exposedPorts(serviceName: string, svc: ComposeService, kind: string | undefined, taken: Set<string>, ports: Record<string, PortSpec>, notes: string[]): void {
  const targets = new Set(Object.values(ports).map(p => `${p.targetPort ?? p.port}/${p.protocol ?? 'TCP'}`));
  for (const raw of (Array.isArray(svc?.expose) ? svc.expose : []) as unknown[]) {
    let mappings: PortMapping[];
    try {
      mappings = parsePortEntry(typeof raw === 'number' ? String(raw) : raw);
    } catch (e) {
      notes.push(`${serviceName}: expose: ${(e as Error).message}`);
      continue;
    }
    if (mappings.length > MAX_RANGE || mappings.some(m => m.published !== undefined)) {
      notes.push(`${serviceName}: expose: ${JSON.stringify(raw)} is not a container port (or a range of at most ${MAX_RANGE}); left out`);
      continue;
    }
    for (const m of mappings) {
      const protocol = m.protocol.toUpperCase() as NonNullable<PortSpec['protocol']>;
      if (m.target < 1 || m.target > 65535 || targets.has(`${m.target}/${protocol}`)) continue; // (published already)
      targets.add(`${m.target}/${protocol}`);
      const key = portName(m, undefined, kind, taken);
      taken.add(key);
      ports[key] = { port: m.target, ...(protocol !== 'TCP' ? { protocol } : {}), internal: true };
    }
  }
}

/** Services of disjoint compose profiles that publish the same port are alternatives: one is up at a time. */
function markExclusive(services: Record<string, ServiceSpec>, compose: ComposeServices): void {
  const profilesOf = (n: string): string[] => {
    const p = (compose[services[n].composeName ?? n] as { profiles?: unknown } | undefined)?.profiles;
    return Array.isArray(p) ? p.map(String) : [];
  };
  const names = Object.keys(services);
  for (let i = 0; i < names.length; i++) {
    for (let j = i + 1; j < names.length; j++) {
      const [a, b] = [names[i], names[j]];
      const pa = profilesOf(a);
      const pb = profilesOf(b);
      if (!pa.length || !pb.length || pa.some(p => pb.includes(p))) continue;
      const published = (n: string) => Object.values(services[n].ports).map(p => `${p.port}/${p.protocol ?? 'TCP'}`);
      if (!published(a).some(p => published(b).includes(p))) continue;
      services[a].exclusiveWith = [...(services[a].exclusiveWith ?? []), b];
    }
  }
}

/** Connections from `depends_on`, to the first port of each imported dependency; a dependency left out is a note. */
function connect(services: Record<string, ServiceSpec>, compose: ComposeServices, nameOf: (n: string) => string, notes: string[]): void {
  for (const [serviceName, svc] of Object.entries(compose)) {
    const own = services[nameOf(serviceName)];
    if (!own) continue;
    const list = dependsOn(svc);
    const imported = (d: string) => Object.prototype.hasOwnProperty.call(services, nameOf(d));
    for (const d of list) {
      if (imported(d)) continue;
      notes.push(Object.prototype.hasOwnProperty.call(compose, d)
        ? `${serviceName} depends on ${d}, which was left out (see above); no connection to it`
        : `${serviceName} depends on "${d}", which the file does not define; no connection to it`);
    }
    const connections = list.filter(imported).map(d => ({ to: nameOf(d), port: Object.keys(services[nameOf(d)].ports)[0] }));
    if (connections.length) own.connectsTo = connections;
  }
}

export function registryYaml(spec: RegistrySpec, source: string, iana: Readonly<Record<string, string>> = {}): string {
  const doc = new Document(spec);
  // IANA's names, as information beside the names import chose.
  for (const [key, text] of Object.entries(iana)) {
    // (A port name has no dot; a service name may: mqtt.broker.)
    const service = key.slice(0, key.lastIndexOf('.'));
    const port = key.slice(key.lastIndexOf('.') + 1);
    const node = doc.getIn(['services', service, 'ports', port], true) as { commentBefore?: string } | undefined;
    if (node) node.commentBefore = ` IANA: ${text}`;
  }
  return `# A starting registry imported by cdk8s-ports from ${source}.\n` +
    '# Review it: give the environment a band (range), name real connections, then run `cdk8s-ports check`.\n' +
    doc.toString();
}
