/**
 * `cdk8s-ports connlist`: every allowed connection, one line per pair, in netpol-analyzer's
 * `list` conventions (the built CLI, on a hand-written folder; every expected line is worked out
 * by hand from the policies below).
 *
 *   namespace shop (default deny): web (8080) <- every IPv4 address on 8080; web -> db on 5432;
 *     db <- web and <- any pod of a namespace labelled team=ops, on 5432
 *   namespace other (no policy): tool (9000); agent, a DaemonSet in the node's network
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as jsYaml from 'js-yaml';
import { clusterOf } from '../lib/netpol/load';
import { connList, connText } from '../lib/netpol/connlist';
import { Cluster } from '../lib/netpol/cluster';
import type { Pod } from '../lib/netpol/model';
import { ROOT } from './support/project';

const deployment = (ns: string, name: string, port: number, kind = 'Deployment', hostNetwork = false) => ({
  apiVersion: 'apps/v1', kind, metadata: { name, namespace: ns },
  spec: { template: { metadata: { labels: { app: name } }, spec: { ...(hostNetwork ? { hostNetwork } : {}), containers: [{ name: 'c', ports: [{ containerPort: port }] }] } } },
});
const netpol = (ns: string, name: string, spec: Record<string, unknown>) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: ns }, spec });
const SHOP = [
  deployment('shop', 'web', 8080), deployment('shop', 'db', 5432),
  netpol('shop', 'deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] }),
  netpol('shop', 'web', {
    podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Ingress', 'Egress'],
    ingress: [{ from: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ port: 8080 }] }],
    egress: [{ to: [{ podSelector: { matchLabels: { app: 'db' } } }], ports: [{ port: 5432 }] }],
  }),
  netpol('shop', 'db', {
    podSelector: { matchLabels: { app: 'db' } },
    ingress: [{ from: [{ podSelector: { matchLabels: { app: 'web' } } }], ports: [{ port: 5432 }] }, { from: [{ namespaceSelector: { matchLabels: { team: 'ops' } } }], ports: [{ port: 5432 }] }],
  }),
];
const OTHER = [deployment('other', 'tool', 9000), deployment('other', 'agent', 9100, 'DaemonSet', true)];

function folder(objects: unknown[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-connlist-'));
  fs.writeFileSync(path.join(dir, 'all.yaml'), objects.map(o => jsYaml.dump(o)).join('---\n'));
  return dir;
}
const cli = (args: string[], cwd: string) => spawnSync(process.execPath, [path.join(ROOT, 'bin', 'cdk8s-ports.js'), 'connlist', ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

const V6 = '::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff[External]';
const V4 = '0.0.0.0-255.255.255.255[External]';

describe('connlist', () => {
  const shop = folder(SHOP);
  const both = folder([...SHOP, ...OTHER]);

  test('txt: src => dst : conn, workloads by their kind, addresses as intervals, sorted', () => {
    const r = cli(['.'], shop);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${V4} => shop/web[Deployment] : TCP 8080\nshop/web[Deployment] => shop/db[Deployment] : TCP 5432\n`);
  });

  test('json, csv, md and dot as netpol-analyzer writes them', () => {
    expect(JSON.parse(cli(['.', '-o', 'json'], shop).stdout)).toEqual([
      { src: V4, dst: 'shop/web[Deployment]', conn: 'TCP 8080' }, { src: 'shop/web[Deployment]', dst: 'shop/db[Deployment]', conn: 'TCP 5432' },
    ]);
    expect(cli(['.', '--format', 'csv'], shop).stdout).toBe(`src,dst,conn\n${V4},shop/web[Deployment],TCP 8080\nshop/web[Deployment],shop/db[Deployment],TCP 5432\n`);
    expect(cli(['.', '-o', 'md'], shop).stdout).toBe(`| src | dst | conn |\n|-----|-----|------|\n| ${V4} | shop/web[Deployment] | TCP 8080 |\n| shop/web[Deployment] | shop/db[Deployment] | TCP 5432 |\n`);
    expect(cli(['.', '-o', 'dot'], shop).stdout).toBe([
      'digraph {',
      '\tsubgraph "cluster_shop" {',
      '\t\t"shop/db[Deployment]" [label="db[Deployment]" color="blue" fontcolor="blue"]',
      '\t\t"shop/web[Deployment]" [label="web[Deployment]" color="blue" fontcolor="blue"]',
      '\t\tlabel="shop"',
      '\t}',
      `\t"${V4}" [label="${V4}" color="red2" fontcolor="red2"]`,
      `\t"${V4}" -> "shop/web[Deployment]" [label="TCP 8080" color="gold2" fontcolor="darkgreen"]`,
      '\t"shop/web[Deployment]" -> "shop/db[Deployment]" [label="TCP 5432" color="gold2" fontcolor="darkgreen"]',
      '}', ''].join('\n'));
    const bad = cli(['.', '-o', 'yaml'], shop);
    expect(bad.status).toBe(2);
  });

  test('--exposure: what reaches each workload from outside the folder, with representative peers, and what no policy protects', () => {
    const r = cli(['.', '--exposure'], both);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe([
      `${V4} => other/tool[Deployment] : All Connections`,
      `${V4} => shop/web[Deployment] : TCP 8080`,
      `${V6} => other/tool[Deployment] : All Connections`,
      `other/tool[Deployment] => ${V4} : All Connections`,
      `other/tool[Deployment] => ${V6} : All Connections`,
      'shop/web[Deployment] => shop/db[Deployment] : TCP 5432',
      '',
      'Exposure Analysis Result:',
      'Egress Exposure:',
      'other/tool[Deployment]  =>  [any namespace]/[all pods] : All Connections',
      'other/tool[Deployment]  =>  [namespace with {team=ops}]/[all pods] : All Connections',
      'other/tool[Deployment]  =>  kube-system/[pod with {k8s-app=kube-dns}] : All Connections',
      // (A pod of other that the folder does not list: no policy of other limits it either.)
      'other/tool[Deployment]  =>  other/[all pods] : All Connections',
      '',
      'Ingress Exposure:',
      'other/tool[Deployment]  <=  [any namespace]/[all pods] : All Connections',
      'other/tool[Deployment]  <=  [namespace with {team=ops}]/[all pods] : All Connections',
      'other/tool[Deployment]  <=  kube-system/[pod with {k8s-app=kube-dns}] : All Connections',
      'other/tool[Deployment]  <=  other/[all pods] : All Connections',
      'shop/db[Deployment]  <=  [namespace with {team=ops}]/[all pods] : TCP 5432',
      '',
      'Workloads no policy protects:',
      'other/agent[DaemonSet] : host network (no policy applies)',
      'other/tool[Deployment] : ingress open, egress open',
      '',
    ].join('\n'));
    const doc = JSON.parse(cli(['.', '--exposure', '-o', 'json'], both).stdout);
    expect(doc.unprotected).toEqual([{ workload: 'other/agent[DaemonSet]', open: ['hostNetwork'] }, { workload: 'other/tool[Deployment]', open: ['ingress', 'egress'] }]);
    expect(doc.exposure.ingress).toContainEqual({ src: '[namespace with {team=ops}]/[all pods]', dst: 'shop/db[Deployment]', conn: 'TCP 5432' });
  });

  test('ports merged per protocol; every port of every protocol is All Connections', () => {
    const p = (port: number, protocol: string, endPort?: number) => ({ from: 'a', to: 'b', port, protocol, ...(endPort ? { endPort } : {}) });
    expect(connText([p(8080, 'TCP'), p(53, 'UDP'), p(80, 'TCP'), p(81, 'TCP', 90), p(91, 'TCP')])).toBe('TCP 80-91,8080,UDP 53');
    expect(connText([p(1, 'TCP', 65535), p(1, 'UDP', 65535), p(1, 'SCTP', 65535)])).toBe('All Connections');
    expect(connText([p(1, 'TCP', 65535), p(1, 'UDP', 65535)])).toBe('TCP 1-65535,UDP 1-65535');
    // In-process, the same list the CLI prints.
    expect(connList(clusterOf(SHOP.map(object => ({ file: 'all.yaml', object })))).connections.map(c => `${c.src} => ${c.dst} : ${c.conn}`))
      .toEqual([`${V4} => shop/web[Deployment] : TCP 8080`, 'shop/web[Deployment] => shop/db[Deployment] : TCP 5432']);
  });
});

test('verify --paths lists each allowed path with the interval of ports it stands for', () => {
  const dir = folder([
    deployment('shop', 'web', 8080), netpol('shop', 'deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] }),
    netpol('shop', 'web', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ port: 8000, endPort: 8090 }] }] }),
  ]);
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'cdk8s-ports.js'), 'verify', '.', '--paths'], { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  expect(r.stdout.split('\n').filter(l => l.includes(' -> '))).toEqual(['203.0.113.7 -> shop/web 8000-8090/TCP']);
});

test('connlist merges adjacent address intervals of one peer with the same connections (issue #34)', () => {
  const open: Pod = { namespace: 'a', name: 'open', labels: { app: 'open' }, ports: [], source: 'a.yaml: Deployment/open' };
  const web: Pod = { namespace: 'a', name: 'web', labels: { app: 'web' }, ports: [], source: 'a.yaml: Deployment/web' };
  const cluster = new Cluster({ pods: [open, web], policies: [
    { name: 'web', namespace: 'a', podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Ingress'], egress: [],
      ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }], ports: [{ port: 80 }] }] },
  ] });
  const from = (dst: string) => connList(cluster).connections.filter(c => c.dst === dst && c.src.endsWith('[External]')).map(c => `${c.src} : ${c.conn}`);
  // Every address reaches the open pod alike: one interval per family, not five.
  expect(from('a/open[Deployment]')).toEqual([V4.replace('[External]', '[External] : All Connections'), V6.replace('[External]', '[External] : All Connections')]);
  // 10.0.0.0-10.0.255.255 and 10.2.0.0-10.255.255.255 are not adjacent (10.1.0.0/16 lies between): two lines.
  expect(from('a/web[Deployment]')).toEqual(['10.0.0.0-10.0.255.255[External] : TCP 80', '10.2.0.0-10.255.255.255[External] : TCP 80']);
});

test('--address-atoms keeps the cuts of a pod\'s own policies (netpol-analyzer\'s lines); a folder pod named kube-system/kube-dns keeps its name', () => {
  const out: Pod = { namespace: 'a', name: 'out', labels: { app: 'out' }, ports: [], source: 'a.yaml: Deployment/out' };
  const dns: Pod = { namespace: 'kube-system', name: 'kube-dns', labels: { app: 'kube-dns' }, ports: [{ port: 5698, protocol: 'TCP' }], source: 'k.yaml: Deployment/kube-dns' };
  const cluster = new Cluster({ pods: [out, dns], policies: [
    { name: 'out', namespace: 'a', podSelector: {}, policyTypes: ['Egress'], ingress: [],
      egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }, { podSelector: {}, namespaceSelector: {} }] }, { to: [{ ipBlock: { cidr: '10.0.0.0/8' } }], ports: [{ port: 80 }] }] },
  ] });
  const to = (options: { addressAtoms?: boolean }) => connList(cluster, options).connections.filter(c => c.src === 'a/out[Deployment]').map(c => `${c.dst} : ${c.conn}`);
  expect(to({})).toEqual(['0.0.0.0-255.255.255.255[External] : All Connections', 'kube-system/kube-dns[Deployment] : All Connections']);
  expect(to({ addressAtoms: true })).toEqual([
    '0.0.0.0-9.255.255.255[External] : All Connections', '10.0.0.0-10.255.255.255[External] : All Connections', '11.0.0.0-255.255.255.255[External] : All Connections',
    'kube-system/kube-dns[Deployment] : All Connections',
  ]);
});
