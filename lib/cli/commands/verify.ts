/**
 * `cdk8s-ports verify [folder]`: the traffic the NetworkPolicies of a folder allow, against what
 * the registries declare; exit 1 on an undeclared allowed path, a blocked declared one, or a
 * namespace without default deny.
 */
import * as path from 'path';
import { Command } from 'commander';
import type * as Verify from '../../netpol/verify';
import type * as Load from '../../netpol/load';
import { PATH_FORMATS, Reported, addFormatOptions, formatOf, listPaths, printFindings } from '../format-output';
import { findInFolder, objectPosition } from '../manifest-positions';
import { EXIT, Io, UsageError, errColours, json, outColours, packageVersion, printable, registriesOption } from '../io';
import { manifestChecks, manifestsFolder, trafficRegistries } from '../traffic';

/**
 * A traffic finding for code scanning: the first policy it names (at the line of its name), else
 * the object it is about, else its namespace's Namespace object (or the first object in it), else
 * the pod at the end of the path.
 */
function reported(f: Pick<Verify.TrafficFinding, 'severity' | 'message' | 'fix' | 'policies'> & { readonly rule: string; readonly where: Partial<Verify.TrafficFinding['where']> & { readonly file?: string } },
  cwd: string, folder: string): Reported {
  const dir = path.resolve(cwd, folder);
  const policy = f.policies?.find(p => p.file);
  const [kind, name] = policy ? ['NetworkPolicy', policy.policy] : f.where.object ? f.where.object.split('/') : [];
  let file = policy?.file ?? f.where.file;
  let at = file && kind && name ? objectPosition(path.resolve(dir, file), kind, name, policy?.namespace ?? f.where.namespace) : undefined;
  if (!file) {
    // The destination's workload, else the source's: a stand-in at one end (kube-dns, an unlisted pod) is in no file.
    const inFolder = (id: string | undefined) => id?.includes('/') && !id.startsWith('(')
      ? findInFolder(dir, { namespace: id.slice(0, id.indexOf('/')), name: id.slice(id.indexOf('/') + 1) }) : undefined;
    const found = f.where.namespace ? findInFolder(dir, { kind: 'Namespace', name: f.where.namespace }) ?? findInFolder(dir, { namespace: f.where.namespace })
      : inFolder(f.where.to) ?? inFolder(f.where.from);
    file = found?.file;
    at = found?.position;
  }
  return {
    rule: f.rule, severity: f.severity, message: f.message, ...(f.fix ? { fix: f.fix } : {}),
    ...(file ? { file: path.posix.join(folder.split(path.sep).join('/'), file), ...(at ? { line: at.line, column: at.column } : {}) } : {}),
  };
}

