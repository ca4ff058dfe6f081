/**
 * Connections across registries resolved together (the registries of one app, or the files of one
 * `cdk8s-ports check a.yaml b.yaml`): `connectsTo: [{ to: api, registry: shop }]`, or
 * `pay.connectsTo(api)` in code when `api` belongs to another registry.
 *
 * Each side keeps to its own namespaces: the client's registry gets the connection (its egress
 * policy, its `<TARGET>_HOST/_PORT/_URL` variables, a row in its documents), the target's registry
 * gets an inbound connection (the ingress policy that admits the client's pods from the client's
 * namespace). Both are resolved here, once every registry is allocated, with the findings of the
 * references that do not resolve.
 */
import { Finding, finding } from '../model/finding';
import { Environment, envVarStem, isDeployed, ownEntry, presentIn } from '../model/normalize';
import { podSelectorOf } from '../model/labels';
import type { Allocation, InboundConnection, ResolvedConnection } from '../model/resolved';
import type { Connection, RegistrySpec, ServiceSpec } from '../model/schema';
import { oneOf } from '../model/suggest';

/** What a registry has resolved before its peers are known. */
export interface PeerView {
  readonly spec: RegistrySpec;
  readonly environments: readonly Environment[];
  readonly allocations: readonly Allocation[];
}

/** Per registry name: the connections it makes to peers, the ones into it, and the findings of its references. */
export interface PeerResolution {
  readonly connections: Map<string, ResolvedConnection[]>;
  readonly inbound: Map<string, InboundConnection[]>;
  readonly findings: Map<string, Finding[]>;
}

/** Whether `c` names a registry other than its own (`own`): a peer connection. */
export function isPeerConnection(c: Pick<Connection, 'registry'>, own: string): boolean {
  return c.registry !== undefined && c.registry !== own;
}

/**
 * The registry as the rules of one registry see it: without its connections to other registries,
 * which are checked here, with the registries they name. The same object when it has none.
 */
export function withoutPeerConnections(spec: RegistrySpec): RegistrySpec {
  const services = spec.services ?? {};
  let changed: Record<string, ServiceSpec> | undefined;
  for (const name in services) {
    const list = services[name].connectsTo;
    if (!list?.some(c => isPeerConnection(c, spec.name))) continue;
    changed ??= { ...services };
    changed[name] = { ...services[name], connectsTo: list.filter(c => !isPeerConnection(c, spec.name)) };
  }
  return changed ? { ...spec, services: changed } : spec;
}

function onlyPort(ports: Record<string, unknown>): string | undefined {
  const names = Object.keys(ports);
  return names.length === 1 ? names[0] : undefined;
}

