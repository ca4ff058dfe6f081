import * as fs from 'fs';
import * as path from 'path';
import { ApiObject, App, AppProps, Chart, Names } from 'cdk8s';
import { parseLockFile, serializeLockFile } from '../allocation/lock';
import type { LockFile, ResolvedRegistry } from '../model/resolved';
import { resolveAll } from '../check/pipeline';
import { EMITTERS } from '../emit/index';
import { startYamlDocuments, yamlDocuments } from '../emit/yaml';
import { formatFinding, summarize } from '../model/format';
import { Finding, blocking } from '../model/finding';
import { ownEntry } from '../model/normalize';
import { FileSet, WRITTEN_LIST, recover, replaceDirectory, writeFileAtomic, writeFiles, writtenList } from '../io/output';
import { PortRegistry } from './port-registry';
import { PORTS_APP, foreignLockEntries, writeCheckReport } from './app-state';
import { readRegularFile } from '../io/read';
import { POD_KINDS } from '../netpol/load';
import { describeTraffic, findingList, invalidValueFinding } from '../netpol/verify';
import { startTrafficGate } from '../netpol/gate';
import type { Path } from '../netpol/cluster';
import { trafficSvg } from '../netpol/traffic-svg';
import { routeExposures, routePaths } from '../validate/route-exposure';

/** Props of {@link PortsApp}: the cdk8s AppProps plus where the checked output and the lock go. */
export interface PortsAppProps extends AppProps {
  /** Where checked output goes; replaced as a whole on every successful synth. @default $CDK8S_PORTS_MANIFESTS_DIR, else 'manifests' */
  readonly manifestsDir?: string;
  /** The lock file that pins automatic allocations. @default 'ports.lock.json' */
  readonly lockFile?: string;
  /** Fail instead of changing the lock file (CI). @default true when CDK8S_PORTS_FROZEN_LOCK=1 */
  readonly frozenLock?: boolean;
  /** Warnings stop the synth too. @default true when CDK8S_PORTS_STRICT=1 */
  readonly strict?: boolean;
  /**
   * The synth verifies the traffic its NetworkPolicies allow, and draws the traffic pictures, up to
   * this many pods (workload and Service objects); above, it says so and leaves it to `cdk8s-ports verify`.
   * Verification adds about a quarter to a synth of 10,000 services (30,000 pods; BENCHMARKS.md): a lower limit
   * trades that guarantee for speed (`0` never verifies).
   * @default Infinity (TRAFFIC_VERIFY_LIMIT: every synth is verified)
   */
  readonly trafficVerifyLimit?: number;
}

/**
 * The synth verifies the traffic its NetworkPolicies allow up to this many pods (workloads and
 * Services): by default, always, so that a generator bug can never ship a wider network than
 * declared, whatever the size. Verification grows with the number of allowed paths; at 10,000
 * services (30,000 pods, 190,000 policies) it adds about a quarter to the synth's time
 * (BENCHMARKS.md), which `PortsAppProps.trafficVerifyLimit` can trade away.
 */
export const TRAFFIC_VERIFY_LIMIT = Number.POSITIVE_INFINITY;

/** What {@link PortsApp.trySynth} did. */
export interface SynthResult {
  /** True when nothing blocked the synth and the output was written. */
  readonly ok: boolean;
  /** Every finding of every registry. */
  readonly findings: readonly Finding[];
  /** Every file of the output, relative to the manifests folder (empty when the synth was stopped). */
  readonly files: FileSet;
  /** The resolved registries by name. */
  readonly registries: ReadonlyMap<string, ResolvedRegistry>;
  /** A problem that is not a finding (an unreadable lock file, two registries writing to one folder). */
  readonly problem?: string;
  /** True when ports.lock.json was written. */
  readonly lockChanged: boolean;
  /** Things worth saying that are not findings (a check that was left out, and why). */
  readonly notes?: readonly string[];
}

/**
 * A cdk8s App that checks every PortRegistry before it writes anything. Output is staged
 * in the cdk8s output folder and swapped into `manifestsDir` only when no error was found,
 * so a rejected registry leaves the previous manifests byte-identical.
 */
