/**
 * Every value that reaches an output has the form that output needs: the registry's name (labels,
 * file headers), hosts (URLs in `.env` and compose), host addresses, images, label selectors,
 * category names, and free text without control characters (which would start a new line in an
 * `.env` file, a Nix file or a Markdown table). The emitters escape for their format anyway; this
 * rule makes a bad value an error that names it instead of something the output quietly carries.
 */
import { isIP } from 'net';
import { Finding, finding } from '../model/finding';
import { codePoint, unsafeCharacter } from '../model/text';
import { Environment, envVarStem, isInternalIn } from '../model/normalize';
import type { ExternalSpec, PortSpec, RegistrySpec, ServiceSpec } from '../model/schema';
import { UnknownTarget, containerPortFindings, hasUnknownTarget } from './container-port';
import type { Walk } from './rule';

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** A compose value with its variables replaced by their defaults (`${V:-17}` -> 17), and by a placeholder where there is none. */
export function withComposeDefaults(text: string): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?(?::?\?[^}]*)?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_all, _name, value) => value ?? 'x');
}

// registry[:port]/path/name[:tag][@digest], lowercase path components as Docker requires.
const IMAGE = /^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

/** The value as JSON on one line: JSON leaves U+2028, U+2029, C1 controls and bidirectional controls raw, and they break or reorder lines in editors and terminals. */
const quoted = (value: unknown) => JSON.stringify(value).replace(/[\u0080-\u009f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufdd0-\ufdef\ufffe\uffff]/g,
  c => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** Why `key` is not a Kubernetes label key (`[prefix/]name`), or undefined. */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = key.slice(slash + 1);
  if (prefix !== undefined && (prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix))) return 'has a prefix that is not a DNS subdomain';
  if (name.length === 0 || name.length > 63 || !LABEL_VALUE.test(name)) return 'is not a label name (at most 63 letters, digits, "-", "_" and ".", starting and ending alphanumeric)';
  return undefined;
}

/** Why `value` is not a Kubernetes label value, or undefined. */
export function labelValueProblem(value: string): string | undefined {
  return value.length > 63 || !LABEL_VALUE.test(value) ? 'is not a label value (at most 63 letters, digits, "-", "_" and ".", starting and ending alphanumeric)' : undefined;
}

/** Why `host` is neither a DNS name nor an IP address, or undefined. */
export function hostProblem(host: string): string | undefined {
  if (host.includes('%')) return 'has a zone (%…), which no URL or address in the outputs can carry';
  if (isIP(host)) return undefined;
  // `010.0.0.1` or `10.1` is no IPv4 address, and resolvers read such names as addresses (in octal, or with parts left out).
  if (/^[0-9.]+$/.test(host)) return 'looks like an IPv4 address but is not one (four decimal numbers 0-255, without leading zeros)';
  return host.length <= 253 && DNS1123_SUBDOMAIN.test(host) ? undefined : 'is neither a DNS name (lowercase letters, digits, "-" and ".") nor an IP address';
}

/**
 * Variables a chosen `env` name may not be: the ones the shell, the dynamic linker, language
 * runtimes and compose give a meaning of their own. Sourced from a `.env` file (`PATH=8110`,
 * `LD_PRELOAD=…`) or set in a container, they would change what every program there does;
 * `PORT` and `PORT_<NAME>` are what compose already gives each container for its own ports.
 */
const RESERVED_VARIABLES = /^(PATH|HOME|USER|LOGNAME|SHELL|PWD|OLDPWD|IFS|ENV|BASH_ENV|CDPATH|PS[1-4]|TERM|TZ|LANG|LANGUAGE|LC_[A-Z_]+|TMPDIR|HOSTNAME|MAIL|OPTIND|OPTARG|LD_[A-Z_]+|DYLD_[A-Z_]+|NODE_OPTIONS|NODE_PATH|PYTHONPATH|PYTHONHOME|PYTHONSTARTUP|PERL5LIB|PERL5OPT|RUBYOPT|RUBYLIB|JAVA_TOOL_OPTIONS|_JAVA_OPTIONS|JDK_JAVA_OPTIONS|CLASSPATH|GCONV_PATH|MALLOC_[A-Z_]+|SSL_CERT_FILE|SSL_CERT_DIR|HTTP_PROXY|HTTPS_PROXY|NO_PROXY|ALL_PROXY|PORT|PORT_[A-Z0-9_]+)$/;

