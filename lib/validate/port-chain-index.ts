/**
 * The objects of a port chain check, read once: workloads (their pod template's labels,
 * containers, ports and probes), Services, NetworkPolicy rules with the pods they open, routes and
 * Gateways; each with where it comes from. Values as the API server defaults them (a protocol is
 * TCP when not given, a targetPort the port when not given, 0 or "").
 */
import { Finding, RuleId, Severity, finding } from '../model/finding';

export type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A rendered object and where it comes from. */
export interface ChainObject {
  readonly object: unknown;
  /** A chart's construct path or a manifest file: messages and `where.path` name it. */
  readonly origin: string;
  /** The manifest file, when it is one (`where.file`). @default none */
  readonly file?: string;
}

export interface ContainerPortOf { readonly name?: string; readonly containerPort: number; readonly protocol: string }
export interface Probe { readonly kind: string; readonly port: number | string }
export interface Container { readonly name: string; readonly ports: ContainerPortOf[]; readonly probes: Probe[] }
export interface Workload {
  readonly kind: string; readonly name: string; readonly namespace: string; readonly labels: Record<string, string>;
  readonly containers: Container[]; readonly templatePath: string; readonly source: ChainObject;
}
export interface ServicePort { readonly name?: string; readonly port: number; readonly targetPort: number | string; readonly protocol: string }
export interface Service {
  readonly name: string; readonly namespace: string; readonly selector?: Record<string, string>;
  readonly ports: ServicePort[]; readonly generated: boolean; readonly source: ChainObject;
}
export interface PolicyPortOf { readonly port: number | string; readonly protocol: string; readonly endPort?: number }
export interface PolicyRuleOf { readonly path: string; readonly pods: Workload[]; readonly ports: PolicyPortOf[] }
export interface PolicyOf { readonly name: string; readonly namespace: string; readonly rules: PolicyRuleOf[]; readonly source: ChainObject }
export interface Other { readonly json: Json; readonly namespace: string; readonly name: string; readonly source: ChainObject }

export interface ChainIndex {
  readonly workloads: Workload[];
  readonly services: Service[];
  readonly policies: PolicyOf[];
  readonly routes: Other[];
  readonly gateways: Other[];
  selected(namespace: string, selector: Record<string, string>): Workload[];
  workloadsIn(namespace: string): Workload[];
  servicesIn(namespace: string): Service[];
  service(namespace: string, name: string): Service | undefined;
}

/** Where the pod template sits in each workload kind. */
const TEMPLATE: Record<string, string[]> = {
  Deployment: ['spec', 'template'], StatefulSet: ['spec', 'template'], DaemonSet: ['spec', 'template'], ReplicaSet: ['spec', 'template'],
  ReplicationController: ['spec', 'template'], Job: ['spec', 'template'], CronJob: ['spec', 'jobTemplate', 'spec', 'template'], Pod: [],
};
const PROBES = ['readinessProbe', 'livenessProbe', 'startupProbe'] as const;
/** The `app.kubernetes.io/managed-by` of the registry's objects (lib/emit/kubernetes.ts MANAGED_BY; not imported, which would load the Kubernetes classes into every verify). */
const MANAGED_BY = 'cdk8s-ports';

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): Json[] => (Array.isArray(v) ? v.filter(isObj) : []);
const strings = (v: unknown): Record<string, string> => (isObj(v) ? Object.fromEntries(Object.entries(v).filter(([, x]) => typeof x === 'string')) as Record<string, string> : {});
const protocolOf = (v: unknown) => (typeof v === 'string' && v !== '' ? v : 'TCP');
const nsOf = (o: Json) => (typeof o.metadata?.namespace === 'string' && o.metadata.namespace ? o.metadata.namespace : 'default');

/** Whether labels carry every entry of a selector (matchLabels, or a Service's selector). */
export const selects = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);

