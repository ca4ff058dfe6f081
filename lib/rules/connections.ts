import { isIP } from 'net';
import * as ipaddr from 'ipaddr.js';
import { Finding, finding } from '../model/finding';
import { Environment, SpecIndex, indexSpec, isDeployed, isLocalOnly, ownEntry, presentIn } from '../model/normalize';
import type { RegistrySpec } from '../model/schema';
import { dns1123Problem } from './names';
import { connectionReferences } from './references';

/**
 * Why `cidr` is not an address block as the API server reads an ipBlock, or undefined when it is
 * one: an IPv4 or IPv6 address in its plain form (four decimal parts without leading zeros, or
 * IPv6 without a zone such as `%eth0`), a prefix of 0-32 or 0-128 written without a sign or leading
 * zero, and no address bits set beyond the prefix (`10.0.0.5/8` would silently admit all of
 * 10.0.0.0/8).
 */
export function cidrProblem(cidr: string): string | undefined {
  const [address, prefix, extra] = cidr.split('/');
  if (address.includes('%')) return 'has a zone (%…), which an address block cannot have';
  const family = isIP(address);
  if (!family || extra !== undefined || prefix === undefined || !/^(0|[1-9]\d{0,2})$/.test(prefix)) return 'is not ADDRESS/PREFIX';
  if (Number(prefix) > (family === 4 ? 32 : 128)) return `has a prefix longer than ${family === 4 ? 32 : 128}`;
  if (family === 6 && (ipaddr.parse(address) as ipaddr.IPv6).isIPv4MappedAddress()) {
    return `is an IPv4-mapped IPv6 block, which the API server does not match against IPv4 traffic; write the IPv4 block (${(ipaddr.parse(address) as ipaddr.IPv6).toIPv4Address().toString()}/${Math.max(0, Number(prefix) - 96)})`;
  }
  const network = (family === 4 ? ipaddr.IPv4 : ipaddr.IPv6).networkAddressFromCIDR(cidr).toString();
  if (ipaddr.parse(address).toString() !== network) {
    const single = `${address}/${family === 4 ? 32 : 128}`;
    return `has address bits set beyond its /${prefix} prefix, so it would admit all of ${network}/${prefix}; write ${network}/${prefix} for the block, or ${single} for the one address`;
  }
  return undefined;
}

/** Whether an (already valid) address block admits every address of its family. */
export function admitsEverything(cidr: string): boolean {
  return /\/0$/.test(cidr);
}

/** Rules whose findings are about Kubernetes objects only (NetworkPolicies, bound workloads). */
export const KUBERNETES_ONLY: ReadonlySet<string> = new Set(['no-policies', 'unreachable', 'external-unaddressed', 'external-no-host']);

/** What the connection rules share in one walk. */
interface ConnectionWalk {
  readonly registry: string;
  readonly spec: RegistrySpec;
  readonly envs: readonly Environment[];
  readonly index: SpecIndex;
  readonly syntax: 'code' | 'data';
  readonly out: { push(...fs: Finding[]): unknown };
  /** Namespace -> the environment of this registry in it. */
  readonly namespaces: ReadonlyMap<string, string>;
  /** Externals told they have no address, and `client\0external` pairs told there is no host: once each. */
  readonly unaddressed: Set<string>;
  readonly unhosted: Set<string>;
  readonly referenceRules?: ReturnType<typeof connectionReferences>;
}

/**
 * Rules about who talks to whom: what the NetworkPolicies are generated from. Given a
 * `references` list, the same walk over the connections also runs the reference rules for them
 * ({@link connectionReferences}) into that list.
 */
