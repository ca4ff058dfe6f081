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
import { Finding, finding } from '../model/finding';
import type { ResolvedRegistry } from '../model/resolved';
import { podLabelsOf, workloadSpec } from '../emit/workload';

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

const PROBES = ['readinessProbe', 'livenessProbe', 'startupProbe'] as const;

/**
 * `workload-drift`: every container port, probe port and Service port in the app's other charts
 * that belongs to a registered service (its pod labels carry the service's selector) and disagrees
 * with the registry. Named ports must carry the registry's number; unnamed container ports and
 * numeric probe and target ports must be one of the service's ports.
 */
export function workloadDrift(resolved: ResolvedRegistry, scope: Construct, isRegistryChart: (chart: Chart) => boolean, bound: readonly Binding[]): Finding[] {
  const registry = resolved.spec.name;
  const out: Finding[] = [];
  const services = Object.keys(resolved.spec.services ?? {}).map(name => ({ name, labels: podLabelsOf(resolved, name) }));
  const boundEnv = new Map(bound.map(b => [apiObjectOf(b.workload), b.environment]));
  const envByNamespace = new Map(resolved.environments.map(e => [e.namespace, e.name]));
  for (const c of scope.node.findAll()) {
    // Only the users' own objects: every registry's charts are the registry's output.
    if (!(c instanceof ApiObject) || isRegistryChart(Chart.of(c))) continue;
    const json = c.toJson() as Json;
    const template = TEMPLATE[json.kind];
    const labels: Json | undefined = json.kind === 'Service' ? json.spec?.selector : template ? at(json, [...template, 'metadata', 'labels']) : undefined;
    if (!labels) continue;
    const matches = (l: Record<string, string>) => Object.entries(l).every(([k, v]) => labels[k] === v);
    for (const svc of services.filter(s => matches(s.labels))) {
      const envs = boundEnv.has(c) ? [boundEnv.get(c)!] : json.metadata?.namespace && envByNamespace.has(json.metadata.namespace)
        ? [envByNamespace.get(json.metadata.namespace)!] : resolved.environments.map(e => e.name);
      const allocations = resolved.allocations.filter(a => a.service === svc.name && envs.includes(a.environment));
      if (!allocations.length) continue;
      const targets = new Set(allocations.map(a => a.targetPort));
      const byName = new Map(allocations.map(a => [a.portName, a]));
      const where = (path: string, found: unknown, expected: string, portName?: string) => {
        out.push(finding('workload-drift',
          `${json.kind} ${json.metadata?.name ?? c.node.path} in chart ${Chart.of(c).node.path}: ${path} is ${JSON.stringify(found)}, ` +
          `but ${svc.name} ${portName ? `${portName} ` : ''}has ${expected} in the registry${envs.length === 1 ? ` (${envs[0]})` : ''}`,
          { registry, service: svc.name, ...(envs.length === 1 ? { environment: envs[0] } : {}), ...(portName ? { portName } : {}),
            ...(typeof found === 'number' ? { port: found } : {}), path: `${Chart.of(c).node.path}/${json.kind}/${json.metadata?.name ?? ''}${path}` },
          `take the port from the registry: ${svc.name}.bind(workload, '${envs[0]}') or ${svc.name}.port('${portName ?? [...byName.keys()][0]}').in('${envs[0]}')`));
      };
      const expectedOf = (name: string) => [...new Set(allocations.filter(a => a.portName === name).map(a => a.targetPort))];
      if (json.kind === 'Service') {
        (json.spec?.ports ?? []).forEach((p: Json, i: number) => {
          const a = p.name !== undefined ? byName.get(p.name) : undefined;
          const published = [...new Set(allocations.filter(x => x.portName === p.name).map(x => x.port))];
          if (a && !published.includes(p.port)) where(`.spec.ports[${i}].port`, p.port, `port ${published.join(' or ')}`, p.name);
          const tp = p.targetPort ?? p.port;
          if (typeof tp === 'number' && !targets.has(tp)) where(`.spec.ports[${i}].targetPort`, tp, `target ports ${[...targets].join(', ')}`, a ? p.name : undefined);
          if (typeof tp === 'string' && !byName.has(tp)) where(`.spec.ports[${i}].targetPort`, tp, `ports named ${[...byName.keys()].join(', ')}`);
        });
        continue;
      }
      const containers = (at(json, [...template!, 'spec', 'containers']) ?? []) as Json[];
      containers.forEach((ct, ci) => {
        const base = `${template!.length ? `.${template!.join('.')}` : ''}.spec.containers[${ci}]`;
        const ownPorts = new Set<number>();
        (ct.ports ?? []).forEach((p: Json, pi: number) => {
          if (p.name !== undefined && byName.has(p.name)) {
            const expected = expectedOf(p.name);
            if (!expected.includes(p.containerPort)) where(`${base}.ports[${pi}].containerPort`, p.containerPort, `port ${expected.join(' or ')}`, p.name);
          } else if (p.name === undefined && !targets.has(p.containerPort)) {
            where(`${base}.ports[${pi}].containerPort`, p.containerPort, `ports ${[...targets].join(', ')}`);
          }
          ownPorts.add(p.containerPort);
        });
        for (const probe of PROBES) {
          const port = ct[probe]?.httpGet?.port ?? ct[probe]?.tcpSocket?.port ?? ct[probe]?.grpc?.port;
          if (typeof port === 'number' && !targets.has(port) && !ownPorts.has(port)) where(`${base}.${probe}`, port, `ports ${[...targets].join(', ')}`);
        }
      });
    }
  }
  return out;
}
