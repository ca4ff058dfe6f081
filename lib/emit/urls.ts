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

/**
 * How a value is written where it is read: a reference to a variable the reader expands, and text
 * that must reach the program as it is (a `$` in a URL path is a `$`, never an expansion).
 */
export interface Dialect {
  readonly reference: (variable: string) => string;
  readonly literal: (text: string) => string;
}
/** A value as parts: text to keep as it is, and variables to expand. */
export type Part = { readonly text: string } | { readonly variable: string };
/** `${VAR}` (shell, `.env`); text as it is (the `.env` writer quotes it, lib/emit/escape.ts). */
export const shellDialect: Dialect = { reference: v => `\${${v}}`, literal: t => t };
/** `${VAR:?…}`: compose stops with a message when the variable is unset, instead of writing `postgres://:@host`; a `$` of the text is `$$`, which compose does not interpolate. */
export const composeDialect: Dialect = { reference: v => `\${${v}:?${v}}`, literal: t => t.replace(/\$/g, '$$$$') };
/** `$(VAR)`: the kubelet expands it from a variable defined earlier in the container's env (e.g. from a Secret); a `$` of the text is `$$`, which it reads as one `$`. */
export const kubernetesDialect: Dialect = { reference: v => `$(${v})`, literal: t => t.replace(/\$/g, '$$$$') };

/** The parts as the dialect writes them. */
export function render(parts: readonly Part[], dialect: Dialect): string {
  return parts.map(p => ('variable' in p ? dialect.reference(p.variable) : dialect.literal(p.text))).join('');
}

export { ALIASES, schemeOf } from '../model/url-scheme';

const VARIABLE = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/;

/** How URLs to `target` are written: the target's `url`, with the connection's own on top. */
export function urlSpecOf(resolved: ResolvedRegistry, target: string, connection?: { readonly url?: UrlSpec; readonly peer?: ResolvedConnection['peer'] }): UrlSpec | undefined {
  const own = connection?.peer ? connection.peer.url : resolved.spec.services?.[target]?.url ?? resolved.spec.externals?.[target]?.url;
  return own || connection?.url ? { ...own, ...connection?.url } : undefined;
}

/**
 * A URL to `target` at `address`, as parts, or undefined when its scheme is unknown. A database
 * gets `${<TARGET>_USER}`, `${<TARGET>_PASSWORD}` and `/${<TARGET>_DB}` unless its `url` says
 * otherwise. Credentials are variables (the schema allows only `${VARIABLE}` there); the path and
 * the suffix are text, whatever they hold.
 */
export function urlParts(target: string, allocation: Allocation, address: Address, url: UrlSpec = {}): Part[] | undefined {
  const known = schemeOf(allocation.kind, allocation.appProtocol);
  const scheme = url.scheme ?? known;
  if (!scheme) return undefined;
  const stem = envVarStem(target);
  const database = known === 'postgres';
  const ref = (value: string | undefined, fallback: string | undefined): Part | undefined => {
    if (value === undefined) return fallback === undefined ? undefined : { variable: fallback };
    const m = VARIABLE.exec(value);
    return m ? { variable: m[1] } : { text: value };
  };
  const user = ref(url.user, database ? `${stem}_USER` : undefined);
  const password = ref(url.password, database ? `${stem}_PASSWORD` : undefined);
  const parts: Part[] = [{ text: `${scheme}://` }];
  if (user !== undefined || password !== undefined) {
    if (user) parts.push(user);
    if (password) parts.push({ text: ':' }, password);
    parts.push({ text: '@' });
  }
  // An IPv6 address in a URL is written in brackets (RFC 3986).
  parts.push({ text: `${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}` });
  if (url.path !== undefined) parts.push({ text: url.path });
  else if (database) parts.push({ text: '/' }, { variable: `${stem}_DB` });
  if (url.suffix) parts.push({ text: url.suffix });
  return parts;
}

/** {@link urlParts} written in a dialect. */
export function urlFor(target: string, allocation: Allocation, address: Address, url: UrlSpec = {}, dialect: Dialect = shellDialect): string | undefined {
  const parts = urlParts(target, allocation, address, url);
  return parts && render(parts, dialect);
}

/** The variables parts refer to (for the `.env` files' notes). */
export function referencedVariables(parts: readonly Part[]): string[] {
  return parts.flatMap(p => ('variable' in p ? [p.variable] : []));
}

/**
 * A client's connection settings in one environment: `<TARGET>_HOST`, `_PORT` and `_URL` (or the
 * connection's own `env` name) for each target, and DATABASE_URL / REDIS_URL where unambiguous.
 */
export function connectionVariables(resolved: ResolvedRegistry, environment: string, client: string,
  addressOf: (c: ResolvedConnection, a: Allocation) => Address | undefined, dialect: Dialect): Record<string, string> {
  const out: Record<string, string> = {};
  const index = lookup(resolved);
  const connections = index.connectionsFrom(environment, client);
  const portsPerTarget = new Map<string, number>();
  for (const c of connections) portsPerTarget.set(c.to, (portsPerTarget.get(c.to) ?? 0) + 1);
  const aliases = new Map<string, string[]>();
  for (const c of connections) {
    const a = index.target(c);
    if (!a) continue;
    const address = addressOf(c, a);
    if (!address) continue;
    const stem = portsPerTarget.get(c.to)! > 1 ? envVarStem(c.to, c.portName) : envVarStem(c.to);
    out[`${stem}_HOST`] = dialect.literal(address.host);
    out[`${stem}_PORT`] = String(address.port);
    const url = urlFor(c.to, a, address, urlSpecOf(resolved, c.to, c), dialect);
    if (url) {
      out[c.env ?? `${stem}_URL`] = url;
      const alias = ALIASES[schemeOf(a.kind, a.appProtocol) ?? ''];
      if (alias) aliases.set(alias, [...(aliases.get(alias) ?? []), url]);
    }
  }
  for (const [alias, urls] of aliases) if (urls.length === 1) out[alias] = urls[0];
  return Object.fromEntries(Object.entries(out).sort(([x], [y]) => (x < y ? -1 : 1)));
}