export function verify(io: Io, folder: string, opts: { registry?: string[]; json?: boolean; format?: string; paths?: boolean }): number {
  const format = formatOf(opts);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { loadFolder } = require('../../netpol/load') as typeof Load;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { TooManyPaths, invalidValueFinding, tooManyPathsFinding, verifyCluster } = require('../../netpol/verify') as typeof Verify;
  const pc = outColours(io);
  const dir = manifestsFolder(io.cwd, folder);
  const registries = trafficRegistries(io.cwd, dir, opts.registry ?? []);
  const { cluster, problems, invalid, objects } = loadFolder(dir);
  // A folder with nothing to verify (empty, mistyped, or compose files only) must not read as verified.
  if (cluster.pods.length === 0 && cluster.policies.length === 0 && problems.length === 0) {
    throw new UsageError(`${folder} holds no workload, Service or NetworkPolicy (no .yaml, .yml or .json file with a kind): pass the folder of manifests (default: manifests, what the synth writes)`);
  }
  let result: ReturnType<typeof verifyCluster>;
  let stopped = false;
  try {
    result = verifyCluster(cluster, registries);
  } catch (e) {
    if (!(e instanceof TooManyPaths)) throw e;
    // Past the limit nothing is compared: one error finding, through the same output as any other.
    result = { ok: false, findings: [tooManyPathsFinding(e)], allowed: [], declared: [] };
    stopped = true;
  }
  const findings = [
    ...problems.map(p => ({ rule: 'manifest-unreadable' as const, severity: 'error' as const, message: `${p.file}: ${p.message}`, where: { file: p.file }, fix: 'fix or remove the file; verify reads every .yaml, .yml and .json under the folder that mentions a kind' })),
    ...invalid.map(invalidValueFinding),
    ...result.findings,
    ...manifestChecks(objects ?? [], registries),
  ];
  const errors = findings.filter(f => f.severity === 'error').length;
  const warnings = findings.length - errors;
  if (format === 'sarif' || format === 'github') {
    printFindings(io.out, format, findings.map(f => reported(f, io.cwd, folder)), packageVersion());
    return errors ? EXIT.FINDINGS : EXIT.CLEAN;
  }
  if (format === 'csv' || format === 'md' || format === 'dot') {
    // The allowed paths, as a table or a graph (the findings go to stderr, the exit code says whether there are any).
    io.out(listPaths(format, result.allowed, `allowed traffic in ${folder}`));
    for (const f of findings) io.err(`${f.severity} ${f.rule}: ${printable(f.message)}\n`);
    return errors ? EXIT.FINDINGS : EXIT.CLEAN;
  }
  if (format === 'json') {
    json(io, {
      ok: errors === 0, errors, warnings, folder, registries: registries.map(r => r.spec.name),
      pods: cluster.pods.length, policies: cluster.policies.length, findings,
      ...(opts.paths ? { allowed: result.allowed } : {}),
    });
    return errors ? EXIT.FINDINGS : EXIT.CLEAN;
  }
  // (A path stands for an interval of ports: `5433-5439/TCP`.)
  if (opts.paths) for (const p of result.allowed) io.out(`${printable(`${p.from} -> ${p.to} ${p.port}${p.endPort !== undefined ? `-${p.endPort}` : ''}/${p.protocol}`)}\n`);
  for (const f of findings) {
    const paint = f.severity === 'error' ? pc.red : pc.yellow;
    io.out(`${paint(`${f.severity} ${f.rule}`)}: ${printable(f.message)}\n`);
    if (f.fix) io.out(`  fix: ${printable(f.fix)}\n`);
  }
  const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  const summary = `${count(cluster.pods.length, 'pod', 'pods')}, ${count(cluster.policies.length, 'NetworkPolicy', 'NetworkPolicies')}, ${stopped ? 'more allowed paths than verify counts (nothing compared)' : count(result.allowed.length, 'allowed path', 'allowed paths')}` +
    (registries.length ? `, compared with ${registries.map(r => r.spec.name).join(', ')}` : ' (no registry found: nothing declared to compare with)');
  if (errors || warnings) io.out(`${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}: ${summary}\n`);
  else if (registries.length) io.out(pc.green(`verified: ${summary}; every allowed path is declared and every declared path is allowed\n`));
  else io.out(pc.green(`checked: ${summary}; every namespace has a default deny, and no pitfall was found\n`));
  if (!registries.length) io.err(`${errColours(io).yellow('note')}: no registry: only default deny and the CNI pitfalls were checked (pass one with -r)\n`);
  return errors ? EXIT.FINDINGS : EXIT.CLEAN;
}

export function register(cli: Command, io: Io, setCode: (code: number) => void): void {
  const command = cli.command('verify').description('what the NetworkPolicies allow against what the registry declares (exit 1 on a difference, a namespace without default deny, or a manifest that cannot be read or holds a value the API server rejects)')
    .argument('[folder]', 'the folder of manifests (any, hand-written ones included)', 'manifests')
    .addOption(registriesOption('the registries to compare with (default: ./ports.yaml, else the ports.json files in the folder)'))
    .option('--paths', 'also list every allowed path (--format csv, md and dot list them alone)');
  addFormatOptions(command, PATH_FORMATS)
    .action((folder: string, opts) => setCode(verify(io, folder, opts)));
}
