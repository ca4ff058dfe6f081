/**
 * Values of Kubernetes objects, read and checked as the API server checks them: port numbers and
 * names, protocols, label keys and values, selectors, CIDRs. A value it would reject is an
 * {@link InvalidValue} (rule manifest-invalid), said with the object, the field and a fix.
 */
import * as ipaddr from 'ipaddr.js';
import { LabelSelector } from './model';


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

export const PROTOCOLS = new Set(['TCP', 'UDP', 'SCTP']);
/** An IANA service name as the API server checks a port name: 1-15 of a-z, 0-9 and `-`, a letter at least, no `-` at the ends or twice in a row. */
export const PORT_NAME = /^(?!-)(?!.*--)(?=.*[a-z])[a-z0-9-]{1,15}(?<!-)$/;
/** A DNS label (RFC 1123), what a Service's port name must be. */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
export const isPortNumber = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535;
/** A field the API server takes as not given: absent, or null (Helm writes an empty value as null). */
export const absent = (v: unknown): v is undefined | null => v === undefined || v === null;
/** A value as a message shows it: strings quoted, numbers as numbers (NaN and Infinity too). */
export const show = (v: unknown): string => (typeof v === 'number' ? String(v) : JSON.stringify(v) ?? String(v));
/** A name read from a manifest, as text. */
export const nameText = (v: unknown): string => (typeof v === 'string' ? v : absent(v) ? '(unnamed)' : show(v));
export const NUMBER_RULE = 'an integer from 1 to 65535';

/** Which entry of an object a value is in (`container web, port http`): a function where most entries are fine, so that the text is only built for a finding. */
export type Where = string | (() => string);
export const at = (where: Where): string => (typeof where === 'string' ? where : where());

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
export const LABEL_NAME = /^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$/;
export const DNS_SUBDOMAIN = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/;
export const labelKeys = new Map<string, boolean>();
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
export const LABEL_RULE = 'up to 63 letters, digits, \'-\', \'_\' and \'.\', a letter or digit at either end';

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
export function checkLabels(check: ValueCheck, where: string, labels: Readonly<Record<string, string>>): void {
  for (const k in labels) {
    if (!isLabelKey(k)) check.add(`${where}: label key ${show(k)} is not a label key (an optional DNS-subdomain prefix and '/', then ${LABEL_RULE})`, 'rename the label, and every selector that names it');
    if (!isLabelValue(labels[k])) check.add(`${where}: label value ${show(labels[k])} of ${k} is not a label value (empty, or ${LABEL_RULE})`, 'change the value, and every selector that names it');
  }
}

/** The ipBlock checks the API server makes: a CIDR, except blocks that are CIDRs of the same family strictly inside it. */
export function checkBlock(check: ValueCheck, where: () => string, block: { cidr: string; except?: readonly string[] }): void {
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

export function suggestName(v: unknown): string {
  // Stryker disable next-line Regex: equivalent, the runs of '-' the first replacement leaves are merged by the second
  const s = nameText(v).toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-+/g, '-').replace(/^-|-$/g, '').slice(0, 15).replace(/-$/, '');
  return /[a-z]/.test(s) ? s : `port-${s}`.slice(0, 15).replace(/-$/, '');
}

export type Obj = Record<string, any>;

export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
/** Labels as strings (numbers and booleans written unquoted read as text); a map that is already all strings is used as it is. */
export function stringMap(v: unknown): Record<string, string> {
  if (!isObj(v)) return {};
  let plain = true;
  for (const k in v) if (typeof v[k] !== 'string') { plain = false; break; }
  if (plain && Object.getPrototypeOf(v) === Object.prototype) return v as Record<string, string>;
  return Object.fromEntries(Object.entries(v).filter(([, x]) => typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean').map(([k, x]) => [k, String(x)]));
}

export const isPlain = (v: unknown): v is Obj => isObj(v) && Object.getPrototypeOf(v) === Object.prototype;
/** Whether every own key of `v` is one of these (then it can be read as it is: no other field hides in it). */
export function onlyKeys(v: Obj, a: string, b?: string, c?: string): boolean {
  for (const k in v) if (k !== a && k !== b && k !== c) return false;
  return true;
}

/** A selector with string `matchLabels` only: the evaluator's shape already. */
export const isPlainSelector = (v: unknown): boolean => {
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
