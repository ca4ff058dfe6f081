import * as fs from 'fs';
import * as path from 'path';
import { ApiObject, Chart, Lazy } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct, IConstruct } from 'constructs';
import { k8s } from '../../imports/k8s';
import type { CheckOptions } from '../check/check-registry';
import { Binding, BindOptions, BindResult, applyBinding, reselect, workloadDrift } from './bind';
import { formatFinding, summarize } from '../model/format';
import { normalizeOutputDir } from '../io/output';
import { environmentsOf, ownEntry } from '../model/normalize';
import { podSelectorOf } from '../model/labels';
import type { Lock } from '../model/resolved';
import type { ResolvedRegistry } from '../model/resolved';
import { RegistryInput, resolveAll } from '../check/pipeline';
import { formatFindings } from '../model/format';
import { composeCheckFindings } from '../compose/check-files';
import {
  foreignLockEntries, isPortsApp, isTestingApp, projectLockFile, projectRoot, readLockFile, writeCheckReport, writeLockEntries,
} from './app-state';
import { EMITTERS } from '../emit/index';
import { gvkOf, manifestOf } from '../emit/manifest';
import { appPortChain } from './port-chain';
import { LoadedRegistry, loadBaseFile, locateFindings, parseRegistryText } from '../file/registry-file';
import { RegistryBase, baseProblem, extendSpec } from '../model/extend';
import { Finding, blocking, finding } from '../model/finding';
import type {
  AvoidSpec, CategorySpec, EnvironmentSpec, ExternalPort, ExternalSpec, PortSpec, RegistrySpec, ServiceSpec, Waiver,
} from '../model/types';
import { ReadError, readRegularFile } from '../io/read';

/** Props of {@link PortRegistry}. */
export interface PortRegistryProps<E extends string = string> {
  /**
   * A base to extend: an object (e.g. exported by an organisation's package) or the path of its
   * ports.yaml/ports.json. Its environments, categories, avoided ports, de-facto list, externals
   * and waivers come first; this registry's own are added (a key defined in both takes this
   * registry's value). Registries extending the same base are checked against each other.
   * @default no base
   */
  readonly extends?: RegistryBase | string;
  /** Environments by name, each with its band, namespace and scope. @default one environment, `default` */
  readonly environments?: Record<E, EnvironmentSpec>;
  /** Named port ranges a service can be placed in (core, apps, monitoring …). @default none */
  readonly categories?: Record<string, CategorySpec>;
  /** Ports and ranges nothing may use. @default none */
  readonly avoid?: AvoidSpec;
  /** Change or switch off the de-facto default port list (`false`). @default the built-in list */
  readonly defactoPorts?: RegistrySpec['defactoPorts'];
  /** Explicit exceptions to rules, each with its reason. @default none */
  readonly waivers?: Waiver[];
  /** What the registry is for (shown in PORTS.md). @default none */
  readonly description?: string;
  /** Existing compose files whose published ports must agree with the registry (rule compose-drift). @default none */
  readonly composeChecks?: RegistrySpec['composeChecks'];
  /** Folder under the app's manifests folder for this registry's output. @default '' (the folder itself) */
  readonly outputDir?: string;
  /**
   * The lock file whose pins `check()`, port handles and the synth use; a plain cdk8s App writes
   * the new pins into it when it synthesizes, as a PortsApp does. A missing file is an empty lock.
   * @default the PortsApp's `lockFile`; in any other App `ports.lock.json` beside the project's
   * cdk8s.yaml (from the working folder up), none in `Testing.app()` (snapshots do not depend on
   * the folder the tests run in)
   */
  readonly lockFile?: string;
}

/**
 * Props of `PortRegistry.service()`: everything of the model except connections, which
 * `connectsTo` adds. The port names are a type parameter inferred from `ports`, so a misspelt
 * port name does not compile.
 */
export interface ServiceProps<P extends string = string> extends Omit<ServiceSpec, 'connectsTo' | 'ports'> {
  /** The service's named ports (`Port.offset(0)`, `Port.auto()`, `Port.fixed(8080)` …). @default none: a client only (a queue worker), which gets egress policies */
  readonly ports?: { readonly [K in P]: PortSpec };
}

