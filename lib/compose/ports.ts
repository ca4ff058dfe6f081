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
