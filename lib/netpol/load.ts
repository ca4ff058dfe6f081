/**
 * Kubernetes objects to a {@link Cluster}: NetworkPolicies, Namespaces, and pods from workloads
 * (Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob, Pod: their
 * pod template's labels and container ports) and from Services whose selector matches no workload
 * (a pod with the selector's labels and the Service's target ports). Any folder of manifests,
 * charts written by hand included.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as jsYaml from 'js-yaml';
import * as ipaddr from 'ipaddr.js';
import { Cluster } from './cluster';
import type { AdminPolicy } from './admin';
import { ADMIN_KINDS, adminPolicyOf } from './admin-load';
import { ContainerPort, LabelSelector, Pod, Policy, PolicyPeer, PolicyPort, PolicyRule, policyTypesOf } from './model';

/** A Kubernetes object and the file it came from. */
export interface SourcedObject {
  readonly file: string;
  readonly object: unknown;
}

/** A problem reading the folder (a file that is not YAML, say): the file and what is wrong. */
export interface LoadProblem {
  readonly file: string;
  readonly message: string;
}

export interface Loaded {
  readonly cluster: Cluster;
  readonly problems: readonly LoadProblem[];
  /** Values the API server would reject. */
  readonly invalid: readonly InvalidValue[];
  /** The objects read, each with its file (for checks beyond the traffic: the port chain). */
  readonly objects?: readonly SourcedObject[];
}

/**
 * A value the API server would reject (a port outside 1-65535, a protocol in lower case, an
 * `endPort` below its port, a port name that is no IANA service name): the object that holds it,
 * what is wrong, and how to fix it. The evaluator reads the value as written (a port
 * `tcp`/70000/"8080" matches nothing), so the verdict on the rest still stands.
 */
export interface InvalidValue {
  readonly file: string;
  readonly namespace: string;
  /** `Deployment/api`, `NetworkPolicy/allow-web`. */
  readonly object: string;
  readonly message: string;
  readonly fix: string;
}

const PROTOCOLS = new Set(['TCP', 'UDP', 'SCTP']);
/** An IANA service name as the API server checks a port name: 1-15 of a-z, 0-9 and `-`, a letter at least, no `-` at the ends or twice in a row. */
const PORT_NAME = /^(?!-)(?!.*--)(?=.*[a-z])[a-z0-9-]{1,15}(?<!-)$/;
/** A DNS label (RFC 1123), what a Service's port name must be. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const isPortNumber = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535;
/** A field the API server takes as not given: absent, or null (Helm writes an empty value as null). */
const absent = (v: unknown): v is undefined | null => v === undefined || v === null;
/** A value as a message shows it: strings quoted, numbers as numbers (NaN and Infinity too). */
const show = (v: unknown): string => (typeof v === 'number' ? String(v) : JSON.stringify(v) ?? String(v));
/** A name read from a manifest, as text. */
export const nameText = (v: unknown): string => (typeof v === 'string' ? v : absent(v) ? '(unnamed)' : show(v));
const NUMBER_RULE = 'an integer from 1 to 65535';

/** Which entry of an object a value is in (`container web, port http`): a function where most entries are fine, so that the text is only built for a finding. */
type Where = string | (() => string);
const at = (where: Where): string => (typeof where === 'string' ? where : where());

/** Records the values of one object the API server would reject (each check costs nothing for a valid value). */
export class ValueCheck {
  constructor(private readonly out: InvalidValue[], private readonly file: string, private readonly namespace: string, private readonly kind: string, private readonly objectName: unknown) {}

  public add(message: string, fix: string): void {
    this.out.push({ file: this.file, namespace: this.namespace, object: `${this.kind}/${nameText(this.objectName)}`, message, fix });
  }

  /** A port that must be a number (containerPort, a Service's port): `where` names its entry, `field` the key. */
  public number(where: Where, field: string, v: unknown): void {
    if (!isPortNumber(v)) this.add(`${at(where)}: ${field} ${absent(v) ? 'is missing' : `${show(v)} is not a port number (${NUMBER_RULE})`}`, `write ${field} as ${NUMBER_RULE}, unquoted`);
  }

  /** A port that is a number or a port name (targetPort, a NetworkPolicy port). */
  public numberOrName(where: Where, field: string, v: unknown): void {
    if (typeof v !== 'string') return this.number(where, field, v);
    if (PORT_NAME.test(v)) return;
    // Stryker disable next-line Regex: equivalent, a string with anything but digits is no port number for Number() either
    const quoted = /^\d+$/.test(v) && isPortNumber(Number(v));
    this.add(`${at(where)}: ${field} ${show(v)} is neither a port number nor a port name (1-15 lower-case letters, digits and '-', at least one letter)`,
      quoted ? `write ${field} as the number ${Number(v)}, unquoted (a quoted number is read as a port name)` : `write ${field} as ${NUMBER_RULE}, or as the name of a container port`);
  }