export function checkConnections(spec: RegistrySpec, envs: readonly Environment[], references?: Finding[], index: SpecIndex = indexSpec(spec),
  syntax: 'code' | 'data' = 'data', kubernetes = true): Finding[] {
  const all: Finding[] = [];
  // Rules about what the NetworkPolicies and bound workloads need apply only where Kubernetes output is produced.
  const out = kubernetes ? all : { push: (...fs: Finding[]) => all.push(...fs.filter(f => !KUBERNETES_ONLY.has(f.rule))) };
  const referenceRules = references ? connectionReferences(spec, envs, references) : undefined;
  const w: ConnectionWalk = { registry: spec.name, spec, envs, index, syntax, out, namespaces: new Map(envs.map(e => [e.namespace, e.name])),
    unaddressed: new Set(), unhosted: new Set(), ...(referenceRules ? { referenceRules } : {}) };
  const inbound = new Set<string>();
  for (let s = 0; s < index.services.length; s++) {
    const connections = index.services[s].connectsTo;
    if (!connections) continue;
    for (let i = 0; i < connections.length; i++) {
      inbound.add(connections[i].to);
      connectionFindings(w, s, i);
    }
  }
  // A registry that declares no connections and no public service does not use policies yet:
  // say so once, with how to start, instead of calling every service unreachable.
  const usesPolicies = inbound.size > 0 || index.services.some(svc => !!svc.public);
  const deployed = index.services.filter(svc => isDeployed(svc.status)).length;
  if (!usesPolicies && deployed > 0) {
    out.push(finding('no-policies', `${w.registry} declares no connections and no public service, so the NetworkPolicies it generates deny all traffic to its ${deployed} service${deployed === 1 ? '' : 's'}`,
      { registry: w.registry, path: 'services' }, syntax === 'code'
        ? 'declare who talks to whom (client.connectsTo(server, \'port\')) and what is reached from outside (public: true, or public: { namespaces: [\'ingress-nginx\'] })'
        : 'declare who talks to whom (connectsTo: [{ to: <server>, port: <port> }] under each client) and what is reached from outside (public: true, or public: { namespaces: [ingress-nginx] })'));
  }
  for (let s = 0; s < index.services.length; s++) reachFindings(w, s, usesPolicies, inbound);
  for (let x = 0; x < index.externals.length; x++) externalCidrFindings(w, x);
  return all;
}

/** Connection `i` of service `s`: its references, an inactive or unaddressed target, an external without host, a crossing. */
function connectionFindings(w: ConnectionWalk, s: number, i: number): void {
  const { registry, out, namespaces, unaddressed, unhosted } = w;
  const name = w.index.serviceNames[s];
  const c = w.index.services[s].connectsTo![i];
  const target = ownEntry(w.spec.services ?? {}, c.to);
  const ext = target ? undefined : ownEntry(w.spec.externals ?? {}, c.to);
  w.referenceRules?.(name, c, i, target ?? ext);
  const inactive = target !== undefined && (target.status === 'planned' || target.status === 'reserved');
  const noAddress = ext !== undefined && !ext.cidrs?.length && ext.namespace === undefined && !unaddressed.has(c.to);
  // An external whose pods run in a namespace of this registry needs their labels: the ingress side
  // there admits the client to those pods only (without labels it is not generated).
  const unlabelled = ext?.namespace !== undefined && namespaces.has(ext.namespace) && !Object.keys(ext.podSelector ?? {}).length && !unaddressed.has(c.to);
  // Pods reach an external by its host, a namespace's Service, or the one address a /32 (/128) names.
  const noHost = ext !== undefined && ext.host === undefined && ext.namespace === undefined && !!ext.cidrs?.length &&
    !ext.cidrs.some(cidr => /\/(32|128)$/.test(cidr)) && !unhosted.has(`${name}\u0000${c.to}`);
  if (noHost) {
    unhosted.add(`${name}\u0000${c.to}`);
    const variable = c.to.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
    out.push(finding('external-no-host', `${name} connects to external ${c.to}, which has no host and whose cidrs (${ext!.cidrs!.join(', ')}) name no single address, ` +
      `so workloads bound to ${name} get no ${variable}_HOST, ${variable}_PORT or ${variable}_URL (the egress policy is written)`,
      { registry, service: name, other: c.to, path: `externals.${c.to}` },
      w.syntax === 'code' ? `give ${c.to} the address its clients use (host: '<name or address>'), or a single address in cidrs ('<address>/32')`
        : `add host: <name or address> to ${c.to} (the address its clients use), or a single address to its cidrs (<address>/32)`));
  }
  // `environment` naming the only environment the client runs in crosses nothing.
  const crosses = c.environment !== undefined && presentIn(w.index.services[s], w.envs).some(e => e.name !== c.environment);
  if (!inactive && !crosses && !noAddress && !unlabelled) return;
  const path = `services.${name}.connectsTo[${i}]`;
  if (inactive) {
    out.push(finding('inactive-target', `${name} connects to ${c.to}, which is ${target!.status} and not deployed`,
      { registry, service: name, other: c.to, path }, `drop the connection until ${c.to} is active, or make ${c.to} active`));
  }
  if (crosses) {
    out.push(finding('cross-environment', `${name} connects to ${c.to} in environment ${c.environment} from every environment it runs in`,
      { registry, service: name, environment: c.environment, other: c.to, path },
      'keep environments separate unless this path is intended; then waive this warning with the reason'));
  }
  if (noAddress) {
    unaddressed.add(c.to);
    out.push(finding('external-unaddressed', `${name} connects to external ${c.to}, but ${c.to} declares neither cidrs nor namespace, ` +
      'so no egress policy can allow the traffic and the default deny would block it',
      { registry, service: c.to, other: name, path: `externals.${c.to}` }, `add cidrs: ['<address>/32'] or namespace: '<namespace>' to ${c.to}`));
  }
  if (unlabelled) {
    unaddressed.add(c.to);
    out.push(finding('external-unaddressed', `${name} connects to external ${c.to} in namespace ${ext!.namespace}, the namespace of environment ` +
      `${namespaces.get(ext!.namespace!)}, but ${c.to} has no podSelector, so no ingress policy can admit the traffic to its pods alone and the default deny there would block it`,
      { registry, service: c.to, other: name, path: `externals.${c.to}` }, `add podSelector: { <label>: <value> } (the labels of ${c.to}'s pods) to ${c.to}`));
  }
}

