/**
 * `cdk8s-ports explain FROM TO [PORT]`: which policies (name, file, rule) allow or block a path,
 * in both directions.
 */
import { Command } from 'commander';
import { closest } from 'fastest-levenshtein';
import * as ipaddr from 'ipaddr.js';
import type * as Verify from '../../netpol/verify';
import type * as Load from '../../netpol/load';
import type { Side, Verdict } from '../../netpol/cluster';
import type { Endpoint } from '../../netpol/model';
import { LIST_FORMATS, addFormatOptions, formatOf, listPaths } from '../format-output';
import { podSelectorOf } from '../../model/labels';
import { EXIT, Io, Colours, UsageError, json, errColours, outColours, printable, registriesOption } from '../io';
import { manifestsFolder, trafficRegistries } from '../traffic';

/** An endpoint by id (`namespace/name`, an address), by name alone when one pod has it, or as `environment/service`. */
function find(endpoints: ReadonlyMap<string, Endpoint>, text: string, namespacesOf: ReadonlyMap<string, readonly string[]>, near?: Endpoint,
  selectorsOf: ReadonlyMap<string, ReadonlyArray<{ readonly namespace: string; readonly service: string; readonly labels: Readonly<Record<string, string>> }>> = new Map()): Endpoint {
  const exact = endpoints.get(text);
  if (exact) return exact;
  const [first, ...rest] = text.split('/');
  // An environment name may be every registry's (`development`): each of their namespaces is tried.
  if (rest.length && namespacesOf.has(first)) {
    const ids = namespacesOf.get(first)!.map(ns => `${ns}/${rest.join('/')}`).filter(id => endpoints.has(id));
    if (ids.length === 1) return endpoints.get(ids[0])!;
    if (ids.length > 1) throw new UsageError(`${text} names pods of several registries' ${first} (${ids.join(', ')}): give namespace/name`);
    // A registry service by the labels its Service selects (a workload named otherwise, such as cdk8s-plus's hashed names).
    const service = rest.join('/');
    const matching = [...endpoints.entries()].filter(([, e]) => 'namespace' in e && (selectorsOf.get(first) ?? []).some(s =>
      s.service === service && s.namespace === e.namespace && Object.entries(s.labels).every(([k, v]) => e.labels[k] === v))).map(([id]) => id);
    if (matching.length === 1) return endpoints.get(matching[0])!;
    if (matching.length > 1) throw new UsageError(`${text} is the service of several pods (${matching.join(', ')}): give namespace/name`);
  }
  // A bare name: the pod of that name beside the other end first, else the only pod of that name.
  if (near && 'namespace' in near && endpoints.has(`${near.namespace}/${text}`)) return endpoints.get(`${near.namespace}/${text}`)!;
  const byName = [...endpoints.keys()].filter(id => id.endsWith(`/${text}`));
  if (byName.length === 1) return endpoints.get(byName[0])!;
  if (byName.length > 1) throw new UsageError(`${text} names pods in several namespaces (${byName.join(', ')}): give namespace/name`);
  if (/^[0-9a-fA-F:.]+$/.test(text) && (text.includes('.') || text.includes(':'))) {
    // Only a full address: four decimal parts, or IPv6 (`1.2.3` or `999.1.1.1` would be read as some other address).
    if (ipaddr.IPv4.isValidFourPartDecimal(text) || ipaddr.IPv6.isValid(text)) return { ip: ipaddr.parse(text).toString() };
    throw new UsageError(`${text} is not an IPv4 (a.b.c.d) or IPv6 address`);
  }
  // Did you mean: the closest pod name (or whole id, when a namespace was given).
  const ids = [...endpoints.keys()].filter(id => id.includes('/') && !id.includes('('));
  const key = (id: string) => (text.includes('/') ? id : id.slice(id.indexOf('/') + 1));
  const guess = ids.length ? closest(text, ids.map(key)) : undefined;
  const suggestion = guess === undefined ? [] : ids.filter(id => key(id) === guess);
  throw new UsageError(`no pod ${text} in the manifests${suggestion.length ? `; did you mean ${suggestion.slice(0, 3).join(' or ')}?` : ''} (give namespace/name, environment/service, or an address)`);
}

