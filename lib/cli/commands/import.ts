/** `cdk8s-ports import`: a starting ports.yaml from an existing docker-compose file. */
import * as fs from 'fs';
import * as path from 'path';
import { Command } from 'commander';
import { summarize } from '../../model/format';
import { blocking } from '../../model/finding';
import type * as ImportCompose from '../../compose/import';
import { FINDING_FORMATS, addFormatOptions, formatOf, printFindings, reportedFinding } from '../format-output';
import { EXIT, Io, colourFinding, json, outColours, packageVersion, printable } from '../io';
import { UsageError, loadRegistries } from '../registries';

export function importCompose(io: Io, file: string, opts: { output: string; name?: string; force?: boolean; json?: boolean; format?: string }): number {
  const pc = outColours(io);
  const format = formatOf(opts);
  const source = path.resolve(io.cwd, file);
  if (!fs.existsSync(source)) throw new UsageError(`cannot read ${file}: no such file`);
  const target = path.resolve(io.cwd, opts.output);
  if (fs.existsSync(target) && !opts.force) throw new UsageError(`${opts.output} exists; pass --force to overwrite it`);
  // Loaded here, not at start: it brings the position-keeping YAML parser, which other commands do without.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { registryFromCompose, registryYaml } = require('../../compose/import') as typeof ImportCompose;
  let result;
  try {
    // composeChecks is read relative to the registry file's folder.
    const back = path.relative(path.dirname(target), source).split(path.sep).join('/');
    result = registryFromCompose(fs.readFileSync(source, 'utf8'), opts.name ?? (path.basename(path.dirname(source)).toLowerCase().replace(/[^a-z0-9-]+/g, '-') || 'registry'), back);
  } catch (e) {
    throw new UsageError(`${file}: ${(e as Error).message}`);
  }
  fs.writeFileSync(target, registryYaml(result.spec, file, result.iana));
  const [loaded] = loadRegistries(opts.output, io.cwd);
  const findings = loaded.resolved.findings;
  const errors = blocking(findings).length;
  if (format === 'sarif' || format === 'github') {
    printFindings(io.out, format, findings.map(f => reportedFinding(f, loaded.source)), packageVersion());
  } else if (format === 'json') {
    json(io, { output: opts.output, services: Object.keys(result.spec.services ?? {}), notes: result.notes, ok: errors === 0, findings });
  } else {
    io.out(`wrote ${opts.output} with ${Object.keys(result.spec.services ?? {}).length} services\n`);
    for (const n of result.notes) io.out(`  note: ${printable(n)}\n`);
    for (const f of findings) io.out(`${colourFinding(pc, f)}\n`);
    io.out(findings.length ? `${summarize(findings)}\n` : pc.green('check: clean\n'));
  }
  return errors ? EXIT.FINDINGS : EXIT.CLEAN;
}

export function register(cli: Command, io: Io, setCode: (code: number) => void): void {
  const command = cli.command('import').description('a starting ports.yaml from an existing docker-compose file')
    .argument('<compose-file>', 'docker-compose.yml to read')
    .option('-o, --output <file>', 'registry file to write', 'ports.yaml')
    .option('--name <name>', 'registry name (default: the folder name)')
    .option('-f, --force', 'overwrite the output file');
  addFormatOptions(command, FINDING_FORMATS)
    .action((file, opts) => setCode(importCompose(io, file, opts)));
}
