/**
 * What a registry makes in the users' app: one chart per environment (a Namespace, its Services and
 * NetworkPolicies), the Services asked for before the synth, the headless Services of StatefulSets,
 * and the users' workloads bound to it. A PortRegistry holds one (`_output`).
 */
import { ApiObject, Chart, Lazy } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct, IConstruct } from 'constructs';
import { k8s } from '../../imports/k8s';
import { Binding, BindResult, applyBinding, reselect, workloadDrift } from './bind';
import { EMITTERS } from '../emit/index';
import { gvkOf } from '../emit/manifest';
import { Finding, finding } from '../model/finding';
import type { ResolvedRegistry } from '../model/resolved';

/** The charts of every registry: the users' charts are the rest. */
const REGISTRY_CHARTS = new WeakSet<Chart>();
/** Whether `chart` is a registry's (not one of the users'). */
export const isRegistryChart = (chart: Chart): boolean => REGISTRY_CHARTS.has(chart);
/** Which registry service a workload is bound to, across the registries of an app. */
const BOUND = new WeakMap<ApiObject, { readonly registry: string; readonly service: string; readonly environment: string }>();
/** Where a Service asked for before the synth keeps the props the synth gives it. */
const HOLDER = Symbol('cdk8s-ports.service-props');

/** A headless Service made for a StatefulSet (`headlessService`): its ports are the registry's, filled in at synth. */
export interface HeadlessService {
  readonly service: string;
  readonly environment: string;
  readonly kplus: kplus.Service;
}

/** What of its registry the charts need: its construct (id, app) and its environments' namespaces. */
interface Owner {
  readonly node: { readonly id: string; readonly root: IConstruct };
  namespace(environment: string): string;
}

/**
 * The registry's charts, Services and bindings. The charts are built once, from a clean
 * resolution; bindings made since are applied by the next `build` or `close`.
 * @internal
 */
export class RegistryCharts {
  private readonly charts = new Map<string, Chart>();
  private readonly kubeServices = new Map<string, k8s.KubeService>();
  /** The registry's objects in each chart, in output order (emitters' order). */
  private readonly chartObjects = new Map<Chart, ApiObject[]>();
  private isBuilt = false;
  private readonly bindings: Binding[] = [];
  private readonly applied = new Set<Binding>();
  private readonly headless: Array<HeadlessService & { done?: boolean }> = [];
  /** What binding the users' workloads found (a value of theirs that contradicts the registry, a workload bound twice). */
  private readonly bindFindings: Finding[] = [];
  /** Drift found for a resolution: computed once per resolution. */
  private driftOf?: { readonly resolved: ResolvedRegistry; readonly findings: Finding[] };

  constructor(private readonly owner: Owner) {}

  public addBinding(binding: Binding): void {
    this.bindings.push(binding);
  }

  public addHeadless(h: HeadlessService): void {
    this.headless.push(h);
  }

  /** The chart of `environment`, once built. */
  public chart(environment: string): Chart | undefined {
    return this.charts.get(environment);
  }

  /** The environments of the charts built. */
  public environments(): string[] {
    return [...this.charts.keys()];
  }

  /** Whether the charts were built (`build`). */
  public get built(): boolean {
    return this.isBuilt;
  }

  /** Whether the charts exist, so that the synth must render them (users may have added to them). */
  public get hasCharts(): boolean {
    return this.isBuilt || this.charts.size > 0;
  }

  /** The registry's objects of `chart` in output order (for PortsApp, which renders them itself). */
  public objectsOf(chart: Chart): readonly ApiObject[] {
    return this.chartObjects.get(chart) ?? [];
  }

  /**
   * Creates the registry's objects in one chart per environment (a Namespace, its Services and
   * NetworkPolicies) from a clean check, once, and binds the users' workloads (also those bound
   * since). Services asked for earlier (`kubeService`) get their spec here and their place in the
   * output order.
   */
  public build(resolved: ResolvedRegistry): ReadonlyMap<string, Chart> {
    if (!resolved.ok) throw new Error(`registry ${this.owner.node.id} has errors; build() needs a clean check`);
    if (!this.isBuilt) {
      this.isBuilt = true;
      for (const env of resolved.environments) this.chartOf(env.name);
      this.createObjects(resolved);
    }
    this.applyBindings(resolved);
    return this.charts;
  }

