/** `cdk8s-ports status`: which declared ports listen on this machine, which do not, and undeclared listeners. */
import { Command } from 'commander';
import { PLAIN_FORMATS, addFormatOptions, formatOf } from '../format-output';
import { EXIT, Io, json, outColours, printable, registryOption } from '../io';
import { UsageError, projectRegistries } from '../registries';
import { Listener, listeners } from '../sockets';

interface StatusRow { environment: string; service: string; portName: string; port: number; protocol: string; process?: Listener['process']; fallback?: number; fallbackFree?: boolean }

export function status(io: Io, opts: { env?: string; registry?: string; json?: boolean; format?: string }): number {
  const pc = outColours(io);
  const registries = projectRegistries(opts.registry, io.cwd);
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
      ...Object.entries(r.resolved.spec.categories ?? {}).flatMap(([n, c]) => (c.ranges ?? []).map(range => ({ range, name: `category ${n}` })))];
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
  if (formatOf(opts) === 'json') {
    json(io, { platform: process.platform, listening, heldByOther, notListening, undeclared, skipped, ok: problems === 0 });
  } else {
    for (const name of skipped) io.out(pc.dim(`${name}: no environment ${opts.env}, skipped\n`));
    const proc = (p?: Listener['process']) => (p ? `${printable(p.name)} (pid ${p.pid})` : 'process unknown');
    const line = (r: StatusRow) => `${r.port}/${r.protocol} ${r.service}.${r.portName} (${r.environment})`;
    io.out(`${pc.bold('listening')}\n${listening.map(r => `  ${pc.green(line(r))}  ${proc(r.process)}`).join('\n') || '  none'}\n`);
    if (heldByOther.length) {
      io.out(`${pc.bold('held by another process')}\n${heldByOther.map(r => `  ${pc.red(line(r))}  held by ${proc(r.process)}, not known to be ${r.service}` +
        (r.fallback !== undefined ? `  fallback ${r.fallback}${r.fallbackFree ? ' is free' : ' is busy too'}` : '  (no fallback declared)')).join('\n')}\n`);
    }
    io.out(`${pc.bold('not listening')}\n${notListening.map(r => `  ${pc.dim(line(r))}`).join('\n') || '  none'}\n`);
    if (undeclared.length) {
      io.out(`${pc.bold('undeclared listeners in managed ranges')}\n${undeclared.map(u => `  ${pc.yellow(`${u.port}/${u.protocol}`)} on ${printable(u.address)} in ${u.range}  ${proc(u.process)}`).join('\n')}\n`);
    }
  }
  return problems ? EXIT.FINDINGS : EXIT.CLEAN;
}


/** Whether a command line names the service as a word (`pourtier`, `/srv/pourtier/app.py`), not inside another word. */
export function namesService(command: string, service: string): boolean {
  const escaped = service.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^a-z0-9-])${escaped}($|[^a-z0-9-])`, 'i').test(command);
}

export function register(cli: Command, io: Io, setCode: (code: number) => void): void {
  const command = cli.command('status').description('which declared ports are listening here, which are not, and which listeners are undeclared (Linux)')
    .option('-e, --env <environment>', 'only this environment')
    .addOption(registryOption());
  addFormatOptions(command, PLAIN_FORMATS)
    .action(opts => setCode(status(io, opts)));
}
