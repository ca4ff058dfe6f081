import * as fs from 'fs';
import * as path from 'path';
import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { k8s } from '../imports/k8s';
import type { CheckOptions } from './check';
import type { ResolvedRegistry } from './model/resolved';
import { RegistryInput, resolve } from './pipeline';
import { EMITTERS } from './emit/index';
import { LoadedRegistry, loadBaseFile, locateFindings, parseRegistryText } from './file/registry-file';
import { RegistryBase, baseProblem, extendSpec } from './model/extend';
import { Finding, finding } from './model/finding';
import type {
  AvoidSpec, CategorySpec, EnvironmentSpec, ExternalPort, ExternalSpec, RegistrySpec, ServiceSpec, Waiver,
} from './model/schema';

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
}

/** Service props: everything of the model except connections, which `connectsTo` adds. */
export type ServiceProps = Omit<ServiceSpec, 'connectsTo'>;

/** An external endpoint: one `port` (named `main`) or named `ports`. */
export type ExternalProps = Omit<ExternalSpec, 'ports'> & (
  | { readonly port: number; readonly ports?: undefined; readonly protocol?: ExternalPort['protocol']; readonly targetPort?: number }
  | { readonly ports: Record<string, ExternalPort>; readonly port?: undefined }
);

interface Endpoint {
  readonly name: string;
  readonly registry: PortRegistry;
}

/** A service of the registry, returned by `PortRegistry.service()`. */
export class RegisteredService implements Endpoint {
  /** @internal */
  constructor(public readonly registry: PortRegistry, public readonly name: string, private readonly spec: ServiceSpec) {}

  /**
   * Declares that this service talks to `target` on `port` (its only port when omitted).
   * This is the only way traffic is allowed: it yields the egress and ingress policies.
   * `options.environment` reaches the target in another environment (a warning).
   */
  public connectsTo(target: Endpoint | string, port?: string, options: { readonly environment?: string } = {}): this {
    const to = typeof target === 'string' ? target : target.name;
    if (typeof target !== 'string' && target.registry !== this.registry) {
      throw new Error(`${this.name} cannot connect to ${to}: it belongs to another registry (${target.registry.node.id})`);
    }
    const list = (this.spec as { connectsTo?: ServiceSpec['connectsTo'] }).connectsTo ??= [];
    list.push({ to, ...(port !== undefined ? { port } : {}), ...(options.environment !== undefined ? { environment: options.environment } : {}) });
    return this;
  }
}

/** An external endpoint of the registry (a database, a broker, a mirror), returned by `PortRegistry.external()`. */
export class RegisteredExternal implements Endpoint {
  /** @internal */
  constructor(public readonly registry: PortRegistry, public readonly name: string) {}
}

/**
 * The port registry: environments, ranges, services and external endpoints. The checks
 * run when the app synthesizes (`PortsApp.synth()`); `check()` runs them on demand.
 */
export class PortRegistry extends Construct {
  public readonly outputDir: string;
  private readonly data: RegistrySpec & { services: Record<string, ServiceSpec>; externals: Record<string, ExternalSpec> };
  private readonly charts = new Map<string, Chart>();
  private readonly kubeServices = new Map<string, k8s.KubeService>();
  private built = false;
  private readonly duplicates: Array<{ name: string; first: string; second: string }> = [];
  /** Where the registry came from, when it was read from a file. */
  private source?: { readonly file: string; readonly loaded: LoadedRegistry };

