import { portNameProblem } from '../rules/names';

/**
 * The `ports` entries of a docker-compose service, short and long syntax, as data.
 * Short syntax: `[HOST_IP:][PUBLISHED[-END]:]TARGET[-END][/PROTOCOL]`, IPv6 host addresses in
 * brackets. A range expands to one mapping per port.
 */
export interface PortMapping {
  /** Host port; undefined when the container port is not published. */
  readonly published?: number;
  readonly target: number;
  readonly protocol: 'tcp' | 'udp' | 'sctp';
  readonly hostIp?: string;
  /** Set when the container port is a compose variable without a default (`8080:${APP_PORT}`): `target` is 0 then, and the port is unknown. */
  readonly targetVariable?: string;
}

function range(text: string, what: string, entry: string): number[] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text);
  if (!m) throw new Error(`"${entry}": ${what} "${text}" is not a port or port range`);
  const start = Number(m[1]);
  const end = m[2] !== undefined ? Number(m[2]) : start;
  if (end < start || end - start > 65535) throw new Error(`"${entry}": ${what} range ${text} is reversed or too long`);
  return Array.from({ length: end - start + 1 }, (_, i) => start + i);
}

function protocolOf(text: string | undefined, entry: string): PortMapping['protocol'] {
  const p = (text ?? 'tcp').toLowerCase();
  if (p !== 'tcp' && p !== 'udp' && p !== 'sctp') throw new Error(`"${entry}": protocol "${text}" is not tcp, udp or sctp`);
  return p;
}

export function parseShortPort(entry: string | number): PortMapping[] {
  const text = String(entry).trim();
  const [spec, proto, ...more] = text.split('/');
  if (more.length) throw new Error(`"${text}" names more than one protocol; a mapping has one (write one entry per protocol)`);
  const protocol = protocolOf(proto, text);
  let hostIp: string | undefined;
  let rest = spec;
  const v6 = /^\[([^\]]+)\]:(.*)$/.exec(rest);
  if (v6) {
    hostIp = v6[1];
    rest = v6[2];
  }
  const parts = rest.split(':');
  if (!v6 && parts.length === 3) hostIp = parts.shift();
  if (parts.length > 2) throw new Error(`"${text}" is not a port mapping`);
  const targets = range(parts[parts.length - 1], 'container port', text);
  if (parts.length === 1 || parts[0] === '') {
    return targets.map(target => ({ target, protocol, ...(hostIp ? { hostIp } : {}) }));
  }
  const published = range(parts[0], 'published port', text);
  if (published.length !== targets.length && published.length !== 1) {
    throw new Error(`"${text}": the published and container ranges differ in length`);
  }
  return targets.map((target, i) => ({ published: published.length === 1 ? published[0] : published[i], target, protocol, ...(hostIp ? { hostIp } : {}) }));
}

/**
 * A short-syntax entry with its compose variables (`${PORT:-8080}:80`) replaced by their defaults,
 * as `docker-compose config` reads it without the variables set, and the first variable without a
 * default (whose value only the environment knows), if any.
 */
export function withVariableDefaults(entry: string): { text: string; missing?: string } {
  let missing: string | undefined;
  const text = entry.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (whole, name, op, value, bare) => {
    if (whole === '$$') return '$';
    if (op === '-' || op === ':-') return value;
    missing ??= name ?? bare;
    return whole;
  });
  return missing === undefined ? { text } : { text, missing };
}

/**
 * The mappings of a short-syntax entry whose container port alone is a compose variable without a
 * default (`"${WEB_PORT:-8080}:${APP_PORT}"`): the published port is known, the container port is
 * not (`targetVariable`). Undefined for any other entry.
 */
export function unknownTargetMappings(entry: string): PortMapping[] | undefined {
  const m = /^(.*):(\$\{[A-Za-z_][A-Za-z0-9_]*\}|\$[A-Za-z_][A-Za-z0-9_]*)(\/[A-Za-z]+)?$/.exec(entry.trim());
  if (!m) return undefined;
  const head = withVariableDefaults(m[1]);
  if (head.missing !== undefined || head.text.includes('$')) return undefined;
  const mappings = parseShortPort(`${head.text}:0${m[3] ?? ''}`);
  return mappings.length === 1 && mappings[0].published !== undefined ? [{ ...mappings[0], targetVariable: m[2] }] : undefined;
}

export function parsePortEntry(entry: unknown): PortMapping[] {
  if (typeof entry === 'string' || typeof entry === 'number') return parseShortPort(entry);
  if (entry && typeof entry === 'object') {
    const e = entry as { target?: unknown; published?: unknown; protocol?: unknown; host_ip?: unknown };
    const target = Number(e.target);
    if (!Number.isInteger(target)) throw new Error(`a long-syntax port has no integer target (${JSON.stringify(entry)})`);
    const protocol = protocolOf(typeof e.protocol === 'string' ? e.protocol : undefined, JSON.stringify(entry));
    const hostIp = typeof e.host_ip === 'string' ? e.host_ip : undefined;
    if (e.published === undefined || e.published === null || e.published === '') return [{ target, protocol, ...(hostIp ? { hostIp } : {}) }];
    const published = range(String(e.published), 'published port', JSON.stringify(entry));
    return published.map(p => ({ published: p, target, protocol, ...(hostIp ? { hostIp } : {}) }));
  }
  throw new Error(`${JSON.stringify(entry)} is not a port entry`);
}

/** The name a server of this kind gives its main port. */
const KIND_PORT: Record<string, string> = {
  postgres: 'postgres', redis: 'redis', mysql: 'mysql', mongodb: 'mongodb', rabbitmq: 'amqp', kafka: 'kafka',
  memcached: 'memcached', elasticsearch: 'http', grafana: 'http', minio: 'http',
};
/** Container ports that web servers and dev servers listen on. */
const WEB_PORTS = new Set([80, 3000, 4000, 4200, 5000, 5173, 8000, 8080, 8081, 8888, 9000]);
const TLS_PORTS = new Set([443, 8443]);

/**
 * A port's name: the one the compose file gives, else what the service is (its kind's port name,
 * `http`/`https` for a web port), else protocol and number (`tcp-7000`). IANA's registered names
 * (`www-http`, `remoteware-cl`) say little about the service; they are kept as comments.
 */
export function portName(m: PortMapping, explicit: string | undefined, kind: string | undefined, taken: Set<string>): string {
  const first = taken.size === 0;
  const web = m.protocol === 'tcp' && (WEB_PORTS.has(m.target) ? 'http' : TLS_PORTS.has(m.target) ? 'https' : undefined);
  const candidates = [explicit, first && kind ? KIND_PORT[kind] : undefined, web || undefined, `${m.protocol}-${m.target}`];
  for (const c of candidates) {
    if (!c) continue;
    const name = c.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-+/g, '-').replace(/^-|-$/g, '').slice(0, 15).replace(/-$/, '');
    if (name && !portNameProblem(name) && !taken.has(name)) return name;
  }
  let i = 2;
  while (taken.has(`p${m.target}-${i}`)) i++;
  return `p${m.target}-${i}`;
}