  /**
   * Closes the registry for a PortsApp synth and binds the users' workloads, without building charts:
   * a PortsApp renders the registry's objects as plain data when no one has asked for its charts.
   */
  public close(resolved: ResolvedRegistry): void {
    if (this.kubeServices.size || this.charts.size) this.build(resolved);
    else this.applyBindings(resolved);
  }

  /** The Service of `service` in `environment`: made now when asked for before the synth (its spec is the synth's, see `build`). */
  public kubeService(service: string, environment: string): k8s.KubeService {
    const key = `${environment}/${service}`;
    const known = this.kubeServices.get(key);
    if (known) return known;
    if (this.isBuilt) throw new Error(`${service} has no Service in ${environment} (it does not run there, or is not deployed)`);
    this.owner.namespace(environment);
    // Asked for before the synth: the object exists now, its spec is the synth's (see build).
    const holder: { props?: k8s.KubeServiceProps } = {};
    const svc = new k8s.KubeService(this.chartOf(environment), `service-${service}`, {
      metadata: { name: service, namespace: this.owner.namespace(environment) },
      spec: Lazy.any({ produce: () => holder.props?.spec }),
    });
    (svc as unknown as { [HOLDER]: typeof holder })[HOLDER] = holder;
    this.kubeServices.set(key, svc);
    return svc;
  }

  /** `workload-drift` findings of the app's other charts (after the charts are built), then `more` (the app's port chain), once per resolution. */
  public drift(resolved: ResolvedRegistry, more: () => Finding[]): Finding[] {
    if (this.driftOf?.resolved !== resolved) {
      this.driftOf = { resolved, findings: [...this.bindFindings, ...workloadDrift(resolved, this.owner.node.root as Construct, isRegistryChart, this.bindings), ...more()] };
    }
    return this.driftOf.findings;
  }

  /** The chart of an environment (made on first use, a child of the app, named `<registry>-<environment>`). */
  private chartOf(environment: string): Chart {
    let chart = this.charts.get(environment);
    if (!chart) {
      chart = new Chart(this.owner.node.root as Construct, `${this.owner.node.id}-${environment}`);
      REGISTRY_CHARTS.add(chart);
      this.charts.set(environment, chart);
    }
    return chart;
  }

  /** The emitters' objects as constructs in their charts; a Service asked for early takes its place and its spec. */
  private createObjects(resolved: ResolvedRegistry): void {
    const early = new Map([...this.kubeServices].map(([key, svc]) => [key, svc] as const));
    const wasEarly = new Set<ApiObject>(early.values());
    for (const emitter of EMITTERS) {
      for (const o of emitter.objects?.(resolved) ?? []) {
        const chart = this.charts.get(o.environment)!;
        let obj: ApiObject;
        if (o.kind === 'Namespace') obj = new k8s.KubeNamespace(chart, o.id, o.props);
        else if (o.kind === 'Service') {
          const key = `${o.environment}/${o.name}`;
          const svc = early.get(key);
          if (svc) {
            (svc as unknown as { [HOLDER]: { props?: k8s.KubeServiceProps } })[HOLDER].props = o.props;
            for (const [k, v] of Object.entries(o.props.metadata?.labels ?? {})) svc.metadata.addLabel(k, v);
            for (const [k, v] of Object.entries(o.props.metadata?.annotations ?? {})) svc.metadata.addAnnotation(k, v);
            early.delete(key);
            obj = svc;
          } else {
            obj = new k8s.KubeService(chart, o.id, o.props);
            this.kubeServices.set(key, obj as k8s.KubeService);
          }
        } else if (o.kind === 'NetworkPolicy') obj = new k8s.KubeNetworkPolicy(chart, o.id, o.props);
        else if (o.kind === 'Ingress') obj = new k8s.KubeIngress(chart, o.id, o.props);
        else obj = new ApiObject(chart, o.id, { ...gvkOf(o.kind), ...o.props });
        const list = this.chartObjects.get(chart) ?? [];
        list.push(obj);
        this.chartObjects.set(chart, list);
      }
    }
    for (const [key, svc] of early) {
      this.bindFindings.push(finding('workload-drift', `kubeService('${key.split('/')[0]}') of ${key.split('/')[1]} was asked for, but the registry generates no such Service ` +
        '(the service does not run in that environment, is not deployed, or has no ports)',
        { registry: this.owner.node.id, service: key.split('/')[1], environment: key.split('/')[0] }, 'use the Service of an environment the service runs in'));
      Chart.of(svc).node.tryRemoveChild(svc.node.id);
    }
    // cdk8s renders a chart's objects in dependency order, then in construct order: a Service asked
    // for early was made first, so it depends on every object before it in the output order.
    for (const objects of this.chartObjects.values()) {
      objects.forEach((o, i) => { if (wasEarly.has(o)) o.node.addDependency(...objects.slice(0, i)); });
    }
  }

