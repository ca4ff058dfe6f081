/**
 * `workload-drift` over rendered manifest objects: the synth (lib/constructs/bind.ts) and the
 * cdk8s validation plugin (./plugin.ts) run this one check, on the objects of the app's own charts.
 */
import { podLabelsOf } from '../emit/workload';
import { Finding, finding } from '../model/finding';
import type { ResolvedRegistry } from '../model/resolved';

/** A Kubernetes object as the app rendered it. */
export interface RenderedObject {
  /** The object (JSON, as `ApiObject.toJson()` or a parsed manifest gives it). */
  readonly object: unknown;
  /** Where it comes from: a chart's construct path, or a manifest file. Messages and `where.path` name it. */
  readonly chartPath: string;
  /** How a message names the origin. @default `chart <chartPath>` */
  readonly origin?: string;
  /** The environment it is bound to (`bind()`), which wins over its namespace. @default found from the namespace */
  readonly environment?: string;
  /** The name used when the object has none. @default '' */
  readonly label?: string;
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Where the pod template sits in each workload kind. */
const TEMPLATE: Record<string, string[]> = {
  Deployment: ['spec', 'template'], StatefulSet: ['spec', 'template'], DaemonSet: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'], Job: ['spec', 'template'], CronJob: ['spec', 'jobTemplate', 'spec', 'template'], Pod: [],
};

const at = (json: Json, parts: readonly (string | number)[]): Json | undefined => parts.reduce<Json | undefined>((o, k) => o?.[k], json);

const PROBES = ['readinessProbe', 'livenessProbe', 'startupProbe'] as const;

/**
 * `workload-drift`: every container port, probe port and Service port of the objects that
 * belongs to a registered service (its pod labels carry the service's selector) and disagrees
 * with the registry. Named ports must carry the registry's number; unnamed container ports and
 * numeric probe and target ports must be one of the service's ports.
 */
export function manifestDrift(resolved: ResolvedRegistry, objects: readonly RenderedObject[]): Finding[] {
  const registry = resolved.spec.name;
  const out: Finding[] = [];
  const services = Object.keys(resolved.spec.services ?? {}).map(name => ({ name, labels: podLabelsOf(resolved, name) }));
  const envByNamespace = new Map(resolved.environments.map(e => [e.namespace, e.name]));
  for (const rendered of objects) {
    const json = rendered.object as Json;
    if (!json || typeof json !== 'object') continue;
    if (json.kind === 'Ingress') {
      out.push(...ingressDrift(resolved, json, rendered));
      continue;
    }
    const template = TEMPLATE[json.kind];
    const labels: Json | undefined = json.kind === 'Service' ? json.spec?.selector : template ? at(json, [...template, 'metadata', 'labels']) : undefined;
    if (!labels || typeof labels !== 'object') continue;
    const chartPath = rendered.chartPath;
    const origin = rendered.origin ?? `chart ${chartPath}`;
    const name = json.metadata?.name ?? rendered.label ?? '';
    const matches = (l: Record<string, string>) => Object.entries(l).every(([k, v]) => labels[k] === v);
    for (const svc of services.filter(s => matches(s.labels))) {
      const envs = rendered.environment !== undefined ? [rendered.environment] : json.metadata?.namespace && envByNamespace.has(json.metadata.namespace)
        ? [envByNamespace.get(json.metadata.namespace)!] : resolved.environments.map(e => e.name);
      const allocations = resolved.allocations.filter(a => a.service === svc.name && envs.includes(a.environment));
      if (!allocations.length) continue;
      const targets = new Set(allocations.map(a => a.targetPort));
      const byName = new Map(allocations.map(a => [a.portName, a]));
      const where = (path: string, found: unknown, expected: string, portName?: string) => {
        out.push(finding('workload-drift',
          `${json.kind} ${name} in ${origin}: ${path} is ${JSON.stringify(found)}, ` +
          `but ${svc.name} ${portName ? `${portName} ` : ''}has ${expected} in the registry${envs.length === 1 ? ` (${envs[0]})` : ''}`,
          { registry, service: svc.name, ...(envs.length === 1 ? { environment: envs[0] } : {}), ...(portName ? { portName } : {}),
            ...(typeof found === 'number' ? { port: found } : {}), path: `${chartPath}/${json.kind}/${json.metadata?.name ?? ''}${path}` },
          rendered.environment !== undefined
            // Bound already: bind adds the registry's value, so the hand-typed one is what disagrees.
            ? `remove the hand-typed value (bind() adds ${svc.name}'s ports, probe and settings), or type ${svc.name}.port('${portName ?? [...byName.keys()][0]}').in('${envs[0]}')`
            : `take the port from the registry: ${svc.name}.bind(workload, '${envs[0]}') or ${svc.name}.port('${portName ?? [...byName.keys()][0]}').in('${envs[0]}')`));
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

/**
 * An Ingress of the app's own charts that routes to a registry service's Service: it must be in a
 * namespace where that Service is (an Ingress reaches Services of its own namespace only), on one
 * of the Service's ports, by number or name.
 */
function ingressDrift(resolved: ResolvedRegistry, json: Json, rendered: RenderedObject): Finding[] {
  const out: Finding[] = [];
  const registry = resolved.spec.name;
  const services = resolved.spec.services ?? {};
  const name = json.metadata?.name ?? rendered.label ?? '';
  const namespace: string | undefined = json.metadata?.namespace;
  const backends: Array<{ path: string; service: Json }> = [];
  if (json.spec?.defaultBackend?.service) backends.push({ path: '.spec.defaultBackend.service', service: json.spec.defaultBackend.service });
  (json.spec?.rules ?? []).forEach((rule: Json, r: number) => (rule?.http?.paths ?? []).forEach((p: Json, i: number) => {
    if (p?.backend?.service) backends.push({ path: `.spec.rules[${r}].http.paths[${i}].backend.service`, service: p.backend.service });
  }));
  for (const b of backends) {
    const service = b.service.name;
    if (typeof service !== 'string' || !Object.prototype.hasOwnProperty.call(services, service)) continue;
    const runs = resolved.environments.filter(e => resolved.allocations.some(a => a.of === 'service' && a.service === service && a.environment === e.name));
    if (!runs.length) continue;
    const env = runs.find(e => e.namespace === namespace);
    const where = { registry, service, path: `${rendered.chartPath}/Ingress/${name}${b.path}` };
    if (!env) {
      // In a namespace the registry does not manage, a Service of that name is someone else's; in
      // none (default) or in one of the registry's where the service does not run, it is ours, missed.
      const ours = namespace === undefined || namespace === 'default' || resolved.environments.some(e => e.namespace === namespace);
      if (!ours) continue;
      out.push(finding('workload-drift', `Ingress ${name} in ${rendered.origin ?? `chart ${rendered.chartPath}`} routes to Service ${service}, but it is ` +
        `${namespace === undefined ? 'in no namespace (it lands in default)' : `in namespace ${namespace}`}, and an Ingress reaches the Services of its own namespace only: ` +
        `${service} is in ${runs.map(e => `${e.namespace} (${e.name})`).join(', ')}`, { ...where, environment: runs[0].name },
        `put the Ingress in ${runs[0].namespace}: new Chart(app, '<id>', { namespace: ports.namespace('${runs[0].name}') })`));
      continue;
    }
    const mine = resolved.allocations.filter(a => a.of === 'service' && a.service === service && a.environment === env.name);
    const number = b.service.port?.number;
    const portName = b.service.port?.name;
    if (number !== undefined && !mine.some(a => a.port === number)) {
      out.push(finding('workload-drift', `Ingress ${name} routes to ${service} on port ${JSON.stringify(number)}, but ${service}'s Service has ${mine.map(a => `${a.portName} ${a.port}`).join(', ')} in the registry (${env.name})`,
        { ...where, environment: env.name, ...(typeof number === 'number' ? { port: number } : {}) },
        `take the backend from the registry: ${service}.ingressBackend('${env.name}', '${mine[0].portName}')`));
    } else if (portName !== undefined && !mine.some(a => a.portName === portName)) {
      out.push(finding('workload-drift', `Ingress ${name} routes to ${service} on port ${JSON.stringify(portName)}, but ${service}'s Service ports are named ${mine.map(a => a.portName).join(', ')} in the registry (${env.name})`,
        { ...where, environment: env.name }, `take the backend from the registry: ${service}.ingressBackend('${env.name}', '${mine[0].portName}')`));
    }
  }
  return out;
}
