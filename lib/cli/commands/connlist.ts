/**
 * `cdk8s-ports connlist [folder]`: every connection the NetworkPolicies of a folder allow, one
 * line per pair, in np-guard/netpol-analyzer's `list` conventions (txt, json, csv, md, dot), and
 * with `--exposure` what reaches each workload from outside the folder. The format handling is
 * this command's own.
 */
import { Command, Option } from 'commander';
import type * as Load from '../../netpol/load';
import type * as ConnListModule from '../../netpol/connlist';
import type * as RouteExposureModule from '../../validate/route-exposure';
import { EXIT, Io, UsageError, errColours, printable } from '../io';
import { LIST_FORMATS, addFormatOptions, formatOf } from '../format-output';
import { manifestsFolder } from '../traffic';

const FORMATS = ['txt', 'json', 'csv', 'md', 'dot'] as const;
type Format = typeof FORMATS[number];

const csvField = (t: string) => (/[",\n]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t);
const mdCell = (t: string) => t.replace(/[|\\`<>]/g, c => `\\${c}`);
const dotString = (t: string) => `"${t.replace(/["\\]/g, c => `\\${c}`)}"`;

/** A way in from outside through an Ingress or Gateway route: `[Ingress shop/web]` to the workload, on the port it receives. */
interface RouteRow { readonly route: string; readonly hosts: string; readonly dst: string; readonly conn: string }

function routeRows(objects: readonly Load.SourcedObject[]): RouteRow[] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { routeExposures } = require('../../validate/route-exposure') as typeof RouteExposureModule;
  return routeExposures(objects.map(o => ({ object: o.object, origin: o.file, file: o.file }))).flatMap(e => e.pods.map((pod, i) => ({
    route: `[${e.route}]`, hosts: e.hosts.join(',') || '*', dst: `${pod}[${e.kinds[i]}]`, conn: `${e.protocol} ${e.targetPort}`,
  })));
}

function render(list: ConnListModule.ConnList, format: Format, exposure: boolean, routes: readonly RouteRow[] = []): string {
  const rows = list.connections;
  const ex = [...list.egressExposure.map(c => ({ ...c, direction: 'egress' })), ...list.ingressExposure.map(c => ({ ...c, direction: 'ingress' }))];
  switch (format) {
    case 'json':
      return `${JSON.stringify(exposure
        ? { connlist: rows, exposure: { egress: list.egressExposure, ingress: list.ingressExposure, routes }, unprotected: list.unprotected }
        : rows, null, 2)}\n`;
    case 'csv': {
      const lines = ['src,dst,conn', ...rows.map(c => [c.src, c.dst, c.conn].map(csvField).join(','))];
      if (exposure) {
        lines.push('', 'exposure,workload,peer,conn', ...ex.map(c => [c.direction, c.direction === 'egress' ? c.src : c.dst, c.direction === 'egress' ? c.dst : c.src, c.conn].map(csvField).join(',')));
        lines.push('', 'unprotected,open', ...list.unprotected.map(u => [u.workload, u.open.join(' ')].map(csvField).join(',')));
        if (routes.length) lines.push('', 'route,hosts,workload,conn', ...routes.map(r => [r.route, r.hosts, r.dst, r.conn].map(csvField).join(',')));
      }
      return `${lines.join('\n')}\n`;
    }
    case 'md': {
      const lines = ['| src | dst | conn |', '|-----|-----|------|', ...rows.map(c => `| ${mdCell(c.src)} | ${mdCell(c.dst)} | ${mdCell(c.conn)} |`)];
      if (exposure) {
        lines.push('', '## Exposure Analysis Result', '', '| exposure | workload | peer | conn |', '|----------|----------|------|------|',
          ...ex.map(c => `| ${c.direction} | ${mdCell(c.direction === 'egress' ? c.src : c.dst)} | ${mdCell(c.direction === 'egress' ? c.dst : c.src)} | ${mdCell(c.conn)} |`));
        lines.push('', '| unprotected workload | open |', '|----------------------|------|', ...list.unprotected.map(u => `| ${mdCell(u.workload)} | ${u.open.join(', ')} |`));
        if (routes.length) lines.push('', '| route | hosts | workload | conn |', '|-------|-------|----------|------|', ...routes.map(r => `| ${mdCell(r.route)} | ${mdCell(r.hosts)} | ${mdCell(r.dst)} | ${mdCell(r.conn)} |`));
      }
      return `${lines.join('\n')}\n`;
    }
    case 'dot': {
      const out = ['digraph {'];
      const byNs = new Map<string, string[]>();
      for (const n of list.nodes) if (n.kind === 'workload' && n.namespace !== undefined) byNs.set(n.namespace, [...(byNs.get(n.namespace) ?? []), n.name]);
      for (const [ns, nodes] of [...byNs].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
        out.push(`\tsubgraph ${dotString(`cluster_${ns}`)} {`);
        for (const n of nodes) out.push(`\t\t${dotString(n)} [label=${dotString(n.slice(ns.length + 1))} color="blue" fontcolor="blue"]`);
        out.push(`\t\tlabel=${dotString(ns)}`, '\t}');
      }
      for (const n of list.nodes) {
        if (n.kind === 'external') out.push(`\t${dotString(n.name)} [label=${dotString(n.name)} color="red2" fontcolor="red2"]`);
        if (n.kind === 'stand-in') out.push(`\t${dotString(n.name)} [label=${dotString(n.name)} color="red2" fontcolor="red2" shape=diamond]`);
      }
      for (const c of [...rows, ...(exposure ? [...list.egressExposure, ...list.ingressExposure] : [])]) {
        out.push(`\t${dotString(c.src)} -> ${dotString(c.dst)} [label=${dotString(c.conn)} color="gold2" fontcolor="darkgreen"]`);
      }
      for (const r of exposure ? routes : []) {
        out.push(`\t${dotString(r.route)} [label=${dotString(`${r.route} ${r.hosts}`)} color="red2" fontcolor="red2" shape=box]`);
        out.push(`\t${dotString(r.route)} -> ${dotString(r.dst)} [label=${dotString(r.conn)} color="red2" fontcolor="darkgreen"]`);
      }
      out.push('}');
      return `${out.join('\n')}\n`;
    }
    default: {
      const lines = rows.map(c => `${c.src} => ${c.dst} : ${c.conn}`);
      if (exposure) {
        lines.push('', 'Exposure Analysis Result:', 'Egress Exposure:', ...list.egressExposure.map(c => `${c.src}  =>  ${c.dst} : ${c.conn}`));
        lines.push('', 'Ingress Exposure:', ...list.ingressExposure.map(c => `${c.dst}  <=  ${c.src} : ${c.conn}`));
        lines.push('', 'Workloads no policy protects:', ...(list.unprotected.length ? list.unprotected.map(u => `${u.workload} : ${u.open.map(o => (o === 'hostNetwork' ? 'host network (no policy applies)' : `${o} open`)).join(', ')}`) : ['(none)']));
        if (routes.length) lines.push('', 'Exposure through routes (Ingress, Gateway API):', ...routes.map(r => `${r.dst}  <=  ${r.route} ${r.hosts} : ${r.conn}`));
      }
      return `${lines.map(printable).join('\n')}\n`;
    }
  }
}

