/**
 * Binding users' workloads to the registry, and finding where their charts disagree with it.
 *
 * A binding is applied at synth time, when every service and connection is declared: it adds JSON
 * patches to the workload's API object (cdk8s applies them when the object is rendered), so it works
 * for cdk8s-plus workloads and plain `k8s.KubeDeployment`s alike.
 */
import { ApiObject, Chart, JsonPatch } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import { k8s } from '../../imports/k8s';
import { Finding, Where, finding } from '../model/finding';
import type { ResolvedRegistry } from '../model/resolved';
import { workloadSpec } from '../emit/workload';
import { RenderedObject, manifestDrift } from '../validate/workload-drift';

/** Options of `RegisteredService.bind()`. */
export interface BindOptions {
  /** The container that serves the registry's ports, by name. @default the first container */
  readonly container?: string;
  /** Add `<TARGET>_HOST`, `_PORT` and `_URL` variables for the service's connections. @default true */
  readonly connectionVariables?: boolean;
  /** Add a readiness probe on the health-check port when the service declares one and the container has none. @default true */
  readonly readinessProbe?: boolean;
}

/** A workload bound to a service in one environment. */
export interface Binding {
  readonly service: string;
  readonly environment: string;
  readonly workload: IConstruct;
  readonly options: BindOptions;
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Where the pod template sits in each workload kind. */
const TEMPLATE: Record<string, string[]> = {
  Deployment: ['spec', 'template'], StatefulSet: ['spec', 'template'], DaemonSet: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'], Job: ['spec', 'template'], CronJob: ['spec', 'jobTemplate', 'spec', 'template'], Pod: [],
};

const pointer = (parts: readonly (string | number)[]) => parts.map(p => `/${String(p).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
const at = (json: Json, parts: readonly (string | number)[]): Json | undefined => parts.reduce<Json | undefined>((o, k) => o?.[k], json);

function apiObjectOf(workload: IConstruct): ApiObject {
  try {
    return ApiObject.of(workload);
  } catch {
    throw new Error(`${workload.node.path} cannot be bound: it is not a Kubernetes object (a cdk8s-plus workload or a k8s.Kube* object)`);
  }
}

/** Kinds that live outside any namespace: a workload's companions of these kinds get none. */
const CLUSTER_SCOPED = new Set([
  'Namespace', 'Node', 'PersistentVolume', 'ClusterRole', 'ClusterRoleBinding', 'StorageClass', 'CustomResourceDefinition', 'PriorityClass',
  'IngressClass', 'RuntimeClass', 'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration', 'APIService', 'CSIDriver', 'CSINode',
  'VolumeAttachment', 'CertificateSigningRequest', 'FlowSchema', 'PriorityLevelConfiguration', 'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding', 'ClusterIssuer', 'GatewayClass',
]);

/**
 * Whether cdk8s renders `obj` through a generated `toJson_*` function after its JSON patches (the
 * typed `k8s.Kube*` classes, and so every cdk8s-plus object): a patched value must then have the shape
 * of the typed props (a probe port is an `IntOrString`), not of the rendered JSON.
 */
function rendersTyped(obj: ApiObject): boolean {
  for (let p = Object.getPrototypeOf(obj); p && p !== ApiObject.prototype; p = Object.getPrototypeOf(p)) {
    if (Object.prototype.hasOwnProperty.call(p, 'toJson')) return true;
  }
  return false;
}

/** A JSON patch that adds `value` at `parts` when the parent exists, else the parent holding it (recursively). */
function addAt(json: Json, parts: readonly (string | number)[], value: unknown): JsonPatch {
  for (let i = parts.length - 1; i > 0; i--) {
    const parent = at(json, parts.slice(0, i));
    if (parent !== undefined && parent !== null) break;
    value = { [parts[i]]: value };
    parts = parts.slice(0, i);
  }
  return JsonPatch.add(pointer(parts), value);
}

/**
 * Makes the workload agree with the registry by adding only what the registry owns: the namespace
 * (of the workload and of the companions it created, such as a StatefulSet's headless Service),
 * the pod labels the Service and NetworkPolicies select, the registry's container ports, the
 * connection variables and a readiness probe where the container has none. Each is a JSON patch on
 * exactly that field: everything the user wrote (resources, probes, env, volumes, security
 * contexts, other containers, annotations) renders as they wrote it. Where the user's own value
 * contradicts the registry, nothing is overwritten: the contradiction is a finding.
 */
export function applyBinding(resolved: ResolvedRegistry, b: Binding, exclusive = false): BindResult {
  const spec = workloadSpec(resolved, b.service, b.environment);
  if (!spec) {
    const envs = resolved.environments.map(e => e.name);
    throw new Error(envs.includes(b.environment)
      ? `${b.service} does not run in ${b.environment}: ${b.workload.node.path} cannot be bound there (its environments or status leave ${b.environment} out)`
      : `${b.workload.node.path} is bound to ${b.service} in ${b.environment}, but registry ${resolved.spec.name} has no environment ${b.environment}: its environments are ${envs.join(', ')}`);
  }
  const obj = apiObjectOf(b.workload);
  const template = TEMPLATE[obj.kind];
  if (!template) throw new Error(`${b.workload.node.path} is a ${obj.kind}; bind() takes a Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob or Pod`);
  const json = obj.toJson() as Json;
  const registry = resolved.spec.name;
  const findings: Finding[] = [];
  const name = `${obj.kind} ${json.metadata?.name ?? b.workload.node.path}`;
  const conflict = (path: string, message: string, fix: string, extra: Partial<Where> = {}) => findings.push(finding('workload-drift',
    `${name} (bound to ${b.service} in ${b.environment}): ${message}`,
    { registry, service: b.service, environment: b.environment, path: `${b.workload.node.path}${path}`, ...extra }, fix));
  const patches: JsonPatch[] = [];

  if (!json.metadata?.namespace) patches.push(JsonPatch.add('/metadata/namespace', spec.namespace));
  else if (json.metadata.namespace !== spec.namespace) {
    conflict('.metadata.namespace', `it is in namespace ${json.metadata.namespace}, but ${b.service} runs in ${spec.namespace} in ${b.environment}, ` +
      'where the registry\'s Service, default deny and NetworkPolicies are', `leave the namespace out (bind sets it) or set it to ${spec.namespace}`);
  }
  // Companions the workload made (a StatefulSet's headless Service, a ServiceAccount) go where it goes.
  for (const c of b.workload.node.findAll()) {
    if (!(c instanceof ApiObject) || c === obj || CLUSTER_SCOPED.has(c.kind)) continue;
    if (!(c.toJson() as Json).metadata?.namespace) c.addJsonPatch(JsonPatch.add('/metadata/namespace', spec.namespace));
  }

  const labelsAt = [...template, 'metadata', 'labels'];
  const labels = (at(json, labelsAt) ?? {}) as Record<string, unknown>;
  const selector = (json.kind === 'Pod' ? undefined : at(json, [...(json.kind === 'CronJob' ? ['spec', 'jobTemplate'] : []), 'spec', 'selector', 'matchLabels'])) as Record<string, unknown> | undefined;
  // cdk8s-plus selects a workload's pods by a label of its construct address (a hash). A workload
  // that alone stands for its service in the environment selects them by the registry's labels
  // instead, which then also replace that label wherever the app selected the workload by it.
  const addr = exclusive && selector && typeof selector[ADDR] === 'string' && labels[ADDR] === selector[ADDR] ? selector[ADDR] as string : undefined;
  if (addr !== undefined) {
    const selectorAt = [...(json.kind === 'CronJob' ? ['spec', 'jobTemplate'] : []), 'spec', 'selector', 'matchLabels'];
    patches.push(JsonPatch.remove(pointer([...labelsAt, ADDR])), JsonPatch.remove(pointer([...selectorAt, ADDR])));
    for (const [k, v] of Object.entries(spec.podLabels)) if (selector![k] === undefined) patches.push(JsonPatch.add(pointer([...selectorAt, k]), v));
  }
  for (const [k, v] of Object.entries(spec.podLabels)) {
    if (labels[k] === v) continue;
    if (labels[k] !== undefined && selector?.[k] !== undefined) {
      conflict(`.spec.selector.matchLabels.${k}`, `it selects its pods by ${k}=${String(selector[k])}, but the registry selects ${b.service}'s pods by ${k}=${v}`,
        `take ${k} out of the workload's selector, or give ${b.service} a selector in the registry that the pods carry`);
      continue;
    }
    patches.push(addAt(json, [...labelsAt, k], v));
  }

  const containersAt = [...template, 'spec', 'containers'];
  const containers = (at(json, containersAt) ?? []) as Json[];
  const index = b.options.container === undefined ? 0 : containers.findIndex(c => c.name === b.options.container);
  if (index < 0 || !containers[index]) {
    throw new Error(`${b.workload.node.path} has no container${b.options.container ? ` named ${b.options.container}` : ''} to bind ${b.service} to`);
  }
  const container = containers[index];
  const at_ = (...parts: (string | number)[]) => [...containersAt, index, ...parts];
  const where = (...parts: (string | number)[]) => `.${[...template, 'spec', 'containers'].join('.')}[${index}]${parts.map(p => typeof p === 'number' ? `[${p}]` : `.${p}`).join('')}`;

  // Ports: an entry with the registry's number gets its name; a missing one is added; one that
  // contradicts the registry stays as written and is reported (here, or by workload-drift).
  const ports = (container.ports ?? []) as Json[];
  let appended = 0;
  for (const p of spec.ports) {
    const i = ports.findIndex(e => e.containerPort === p.containerPort && (e.protocol || 'TCP') === p.protocol);
    if (i >= 0) {
      if (ports[i].name === undefined || ports[i].name === '') patches.push(JsonPatch.add(pointer(at_('ports', i, 'name')), p.name));
      else if (ports[i].name !== p.name) {
        conflict(where('ports', i, 'name'), `container port ${p.containerPort}/${p.protocol} is named ${ports[i].name}, but ${b.service}'s port ${p.containerPort} is named ${p.name} in the registry`,
          `name it ${p.name} (or leave the port out: bind adds it)`, { port: p.containerPort, portName: p.name });
      }
      continue;
    }
    if (ports.some(e => e.name === p.name)) continue; // the same name on another number: workload-drift reports it
    const entry = { name: p.name, containerPort: p.containerPort, protocol: p.protocol };
    patches.push(ports.length + appended === 0 ? addAt(json, at_('ports'), [entry]) : JsonPatch.add(pointer(at_('ports', '-')), entry));
    appended++;
  }

  if (b.options.connectionVariables !== false) {
    const env = (container.env ?? []) as Json[];
    let added = 0;
    for (const [variable, value] of Object.entries(spec.env)) {
      const i = env.findIndex(e => e.name === variable);
      if (i >= 0) {
        // A value from a Secret or a field is the user's choice; a literal that disagrees is drift.
        if (env[i].value !== undefined && env[i].value !== value) {
          conflict(where('env', i), `${variable} is ${JSON.stringify(env[i].value)}, but the registry gives ${JSON.stringify(value)}`,
            `remove ${variable} from the container (bind sets it), or pass connectionVariables: false`);
        }
        continue;
      }
      const entry = { name: variable, value };
      patches.push(env.length + added === 0 ? addAt(json, at_('env'), [entry]) : JsonPatch.add(pointer(at_('env', '-')), entry));
      added++;
    }
  }

  if (b.options.readinessProbe !== false && spec.readiness && !container.readinessProbe) {
    const port = rendersTyped(obj) ? k8s.IntOrString.fromNumber(spec.readiness.port) : spec.readiness.port;
    patches.push(JsonPatch.add(pointer(at_('readinessProbe')), spec.readiness.path ? { httpGet: { path: spec.readiness.path, port } } : { tcpSocket: { port } }));
  }
  if (patches.length) obj.addJsonPatch(...patches);
  return { findings, ...(addr !== undefined ? { selectedBy: { [ADDR]: addr } } : {}), podLabels: spec.podLabels };
}

