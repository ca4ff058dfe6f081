/** `cdk8s-ports check`: every rule on the registries, every finding printed; exit 1 on errors. */
import * as fs from 'fs';
import * as path from 'path';
import { Command, Option } from 'commander';
import { FINDING_FORMATS, addFormatOptions, formatOf, printFindings, reportedFinding } from '../format-output';
import { summarize } from '../../model/format';
import { blocking } from '../../model/finding';
import { appCommand, checkApp } from '../app-check';
import { EXIT, Io, colourFinding, json, outColours, packageVersion, printable } from '../io';
import { LoadedRegistry, allFindings, hasRegistryFile, loadRegistries } from '../registries';

function registryJson(r: LoadedRegistry) {
  return { name: r.name, source: r.source, ok: r.resolved.ok, findings: r.resolved.findings };
}

/** The file a registry was read from; for a TypeScript app (`npx ts-node main.ts`), its entry file. */
function sourceFile(cwd: string, source: string): string | undefined {
  if (fs.existsSync(path.resolve(cwd, source))) return source;
  return source.split(/\s+/).find(word => /\.(ts|js|mjs|cjs)$/.test(word) && fs.existsSync(path.resolve(cwd, word)));
}

export function check(io: Io, registry: string[], opts: { json?: boolean; format?: string; strict?: boolean; frozenLock?: boolean }): number {
  const pc = outColours(io);
  const format = formatOf(opts);
  // In a TypeScript project (cdk8s.yaml, no ports.yaml), the code is checked, not the last synth's output.
  const app = registry.length === 0 && !hasRegistryFile(io.cwd) ? appCommand(io.cwd) : undefined;
  const registries = app ? checkApp(io.cwd, app, { frozenLock: opts.frozenLock }) : loadRegistries(registry, io.cwd, { frozenLock: opts.frozenLock, details: false });
  const findings = allFindings(registries);
  const errors = blocking(findings).length;
  const warnings = findings.filter(f => f.severity === 'warning' && !f.waived).length;
  // Known conflicts with a planned fix: waived (not failing), counted on their own.
  const planned = findings.filter(f => f.planned).length;
  const failed = errors > 0 || (opts.strict === true && warnings > 0);
  if (format === 'json') {
    json(io, { ok: !failed, errors, warnings, planned, registries: registries.map(registryJson) });
  } else if (format === 'sarif' || format === 'github') {
    // A finding without a position points at the registry it came from.
    printFindings(io.out, format, registries.flatMap(r => r.resolved.findings.map(f => reportedFinding(f, sourceFile(io.cwd, r.source)))), packageVersion());
  } else {
    for (const r of registries) {
      io.out(`${pc.bold(printable(r.name))} ${pc.dim(`(${printable(r.source)})`)}\n`);
      for (const f of r.resolved.findings) io.out(`${colourFinding(pc, f)}\n`);
      const fixPlanned = r.resolved.findings.filter(f => f.planned).length;
      io.out(`${r.resolved.findings.length ? `${summarize(r.resolved.findings)}${fixPlanned ? ` (${fixPlanned} with a fix planned)` : ''}` : pc.green('clean: no findings')}\n`);
    }
  }
  return failed ? EXIT.FINDINGS : EXIT.CLEAN;
}

export function register(cli: Command, io: Io, setCode: (code: number) => void): void {
  const command = cli.command('check').description('run every rule and print every finding (exit 1 on errors)')
    .argument('[registry...]', 'registry files or folders, checked together (default: ./ports.yaml, else manifests/**/ports.json)')
    .option('--strict', 'warnings fail too')
    .option('--frozen-lock', 'fail when the lock file would change (lock-outdated), as CI should')
    .addOption(new Option('-r, --registry <file>', 'a registry file or folder (the same as giving it as an argument)'));
  addFormatOptions(command, FINDING_FORMATS)
    .action((registry: string[], opts) => setCode(check(io, opts.registry ? [...registry, opts.registry] : registry, opts)));
}