export class PortsApp extends App {
  public readonly manifestsDir: string;
  public readonly lockFile: string;
  public readonly frozenLock: boolean;
  public readonly strict: boolean;
  public readonly trafficVerifyLimit: number;

  constructor(props: PortsAppProps = {}) {
    super({ outdir: process.env.CDK8S_OUTDIR ?? '.cdk8s.out', ...props });
    this.manifestsDir = props.manifestsDir ?? process.env.CDK8S_PORTS_MANIFESTS_DIR ?? 'manifests';
    this.lockFile = props.lockFile ?? 'ports.lock.json';
    this.frozenLock = props.frozenLock ?? process.env.CDK8S_PORTS_FROZEN_LOCK === '1';
    this.strict = props.strict ?? process.env.CDK8S_PORTS_STRICT === '1';
    this.trafficVerifyLimit = props.trafficVerifyLimit ?? TRAFFIC_VERIFY_LIMIT;
    Object.defineProperty(this, PORTS_APP, { value: true });
  }

  /** True when `cdk8s synth` runs this app: it set CDK8S_OUTDIR to this app's output folder. */
  /** @internal */
  private get underCdk8sCli(): boolean {
    return !!process.env.CDK8S_OUTDIR && path.resolve(process.env.CDK8S_OUTDIR) === path.resolve(this.outdir);
  }

  /**
   * What the cdk8s CLI's output folder gets: the Kubernetes objects (k8s/), which it lists and its
   * validation plugins read, and, when it asks for them, the construct paths of the objects
   * (construct-metadata.json, as cdk8s' own App writes it).
   */
  /** @internal */
  private cliFiles(files: FileSet, userCharts: ReadonlyArray<{ file: string; chart: Chart }>, registryYaml: ReadonlyArray<{ file: string; docs: unknown[] }>): FileSet {
    const out = new Map([...files].filter(([file]) => file.startsWith('k8s/')));
    if (process.env.CDK8S_RECORD_CONSTRUCT_METADATA === 'true') {
      const resources: Record<string, { path: string }> = {};
      for (const { chart } of userCharts) {
        for (const c of chart.node.findAll()) if (c instanceof ApiObject && Chart.of(c) === chart) resources[c.name] = { path: c.node.path };
      }
      for (const { file, docs } of registryYaml) {
        if (!file.startsWith('k8s/')) continue;
        const chart = path.posix.basename(file, '.k8s.yaml');
        for (const d of docs as Array<{ kind?: string; metadata?: { name?: string } }>) {
          const name = d?.metadata?.name;
          if (name && !(name in resources)) resources[name] = { path: `${chart}/${d.kind}-${name}` };
        }
      }
      out.set('construct-metadata.json', JSON.stringify({ version: '1.0.0', resources }));
    }
    return out;
  }

