import * as fs from 'fs';
import * as path from 'path';
import { Chart } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import { k8s } from '../imports/k8s';
import type { CheckOptions } from './check';
import { Binding, BindOptions, applyBinding, workloadDrift } from './constructs/bind';
import { formatFinding, formatFindings } from './format';
import { parseLockFile } from './allocation/lock';
import { normalizeOutputDir } from './output';
import { ownEntry } from './model/normalize';
import type { Lock } from './model/resolved';
import type { ResolvedRegistry } from './model/resolved';
import { RegistryInput, resolve } from './pipeline';
import { EMITTERS } from './emit/index';
import { manifestOf } from './emit/manifest';
import { LoadedRegistry, loadBaseFile, locateFindings, parseRegistryText } from './file/registry-file';
import { RegistryBase, baseProblem, extendSpec } from './model/extend';
import { Finding, blocking, finding } from './model/finding';
import type {
  AvoidSpec, CategorySpec, EnvironmentSpec, ExternalPort, ExternalSpec, PortSpec, RegistrySpec, ServiceSpec, Waiver,
} from './model/types';
import { ReadError, readRegularFile } from './io/read';

/** Props of {@link PortRegistry}. */
export interface PortRegistryProps {
  /**
   * A base to extend: an object (e.g. exported by an organisation's package) or the path of its
   * ports.yaml/ports.json. Its environments, categories, avoided ports, de-facto list, externals
   * and waivers come first; this registry's own are added (a key defined in both takes this
   * registry's value). Registries extending the same base are checked against each other.
   * @default no base
   */
  readonly extends?: RegistryBase | string;
  /** Environments by name, each with its band, namespace and scope. @default one environment, `default` */
  readonly environments?: Record<string, EnvironmentSpec>;
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
   * The lock file whose pins `check()`, port handles and a plain cdk8s App's synth use. A missing
   * file is an empty lock.
   * @default the PortsApp's `lockFile`, else 'ports.lock.json'
   */
  readonly lockFile?: string;
}

/**
 * Props of `PortRegistry.service()`: everything of the model except connections, which
 * `connectsTo` adds. The port names are a type parameter inferred from `ports`, so a misspelt
 * port name does not compile.
 */
export interface ServiceProps<P extends string = string> extends Omit<ServiceSpec, 'connectsTo' | 'ports'> {
  /** The service's named ports (`Port.offset(0)`, `Port.auto()`, `Port.fixed(8080)` …). */
  readonly ports: { readonly [K in P]: PortSpec };
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
  readonly registry: PortRegistry;
  /** @internal (the port names, for the type checker only) */
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
export class RegisteredPort {
  /** @internal */
  constructor(private readonly service: RegisteredService<string>, public readonly name: string) {}

  /**
   * The port in `environment`, resolved with the registry's lock by the same pipeline as the synth.
   * Throws when the registry has errors, or the service does not run there. Call it after the
   * registry is declared; `bind()` is resolved at synth time and needs no such care.
   */
  public in(environment: string): ResolvedPort {
    const resolved = this.service.registry.resolved();
    const a = resolved.allocations.find(x => x.service === this.service.name && x.portName === this.name && x.environment === environment);
    if (!a) {
      const envs = resolved.environments.map(e => e.name);
      throw new Error(`${this.service.name}.${this.name} has no port in ${environment}` +
        (envs.includes(environment) ? ' (the service does not run there)' : `: the registry's environments are ${envs.join(', ')}`));
    }
    return {
      name: a.portName, port: a.port, targetPort: a.targetPort, protocol: a.protocol, namespace: a.namespace,
      ...(a.appProtocol ? { appProtocol: a.appProtocol } : {}), ...(a.nodePort !== undefined ? { nodePort: a.nodePort } : {}),
      ...(a.fallback !== undefined ? { fallback: a.fallback } : {}),
    };
  }
}

/** A service of the registry, returned by `PortRegistry.service()`; `P` is the union of its port names. */
export class RegisteredService<P extends string = string> implements Endpoint<P> {
  /** @internal */
  declare public readonly __ports?: P;
  /** @internal */
  constructor(public readonly registry: PortRegistry, public readonly name: string, private readonly spec: ServiceSpec) {}