/** A NetworkPolicy podSelector as the pods it selects; undefined for selectors with expressions (not checked here). */
function matchLabelsOf(sel: unknown): Record<string, string> | undefined {
  if (!isObj(sel)) return {};
  if (list(sel.matchExpressions).length) return undefined;
  return strings(sel.matchLabels);
}

function workloadOf(o: Json, source: ChainObject): Workload | undefined {
  const path = TEMPLATE[o.kind];
  const template = path.reduce<Json | undefined>((x, k) => (isObj(x) ? x[k] : undefined), o);
  if (!isObj(template) || template.spec?.hostNetwork === true) return undefined;
  const containers = [...list(template.spec?.containers), ...list(template.spec?.initContainers).filter(c => c.restartPolicy === 'Always')].map(c => ({
    name: String(c.name ?? ''),
    ports: list(c.ports).filter(p => typeof p.containerPort === 'number').map(p => ({ ...(typeof p.name === 'string' && p.name ? { name: p.name } : {}), containerPort: p.containerPort, protocol: protocolOf(p.protocol) })),
    probes: PROBES.flatMap(kind => {
      const pr = c[kind];
      const port = pr?.httpGet?.port ?? pr?.tcpSocket?.port ?? pr?.grpc?.port;
      return typeof port === 'number' || (typeof port === 'string' && port !== '') ? [{ kind, port }] : [];
    }),
  }));
  return {
    kind: o.kind, name: String(o.metadata?.name ?? ''), namespace: nsOf(o), labels: strings(template.metadata?.labels), containers,
    templatePath: path.length ? `.${path.join('.')}` : '', source,
  };
}

function serviceOf(o: Json, source: ChainObject): Service {
  const selector = strings(o.spec?.selector);
  return {
    name: String(o.metadata?.name ?? ''), namespace: nsOf(o), ...(Object.keys(selector).length ? { selector } : {}),
    ports: list(o.spec?.ports).filter(p => typeof p.port === 'number').map(p => ({
      ...(typeof p.name === 'string' && p.name ? { name: p.name } : {}), port: p.port, protocol: protocolOf(p.protocol),
      targetPort: p.targetPort === undefined || p.targetPort === null || p.targetPort === 0 || p.targetPort === '' ? p.port : p.targetPort,
    })),
    generated: o.metadata?.labels?.['app.kubernetes.io/managed-by'] === MANAGED_BY, source,
  };
}

/** Reads the objects once and indexes workloads by namespace. */
export function indexObjects(objects: readonly ChainObject[]): ChainIndex {
  const workloads: Workload[] = [];
  const services: Service[] = [];
  const policies: Json[] = [];
  const routes: Other[] = [];
  const gateways: Other[] = [];
  for (const source of objects) {
    const o = source.object;
    if (!isObj(o) || typeof o.kind !== 'string') continue;
    const other = { json: o, namespace: nsOf(o), name: String(o.metadata?.name ?? ''), source };
    if (Object.prototype.hasOwnProperty.call(TEMPLATE, o.kind)) {
      const w = workloadOf(o, source);
      if (w) workloads.push(w);
    } else if (o.kind === 'Service' && isObj(o.spec)) services.push(serviceOf(o, source));
    else if (o.kind === 'NetworkPolicy') policies.push({ o, source });
    else if (o.kind === 'Ingress' || o.kind === 'HTTPRoute' || o.kind === 'GRPCRoute') routes.push(other);
    else if (o.kind === 'Gateway') gateways.push(other);
  }
  const byNs = new Map<string, Workload[]>();
  const svcByNs = new Map<string, Service[]>();
  const push = <T>(m: Map<string, T[]>, k: string, v: T) => { const l = m.get(k); if (l) l.push(v); else m.set(k, [v]); };
  for (const w of workloads) push(byNs, w.namespace, w);
  for (const s of services) push(svcByNs, s.namespace, s);
  const svcByKey = new Map(services.map(s => [`${s.namespace}/${s.name}`, s]));
  // Workloads by namespace and label, so that a selector looks at the workloads of its rarest label only.
  const byLabel = new Map<string, Workload[]>();
  for (const w of workloads) {
    for (const [k, v] of Object.entries(w.labels)) {
      const key = `${w.namespace}\u0000${k}\u0000${v}`;
      const l = byLabel.get(key);
      if (l) l.push(w);
      else byLabel.set(key, [w]);
    }
  }
  const workloadsIn = (ns: string) => byNs.get(ns) ?? [];
  const selected = (ns: string, selector: Record<string, string>) => {
    let candidates = workloadsIn(ns);
    if (!candidates.length) return candidates; // (the registry's own output has Services only)
    for (const [k, v] of Object.entries(selector)) {
      const l = byLabel.get(`${ns}\u0000${k}\u0000${v}`) ?? [];
      if (l.length < candidates.length) candidates = l;
    }
    return candidates.filter(w => selects(selector, w.labels));
  };
  const index: ChainIndex = {
    workloads, services, routes, gateways, policies: [], selected, workloadsIn,
    servicesIn: ns => svcByNs.get(ns) ?? [],
    service: (ns, name) => svcByKey.get(`${ns}/${name}`),
  };
  // (Policies are compared with the pods they open: without workloads there is nothing to compare.)
  if (workloads.length) for (const { o, source } of policies as Array<{ o: Json; source: ChainObject }>) index.policies.push(policyOf(o, source, index));
  return index;
}