/** Service `s`: reached from outside (its public entry) or by a client, or told it is not. */
function reachFindings(w: ConnectionWalk, s: number, usesPolicies: boolean, inbound: ReadonlySet<string>): void {
  const { registry, out, namespaces } = w;
  const name = w.index.serviceNames[s];
  const svc = w.index.services[s];
  const listens = Object.keys(svc.ports ?? {}).length > 0;
  if (svc.public && listens && Object.values(svc.ports ?? {}).every(p => p.public === false)) {
    out.push(finding('invalid-value', `${name} is public, but every one of its ports says public: false: nothing of it is reached from outside`,
      { registry, service: name, path: `services.${name}.public` }, 'drop public from the service, or public: false from the port it serves outside'));
  }
  if (svc.public && !listens) {
    out.push(finding('invalid-value', `${name} is public but has no ports: nothing of it can be reached`, { registry, service: name, path: `services.${name}.public` },
      'declare the port it serves, or drop public'));
  }
  if (listens && usesPolicies && isDeployed(svc.status) && !svc.public && !inbound.has(name) && !isLocalOnly(svc)) {
    out.push(finding('unreachable', `${name} is not public and no service connects to it, so the default deny blocks all traffic to it`,
      { registry, service: name, path: `services.${name}` }, w.syntax === 'code'
        ? `declare its clients (client.connectsTo(${name})) or mark it public`
        : `declare its clients (connectsTo: [{ to: ${name} }] under each client) or mark it public: true`));
  }
  if (typeof svc.public !== 'object') return;
  for (const ns of svc.public.namespaces ?? []) {
    const problem = dns1123Problem(ns);
    if (problem) {
      out.push(finding('namespace-name', `public namespace "${ns}" of ${name} ${problem}`, { registry, service: name, path: `services.${name}.public` }, 'use a namespace name'));
    }
    const env = namespaces.get(ns);
    if (env) {
      out.push(finding('cross-environment', `${name} is public to namespace ${ns}, which is environment ${env} of this registry`,
        { registry, service: name, environment: env, path: `services.${name}.public` }, `declare the clients in ${env} as connections instead`));
    }
  }
  for (const cidr of svc.public.cidrs ?? []) {
    const problem = cidrProblem(cidr);
    if (problem) out.push(finding('invalid-cidr', `public CIDR "${cidr}" of ${name} ${problem}`, { registry, service: name, path: `services.${name}.public.cidrs` }, 'write it like 203.0.113.0/24'));
  }
}

/** External `x`'s address blocks: valid, and not every address. */
function externalCidrFindings(w: ConnectionWalk, x: number): void {
  const { registry, out } = w;
  const name = w.index.externalNames[x];
  for (const cidr of w.index.externals[x].cidrs ?? []) {
    const problem = cidrProblem(cidr);
    if (problem) out.push(finding('invalid-cidr', `CIDR "${cidr}" of external ${name} ${problem}`, { registry, service: name, path: `externals.${name}.cidrs` }, 'write it like 10.0.0.5/32'));
    else if (admitsEverything(cidr)) {
      out.push(finding('open-cidr', `external ${name} lives at ${cidr}, every ${cidr.includes(':') ? 'IPv6' : 'IPv4'} address: its clients' egress policies would allow them to reach any host on its ports`,
        { registry, service: name, path: `externals.${name}.cidrs` }, `list the addresses ${name} really has (e.g. 203.0.113.10/32), or waive this warning with the reason`));
    }
  }
}
