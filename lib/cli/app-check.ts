/**
 * `check` in a TypeScript project checks the code, not the last synth's output: it runs the app
 * that cdk8s.yaml names with CDK8S_PORTS_CHECK_ONLY set (PortsApp then runs every check and writes
 * nothing but a JSON report), so an edit to main.ts that collides is found before the next synth.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { load } from 'js-yaml';
import { emptyLock } from '../model/resolved';
import type { Finding } from '../model/finding';
import type { ResolvedRegistry } from '../model/resolved';
import { LoadedRegistry, UsageError } from '../load/registries';

interface Report {
  readonly problem: string | null;
  readonly registries: ReadonlyArray<Omit<ResolvedRegistry, 'connections'> & { readonly name: string; readonly findings: Finding[]; readonly connections?: ResolvedRegistry['connections'] }>;
}

/** The app command of a cdk8s project in `cwd`, or undefined when there is none. */
export function appCommand(cwd: string): string | undefined {
  const config = path.join(cwd, 'cdk8s.yaml');
  if (!fs.existsSync(config)) return undefined;
  const app = (load(fs.readFileSync(config, 'utf8')) as { app?: unknown } | null)?.app;
  return typeof app === 'string' && app.trim() ? app : undefined;
}

/** Where cdk8s writes a plain App's manifests in the project in `cwd` (cdk8s.yaml's `output`, else dist), when it is a cdk8s project. */
export function appOutput(cwd: string): string | undefined {
  const config = path.join(cwd, 'cdk8s.yaml');
  if (!fs.existsSync(config)) return undefined;
  const output = (load(fs.readFileSync(config, 'utf8')) as { output?: unknown } | null)?.output;
  return typeof output === 'string' && output.trim() ? output : 'dist';
}

/** Runs the project's app in check-only mode and returns its registries as the CLI loads them. */
export function checkApp(cwd: string, app: string, options: { readonly frozenLock?: boolean } = {}): LoadedRegistry[] {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-check-'));
  try {
    const report = path.join(scratch, 'report.json');
    const run = spawnSync(app, {
      cwd, shell: true, encoding: 'utf8', timeout: 300_000,
      env: {
        ...process.env, CDK8S_PORTS_CHECK_ONLY: report, CDK8S_CHECK_UPGRADE: 'false',
        // --frozen-lock: the app's registries report lock-outdated instead of planning lock changes.
        ...(options.frozenLock ? { CDK8S_PORTS_FROZEN_LOCK: '1' } : {}),
        // Were the app not a PortsApp, anything it writes goes to the scratch folder, not the project.
        CDK8S_OUTDIR: path.join(scratch, 'out'), CDK8S_PORTS_MANIFESTS_DIR: path.join(scratch, 'manifests'),
      },
    });
    if (!fs.existsSync(report)) {
      const tail = `${run.stderr ?? ''}${run.stdout ?? ''}`.trim().split('\n').slice(-5).join('\n');
      throw new UsageError(`running the app (${app}) to check it gave no report${run.status ? ` (exit ${run.status})` : ''}: ${tail || 'no output'}\n` +
        'does it declare a PortRegistry and call app.synth()? check a ports.yaml or a ports.json directly with cdk8s-ports check <file>');
    }
    const data = JSON.parse(fs.readFileSync(report, 'utf8')) as Report;
    if (data.problem) throw new UsageError(data.problem);
    return data.registries.map(r => ({
      name: r.name, source: app, kind: 'file', root: cwd, lock: r.lock ?? emptyLock(),
      resolved: { spec: r.spec, environments: r.environments, allocations: r.allocations, connections: r.connections ?? [], ...(r.inbound ? { inbound: r.inbound } : {}), findings: r.findings, lock: r.lock, ok: r.ok },
    }));
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}
