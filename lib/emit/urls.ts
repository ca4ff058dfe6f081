/**
 * Connection settings, written once for every place a client reads them: compose overlays,
 * `.env` files and bound Kubernetes workloads. Only the address (who reaches whom where) and the
 * way a variable is referenced differ between them. Credentials are always references to
 * variables the user supplies, never values.
 */
import type { Allocation, ResolvedConnection, ResolvedRegistry } from '../model/resolved';
import { envVarStem } from '../model/normalize';
import type { UrlSpec } from '../model/schema';
import { ALIASES, schemeOf } from '../model/url-scheme';
import { lookup } from './lookup';

/** Where a client reaches a port. */
export interface Address {
  readonly host: string;
  readonly port: number;
}

/** How a variable is referenced where the URL is read. */
export type Reference = (variable: string) => string;
/** `${VAR}` (shell, `.env`). */
export const shellReference: Reference = v => `\${${v}}`;
/** `${VAR:?…}`: compose stops with a message when the variable is unset, instead of writing `postgres://:@host`. */
export const composeReference: Reference = v => `\${${v}:?${v}}`;
/** `$(VAR)`: Kubernetes expands it from a variable defined earlier in the container's env (e.g. from a Secret). */
export const kubernetesReference: Reference = v => `$(${v})`;

export { ALIASES, schemeOf } from '../model/url-scheme';

const VARIABLE = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/;

/** How URLs to `target` are written: the target's `url`, with the connection's own on top. */
export function urlSpecOf(resolved: ResolvedRegistry, target: string, connection?: { readonly url?: UrlSpec }): UrlSpec | undefined {
  const own = resolved.spec.services?.[target]?.url ?? resolved.spec.externals?.[target]?.url;
  return own || connection?.url ? { ...own, ...connection?.url } : undefined;
}

/**
 * A URL to `target` at `address`, or undefined when its scheme is unknown. A database gets
 * `${<TARGET>_USER}`, `${<TARGET>_PASSWORD}` and `/${<TARGET>_DB}` unless its `url` says otherwise.
 */
export function urlFor(target: string, allocation: Allocation, address: Address, url: UrlSpec = {}, reference: Reference = shellReference): string | undefined {
  const known = schemeOf(allocation.kind, allocation.appProtocol);
  const scheme = url.scheme ?? known;
  if (!scheme) return undefined;
  const stem = envVarStem(target);
  const database = known === 'postgres';
  const ref = (value: string | undefined, fallback: string | undefined) => {
    if (value === undefined) return fallback === undefined ? undefined : reference(fallback);
    const m = VARIABLE.exec(value);
    return m ? reference(m[1]) : value;
  };
  const user = ref(url.user, database ? `${stem}_USER` : undefined);
  const password = ref(url.password, database ? `${stem}_PASSWORD` : undefined);
  const credentials = user !== undefined || password !== undefined ? `${user ?? ''}${password !== undefined ? `:${password}` : ''}@` : '';
  const path = url.path ?? (database ? `/${reference(`${stem}_DB`)}` : '');
  return `${scheme}://${credentials}${address.host}:${address.port}${path}${url.suffix ?? ''}`;
}

/** The variables a URL refers to (for the `.env` files' notes). */
export function referencedVariables(url: string): string[] {
  return [...url.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map(m => m[1]);
}

/**
 * A client's connection settings in one environment: `<TARGET>_HOST`, `_PORT` and `_URL` (or the
 * connection's own `env` name) for each target, and DATABASE_URL / REDIS_URL where unambiguous.
 */
export function connectionVariables(resolved: ResolvedRegistry, environment: string, client: string,
  addressOf: (c: ResolvedConnection, a: Allocation) => Address | undefined, reference: Reference): Record<string, string> {
  const out: Record<string, string> = {};
  const index = lookup(resolved);
  const connections = index.connectionsFrom(environment, client);
  const portsPerTarget = new Map<string, number>();
  for (const c of connections) portsPerTarget.set(c.to, (portsPerTarget.get(c.to) ?? 0) + 1);
  const aliases = new Map<string, string[]>();
  for (const c of connections) {
    const a = index.allocation(c.targetEnvironment, c.to, c.portName);
    if (!a) continue;
    const address = addressOf(c, a);
    if (!address) continue;
    const stem = portsPerTarget.get(c.to)! > 1 ? envVarStem(c.to, c.portName) : envVarStem(c.to);
    out[`${stem}_HOST`] = address.host;
    out[`${stem}_PORT`] = String(address.port);
    const url = urlFor(c.to, a, address, urlSpecOf(resolved, c.to, c), reference);
    if (url) {
      out[c.env ?? `${stem}_URL`] = url;
      const alias = ALIASES[schemeOf(a.kind, a.appProtocol) ?? ''];
      if (alias) aliases.set(alias, [...(aliases.get(alias) ?? []), url]);
    }
  }
  for (const [alias, urls] of aliases) if (urls.length === 1) out[alias] = urls[0];
  return Object.fromEntries(Object.entries(out).sort(([x], [y]) => (x < y ? -1 : 1)));
}