/** Props of `PortRegistry.external()`: one `port` (named `main`) or named `ports`. */
export interface ExternalProps<P extends string = string> extends Omit<ExternalSpec, 'ports'> {
  /** Its one port, named `main`. @default none: give `ports` instead */
  readonly port?: number;
  /** The protocol of `port`. @default 'TCP' */
  readonly protocol?: ExternalPort['protocol'];
  /** The container port of `port`, when compose runs it. @default `port` */
  readonly targetPort?: number;
  /** Its named ports. @default none: give `port` instead */
  readonly ports?: { readonly [K in P]: ExternalPort };
}

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

function portOf(a: ResolvedRegistry['allocations'][number]): ResolvedPort {
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
    this.registry._addBinding({ service: this.name, environment, workload, options });
    return this;
  }

  /**
   * The Service the registry generates for this service in `environment` (e.g. as an Ingress
   * backend). Its spec is filled in at synth time, so it may be asked for before everything is declared.
   */
  public kubeService(environment: E): k8s.KubeService {
    return this.registry._kubeService(this.name, environment);
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
    this.registry._addHeadless({ service: this.name, environment, kplus: service });
    return service;
  }
}

/** Options of `connectsTo`. */
export interface ConnectOptions<E extends string = string> {
  /** Reach the target in this environment instead of the client's own (a cross-environment warning). @default the client's environment */
  readonly environment?: E;
}

/** An external endpoint of the registry (a database, a broker, a mirror), returned by `PortRegistry.external()`. */
export class RegisteredExternal<P extends string = string> implements Endpoint<P> {
  /** The port names, for the type checker only (see {@link Endpoint}). @hidden */
  declare public readonly __ports?: P;
  /** @internal */
  constructor(public readonly registry: PortRegistry<string>, public readonly name: string) {}
}

/** Every registry of an app, in construct order. */
function registriesOf(root: IConstruct): PortRegistry[] {
  return root.node.findAll().filter((c): c is PortRegistry => c instanceof PortRegistry);
}

/** What the registries of one app share: one resolution of them all, and what their last validation found. */
interface AppState {
  version: number;
  resolution?: { readonly version: number; readonly byRegistry: Map<PortRegistry, ResolvedRegistry> };
  validated?: { readonly version: number; readonly messages: Map<PortRegistry, string[]> };
}
const APPS = new WeakMap<IConstruct, AppState>();
const appState = (c: IConstruct): AppState => {
  let s = APPS.get(c.node.root);
  if (!s) APPS.set(c.node.root, s = { version: 0 });
  return s;
};

/** The charts of every registry: the users' charts are the rest. */
const REGISTRY_CHARTS = new WeakSet<Chart>();
/** Which registry service a workload is bound to, across the registries of an app. */
const BOUND = new WeakMap<ApiObject, { readonly registry: string; readonly service: string; readonly environment: string }>();

/**
 * The port registry: environments, ranges, services and external endpoints. The checks run when
 * the app synthesizes, in any cdk8s App; `check()` runs them on demand. `E` is the union of the
 * environment names, so `.in('prodution')` does not compile.
 */
export class PortRegistry<const E extends string = string> extends Construct {
  /** The folder under the app's manifests folder this registry writes to, normalised ('' for the folder itself). */
  public readonly outputDir: string;
  /** The lock file it reads (see {@link PortRegistryProps.lockFile}); undefined when it reads none. */
  public readonly lockFile?: string;
  /** Findings about the registry's own setup (base, output folder), reported by check(). */
  /** @internal */
  private readonly baseFindings: Finding[] = [];
  /** @internal */
  private readonly data: RegistrySpec & { services: Record<string, ServiceSpec>; externals: Record<string, ExternalSpec> };
  /** @internal */
  private readonly charts = new Map<string, Chart>();
  /** @internal */
  private readonly kubeServices = new Map<string, k8s.KubeService>();
  /** The registry's objects in each chart, in output order (emitters' order). */
  /** @internal */
  private readonly chartObjects = new Map<Chart, ApiObject[]>();
  /** @internal */
  private built = false;
  /** `chart()` was asked for: the charts are built from the registry as it was, so nothing more may be declared. */
  /** @internal */
  private closed = false;
  /** @internal */
  private readonly bindings: Binding[] = [];
  /** @internal */
  private readonly applied = new Set<Binding>();
  /** @internal */
  private readonly headless: Array<{ readonly service: string; readonly environment: string; readonly kplus: kplus.Service; done?: boolean }> = [];
  /** What binding the users' workloads found (a value of theirs that contradicts the registry, a workload bound twice). */
  /** @internal */
  private readonly bindFindings: Finding[] = [];
  /** Values handed out before the synth (port handles, Ingress backends), checked against what it writes. */
  /** @internal */
  private readonly handedOut: Array<{ readonly label: string; readonly value: string; readonly now: (r: ResolvedRegistry) => string }> = [];
  /** The resolution a PortsApp made with its own lock, used until something is declared. */
  /** @internal */
  private cached?: ResolvedRegistry;
  /** @internal */
  private readonly duplicates: Array<{ name: string; first: string; second: string }> = [];
  /** Where the registry came from, when it was read from a file. */
  /** @internal */
  private source?: { readonly file: string; readonly dir: string; readonly loaded: LoadedRegistry };