  /** Gives the headless Services their ports and applies the bindings not applied yet. */
  private applyBindings(resolved: ResolvedRegistry): void {
    // Headless Services first: the bindings below render the app's objects, and these have no port until now.
    for (const h of this.headless) {
      if (h.done) continue;
      h.done = true;
      const ports = resolved.allocations.filter(a => a.of === 'service' && a.service === h.service && a.environment === h.environment);
      for (const a of ports) h.kplus.bind(a.port, { name: a.portName, targetPort: a.targetPort, protocol: a.protocol as kplus.Protocol });
    }
    const relabelled: BindResult[] = [];
    for (const b of this.bindings) {
      if (this.applied.has(b)) continue;
      this.applied.add(b);
      const result = this.bind(resolved, b);
      if (result?.selectedBy) relabelled.push(result);
    }
    if (relabelled.length) {
      const objects = this.owner.node.root.node.findAll().filter((c): c is ApiObject => c instanceof ApiObject && !REGISTRY_CHARTS.has(Chart.of(c)));
      reselect(objects, relabelled);
    }
  }

  /** Applies one binding, or says why it cannot be (a workload bound twice, a Job bound to a service that serves ports). */
  private bind(resolved: ResolvedRegistry, b: Binding): BindResult | undefined {
    const registry = this.owner.node.id;
    const obj = ApiObject.of(b.workload);
    const other = BOUND.get(obj);
    if (other) {
      this.bindFindings.push(finding('workload-drift', `${b.workload.node.path} is bound twice: to ${other.service} in ${other.environment} (registry ${other.registry}) ` +
        `and to ${b.service} in ${b.environment}; one workload's pods would carry both services' labels and get both services' policies`,
        { registry, service: b.service, environment: b.environment, other: `${other.registry}/${other.service}`, path: b.workload.node.path },
        'bind each workload once: give each service and environment its own workload'));
      return undefined;
    }
    BOUND.set(obj, { registry, service: b.service, environment: b.environment });
    // A Job's pods carry the labels the service's Service selects: it would send them traffic.
    const serves = resolved.allocations.some(a => a.of === 'service' && a.service === b.service && a.environment === b.environment);
    if ((obj.kind === 'Job' || obj.kind === 'CronJob') && serves) {
      this.bindFindings.push(finding('workload-drift', `${obj.kind} ${b.workload.node.path} is bound to ${b.service}, which serves ports in ${b.environment}: ` +
        `the Service ${b.service} would send traffic to the ${obj.kind}'s pods, and they would get its ports and readiness probe`,
        { registry, service: b.service, environment: b.environment, path: b.workload.node.path },
        `declare the job as a client of its own, a service without ports (ports.service('${b.workload.node.id}', {}) with its connectsTo), and bind the ${obj.kind} to that`));
      return undefined;
    }
    const alone = this.bindings.filter(x => x.service === b.service && x.environment === b.environment).length === 1;
    const result = applyBinding(resolved, b, alone);
    this.bindFindings.push(...result.findings);
    return result;
  }
}
