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
import type { WorkloadSpec } from '../emit/workload';
import type { Finding } from '../model/finding';
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

/** Makes the workload agree with the registry: named container ports, pod labels, namespace, connection variables, readiness probe. */
export function applyBinding(resolved: ResolvedRegistry, b: Binding): void {
  const spec = workloadSpec(resolved, b.service, b.environment);
  if (!spec) throw new Error(`${b.service} does not run in ${b.environment}: it cannot be bound there (${b.workload.node.path})`);
  const obj = apiObjectOf(b.workload);
  const template = TEMPLATE[obj.kind];
  if (!template) throw new Error(`${b.workload.node.path} is a ${obj.kind}; bind() takes a Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob or Pod`);
  const json = obj.toJson() as Json;
  const patches: JsonPatch[] = [];
  if (!json.metadata?.namespace) patches.push(JsonPatch.add('/metadata/namespace', spec.namespace));
  const labels = { ...(at(json, [...template, 'metadata', 'labels']) ?? {}), ...spec.podLabels };
  patches.push(JsonPatch.add(pointer([...template, 'metadata']), { ...(at(json, [...template, 'metadata']) ?? {}), labels }));
  const containers = (at(json, [...template, 'spec', 'containers']) ?? []) as Json[];
  const index = b.options.container === undefined ? 0 : containers.findIndex(c => c.name === b.options.container);
  if (index < 0 || !containers[index]) {
    throw new Error(`${b.workload.node.path} has no container${b.options.container ? ` named ${b.options.container}` : ''} to bind ${b.service} to`);
  }
  const container = { ...containers[index] };
  container.ports = mergePorts(container.ports ?? [], spec);
  if (b.options.connectionVariables !== false && Object.keys(spec.env).length) {
    const own = ((container.env ?? []) as Json[]).filter(e => !(e.name in spec.env));
    container.env = [...own, ...Object.entries(spec.env).map(([name, value]) => ({ name, value }))];
  }
  if (b.options.readinessProbe !== false && spec.readiness && !container.readinessProbe) {
    // The typed k8s classes render the patched props again: a probe port is an IntOrString there.
    const port = k8s.IntOrString.fromNumber(spec.readiness.port);
    container.readinessProbe = spec.readiness.path ? { httpGet: { path: spec.readiness.path, port } } : { tcpSocket: { port } };
  }
  patches.push(JsonPatch.replace(pointer([...template, 'spec', 'containers', index]), container));
  obj.addJsonPatch(...patches);
}

/** The registry's ports, named, in place of any entry with the same name or number. */
function mergePorts(existing: readonly Json[], spec: WorkloadSpec): Json[] {
  const names = new Set(spec.ports.map(p => p.name));
  const numbers = new Set(spec.ports.map(p => p.containerPort));
  const kept = existing.filter(p => !names.has(p.name) && !numbers.has(p.containerPort));
  return [...spec.ports.map(p => ({ name: p.name, containerPort: p.containerPort, protocol: p.protocol })), ...kept];
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