  constructor(scope: Construct, id: string, props: PortRegistryProps<E> = {}) {
    super(scope, id);
    const dir = normalizeOutputDir(props.outputDir ?? '');
    this.outputDir = dir.dir ?? '';
    if (dir.problem) {
      this.baseFindings.push(finding('invalid-value', `outputDir ${JSON.stringify(props.outputDir)} of registry ${id} ${dir.problem}`,
        { registry: id, path: 'outputDir' }, 'use a folder inside the manifests folder, such as "team-a"'));
    }
    const root = this.node.root;
    this.lockFile = props.lockFile ?? (isPortsApp(root) ? root.lockFile : isTestingApp(root) ? undefined : projectLockFile());
    // Any cdk8s App that holds a registry checks it when it synthesizes (not only PortsApp).
    this.node.addValidation({ validate: () => this.validateForSynth() });
    const base = props.extends === undefined ? undefined : this.loadBase(props.extends);
    const own: RegistrySpec = {
      name: id,
      ...(props.description ? { description: props.description } : {}),
      ...(props.environments ? { environments: props.environments as Record<string, EnvironmentSpec> } : {}),
      ...(props.categories ? { categories: props.categories } : {}),
      ...(props.avoid ? { avoid: props.avoid } : {}),
      ...(props.defactoPorts !== undefined ? { defactoPorts: props.defactoPorts } : {}),
      ...(props.composeChecks ? { composeChecks: props.composeChecks } : {}),
      ...(props.waivers ? { waivers: [...props.waivers] } : {}),
    };
    const spec = base ? extendSpec(base, own) : own;
    this.data = { ...spec, services: {}, externals: { ...(spec.externals ?? {}) }, waivers: [...(spec.waivers ?? [])] };
    this._changed();
  }

  /** @internal */
  private loadBase(base: RegistryBase | string): RegistryBase | undefined {
    if (typeof base === 'string') {
      const loaded = loadBaseFile(base);
      this.baseFindings.push(...loaded.findings.map(f => ({ ...f, where: { registry: this.node.id, ...f.where } })));
      return loaded.base;
    }
    const problem = baseProblem(base);
    if (problem) {
      this.baseFindings.push(finding('schema', problem, { registry: this.node.id }, 'declare them as externals in the base, or as services of a team registry'));
    }
    return base;
  }

  /**
   * A registry read from a `ports.yaml` or `ports.json` file, with the same model and rules.
   * Problems with the file are reported as findings (with `file:line:column`) when the app
   * synthesizes, together with every other finding; nothing is thrown here. Its services are
   * reached with `getService(name)`.
   */
  public static fromFile(scope: Construct, id: string, file: string, props: Pick<PortRegistryProps, 'outputDir' | 'lockFile'> = {}): PortRegistry<string> {
    let loaded: LoadedRegistry;
    try {
      loaded = parseRegistryText(readRegularFile(file), file, id);
    } catch (e) {
      const reason = e instanceof ReadError ? e.reason : `cannot be read (${(e as Error).message})`;
      loaded = { findings: [finding('schema', `registry file ${file} ${reason}`, { registry: id, file }, 'check the path')], locate: () => undefined };
    }
    const spec = loaded.spec;
    const baseFile = spec?.extends !== undefined ? path.resolve(path.dirname(file), spec.extends) : undefined;
    const registry = new PortRegistry<string>(scope, id, { ...(spec ?? {}), extends: baseFile, outputDir: props.outputDir, lockFile: props.lockFile });
    if (spec) {
      Object.assign(registry.data.services, spec.services ?? {});
      Object.assign(registry.data.externals, spec.externals ?? {});
    }
    registry.source = { file, dir: path.dirname(path.resolve(file)), loaded };
    registry._changed();
    return registry;
  }