/** The most bytes of annotations (keys and values) the API server accepts on one object. */
const ANNOTATIONS_LIMIT = 256 * 1024;

/** Namespaces the cluster keeps for itself. */
const RESERVED_NAMESPACES = new Set(['default', 'kube-system', 'kube-public', 'kube-node-lease']);

/** The findings of one run, with the checks every value shares. */
interface Report {
  readonly registry: string;
  readonly out: Finding[];
  /** An `invalid-value` finding: `<what> <value> <problem>`. */
  bad(path: string, what: string, value: unknown, problem: string, fix: string, service?: string): void;
  /** Free text, read by every output it reaches (lib/model/text.ts): one line, nothing invisible. */
  text(path: string, what: string, value: string | undefined, service?: string): void;
  /** Label selectors: never empty, keys and values as Kubernetes has them. */
  selector(path: string, what: string, labels: Record<string, string> | undefined, service: string): void;
  /** The service ports met that say their container port is unknown (rule container-port-unknown, after the walk). */
  readonly unknownTargets: UnknownTarget[];
}

function report(registry: string): Report {
  const out: Finding[] = [];
  const bad: Report['bad'] = (path, what, value, problem, fix, service) =>
    out.push(finding('invalid-value', `${what} ${quoted(value)} ${problem}`, { registry, ...(service ? { service } : {}), path }, fix));
  const text: Report['text'] = (path, what, value, service) => {
    const c = value === undefined ? undefined : unsafeCharacter(value);
    if (c === undefined) return;
    if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(c)) {
      bad(path, what, value, 'contains a line break or control character', 'write it on one line, without control characters', service);
      return;
    }
    const kind = /[\ud800-\udfff]/.test(c) ? 'a lone surrogate' : /[\ufdd0-\uffff]/.test(c) ? 'a noncharacter' : 'a bidirectional control';
    bad(path, what, value, `contains ${kind} (${codePoint(c)}), which would disguise or break the outputs it is written into`,
      kind === 'a bidirectional control' ? 'remove it: text that reads differently from what it holds is refused' : 'remove it: XML and UTF-8 files cannot hold it', service);
  };
  const selector: Report['selector'] = (path, what, labels, service) => {
    if (labels === undefined) return;
    const keys = Object.keys(labels);
    if (keys.length === 0) bad(path, what, labels, 'is empty, so it would select every pod of the namespace', 'give it at least one label, e.g. { app.kubernetes.io/name: <name> }', service);
    for (const key of keys) {
      const kp = labelKeyProblem(key);
      if (kp) bad(`${path}.${key}`, `the label key of ${what}`, key, kp, 'use a label key such as app.kubernetes.io/name', service);
      // (The schema has made every value a string.)
      const vp = labelValueProblem(labels[key]);
      if (vp) bad(`${path}.${key}`, `the label value of ${what}`, labels[key], vp, 'use a label value such as my-service', service);
    }
  };
  return { registry, out, bad, text, selector, unknownTargets: [] };
}

export const values: Walk = {
  id: 'values',
  run({ spec, index, environments, kubernetes, syntax }) {
    const r = report(spec.name);
    registryValues(r, spec, environments);
    for (let i = 0; i < index.services.length; i++) entryValues(r, index.serviceNames[i], index.services[i], 'services', environments);
    for (let i = 0; i < index.externals.length; i++) entryValues(r, index.externalNames[i], index.externals[i], 'externals', environments);
    r.out.push(...containerPortFindings(spec.name, r.unknownTargets, index, environments, kubernetes ?? true, syntax));
    return r.out;
  },
};

