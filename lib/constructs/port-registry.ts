import * as fs from 'fs';
import * as path from 'path';
import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import type { CheckOptions } from '../check/check-registry';
import { normalizeOutputDir } from '../io/output';
import { environmentsOf, ownEntry } from '../model/normalize';
import type { ResolvedRegistry } from '../model/resolved';
import { RegistryInput, resolveAll } from '../check/pipeline';
import { formatFindings } from '../model/format';
import { composeCheckFindings } from '../compose/check-files';
import {
  addRegistry, appResolution, chainOfApp, declared, isPortsApp, isTestingApp, projectLockFile, projectRoot, readLockFile, registriesOf, synthMessages,
} from './app-state';
import { RegisteredService, ResolvedPort, portOf } from './registered-service';
import { RegisteredExternal } from './registered-external';
import { RegistryCharts } from './registry-charts';
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
  /** The registry's charts, Services and bound workloads. @internal */
  public readonly _output: RegistryCharts = new RegistryCharts(this);
  /** `chart()` was asked for: the charts are built from the registry as it was, so nothing more may be declared. */
  /** @internal */
  private closed = false;
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
    addRegistry(this);
    this.node.addValidation({ validate: () => synthMessages(this) });
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
    declared(this);
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
    return this.cached ?? appResolution(this).get(this)!;
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

  /** What the values handed out before the synth became, where a later declaration moved them. @internal */
  public _moved(resolved: ResolvedRegistry): string[] {
    return this.handedOut.filter(h => h.now(resolved) !== h.value).map(h =>
      `${h.label} gave ${h.value} when it was called, but the synth writes ${h.now(resolved)}: a declaration after the call moved it; ` +
      'call it after every declaration, or pin the port (Port.fixed, Port.offset, or the lock file)');
  }

  /**
   * The chart of `environment`: its Namespace, Services and NetworkPolicies, built from the
   * resolved registry (the lock applied). For snapshot tests: `Testing.synth(registry.chart('production'))`.
   * Declare every service first: the registry is closed once its charts are asked for.
   */
  public chart(environment: E): Chart {
    const resolved = this._resolution();
    if (!resolved.ok) throw new Error(`registry ${this.node.id} has errors:\n${formatFindings(blocking(resolved.findings))}`);
    this._output.build(resolved);
    this.closed = true;
    const chart = this._output.chart(environment);
    if (!chart) throw new Error(`registry ${this.node.id} has no environment ${environment}; it has ${this._output.environments().join(', ')}`);
    return chart;
  }

  /** `workload-drift` findings of the app's other charts (after the charts are built), and the app's port chain. @internal */
  public _drift(resolved: ResolvedRegistry): Finding[] {
    return this._output.drift(resolved, () => chainOfApp(this));
  }

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
