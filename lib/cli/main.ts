import * as fs from 'fs';
import * as path from 'path';
import { Command, CommanderError, Option } from 'commander';
import picocolors from 'picocolors';
import { describeRanges, freePorts } from '../allocation/free-ports';
import { formatFinding, summarize } from '../format';
import { Finding } from '../model/finding';
import type { Protocol } from '../model/schema';
import { appCommand, checkApp } from './app-check';
import { diffProject } from './diff';
import { registryFromCompose, registryYaml } from './import-compose';
import { LoadedRegistry, UsageError, allFindings, hasRegistryFile, loadRegistries, withCrossChecks } from './registries';
import { DEFAULT_EXCLUDES, scanTree } from './scan';
import { Listener, listeners } from './sockets';

/** Exit codes: 0 clean, 1 findings or drift, 2 usage or unreadable input. */
export const EXIT = { CLEAN: 0, FINDINGS: 1, USAGE: 2 } as const;

interface Io {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly cwd: string;
  /** Whether each stream gets ANSI colours (default: neither). */
  readonly colour?: { readonly out: boolean; readonly err: boolean };
}

/**
 * Colour only for a person at a terminal: `NO_COLOR` turns it off, `FORCE_COLOR` (not `0`) turns
 * it on, otherwise the stream must be a TTY. A `CI` variable alone never turns colour on, so
 * piped and logged output stays plain text that scripts can match.
 */
export function wantsColour(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '') return env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  return stream.isTTY === true;
}

type Colours = ReturnType<typeof picocolors.createColors>;
const outColours = (io: Io): Colours => picocolors.createColors(io.colour?.out ?? false);
const errColours = (io: Io): Colours => picocolors.createColors(io.colour?.err ?? false);

const json = (io: Io, value: unknown) => io.out(`${JSON.stringify(value, null, 2)}\n`);

function colourFinding(colours: Colours, f: Finding): string {
  const text = formatFinding(f);
  const [head, ...rest] = text.split('\n');
  const paint = f.waived ? colours.dim : f.severity === 'error' ? colours.red : colours.yellow;
  return [paint(head), ...rest].join('\n');
}

function registryJson(r: LoadedRegistry) {
  return { name: r.name, source: r.source, ok: r.resolved.ok, findings: r.resolved.findings };
}

function check(io: Io, registry: string[], opts: { json?: boolean; strict?: boolean; frozenLock?: boolean }): number {
  const pc = outColours(io);
  const load = (r: string | undefined) => loadRegistries(r, io.cwd, { frozenLock: opts.frozenLock });
  // In a TypeScript project (cdk8s.yaml, no ports.yaml), the code is checked, not the last synth's output.
  const app = registry.length === 0 && !hasRegistryFile(io.cwd) ? appCommand(io.cwd) : undefined;
  const registries = app ? checkApp(io.cwd, app) : withCrossChecks(registry.length ? registry.flatMap(load) : load(undefined));
  const findings = allFindings(registries);
  const errors = findings.filter(f => f.severity === 'error' && !f.waived).length;
  const warnings = findings.filter(f => f.severity === 'warning' && !f.waived).length;
  const failed = errors > 0 || (opts.strict === true && warnings > 0);
  if (opts.json) {
    json(io, { ok: !failed, errors, warnings, registries: registries.map(registryJson) });
  } else {
    for (const r of registries) {
      io.out(`${pc.bold(r.name)} ${pc.dim(`(${r.source})`)}\n`);
      for (const f of r.resolved.findings) io.out(`${colourFinding(pc, f)}\n`);
      io.out(`${r.resolved.findings.length ? summarize(r.resolved.findings) : pc.green('clean: no findings')}\n`);
    }
  }
  return failed ? EXIT.FINDINGS : EXIT.CLEAN;
}

function pick(io: Io, registry: string | undefined, name: string | undefined, env: string): LoadedRegistry {
  let registries = loadRegistries(registry, io.cwd);
  if (!name) {
    const having = registries.filter(r => r.resolved.environments.some(e => e.name === env));
    if (having.length === 0) {
      throw new UsageError(`unknown environment "${env}"; the registries have ${[...new Set(registries.flatMap(r => r.resolved.environments.map(e => e.name)))].join(', ')}`);
    }
    registries = having;
  }
  if (name) {
    const r = registries.find(x => x.name === name);
    if (!r) throw new UsageError(`no registry named ${name}; found ${registries.map(x => x.name).join(', ')}`);
    return r;
  }
  if (registries.length > 1) throw new UsageError(`several registries found (${registries.map(x => x.name).join(', ')}): pass --registry-name`);
  return registries[0];
}

