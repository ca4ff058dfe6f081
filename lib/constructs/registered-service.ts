/**
 * The handles `PortRegistry.service()` returns: a service of the registry, its named ports and their
 * numbers in an environment, and what a service connects to (an {@link Endpoint}).
 */
import * as kplus from 'cdk8s-plus-27';
import { Construct, IConstruct } from 'constructs';
import { k8s } from '../../imports/k8s';
import type { BindOptions } from './bind';
import { podSelectorOf } from '../model/labels';
import type { ResolvedRegistry } from '../model/resolved';
import type { ServiceSpec } from '../model/types';
import type { PortRegistry } from './port-registry';

/** Something a service can connect to: a service or an external of the same registry, with its port names. */
export interface Endpoint<P extends string = string> {
  readonly name: string;
  readonly registry: PortRegistry<string>;
  /**
   * The port names, for the type checker only (never set): it is what lets `connectsTo(target, port)`
   * check `port` against the target's names. Kept in the published declarations. @hidden
   */
  readonly __ports?: P;
}

/** One port of a service in one environment, as the synth writes it (the lock applied). */
export interface ResolvedPort {
  /** The port's name (the container port and Service port name). */
  readonly name: string;
  /** The published port: the Service port, and the host port in compose. */
  readonly port: number;
  /** The port the container listens on. */
  readonly targetPort: number;
  /** TCP, UDP or SCTP. */
  readonly protocol: string;
  /** Kubernetes appProtocol, when declared. */
  readonly appProtocol?: string;
  /** The NodePort, when declared. */
  readonly nodePort?: number;
  /** The fallback port for developer machines, when declared. */
  readonly fallback?: number;
  /** The environment's namespace. */
  readonly namespace: string;
}

/** A named port of a registered service: `svc.port('http').in('production')`. */
export class RegisteredPort<E extends string = string> {
  /** @internal */
  private readonly service: RegisteredService<string, E>;
  /** @internal */
  constructor(service: RegisteredService<string, E>, public readonly name: string) {
    this.service = service;
  }

  /**
   * The port in `environment`, resolved with the registry's lock by the same pipeline as the synth.
   * It may be called before everything is declared: the synth checks that the value handed out is
   * the one it writes, and fails naming the call if a later declaration moved it. While the registry
   * has errors it gives what could be allocated (port 0 when nothing could) and the synth reports them.
   * Throws when the service does not run in `environment`.
   */
  public in(environment: E): ResolvedPort {
    const registry = this.service.registry;
    const label = `${this.service.name}.port('${this.name}').in('${environment}')`;
    const found = (r: ResolvedRegistry) => r.allocations.find(x => x.of === 'service' && x.service === this.service.name && x.portName === this.name && x.environment === environment);
    const envs = registry._environmentNames();
    if (!envs.includes(environment)) throw new Error(`${this.service.name}.${this.name} has no port in ${environment}: the registry's environments are ${envs.join(', ')}`);
    const resolved = registry._resolution();
    const a = found(resolved);
    if (!a) {
      if (!resolved.ok) return registry._handOut(label, { name: this.name, port: 0, targetPort: 0, protocol: 'TCP', namespace: registry.namespace(environment) }, found);
      throw new Error(`${this.service.name}.${this.name} has no port in ${environment} (the service does not run there)`);
    }
    return registry._handOut(label, portOf(a), found);
  }
}

/** The port an allocation gives a handle. @internal */
export function portOf(a: ResolvedRegistry['allocations'][number]): ResolvedPort {
  return {
    name: a.portName, port: a.port, targetPort: a.targetPort, protocol: a.protocol, namespace: a.namespace,
    ...(a.appProtocol ? { appProtocol: a.appProtocol } : {}), ...(a.nodePort !== undefined ? { nodePort: a.nodePort } : {}),
    ...(a.fallback !== undefined ? { fallback: a.fallback } : {}),
  };
}

/** A service of the registry, returned by `PortRegistry.service()`; `P` is the union of its port names, `E` of the registry's environments. */
export class RegisteredService<P extends string = string, E extends string = string> implements Endpoint<P> {
  /** The port names, for the type checker only (see {@link Endpoint}). @hidden */
  declare public readonly __ports?: P;
  /** @internal */
  private readonly spec: ServiceSpec;
  /** @internal */
  constructor(public readonly registry: PortRegistry<E>, public readonly name: string, spec: ServiceSpec) {
    this.spec = spec;
  }

