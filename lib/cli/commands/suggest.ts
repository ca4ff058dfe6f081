/** `cdk8s-ports suggest`: the next free ports in the right range of an environment or category. */
import { Command } from 'commander';
import { describeRanges, freePorts } from '../../allocation/free-ports';
import { PortRules, describeSkipped } from '../../allocation/port-space';
import type { Protocol } from '../../model/schema';
import { PLAIN_FORMATS, addFormatOptions, formatOf } from '../format-output';
import { EXIT, Io, json, outColours, printable, registryOption } from '../io';
import { LoadedRegistry, UsageError, projectRegistries } from '../registries';
import { listeners } from '../sockets';

function pick(io: Io, registry: string | undefined, name: string | undefined, env: string): LoadedRegistry {
  let registries = projectRegistries(registry, io.cwd);
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

export function suggest(io: Io, opts: { env: string; category?: string; count: string; live?: boolean; protocol: string; registry?: string; registryName?: string; json?: boolean; format?: string }): number {
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
  // The de-facto defaults and kept-clear ports (X11's 6000) the ports suggested stepped over, as automatic allocation notes them.
  const rules = new PortRules(r.resolved.spec);
  const passed = new Map(result.ports.flatMap(p => rules.skippedBelow(result.ranges, p)));
  const note = passed.size ? `skipped ${describeSkipped([...passed].sort((a, b) => a[0] - b[0]))}` : undefined;
  if (formatOf(opts) === 'json') {
    json(io, { registry: r.name, environment: opts.env, category: opts.category ?? null, protocol, ranges: result.ranges, live: !!opts.live, ports: result.ports, ...(note ? { note } : {}) });
  } else {
    io.out(`${pc.bold(printable(r.name))} ${printable(String(opts.env))}${opts.category ? ` / ${printable(String(opts.category))}` : ''} (${describeRanges(result.ranges)}${env ? `, scope ${env.scope}` : ''}):\n`);
    io.out(result.ports.length ? `${result.ports.join('\n')}\n` : pc.red('no free port left in that range\n'));
    if (note) io.out(pc.dim(`note: ${printable(note)}\n`));
  }
  return result.ports.length === count ? EXIT.CLEAN : EXIT.FINDINGS;
}

export function register(cli: Command, io: Io, setCode: (code: number) => void): void {
  const command = cli.command('suggest').description('the next free ports in the right range')
    .requiredOption('-e, --env <environment>', 'environment to allocate in')
    .option('-c, --category <category>', 'category whose ranges to use')
    .option('-n, --count <n>', 'how many ports', '1')
    .option('--protocol <protocol>', 'tcp, udp or sctp', 'tcp')
    .option('--live', 'also skip ports that are listening on this machine right now')
    .option('--registry-name <name>', 'which registry, when several are found')
    .addOption(registryOption());
  addFormatOptions(command, PLAIN_FORMATS)
    .action(opts => setCode(suggest(io, opts)));
}