/** `8080`, `8080/udp`, or a container port name of the destination. */
function portsFor(text: string | undefined, to: Endpoint): Array<{ port: number; protocol: string }> {
  const ports = 'ports' in to ? to.ports : [];
  if (text === undefined) {
    if (ports.length === 0) throw new UsageError(`${'namespace' in to ? `${to.namespace}/${to.name}` : to.ip} declares no port: give one (explain FROM TO PORT)`);
    return ports.map(p => ({ port: p.port, protocol: p.protocol }));
  }
  const m = /^(\d{1,5})(?:\/(tcp|udp|sctp))?$/i.exec(text);
  if (m && Number(m[1]) >= 1 && Number(m[1]) <= 65535) return [{ port: Number(m[1]), protocol: (m[2] ?? 'TCP').toUpperCase() }];
  const named = ports.filter(p => p.name === text);
  if (named.length) return named.map(p => ({ port: p.port, protocol: p.protocol }));
  throw new UsageError(`${text} is not a port (1-65535, optionally /tcp, /udp or /sctp) nor a port name of the destination${ports.length ? ` (${ports.map(p => p.name ?? p.port).join(', ')})` : ''}`);
}

/** `the admin tier, AdminNetworkPolicy/deny-db (priority 10, admin.yaml), ingress rule 2 "no-db": Deny`. */
function tierText(h: NonNullable<Side['decidedBy']>): string {
  const where = [h.priority !== undefined ? `priority ${h.priority}` : '', h.file ?? ''].filter(Boolean).join(', ');
  return `the ${h.tier === 'Admin' ? 'admin' : 'baseline'} tier, ${h.kind}/${h.policy}${where ? ` (${where})` : ''}, ${h.direction} rule ${h.rule}${h.ruleName ? ` "${h.ruleName}"` : ''}: ${h.written}`;
}

function sideText(pc: Colours, label: string, s: Side | undefined): string {
  if (!s) return `  ${label}: an address outside the cluster, no policy applies`;
  // An admin-tier rule that decided (the NetworkPolicies are not consulted), or a Pass that handed the side on.
  if (s.decidedBy && s.decidedBy.tier === 'Admin') return `  ${label} of ${s.endpoint}: ${s.allowed ? pc.green('allowed') : pc.red('denied')} by ${tierText(s.decidedBy)}`;
  const passed = s.passedBy ? `passed on by ${tierText(s.passedBy)}; ` : '';
  if (s.decidedBy) return `  ${label} of ${s.endpoint}: ${passed}no NetworkPolicy selects it; ${s.allowed ? pc.green('allowed') : pc.red('denied')} by ${tierText(s.decidedBy)}`;
  if (!s.isolated) return `  ${label} of ${s.endpoint}: ${passed}${pc.green('open')}, no policy selects it for this direction`;
  const by = s.allowedBy.map(r => `${r.policy} (${r.file ? `${r.file}, ` : ''}${r.direction} rule ${r.rule})`);
  return `  ${label} of ${s.endpoint}: ${passed}selected by ${s.policies.map(p => p.policy).join(', ')}; ` +
    (s.allowed ? `${pc.green('allowed')} by ${by.join(', ')}` : pc.red('no rule allows it'));
}

function verdictText(pc: Colours, v: Verdict): string {
  return [
    `${pc.bold(`${v.from} -> ${v.to} ${v.port}/${v.protocol}`)}: ${v.allowed ? pc.green('allowed') : pc.red('blocked')}`,
    sideText(pc, 'egress', v.egress),
    sideText(pc, 'ingress', v.ingress),
  ].map(printable).join('\n');
}