/** What a binding did: its findings, and the label the workload's pods no longer carry (replaced by `podLabels`). */
export interface BindResult {
  readonly findings: Finding[];
  readonly selectedBy?: Readonly<Record<string, string>>;
  readonly podLabels: Readonly<Record<string, string>>;
}

/** The label cdk8s-plus gives a workload's pods and selects them by. */
const ADDR = 'cdk8s.io/metadata.addr';

/** Kinds whose selectors may name a workload's pods by cdk8s-plus's label, and where. */
const SELECTING = new Set(['Service', 'NetworkPolicy', 'PodDisruptionBudget']);

/**
 * Where the app selected re-labelled workloads' pods by cdk8s-plus's label (a Service made by
 * `exposeViaService`, a StatefulSet's headless Service, a cdk8s-plus NetworkPolicy): the same pods
 * by the registry's labels. Each object is rendered and walked once, whatever the number of workloads.
 */
export function reselect(objects: readonly ApiObject[], results: readonly BindResult[]): void {
  const byValue = new Map<string, Readonly<Record<string, string>>>();
  for (const r of results) if (r.selectedBy) byValue.set(r.selectedBy[ADDR], r.podLabels);
  if (!byValue.size) return;
  for (const obj of objects) {
    if (!SELECTING.has(obj.kind)) continue;
    const patches: JsonPatch[] = [];
    const walk = (node: unknown, parts: (string | number)[]) => {
      if (Array.isArray(node)) node.forEach((x, i) => walk(x, [...parts, i]));
      else if (node && typeof node === 'object') {
        const record = node as Record<string, unknown>;
        const labels = typeof record[ADDR] === 'string' && parts.length ? byValue.get(record[ADDR] as string) : undefined;
        if (labels) {
          patches.push(JsonPatch.remove(pointer([...parts, ADDR])));
          for (const [k, v] of Object.entries(labels)) if (record[k] === undefined) patches.push(JsonPatch.add(pointer([...parts, k]), v));
          return;
        }
        for (const [k, v] of Object.entries(record)) if (k !== 'metadata') walk(v, [...parts, k]);
      }
    };
    let json: unknown;
    try {
      json = obj.toJson();
    } catch {
      continue; // an object that cannot render yet is cdk8s' to report when it renders it
    }
    walk(json, []);
    if (patches.length) obj.addJsonPatch(...patches);
  }
}

/**
 * `workload-drift` of the app's other charts: the objects of every chart that is not a registry's,
 * checked by {@link manifestDrift} (the check the cdk8s validation plugin runs on a synth's output).
 */
export function workloadDrift(resolved: ResolvedRegistry, scope: Construct, isRegistryChart: (chart: Chart) => boolean, bound: readonly Binding[]): Finding[] {
  const boundEnv = new Map(bound.map(b => [apiObjectOf(b.workload), b.environment]));
  const objects: RenderedObject[] = [];
  for (const c of scope.node.findAll()) {
    // Only the users' own objects: every registry's charts are the registry's output.
    if (!(c instanceof ApiObject) || isRegistryChart(Chart.of(c))) continue;
    objects.push({ object: c.toJson(), chartPath: Chart.of(c).node.path, label: c.node.path, ...(boundEnv.has(c) ? { environment: boundEnv.get(c)! } : {}) });
  }
  return manifestDrift(resolved, objects);
}