type Entry = ServiceSpec | ExternalSpec;
type AnyEntry = Entry & { host?: string; image?: string; selector?: Record<string, string>; podSelector?: Record<string, string>; namespace?: string; composeName?: string; healthCheck?: unknown };

/** What the registry itself says: its name, its environments' namespaces, free text of categories, waivers, avoided and de-facto ports. */
function registryValues(r: Report, spec: RegistrySpec, environments: readonly Environment[]): void {
  const { registry, out, bad, text } = r;
  if (registry.length > 63 || !DNS1123_LABEL.test(registry)) {
    bad('name', 'the registry name', registry, 'is not a DNS-1123 label (it is written into labels, file names and headers)',
      'use lowercase letters, digits and "-", at most 63 characters');
  }
  // Each environment in a namespace of its own, and never in one the cluster keeps for itself.
  const byNamespace = new Map<string, string>();
  for (const env of environments) {
    const other = byNamespace.get(env.namespace);
    if (other !== undefined) {
      out.push(finding('namespace-shared', `environments ${other} and ${env.name} are both in namespace ${env.namespace}: their objects would overwrite each other and their pods reach each other`,
        { registry, environment: env.name, other, path: `environments.${env.name}.namespace` }, `give ${env.name} a namespace of its own (namespace: ${registry}-${env.name})`));
    } else {
      byNamespace.set(env.namespace, env.name);
    }
    if (RESERVED_NAMESPACES.has(env.namespace)) {
      out.push(finding('namespace-name', `environment ${env.name} uses namespace ${env.namespace}, which the cluster keeps for itself: a default deny there would break the cluster (DNS, controllers)`,
        { registry, environment: env.name, path: `environments.${env.name}.namespace` }, `give ${env.name} a namespace of its own (namespace: ${registry}-${env.name})`));
    }
  }
  text('description', 'the description', spec.description);
  for (const [name, category] of Object.entries(spec.categories ?? {})) {
    if (name.length > 63 || !DNS1123_LABEL.test(name)) bad(`categories.${name}`, 'the category name', name, 'is not lowercase letters, digits and "-"', 'rename the category');
    text(`categories.${name}.description`, 'the description', category.description);
    text(`categories.${name}.owner`, 'the owner', category.owner);
  }
  (spec.waivers ?? []).forEach((w, i) => text(`waivers[${i}].reason`, 'the reason', w.reason));
  (spec.avoid?.ports ?? []).forEach((p, i) => { if (typeof p === 'object') text(`avoid.ports[${i}].reason`, `the reason for avoiding ${p.port}`, p.reason); });
  (spec.avoid?.ranges ?? []).forEach((x, i) => { if (!Array.isArray(x)) text(`avoid.ranges[${i}].reason`, 'the reason for avoiding the range', (x as { reason?: string }).reason); });
  if (spec.defactoPorts) {
    for (const [port, entry] of Object.entries(spec.defactoPorts)) if (entry) text(`defactoPorts.${port}.what`, `what de-facto port ${port} is`, entry.what);
  }
}