  /**
   * Declares that this service talks to `target` on `port` (its only port when omitted).
   * This is the only way traffic is allowed: it yields the egress and ingress policies.
   * `options.environment` reaches the target in another environment (a warning).
   */
  public connectsTo<T extends string>(target: Endpoint<T>, port?: NoInfer<T>, options?: ConnectOptions): this;
  public connectsTo(target: string, port?: string, options?: ConnectOptions): this;
  public connectsTo(target: Endpoint | string, port?: string, options: ConnectOptions = {}): this {
    const to = typeof target === 'string' ? target : target.name;
    if (typeof target !== 'string' && target.registry !== this.registry) {
      throw new Error(`${this.name} cannot connect to ${to}: it belongs to another registry (${target.registry.node.id})`);
    }
    const list = (this.spec as { connectsTo?: ServiceSpec['connectsTo'] }).connectsTo ??= [];
    list.push({ to, ...(port !== undefined ? { port } : {}), ...(options.environment !== undefined ? { environment: options.environment } : {}) });
    this.registry.changed();
    return this;
  }

  /** One of the service's ports; `.in(environment)` gives its numbers. */
  public port(name: P): RegisteredPort {
    if (!Object.prototype.hasOwnProperty.call(this.spec.ports, name)) {
      throw new Error(`${this.name} has no port ${name}; its ports are ${Object.keys(this.spec.ports).join(', ')}`);
    }
    return new RegisteredPort(this as RegisteredService<string>, name);
  }

  /** The labels the generated Service and NetworkPolicies select: give them to the pods of this service. */
  public get podLabels(): Record<string, string> {
    return { ...(this.spec.selector ?? { 'app.kubernetes.io/name': this.name }) };
  }

  /**
   * Makes `workload` (a cdk8s-plus Deployment, StatefulSet, DaemonSet, Job, CronJob or Pod, or a
   * plain `k8s.Kube*` one) agree with the registry in `environment`: the registry's ports as named
   * container ports, the pod labels the Service and NetworkPolicies select, the namespace, one
   * variable set per connection (`<TARGET>_HOST`, `_PORT`, `_URL`, as compose has them) and a
   * readiness probe on the health-check port. Applied at synth time, with the lock.
   */
  public bind(workload: IConstruct, environment: string, options: BindOptions = {}): this {
    this.registry.addBinding({ service: this.name, environment, workload, options });
    return this;
  }

  /** The Service the registry generates for this service in `environment` (e.g. as an Ingress backend). */
  public kubeService(environment: string): k8s.KubeService {
    return this.registry.kubeService(this.name, environment);
  }
}

/** Options of `connectsTo`. */
export interface ConnectOptions {
  /** Reach the target in this environment instead of the client's own (a cross-environment warning). @default the client's environment */
  readonly environment?: string;
}

/** An external endpoint of the registry (a database, a broker, a mirror), returned by `PortRegistry.external()`. */
export class RegisteredExternal<P extends string = string> implements Endpoint<P> {
  /** @internal */
  declare public readonly __ports?: P;
  /** @internal */
  constructor(public readonly registry: PortRegistry, public readonly name: string) {}
}

/**
 * The port registry: environments, ranges, services and external endpoints. The checks
 * run when the app synthesizes (`PortsApp.synth()`); `check()` runs them on demand.
 */
export class PortRegistry extends Construct {
  /** The folder under the app's manifests folder this registry writes to, normalised ('' for the folder itself). */
  public readonly outputDir: string;
  /** Findings about the registry's own setup (base, output folder), reported by check(). */
  private readonly baseFindings: Finding[] = [];
  private readonly data: RegistrySpec & { services: Record<string, ServiceSpec>; externals: Record<string, ExternalSpec> };
  private readonly charts = new Map<string, Chart>();
  private readonly kubeServices = new Map<string, k8s.KubeService>();
  /** The charts exist (someone asked for them, or a plain App synthesizes). */
  private built = false;
  /** Synthesized or charts built: nothing more may be declared. */
  private closed = false;
  private bound = false;
  public readonly lockFile: string;
  private readonly bindings: Binding[] = [];
  /** The last resolution: reused until something is declared (port handles, validation, synth). */
  private cached?: ResolvedRegistry;
  private readonly duplicates: Array<{ name: string; first: string; second: string }> = [];
  /** Where the registry came from, when it was read from a file. */
  private source?: { readonly file: string; readonly loaded: LoadedRegistry };