  /** A container port's name (none, or an IANA service name). */
  public portName(where: Where, v: unknown): void {
    if (absent(v) || v === '' || (typeof v === 'string' && PORT_NAME.test(v))) return;
    this.add(`${at(where)}: name ${show(v)} is not a port name (1-15 lower-case letters, digits and '-', at least one letter, no '-' at either end or twice in a row)`,
      `rename the port, for example to ${JSON.stringify(suggestName(v))}, and every reference to it`);
  }

  /** `protocol`: TCP, UDP or SCTP exactly; `emptyIsTcp` where the API server defaults an empty one (containers, Services), not in a NetworkPolicy. */
  public protocol(where: Where, v: unknown, emptyIsTcp: boolean): void {
    if (absent(v) || (v === '' && emptyIsTcp) || (typeof v === 'string' && PROTOCOLS.has(v))) return;
    // Stryker disable next-line StringLiteral: equivalent, any stand-in for a protocol that is no string is none of the three
    const upper = typeof v === 'string' ? v.toUpperCase() : '';
    this.add(`${at(where)}: protocol ${show(v)} is not TCP, UDP or SCTP (written exactly so, in upper case)`, PROTOCOLS.has(upper) ? `write protocol: ${upper}` : 'write protocol: TCP, UDP or SCTP');
  }

  public range(where: Where, port: unknown, endPort: unknown): void {
    if (absent(endPort)) return;
    if (!isPortNumber(endPort)) this.number(where, 'endPort', endPort);
    else if (typeof port !== 'number') this.add(`${at(where)}: endPort ${show(endPort)} without a numbered port`, 'give the range\'s first port as a number in port, or remove endPort');
    else if ((endPort as number) < port) {
      this.add(`${at(where)}: endPort ${show(endPort)} is below port ${show(port)}`,
        isPortNumber(port) ? `write the range as port: ${show(endPort)}, endPort: ${show(port)}` : `write port and endPort as ${NUMBER_RULE}, endPort not below port`);
    }
  }
}

/** A label value as the API server checks it: empty, or up to 63 of A-Z, a-z, 0-9, '-', '_', '.', alphanumeric at either end. */
const LABEL_NAME = /^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$/;
const DNS_SUBDOMAIN = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/;
const labelKeys = new Map<string, boolean>();
/** A label key (a qualified name): an optional DNS-subdomain prefix of up to 253 characters and `/`, then a name as a label value, not empty. */
export function isLabelKey(k: string): boolean {
  let ok = labelKeys.get(k);
  if (ok === undefined) {
    const slash = k.indexOf('/');
    const prefix = slash < 0 ? undefined : k.slice(0, slash);
    const name = slash < 0 ? k : k.slice(slash + 1);
    ok = LABEL_NAME.test(name) && (prefix === undefined || (prefix.length <= 253 && DNS_SUBDOMAIN.test(prefix)));
    // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent, a memo
    if (labelKeys.size > 100_000) labelKeys.clear();
    labelKeys.set(k, ok);
  }
  return ok;
}
export const isLabelValue = (v: string): boolean => v === '' || LABEL_NAME.test(v);
const LABEL_RULE = 'up to 63 letters, digits, \'-\', \'_\' and \'.\', a letter or digit at either end';

/**
 * A CIDR as the API server parses it: an IPv4 address of four decimal parts or an IPv6 address,
 * `/`, and a prefix length of the family (undefined when it is not one).
 */
export function parseCidrStrict(cidr: string): { family: 'ipv4' | 'ipv6'; address: ipaddr.IPv4 | ipaddr.IPv6; bits: number } | undefined {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(cidr);
  if (!m) return undefined;
  const bits = Number(m[2]);
  if (ipaddr.IPv4.isValidFourPartDecimal(m[1]) && bits <= 32) return { family: 'ipv4', address: ipaddr.IPv4.parse(m[1]), bits };
  if (m[1].includes(':') && ipaddr.IPv6.isValid(m[1]) && bits <= 128) return { family: 'ipv6', address: ipaddr.IPv6.parse(m[1]), bits };
  return undefined;
}

