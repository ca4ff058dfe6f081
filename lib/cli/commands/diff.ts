/** `cdk8s-ports diff`: the committed output (and the user's compose/.env files) against what the registry produces. */
import * as fs from 'fs';
import * as path from 'path';
import { Command } from 'commander';
import type * as Diff from '../diff';
import { ListedPath, PATH_FORMATS, Reported, addFormatOptions, formatOf, listPaths, printFindings, reportedFinding } from '../format-output';
import { EXIT, Io, UsageError, colourFinding, errColours, json, outColours, packageVersion, printable } from '../io';
import { objectPosition } from '../manifest-positions';
import type * as Load from '../../netpol/load';
import type * as Verify from '../../netpol/verify';
import type * as Cluster from '../../netpol/cluster';
import { loadBase, manifestsFolder, missingFolderHint } from '../traffic';
import { appOutput } from '../app-check';

/**
 * `diff --traffic [BASE]`: the paths the manifests in the working tree allow against those BASE
 * allows (a git revision, default HEAD, or a folder): what the change opens and closes.
 * Exit 1 when it opens a path.
 */
export function trafficDiff(io: Io, base: string, opts: { manifests: string; json?: boolean; format?: string; markdown?: boolean }): number {
  const format = opts.markdown ? 'md' : formatOf(opts);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { loadFolder } = require('../../netpol/load') as typeof Load;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { verifyCluster } = require('../../netpol/verify') as typeof Verify;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { subtractPaths } = require('../../netpol/cluster') as typeof Cluster;
  const pc = outColours(io);
  const dir = manifestsFolder(io.cwd, opts.manifests);
  const loadedBase = loadBase(io.cwd, base, opts.manifests);
  for (const p of loadedBase.problems) io.err(`${errColours(io).yellow('note')}: ${printable(`${p.file}: ${p.message}`)}\n`);
  const baseCluster = loadedBase.cluster;
  const loaded = loadFolder(dir);
  // The working tree is what the change ships: a file of it that cannot be read makes the comparison meaningless.
  if (loaded.problems.length) {
    throw new UsageError(loaded.problems.map(p => `${opts.manifests}/${p.file} cannot be read: ${p.message}`).join('\n') +
      '\nfix or remove the file, then compare again (diff --traffic reads every .yaml, .yml and .json of the folder that mentions a kind)');
  }
  const current = loaded.cluster;
  // Values the API server would reject are read as written (they match nothing): said, not fatal here (verify fails on them).
  for (const v of loaded.invalid) {
    io.err(`${errColours(io).yellow('warning')}: ${printable(`${opts.manifests}/${v.file}: ${v.object} in ${v.namespace}: ${v.message}; the API server rejects the object (fix: ${v.fix})`)}\n`);
  }
  // Both sides are tried with the same stand-ins (addresses and pods outside the folder), so their paths compare.
  let before: readonly Cluster.Path[];
  let after: readonly Cluster.Path[];
  try {
    before = verifyCluster(baseCluster, [], { standInsFrom: [current] }).allowed;
    after = verifyCluster(current, [], { standInsFrom: [baseCluster] }).allowed;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  // Compared as sets of connections (port intervals of each pair), not path by path.
  const opens = subtractPaths(after, before);
  const closes = subtractPaths(before, after);
  // An IPv6 address in brackets, so that its port reads as one.
  const host = (id: string) => (id.includes(':') && !id.includes('/') ? `[${id}]` : id);
  const ports = (p: Cluster.Path) => (p.endPort !== undefined ? `${p.port}-${p.endPort}/${p.protocol}` : `${p.port}/${p.protocol}`);
  const line = (p: Cluster.Path) => `${p.from} -> ${host(p.to)}:${ports(p)}`;
  const summary = `${opens.length} path${opens.length === 1 ? '' : 's'} opened, ${closes.length} closed`;
  if (format === 'json') {
    json(io, { base, folder: opts.manifests, opens, closes });
  } else if (format === 'csv' || format === 'md' || format === 'dot') {
    const listed: ListedPath[] = [...opens.map(p => ({ ...p, status: 'opens' })), ...closes.map(p => ({ ...p, status: 'closes' }))];
    io.out(listPaths(format, listed, `Traffic change against ${base}`, { summary: `${summary}.`, empty: 'No change in allowed traffic.' }));
  } else if (format === 'sarif' || format === 'github') {
    // An opened path points at the policy rules of the working tree that allow it; a closed one is a note.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { endpointsOf, describeRules } = require('../../netpol/verify') as typeof Verify;
    const { cluster, endpoints } = endpointsOf(current, []);
    const folder = opts.manifests.split(path.sep).join('/');
    const results: Reported[] = opens.map(p => {
      const a = endpoints.get(p.from);
      const b = endpoints.get(p.to);
      const v = a && b ? cluster.verdict(a, b, p.port, p.protocol) : undefined;
      const rules = [...(v?.egress?.allowedBy ?? []), ...(v?.ingress?.allowedBy ?? [])];
      const rule = rules.find(r => r.file);
      const at = rule ? objectPosition(path.resolve(dir, rule.file!), 'NetworkPolicy', rule.policy, rule.namespace) : undefined;
      return {
        rule: 'traffic-opened', severity: 'error', message: `opens ${line(p)} against ${base}${rules.length ? `: allowed by ${describeRules(rules)}` : ''}`,
        fix: 'if the path is not meant to open, narrow or remove the policy; else declare it in the registry',
        ...(rule ? { file: path.posix.join(folder, rule.file!), ...(at ? { line: at.line, column: at.column } : {}) } : {}),
      };
    });
    for (const p of closes) results.push({ rule: 'traffic-closed', severity: 'note', message: `closes ${line(p)} against ${base}` });
    printFindings(io.out, format, results, packageVersion());
  } else {
    for (const p of opens) io.out(`${pc.red('opens')}  ${printable(line(p))}\n`);
    for (const p of closes) io.out(`${pc.green('closes')} ${printable(line(p))}\n`);
    io.out(opens.length || closes.length
      ? `${summary} against ${printable(base)}\n`
      : `no change in allowed traffic against ${printable(base)}\n`);
  }
  return opens.length ? EXIT.FINDINGS : EXIT.CLEAN;
}

export function diff(io: Io, files: string[], opts: { manifests: string; json?: boolean; format?: string; traffic?: string | boolean; markdown?: boolean }): number {
  if (opts.traffic !== undefined) {
    // `--traffic BASE` takes its base as the option's value; `--traffic` alone may be followed by it.
    if (files.length > (typeof opts.traffic === 'string' ? 0 : 1)) throw new UsageError('diff --traffic takes one base (a git revision or a folder)');
    const base = typeof opts.traffic === 'string' ? opts.traffic : files[0] ?? 'HEAD';
    return trafficDiff(io, base, opts);
  }
  if (opts.markdown) throw new UsageError('--markdown goes with --traffic');
  const format = formatOf(opts);
  if (format === 'csv' || format === 'md' || format === 'dot') throw new UsageError(`--format ${format} lists traffic paths: it goes with --traffic`);
  const pc = outColours(io);
  // Loaded here, not at start: the diff library is for this command only.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { diffProject } = require('../diff') as typeof Diff;
  const manifests = path.resolve(io.cwd, opts.manifests);
  if (fs.existsSync(manifests) && !fs.statSync(manifests).isDirectory()) {
    throw new UsageError(`${opts.manifests} is a file, not the folder of committed output; pass the folder with -m`);
  }
  // A plain cdk8s App's output is where cdk8s writes it: comparing with a folder that is not there would say "everything drifted".
  const output = appOutput(io.cwd);
  if (!fs.existsSync(manifests) && output !== undefined && path.resolve(io.cwd, output) !== manifests && fs.existsSync(path.resolve(io.cwd, output))) {
    throw new UsageError(`${opts.manifests}: no such folder; ${missingFolderHint(io.cwd)}`);
  }
  const result = diffProject(io.cwd, path.resolve(io.cwd, opts.manifests), files.map(f => path.resolve(io.cwd, f)));
  const drifted = !!result.synthError || result.drift.length > 0 || result.findings.length > 0;
  if (format === 'json') {
    json(io, { ok: !drifted, synthError: result.synthError ?? null, drift: result.drift, findings: result.findings });
  } else if (format === 'sarif' || format === 'github') {
    printFindings(io.out, format, [
      ...(result.synthError ? [{ rule: 'synth-failed', severity: 'error' as const, message: result.synthError }] : []),
      ...result.drift.map(d => ({
        rule: 'output-drift', severity: 'error' as const, file: d.file,
        message: `${d.file} ${d.change === 'missing' ? 'is missing from the committed output' : d.change === 'unexpected' ? 'is not produced by the registry' : 'differs from what the registry produces'}`,
        fix: 'synthesize again (npm run synth) and commit the output',
      })),
      ...result.findings.map(f => reportedFinding(f)),
    ], packageVersion());
  } else {
    if (result.synthError) io.err(`${errColours(io).red('error')}: ${result.synthError}\n`);
    for (const d of result.drift) io.out(d.patch);
    for (const f of result.findings) io.out(`${colourFinding(pc, f)}\n`);
    if (!drifted) io.out(pc.green('no drift: the committed output is what the registry produces\n'));
    else if (result.drift.length) io.out(`${result.drift.length} file${result.drift.length === 1 ? '' : 's'} drifted from the registry\n`);
  }
  return drifted ? EXIT.FINDINGS : EXIT.CLEAN;
}

export function register(cli: Command, io: Io, setCode: (code: number) => void): void {
  const command = cli.command('diff').description('committed manifests (and user compose/.env files) against what the registry produces; exit 1 on drift')
    .argument('[files...]', 'your own docker-compose or .env files to compare too')
    .option('-m, --manifests <dir>', 'the committed output folder', 'manifests')
    .option('--traffic [base]', 'compare allowed traffic instead: the manifests against BASE (a git revision, default HEAD, or a folder); exit 1 when a path opens')
    .option('--markdown', 'with --traffic: a Markdown table for a pull-request comment (the same as --format md)');
  addFormatOptions(command, PATH_FORMATS)
    .action((files, opts) => setCode(diff(io, files, opts)));
}
