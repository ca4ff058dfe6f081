/**
 * AdminNetworkPolicy, BaselineAdminNetworkPolicy (policy.networking.k8s.io/v1alpha1) and
 * ClusterNetworkPolicy (v1alpha2) objects read into ./admin.ts's shape, checked as the API server
 * checks them with the CRDs' schema rules (kubernetes-sigs/network-policy-api, apis/): what it
 * would reject is an InvalidValue (`manifest-invalid`), and such an object is left out of the
 * evaluation (the API server holds no such object).
 */
import { AdminPeer, AdminPolicy, AdminPort, AdminRule } from './admin';
import { InvalidValue, Obj, ValueCheck, checkSelector, isObj, nameText, parseCidrStrict, selector } from './values';

export const ADMIN_KINDS: Readonly<Record<string, string>> = {
  AdminNetworkPolicy: 'policy.networking.k8s.io/v1alpha1',
  BaselineAdminNetworkPolicy: 'policy.networking.k8s.io/v1alpha1',
  ClusterNetworkPolicy: 'policy.networking.k8s.io/v1alpha2',
};

const PROTOCOLS = ['TCP', 'UDP', 'SCTP'];
const show = (v: unknown) => (typeof v === 'number' ? String(v) : JSON.stringify(v) ?? String(v));
const isPort = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535;
const given = (o: Obj, k: string) => o[k] !== undefined && o[k] !== null;

/** What differs between the three kinds. */
interface KindRules {
  readonly actions: readonly string[];
  /** Rules per direction, peers per rule (and ports per rule). */
  readonly maxRules: number;
  readonly maxPeers: number;
}

const RULES: Record<AdminPolicy['kind'], KindRules> = {
  AdminNetworkPolicy: { actions: ['Allow', 'Deny', 'Pass'], maxRules: 100, maxPeers: 100 },
  BaselineAdminNetworkPolicy: { actions: ['Allow', 'Deny'], maxRules: 100, maxPeers: 100 },
  ClusterNetworkPolicy: { actions: ['Accept', 'Deny', 'Pass'], maxRules: 25, maxPeers: 25 },
};

/** `{namespaceSelector, podSelector}`, both required. */
function namespacedPod(check: ValueCheck, where: () => string, v: unknown): AdminPeer['pods'] {
  if (!isObj(v) || !isObj(v.namespaceSelector) || !isObj(v.podSelector)) {
    check.add(`${where()}: pods needs namespaceSelector and podSelector (use {} for all)`, 'give pods both a namespaceSelector and a podSelector');
    // (Read as written: a selector left out selects all, as other analyzers read it.)
    if (!isObj(v)) return undefined;
  }
  const namespaceSelector = selector(v.namespaceSelector ?? {});
  const podSelector = selector(v.podSelector ?? {});
  checkSelector(check, () => `${where()}, pods.namespaceSelector`, namespaceSelector);
  checkSelector(check, () => `${where()}, pods.podSelector`, podSelector);
  return { namespaceSelector, podSelector };
}

/** A subject or a peer: exactly one of the fields `allowed` lists. */
function peerOf(check: ValueCheck, where: () => string, v: unknown, allowed: readonly string[]): AdminPeer | undefined {
  if (!isObj(v)) { check.add(`${where()}: ${show(v)} is not a peer`, `write it as one of ${allowed.join(', ')}`); return undefined; }
  const set = Object.keys(v).filter(k => given(v, k));
  const unknown = set.filter(k => !allowed.includes(k));
  if (unknown.length) { check.add(`${where()}: ${unknown.join(', ')} is not a field here (${allowed.join(', ')})`, `write one of ${allowed.join(', ')}`); return undefined; }
  if (set.length !== 1) { check.add(`${where()}: exactly one of ${allowed.join(', ')} must be set, not ${set.length}`, 'split it into one entry per field'); return undefined; }
  const k = set[0];
  if (k === 'namespaces' || k === 'nodes') {
    if (!isObj(v[k])) { check.add(`${where()}: ${k} is not a label selector`, `write ${k}: {} for all, or matchLabels/matchExpressions`); return undefined; }
    const s = selector(v[k]);
    checkSelector(check, () => `${where()}, ${k}`, s);
    return { [k]: s };
  }
  if (k === 'pods') { const pods = namespacedPod(check, where, v.pods); return pods ? { pods } : undefined; }
  if (k === 'networks') {
    const list = Array.isArray(v.networks) ? v.networks : [];
    if (list.length < 1 || list.length > 25) check.add(`${where()}: networks has ${list.length} CIDRs (1 to 25)`, 'list 1 to 25 CIDRs, or split the rule');
    const bad = list.filter((c: unknown) => typeof c !== 'string' || !parseCidrStrict(c));
    if (bad.length) { check.add(`${where()}: networks ${bad.map(show).join(', ')} ${bad.length === 1 ? 'is' : 'are'} not a CIDR`, 'write each as address/length, for example 10.0.0.0/8'); return undefined; }
    return { networks: list as string[] };
  }
  // domainNames: no address is known for a name here: a peer that matches nothing (said in docs/traffic.md).
  return {};
}