  constructor(scope: Construct, id: string, props: PortRegistryProps = {}) {
    super(scope, id);
    const dir = normalizeOutputDir(props.outputDir ?? '');
    this.outputDir = dir.dir ?? '';
    if (dir.problem) {
      this.baseFindings.push(finding('invalid-value', `outputDir ${JSON.stringify(props.outputDir)} of registry ${id} ${dir.problem}`,
        { registry: id, path: 'outputDir' }, 'use a folder inside the manifests folder, such as "team-a"'));
    }
    // In a PortsApp, the app's lock file (it writes that one); in any other App, ports.lock.json.
    const appLock = (this.node.root as { readonly lockFile?: unknown }).lockFile;
    this.lockFile = props.lockFile ?? (typeof appLock === 'string' ? appLock : 'ports.lock.json');
    // Any cdk8s App that holds a registry checks it when it synthesizes (not only PortsApp).
    this.node.addValidation({ validate: () => this.validateForSynth() });
    const base = props.extends === undefined ? undefined : this.loadBase(props.extends);
    const own: RegistrySpec = {
      name: id,
      ...(props.description ? { description: props.description } : {}),
      ...(props.environments ? { environments: props.environments } : {}),
      ...(props.categories ? { categories: props.categories } : {}),
      ...(props.avoid ? { avoid: props.avoid } : {}),
      ...(props.defactoPorts !== undefined ? { defactoPorts: props.defactoPorts } : {}),
      ...(props.composeChecks ? { composeChecks: props.composeChecks } : {}),
      ...(props.waivers ? { waivers: [...props.waivers] } : {}),
    };
    const spec = base ? extendSpec(base, own) : own;
    this.data = { ...spec, services: {}, externals: { ...(spec.externals ?? {}) }, waivers: [...(spec.waivers ?? [])] };
  }


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
   * synthesizes, together with every other finding; nothing is thrown here.
   */
  public static fromFile(scope: Construct, id: string, file: string, props: Pick<PortRegistryProps, 'outputDir'> = {}): PortRegistry {
    let loaded: LoadedRegistry;
    try {
      loaded = parseRegistryText(readRegularFile(file), file, id);
    } catch (e) {
      const reason = e instanceof ReadError ? e.reason : `cannot be read (${(e as Error).message})`;
      loaded = { findings: [finding('schema', `registry file ${file} ${reason}`, { registry: id, file }, 'check the path')], locate: () => undefined };
    }
    const spec = loaded.spec;
    const baseFile = spec?.extends !== undefined ? path.resolve(path.dirname(file), spec.extends) : undefined;
    const registry = new PortRegistry(scope, id, { ...(spec ?? {}), extends: baseFile, outputDir: props.outputDir });
    if (spec) {
      Object.assign(registry.data.services, spec.services ?? {});
      Object.assign(registry.data.externals, spec.externals ?? {});
    }
    registry.source = { file, loaded };
    return registry;
  }