  /** Adds a service. Names must be unique across services and externals. */
  public service<const P extends string = never>(name: string, props: ServiceProps<P> = {}): RegisteredService<P, E> {
    this.assertOpen(name);
    const spec = { ...props, ports: { ...(props.ports ?? {}) } } as ServiceSpec;
    if (!this.isDuplicate(name, 'service')) this.data.services[name] = spec;
    this._changed();
    return new RegisteredService<P, E>(this, name, spec);
  }

  /** A handle on a service already declared (read from a file, say): its port names are strings. */
  public getService(name: string): RegisteredService<string, E> {
    const spec = this.data.services[name];
    if (!spec) throw new Error(`registry ${this.node.id} has no service ${name}; its services are ${Object.keys(this.data.services).join(', ') || 'none'}`);
    return new RegisteredService<string, E>(this, name, spec);
  }

  /** Adds an external endpoint whose ports the registry keeps clear. */
  public external<const P extends string = 'main'>(name: string, props: ExternalProps<P>): RegisteredExternal<P> {
    this.assertOpen(name);
    const { port, ports, protocol, targetPort, ...rest } = props as ExternalProps;
    if ((port === undefined) === (ports === undefined)) throw new Error(`external ${name} of registry ${this.node.id}: give either port or ports`);
    const named = ports ?? { main: { port: port!, ...(protocol ? { protocol } : {}), ...(targetPort ? { targetPort } : {}) } };
    if (!this.isDuplicate(name, 'external')) this.data.externals[name] = { ...rest, ports: named as ExternalSpec['ports'] };
    this._changed();
    return new RegisteredExternal<P>(this, name);
  }

  /** A handle on an external already declared (in a base or a file). */
  public getExternal(name: string): RegisteredExternal<string> {
    if (!this.data.externals[name]) throw new Error(`registry ${this.node.id} has no external ${name}; its externals are ${Object.keys(this.data.externals).join(', ') || 'none'}`);
    return new RegisteredExternal<string>(this, name);
  }

  /** Records an explicit exception to a rule; the finding is still shown, as waived, with the reason. */
  public waive(waiver: Waiver): this {
    this.data.waivers!.push(waiver);
    this._changed();
    return this;
  }

  /** The names of the declared environments. @internal */
  public _environmentNames(): string[] {
    return environmentsOf(this.data).map(e => e.name);
  }

  /** The Kubernetes namespace of `environment`: `new Chart(app, 'web', { namespace: ports.namespace('production') })`. */
  public namespace(environment: E): string {
    const env = environmentsOf(this.data).find(e => e.name === environment);
    if (!env) throw new Error(`registry ${this.node.id} has no environment ${environment}; it has ${environmentsOf(this.data).map(e => e.name).join(', ')}`);
    return env.namespace;
  }

  /** The registry as plain data (the same shape a ports.yaml file has). */
  public get spec(): RegistrySpec {
    return structuredClone(this.data);
  }

  /** Runs every rule and allocates every port of this registry alone, with its lock. Pure: nothing is written. */
  public check(options: CheckOptions = {}): ResolvedRegistry {
    let input: RegistryInput;
    if (options.lock) {
      input = this.pipelineInput(options);
    } else {
      // A lock file that cannot be read is a finding of the check, like every other problem.
      const { lock, problem } = readLockFile(this.lockFile, this.node.id);
      const own = this.pipelineInput({ ...options, lock: ownEntry(lock.registries, this.node.id) });
      input = problem ? { ...own, findings: [...(own.findings ?? []), problem] } : own;
    }
    // With the app's other registries, in the app's order, as the synth resolves them: connections
    // between them resolve, and registries of one base are compared.
    const registries = registriesOf(this.node.root);
    const inputs = registries.map(r => (r === this ? input : r.pipelineInput({ lock: ownEntry(readLockFile(r.lockFile, r.node.id).lock.registries, r.node.id) })));
    return resolveAll(inputs)[registries.indexOf(this)];
  }