function suggest(io: Io, opts: { env: string; category?: string; count: string; live?: boolean; protocol: string; registry?: string; registryName?: string; json?: boolean }): number {
  const pc = outColours(io);
  const r = pick(io, opts.registry, opts.registryName, opts.env);
  const count = Number(opts.count);
  if (!Number.isInteger(count) || count < 1 || count > 1000) throw new UsageError(`--count must be a whole number from 1 to 1000, not ${opts.count}`);
  const protocol = opts.protocol.toUpperCase() as Protocol;
  if (!['TCP', 'UDP', 'SCTP'].includes(protocol)) throw new UsageError(`--protocol must be tcp, udp or sctp, not ${opts.protocol}`);
  let busy: Set<number> | undefined;
  if (opts.live) busy = new Set(listeners().filter(l => l.protocol === protocol).map(l => l.port));
  const env = r.resolved.environments.find(e => e.name === opts.env);
  const reserved = Object.entries(r.lock.ports).filter(([k]) => k.startsWith(`${opts.env}/`)).map(([, v]) => v);
  let result;
  try {
    result = freePorts(r.resolved, { environment: opts.env, category: opts.category, count, protocol, reserved, isBusy: busy ? p => busy!.has(p) : undefined });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (opts.json) {
    json(io, { registry: r.name, environment: opts.env, category: opts.category ?? null, protocol, ranges: result.ranges, live: !!opts.live, ports: result.ports });
  } else {
    io.out(`${pc.bold(r.name)} ${opts.env}${opts.category ? ` / ${opts.category}` : ''} (${describeRanges(result.ranges)}${env ? `, scope ${env.scope}` : ''}):\n`);
    io.out(result.ports.length ? `${result.ports.join('\n')}\n` : pc.red('no free port left in that range\n'));
  }
  return result.ports.length === count ? EXIT.CLEAN : EXIT.FINDINGS;
}

interface StatusRow { environment: string; service: string; portName: string; port: number; protocol: string; process?: Listener['process']; fallback?: number; fallbackFree?: boolean }

function status(io: Io, opts: { env?: string; registry?: string; json?: boolean }): number {
  const pc = outColours(io);
  const registries = loadRegistries(opts.registry, io.cwd);
  const open = listeners();
  const listening: StatusRow[] = [];
  const heldByOther: StatusRow[] = [];
  const notListening: StatusRow[] = [];
  const undeclared: Array<{ port: number; protocol: string; address: string; range: string; process?: Listener['process'] }> = [];
  const skipped: string[] = [];
  const isOpen = (port: number, protocol: string) => open.find(l => l.port === port && l.protocol === protocol);
  for (const r of registries) {
    const envs = r.resolved.environments.filter(e => !opts.env || e.name === opts.env);
    if (opts.env && envs.length === 0) {
      // Registries without that environment are skipped, and the output says so.
      skipped.push(r.name);
      continue;
    }
    const envNames = new Set(envs.map(e => e.name));
    const allocations = r.resolved.allocations.filter(a => envNames.has(a.environment) && (a.status === 'active' || a.status === 'dev-only'));
    for (const a of allocations) {
      const l = isOpen(a.port, a.protocol);
      const row: StatusRow = { environment: a.environment, service: a.service, portName: a.portName, port: a.port, protocol: a.protocol,
        ...(a.fallback !== undefined ? { fallback: a.fallback, fallbackFree: !isOpen(a.fallback, a.protocol) } : {}) };
      if (!l) {
        if (a.of === 'service') notListening.push(row);
        continue;
      }
      const withProcess = { ...row, ...(l.process ? { process: l.process } : {}) };
      // Only a process whose command line names the service (as a word) is taken to be it; a kind
      // word is no evidence (`python3 -m http.server` is not every http service).
      if (l.process && !namesService(l.process.command || l.process.name, a.service)) heldByOther.push(withProcess);
      else listening.push(withProcess);
    }
    const declared = new Set(r.resolved.allocations.flatMap(a => [`${a.port}/${a.protocol}`, ...(a.fallback !== undefined ? [`${a.fallback}/${a.protocol}`] : [])]));
    const managed = [...envs.flatMap(e => (e.band ? [{ range: e.band, name: `band ${e.name}` }] : [])),
      ...Object.entries(r.resolved.spec.categories ?? {}).flatMap(([n, c]) => c.ranges.map(range => ({ range, name: `category ${n}` })))];
    for (const l of open) {
      if (declared.has(`${l.port}/${l.protocol}`)) continue;
      const inside = managed.find(m => l.port >= m.range[0] && l.port <= m.range[1]);
      if (inside && !undeclared.some(u => u.port === l.port && u.protocol === l.protocol)) {
        undeclared.push({ port: l.port, protocol: l.protocol, address: l.address, range: `${r.name} ${inside.name}`, ...(l.process ? { process: l.process } : {}) });
      }
    }
  }
  const problems = heldByOther.length + undeclared.length;
  if (opts.env && skipped.length === registries.length) {
    throw new UsageError(`unknown environment "${opts.env}"; the registries have ${[...new Set(registries.flatMap(r => r.resolved.environments.map(e => e.name)))].join(', ')}`);
  }
  if (opts.json) {
    json(io, { platform: process.platform, listening, heldByOther, notListening, undeclared, skipped, ok: problems === 0 });
  } else {
    for (const name of skipped) io.out(pc.dim(`${name}: no environment ${opts.env}, skipped\n`));
    const proc = (p?: Listener['process']) => (p ? `${p.name} (pid ${p.pid})` : 'process unknown');
    const line = (r: StatusRow) => `${r.port}/${r.protocol} ${r.service}.${r.portName} (${r.environment})`;
    io.out(`${pc.bold('listening')}\n${listening.map(r => `  ${pc.green(line(r))}  ${proc(r.process)}`).join('\n') || '  none'}\n`);
    if (heldByOther.length) {
      io.out(`${pc.bold('held by another process')}\n${heldByOther.map(r => `  ${pc.red(line(r))}  held by ${proc(r.process)}, not known to be ${r.service}` +
        (r.fallback !== undefined ? `  fallback ${r.fallback}${r.fallbackFree ? ' is free' : ' is busy too'}` : '  (no fallback declared)')).join('\n')}\n`);
    }
    io.out(`${pc.bold('not listening')}\n${notListening.map(r => `  ${pc.dim(line(r))}`).join('\n') || '  none'}\n`);
    if (undeclared.length) {
      io.out(`${pc.bold('undeclared listeners in managed ranges')}\n${undeclared.map(u => `  ${pc.yellow(`${u.port}/${u.protocol}`)} on ${u.address} in ${u.range}  ${proc(u.process)}`).join('\n')}\n`);
    }
  }
  return problems ? EXIT.FINDINGS : EXIT.CLEAN;
}

function scan(io: Io, dir: string, opts: { registry?: string; exclude?: string[]; json?: boolean }): number {
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

function diff(io: Io, files: string[], opts: { manifests: string; json?: boolean }): number {
  const pc = outColours(io);
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

function importCompose(io: Io, file: string, opts: { output: string; name?: string; force?: boolean; json?: boolean }): number {
  const pc = outColours(io);
  const source = path.resolve(io.cwd, file);
  if (!fs.existsSync(source)) throw new UsageError(`cannot read ${file}: no such file`);
  const target = path.resolve(io.cwd, opts.output);
  if (fs.existsSync(target) && !opts.force) throw new UsageError(`${opts.output} exists; pass --force to overwrite it`);
  let result;
  try {
    result = registryFromCompose(fs.readFileSync(source, 'utf8'), opts.name ?? (path.basename(path.dirname(source)).toLowerCase().replace(/[^a-z0-9-]+/g, '-') || 'registry'));
  } catch (e) {
    throw new UsageError(`${file}: ${(e as Error).message}`);
  }
  fs.writeFileSync(target, registryYaml(result.spec, file));
  const [loaded] = loadRegistries(opts.output, io.cwd);
  const findings = loaded.resolved.findings;
  const errors = findings.filter(f => f.severity === 'error' && !f.waived).length;
  if (opts.json) {
    json(io, { output: opts.output, services: Object.keys(result.spec.services ?? {}), notes: result.notes, ok: errors === 0, findings });
  } else {
    io.out(`wrote ${opts.output} with ${Object.keys(result.spec.services ?? {}).length} services\n`);
    for (const n of result.notes) io.out(`  note: ${n}\n`);
    for (const f of findings) io.out(`${colourFinding(pc, f)}\n`);
    io.out(findings.length ? `${summarize(findings)}\n` : pc.green('check: clean\n'));
  }
  return errors ? EXIT.FINDINGS : EXIT.CLEAN;
}

export function program(io: Io, setCode: (code: number) => void): Command {
  const cli = new Command('cdk8s-ports')
    .description('Port allocation as code: check, suggest, status, scan, diff and import for a cdk8s-ports registry.')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride();
  cli.version(packageVersion(), '-V, --version', 'print the version');
  const registryOption = () => new Option('-r, --registry <file>', 'a ports.yaml/ports.json, or a ports.json written by synth (default: the project\'s own)');
  const jsonOption = () => new Option('--json', 'print JSON for machines');

  cli.command('check').description('run every rule and print every finding (exit 1 on errors)')
    .argument('[registry...]', 'registry files or folders, checked together (default: ./ports.yaml, else manifests/**/ports.json)')
    .option('--strict', 'warnings fail too')
    .option('--frozen-lock', 'fail when the lock file would change (lock-outdated), as CI should')
    .addOption(new Option('-r, --registry <file>', 'a registry file or folder (the same as giving it as an argument)'))
    .addOption(jsonOption())
    .action((registry: string[], opts) => setCode(check(io, opts.registry ? [...registry, opts.registry] : registry, opts)));

  cli.command('suggest').description('the next free ports in the right range')
    .requiredOption('-e, --env <environment>', 'environment to allocate in')
    .option('-c, --category <category>', 'category whose ranges to use')
    .option('-n, --count <n>', 'how many ports', '1')
    .option('--protocol <protocol>', 'tcp, udp or sctp', 'tcp')
    .option('--live', 'also skip ports that are listening on this machine right now')
    .option('--registry-name <name>', 'which registry, when several are found')
    .addOption(registryOption()).addOption(jsonOption())
    .action(opts => setCode(suggest(io, opts)));

  cli.command('status').description('which declared ports are listening here, which are not, and which listeners are undeclared (Linux)')
    .option('-e, --env <environment>', 'only this environment')
    .addOption(registryOption()).addOption(jsonOption())
    .action(opts => setCode(status(io, opts)));

  cli.command('scan').description('hard-coded registry ports in source and config files, as file:line')
    .argument('<dir>', 'folder to scan')
    .option('-x, --exclude <folder...>', `more folder names to skip (always skipped: ${DEFAULT_EXCLUDES.join(', ')})`)
    .addOption(registryOption()).addOption(jsonOption())
    .action((dir, opts) => setCode(scan(io, dir, opts)));

  cli.command('diff').description('committed manifests (and user compose/.env files) against what the registry produces; exit 1 on drift')
    .argument('[files...]', 'your own docker-compose or .env files to compare too')
    .option('-m, --manifests <dir>', 'the committed output folder', 'manifests')
    .addOption(jsonOption())
    .action((files, opts) => setCode(diff(io, files, opts)));

  cli.command('import').description('a starting ports.yaml from an existing docker-compose file')
    .argument('<compose-file>', 'docker-compose.yml to read')
    .option('-o, --output <file>', 'registry file to write', 'ports.yaml')
    .option('--name <name>', 'registry name (default: the folder name)')
    .option('-f, --force', 'overwrite the output file')
    .addOption(jsonOption())
    .action((file, opts) => setCode(importCompose(io, file, opts)));
  return cli;
}

/** Whether a command line names the service as a word (`pourtier`, `/srv/pourtier/app.py`), not inside another word. */
export function namesService(command: string, service: string): boolean {
  const escaped = service.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^a-z0-9-])${escaped}($|[^a-z0-9-])`, 'i').test(command);
}

/** The package's version, from its package.json (found from build/lib/cli or lib/cli alike). */
function packageVersion(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'cdk8s-ports') return pkg.version ?? '0.0.0';
    }
    if (path.dirname(dir) === dir) return '0.0.0';
  }
}

/** Runs the CLI; returns the exit code. Never throws, never prints a stack trace. */
export function main(argv: readonly string[], io: Io = {
  out: t => process.stdout.write(t),
  err: t => process.stderr.write(t),
  cwd: process.cwd(),
  colour: { out: wantsColour(process.stdout), err: wantsColour(process.stderr) },
}): number {
  let code: number = EXIT.CLEAN;
  const cli = program(io, c => { code = c; });
  try {
    cli.parse([...argv], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.code === 'commander.helpDisplayed' || e.code === 'commander.help' || e.code === 'commander.version' ? EXIT.CLEAN : EXIT.USAGE;
    }
    if (e instanceof UsageError) {
      io.err(`${errColours(io).red('error')}: ${e.message}\n`);
      return EXIT.USAGE;
    }
    io.err(`${errColours(io).red('internal error')}: ${(e as Error).message}\nplease report this with the command you ran\n`);
    return EXIT.USAGE;
  }
  if (argv.length === 0) {
    cli.outputHelp();
    return EXIT.USAGE;
  }
  return code;
}
