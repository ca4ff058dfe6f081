/** `cdk8s-ports scan`: hard-coded registry ports in source and config files. */
import * as fs from 'fs';
import * as path from 'path';
import { Command } from 'commander';
import { EXIT, Io, json, jsonOption, outColours, registryOption } from '../io';
import { UsageError, loadRegistries } from '../registries';
import { DEFAULT_EXCLUDES, scanTree } from '../scan';

export function scan(io: Io, dir: string, opts: { registry?: string; exclude?: string[]; json?: boolean }): number {
  const pc = outColours(io);
  const root = path.resolve(io.cwd, dir);
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) throw new UsageError(`${dir} is not a folder`);
  const registries = loadRegistries(opts.registry, io.cwd);
  const hits = scanTree(root, registries.flatMap(r => r.resolved.allocations), [...DEFAULT_EXCLUDES, ...(opts.exclude ?? [])], io.cwd);
  if (opts.json) {
    json(io, { hits, count: hits.length });
  } else {
    for (const h of hits) {
      io.out(`${pc.bold(`${h.file}:${h.line}:${h.column}`)} ${h.kind === 'collision' ? pc.red('collision') : pc.yellow('hard-coded')} ${h.port} ` +
        `(registry: ${h.owners.join(', ')})\n  ${pc.dim(h.text)}\n  read it from the environment instead (${h.variable})\n`);
    }
    io.out(hits.length ? `${hits.length} hard-coded registry port${hits.length === 1 ? '' : 's'}\n` : pc.green('no hard-coded registry ports\n'));
  }
  return hits.length ? EXIT.FINDINGS : EXIT.CLEAN;
}

export function register(cli: Command, io: Io, setCode: (code: number) => void): void {
  cli.command('scan').description('hard-coded registry ports in source and config files, as file:line')
    .argument('<dir>', 'folder to scan')
    .option('-x, --exclude <folder...>', `more folder names to skip (always skipped: ${DEFAULT_EXCLUDES.join(', ')})`)
    .addOption(registryOption()).addOption(jsonOption())
    .action((dir, opts) => setCode(scan(io, dir, opts)));
}
