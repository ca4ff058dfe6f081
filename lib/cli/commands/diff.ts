/** `cdk8s-ports diff`: the committed output (and the user's compose/.env files) against what the registry produces. */
import * as fs from 'fs';
import * as path from 'path';
import { Command } from 'commander';
import type * as Diff from '../diff';
import { EXIT, Io, UsageError, colourFinding, errColours, json, jsonOption, outColours } from '../io';

export function diff(io: Io, files: string[], opts: { manifests: string; json?: boolean }): number {
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
    .addOption(jsonOption())
    .action((files, opts) => setCode(diff(io, files, opts)));
}
