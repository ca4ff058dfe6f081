/**
 * The synth as a plan: the resolved registries and the app's charts in; every file of the output,
 * the notes and the first problem that stops it out. Nothing is read or written here (the I/O step
 * is write.ts); the YAML may be written on a worker thread meanwhile (lib/emit/yaml.ts).
 */
import * as path from 'path';
import { ApiObject, Chart, Names } from 'cdk8s';
import type { IConstruct } from 'constructs';
import type { ResolvedRegistry } from '../model/resolved';
import { EMITTERS } from '../emit/index';
import { manifestsByEnvironment } from '../emit/manifest';
import { startYamlDocuments, yamlDocuments } from '../emit/yaml';
import { WRITTEN_LIST, writtenList } from '../io/output';
import { POD_KINDS } from '../netpol/load';
import { describeTraffic, findingList, invalidValueFinding } from '../netpol/verify';
import type { GateOutcome } from '../netpol/gate';
import { kubernetesFile, startGate } from './gate';
import type { Path } from '../netpol/cluster';
import { trafficSvg } from '../netpol/traffic-svg';
import { routeExposures, routePaths } from '../validate/route-exposure';

/** One registry of the synth, resolved and clean. */
export interface PlannedRegistry {
  readonly id: string;
  /** Its folder under the manifests folder, normalised ('' for the folder itself). */
  readonly outputDir: string;
  readonly resolved: ResolvedRegistry;
  /**
   * Its charts by environment with the registry's own objects in output order, when someone asked
   * for them (and may have added to them): they are rendered. Without them its objects are rendered as data.
   */
  readonly charts?: ReadonlyMap<string, { readonly chart: Chart; readonly objects: readonly ApiObject[] }>;
}

export interface PlanInput {
  /** The registries in the app's order. */
  readonly registries: readonly PlannedRegistry[];
  /** Every construct of the app in construct order: its charts other than the registries' are written too. */
  readonly constructs: readonly IConstruct[];
  /** Up to this many pods the traffic is verified and drawn (PortsAppProps.trafficVerifyLimit). */
  readonly trafficVerifyLimit: number;
  /** The manifests folder, as notes name it. */
  readonly manifestsDir: string;
}

/** What the synth writes. */
export interface SynthPlan {
  /** Every file of the output, relative to the manifests folder, the list of them included (WRITTEN_LIST). */
  readonly files: ReadonlyMap<string, string>;
  /** Things worth saying that are not findings (a check that was left out, and why). */
  readonly notes: string[];
  /** The users' charts and their files, in construct order. */
  readonly userCharts: ReadonlyArray<{ readonly file: string; readonly chart: Chart }>;
  /** The YAML files of the registries, with their documents. */
  readonly registryYaml: ReadonlyArray<{ readonly file: string; readonly docs: unknown[] }>;
}

export type PlanResult = { readonly ok: true; readonly plan: SynthPlan } | { readonly ok: false; readonly problem: string };

interface YamlFileOf { readonly file: string; readonly docs: unknown[]; readonly prefix?: string }

/** The files as they are planned: names are claimed first (texts of YAML come last), so that two outputs of one name are found. */
interface Staged {
  readonly files: Map<string, string>;
  readonly yamlFiles: YamlFileOf[];
}

