import { k8s } from '../../imports/k8s';
import type { Allocation } from '../model/resolved';
import type { InboundConnection, ResolvedConnection, ResolvedRegistry } from '../model/resolved';
import { Environment, isDeployed, portIsPublic, presentIn } from '../model/normalize';
import { podSelectorOf } from '../model/labels';
import type { ExternalSpec, ServiceSpec } from '../model/schema';
import { commonLabels } from './kubernetes';
import { Lookup, lookup } from './lookup';

export interface PolicyObject {
  readonly name: string;
  readonly props: k8s.KubeNetworkPolicyProps;
}

const NS_NAME = 'kubernetes.io/metadata.name';

/** The cluster DNS every pod may ask: kube-dns (CoreDNS keeps that label) in kube-system. */
export const CLUSTER_DNS: k8s.NetworkPolicyPeer = {
  namespaceSelector: { matchLabels: { [NS_NAME]: 'kube-system' } },
  podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
};

const selectorOf = (name: string, svc: ServiceSpec | undefined) => podSelectorOf(name, svc ?? {});

/** What the policies of one registry are made from, and where they are added. */
interface PolicyContext {
  readonly resolved: ResolvedRegistry;
  readonly services: Record<string, ServiceSpec>;
  readonly externals: Record<string, ExternalSpec>;
  readonly envs: ReadonlyMap<string, Environment>;
  readonly index: Lookup;
  /** Whether `service` has pods in `env`. */
  readonly deployedIn: (service: string, env: string) => boolean;
  /** Adds a policy under `key` (what it allows), named `name` unless that is taken (then `dotted`); a second one of a key merges its ports into the first. */
  readonly add: (env: Environment, key: string, name: string, dotted: string, spec: k8s.NetworkPolicySpec) => void;
}

/**
 * Zero-trust NetworkPolicies for every environment namespace: deny all ingress and egress,
 * allow DNS, then allow exactly the declared connections on exactly the declared ports
 * (the target's container ports), on both ends. Nothing crosses environments unless a
 * connection names another environment. Returns the policies of each environment, keyed by
 * environment name, in a stable order.
 */
export function networkPolicies(resolved: ResolvedRegistry): Map<string, PolicyObject[]> {
  const book = policyBook(resolved);
  const ctx = contextOf(resolved, book.add);
  // The two policies every environment has: the first to claim their names, so the name is their key too.
  for (const env of resolved.environments) {
    book.add(env, 'default-deny', 'default-deny', 'default-deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    book.add(env, 'allow-dns', 'allow-dns', 'allow-dns', {
      podSelector: {}, policyTypes: ['Egress'],
      egress: [{ to: [CLUSTER_DNS], ports: [{ protocol: 'UDP', port: k8s.IntOrString.fromNumber(53) }, { protocol: 'TCP', port: k8s.IntOrString.fromNumber(53) }] }],
    });
  }
  for (const c of resolved.connections) connectionPolicies(ctx, c);
  // Clients in other registries: ingress from their pods in their namespace (their registry writes the egress).
  for (const c of resolved.inbound ?? []) inboundPolicy(ctx, c);
  for (const name in ctx.services) publicPolicies(ctx, name, ctx.services[name]);
  return book.ordered();
}

function contextOf(resolved: ResolvedRegistry, add: PolicyContext['add']): PolicyContext {
  const services = resolved.spec.services ?? {};
  const envs = new Map(resolved.environments.map(e => [e.name, e]));
  const index = lookup(resolved);
  // A service without ports (a client only, such as a queue worker) is deployed where it is present.
  const portless = (service: string) => Object.keys(services[service]?.ports ?? {}).length === 0;
  const deployedIn = (service: string, env: string) => isDeployed(services[service]?.status) &&
    (index.allocationsOf(env, service).length > 0 || (portless(service) && presentIn(services[service], [envs.get(env)!]).length > 0));
  return { resolved, services, externals: resolved.spec.externals ?? {}, envs, index, deployedIn, add };
}

/**
 * The policies of each environment as they are added, and in their output order.
 * Policy names are readable (`allow-a-to-b`), but `a` + `b-to-c` and `a-to-b` + `c` would read the
 * same, and a service named `public` or `dns` could take a fixed name. Each policy has a key (what
 * it allows); the first key to want a readable name gets it, any other key gets the dotted form
 * (`allow.a.to.b-to-c`), which is unique by construction: service and environment names have no dots.
 */
