import * as fs from 'fs';
import * as path from 'path';
import { App, AppProps } from 'cdk8s';
import { parseLockFile } from '../allocation/lock';
import type { LockFile, ResolvedRegistry } from '../model/resolved';
import { resolveAll } from '../check/pipeline';
import { formatFinding, summarize } from '../model/format';
import { Finding, blocking } from '../model/finding';
import { ownEntry } from '../model/normalize';
import type { FileSet } from '../io/output';
import { readRegularFile } from '../io/read';
import { planSynth } from '../synth/plan';
import { recoverOutput, writePlan } from '../synth/write';
import { PortRegistry } from './port-registry';
import { PORTS_APP, foreignLockEntries, writeCheckReport } from './app-state';

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

  /** Checks and renders everything; writes only when the check is clean. Never throws for findings. */
  public trySynth(options: { readonly write?: boolean } = {}): SynthResult {
    const write = options.write ?? true;
    const fail = (problem: string, findings: Finding[] = []): SynthResult =>
      ({ ok: false, findings, files: new Map(), registries: new Map(), problem, lockChanged: false });
    // A synth killed halfway through its swap left the previous output beside the folder: put it back first.
    const unrecovered = write ? recoverOutput(this.manifestsDir) : undefined;
    if (unrecovered) return fail(unrecovered);
    const checked = this.checkForSynth();
    if (!('registries' in checked)) return fail(checked.problem);
    const { registries, results, resolved, findings, lockFile } = checked;
    if (checked.stopped) return { ok: false, findings, files: new Map(), registries: resolved, lockChanged: false };

    const constructs = this.node.findAll();
    // Registries validate themselves through cdk8s (see PortRegistry); here they were checked above.
    const constructErrors = constructs.filter(c => !(c instanceof PortRegistry)).flatMap(c => c.node.validate().map(e => `[${c.node.path}] ${e}`));
    if (constructErrors.length) return fail(`validation failed:\n  ${constructErrors.join('\n  ')}`, findings);

    const planned = planSynth({
      registries: registries.map((r, i) => ({
        id: r.node.id, outputDir: r.outputDir, resolved: results[i],
        // Charts someone asked for (and may have added to) are rendered; otherwise the same objects as data.
        ...(r._output.hasCharts ? { charts: new Map([...r._output.build(results[i])].map(([env, chart]) => [env, { chart, objects: r._output.objectsOf(chart) }] as const)) } : {}),
      })),
      constructs, trafficVerifyLimit: this.trafficVerifyLimit, manifestsDir: this.manifestsDir,
    });
    if (!planned.ok) return fail(planned.problem, findings);
    const { files, notes } = planned.plan;
    // The staging copy is only for the cdk8s CLI, which lists what it finds in its output folder.
    if (!write) return { ok: true, findings, files, registries: resolved, lockChanged: false, notes };
    const written = writePlan(planned.plan, {
      manifestsDir: this.manifestsDir, ...(this.underCdk8sCli ? { cliOutdir: this.outdir } : {}),
      lockFile: this.lockFile, frozenLock: this.frozenLock, lock: lockFile, registries: resolved,
    });
    if (!written.written) return fail(written.problem!, findings);
    if (written.problem) return { ok: false, findings, files, registries: resolved, problem: written.problem, lockChanged: false };
    return { ok: true, findings, files, registries: resolved, lockChanged: written.lockChanged, notes: [...notes, ...written.notes] };
  }

  /**
   * The lock read, every registry resolved by the one pipeline with it, their charts closed and
   * the users' workloads bound; `stopped` when a finding stops the synth (a warning too, when strict).
   */
  /** @internal */
  private checkForSynth(): { readonly problem: string } | {
    readonly registries: PortRegistry[]; readonly results: ResolvedRegistry[]; readonly resolved: Map<string, ResolvedRegistry>;
    readonly findings: Finding[]; readonly lockFile: LockFile; readonly stopped: boolean;
  } {
    let lockFile: LockFile = { lockfileVersion: 1, registries: {} };
    if (fs.existsSync(this.lockFile)) {
      try {
        lockFile = parseLockFile(readRegularFile(this.lockFile), this.lockFile);
      } catch (e) {
        return { problem: (e as Error).message };
      }
    }
    const registries = this.node.findAll().filter((c): c is PortRegistry => c instanceof PortRegistry);
    // Output folders are normalised (team, ./team/ and team/. are one folder): no two registries share one.
    const dirs = new Map<string, string>();
    for (const r of registries) {
      const other = dirs.get(r.outputDir);
      if (other) return { problem: `registries ${other} and ${r.node.id} both write to ${path.join(this.manifestsDir, r.outputDir)}; give one of them its own outputDir` };
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
    if (stops(findings)) return { registries, results, resolved, findings, lockFile, stopped: true };
    // The registries' charts (and the bindings of users' workloads) exist from here on; the users'
    // own charts must then agree with them (workload-drift).
    registries.forEach((r, i) => {
      r._useResolved(results[i]);
      r._output.close(results[i]);
    });
    const drift = registries.flatMap((r, i) => r._drift(results[i]));
    // (Warnings of the port chain, chain-no-pods, go with the findings.)
    findings.push(...drift);
    return { registries, results, resolved, findings, lockFile, stopped: stops(drift) };
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