  /** Checks and renders everything; writes only when the check is clean. Never throws for findings. */
  public trySynth(options: { readonly write?: boolean } = {}): SynthResult {
    const write = options.write ?? true;
    // A synth killed halfway through its swap left the previous output beside the folder: put it back first.
    if (write) {
      try {
        recover(this.manifestsDir);
      } catch (e) {
        return { ok: false, findings: [], files: new Map(), registries: new Map(), problem: writeProblem(this.manifestsDir, e), lockChanged: false };
      }
    }
    const empty = new Map<string, string>();
    const fail = (problem: string, findings: Finding[] = []): SynthResult =>
      ({ ok: false, findings, files: empty, registries: new Map(), problem, lockChanged: false });

    let lockFile: LockFile = { lockfileVersion: 1, registries: {} };
    if (fs.existsSync(this.lockFile)) {
      try {
        lockFile = parseLockFile(readRegularFile(this.lockFile), this.lockFile);
      } catch (e) {
        return fail((e as Error).message);
      }
    }

    const registries = this.node.findAll().filter((c): c is PortRegistry => c instanceof PortRegistry);
    // Output folders are normalised (team, ./team/ and team/. are one folder): no two registries share one.
    const dirs = new Map<string, string>();
    for (const r of registries) {
      const other = dirs.get(r.outputDir);
      if (other) return fail(`registries ${other} and ${r.node.id} both write to ${path.join(this.manifestsDir, r.outputDir)}; give one of them its own outputDir`);
      dirs.set(r.outputDir, r.node.id);
    }

    // One pipeline for all registries: registries that extend one base are checked against each other.
    // Lock entries of registries this app does not declare are kept, and said (on the first registry).
    const foreign = foreignLockEntries(lockFile, this.lockFile, new Set(registries.map(r => r.node.id)), registries[0]?.node.id ?? '');
    const results = resolveAll(registries.map((r, i) => {
      const input = r.pipelineInput({ lock: ownEntry(lockFile.registries, r.node.id), frozenLock: this.frozenLock, composeChecks: r._composeChecks() });
      return i === 0 && foreign.length ? { ...input, findings: [...(input.findings ?? []), ...foreign] } : input;
    }));
    const resolved = new Map<string, ResolvedRegistry>(registries.map((r, i) => [r.node.id, results[i]]));
    const findings: Finding[] = results.flatMap(r => r.findings);
    const stops = (fs_: readonly Finding[]) => blocking(fs_).length > 0 || (this.strict && fs_.some(f => f.severity === 'warning' && !f.waived));
    if (stops(findings)) {
      return { ok: false, findings, files: empty, registries: resolved, lockChanged: false };
    }

    // The registries' charts (and the bindings of users' workloads) exist from here on; the users'
    // own charts must then agree with them (workload-drift).
    registries.forEach((r, i) => {
      r._useResolved(results[i]);
      r._close(results[i]);
    });
    const drift = registries.flatMap((r, i) => r._drift(results[i]));
    if (stops(drift)) return { ok: false, findings: [...findings, ...drift], files: empty, registries: resolved, lockChanged: false };
    findings.push(...drift); // warnings of the port chain (chain-no-pods)

    const constructs = this.node.findAll();
    // Registries validate themselves through cdk8s (see PortRegistry); here they were checked above.
    const constructErrors = constructs.filter(c => !(c instanceof PortRegistry)).flatMap(c => c.node.validate().map(e => `[${c.node.path}] ${e}`));
    if (constructErrors.length) return fail(`validation failed:\n  ${constructErrors.join('\n  ')}`, findings);

    const files = new Map<string, string>();
    const registryCharts = new Set<Chart>();
    // YAML first (on a worker thread when there is a lot of it: Kubernetes objects, compose files),
    // every other output meanwhile.
    const yamlFiles: Array<{ file: string; docs: unknown[]; prefix?: string }> = [];
    for (const r of registries) {
      const result = resolved.get(r.node.id)!;
      // Charts someone asked for (and may have added to) are rendered; otherwise the same objects as data.
      const manifests = r._hasCharts
        ? new Map([...r._build(result)].map(([env, chart]) => { registryCharts.add(chart); return [env, renderChart(chart, r._objectsOf(chart))] as const; }))
        : r._manifests(result);
      // Every Kubernetes object goes to k8s/ (kubectl apply -R -f manifests/k8s), named as a plain App's cdk8s names it.
      for (const [env, docs] of manifests) {
        const file = `k8s/${r.node.id}-${env}.k8s.yaml`;
        if (files.has(file)) return fail(`two registries named ${r.node.id} would write ${file}; give one of them another id`, findings);
        files.set(file, '');
        yamlFiles.push({ file, docs });
      }
    }
    for (const r of registries) {
      const result = resolved.get(r.node.id)!;
      for (const emitter of EMITTERS) {
        for (const [name, yamlFile] of emitter.yamlFiles?.(result) ?? []) {
          const file = path.posix.join(r.outputDir, name);
          if (files.has(file)) return fail(`two registries would write ${file}; give ${r.node.id} another outputDir`, findings);
          files.set(file, '');
          yamlFiles.push({ file, docs: [yamlFile.document], prefix: yamlFile.prefix });
        }
      }
    }
    // Pods of the registries' output (a workload or Service object stands for one): above the limit the
    // traffic is not verified here, and nothing is gathered for it.
    let pods = 0;
    for (const f of yamlFiles) for (const d of f.docs) if (POD_KINDS.has((d as { kind?: string } | undefined)?.kind ?? '')) pods++;
    const verifies = pods <= this.trafficVerifyLimit;
    // Charts the user added beside the registries are written too, under their own names.
    // (Found among the constructs already listed: `App.charts` would also sort every object of
    // every chart by dependency, which costs as much as a tenth of a large synth.)
    // Named after their path (`group/nested` -> group-nested.k8s.yaml), without cdk8s' hash suffix.
    const objects = verifies ? yamlFiles.flatMap(f => f.docs.map(object => ({ file: f.file, object }))) : [];
    const userCharts: Array<{ file: string; docs: unknown[]; chart: Chart }> = [];
    for (const chart of constructs) {
      if (!Chart.isChart(chart) || registryCharts.has(chart)) continue;
      const file = `k8s/${Names.toDnsLabel(chart, { includeHash: false })}.k8s.yaml`;
      if (files.has(file)) {
        return fail(`chart ${chart.node.path} would be written to ${file}, which another chart or registry output already uses: rename one of them`, findings);
      }
      files.set(file, '');
      const docs = chart.toJson();
      if (verifies) for (const object of docs) objects.push({ file, object });
      userCharts.push({ file, docs, chart });
    }

    // What the NetworkPolicies about to be written allow must be what the registries declare
    // (a generator bug, or a policy of the user's own charts, must never ship a wider network).
    // On a worker thread when the output is large, while this thread (and another worker, for part
    // of it) writes the YAML and every other output. Above trafficVerifyLimit pods (none by default)
    // it is left to `cdk8s-ports verify` (see the note below).
    const gate = verifies ? startTrafficGate(objects, results) : undefined;
    const yaml = startYamlDocuments(yamlFiles.map(f => f.docs));
    for (const r of registries) {
      const result = resolved.get(r.node.id)!;
      for (const emitter of EMITTERS) {
        for (const [name, text] of emitter.files?.(result) ?? []) {
          const file = path.posix.join(r.outputDir, name);
          // Nested output folders may not write the same file twice (a registry in `k8s` under another's root, say).
          if (files.has(file)) {
            yaml.result();
            gate?.result();
            return fail(`two registries would write ${file}; give ${r.node.id} another outputDir`, findings);
          }
          files.set(file, text);
        }
      }
    }
    const texts = yaml.result();
    const outcome = gate?.result();
    if (outcome?.invalid.length) {
      return fail(`the charts hold ${outcome.invalid.length === 1 ? 'a value' : `${outcome.invalid.length} values`} the API server rejects:\n${findingList(outcome.invalid.map(invalidValueFinding))}`, findings);
    }
    if (outcome?.tooManyPaths) return fail(outcome.tooManyPaths, findings);
    const traffic = outcome?.traffic;
    if (traffic && !traffic.ok) return fail(describeTraffic(traffic.findings), findings);
    const notes: string[] = verifies ? [] : [`traffic not verified: the output has ${pods.toLocaleString('en')} ${pods === 1 ? 'pod' : 'pods'}, more than the synth verifies (trafficVerifyLimit ${this.trafficVerifyLimit.toLocaleString('en')}); run cdk8s-ports verify ${this.manifestsDir} (no traffic pictures were drawn)`];
    // Who may talk to whom in each environment, as the policies allow it (not as the registry intends).
    // (With the ways in through the Ingresses and Gateway routes being written, where the policies admit them.)
    const drawn = traffic ? [...traffic.allowed, ...routePaths(routeExposures(objects.map(o => ({ object: o.object, origin: o.file }))), traffic.allowed)] : [];
    for (const r of traffic ? registries : []) {
      for (const env of resolved.get(r.node.id)!.environments) {
        const file = path.posix.join(r.outputDir, `traffic-${env.name}.svg`);
        if (files.has(file)) return fail(`two registries would write ${file}; give ${r.node.id} another outputDir`, findings);
        files.set(file, trafficPicture(drawn, env.namespace, `${r.node.id} ${env.name} (namespace ${env.namespace}): allowed traffic`));
      }
    }
    yamlFiles.forEach((f, i) => files.set(f.file, (f.prefix ?? '') + texts[i]));
    for (const c of userCharts) files.set(c.file, yamlDocuments(c.docs));

    // What this synth writes, listed in the folder: the next synth keeps whatever else is there.
    files.set(WRITTEN_LIST, writtenList(files.keys()));
    // The staging copy is only for the cdk8s CLI, which lists what it finds in its output folder.
    if (!write) return { ok: true, findings, files, registries: resolved, lockChanged: false, notes };
    try {
      // The cdk8s CLI (and its validation plugins) read the Kubernetes objects from its output folder: those only, not a second copy of everything.
      if (this.underCdk8sCli) writeFiles(this.outdir, this.cliFiles(files, userCharts, yamlFiles));
      const kept = replaceDirectory(this.manifestsDir, files);
      if (kept.length) {
        notes.push(`kept ${kept.length === 1 ? 'a file' : `${kept.length} files`} in ${this.manifestsDir}/ that the synth does not write: ${kept.join(', ')} ` +
          `(delete ${kept.length === 1 ? 'it' : 'them'} there if no longer wanted; a hand-added manifest under k8s/ is applied with the rest)`);
      }
    } catch (e) {
      return fail(writeProblem(this.manifestsDir, e), findings);
    }
    const newLock: LockFile = {
      lockfileVersion: 1,
      registries: { ...lockFile.registries, ...Object.fromEntries([...resolved].map(([name, r]) => [name, r.lock])) },
    };
    const lockText = serializeLockFile(newLock);
    const hasEntries = Object.keys(JSON.parse(lockText).registries).length > 0;
    // A frozen lock is never written: any change to it was already an error.
    let lockChanged: boolean;
    try {
      lockChanged = !this.frozenLock && (hasEntries || fs.existsSync(this.lockFile)) ? writeFileAtomic(this.lockFile, lockText) : false;
    } catch (e) {
      return { ok: false, findings, files, registries: resolved, problem: `${writeProblem(this.lockFile, e)} (the manifests were written; the lock file was not)`, lockChanged: false };
    }
    return { ok: true, findings, files, registries: resolved, lockChanged, notes };
  }