/** One service's or external's values: its text, addresses and names, then its wiring and ports. */
function entryValues(r: Report, name: string, e: Entry, kind: 'services' | 'externals', environments: readonly Environment[]): void {
  const { bad, text, selector } = r;
  const at = `${kind}.${name}`;
  const entry = e as AnyEntry;
  for (const field of ['description', 'owner', 'kind'] as const) text(`${at}.${field}`, `the ${field} of ${name}`, entry[field], name);
  (entry.groups ?? []).forEach((g, i) => text(`${at}.groups[${i}]`, `a group of ${name}`, g, name));
  // The API server refuses an object whose annotations exceed 256 KiB: a service's description and owner are annotations of its Service.
  if (kind === 'services') {
    const bytes = (['description', 'owner'] as const).reduce((n, f) => n + Buffer.byteLength(entry[f] ?? '', 'utf8') + `cdk8s-ports.io/${f}`.length, 0);
    if (bytes > ANNOTATIONS_LIMIT) {
      bad(`${at}.description`, `the description and owner of ${name}`, `${bytes} bytes`, `exceed the ${ANNOTATIONS_LIMIT / 1024} KiB the API server allows for an object's annotations (they are annotations of its Service)`,
        'shorten the description: link to the full text instead', name);
    }
  }
  if (typeof entry.healthCheck === 'string') text(`${at}.healthCheck`, `the health check of ${name}`, entry.healthCheck, name);
  else if (entry.healthCheck && typeof entry.healthCheck === 'object') {
    for (const field of ['path', 'port', 'command'] as const) {
      text(`${at}.healthCheck.${field}`, `the health check ${field} of ${name}`, (entry.healthCheck as Record<string, string | undefined>)[field], name);
    }
  }
  if (entry.host !== undefined) {
    const hp = hostProblem(entry.host);
    if (hp) bad(`${at}.host`, `the host of ${name}`, entry.host, hp, 'use a DNS name such as db.internal or an address such as 10.0.0.5', name);
  }
  const hostname = (entry as { hostname?: string }).hostname;
  if (hostname !== undefined && (hostname.length > 253 || !DNS1123_SUBDOMAIN.test(hostname))) {
    bad(`${at}.hostname`, `the hostname of ${name}`, hostname, 'is not a DNS name (lowercase letters, digits, "-" and ".")', 'use the public name, e.g. git.example.com', name);
  }
  // Compose reads `${VAR:-default}` in an image (`postgres:${PG_VERSION:-17}`): the reference is checked with the defaults.
  if (entry.image !== undefined && !IMAGE.test(withComposeDefaults(entry.image))) {
    bad(`${at}.image`, `the image of ${name}`, entry.image, 'is not an image reference', 'use registry/name:tag, e.g. postgres:16 or ghcr.io/acme/api:1.4', name);
  }
  if (entry.composeName !== undefined && !/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(entry.composeName)) {
    bad(`${at}.composeName`, `the compose name of ${name}`, entry.composeName, 'is not a compose service name', 'use letters, digits, "_", "." and "-"', name);
  }
  if (entry.namespace !== undefined && (entry.namespace.length > 63 || !DNS1123_LABEL.test(entry.namespace))) {
    bad(`${at}.namespace`, `the namespace of ${name}`, entry.namespace, 'is not a DNS-1123 label', 'use the namespace\'s name', name);
  }
  // URL text reaches .env, compose and the kubelet's env: escaped for each, but never invisible or multi-line.
  const url = (path: string, spec: { path?: string; suffix?: string } | undefined) => {
    if (!spec) return;
    text(`${path}.path`, `the URL path of ${name}`, spec.path, name);
    text(`${path}.suffix`, `the URL suffix of ${name}`, spec.suffix, name);
  };
  url(`${at}.url`, (entry as { url?: { path?: string; suffix?: string } }).url);
  (entry as { connectsTo?: Array<{ url?: { path?: string; suffix?: string } }> }).connectsTo?.forEach((c, i) => url(`${at}.connectsTo[${i}].url`, c.url));
  selector(`${at}.selector`, `the selector of ${name}`, entry.selector, name);
  selector(`${at}.podSelector`, `the podSelector of ${name}`, entry.podSelector, name);
  entryWiring(r, name, at, entry, environments);
}

/** A variable name of the entry's: none the shell, the system or compose already gives a meaning. */
function variableValue(r: Report, name: string, path: string, env: string | undefined, owner: string): void {
  if (env !== undefined && RESERVED_VARIABLES.test(env)) {
    r.bad(path, `the variable name of ${owner}`, env, 'is a variable the shell, the system or compose already gives a meaning (every program that reads the .env file or runs in the container would get the port instead)',
      `choose a name of its own, such as ${envVarStem(name)}_${env.toUpperCase().replace(/^_+/, '')}`, name);
  }
}