  /** @internal Something was declared: the next resolution starts afresh. */
  public _changed(): void {
    this.cached = undefined;
    appState(this).version++;
  }

  /** @internal PortsApp hands over the resolution it made with its own lock. */
  public _useResolved(resolved: ResolvedRegistry): void {
    this.cached = resolved;
  }

  /**
   * The registry resolved with its lock, together with every other registry of the app (as the
   * synth resolves them), reused until something is declared.
   * @internal
   */
  public _resolution(): ResolvedRegistry {
    return this.cached ?? this.appResolution().get(this)!;
  }

  /** Every registry of the app, resolved together with their locks (cross-registry checks, as a PortsApp does). */
  /** @internal */
  private appResolution(): Map<PortRegistry, ResolvedRegistry> {
    const state = appState(this);
    if (state.resolution?.version === state.version) return state.resolution.byRegistry;
    const root = this.node.root;
    const registries = registriesOf(root);
    const frozenLock = isPortsApp(root) ? root.frozenLock : process.env.CDK8S_PORTS_FROZEN_LOCK === '1';
    const declared = new Set(registries.map(r => r.node.id));
    const seenLocks = new Set<string>();
    const inputs = registries.map(r => {
      const { lock, problem } = readLockFile(r.lockFile, r.node.id);
      const input = r.pipelineInput({ lock: ownEntry(lock.registries, r.node.id), frozenLock, composeChecks: r._composeChecks() });
      const extra: Finding[] = problem ? [problem] : [];
      if (r.lockFile !== undefined && !seenLocks.has(r.lockFile)) {
        seenLocks.add(r.lockFile);
        extra.push(...foreignLockEntries(lock, r.lockFile, declared, r.node.id));
      }
      return extra.length ? { ...input, findings: [...(input.findings ?? []), ...extra] } : input;
    });
    const results = resolveAll(inputs);
    const byRegistry = new Map(registries.map((r, i) => [r, results[i]] as const));
    state.resolution = { version: state.version, byRegistry };
    return byRegistry;
  }

  /**
   * Records a value handed out before the synth, so that the synth can tell when a later
   * declaration moved it. Returns the value.
   * @internal
   */
  public _handOut<T extends ResolvedPort>(label: string, value: T, find: (r: ResolvedRegistry) => ResolvedRegistry['allocations'][number] | undefined): T {
    const text = (v: ResolvedPort | undefined) => v ? `${v.port}${v.targetPort !== v.port ? `->${v.targetPort}` : ''}/${v.protocol}` : 'nothing';
    this.handedOut.push({ label, value: text(value), now: r => { const a = find(r); return text(a && portOf(a)); } });
    return value;
  }

  /** @internal */
  public _addBinding(binding: Binding): void {
    this.bindings.push(binding);
  }

  /** @internal */
  public _addHeadless(h: { readonly service: string; readonly environment: string; readonly kplus: kplus.Service }): void {
    this.headless.push(h);
  }

  /** The chart of an environment (made on first use, a child of the app, named `<registry>-<environment>`). */
  /** @internal */
  private chartOf(environment: string): Chart {
    let chart = this.charts.get(environment);
    if (!chart) {
      chart = new Chart(this.node.root as Construct, `${this.node.id}-${environment}`);
      REGISTRY_CHARTS.add(chart);
      this.charts.set(environment, chart);
    }
    return chart;
  }

  /**
   * The chart of `environment`: its Namespace, Services and NetworkPolicies, built from the
   * resolved registry (the lock applied). For snapshot tests: `Testing.synth(registry.chart('production'))`.
   * Declare every service first: the registry is closed once its charts are asked for.
   */
  public chart(environment: E): Chart {
    const resolved = this._resolution();
    if (!resolved.ok) throw new Error(`registry ${this.node.id} has errors:\n${formatFindings(blocking(resolved.findings))}`);
    this._build(resolved);
    this.closed = true;
    const chart = this.charts.get(environment);
    if (!chart) throw new Error(`registry ${this.node.id} has no environment ${environment}; it has ${[...this.charts.keys()].join(', ')}`);
    return chart;
  }