export function explain(io: Io, from: string, to: string, port: string | undefined, opts: { manifests: string; registry?: string[]; json?: boolean; format?: string }): number {
  const format = formatOf(opts);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { loadFolder } = require('../../netpol/load') as typeof Load;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { endpointsOf } = require('../../netpol/verify') as typeof Verify;
  const pc = outColours(io);
  const dir = manifestsFolder(io.cwd, opts.manifests);
  const registries = trafficRegistries(io.cwd, dir, opts.registry ?? []);
  const loaded = loadFolder(dir);
  // Values the API server would reject are read as written (they match nothing): said before the verdict.
  for (const v of loaded.invalid) {
    io.err(`${errColours(io).yellow('warning')}: ${printable(`${v.file}: ${v.object} in ${v.namespace}: ${v.message}; the API server rejects the object (fix: ${v.fix})`)}\n`);
  }
  const { cluster, endpoints } = endpointsOf(loaded.cluster, registries);
  const namespaceOf = new Map<string, string[]>();
  const selectorsOf = new Map<string, Array<{ namespace: string; service: string; labels: Record<string, string> }>>();
  for (const r of registries) {
    for (const e of r.environments) {
      const list = namespaceOf.get(e.name) ?? [];
      if (!list.includes(e.namespace)) list.push(e.namespace);
      namespaceOf.set(e.name, list);
      const selectors = selectorsOf.get(e.name) ?? [];
      for (const [service, svc] of Object.entries(r.spec.services ?? {})) {
        selectors.push({ namespace: e.namespace, service, labels: podSelectorOf(service, svc) });
      }
      selectorsOf.set(e.name, selectors);
    }
  }
  let hint: Endpoint | undefined;
  try {
    hint = find(endpoints, to, namespaceOf, undefined, selectorsOf);
  } catch {
    hint = undefined;
  }
  const a = find(endpoints, from, namespaceOf, hint, selectorsOf);
  const b = find(endpoints, to, namespaceOf, a, selectorsOf);
  const forward = portsFor(port, b).map(p => cluster.verdict(a, b, p.port, p.protocol));
  // The other direction on the source's own ports (or the same port when it has none).
  // (From a pod to itself, the other direction is the same path: it is not given twice.)
  let reverse: Verdict[] = [];
  if (a !== b) {
    try {
      reverse = portsFor(port === undefined || !/^\d/.test(port) ? undefined : port, a).map(p => cluster.verdict(b, a, p.port, p.protocol));
    } catch {
      reverse = forward.map(v => cluster.verdict(b, a, v.port, v.protocol));
    }
  }
  if (format === 'json') {
    json(io, { forward, reverse });
  } else if (format === 'csv' || format === 'md' || format === 'dot') {
    const verdicts = [...forward, ...reverse].map(v => ({ from: v.from, to: v.to, port: v.port, protocol: v.protocol, status: v.allowed ? 'allowed' : 'blocked' }));
    io.out(listPaths(format, verdicts, `paths between ${from} and ${to}`, { status: 'verdict' }));
  } else {
    io.out(`${[...forward, ...reverse].map(v => verdictText(pc, v)).join('\n')}\n`);
  }
  return EXIT.CLEAN;
}

export function register(cli: Command, io: Io, setCode: (code: number) => void): void {
  const command = cli.command('explain').description('which NetworkPolicies allow or block a path, in both directions')
    .argument('<from>', 'the source: namespace/name, environment/service, a pod name, or an address')
    .argument('<to>', 'the destination, likewise')
    .argument('[port]', 'a port (8080, 53/udp) or a port name of the destination (default: each of its ports)')
    .option('-m, --manifests <dir>', 'the folder of manifests', 'manifests')
    .addOption(registriesOption('a registry whose environments name namespaces (default: the project\'s own)'));
  addFormatOptions(command, LIST_FORMATS)
    .action((from: string, to: string, port: string | undefined, opts) => setCode(explain(io, from, to, port, opts)));
}