  constructor(scope: Construct, id: string, props: PortRegistryProps = {}) {
    super(scope, id);
    this.outputDir = props.outputDir ?? '';
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

  /** Findings about the base itself (unreadable file, services in a base), reported by check(). */
  private readonly baseFindings: Finding[] = [];

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
      loaded = parseRegistryText(fs.readFileSync(file, 'utf8'), file, id);
    } catch (e) {
      const reason = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be read (${(e as Error).message})`;
      loaded = { findings: [finding('schema', `registry file ${file} ${reason}`, { registry: id, file }, 'check the path')], locate: () => undefined };
    }
    const spec = loaded.spec;
    const baseFile = spec?.extends !== undefined ? path.join(path.dirname(file), spec.extends) : undefined;
    const registry = new PortRegistry(scope, id, { ...(spec ?? {}), extends: baseFile, outputDir: props.outputDir });
    if (spec) {
      Object.assign(registry.data.services, spec.services ?? {});
      Object.assign(registry.data.externals, spec.externals ?? {});
    }
    registry.source = { file, loaded };
    return registry;
  }

  /** Adds a service. Names must be unique across services and externals. */
  public service(name: string, props: ServiceProps): RegisteredService {
    this.assertOpen(name);
    const spec: ServiceSpec = { ...props };
    if (!this.isDuplicate(name, 'service')) this.data.services[name] = spec;
    return new RegisteredService(this, name, spec);
  }

  /** Adds an external endpoint whose ports the registry keeps clear. */
  public external(name: string, props: ExternalProps): RegisteredExternal {
    this.assertOpen(name);
    const { port, ports, protocol, targetPort, ...rest } = props as ExternalProps & { protocol?: ExternalPort['protocol']; targetPort?: number };
    const named = ports ?? { main: { port: port!, ...(protocol ? { protocol } : {}), ...(targetPort ? { targetPort } : {}) } };
    if (!this.isDuplicate(name, 'external')) this.data.externals[name] = { ...rest, ports: named };
    return new RegisteredExternal(this, name);
  }

  /** Records an explicit exception to a rule; the finding is still shown, as waived, with the reason. */
  public waive(waiver: Waiver): this {
    this.data.waivers!.push(waiver);
    return this;
  }

  /** The registry as plain data (the same shape a ports.yaml file has). */
  public get spec(): RegistrySpec {
    return structuredClone(this.data);
  }

  /** Runs every rule and allocates every port. Pure: nothing is written. */
  public check(options: CheckOptions = {}): ResolvedRegistry {
    return resolve(this.pipelineInput(options));
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
      lock: options.lock, frozenLock: options.frozenLock,
      findings: [...this.baseFindings, ...(loaded && !loaded.spec ? loaded.findings : []), ...duplicates],
      ...(options.composeChecks ? { composeChecks: options.composeChecks } : {}),
      ...(loaded ? { locate: (fs_: readonly Finding[]) => locateFindings(fs_, loaded.locate) } : {}),
    };
  }

  /**
   * Creates one chart per environment (a Namespace and its Services) from a clean check.
   * Called by `PortsApp` at synth time; the registry is closed afterwards.
   */
  public build(resolved: ResolvedRegistry): ReadonlyMap<string, Chart> {
    if (!resolved.ok) throw new Error(`registry ${this.node.id} has errors; build() needs a clean check`);
    if (this.built) return this.charts;
    this.built = true;
    for (const env of resolved.environments) this.charts.set(env.name, new Chart(this, env.name));
    for (const emitter of EMITTERS) {
      for (const o of emitter.objects?.(resolved) ?? []) {
        const chart = this.charts.get(o.environment)!;
        if (o.kind === 'Namespace') new k8s.KubeNamespace(chart, o.id, o.props);
        else if (o.kind === 'Service') this.kubeServices.set(`${o.environment}/${o.name}`, new k8s.KubeService(chart, o.id, o.props));
        else new k8s.KubeNetworkPolicy(chart, o.id, o.props);
      }
    }
    return this.charts;
  }

  private assertOpen(name: string) {
    if (this.built) throw new Error(`cannot add ${name}: registry ${this.node.id} has already been synthesized`);
  }

  /** A second declaration of a name is kept aside and reported by check(), with every other finding. */
  private isDuplicate(name: string, kind: 'service' | 'external'): boolean {
    const first = name in this.data.services ? 'service' : name in this.data.externals ? 'external' : undefined;
    if (first) this.duplicates.push({ name, first, second: kind });
    return first !== undefined;
  }
}