  /**
   * Declares that this service talks to `target` on `port` (its only port when omitted).
   * This is the only way traffic is allowed: it yields the egress and ingress policies.
   * `target` may be a service of another registry of the same app: each registry then writes its
   * side (this one the egress and the connection variables, the target's the ingress from this
   * service's namespace), in the environment of the same name unless `options.environment` says.
   * `options.environment` reaches the target in another environment (a warning within one registry;
   * across registries, only when the environments' kinds differ).
   */
  public connectsTo<T extends string>(target: Endpoint<T>, port?: NoInfer<T>, options?: ConnectOptions<E>): this;
  public connectsTo(target: string, port?: string, options?: ConnectOptions<E>): this;
  public connectsTo(target: Endpoint | string, port?: string, options: ConnectOptions<E> = {}): this {
    const to = typeof target === 'string' ? target : target.name;
    const other = typeof target !== 'string' && target.registry !== (this.registry as PortRegistry<string>) ? target.registry : undefined;
    if (other && !(target instanceof RegisteredService)) {
      throw new Error(`${this.name} (registry ${this.registry.node.id}) cannot connect to external ${to} of registry ${other.node.id}: ` +
        `an external is reached through the registry that declares it. Declare ${to} as an external of ${this.registry.node.id} too`);
    }
    if (other && other.node.root !== this.registry.node.root) {
      throw new Error(`${this.name} (registry ${this.registry.node.id}) cannot connect to ${to} of registry ${other.node.id}: ` +
        'registries connect only within one cdk8s app, where they are resolved together. Declare both registries in the same App');
    }
    const list = (this.spec as { connectsTo?: ServiceSpec['connectsTo'] }).connectsTo ??= [];
    list.push({
      to, ...(other ? { registry: other.node.id } : {}), ...(port !== undefined ? { port } : {}),
      ...(options.environment !== undefined ? { environment: options.environment } : {}),
    });
    this.registry._changed();
    // The target's registry gets the inbound side: its resolution changes too.
    other?._changed();
    return this;
  }

  /** One of the service's ports; `.in(environment)` gives its numbers. */
  public port(name: P): RegisteredPort<E> {
    if (!Object.prototype.hasOwnProperty.call(this.spec.ports ?? {}, name)) {
      throw new Error(`${this.name} has no port ${name}; its ports are ${Object.keys(this.spec.ports ?? {}).join(', ') || 'none'}`);
    }
    return new RegisteredPort<E>(this as unknown as RegisteredService<string, E>, name);
  }

  /** The labels the generated Service and NetworkPolicies select: give them to the pods of this service. */
  public get podLabels(): Record<string, string> {
    return podSelectorOf(this.name, this.spec);
  }

  /**
   * Makes `workload` (a cdk8s-plus Deployment, StatefulSet, DaemonSet, Job, CronJob or Pod, or a
   * plain `k8s.Kube*` one) agree with the registry in `environment`, adding only what the registry
   * owns: the registry's ports as named container ports, the pod labels the Service and
   * NetworkPolicies select, the namespace (also of the companions the workload made, such as a
   * StatefulSet's headless Service), one variable set per connection (`<TARGET>_HOST`, `_PORT`,
   * `_URL`, as compose has them) and a readiness probe on the health-check port where the container
   * has none. Everything else renders as written. Applied at synth time, with the lock, so it may
   * come before or after any declaration.
   */
  public bind(workload: IConstruct, environment: E, options: BindOptions = {}): this {
    this.registry._output.addBinding({ service: this.name, environment, workload, options });
    return this;
  }

  /**
   * The Service the registry generates for this service in `environment` (e.g. as an Ingress
   * backend). Its spec is filled in at synth time, so it may be asked for before everything is declared.
   */
  public kubeService(environment: E): k8s.KubeService {
    return this.registry._output.kubeService(this.name, environment);
  }

  /**
   * A cdk8s-plus Ingress backend on this service's Service in `environment`, on `port` (its only
   * port when omitted): `ingress.addRule('/', api.ingressBackend('production'))`.
   */
  public ingressBackend(environment: E, port?: P): kplus.IngressBackend {
    const names = Object.keys(this.spec.ports ?? {});
    const portName = port ?? (names.length === 1 ? names[0] : undefined);
    if (portName === undefined) throw new Error(`${this.name} has ${names.length ? `ports ${names.join(', ')}` : 'no port'}: name the backend's port (ingressBackend('${environment}', '<port>'))`);
    const resolved = this.port(portName as P).in(environment);
    // IngressBackend.fromService reads the Service's name and ports; the registry's Service is generated at synth.
    const service = { name: this.name, ports: [{ port: resolved.port }] } as unknown as kplus.Service;
    return kplus.IngressBackend.fromService(service, { port: resolved.port });
  }

  /**
   * A headless Service for a cdk8s-plus StatefulSet of this service, which needs one before its
   * ports can be known (`new kplus.StatefulSet(chart, 'db', { containers: [{ image }], service:
   * db.headlessService(chart, 'production') })`, then `db.bind(statefulSet, 'production')`):
   * named `<service>-headless` in the environment's namespace, its ports the registry's, filled in at synth.
   */
  public headlessService(scope: Construct, environment: E, id = `${this.name}-headless`): kplus.Service {
    const service = new kplus.Service(scope, id, {
      metadata: { name: `${this.name}-headless`, namespace: this.registry.namespace(environment) },
      clusterIP: 'None',
    });
    this.registry._output.addHeadless({ service: this.name, environment, kplus: service });
    return service;
  }
}

/** Options of `connectsTo`. */
export interface ConnectOptions<E extends string = string> {
  /** Reach the target in this environment instead of the client's own (a cross-environment warning). @default the client's environment */
  readonly environment?: E;
}