function portsOf(check: ValueCheck, where: () => string, kind: AdminPolicy['kind'], v: unknown): AdminPort[] | undefined {
  if (v === undefined || v === null) return undefined;
  const field = kind === 'ClusterNetworkPolicy' ? 'protocols' : 'ports';
  const list = Array.isArray(v) ? v : [];
  if (list.length < 1 || list.length > (kind === 'ClusterNetworkPolicy' ? 25 : 100)) check.add(`${where()}: ${field} has ${list.length} entries (1 to ${kind === 'ClusterNetworkPolicy' ? 25 : 100})`, `remove ${field} for every port, or list the ports`);
  const out: AdminPort[] = [];
  const range = (w: string, r: unknown, protocol: string) => {
    if (!isObj(r) || !isPort(r.start) || !isPort(r.end) || !(r.start < r.end)) {
      check.add(`${w}: range ${show(r)} needs start and end, integers from 1 to 65535, start below end`, 'write start below end (a single port as a number)');
      return;
    }
    out.push({ protocol, port: r.start, endPort: r.end });
  };
  list.forEach((p: unknown, i: number) => {
    const w = `${where()}, ${field} ${i + 1}`;
    const set = isObj(p) ? Object.keys(p).filter(k => given(p, k)) : [];
    if (!isObj(p) || set.length !== 1) { check.add(`${w}: exactly one field must be set, not ${set.length}`, 'one entry per port'); return; }
    const k = set[0];
    if (kind !== 'ClusterNetworkPolicy') {
      if (k === 'namedPort') { if (typeof p.namedPort === 'string' && p.namedPort) out.push({ name: p.namedPort }); else check.add(`${w}: namedPort ${show(p.namedPort)} is no name`, 'name a container port'); return; }
      const x = p[k];
      const protocol = isObj(x) && given(x, 'protocol') ? x.protocol : 'TCP';
      if (!PROTOCOLS.includes(protocol)) { check.add(`${w}: protocol ${show(protocol)} is not TCP, UDP or SCTP`, 'write protocol: TCP, UDP or SCTP'); return; }
      if (k === 'portNumber') { if (isObj(x) && isPort(x.port)) out.push({ protocol, port: x.port }); else check.add(`${w}: portNumber.port ${show(isObj(x) ? x.port : x)} is not an integer from 1 to 65535`, 'write the port as a number'); return; }
      if (k === 'portRange') { range(w, x, protocol); return; }
      check.add(`${w}: ${k} is not portNumber, namedPort or portRange`, 'write portNumber, namedPort or portRange');
      return;
    }
    if (k === 'destinationNamedPort') { if (typeof p.destinationNamedPort === 'string' && p.destinationNamedPort) out.push({ name: p.destinationNamedPort }); else check.add(`${w}: destinationNamedPort ${show(p.destinationNamedPort)} is no name`, 'name a container port'); return; }
    if (!['tcp', 'udp', 'sctp'].includes(k)) { check.add(`${w}: ${k} is not tcp, udp, sctp or destinationNamedPort`, 'write tcp, udp, sctp or destinationNamedPort'); return; }
    const protocol = k.toUpperCase();
    const x = p[k];
    if (!isObj(x) || !isObj(x.destinationPort)) {
      // (`tcp: {}` is rejected: at least one property; with none the whole protocol would be meant.)
      if (isObj(x) && Object.keys(x).length === 0) check.add(`${w}: ${k} is empty (it needs destinationPort)`, `give ${k} a destinationPort, or remove protocols for every port`);
      else check.add(`${w}: ${k}.destinationPort is missing`, 'give it a destinationPort with number or range');
      return;
    }
    const d = x.destinationPort;
    const fields = Object.keys(d).filter(f => given(d, f));
    if (fields.length !== 1) { check.add(`${w}: destinationPort needs exactly one of number and range`, 'write number or range'); return; }
    if (fields[0] === 'number') { if (isPort(d.number)) out.push({ protocol, port: d.number }); else check.add(`${w}: number ${show(d.number)} is not an integer from 1 to 65535`, 'write the port as a number'); return; }
    if (fields[0] === 'range') { range(w, d.range, protocol); return; }
    check.add(`${w}: ${fields[0]} is not number or range`, 'write number or range');
  });
  return out;
}