function policyBook(resolved: ResolvedRegistry): { readonly add: PolicyContext['add']; readonly ordered: () => Map<string, PolicyObject[]> } {
  const registry = resolved.spec.name;
  const byEnv = new Map<string, Map<string, PolicyObject>>(resolved.environments.map(e => [e.name, new Map()]));
  const claimed = new Map<string, Map<string, string>>(resolved.environments.map(e => [e.name, new Map()]));
  const meta = (env: Environment, name: string) => ({ name, namespace: env.namespace, labels: commonLabels(registry, env) });
  const add = (env: Environment, key: string, name: string, dotted: string, spec: k8s.NetworkPolicySpec) => {
    const policies = byEnv.get(env.name)!;
    const names = claimed.get(env.name)!;
    const existing = names.has(key) ? policies.get(names.get(key)!) : undefined;
    if (existing) {
      // Several ports of one connection pair: one policy, the ports merged.
      const rules = (spec.ingress ?? spec.egress)!;
      const target = (existing.props.spec!.ingress ?? existing.props.spec!.egress)! as Array<{ ports?: k8s.NetworkPolicyPort[] }>;
      const ports = target[0].ports!;
      for (const p of (rules[0] as { ports?: k8s.NetworkPolicyPort[] }).ports!) {
        if (!ports.some(q => q.protocol === p.protocol && q.port?.value === p.port?.value)) ports.push(p);
      }
      return;
    }
    const chosen = policies.has(name) ? dotted : name;
    // Stryker disable next-line StringLiteral: unreachable, the dotted name cannot be taken when the short one is (test/policy-names.test.ts tries)
    if (policies.has(chosen)) throw new Error(`two NetworkPolicies would be named ${chosen} in ${env.namespace}`); // impossible by construction
    names.set(key, chosen);
    policies.set(chosen, { name: chosen, props: { metadata: meta(env, chosen), spec } });
  };
  const ordered = () => {
    const out = new Map<string, PolicyObject[]>();
    for (const [env, policies] of byEnv) {
      const fixed = ['default-deny', 'allow-dns'];
      const rest = [...policies.keys()].filter(n => !fixed.includes(n)).sort();
      out.set(env, [...fixed, ...rest].map(n => policies.get(n)!));
    }
    return out;
  };
  return { add, ordered };
}

const portOf = (a: Allocation, viaAddress: boolean): k8s.NetworkPolicyPort =>
  ({ protocol: a.protocol, port: k8s.IntOrString.fromNumber(viaAddress ? a.port : a.targetPort) });

/** `allow-<to>-from-<from>` in the target's environment: ingress to the target's pods from the client's (in its namespace when it is another environment). */
function allowIngress(ctx: PolicyContext, target: Environment, client: Environment, to: string, from: string, toSelector: k8s.LabelSelector, fromSelector: k8s.LabelSelector, port: k8s.NetworkPolicyPort): void {
  const cross = target.name !== client.name;
  ctx.add(target, `ingress\u0000${to}\u0000${from}\u0000${cross ? client.name : ''}`, `allow-${to}-from-${from}${cross ? `-in-${client.name}` : ''}`,
    `allow.${to}.from.${from}${cross ? `.in.${client.name}` : ''}`, {
    podSelector: toSelector, policyTypes: ['Ingress'],
    ingress: [{
      from: [cross ? { namespaceSelector: { matchLabels: { [NS_NAME]: client.namespace } }, podSelector: fromSelector } : { podSelector: fromSelector }],
      ports: [port],
    }],
  });
}

/** The policies of one connection: the client's egress, and the target's ingress when the target is this registry's. */
function connectionPolicies(ctx: PolicyContext, c: ResolvedConnection): void {
  const { services, envs, index } = ctx;
  const clientEnv = envs.get(c.environment)!;
  if (!ctx.deployedIn(c.from, clientEnv.name)) return;
  if (c.peer) {
    // Another registry's service: egress here, to its pods in its namespace; its registry admits them (inbound, below).
    const a = c.peer.allocation;
    const cross = c.environment !== c.targetEnvironment;
    ctx.add(clientEnv, `egress\u0000${c.from}\u0000${c.peer.registry}\u0000${c.to}\u0000${cross ? c.targetEnvironment : ''}`,
      `allow-${c.from}-to-${c.to}-of-${c.peer.registry}${cross ? `-in-${c.targetEnvironment}` : ''}`,
      `allow.${c.from}.to.${c.to}.of.${c.peer.registry}${cross ? `.in.${c.targetEnvironment}` : ''}`, {
        podSelector: { matchLabels: selectorOf(c.from, services[c.from]) }, policyTypes: ['Egress'],
        egress: [{ to: [{ namespaceSelector: { matchLabels: { [NS_NAME]: a.namespace } }, podSelector: { matchLabels: { ...c.peer.selector } } }], ports: [portOf(a, false)] }],
      });
    return;
  }
  const targetEnv = envs.get(c.targetEnvironment)!;
  const a = index.allocation(targetEnv.name, c.to, c.portName);
  if (!a) return;
  const fromSelector = { matchLabels: selectorOf(c.from, services[c.from]) };
  if (c.targetKind === 'external') {
    externalPolicies(ctx, c, clientEnv, a, fromSelector);
    return;
  }
  if (!ctx.deployedIn(c.to, targetEnv.name)) return;
  const cross = clientEnv.name !== targetEnv.name;
  const toSelector = { matchLabels: selectorOf(c.to, services[c.to]) };
  const port = portOf(a, false);
  const suffix = cross ? `-in-${targetEnv.name}` : '';
  ctx.add(clientEnv, `egress\u0000${c.from}\u0000${c.to}\u0000${cross ? targetEnv.name : ''}`, `allow-${c.from}-to-${c.to}${suffix}`,
    `allow.${c.from}.to.${c.to}${cross ? `.in.${targetEnv.name}` : ''}`, {
    podSelector: fromSelector, policyTypes: ['Egress'],
    egress: [{
      to: [cross ? { namespaceSelector: { matchLabels: { [NS_NAME]: targetEnv.namespace } }, podSelector: toSelector } : { podSelector: toSelector }],
      ports: [port],
    }],
  });
  allowIngress(ctx, targetEnv, clientEnv, c.to, c.from, toSelector, fromSelector, { ...port });
}

