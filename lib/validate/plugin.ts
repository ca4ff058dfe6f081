/**
 * `PortsValidation`: cdk8s-ports as a cdk8s validation plugin, for any cdk8s app (TypeScript,
 * Python, Java, Go, or plain YAML through an `Include`). `cdk8s synth --validate` loads it from the
 * app's `cdk8s.yaml`:
 *
 * ```yaml
 * validations:
 *   - package: ./node_modules/cdk8s-ports
 *     class: PortsValidation
 *     version: 0.1.0
 *     properties: { registry: ports.yaml }
 * ```
 *
 * It reads the synthesized manifests and reports, as violations: the registry's own findings (the
 * rules `cdk8s-ports check` runs), `workload-drift` (a port of the app's workloads and Services
 * that disagrees with the registry: the synth's own check, ./workload-drift.ts) and what the
 * NetworkPolicies allow against what the registry declares (the synth's traffic check). Errors fail
 * the synth; warnings are reported.
 */
import * as path from 'path';
import { blocking } from '../model/finding';
import type { Finding } from '../model/finding';
import { InvalidValue, SourcedObject, clusterOf } from '../netpol/load';
import { TooManyPaths, TrafficFinding, invalidValueFinding, tooManyPathsFinding, verifyCluster } from '../netpol/verify';
import { LoadedRegistry, loadRegistries } from '../load/registries';
import { RenderedObject, manifestDrift } from './workload-drift';
import { portChain } from './port-chain';

/** The checks the plugin can run. */
export const VALIDATION_CHECKS = ['rules', 'drift', 'traffic'] as const;
/** One of {@link VALIDATION_CHECKS}. */
export type ValidationCheck = typeof VALIDATION_CHECKS[number];

/** The `properties` of the plugin in `cdk8s.yaml`. */
export interface PortsValidationProps {
  /**
   * The registry: a ports.yaml/ports.json, or the ports.json a synth writes; several are checked
   * together. Relative to the folder `cdk8s synth` runs in.
   * @default ./ports.yaml (or ports.yml, ports.json), else every ports.json under manifests/
   */
  readonly registry?: string | readonly string[];
  /**
   * Which checks to run: `rules` (the registry's own findings), `drift` (`workload-drift`: ports of
   * the app's workloads and Services against the registry), `traffic` (what the NetworkPolicies
   * allow against what the registry declares).
   * @default all three
   */
  readonly checks?: readonly ValidationCheck[];
}

/** A resource that violates a rule, as cdk8s-cli's `ValidationViolatingResource`. */
export interface ViolatingResource {
  /** The object's `metadata.name` (cdk8s-cli finds its construct path by it), or the registry's name. */
  readonly resourceName: string;
  /** Where in the object (`.spec.ingress[0]`) or in the registry file (`ports.yaml:12:7`). */
  readonly locations: readonly string[];
  /** The manifest (or registry) file. */
  readonly manifestPath: string;
}

/** A violation, as cdk8s-cli's `ValidationViolation`. */
export interface Violation {
  /** The rule's id (`workload-drift`, `collision`, `traffic-undeclared` …). */
  readonly ruleName: string;
  /** The severity and the finding's message. */
  readonly recommendation: string;
  /** How to fix it. */
  readonly fix: string;
  /** What it is about. */
  readonly violatingResources: readonly ViolatingResource[];
}

/**
 * What the plugin reads of cdk8s-cli's `ValidationContext` (the same shape, so that this package
 * needs no dependency on cdk8s-cli).
 */
export interface PortsValidationContext {
  /** The manifest files the synth wrote. */
  readonly manifests: readonly string[];
  /** The report the violations go to. */
  readonly report: {
    /** Adds one violation. */
    addViolation(violation: Violation): void;
    /** Ends the report: `failure` fails the synth. */
    submit(status: 'success' | 'failure', metadata?: { readonly [key: string]: string }): void;
  };
  /** cdk8s-cli's logger. */
  readonly logger: {
    /** Prints a line. */
    log(message: string): void;
  };
  /** The objects of one manifest file. */
  parseManifest(manifestPath: string): unknown[];
}