function rulesOf(check: ValueCheck, kind: AdminPolicy['kind'], direction: 'ingress' | 'egress', v: unknown): AdminRule[] {
  if (v === undefined || v === null) return [];
  const k = RULES[kind];
  const list = Array.isArray(v) ? v : [];
  if (!Array.isArray(v)) check.add(`${direction} is not a list of rules`, `write ${direction} as a list`);
  if (list.length > k.maxRules) check.add(`${direction} has ${list.length} rules, more than ${k.maxRules}`, `keep at most ${k.maxRules} rules, or split the policy`);
  const peerKey = direction === 'ingress' ? 'from' : 'to';
  const allowed = direction === 'ingress' ? ['namespaces', 'pods'] : kind === 'BaselineAdminNetworkPolicy' ? ['namespaces', 'pods', 'nodes', 'networks'] : ['namespaces', 'pods', 'nodes', 'networks', 'domainNames'];
  return list.map((r: unknown, i: number): AdminRule => {
    const where = () => `${direction} rule ${i + 1}${isObj(r) && typeof r.name === 'string' ? ` "${r.name}"` : ''}`;
    if (!isObj(r)) { check.add(`${where()}: ${show(r)} is not a rule`, 'write action, and from or to'); return { action: 'Deny', written: '', peers: [] }; }
    if (typeof r.name === 'string' && r.name.length > 100) check.add(`${where()}: name of ${r.name.length} characters (at most 100)`, 'shorten the name');
    const action = typeof r.action === 'string' ? r.action : '';
    if (!k.actions.includes(action)) check.add(`${where()}: action ${show(r.action)} is not ${k.actions.join(', ')}`, `write action as ${k.actions.join(', ')} (as written, in that case)`);
    const raw = Array.isArray(r[peerKey]) ? r[peerKey] : [];
    if (raw.length < 1 || raw.length > k.maxPeers) check.add(`${where()}: ${peerKey} has ${raw.length} peers (1 to ${k.maxPeers})`, `list 1 to ${k.maxPeers} peers`);
    const peers = raw.map((p: unknown, j: number) => peerOf(check, () => `${where()}, ${peerKey} ${j + 1}`, p, allowed)).filter((p: AdminPeer | undefined): p is AdminPeer => !!p);
    const ports = portsOf(check, where, kind, kind === 'ClusterNetworkPolicy' ? r.protocols : r.ports);
    if (direction === 'egress' && ports?.some(p => p.name !== undefined) && peers.some(p => p.networks || p.nodes || raw.some((x: Obj) => isObj(x) && given(x, 'domainNames')))) {
      check.add(`${where()}: a named port with a networks, nodes or domainNames peer (they have no named ports)`, 'use port numbers, or move those peers to a rule of their own');
    }
    // (A rule of an action the kind does not have matches nothing.)
    const known = k.actions.includes(action);
    return { ...(typeof r.name === 'string' && r.name ? { name: r.name } : {}), action: action === 'Accept' ? 'Allow' : known ? (action as AdminRule['action']) : 'Deny', written: action, peers: known ? peers : [], ...(ports ? { ports } : {}) };
  });
}

/**
 * An admin-tier object as the evaluator reads it. What the API server would reject is added to
 * `invalid` and read as written, as a NetworkPolicy's values are (a rule of an unknown action, a
 * peer or port that is not one, match nothing; a selector left out selects all); undefined only
 * when it has no subject to read.
 */
export function adminPolicyOf(o: Obj, file: string, invalid: InvalidValue[]): AdminPolicy | undefined {
  const kind = o.kind as AdminPolicy['kind'];
  const check = new ValueCheck(invalid, file, '', kind, o.metadata?.name);
  const name = nameText(o.metadata?.name);
  const spec: Obj = isObj(o.spec) ? o.spec : {};
  if (!isObj(o.spec)) check.add('spec is missing', 'give it a spec with subject and rules');
  if (kind === 'BaselineAdminNetworkPolicy' && name !== 'default') {
    check.add(`a BaselineAdminNetworkPolicy must be named default, not ${show(name)} (one per cluster)`, 'name it default, merging the rules into the one baseline policy');
  }
  let tier: AdminPolicy['tier'] = kind === 'BaselineAdminNetworkPolicy' ? 'Baseline' : 'Admin';
  if (kind === 'ClusterNetworkPolicy') {
    if (spec.tier === 'Admin' || spec.tier === 'Baseline') tier = spec.tier;
    else check.add(`tier ${show(spec.tier)} is not Admin or Baseline`, 'write tier: Admin or tier: Baseline');
  }
  let priority: number | undefined;
  if (kind !== 'BaselineAdminNetworkPolicy') {
    // (Out of range, it is still read as written: it orders where its number puts it.)
    if (typeof spec.priority === 'number' && Number.isFinite(spec.priority)) priority = spec.priority;
    if (!(typeof spec.priority === 'number' && Number.isInteger(spec.priority) && spec.priority >= 0 && spec.priority <= 1000)) check.add(`priority ${spec.priority === undefined ? 'is missing' : `${show(spec.priority)} is not an integer from 0 to 1000`}`, 'give it a priority from 0 (first) to 1000');
  }
  const subject = peerOf(check, () => 'subject', spec.subject, ['namespaces', 'pods']);
  const ingress = rulesOf(check, kind, 'ingress', spec.ingress);
  const egress = rulesOf(check, kind, 'egress', spec.egress);
  if (!subject || (!subject.namespaces && !subject.pods)) return undefined;
  return { kind, name, ...(file ? { file } : {}), tier, ...(priority !== undefined ? { priority } : {}), subject, ingress, egress };
}