/** A connection to an external: egress to its namespace's pods or its addresses, and ingress where its pods run in this registry's namespace. */
function externalPolicies(ctx: PolicyContext, c: ResolvedConnection, clientEnv: Environment, a: Allocation, fromSelector: k8s.LabelSelector): void {
  const ext: ExternalSpec = ctx.externals[c.to];
  const peers: k8s.NetworkPolicyPeer[] = ext.namespace !== undefined
    ? [{ namespaceSelector: { matchLabels: { [NS_NAME]: ext.namespace } }, podSelector: { matchLabels: ext.podSelector ?? {} } }]
    : (ext.cidrs ?? []).map(cidr => ({ ipBlock: { cidr } }));
  if (peers.length === 0) return; // reported as external-unaddressed
  ctx.add(clientEnv, `egress\u0000${c.from}\u0000${c.to}\u0000`, `allow-${c.from}-to-${c.to}`, `allow.${c.from}.to.${c.to}`, {
    podSelector: fromSelector, policyTypes: ['Egress'],
    egress: [{ to: peers, ports: [portOf(a, ext.namespace === undefined)] }],
  });
  // An external whose pods run in a namespace of this registry is behind its default deny too:
  // its pods need the ingress side. (Without pod labels it would open every pod there: not generated,
  // and verify reports the path blocked.)
  const home = ext.namespace !== undefined && Object.keys(ext.podSelector ?? {}).length > 0
    ? ctx.resolved.environments.find(e => e.namespace === ext.namespace) : undefined;
  if (home) allowIngress(ctx, home, clientEnv, c.to, c.from, { matchLabels: ext.podSelector! }, fromSelector, portOf(a, false));
}

/** Ingress from a client of another registry, from its pods in its namespace. */
function inboundPolicy(ctx: PolicyContext, c: InboundConnection): void {
  const env = ctx.envs.get(c.environment);
  const a = ctx.index.allocation(c.environment, c.to, c.portName);
  if (!env || !a || !ctx.deployedIn(c.to, env.name)) return;
  const cross = c.fromEnvironment !== c.environment;
  ctx.add(env, `inbound\u0000${c.to}\u0000${c.fromRegistry}\u0000${c.from}\u0000${cross ? c.fromEnvironment : ''}`,
    `allow-${c.to}-from-${c.from}-of-${c.fromRegistry}${cross ? `-in-${c.fromEnvironment}` : ''}`,
    `allow.${c.to}.from.${c.from}.of.${c.fromRegistry}${cross ? `.in.${c.fromEnvironment}` : ''}`, {
      podSelector: { matchLabels: selectorOf(c.to, ctx.services[c.to]) }, policyTypes: ['Ingress'],
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { [NS_NAME]: c.fromNamespace } }, podSelector: { matchLabels: { ...c.fromSelector } } }], ports: [portOf(a, false)] }],
    });
}

/** Ingress from outside the registry to a public service's public ports, in every environment it is deployed in. */
function publicPolicies(ctx: PolicyContext, name: string, svc: ServiceSpec): void {
  if (!svc.public) return;
  const peers: k8s.NetworkPolicyPeer[] = svc.public === true
    ? [
      { namespaceSelector: { matchExpressions: [{ key: 'app.kubernetes.io/part-of', operator: 'NotIn', values: [ctx.resolved.spec.name] }] } },
      { ipBlock: { cidr: '0.0.0.0/0' } },
      { ipBlock: { cidr: '::/0' } },
    ]
    : [
      ...(svc.public.namespaces ?? []).map(ns => ({ namespaceSelector: { matchLabels: { [NS_NAME]: ns } } })),
      ...(svc.public.cidrs ?? []).map(cidr => ({ ipBlock: { cidr } })),
    ];
  if (peers.length === 0) return;
  for (const env of ctx.resolved.environments) {
    if (!ctx.deployedIn(name, env.name)) continue;
    const ports = ctx.index.allocationsOf(env.name, name).filter(a => portIsPublic(svc, a.portName)).map(a => portOf(a, false));
    if (ports.length === 0) continue;
    ctx.add(env, `public\u0000${name}`, `allow-${name}-from-public`, `allow.${name}.from-public`, {
      podSelector: { matchLabels: selectorOf(name, svc) }, policyTypes: ['Ingress'], ingress: [{ from: peers, ports }],
    });
  }
}