/** The label checks of a selector the API server makes (keys, values, operators and their values). */
export function checkSelector(check: ValueCheck, where: () => string, v: LabelSelector): void {
  for (const k in v.matchLabels ?? {}) {
    const value = v.matchLabels![k];
    if (!isLabelKey(k)) check.add(`${where()}: label key ${show(k)} is not a label key (an optional DNS-subdomain prefix and '/', then ${LABEL_RULE})`, 'write the key as the labels of the pods or namespaces have it');
    if (!isLabelValue(value)) check.add(`${where()}: label value ${show(value)} of ${k} is not a label value (empty, or ${LABEL_RULE})`, 'write the value as the labels of the pods or namespaces have it');
  }
  for (const e of v.matchExpressions ?? []) {
    const values = e.values ?? [];
    if (!isLabelKey(e.key)) check.add(`${where()}: matchExpressions key ${show(e.key)} is not a label key (an optional DNS-subdomain prefix and '/', then ${LABEL_RULE})`, 'write the key as the labels of the pods or namespaces have it');
    if (e.operator === 'In' || e.operator === 'NotIn') {
      if (values.length === 0) check.add(`${where()}: ${e.operator} on ${show(e.key)} with no values`, `give ${e.operator} at least one value, or use ${e.operator === 'In' ? 'Exists' : 'DoesNotExist'}`);
    } else if (e.operator === 'Exists' || e.operator === 'DoesNotExist') {
      if (values.length > 0) check.add(`${where()}: ${e.operator} on ${show(e.key)} with values`, `remove the values, or use ${e.operator === 'Exists' ? 'In' : 'NotIn'}`);
    } else {
      check.add(`${where()}: operator ${show(e.operator)} is not In, NotIn, Exists or DoesNotExist`, 'write the operator as one of In, NotIn, Exists, DoesNotExist (as written, in that case)');
    }
    for (const x of values) if (!isLabelValue(x)) check.add(`${where()}: value ${show(x)} of ${e.key} is not a label value (empty, or ${LABEL_RULE})`, 'write the value as the labels of the pods or namespaces have it');
  }
}

/** The labels of an object (a pod template's, a namespace's) as the API server checks them. */
function checkLabels(check: ValueCheck, where: string, labels: Readonly<Record<string, string>>): void {
  for (const k in labels) {
    if (!isLabelKey(k)) check.add(`${where}: label key ${show(k)} is not a label key (an optional DNS-subdomain prefix and '/', then ${LABEL_RULE})`, 'rename the label, and every selector that names it');
    if (!isLabelValue(labels[k])) check.add(`${where}: label value ${show(labels[k])} of ${k} is not a label value (empty, or ${LABEL_RULE})`, 'change the value, and every selector that names it');
  }
}

/** The ipBlock checks the API server makes: a CIDR, except blocks that are CIDRs of the same family strictly inside it. */
function checkBlock(check: ValueCheck, where: () => string, block: { cidr: string; except?: readonly string[] }): void {
  const outer = parseCidrStrict(block.cidr);
  if (!outer) {
    check.add(`${where()}: ipBlock cidr ${show(block.cidr)} is not a CIDR (an IPv4 address of four decimal parts or an IPv6 address, '/', a prefix length)`, 'write the block as address/length, for example 10.0.0.0/8');
    return;
  }
  for (const x of block.except ?? []) {
    const inner = parseCidrStrict(x);
    if (!inner) check.add(`${where()}: ipBlock except ${show(x)} is not a CIDR`, 'write each except block as address/length, inside cidr');
    else if (inner.family !== outer.family || inner.bits <= outer.bits || !inner.address.match(outer.address as never, outer.bits)) {
      check.add(`${where()}: ipBlock except ${show(x)} is not strictly inside cidr ${show(block.cidr)}`, `remove it, or write an except block inside ${block.cidr} with a longer prefix`);
    }
  }
}

function suggestName(v: unknown): string {
  // Stryker disable next-line Regex: equivalent, the runs of '-' the first replacement leaves are merged by the second
  const s = nameText(v).toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-+/g, '-').replace(/^-|-$/g, '').slice(0, 15).replace(/-$/, '');
  return /[a-z]/.test(s) ? s : `port-${s}`.slice(0, 15).replace(/-$/, '');
}

export type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const WORKLOADS: Record<string, (o: Obj) => Obj | undefined> = {
  Deployment: o => o.spec?.template,
  StatefulSet: o => o.spec?.template,
  DaemonSet: o => o.spec?.template,
  ReplicaSet: o => o.spec?.template,
  ReplicationController: o => o.spec?.template,
  Job: o => o.spec?.template,
  CronJob: o => o.spec?.jobTemplate?.spec?.template,
  Pod: o => o,
};

/** The kinds that stand for pods: the workloads, and Services (for pods the folder does not list). */
export const POD_KINDS: ReadonlySet<string> = new Set([...Object.keys(WORKLOADS), 'Service']);

