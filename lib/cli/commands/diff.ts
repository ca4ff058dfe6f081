/** `cdk8s-ports diff`: the committed output (and the user's compose/.env files) against what the registry produces. */
import * as fs from 'fs';
import * as path from 'path';
import { Command } from 'commander';
import type * as Diff from '../diff';
import { EXIT, Io, UsageError, colourFinding, errColours, json, jsonOption, outColours, printable } from '../io';
import type * as Load from '../../netpol/load';
import type * as Verify from '../../netpol/verify';
import type * as Cluster from '../../netpol/cluster';
import { loadBase, manifestsFolder } from '../traffic';

/**
 * `diff --traffic [BASE]`: the paths the manifests in the working tree allow against those BASE
 * allows (a git revision, default HEAD, or a folder): what the change opens and closes.
 * Exit 1 when it opens a path.
 */
export function trafficDiff(io: Io, base: string, opts: { manifests: string; json?: boolean; markdown?: boolean }): number {
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
  if (opts.json) {
    json(io, { base, folder: opts.manifests, opens, closes });
  } else if (opts.markdown) {
    const cell = (t: string) => printable(t).replace(/[|`<>\\]/g, c => `\\${c}`);
    io.out(`### Traffic change against ${cell(base)}\n\n`);
    if (!opens.length && !closes.length) io.out('No change in allowed traffic.\n');
    else {
      io.out(`${opens.length} path${opens.length === 1 ? '' : 's'} opened, ${closes.length} closed.\n\n| change | from | to | port |\n|---|---|---|---|\n`);
      for (const [what, list] of [['opens', opens], ['closes', closes]] as const) {
        for (const p of list) io.out(`| ${what} | ${cell(p.from)} | ${cell(p.to)} | ${ports(p)} |\n`);
      }
    }
  } else {
    for (const p of opens) io.out(`${pc.red('opens')}  ${printable(line(p))}\n`);
    for (const p of closes) io.out(`${pc.green('closes')} ${printable(line(p))}\n`);
    io.out(opens.length || closes.length
      ? `${opens.length} path${opens.length === 1 ? '' : 's'} opened, ${closes.length} closed against ${printable(base)}\n`
      : `no change in allowed traffic against ${printable(base)}\n`);
  }
  return opens.length ? EXIT.FINDINGS : EXIT.CLEAN;
}

export function diff(io: Io, files: string[], opts: { manifests: string; json?: boolean; traffic?: string | boolean; markdown?: boolean }): number {
  if (opts.traffic !== undefined) {
    // `--traffic BASE` takes its base as the option's value; `--traffic` alone may be followed by it.
    if (files.length > (typeof opts.traffic === 'string' ? 0 : 1)) throw new UsageError('diff --traffic takes one base (a git revision or a folder)');
    const base = typeof opts.traffic === 'string' ? opts.traffic : files[0] ?? 'HEAD';
    return trafficDiff(io, base, opts);
  }
  if (opts.markdown) throw new UsageError('--markdown goes with --traffic');
  const pc = outColours(io);
  // Loaded here, not at start: the diff library is for this command only.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { diffProject } = require('../diff') as typeof Diff;
  const manifests = path.resolve(io.cwd, opts.manifests);
  if (fs.existsSync(manifests) && !fs.statSync(manifests).isDirectory()) {
    throw new UsageError(`${opts.manifests} is a file, not the folder of committed output; pass the folder with -m`);
  }
  const result = diffProject(io.cwd, path.resolve(io.cwd, opts.manifests), files.map(f => path.resolve(io.cwd, f)));
  const drifted = !!result.synthError || result.drift.length > 0 || result.findings.length > 0;
  if (opts.json) {
    json(io, { ok: !drifted, synthError: result.synthError ?? null, drift: result.drift, findings: result.findings });
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
  cli.command('diff').description('committed manifests (and user compose/.env files) against what the registry produces; exit 1 on drift')
    .argument('[files...]', 'your own docker-compose or .env files to compare too')
    .option('-m, --manifests <dir>', 'the committed output folder', 'manifests')
    .option('--traffic [base]', 'compare allowed traffic instead: the manifests against BASE (a git revision, default HEAD, or a folder); exit 1 when a path opens')
    .option('--markdown', 'with --traffic: a Markdown table for a pull-request comment')
    .addOption(jsonOption())
    .action((files, opts) => setCode(diff(io, files, opts)));
}