  /** @internal */
  public _kubeService(service: string, environment: string): k8s.KubeService {
    const key = `${environment}/${service}`;
    const known = this.kubeServices.get(key);
    if (known) return known;
    if (this.built) throw new Error(`${service} has no Service in ${environment} (it does not run there, or is not deployed)`);
    this.namespace(environment as E);
    // Asked for before the synth: the object exists now, its spec is the synth's (see _build).
    const holder: { props?: k8s.KubeServiceProps } = {};
    const svc = new k8s.KubeService(this.chartOf(environment), `service-${service}`, {
      metadata: { name: service, namespace: this.namespace(environment as E) },
      spec: Lazy.any({ produce: () => holder.props?.spec }),
    });
    (svc as unknown as { [HOLDER]: typeof holder })[HOLDER] = holder;
    this.kubeServices.set(key, svc);
    return svc;
  }

  /** The findings that stop a synth, for cdk8s' validation: every unwaived error, then workload drift. */
  /** @internal */
  private validateForSynth(): string[] {
    const state = appState(this);
    if (state.validated?.version !== state.version) state.validated = { version: state.version, messages: this.validateApp() };
    return state.validated.messages.get(this) ?? [];
  }

  /**
   * Validates every registry of the app at once (cdk8s calls each registry's validation, and again
   * for every chart it renders): errors, then the charts, the bindings and drift. In a plain App this
   * is also where the synth's own work happens, once: warnings on stderr, the lock written.
   */
  /** @internal */
  private validateApp(): Map<PortRegistry, string[]> {
    const root = this.node.root;
    const byRegistry = this.appResolution();
    const messages = new Map<PortRegistry, string[]>();
    const findings: Finding[] = [];
    for (const [r, resolved] of byRegistry) {
      const res = r.cached ?? resolved;
      findings.push(...res.findings);
      const errors = blocking(res.findings);
      if (errors.length) {
        messages.set(r, errors.map(formatFinding));
        continue;
      }
      if (!isPortsApp(root) || r.built) r._build(res);
    }
    for (const [r, resolved] of byRegistry) {
      if (messages.has(r)) continue;
      const res = r.cached ?? resolved;
      const drift = r._drift(res);
      findings.push(...drift);
      const moved = r.handedOut.filter(h => h.now(res) !== h.value).map(h =>
        `${h.label} gave ${h.value} when it was called, but the synth writes ${h.now(res)}: a declaration after the call moved it; ` +
        'call it after every declaration, or pin the port (Port.fixed, Port.offset, or the lock file)');
      const messagesOf = [...blocking(drift).map(formatFinding), ...moved];
      if (messagesOf.length) messages.set(r, messagesOf);
    }
    if (!isPortsApp(root)) plainAppSynth(root, byRegistry, findings, messages.size === 0);
    return messages;
  }

  /** @internal `workload-drift` findings of the app's other charts (after the charts are built). */
  public _drift(resolved: ResolvedRegistry): Finding[] {
    if (this.driftOf?.resolved !== resolved) {
      const isRegistryChart = (chart: Chart) => REGISTRY_CHARTS.has(chart);
      this.driftOf = { resolved, findings: [...this.bindFindings, ...workloadDrift(resolved, this.node.root as Construct, isRegistryChart, this.bindings), ...this.chainOfApp(isRegistryChart)] };
    }
    return this.driftOf.findings;
  }

  /** The app's port chain (lib/constructs/port-chain.ts), reported by its first registry only. @internal */
  private chainOfApp(isRegistryChart: (chart: Chart) => boolean): Finding[] {
    const all = registriesOf(this.node.root);
    if (all[0] !== this) return [];
    const clean = all.map(r => ({ r, res: r.cached ?? r.appResolution().get(r) })).filter(x => x.res?.ok);
    return appPortChain(this.node.root as Construct, isRegistryChart, clean.map(({ r, res }) => ({ name: r.node.id, manifests: () => r._manifests(res!) })));
  }

  /** Drift found for a resolution: computed once per resolution. */
  /** @internal */
  private driftOf?: { readonly resolved: ResolvedRegistry; readonly findings: Finding[] };

  /**
   * The registry's `composeChecks`, read relative to its file when it was read from one (as
   * `extends` is), else to the project's folder (where cdk8s.yaml is): the same wherever the synth runs.
   * @internal
   */
  public _composeChecks(): (resolved: ResolvedRegistry) => Finding[] {
    if (this.source) {
      const dir = this.source.dir;
      return res => composeCheckFindings(res, dir, `the registry file's folder`);
    }
    const root = projectRoot();
    return res => composeCheckFindings(res, root, fs.existsSync(path.join(root, 'cdk8s.yaml')) ? 'the project folder (where cdk8s.yaml is)' : 'the folder the synth runs in');
  }