/** The pods a peer of a rule names (podSelector in the policy's namespace, or in a namespace named by its metadata.name label). */
function peerPods(peer: Json, ns: string, ix: ChainIndex): Workload[] | undefined {
  if (peer.ipBlock !== undefined) return [];
  const pods = matchLabelsOf(peer.podSelector);
  if (pods === undefined) return undefined;
  let target = ns;
  if (peer.namespaceSelector !== undefined) {
    const nsLabels = matchLabelsOf(peer.namespaceSelector);
    const name = nsLabels?.['kubernetes.io/metadata.name'];
    if (!nsLabels || name === undefined || Object.keys(nsLabels).length !== 1) return undefined;
    target = name;
  }
  return ix.selected(target, pods);
}

function policyOf(o: Json, source: ChainObject, ix: ChainIndex): PolicyOf {
  const ns = nsOf(o);
  const own = matchLabelsOf(o.spec?.podSelector);
  const portsOf = (rule: Json): PolicyPortOf[] => list(rule.ports).filter(p => typeof p.port === 'number' || typeof p.port === 'string')
    .map(p => ({ port: p.port, protocol: protocolOf(p.protocol), ...(typeof p.endPort === 'number' ? { endPort: p.endPort } : {}) }));
  const rules: PolicyRuleOf[] = [];
  list(o.spec?.ingress).forEach((rule, i) => {
    if (own) rules.push({ path: `.spec.ingress[${i}]`, pods: ix.selected(ns, own), ports: portsOf(rule) });
  });
  list(o.spec?.egress).forEach((rule, i) => {
    const peers = list(rule.to).map(p => peerPods(p, ns, ix));
    // Only egress rules whose every peer is pods the objects hold: an address or an unknown pod may listen on any port.
    if (!peers.length || peers.some(p => p === undefined || p.length === 0)) return;
    rules.push({ path: `.spec.egress[${i}]`, pods: peers.flat() as Workload[], ports: portsOf(rule) });
  });
  return { name: String(o.metadata?.name ?? ''), namespace: ns, rules, source };
}

/** A finding about an object of the chain: `where` names its file or chart path. */
export function chainFinding(rule: RuleId, origin: ChainObject, object: string, path: string, message: string, fix: string, port?: number, severity?: Severity): Finding {
  return finding(rule, message, { path: `${origin.origin}/${object}${path}`, ...(origin.file ? { file: origin.file } : {}), ...(port !== undefined ? { port } : {}) }, fix, severity);
}
