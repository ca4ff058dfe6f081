import { stringify, parseDocument } from 'yaml';
import { PortMapping, parsePortEntry } from '../compose/ports';
import type { PortSpec, RegistrySpec, ServiceSpec } from '../model/schema';
import { ianaService } from '../model/well-known';
import { portNameProblem } from '../rules/names';

/** Image names that tell what a service is, so it may keep its standard port. */
const KINDS: Array<[RegExp, string]> = [
  [/(^|\/)postgres(ql)?(:|$)/, 'postgres'], [/(^|\/)(redis|valkey)(:|$)/, 'redis'], [/(^|\/)(mysql|mariadb)(:|$)/, 'mysql'],
  [/(^|\/)mongo(db)?(:|$)/, 'mongodb'], [/(^|\/)rabbitmq(:|$)/, 'rabbitmq'], [/(^|\/)(kafka|cp-kafka)(:|$)/, 'kafka'],
  [/(^|\/)memcached(:|$)/, 'memcached'], [/(^|\/)(elasticsearch|opensearch)(:|$)/, 'elasticsearch'], [/(^|\/)grafana(:|$)/, 'grafana'],
  [/(^|\/)minio(:|$)/, 'minio'],
];

function kindOf(image: string | undefined): string | undefined {
  if (!image) return undefined;
  return KINDS.find(([re]) => re.test(image))?.[1];
}

function portName(m: PortMapping, explicit: string | undefined, taken: Set<string>): string {
  const candidates = [explicit, ianaService(m.target, m.protocol.toUpperCase() as 'TCP')?.name, `${m.protocol}-${m.target}`];
  for (const c of candidates) {
    if (!c) continue;
    const name = c.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-+/g, '-').replace(/^-|-$/g, '').slice(0, 15).replace(/-$/, '');
    if (name && !portNameProblem(name) && !taken.has(name)) return name;
  }
  let i = 2;
  while (taken.has(`p${m.target}-${i}`)) i++;
  return `p${m.target}-${i}`;
}

export interface ImportResult {
  readonly spec: RegistrySpec;
  /** Problems of the compose file itself (unparseable port entries), by service. */
  readonly notes: string[];
}

/**
 * A starting registry from a docker-compose file: one service per compose service with its
 * published ports (explicit), container ports where they differ, `kind` from well-known
 * images, connections from `depends_on`, and services that publish a port and that nothing
 * depends on marked public. Pure: the caller reads and writes files.
 */
export function registryFromCompose(text: string, name: string): ImportResult {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length) throw new Error(`not valid YAML: ${doc.errors[0].message.split('\n')[0]}`);
  const data = doc.toJS({ maxAliasCount: 100 }) as { services?: Record<string, Record<string, unknown>> } | null;
  if (!data || typeof data.services !== 'object' || data.services === null) throw new Error('no services map: is this a docker-compose file?');
  const notes: string[] = [];
  const services: Record<string, ServiceSpec> = {};
  const dependedOn = new Set<string>();
  for (const svc of Object.values(data.services)) {
    const deps = svc?.depends_on;
    for (const d of Array.isArray(deps) ? deps : deps && typeof deps === 'object' ? Object.keys(deps) : []) dependedOn.add(String(d));
  }
  for (const [serviceName, svc] of Object.entries(data.services)) {
    const ports: Record<string, PortSpec> = {};
    const taken = new Set<string>();
    for (const entry of (Array.isArray(svc?.ports) ? svc.ports : []) as unknown[]) {
      let mappings: PortMapping[];
      try {
        mappings = parsePortEntry(entry);
      } catch (e) {
        notes.push(`${serviceName}: ${(e as Error).message}`);
        continue;
      }
      const explicit = entry && typeof entry === 'object' ? ((entry as Record<string, unknown>).name ?? (entry as Record<string, unknown>)['x-name']) as string | undefined : undefined;
      for (const m of mappings) {
        if (m.published === undefined) {
          notes.push(`${serviceName}: container port ${m.target} is not published; left out`);
          continue;
        }
        const key = portName(m, explicit, taken);
        taken.add(key);
        ports[key] = {
          port: m.published,
          ...(m.target !== m.published ? { targetPort: m.target } : {}),
          ...(m.protocol !== 'tcp' ? { protocol: m.protocol.toUpperCase() as PortSpec['protocol'] } : {}),
          ...(m.hostIp ? { hostIp: m.hostIp } : {}),
        };
      }
    }
    if (Object.keys(ports).length === 0) {
      notes.push(`${serviceName}: publishes no port; left out`);
      continue;
    }
    const image = typeof svc?.image === 'string' ? svc.image : undefined;
    const kind = kindOf(image);
    services[serviceName] = {
      ...(kind ? { kind } : {}),
      ...(image ? { image } : {}),
      ...(!dependedOn.has(serviceName) ? { public: true } : {}),
      ports,
    };
  }
  for (const [serviceName, svc] of Object.entries(data.services)) {
    if (!services[serviceName]) continue;
    const deps = svc?.depends_on;
    const list = Array.isArray(deps) ? deps.map(String) : deps && typeof deps === 'object' ? Object.keys(deps) : [];
    const connections = list.filter(d => services[d]).map(d => ({ to: d, port: Object.keys(services[d].ports)[0] }));
    if (connections.length) services[serviceName].connectsTo = connections;
  }
  return { spec: { name, environments: { development: {} }, services }, notes };
}

export function registryYaml(spec: RegistrySpec, source: string): string {
  return `# A starting registry imported by cdk8s-ports from ${source}.\n` +
    '# Review it: give the environment a band (range), name real connections, then run `cdk8s-ports check`.\n' +
    stringify(spec);
}