  /**
   * What the pipeline (lib/check/pipeline.ts) needs to resolve this registry: the data, the findings
   * made while it was declared or loaded, and how to locate findings in its file.
   * @internal
   */
  public pipelineInput(options: CheckOptions & { readonly composeChecks?: RegistryInput['composeChecks'] } = {}): RegistryInput {
    const unusable = (this.source && !this.source.loaded.spec) || this.baseFindings.length > 0;
    const duplicates = this.duplicates.map(d => finding('duplicate-service', `"${d.name}" is declared twice (as ${d.first} and as ${d.second})`,
      { registry: this.node.id, service: d.name }, 'give one of them another name'));
    const loaded = this.source?.loaded;
    return {
      spec: unusable ? undefined : this.data,
      // Fixes speak the registry's language: YAML for a file, the construct API for code.
      syntax: this.source ? 'data' : 'code',
      lock: options.lock, frozenLock: options.frozenLock,
      findings: [...this.baseFindings, ...(loaded && !loaded.spec ? loaded.findings : []), ...duplicates],
      ...(options.composeChecks ? { composeChecks: options.composeChecks } : {}),
      ...(loaded ? { locate: (fs_: readonly Finding[]) => locateFindings(fs_, loaded.locate) } : {}),
    };
  }

  /**
   * Creates the registry's objects in one chart per environment (a Namespace, its Services and
   * NetworkPolicies) from a clean check, once, and binds the users' workloads (also those bound
   * since). Services asked for earlier (`kubeService`) get their spec here and their place in the
   * output order.
   * @internal
   */
  public _build(resolved: ResolvedRegistry): ReadonlyMap<string, Chart> {
    if (!resolved.ok) throw new Error(`registry ${this.node.id} has errors; build() needs a clean check`);
    if (!this.built) {
      this.built = true;
      for (const env of resolved.environments) this.chartOf(env.name);
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
          { registry: this.node.id, service: key.split('/')[1], environment: key.split('/')[0] }, 'use the Service of an environment the service runs in'));
        Chart.of(svc).node.tryRemoveChild(svc.node.id);
      }
      // cdk8s renders a chart's objects in dependency order, then in construct order: a Service asked
      // for early was made first, so it depends on every object before it in the output order.
      for (const objects of this.chartObjects.values()) {
        objects.forEach((o, i) => { if (wasEarly.has(o)) o.node.addDependency(...objects.slice(0, i)); });
      }
    }
    this.applyBindings(resolved);
    return this.charts;
  }


  /** The registry's objects of `chart` in output order (for PortsApp, which renders them itself). @internal */
  public _objectsOf(chart: Chart): readonly ApiObject[] {
    return this.chartObjects.get(chart) ?? [];
  }

  /**
   * Closes the registry for a PortsApp synth and binds the users' workloads, without building charts:
   * a PortsApp renders the registry's objects as plain data when no one has asked for its charts.
   * @internal
   */
  public _close(resolved: ResolvedRegistry): void {
    if (this.kubeServices.size || this.charts.size) this._build(resolved);
    else this.applyBindings(resolved);
  }

  /** Whether the charts exist, so that the synth must render them (users may have added to them). @internal */
  public get _hasCharts(): boolean {
    return this.built || this.charts.size > 0;
  }

  /**
   * Each environment's manifests in chart order, as its chart would render them (lib/emit/manifest.ts),
   * for a registry whose charts were never built.
   * @internal
   */
  public _manifests(resolved: ResolvedRegistry): Map<string, unknown[]> {
    const out = new Map<string, unknown[]>(resolved.environments.map(env => [env.name, []]));
    for (const emitter of EMITTERS) {
      for (const o of emitter.objects?.(resolved) ?? []) out.get(o.environment)!.push(manifestOf(o));
    }
    return out;
  }

  /** The charts of the registry by environment (after `_build`). @internal */
  public get _charts(): ReadonlyMap<string, Chart> {
    return this.charts;
  }

  /** @internal */
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
      const obj = ApiObject.of(b.workload);
      const other = BOUND.get(obj);
      if (other) {
        this.bindFindings.push(finding('workload-drift', `${b.workload.node.path} is bound twice: to ${other.service} in ${other.environment} (registry ${other.registry}) ` +
          `and to ${b.service} in ${b.environment}; one workload's pods would carry both services' labels and get both services' policies`,
          { registry: this.node.id, service: b.service, environment: b.environment, other: `${other.registry}/${other.service}`, path: b.workload.node.path },
          'bind each workload once: give each service and environment its own workload'));
        continue;
      }
      BOUND.set(obj, { registry: this.node.id, service: b.service, environment: b.environment });
      // A Job's pods carry the labels the service's Service selects: it would send them traffic.
      const serves = resolved.allocations.some(a => a.of === 'service' && a.service === b.service && a.environment === b.environment);
      if ((obj.kind === 'Job' || obj.kind === 'CronJob') && serves) {
        this.bindFindings.push(finding('workload-drift', `${obj.kind} ${b.workload.node.path} is bound to ${b.service}, which serves ports in ${b.environment}: ` +
          `the Service ${b.service} would send traffic to the ${obj.kind}'s pods, and they would get its ports and readiness probe`,
          { registry: this.node.id, service: b.service, environment: b.environment, path: b.workload.node.path },
          `declare the job as a client of its own, a service without ports (ports.service('${b.workload.node.id}', {}) with its connectsTo), and bind the ${obj.kind} to that`));
        continue;
      }
      const alone = this.bindings.filter(x => x.service === b.service && x.environment === b.environment).length === 1;
      const result = applyBinding(resolved, b, alone);
      this.bindFindings.push(...result.findings);
      if (result.selectedBy) relabelled.push(result);
    }
    if (relabelled.length) {
      const objects = this.node.root.node.findAll().filter((c): c is ApiObject => c instanceof ApiObject && !REGISTRY_CHARTS.has(Chart.of(c)));
      reselect(objects, relabelled);
    }
  }

  /** @internal */
  private assertOpen(name: string) {
    if (this.closed) throw new Error(`cannot add ${name}: the charts of registry ${this.node.id} were asked for (chart()), so it is closed; declare everything before asking for its charts`);
  }

  /** A second declaration of a name is kept aside and reported by check(), with every other finding. */
  /** @internal */
  private isDuplicate(name: string, kind: 'service' | 'external'): boolean {
    const first = name in this.data.services ? 'service' : name in this.data.externals ? 'external' : undefined;
    if (first) this.duplicates.push({ name, first, second: kind });
    return first !== undefined;
  }
}