export function connlist(io: Io, folder: string, opts: { format?: string; json?: boolean; output?: string; exposure?: boolean; addressAtoms?: boolean }): number {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { loadFolder } = require('../../netpol/load') as typeof Load;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { connList } = require('../../netpol/connlist') as typeof ConnListModule;
  // The CLI's one --format convention (text is netpol-analyzer's txt); -o is netpol-analyzer's own flag for the same.
  if (opts.output !== undefined && (opts.format !== undefined || opts.json)) throw new UsageError('-o is --format: give one of them');
  const chosen = opts.output ?? formatOf(opts);
  const format = (chosen === 'text' ? 'txt' : chosen) as Format;
  if (!FORMATS.includes(format)) throw new UsageError(`--format ${chosen}: give one of text, json, csv, md, dot`);
  const dir = manifestsFolder(io.cwd, folder);
  const loaded = loadFolder(dir);
  for (const p of loaded.problems) io.err(`${errColours(io).yellow('warning')}: ${printable(`${p.file}: ${p.message}`)}\n`);
  for (const v of loaded.invalid) {
    io.err(`${errColours(io).yellow('warning')}: ${printable(`${v.file}: ${v.object}${v.namespace ? ` in ${v.namespace}` : ''}: ${v.message}; the API server rejects the object (fix: ${v.fix})`)}\n`);
  }
  io.out(render(connList(loaded.cluster, { exposure: !!opts.exposure, addressAtoms: !!opts.addressAtoms }), format, !!opts.exposure, opts.exposure ? routeRows(loaded.objects ?? []) : []));
  return EXIT.CLEAN;
}

export function register(cli: Command, io: Io, setCode: (code: number) => void): void {
  const command = cli.command('connlist').description('every connection the NetworkPolicies allow, one line per pair (netpol-analyzer\'s list format)')
    .argument('[folder]', 'the folder of manifests', 'manifests');
  addFormatOptions(command, LIST_FORMATS)
    .addOption(new Option('-o, --output <format>', 'the same as --format, as netpol-analyzer names it (txt is text)').choices(['txt', 'text', 'json', 'csv', 'md', 'dot']))
    .option('--address-atoms', 'address intervals as the CIDRs cut them, adjacent ones with the same connections not merged (netpol-analyzer\'s lines exactly)')
    .option('--exposure', 'also what reaches each workload from outside the folder (representative peers), and the workloads no policy protects')
    .action((folder: string, opts) => setCode(connlist(io, folder, opts)));
}