export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
/** Labels as strings (numbers and booleans written unquoted read as text); a map that is already all strings is used as it is. */
function stringMap(v: unknown): Record<string, string> {
  if (!isObj(v)) return {};
  let plain = true;
  for (const k in v) if (typeof v[k] !== 'string') { plain = false; break; }
  if (plain && Object.getPrototypeOf(v) === Object.prototype) return v as Record<string, string>;
  return Object.fromEntries(Object.entries(v).filter(([, x]) => typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean').map(([k, x]) => [k, String(x)]));
}

const isPlain = (v: unknown): v is Obj => isObj(v) && Object.getPrototypeOf(v) === Object.prototype;
/** Whether every own key of `v` is one of these (then it can be read as it is: no other field hides in it). */
function onlyKeys(v: Obj, a: string, b?: string, c?: string): boolean {
  for (const k in v) if (k !== a && k !== b && k !== c) return false;
  return true;
}

/** A selector with string `matchLabels` only: the evaluator's shape already. */
const isPlainSelector = (v: unknown): boolean => {
  if (!isPlain(v) || !onlyKeys(v, 'matchLabels')) return false;
  const labels = v.matchLabels;
  if (labels === undefined) return true;
  if (!isPlain(labels)) return false;
  for (const k in labels) if (typeof labels[k] !== 'string') return false;
  return true;
};

// Objects already in the evaluator's shape (the synth's own output, most hand-written YAML) are
// used as they are, never copied: a synth reads hundreds of thousands of them, and the copies cost
// more in garbage collection than in the copying. Nothing here changes them.
// (Written with plain assignments, not spreads, for the same reason.)
export function selector(v: unknown): LabelSelector {
  if (isPlainSelector(v)) return v as LabelSelector;
  if (!isObj(v)) return {};
  const out: { matchLabels?: Record<string, string>; matchExpressions?: Array<{ key: string; operator: string; values?: string[] }> } = {};
  if (isObj(v.matchLabels)) out.matchLabels = stringMap(v.matchLabels);
  if (Array.isArray(v.matchExpressions)) {
    out.matchExpressions = v.matchExpressions.filter(isObj).map(e => {
      const expression: { key: string; operator: string; values?: string[] } = { key: String(e.key), operator: String(e.operator) };
      if (Array.isArray(e.values)) expression.values = e.values.map(String);
      return expression;
    });
  }
  return out;
}

/** A peer of pod and namespace selectors (neither null) in the evaluator's shape. */
const isPlainPeer = (p: unknown): boolean =>
  isPlain(p) && onlyKeys(p, 'podSelector', 'namespaceSelector') &&
  (p.podSelector === undefined || isPlainSelector(p.podSelector)) && (p.namespaceSelector === undefined || isPlainSelector(p.namespaceSelector));

function peers(v: unknown, check: ValueCheck, rule: () => string): PolicyPeer[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out = peersAsRead(v, check, rule);
  out.forEach((p, i) => {
    const where = () => `${rule()}, peer ${i + 1}`;
    if (!p.podSelector && !p.namespaceSelector && !p.ipBlock && isObj(v[i])) {
      check.add(`${where()}: a peer with no podSelector, namespaceSelector or ipBlock`, 'write the peer as podSelector, namespaceSelector (or both), or ipBlock; `podSelector: {}` is every pod of the namespace');
    }
    if (p.podSelector) checkSelector(check, () => `${where()}, podSelector`, p.podSelector);
    if (p.namespaceSelector) checkSelector(check, () => `${where()}, namespaceSelector`, p.namespaceSelector);
    if (p.ipBlock) checkBlock(check, where, p.ipBlock);
  });
  return out;
}

function peersAsRead(v: unknown[], check: ValueCheck, rule: () => string): PolicyPeer[] {
  // Stryker disable next-line ConditionalExpression: equivalent, peers not read as they are get copied into the same shape
  if (v.every(isPlainPeer)) return v as PolicyPeer[];
  // A null field is an absent one (Helm renders an empty `namespaceSelector:` as null); a peer that
  // is not an object says nothing, and admits nobody (the API server rejects it).
  return v.map((p, i) => {
    const out: { podSelector?: LabelSelector; namespaceSelector?: LabelSelector; ipBlock?: { cidr: string; except?: string[] } } = {};
    if (!isObj(p)) {
      check.add(`${rule()}, peer ${i + 1}: ${show(p)} is not a peer`, 'write it as podSelector, namespaceSelector (or both), or ipBlock');
      return out;
    }
    if (!absent(p.ipBlock) && (!absent(p.podSelector) || !absent(p.namespaceSelector))) {
      check.add(`${rule()}, peer ${i + 1}: ipBlock together with ${!absent(p.podSelector) ? 'podSelector' : 'namespaceSelector'} (read here as the ipBlock alone)`,
        'make them two peers of the rule: one with the ipBlock, one with the selectors');
    }
    if (p.podSelector != null) out.podSelector = selector(p.podSelector);
    if (p.namespaceSelector != null) out.namespaceSelector = selector(p.namespaceSelector);
    if (isObj(p.ipBlock)) {
      out.ipBlock = { cidr: absent(p.ipBlock.cidr) ? '' : String(p.ipBlock.cidr) };
      if (Array.isArray(p.ipBlock.except)) out.ipBlock.except = p.ipBlock.except.map(String);
    }
    return out;
  });
}

/**
 * Whether the API server accepts a NetworkPolicy port as written, for reading it as it is (an entry
 * wrongly taken for invalid here is copied into the same shape, and its checks find nothing).
 */
// Stryker disable all: equivalent where it errs towards invalid (copied, not read as it is); the other way is tested
const policyPortValid = (p: Obj): boolean =>
  (absent(p.port) || isPortNumber(p.port) || (typeof p.port === 'string' && PORT_NAME.test(p.port))) &&
  (absent(p.endPort) || (isPortNumber(p.endPort) && typeof p.port === 'number' && p.endPort >= p.port)) &&
  (absent(p.protocol) || PROTOCOLS.has(p.protocol));
// Stryker restore all

/** A valid port with a string protocol (or none), a number or name, and a number endPort (or none), nothing else. */
// Stryker disable all: equivalent, an entry not read as it is gets copied into the same shape (the reader's tests pin that shape)
const isPlainPort = (p: unknown): boolean =>
  isPlain(p) && onlyKeys(p, 'protocol', 'port', 'endPort') && (p.protocol === undefined || typeof p.protocol === 'string') &&
  (p.port === undefined || typeof p.port === 'number' || typeof p.port === 'string') &&
  (p.endPort === undefined || typeof p.endPort === 'number') && policyPortValid(p);
// Stryker restore all

function policyPorts(v: unknown, check: ValueCheck, rule: () => string): PolicyPort[] | undefined {
  if (!Array.isArray(v)) return undefined;
  if (v.every(isPlainPort)) return v as PolicyPort[];
  const out: PolicyPort[] = [];
  for (let i = 0; i < v.length; i++) {
    const p: unknown = v[i];
    if (!isObj(p)) {
      check.add(`${rule()}, port ${i + 1}: ${show(p)} is not a port entry`, `write it as port: ${typeof p === 'number' ? p : '<number>'}, with protocol if not TCP`);
      continue;
    }
    const where = () => `${rule()}, port ${i + 1}`;
    if (!absent(p.port)) check.numberOrName(where, 'port', p.port);
    check.range(where, p.port, p.endPort);
    check.protocol(where, p.protocol, false);
    // (A null field is an absent one: a null protocol is TCP, a null port every port.)
    const port: { protocol?: string; port?: number | string; endPort?: number } = {};
    if (!absent(p.protocol)) port.protocol = String(p.protocol);
    if (typeof p.port === 'number' || typeof p.port === 'string') port.port = p.port;
    if (typeof p.endPort === 'number') port.endPort = p.endPort;
    out.push(port);
  }
  return out;
}

function rules(v: unknown, key: 'from' | 'to', check: ValueCheck): PolicyRule[] {
  if (!Array.isArray(v)) return [];
  let same = true;
  const out = v.map((r, i) => {
    if (!isObj(r)) { same = false; return {}; }
    const where = () => `${key === 'from' ? 'ingress' : 'egress'} rule ${i + 1}`;
    const peerList = peers(r[key], check, where);
    const ports = policyPorts(r.ports, check, where);
    // A rule of exactly these two fields, read as they are, is used as it is.
    if (same && peerList === r[key] && ports === r.ports && isPlain(r) && onlyKeys(r, key, 'ports')) return r as PolicyRule;
    same = false;
    return key === 'from' ? { from: peerList, ports } : { to: peerList, ports };
  });
  return same ? v as PolicyRule[] : out;
}

const namespaceOf = (o: Obj) => (typeof o.metadata?.namespace === 'string' && o.metadata.namespace ? o.metadata.namespace : 'default');

/** A NetworkPolicy object as the evaluator reads it (values the API server would reject go to `invalid`). */
export function policyOf(o: Obj, file?: string, invalid: InvalidValue[] = []): Policy {
  const spec = isObj(o.spec) ? o.spec : {};
  const check = new ValueCheck(invalid, file ?? '', namespaceOf(o), 'NetworkPolicy', o.metadata?.name);
  const podSelector = selector(spec.podSelector);
  checkSelector(check, () => 'podSelector', podSelector);
  if (Array.isArray(spec.policyTypes)) {
    for (const t of spec.policyTypes) if (t !== 'Ingress' && t !== 'Egress') check.add(`policyTypes: ${show(t)} is not Ingress or Egress`, 'write policyTypes as Ingress, Egress or both (as written, in that case)');
  }
  return {
    name: String(o.metadata?.name ?? ''),
    namespace: namespaceOf(o),
    ...(file ? { file } : {}),
    podSelector,
    policyTypes: policyTypesOf({ policyTypes: Array.isArray(spec.policyTypes) ? spec.policyTypes : undefined, egress: Array.isArray(spec.egress) ? spec.egress : undefined }),
    ingress: rules(spec.ingress, 'from', check),
    egress: rules(spec.egress, 'to', check),
  };
}

/**
 * The ports a pod template's containers serve (sidecars, init containers that keep running,
 * included), every port of every container checked as the API server would.
 */
function containerPorts(template: Obj, check: ValueCheck): ContainerPort[] {
  const out: ContainerPort[] = [];
  const spec = isObj(template.spec) ? template.spec : {};
  for (const [list, init] of [[spec.containers, false], [spec.initContainers, true]] as const) {
    for (const c of Array.isArray(list) ? list : []) {
      if (!isObj(c) || !Array.isArray(c.ports)) continue;
      const serves = !init || c.restartPolicy === 'Always';
      const container = `${init ? 'init container' : 'container'} ${nameText(c.name)}`;
      const names = new Set<string>();
      c.ports.forEach((p: unknown, i: number) => {
        if (!isObj(p)) {
          check.add(`${container}, port ${i + 1}: ${show(p)} is not a port entry`, 'write it as containerPort: <number>, with name and protocol if needed');
          return;
        }
        // (An empty name is no name; an empty protocol is TCP, as the API server defaults them.)
        const named = typeof p.name === 'string' && p.name !== '';
        const twice = named && names.has(p.name);
        const where = () => `${container}, port ${named ? p.name : show(p.containerPort)}`;
        check.number(where, 'containerPort', p.containerPort);
        check.portName(where, p.name);
        check.protocol(where, p.protocol, true);
        if (!absent(p.hostPort) && p.hostPort !== 0) check.number(where, 'hostPort', p.hostPort);
        if (twice) check.add(`${where()}: the container has two ports named ${p.name}`, 'give each port of a container a name of its own');
        if (named) names.add(p.name);
        if (!serves || typeof p.containerPort !== 'number') return;
        const protocol = typeof p.protocol === 'string' && p.protocol !== '' ? p.protocol : 'TCP';
        out.push(named ? { name: p.name, port: p.containerPort, protocol } : { port: p.containerPort, protocol });
      });
    }
  }
  return out;
}

/** Every object in the documents (a `List`'s items flattened), each with its file. */
function flatten(objects: readonly SourcedObject[]): Array<{ file: string; o: Obj }> {
  const out: Array<{ file: string; o: Obj }> = [];
  const walk = (file: string, o: unknown) => {
    if (!isObj(o)) return;
    if (typeof o.kind === 'string' && o.kind.endsWith('List') && Array.isArray(o.items)) {
      // The items of a typed list (`PodList`, as `kubectl get -o json` writes it) may leave out
      // their kind: it is the list's, as apimachinery reads them.
      const kind = o.kind === 'List' ? undefined : o.kind.slice(0, -'List'.length);
      for (const item of o.items) walk(file, kind && isObj(item) && absent(item.kind) ? { ...item, kind } : item);
      return;
    }
    out.push({ file, o });
  };
  for (const s of objects) walk(s.file, s.object);
  return out;
}

/** The cluster some objects describe; values the API server would reject are added to `invalid`. */
export function clusterOf(objects: readonly SourcedObject[], invalid: InvalidValue[] = []): Cluster {
  const all = lastOfEach(flatten(objects), invalid);
  const hostNetwork: Pod[] = [];
  const namespaces: Record<string, Record<string, string>> = {};
  const policies: Policy[] = [];
  const admin: AdminPolicy[] = [];
  const pods: Pod[] = [];
  const taken = new Set<string>();
  const podName = (ns: string, kind: string, name: string) => {
    let id = name;
    if (taken.has(`${ns}/${id}`)) id = `${kind.toLowerCase()}-${name}`;
    for (let i = 2; taken.has(`${ns}/${id}`); i++) id = `${kind.toLowerCase()}-${name}-${i}`;
    taken.add(`${ns}/${id}`);
    return id;
  };
  for (const { file, o } of all) {
    if (o.kind === 'Namespace' && typeof o.metadata?.name === 'string') {
      const labels = stringMap(o.metadata.labels);
      checkLabels(new ValueCheck(invalid, file, '', 'Namespace', o.metadata.name), 'labels', labels);
      namespaces[o.metadata.name] = { ...(namespaces[o.metadata.name] ?? {}), ...labels };
    } else if (o.kind === 'NetworkPolicy') {
      policies.push(policyOf(o, file, invalid));
    } else if (typeof o.kind === 'string' && Object.prototype.hasOwnProperty.call(ADMIN_KINDS, o.kind) && o.apiVersion === ADMIN_KINDS[o.kind]) {
      const p = adminPolicyOf(o, file, invalid);
      if (p) admin.push(p);
    } else if (typeof o.kind === 'string' && Object.prototype.hasOwnProperty.call(WORKLOADS, o.kind)) {
      const template = WORKLOADS[o.kind](o);
      if (!isObj(template)) continue;
      const ns = namespaceOf(o);
      const check = new ValueCheck(invalid, file, ns, o.kind, o.metadata?.name);
      const ports = containerPorts(template, check);
      checkLabels(check, o.kind === 'Pod' ? 'labels' : 'pod template labels', stringMap(template.metadata?.labels));
      // Host-network pods are outside NetworkPolicy (their ports are checked all the same): kept aside, to be reported.
      if (template.spec?.hostNetwork === true) {
        hostNetwork.push({ namespace: ns, name: String(o.metadata?.name ?? 'unnamed'), labels: stringMap(template.metadata?.labels), ports, source: `${file}: ${o.kind}/${o.metadata?.name ?? ''}` });
        continue;
      }
      const replicas = o.kind === 'Job' ? o.spec?.parallelism : o.kind === 'CronJob' ? o.spec?.jobTemplate?.spec?.parallelism : o.spec?.replicas;
      const several = o.kind === 'DaemonSet' || (typeof replicas === 'number' && replicas > 1);
      pods.push({
        namespace: ns, name: podName(ns, o.kind, String(o.metadata?.name ?? 'unnamed')), labels: stringMap(template.metadata?.labels),
        ports, source: `${file}: ${o.kind}/${o.metadata?.name ?? ''}`, ...(several ? { several } : {}),
      });
    }
  }
  // Services whose selector matches no workload stand for their pods (the registry's own output has Services only).
  // Which workloads a selector matches is looked up through their labels (not by trying each one).
  // (Host-network workloads count: a Service in front of one stands for no pod a policy could protect.)
  const workloads = new Cluster({ pods: [...pods, ...hostNetwork], policies: [] });
  for (const { file, o } of all) {
    if (o.kind !== 'Service' || !isObj(o.spec)) continue;
    const ns = namespaceOf(o);
    const check = new ValueCheck(invalid, file, ns, 'Service', o.metadata?.name);
    // (A targetPort of 0 or "" is the port, an empty protocol TCP, an empty name none: the API server's defaults.)
    const defaultTarget = (v: unknown) => absent(v) || v === 0 || v === '';
    (Array.isArray(o.spec.ports) ? o.spec.ports : []).forEach((p: unknown, i: number) => {
      if (!isObj(p)) {
        check.add(`port ${i + 1}: ${show(p)} is not a port entry`, 'write it as port: <number>, with targetPort, name and protocol if needed');
        return;
      }
      const where = () => `port ${typeof p.name === 'string' && p.name !== '' ? p.name : i + 1}`;
      check.number(where, 'port', p.port);
      if (!defaultTarget(p.targetPort)) check.numberOrName(where, 'targetPort', p.targetPort);
      check.protocol(where, p.protocol, true);
      if (!(absent(p.name) || p.name === '' || (typeof p.name === 'string' && DNS_LABEL.test(p.name)))) {
        check.add(`${where()}: name ${show(p.name)} is not a DNS label (1-63 lower-case letters, digits and '-', a letter or digit at either end)`,
          `rename it, for example to ${JSON.stringify(nameText(p.name).toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63) || 'port')}`);
      }
      if (!absent(p.nodePort) && p.nodePort !== 0) check.number(where, 'nodePort', p.nodePort);
    });
    if (!isObj(o.spec.selector) || Object.keys(o.spec.selector).length === 0) continue;
    const labels = stringMap(o.spec.selector);
    if (workloads.selectedIn(ns, { matchLabels: labels }).length > 0) continue;
    const ports: ContainerPort[] = [];
    for (const p of Array.isArray(o.spec.ports) ? o.spec.ports : []) {
      if (!isObj(p) || typeof p.port !== 'number') continue;
      const protocol = typeof p.protocol === 'string' && p.protocol !== '' ? p.protocol : 'TCP';
      if (typeof p.targetPort === 'string' && p.targetPort !== '') ports.push({ name: p.targetPort, port: p.port, protocol });
      else {
        const port = typeof p.targetPort === 'number' && p.targetPort !== 0 ? p.targetPort : p.port;
        // (No object spread: this runs for every port of every Service.)
        ports.push(typeof p.name === 'string' ? { name: p.name, port, protocol } : { port, protocol });
      }
    }
    pods.push({ namespace: ns, name: podName(ns, 'Service', String(o.metadata?.name ?? 'unnamed')), labels, ports, source: `${file}: Service/${o.metadata?.name ?? ''}` });
  }
  return new Cluster({ namespaces, pods, policies, hostNetwork, ...(admin.length ? { admin } : {}) });
}

/** The kinds whose objects are read (and so must be unique by kind, namespace and name). */
const READ_KINDS = new Set(['Namespace', 'NetworkPolicy', 'Service', ...Object.keys(WORKLOADS), ...Object.keys(ADMIN_KINDS)]);

/**
 * Each object once, as kubectl apply leaves it: of two objects with one kind, namespace and name,
 * the last read (a duplicate is an error naming both files: the API server holds one object).
 */
function lastOfEach(all: Array<{ file: string; o: Obj }>, invalid: InvalidValue[]): Array<{ file: string; o: Obj }> {
  const last = new Map<string, number>();
  all.forEach(({ o }, i) => {
    if (typeof o.kind !== 'string' || !READ_KINDS.has(o.kind) || typeof o.metadata?.name !== 'string') return;
    const clusterScoped = o.kind === 'Namespace' || Object.prototype.hasOwnProperty.call(ADMIN_KINDS, o.kind);
    const key = `${o.kind}\u0000${clusterScoped ? '' : namespaceOf(o)}\u0000${o.metadata.name}`;
    const before = last.get(key);
    if (before !== undefined) {
      const first = all[before];
      const ns = clusterScoped ? '' : namespaceOf(o);
      new ValueCheck(invalid, all[i].file, ns, o.kind, o.metadata.name).add(
        `${o.kind}/${o.metadata.name}${ns ? ` in ${ns}` : ''} is defined twice, in ${first.file || '(no file)'} and in ${all[i].file || '(no file)'} (read here as the last, as kubectl apply leaves it)`,
        'keep one of them, or give the other a name of its own');
    }
    last.set(key, i);
  });
  if (last.size === all.length) return all;
  const kept = new Set(last.values());
  return all.filter(({ o }, i) => typeof o.kind !== 'string' || !READ_KINDS.has(o.kind) || typeof o.metadata?.name !== 'string' || kept.has(i));
}

const MANIFEST = /\.(ya?ml|json)$/;

/** The manifest files of a folder, relative, sorted (see {@link manifestEntries}). */
export function manifestFiles(dir: string): string[] {
  return manifestEntries(dir).files;
}

/**
 * The manifest files of a folder, relative, sorted, as `kubectl apply -R -f` reads them: a link to
 * a file is read (kubectl opens it), a link to a folder is not walked (kubectl's walk does not
 * follow it), and a link to nothing cannot be read; both are problems, said rather than skipped.
 */
export function manifestEntries(dir: string): { files: string[]; problems: LoadProblem[] } {
  const files: string[] = [];
  const problems: LoadProblem[] = [];
  const walk = (rel: string) => {
    for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const file = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(file);
      else if (entry.isFile() && MANIFEST.test(entry.name)) files.push(file);
      else if (entry.isSymbolicLink()) {
        let target: fs.Stats | undefined;
        try {
          target = fs.statSync(path.join(dir, file));
        } catch {
          target = undefined;
        }
        if (!target) { if (MANIFEST.test(entry.name)) problems.push({ file, message: 'a link to nothing (kubectl -R -f would fail on it)' }); }
        else if (target.isDirectory()) problems.push({ file, message: 'a link to a folder: not read (kubectl -R -f does not follow it either); link the files, or copy the folder' });
        else if (target.isFile() && MANIFEST.test(entry.name)) files.push(file);
      }
    }
  };
  walk('');
  return { files, problems };
}

/**
 * The objects of manifest texts (YAML streams or JSON), with problems for files that are neither.
 * Texts that cannot hold an object with a `kind` are skipped unread.
 */
export function parseManifests(texts: ReadonlyArray<{ file: string; text: string }>): { objects: SourcedObject[]; problems: LoadProblem[] } {
  const objects: SourcedObject[] = [];
  const problems: LoadProblem[] = [];
  for (const { file, text } of texts) {
    // A text without "kind" and without an escape (`"k\u0069nd"`) holds no Kubernetes object:
    // the compose files and .env-like data the synth writes beside the manifests are not parsed.
    if (!text.includes('kind') && !text.includes('\\')) continue;
    try {
      const docs = file.endsWith('.json') ? [JSON.parse(text)] : jsYaml.loadAll(text, undefined, { schema: jsYaml.CORE_SCHEMA });
      for (const doc of docs) {
        if (isObj(doc) && typeof doc.kind === 'string') objects.push({ file, object: doc });
      }
    } catch (e) {
      problems.push({ file, message: (e as Error).message.split('\n')[0] });
    }
  }
  return { objects, problems };
}

/** The cluster a folder of manifests describes (every .yaml, .yml and .json under it that can hold an object). */
export function loadFolder(dir: string): Loaded {
  const entries = manifestEntries(dir);
  const texts = entries.files.map(file => ({ file, text: fs.readFileSync(path.join(dir, file), 'utf8') }));
  const parsed = parseManifests(texts);
  const objects = parsed.objects;
  const problems = [...entries.problems, ...parsed.problems].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  const invalid: InvalidValue[] = [];
  return { cluster: clusterOf(objects, invalid), problems, invalid, objects };
}