/** The entry's connection variables, its health check's port, and each port's variable, host address and internal state. */
function entryWiring(r: Report, name: string, at: string, entry: AnyEntry, environments: readonly Environment[]): void {
  const { registry, out } = r;
  (entry as { connectsTo?: Array<{ to: string; env?: string }> }).connectsTo?.forEach((c, i) => variableValue(r, name, `${at}.connectsTo[${i}].env`, c.env, `the connection from ${name} to ${c.to}`));
  if (entry.healthCheck && typeof entry.healthCheck === 'object') {
    const port = (entry.healthCheck as { port?: string }).port;
    const path = (entry.healthCheck as { path?: string }).path;
    if (port === undefined && path !== undefined && Object.keys(entry.ports).length > 1) {
      out.push(finding('unknown-port', `the health check of ${name} gives a path but no port, and ${name} has ${Object.keys(entry.ports).length} ports, so no readiness probe would be written`,
        { registry, service: name, path: `${at}.healthCheck` }, `name the port it answers on: healthCheck: { path: ${path}, port: ${Object.keys(entry.ports)[0]} }`));
    }
    if (port !== undefined && !Object.prototype.hasOwnProperty.call(entry.ports, port)) {
      out.push(finding('unknown-port', `the health check of ${name} names port ${quoted(port)}, which ${name} does not declare, so no readiness probe would be written`,
        { registry, service: name, path: `${at}.healthCheck.port` }, `use one of its ports: ${Object.keys(entry.ports).join(', ')}`));
    }
  }
  for (const portName in entry.ports) {
    const p = (entry.ports as Record<string, PortFields>)[portName];
    portValues(r, name, at, portName, p, environments);
    if (p.targetPort !== undefined && at.startsWith('services.') && hasUnknownTarget(p)) {
      r.unknownTargets.push({ service: name, portName, entry: entry as ServiceSpec, port: p as PortSpec });
    }
  }
}

type PortFields = { env?: string; hostIp?: string; internal?: boolean | string[]; nodePort?: number | Record<string, number>; targetPort?: unknown };

/** One port's variable and host address; an internal port publishes nothing (no NodePort, no host address) where it is internal. */
function portValues(r: Report, name: string, at: string, portName: string, p: PortFields, environments: readonly Environment[]): void {
  const { registry, out, bad } = r;
  variableValue(r, name, `${at}.ports.${portName}.env`, p.env, `${name}.${portName}`);
  const hostIp = p.hostIp;
  if (hostIp !== undefined && (!isIP(hostIp) || hostIp.includes('%'))) bad(`${at}.ports.${portName}.hostIp`, `the hostIp of ${name}.${portName}`, hostIp, 'is not an IP address', 'use an address such as 127.0.0.1', name);
  if (p.internal === undefined || p.internal === false) return;
  const where = (env: string) => (p.internal === true ? '' : ` in ${env}`);
  for (const env of environments) {
    if (!isInternalIn(p, env.name)) continue;
    const nodePort = p.nodePort === undefined ? undefined : typeof p.nodePort === 'number' ? p.nodePort : p.nodePort[env.name];
    if (nodePort !== undefined) {
      out.push(finding('invalid-value', `${name}.${portName} is internal${where(env.name)} but has NodePort ${nodePort}, which publishes it on every node`,
        { registry, service: name, portName, environment: env.name, port: nodePort, path: `${at}.ports.${portName}.nodePort` },
        `remove the nodePort, or publish the port there (drop ${env.name} from internal)`));
    }
    if (hostIp !== undefined) {
      out.push(finding('invalid-value', `${name}.${portName} is internal${where(env.name)} but binds host address ${hostIp}, which only a published port has`,
        { registry, service: name, portName, environment: env.name, path: `${at}.ports.${portName}.hostIp` },
        `remove the hostIp, or publish the port there (drop ${env.name} from internal)`));
    }
    if (p.internal === true) break;
  }
}