/** Where a Service asked for before the synth keeps the props the synth gives it. */
const HOLDER = Symbol('cdk8s-ports.service-props');

/**
 * What a plain cdk8s App gets from its registries when it synthesizes, once: the findings that do
 * not stop it on stderr, the new pins in the lock file (only when nothing stopped it), and the
 * report `cdk8s-ports check` asks for (CDK8S_PORTS_CHECK_ONLY). A `Testing.app()` prints nothing.
 */
function plainAppSynth(root: IConstruct, byRegistry: ReadonlyMap<PortRegistry, ResolvedRegistry>, findings: readonly Finding[], clean: boolean): void {
  const report = process.env.CDK8S_PORTS_CHECK_ONLY;
  if (report) {
    writeCheckReport(report, [...byRegistry].map(([r, res]) => [r.node.id, res] as const), findings);
    return;
  }
  const testing = isTestingApp(root);
  if (!testing) {
    for (const f of findings) if (f.severity !== 'error' || f.waived) console.error(formatFinding(f));
    if (findings.length) console.error(summarize(findings));
  }
  if (!clean || process.env.CDK8S_PORTS_FROZEN_LOCK === '1') return;
  const byFile = new Map<string, Map<string, Lock>>();
  for (const [r, res] of byRegistry) {
    if (r.lockFile === undefined) continue;
    const entries = byFile.get(r.lockFile) ?? new Map<string, Lock>();
    entries.set(r.node.id, res.lock);
    byFile.set(r.lockFile, entries);
  }
  for (const [file, entries] of byFile) {
    try {
      if (writeLockEntries(file, entries) && !testing) console.error(`updated ${file}`);
    } catch (e) {
      throw new Error(`cannot write the lock file ${file}: ${(e as Error).message}; the automatic ports it would pin are not pinned`);
    }
  }
}