function push<V>(map: Map<string, V[]>, key: string, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/**
 * Resolves every peer connection of `registries` against the others. A connection to one of
 * `unresolved` (registries read with it whose own errors stop them) is left to those errors.
 */
export function peerConnections(registries: readonly PeerView[], unresolved: ReadonlySet<string> = new Set()): PeerResolution {
  const out: PeerResolution = { connections: new Map(), inbound: new Map(), findings: new Map() };
  const byName = new Map(registries.map(r => [r.spec.name, r]));
  for (const r of registries) {
    const registry = r.spec.name;
    const services = r.spec.services ?? {};
    for (const from of Object.keys(services)) {
      const svc = services[from];
      // Targets of one name in two registries would write the same <TARGET>_HOST/_PORT/_URL.
      const owners = new Map<string, string>();
      (svc.connectsTo ?? []).forEach((c, i) => {
        const owner = isPeerConnection(c, registry) ? c.registry! : registry;
        const first = owners.get(c.to);
        if (first === undefined) owners.set(c.to, owner);
        else if (first !== owner) {
          push(out.findings, registry, finding('env-var-collision', `${from} connects to ${c.to} of ${first} and to ${c.to} of ${owner}: both would be its ${envVarStem(c.to)}_HOST, _PORT and _URL`,
            { registry, service: from, other: `${owner}/${c.to}`, path: `services.${from}.connectsTo[${i}]` },
            `connect ${from} to one of them, or rename one of the two services`));
        }
      });
      (svc.connectsTo ?? []).forEach((c, i) => {
        if (!isPeerConnection(c, registry)) return;
        const path = `services.${from}.connectsTo[${i}]`;
        const problem = (f: Finding) => push(out.findings, registry, f);
        const peer = byName.get(c.registry!);
        if (!peer && unresolved.has(c.registry!)) return;
        if (!peer) {
          const others = [...byName.keys()].filter(n => n !== registry);
          problem(finding('unknown-registry', `${from} connects to ${c.to} of registry "${c.registry}", which is not resolved together with ${registry}` +
            (others.length ? ` (resolved with it: ${others.join(', ')})` : ' (it is resolved alone)'),
          { registry, service: from, other: `${c.registry}/${c.to}`, path: `${path}.registry` },
          `declare registry ${c.registry} in the same cdk8s app, or check the files together (cdk8s-ports check <${registry}>.yaml <${c.registry}>.yaml)` +
            (others.length ? `; ${oneOf(c.registry!, others, 'registries')}` : '')));
          return;
        }
        const target = ownEntry(peer.spec.services ?? {}, c.to);
        if (!target) {
          problem(finding('unknown-service', `${from} connects to "${c.to}" of registry ${peer.spec.name}, which declares no such service`,
            { registry, service: from, other: `${peer.spec.name}/${c.to}`, path }, oneOf(c.to, Object.keys(peer.spec.services ?? {}), `services of ${peer.spec.name}`)));
          return;
        }
        const portNames = Object.keys(target.ports ?? {});
        const portName = c.port ?? onlyPort(target.ports ?? {});
        if (portName === undefined || !portNames.includes(portName)) {
          const what = c.port === undefined ? `names no port and ${c.to} has ${portNames.length} ports` : `names port "${c.port}", which ${c.to} does not declare`;
          problem(finding('unknown-port', `the connection from ${from} to ${peer.spec.name}/${c.to} ${what}`,
            { registry, service: from, other: `${peer.spec.name}/${c.to}`, ...(c.port ? { portName: c.port } : {}), path },
            `name one of ${c.to}'s ports: ${portNames.join(', ') || '(none)'}`));
          return;
        }
        if (!isDeployed(target.status)) {
          problem(finding('inactive-target', `${from} connects to ${peer.spec.name}/${c.to}, which is ${target.status} and not deployed`,
            { registry, service: from, other: `${peer.spec.name}/${c.to}`, path }, `drop the connection, or make ${c.to} active in ${peer.spec.name}`));
        }
        const peerEnvs = new Map(peer.environments.map(e => [e.name, e]));
        const targetIn = new Set(presentIn(target, peer.environments).map(e => e.name));
        const missing: string[] = [];
        for (const env of presentIn(svc, r.environments)) {
          const targetEnvironment = c.environment ?? env.name;
          const targetEnv = peerEnvs.get(targetEnvironment);
          if (!targetEnv) {
            missing.push(targetEnvironment);
            continue;
          }
          // Where the target does not run, there is nothing to reach (as within one registry).
          if (!targetIn.has(targetEnvironment)) continue;
          const allocation = peer.allocations.find(a => a.environment === targetEnvironment && a.service === c.to && a.portName === portName && a.of === 'service');
          if (!allocation) continue;
          if (targetEnv.kind !== env.kind) {
            problem(finding('cross-environment', `${from} in ${env.name} (${env.kind}) connects to ${peer.spec.name}/${c.to} in ${targetEnvironment} (${targetEnv.kind})`,
              { registry, service: from, environment: env.name, other: `${peer.spec.name}/${c.to}`, path },
              'connect to the environment of the same kind, or waive the finding if the path is deliberate'));
          }
          push(out.connections, registry, {
            environment: env.name, from, to: c.to, portName, targetEnvironment, targetKind: 'service',
            ...(c.env ? { env: c.env } : {}), ...(c.url ? { url: c.url } : {}),
            peer: {
              registry: peer.spec.name, allocation, selector: podSelectorOf(c.to, target),
              ...(target.host ? { host: target.host } : {}), ...(target.url ? { url: target.url } : {}),
            },
          });
          push(out.inbound, peer.spec.name, {
            environment: targetEnvironment, to: c.to, portName, fromRegistry: registry, from, fromEnvironment: env.name,
            fromNamespace: env.namespace, fromSelector: podSelectorOf(from, svc),
          });
        }
        if (missing.length) {
          const list = [...new Set(missing)];
          problem(finding('unknown-environment', `${from} connects to ${peer.spec.name}/${c.to} in ${list.join(', ')}, but registry ${peer.spec.name} has no environment ${list.join(' or ')}`,
            { registry, service: from, environment: list[0], other: `${peer.spec.name}/${c.to}`, path },
            `name the environment of ${peer.spec.name} to reach (environment: ${peer.environments.map(e => e.name).join(' | ') || '…'}), or limit ${from} to the environments both registries have (environments: [...])`));
        }
      });
    }
  }
  return out;
}