/** Checks and renders everything of a clean resolution into files; stops at the first problem (two outputs of one file, a value the API server rejects, traffic the registries do not declare). */
export function planSynth(input: PlanInput): PlanResult {
  const staged: Staged = { files: new Map(), yamlFiles: [] };
  const registryCharts = new Set(input.registries.flatMap(r => [...(r.charts?.values() ?? [])].map(c => c.chart)));
  // The users' charts as data, once (their objects are verified with the registries').
  const userDocs = new Map<Chart, { file: string; docs: unknown[] }>();
  for (const chart of input.constructs) {
    if (Chart.isChart(chart) && !registryCharts.has(chart)) {
      userDocs.set(chart, { file: `k8s/${Names.toDnsLabel(chart, { includeHash: false })}.k8s.yaml`, docs: chart.toJson() });
    }
  }
  // Without a pod limit and with every registry rendered as data, the traffic gate starts first:
  // on a worker thread (for a large output) it renders the registries' objects itself, as this
  // thread is about to, and verifies them with the users' charts while this thread writes the output.
  const early = input.trafficVerifyLimit === Number.POSITIVE_INFINITY && input.registries.every(r => !r.charts)
    ? startGate({ rendered: input.registries.map(r => ({ id: r.id, resolved: r.resolved })), objects: [...userDocs.values()].flatMap(u => u.docs.map(object => ({ file: u.file, object }))) })
    : undefined;
  // YAML first (on a worker thread when there is a lot of it: Kubernetes objects, compose files),
  // every other output meanwhile.
  const problem = kubernetesFiles(input, staged) ?? emitterYamlFiles(input, staged);
  if (problem) return { ok: false, problem };
  // Pods of the registries' output (a workload or Service object stands for one): above the limit the
  // traffic is not verified here, and nothing is gathered for it.
  let pods = 0;
  for (const f of staged.yamlFiles) for (const d of f.docs) if (POD_KINDS.has((d as { kind?: string } | undefined)?.kind ?? '')) pods++;
  const verifies = pods <= input.trafficVerifyLimit;
  const objects = verifies ? staged.yamlFiles.flatMap(f => f.docs.map(object => ({ file: f.file, object }))) : [];
  const users = userChartFiles(staged, userDocs, verifies ? objects : undefined);
  if (typeof users === 'string') return { ok: false, problem: users };
  // Otherwise the traffic gate starts now, on the objects rendered here (on a worker thread when
  // the output is large); the YAML runs while this thread renders every other output.
  const gate = early ?? (verifies ? startGate({ rendered: [], objects, registries: input.registries.map(r => r.resolved) }) : undefined);
  // (With the gate on a worker thread, the YAML is written here: a third thread on two cores would
  // only take the gate's core from it, and the gate is the longer of the two.)
  const yaml = startYamlDocuments(staged.yamlFiles.map(f => f.docs), { inThread: gate?.usesWorker === true });
  const emitted = emitterFiles(input, staged);
  if (emitted) {
    // (Every failure from here on waits for the workers first.)
    yaml.result();
    gate?.result();
    return { ok: false, problem: emitted };
  }
  const texts = yaml.result();
  const traffic = gate ? trafficOf(gate.result(), objects) : {};
  if (traffic.failed) return { ok: false, problem: traffic.failed };
  const notes: string[] = verifies ? [] : [`traffic not verified: the output has ${pods.toLocaleString('en')} ${pods === 1 ? 'pod' : 'pods'}, more than the synth verifies (trafficVerifyLimit ${input.trafficVerifyLimit.toLocaleString('en')}); run cdk8s-ports verify ${input.manifestsDir} (no traffic pictures were drawn)`];
  const pictured = traffic.drawn ? trafficPictures(input, staged, traffic.drawn) : undefined;
  if (pictured) return { ok: false, problem: pictured };
  const { files, yamlFiles } = staged;
  yamlFiles.forEach((f, i) => files.set(f.file, (f.prefix ?? '') + texts[i]));
  for (const c of users) files.set(c.file, yamlDocuments(c.docs));
  // What this synth writes, listed in the folder: the next synth keeps whatever else is there.
  files.set(WRITTEN_LIST, writtenList(files.keys()));
  return { ok: true, plan: { files, notes, userCharts: users, registryYaml: yamlFiles } };
}

/** The registries' Kubernetes objects: every one goes to k8s/ (kubectl apply -R -f manifests/k8s), named as a plain App's cdk8s names it. */
function kubernetesFiles(input: PlanInput, { files, yamlFiles }: Staged): string | undefined {
  for (const r of input.registries) {
    // Charts someone asked for (and may have added to) are rendered; otherwise the same objects as data.
    const manifests = r.charts
      ? new Map([...r.charts].map(([env, { chart, objects }]) => [env, renderChart(chart, objects)] as const))
      : manifestsByEnvironment(r.resolved);
    for (const [env, docs] of manifests) {
      const file = kubernetesFile(r.id, env);
      if (files.has(file)) return `two registries named ${r.id} would write ${file}; give one of them another id`;
      files.set(file, '');
      yamlFiles.push({ file, docs });
    }
  }
  return undefined;
}

/** The emitters' YAML files (compose), in each registry's folder. */
function emitterYamlFiles(input: PlanInput, { files, yamlFiles }: Staged): string | undefined {
  for (const r of input.registries) {
    for (const emitter of EMITTERS) {
      for (const [name, yamlFile] of emitter.yamlFiles?.(r.resolved) ?? []) {
        const file = path.posix.join(r.outputDir, name);
        if (files.has(file)) return `two registries would write ${file}; give ${r.id} another outputDir`;
        files.set(file, '');
        yamlFiles.push({ file, docs: [yamlFile.document], prefix: yamlFile.prefix });
      }
    }
  }
  return undefined;
}

