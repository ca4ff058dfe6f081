/**
 * Kubernetes objects to a {@link Cluster}: NetworkPolicies, Namespaces, and pods from workloads
 * (Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob, Pod: their
 * pod template's labels and container ports) and from Services whose selector matches no workload
 * (a pod with the selector's labels and the Service's target ports). Any folder of manifests,
 * charts written by hand included.
 */
import { Cluster } from './cluster';
import type { AdminPolicy } from './admin';
import { ADMIN_KINDS, adminPolicyOf } from './admin-load';
import { ContainerPort, LabelSelector, Pod, Policy, PolicyPeer, PolicyPort, PolicyRule, policyTypesOf } from './model';
import { DNS_LABEL, InvalidValue, Obj, PORT_NAME, PROTOCOLS, ValueCheck, absent, checkBlock, checkLabels, checkSelector, isObj, isPlain, isPlainSelector, isPortNumber, nameText, onlyKeys, selector, show, stringMap } from './values';


/** A Kubernetes object and the file it came from. */
export interface SourcedObject {
  readonly file: string;
  readonly object: unknown;
} // eslint-disable-line @typescript-eslint/no-explicit-any

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