/** One finding of any check, ready to become a violation. */
interface Item {
  readonly rule: string;
  readonly severity: 'error' | 'warning';
  readonly message: string;
  readonly fix?: string;
  readonly resources: readonly ViolatingResource[];
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** cdk8s-ports as a cdk8s validation plugin (cdk8s-cli's `Validation` interface). */
export class PortsValidation {
  /** The registry files checked (as given, or the default search). */
  public readonly registry: readonly string[] | undefined;
  /** The checks that run. */
  public readonly checks: readonly ValidationCheck[];

  public constructor(props: PortsValidationProps = {}) {
    const known = new Set(['registry', 'checks']);
    const unknown = Object.keys(props ?? {}).filter(k => !known.has(k));
    if (unknown.length) {
      throw new Error(`cdk8s-ports PortsValidation: unknown ${unknown.length === 1 ? 'property' : 'properties'} ${unknown.join(', ')} in cdk8s.yaml (known: registry, checks)`);
    }
    const registry = props.registry;
    if (registry !== undefined && typeof registry !== 'string' && !(Array.isArray(registry) && registry.every(r => typeof r === 'string'))) {
      throw new Error('cdk8s-ports PortsValidation: registry is a file name or a list of them (a ports.yaml/ports.json, or the ports.json a synth writes)');
    }
    this.registry = registry === undefined ? undefined : typeof registry === 'string' ? [registry] : [...registry];
    const checks = props.checks ?? VALIDATION_CHECKS;
    const wrong = Array.isArray(checks) ? checks.filter(c => !(VALIDATION_CHECKS as readonly string[]).includes(c)) : [String(checks)];
    if (wrong.length || checks.length === 0) {
      throw new Error(`cdk8s-ports PortsValidation: checks is a list of ${VALIDATION_CHECKS.join(', ')}${wrong.length ? ` (not ${wrong.join(', ')})` : ' (not empty)'}`);
    }
    this.checks = [...checks];
  }

  /** Runs the checks on the synthesized manifests and submits the report (cdk8s-cli calls this). */
  public async validate(context: PortsValidationContext): Promise<void> {
    const cwd = process.cwd();
    let registries: LoadedRegistry[];
    try {
      registries = loadRegistries(this.registry, cwd);
    } catch (e) {
      context.report.addViolation({
        ruleName: 'registry-unreadable', recommendation: `error: ${(e as Error).message}`,
        fix: 'name the registry in cdk8s.yaml (validations: properties: registry: ports.yaml), relative to the folder cdk8s synth runs in',
        violatingResources: [{ resourceName: (this.registry ?? ['ports.yaml']).join(', '), locations: [], manifestPath: cwd }],
      });
      context.report.submit('failure', { errors: '1' });
      return;
    }
    const items = checkManifests(registries, context.manifests.map(file => ({ file, objects: context.parseManifest(file) })), this.checks, cwd);
    for (const item of items) {
      context.report.addViolation({
        ruleName: item.rule,
        recommendation: `${item.severity}: ${item.message}`,
        fix: item.fix ?? '',
        violatingResources: item.resources,
      });
    }
    const errors = items.filter(i => i.severity === 'error').length;
    const waived = registries.reduce((n, r) => n + r.resolved.findings.filter(f => f.waived).length, 0);
    context.report.submit(errors ? 'failure' : 'success', {
      registries: registries.map(r => `${r.name} (${r.source})`).join(', '),
      checks: this.checks.join(', '),
      errors: String(errors),
      warnings: String(items.length - errors),
      waived: String(waived),
    });
  }
}

/** Every finding of the checks on some manifests, as the plugin reports them. */
function checkManifests(registries: readonly LoadedRegistry[], manifests: ReadonlyArray<{ file: string; objects: readonly unknown[] }>,
  checks: readonly ValidationCheck[] = VALIDATION_CHECKS, cwd = process.cwd()): Item[] {
  const items: Item[] = [];
  const rel = (file: string) => path.relative(cwd, path.resolve(cwd, file)) || file;
  // Where each object is, to name the manifest of a workload or policy a traffic finding names.
  const fileOf = new Map<string, string>();
  const objects: SourcedObject[] = [];
  for (const m of manifests) {
    for (const object of m.objects) {
      if (!object || typeof object !== 'object') continue;
      const o = object as Json;
      objects.push({ file: rel(m.file), object });
      const key = `${o.metadata?.namespace ?? 'default'}/${o.metadata?.name}`;
      if (!fileOf.has(`${o.kind}/${key}`)) fileOf.set(`${o.kind}/${key}`, m.file);
      if (!fileOf.has(key)) fileOf.set(key, m.file);
    }
  }
  const fileFor = (kindAndName: string) => fileOf.get(kindAndName) ?? '';
  if (checks.includes('rules')) {
    for (const r of registries) {
      for (const f of r.resolved.findings) {
        if (f.waived || f.severity === 'info') continue;
        items.push(registryItem(r, f, cwd));
      }
    }
  }
  if (checks.includes('drift')) {
    for (const o of objects) {
      const json = o.object as Json;
      const rendered: RenderedObject = { object: json, chartPath: o.file, origin: o.file };
      const prefix = `${o.file}/${json.kind}/${json.metadata?.name ?? ''}`;
      for (const r of registries) {
        for (const f of manifestDrift(r.resolved, [rendered])) {
          // (The synth's fix names bind(); a manifest is fixed where it is written.)
          items.push({ rule: f.rule, severity: 'error', message: f.message,
            fix: `write the registry's port there (${f.where.service}${f.where.portName ? `.${f.where.portName}` : ''} in ${r.source}), or change the registry if the manifest is right`,
            // where.path is `<file>/<Kind>/<name><field path>`: the field path is the location.
            resources: [{ resourceName: String(json.metadata?.name ?? ''), locations: [f.where.path!.slice(prefix.length)], manifestPath: fileFor(`${json.kind}/${json.metadata?.namespace ?? 'default'}/${json.metadata?.name}`) }] });
        }
      }
    }
  }
  if (checks.includes('drift')) {
    // The port chain of the whole output (lib/validate/port-chain.ts), once: where.path is `<file>/<Kind>/<name><field path>`.
    for (const f of portChain(objects.map(o => ({ object: o.object, origin: o.file, file: o.file })))) {
      const [, kind, name, field] = /^([^/]+)\/(.*?)((?:\.(?:spec|metadata)\b.*)?)$/.exec(f.where.path!.slice(f.where.file!.length + 1)) ?? [];
      items.push({ rule: f.rule, severity: f.severity === 'error' ? 'error' : 'warning', message: f.message, ...(f.fix ? { fix: f.fix } : {}),
        resources: [{ resourceName: name ?? '', locations: field ? [field] : [], manifestPath: fileFor(`${kind}/${objectNamespace(objects, f.where.file!, kind, name)}/${name}`) || f.where.file! }] });
    }
  }
  if (checks.includes('traffic')) {
    const invalid: InvalidValue[] = [];
    const cluster = clusterOf(objects, invalid);
    let traffic: TrafficFinding[] = invalid.map(invalidValueFinding);
    try {
      traffic = [...traffic, ...verifyCluster(cluster, registries.map(r => r.resolved), { registryNamespacesOnly: true }).findings];
    } catch (e) {
      if (!(e instanceof TooManyPaths)) throw e;
      traffic.push(tooManyPathsFinding(e));
    }
    for (const f of traffic) items.push({ rule: f.rule, severity: f.severity, message: f.message, ...(f.fix ? { fix: f.fix } : {}), resources: trafficResources(f, fileFor) });
  }
  return items;
}

function registryItem(r: LoadedRegistry, f: Finding, cwd: string): Item {
  const location = f.where.file ?? f.where.path;
  return {
    rule: f.rule, severity: blocking([f]).length ? 'error' : 'warning', message: f.message, ...(f.fix ? { fix: f.fix } : {}),
    resources: [{ resourceName: r.name, locations: location ? [location] : [], manifestPath: path.resolve(cwd, r.source) }],
  };
}

/** The objects a traffic finding is about: the policies (and rules) it names, else its object, namespace or pods. */
function trafficResources(f: TrafficFinding, fileFor: (key: string) => string): ViolatingResource[] {
  if (f.policies?.length) {
    const seen = new Map<string, { name: string; file: string; locations: string[] }>();
    for (const p of f.policies) {
      const key = `${p.namespace}/${p.policy}`;
      const entry = seen.get(key) ?? { name: p.policy, file: fileFor(`NetworkPolicy/${key}`) || p.file || '', locations: [] };
      if ('rule' in p) entry.locations.push(`.spec.${p.direction}[${p.rule - 1}]`);
      seen.set(key, entry);
    }
    return [...seen.values()].map(e => ({ resourceName: e.name, locations: e.locations, manifestPath: e.file }));
  }
  const w = f.where;
  if (w.object) {
    const [kind, name] = w.object.split('/');
    return [{ resourceName: name ?? w.object, locations: [], manifestPath: fileFor(`${kind}/${w.namespace ?? 'default'}/${name}`) || w.file || '' }];
  }
  if (w.from || w.to) {
    return [w.from, w.to].filter((e): e is string => !!e && e.includes('/') && !e.startsWith('('))
      .map(id => ({ resourceName: id.slice(id.indexOf('/') + 1), locations: [], manifestPath: fileFor(id) }));
  }
  if (w.namespace) return [{ resourceName: w.namespace, locations: [], manifestPath: fileFor(`Namespace/default/${w.namespace}`) }];
  return [];
}

/** The namespace of the object of a kind and name in a file (as fileOf keys them). */
function objectNamespace(objects: readonly SourcedObject[], file: string, kind: string | undefined, name: string | undefined): string {
  const o = objects.find(x => x.file === file && (x.object as Json).kind === kind && (x.object as Json).metadata?.name === name)?.object as Json | undefined;
  return o?.metadata?.namespace ?? 'default';
}
