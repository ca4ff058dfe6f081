/** `cdk8s-ports scan`: hard-coded registry ports in source and config files. */
import * as fs from 'fs';
import * as path from 'path';
import { Command } from 'commander';
import { FINDING_FORMATS, addFormatOptions, formatOf, printFindings } from '../format-output';
import { EXIT, Io, json, outColours, packageVersion, printable, registryOption } from '../io';
import { UsageError, projectRegistries } from '../registries';
import { appCommand } from '../app-check';
import { DEFAULT_EXCLUDES, scanTreeWithNotes } from '../scan';
import type * as EnvFiles from '../../emit/env-files';
import type { Allocation } from '../../model/resolved';

export function scan(io: Io, dir: string, opts: { registry?: string; exclude?: string[]; json?: boolean; format?: string }): number {
  const pc = outColours(io);
  const format = formatOf(opts);
  const root = path.resolve(io.cwd, dir);
  if (!fs.existsSync(root)) {
    // Nothing there is nothing hard-coded: a note, not an error (a project may not have that folder yet).
    if (format === 'json') json(io, { hits: [], count: 0, note: `${dir} does not exist` });
    else if (format === 'sarif' || format === 'github') printFindings(io.out, format, [], packageVersion());
    else io.out(`note: ${printable(dir)} does not exist: nothing to scan\n`);
    return EXIT.CLEAN;
  }
  if (!fs.statSync(root).isDirectory()) throw new UsageError(`${dir} is not a folder`);
  const registries = projectRegistries(opts.registry, io.cwd);
  // The variable to read instead is the one the .env files write: a port's own `env` name, else the generated one.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { portVariable } = require('../../emit/env-files') as typeof EnvFiles;
  const variables = new Map<Allocation, string>();
  for (const r of registries) for (const a of r.resolved.allocations) variables.set(a, portVariable(r.resolved, a.service, a.portName));
  const { hits, skipped } = scanTreeWithNotes(root, [...variables.keys()], [...DEFAULT_EXCLUDES, ...(opts.exclude ?? [])], io.cwd, ownFiles(io.cwd, registries), a => variables.get(a)!);
  if (format === 'json') {
    json(io, { hits, count: hits.length, ...(skipped.length ? { skipped } : {}) });
  } else if (format === 'sarif' || format === 'github') {
    printFindings(io.out, format, [
      ...skipped.map(s => ({ rule: 'scan-skipped', severity: 'note' as const, message: `${s.file} is ${s.reason}`, file: s.file })),
      ...hits.map(h => ({
        rule: h.kind === 'collision' ? 'hard-coded-collision' : 'hard-coded-port', severity: h.kind === 'collision' ? 'error' as const : 'warning' as const,
        message: `${h.kind === 'collision' ? 'collision' : 'hard-coded'} ${h.port} (registry: ${h.owners.join(', ')}): ${h.text}`,
        fix: `read it from the environment instead (${h.variable})`, file: h.file, line: h.line, column: h.column,
      })),
    ], packageVersion());
  } else {
    for (const s of skipped) io.out(`note: ${printable(s.file)} is ${s.reason}\n`);
    // Grouped by file, each port with the registry's owner of it and the variable to read instead.
    let current: string | undefined;
    for (const h of hits) {
      if (h.file !== current) {
        current = h.file;
        io.out(`${pc.bold(printable(h.file))}\n`);
      }
      io.out(`  ${h.line}:${h.column} ${h.kind === 'collision' ? pc.red('collision') : pc.yellow('hard-coded')} ${h.port} (registry: ${h.owners.join(', ')})\n` +
        `    ${pc.dim(printable(h.text))}\n    read it from the environment instead (${h.variable})\n`);
    }
    const files = new Set(hits.map(h => h.file)).size;
    io.out(hits.length ? `${hits.length} hard-coded registry port${hits.length === 1 ? '' : 's'} in ${files} file${files === 1 ? '' : 's'}\n` : pc.green('no hard-coded registry ports\n'));
  }
  return hits.length ? EXIT.FINDINGS : EXIT.CLEAN;
}

/**
 * The registry's own files, which state its ports by design: the registry files read, the lock
 * file, and the entry file of the cdk8s app (main.ts), where a registry in code is declared.
 */
function ownFiles(cwd: string, registries: ReturnType<typeof projectRegistries>): Set<string> {
  const own = new Set<string>();
  for (const r of registries) {
    own.add(path.resolve(cwd, r.source));
    own.add(path.join(r.root, 'ports.lock.json'));
    const app = appCommand(r.root);
    for (const word of app?.split(/\s+/) ?? []) if (/\.(ts|js|mjs|cjs)$/.test(word)) own.add(path.resolve(r.root, word));
  }
  return own;
}

export function register(cli: Command, io: Io, setCode: (code: number) => void): void {
  const command = cli.command('scan').description('hard-coded registry ports in source and config files, as file:line')
    .argument('<dir>', 'folder to scan')
    .option('-x, --exclude <folder...>', `more folder names to skip (always skipped: ${DEFAULT_EXCLUDES.join(', ')})`)
    .addOption(registryOption());
  addFormatOptions(command, FINDING_FORMATS)
    .action((dir, opts) => setCode(scan(io, dir, opts)));
}