  /** Adds a service. Names must be unique across services and externals. */
  public service<const P extends string>(name: string, props: ServiceProps<P>): RegisteredService<P> {
    this.assertOpen(name);
    const spec = { ...props } as ServiceSpec;
    if (!this.isDuplicate(name, 'service')) this.data.services[name] = spec;
    this.changed();
    return new RegisteredService<P>(this, name, spec);
  }

  /** Adds an external endpoint whose ports the registry keeps clear. */
  public external<const P extends string = 'main'>(name: string, props: ExternalProps<P>): RegisteredExternal<P> {
    this.assertOpen(name);
    const { port, ports, protocol, targetPort, ...rest } = props as ExternalProps;
    if ((port === undefined) === (ports === undefined)) throw new Error(`external ${name} of registry ${this.node.id}: give either port or ports`);
    const named = ports ?? { main: { port: port!, ...(protocol ? { protocol } : {}), ...(targetPort ? { targetPort } : {}) } };
    if (!this.isDuplicate(name, 'external')) this.data.externals[name] = { ...rest, ports: named as ExternalSpec['ports'] };
    this.changed();
    return new RegisteredExternal<P>(this, name);
  }

  /** Records an explicit exception to a rule; the finding is still shown, as waived, with the reason. */
  public waive(waiver: Waiver): this {
    this.data.waivers!.push(waiver);
    this.changed();
    return this;
  }

  /** The registry as plain data (the same shape a ports.yaml file has). */
  public get spec(): RegistrySpec {
    return structuredClone(this.data);
  }

  /** Runs every rule and allocates every port. Pure: nothing is written. */
  public check(options: CheckOptions = {}): ResolvedRegistry {
    return resolve(this.pipelineInput({ ...options, lock: options.lock ?? this.lockFromFile() }));
  }

  /** The lock entries of this registry in its lock file (none when there is no file). */
  private lockFromFile(): Lock | undefined {
    if (!fs.existsSync(this.lockFile)) return undefined;
    return ownEntry(parseLockFile(readRegularFile(this.lockFile), this.lockFile).registries, this.node.id);
  }

  /** @internal Something was declared: the next resolution starts afresh. */
  public changed(): void {
    this.cached = undefined;
  }

  /**
   * The registry resolved with its lock, as the synth resolves it; throws with every error when it has any.
   * @internal
   */
  public resolved(): ResolvedRegistry {
    const resolved = this.resolution();
    if (!resolved.ok) throw new Error(`registry ${this.node.id} has errors:\n${formatFindings(blocking(resolved.findings))}`);
    return resolved;
  }

  /** @internal PortsApp hands over the resolution it made with its own lock. */
  public useResolved(resolved: ResolvedRegistry): void {
    this.cached = resolved;
  }

  /** The last resolution, or a new one (with the lock file) when something was declared since. */
  private resolution(): ResolvedRegistry {
    return (this.cached ??= this.check());
  }

  /** @internal */
  public addBinding(binding: Binding): void {
    this.assertOpen(binding.service);
    this.bindings.push(binding);
  }

  /**
   * The chart of `environment`: its Namespace, Services and NetworkPolicies, built from the
   * resolved registry (the lock applied). For snapshot tests: `Testing.synth(registry.chart('production'))`.
   * Declare every service first: the registry is closed once its charts exist.
   */
  public chart(environment: string): Chart {
    const charts = this.build(this.resolved());
    const chart = charts.get(environment);
    if (!chart) throw new Error(`registry ${this.node.id} has no environment ${environment}; it has ${[...charts.keys()].join(', ')}`);
    return chart;
  }

  /** @internal */
  public kubeService(service: string, environment: string): k8s.KubeService {
    this.chart(environment);
    const svc = this.kubeServices.get(`${environment}/${service}`);
    if (!svc) throw new Error(`${service} has no Service in ${environment} (it does not run there, or is not deployed)`);
    return svc;
  }