  /**
   * The synth `cdk8s synth` runs: prints every finding, writes the manifests when there is
   * no error, and otherwise sets a non-zero exit code and writes nothing.
   */
  public synth(): void {
    // `cdk8s-ports check` in a TypeScript project runs the app this way: every check, nothing written.
    const checkOnly = process.env.CDK8S_PORTS_CHECK_ONLY;
    if (checkOnly) {
      const result = this.trySynth({ write: false });
      writeCheckReport(checkOnly, [...result.registries], result.findings, result.problem);
      return;
    }
    const result = this.trySynth();
    for (const f of result.findings) console.error(formatFinding(f));
    if (result.problem) console.error(`error: ${result.problem}`);
    if (result.findings.length) console.error(summarize(result.findings));
    if (!result.ok) {
      console.error(`synth stopped: nothing was written, ${this.manifestsDir}/ is unchanged`);
      if (this.underCdk8sCli) {
        // Under `cdk8s synth`, a missing output folder makes the CLI fail with exit code 1 and a
        // one-line message; a non-zero exit of the app would make it print a stack trace too.
        fs.rmSync(this.outdir, { recursive: true, force: true });
        return;
      }
      process.exitCode = 1;
      return;
    }
    for (const n of result.notes ?? []) console.error(`note: ${n}`);
    console.error(`wrote ${result.files.size} files to ${this.manifestsDir}/${result.lockChanged ? ` and updated ${this.lockFile}` : ''}`);
  }
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

/**
 * Why the output could not be written, as a person can act on it: the system's reason (EACCES,
 * EROFS, ENOSPC …), the path, and what to do. Errors that are not the file system's are bugs, and
 * are thrown on.
 */
function writeProblem(target: string, e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (!err || typeof err.code !== 'string') throw e;
  const what: Record<string, string> = {
    EACCES: 'permission denied', EPERM: 'operation not permitted', EROFS: 'the file system is read-only', ENOSPC: 'the disk is full',
    ENOTDIR: 'a part of the path is a file, not a folder', EISDIR: 'it is a folder', EEXIST: 'something is in the way',
  };
  const where = err.path && path.resolve(err.path) !== path.resolve(target) ? ` (${err.syscall ?? 'writing'} ${err.path})` : '';
  return `cannot write ${target}: ${what[err.code] ?? err.message}${where} [${err.code}]; ` +
    'check that the folder and its parent exist and are writable by you; nothing else was changed';
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
