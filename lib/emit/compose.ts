import type { Allocation } from '../model/resolved';
import type { ResolvedConnection, ResolvedRegistry } from '../model/resolved';
import { Environment, envVarStem, isDeployed } from '../model/normalize';
import { lookup } from './lookup';
import { yamlText } from './yaml';

/**
 * docker-compose output. The base file lists every container the registry runs in every
 * environment (image only); one overlay per environment adds ports and the connection
 * settings. Compose appends `ports` lists across `-f` files, so only overlays carry ports.
 *
 * Addresses differ by where the caller is. Inside compose, a client reaches a dependency
 * by its service name and container (target) port; an external that compose does not run
 * (no `image`) is reached on the host, `host.docker.internal`, at its published port. From
 * the host (the .env files), everything is on `localhost` at its published port.
 */

export const DOCKER_HOST = 'host.docker.internal';

export interface Address {
  readonly host: string;
  readonly port: number;
}

type Scheme = 'postgres' | 'redis' | 'http' | 'https' | 'ws' | 'wss';

const SCHEMES: Record<string, Scheme> = {
  postgres: 'postgres', postgresql: 'postgres', redis: 'redis', valkey: 'redis',
  http: 'http', https: 'https', ws: 'ws', wss: 'wss', websocket: 'ws',
};

/** The URL scheme of a port: its appProtocol if known, else its kind. */
export function schemeOf(kind: string | undefined, appProtocol: string | undefined): Scheme | undefined {
  for (const k of [appProtocol, kind]) {
    const scheme = k ? SCHEMES[k.toLowerCase()] : undefined;
    if (scheme) return scheme;
  }
  return undefined;
}

/** A URL for a known kind; credentials are `${VARIABLE}` references the user supplies, never values. */
export function urlFor(target: string, allocation: Allocation, address: Address): string | undefined {
  const scheme = schemeOf(allocation.kind, allocation.appProtocol);
  const stem = envVarStem(target);
  switch (scheme) {
    case 'postgres': return `postgres://\${${stem}_USER}:\${${stem}_PASSWORD}@${address.host}:${address.port}/\${${stem}_DB}`;
    case 'redis': return `redis://${address.host}:${address.port}`;
    case undefined: return undefined;
    default: return `${scheme}://${address.host}:${address.port}`;
  }
}

export const ALIASES: Record<string, string> = { postgres: 'DATABASE_URL', redis: 'REDIS_URL' };

/** Does compose run this service or external (in `env`)? */
function composeRuns(resolved: ResolvedRegistry, name: string, env: string): boolean {
  const svc = resolved.spec.services?.[name];
  const ext = resolved.spec.externals?.[name];
  const present = lookup(resolved).allocationsOf(env, name).length > 0;
  if (svc) return present && isDeployed(svc.status);
  return present && !!ext?.image;
}

function imageOf(resolved: ResolvedRegistry, name: string): string {
  const image = resolved.spec.services?.[name]?.image ?? resolved.spec.externals?.[name]?.image;
  return image ?? `\${${envVarStem(name)}_IMAGE:-${resolved.spec.name}/${name}:latest}`;
}

/** Where a container of `clientEnv` reaches the target of `c`. */
export function composeAddress(resolved: ResolvedRegistry, c: ResolvedConnection, a: Allocation): Address {
  const ext = resolved.spec.externals?.[c.to];
  const sameProject = c.environment === c.targetEnvironment;
  if (sameProject && (!ext || ext.image)) return { host: c.to, port: a.targetPort };
  return { host: ext?.host ?? DOCKER_HOST, port: a.port };
}

function connectionSettings(resolved: ResolvedRegistry, env: Environment, client: string): { environment: Record<string, string>; needsHost: boolean } {
  const out: Record<string, string> = {};
  let needsHost = false;
  const index = lookup(resolved);
  const connections = index.connectionsFrom(env.name, client);
  const portsPerTarget = new Map<string, number>();
  for (const c of connections) portsPerTarget.set(c.to, (portsPerTarget.get(c.to) ?? 0) + 1);
  const aliasCount = new Map<string, number>();
  const aliasValue = new Map<string, string>();
  for (const c of connections) {
    const a = index.allocation(c.targetEnvironment, c.to, c.portName);
    if (!a) continue;
    const address = composeAddress(resolved, c, a);
    if (address.host === DOCKER_HOST) needsHost = true;
    const stem = portsPerTarget.get(c.to)! > 1 ? envVarStem(c.to, c.portName) : envVarStem(c.to);
    out[`${stem}_HOST`] = address.host;
    out[`${stem}_PORT`] = String(address.port);
    const url = urlFor(c.to, a, address);
    if (url) {
      out[`${stem}_URL`] = url;
      const alias = ALIASES[schemeOf(a.kind, a.appProtocol) ?? ''];
      if (alias) {
        aliasCount.set(alias, (aliasCount.get(alias) ?? 0) + 1);
        aliasValue.set(alias, url);
      }
    }
  }
  // DATABASE_URL and REDIS_URL only where they are unambiguous.
  for (const [alias, count] of aliasCount) if (count === 1) out[alias] = aliasValue.get(alias)!;
  return { environment: out, needsHost };
}

const sortKeys = (r: Record<string, string>) => Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : 1)));

function header(resolved: ResolvedRegistry, what: string): string {
  return `# Generated by cdk8s-ports from registry ${resolved.spec.name}: ${what}.\n# Do not edit: change the registry and synthesize again.\n`;
}

/** The base compose file and one overlay per environment: relative file name -> YAML text. */
export function composeFiles(resolved: ResolvedRegistry): Map<string, string> {
  const envNames = resolved.environments.map(e => e.name);
  const names = [...Object.keys(resolved.spec.services ?? {}), ...Object.keys(resolved.spec.externals ?? {})].sort();
  const everywhere = names.filter(n => envNames.every(e => composeRuns(resolved, n, e)));
  const inBase = new Set(everywhere);

  const files = new Map<string, string>();
  const base = { services: Object.fromEntries(everywhere.map(n => [n, { image: imageOf(resolved, n) }])) };
  files.set('docker-compose.yml', header(resolved, 'every container, without ports') +
    '# Run an environment with: docker-compose -f docker-compose.yml -f docker-compose.<environment>.yml up\n' + yamlText(base));

  const index = lookup(resolved);
  for (const env of resolved.environments) {
    const services: Record<string, unknown> = {};
    for (const name of names) {
      if (!composeRuns(resolved, name, env.name)) continue;
      const allocations = index.allocationsOf(env.name, name);
      const own: Record<string, string> = { PORT: String(allocations[0].targetPort) };
      if (allocations.length > 1) for (const a of allocations) own[`PORT_${envVarStem(a.portName)}`] = String(a.targetPort);
      const { environment, needsHost } = connectionSettings(resolved, env, name);
      services[name] = {
        ...(inBase.has(name) ? {} : { image: imageOf(resolved, name) }),
        ports: allocations.map(a => ({
          target: a.targetPort,
          published: a.port,
          protocol: a.protocol.toLowerCase(),
          ...(a.hostIp ? { host_ip: a.hostIp } : {}),
          // Compose v2 calls this `name`; docker-compose 1.29 and the compose JSON schema reject
          // that key but accept extensions, so the port name travels as `x-name`.
          'x-name': a.portName,
        })),
        environment: { ...own, ...sortKeys(environment) },
        ...(needsHost ? { extra_hosts: [`${DOCKER_HOST}:host-gateway`] } : {}),
      };
    }
    files.set(`docker-compose.${env.name}.yml`, header(resolved, `overlay for environment ${env.name}`) + yamlText({ services }));
  }
  return files;
}