/** The emitters' other files (PORTS.md, ports.svg, env files …), in each registry's folder. */
function emitterFiles(input: PlanInput, { files }: Staged): string | undefined {
  for (const r of input.registries) {
    for (const emitter of EMITTERS) {
      for (const [name, text] of emitter.files?.(r.resolved) ?? []) {
        const file = path.posix.join(r.outputDir, name);
        // Nested output folders may not write the same file twice (a registry in `k8s` under another's root, say).
        if (files.has(file)) return `two registries would write ${file}; give ${r.id} another outputDir`;
        files.set(file, text);
      }
    }
  }
  return undefined;
}

/**
 * Charts the user added beside the registries are written too, under their own names, and their
 * objects added to `objects` when the traffic is verified.
 * (Found among the constructs already listed: `App.charts` would also sort every object of
 * every chart by dependency, which costs as much as a tenth of a large synth.)
 * Named after their path (`group/nested` -> group-nested.k8s.yaml), without cdk8s' hash suffix.
 */
function userChartFiles({ files }: Staged, userDocs: ReadonlyMap<Chart, { file: string; docs: unknown[] }>,
  objects: Array<{ file: string; object: unknown }> | undefined): Array<{ file: string; docs: unknown[]; chart: Chart }> | string {
  const userCharts: Array<{ file: string; docs: unknown[]; chart: Chart }> = [];
  for (const [chart, { file, docs }] of userDocs) {
    if (files.has(file) || userCharts.some(c => c.file === file)) {
      return `chart ${chart.node.path} would be written to ${file}, which another chart or registry output already uses: rename one of them`;
    }
    // (Claimed now: the emitters' files, staged later, may not take the name.)
    files.set(file, '');
    if (objects) for (const object of docs) objects.push({ file, object });
    userCharts.push({ file, docs, chart });
  }
  return userCharts;
}

/**
 * What the NetworkPolicies about to be written allow must be what the registries declare
 * (a generator bug, or a policy of the user's own charts, must never ship a wider network):
 * the gate's outcome as the synth's problem (`failed`), or `drawn`: who may talk to whom, as the
 * policies allow it (not as the registry intends), with the ways in through the Ingresses and
 * Gateway routes being written, where the policies admit them.
 */
function trafficOf(outcome: GateOutcome, objects: ReadonlyArray<{ file: string; object: unknown }>): { readonly drawn?: readonly Path[]; readonly failed?: string } {
  const invalid = outcome.invalid;
  // (Only the user's own charts can hold such a value: the registry's ports are range-checked.)
  if (invalid.length) return { failed: `the charts hold ${invalid.length === 1 ? 'a value' : `${invalid.length} values`} the API server rejects:\n${findingList(invalid.map(invalidValueFinding))}` };
  if (outcome.tooManyPaths !== undefined) return { failed: outcome.tooManyPaths };
  const traffic = outcome.traffic!;
  if (!traffic.ok) return { failed: describeTraffic(traffic.findings) };
  return { drawn: [...traffic.allowed, ...routePaths(routeExposures(objects.map(o => ({ object: o.object, origin: o.file }))), traffic.allowed)] };
}

/** The traffic picture of each environment of each registry. */
function trafficPictures(input: PlanInput, { files }: Staged, drawn: readonly Path[]): string | undefined {
  for (const r of input.registries) {
    for (const env of r.resolved.environments) {
      const file = path.posix.join(r.outputDir, `traffic-${env.name}.svg`);
      if (files.has(file)) return `two registries would write ${file}; give ${r.id} another outputDir`;
      files.set(file, trafficPicture(drawn, env.namespace, `${r.id} ${env.name} (namespace ${env.namespace}): allowed traffic`));
    }
  }
  return undefined;
}

/**
 * A registry chart's objects, as cdk8s renders them, in construct order. `chart.toJson()` would also
 * resolve dependencies and validate the whole app again for every chart; the app was validated
 * once already, and registry charts declare no dependencies.
 */
function renderChart(chart: Chart, own: readonly ApiObject[]): unknown[] {
  // The registry's objects in output order (a Service asked for early was made first), then what users added.
  const mine = new Set(own);
  const added = chart.node.findAll().filter((c): c is ApiObject => c instanceof ApiObject && Chart.of(c) === chart && !mine.has(c));
  return [...own, ...added].map(o => o.toJson());
}

/** The traffic picture of one namespace: its pods first, then whatever they talk to or hear from. */
function trafficPicture(paths: readonly Path[], namespace: string, title: string): string {
  const inside = (id: string) => id.startsWith(`${namespace}/`);
  const mine = paths.filter(p => inside(p.from) || inside(p.to));
  const ids = new Set<string>();
  for (const p of mine) { ids.add(p.from); ids.add(p.to); }
  const sorted = [...ids].sort((a, b) => Number(inside(b)) - Number(inside(a)) || (a < b ? -1 : a > b ? 1 : 0));
  return trafficSvg({ title, endpoints: sorted, paths: mine });
}