  /** The findings that stop a synth, for cdk8s' validation: every unwaived error, then workload drift. */
  private validateForSynth(): string[] {
    const resolved = this.resolution();
    const errors = blocking(resolved.findings);
    if (errors.length) return errors.map(formatFinding);
    // A plain App writes the registry's charts itself, so they must exist now; a PortsApp has closed
    // the registry already and renders its objects (as charts only when someone asked for them).
    if (!this.closed) this.build(resolved);
    return this.drift(resolved).map(formatFinding);
  }

  /** Drift found for a resolution: cdk8s validates the whole app once per chart it renders, so it is computed once. */
  private driftOf?: { readonly resolved: ResolvedRegistry; readonly findings: Finding[] };

  /** @internal `workload-drift` findings of the app's other charts (after build). */
  public drift(resolved: ResolvedRegistry): Finding[] {
    if (this.driftOf?.resolved !== resolved) {
      const isRegistryChart = (chart: Chart) => chart.node.scope instanceof PortRegistry;
      this.driftOf = { resolved, findings: workloadDrift(resolved, this.node.root as Construct, isRegistryChart, this.bindings) };
    }
    return this.driftOf.findings;
  }

  /**
   * What the pipeline (lib/pipeline.ts) needs to resolve this registry: the data, the findings
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
   * Creates one chart per environment (a Namespace and its Services) from a clean check.
   * Called at synth time; the registry is closed afterwards. Use `chart(environment)` instead.
   * @internal
   */
  public build(resolved: ResolvedRegistry): ReadonlyMap<string, Chart> {
    if (!resolved.ok) throw new Error(`registry ${this.node.id} has errors; build() needs a clean check`);
    if (this.built) return this.charts;
    this.built = true;
    this.closed = true;
    for (const env of resolved.environments) this.charts.set(env.name, new Chart(this, env.name));
    for (const emitter of EMITTERS) {
      for (const o of emitter.objects?.(resolved) ?? []) {
        const chart = this.charts.get(o.environment)!;
        if (o.kind === 'Namespace') new k8s.KubeNamespace(chart, o.id, o.props);
        else if (o.kind === 'Service') this.kubeServices.set(`${o.environment}/${o.name}`, new k8s.KubeService(chart, o.id, o.props));
        else new k8s.KubeNetworkPolicy(chart, o.id, o.props);
      }
    }
    this.applyBindings(resolved);
    return this.charts;
  }

  /**
   * Closes the registry for a synth and binds the users' workloads, without building charts: a
   * PortsApp renders the registry's objects as plain data when no one has asked for its charts.
   * @internal
   */
  public close(resolved: ResolvedRegistry): void {
    this.closed = true;
    this.applyBindings(resolved);
  }

  /** Whether the charts exist, so that the synth must render them (users may have added to them). @internal */
  public get hasCharts(): boolean {
    return this.built;
  }

  /**
   * Each environment's manifests in chart order, as its chart would render them (lib/emit/manifest.ts),
   * for a registry whose charts were never built.
   * @internal
   */
  public manifests(resolved: ResolvedRegistry): Map<string, unknown[]> {
    const out = new Map<string, unknown[]>(resolved.environments.map(env => [env.name, []]));
    for (const emitter of EMITTERS) {
      for (const o of emitter.objects?.(resolved) ?? []) out.get(o.environment)!.push(manifestOf(o));
    }
    return out;
  }

  private applyBindings(resolved: ResolvedRegistry): void {
    if (this.bound) return;
    this.bound = true;
    for (const b of this.bindings) applyBinding(resolved, b);
  }

  private assertOpen(name: string) {
    if (this.closed) throw new Error(`cannot add ${name}: registry ${this.node.id} has already been synthesized`);
  }

  /** A second declaration of a name is kept aside and reported by check(), with every other finding. */
  private isDuplicate(name: string, kind: 'service' | 'external'): boolean {
    const first = name in this.data.services ? 'service' : name in this.data.externals ? 'external' : undefined;
    if (first) this.duplicates.push({ name, first, second: kind });
    return first !== undefined;
  }
}
