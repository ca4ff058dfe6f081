/**
 * The emitter list: everything a resolved registry produces, listed once. Adding an output is
 * one emitter (a file here or its own module) and one line in {@link EMITTERS}. The constructs
 * turn `objects` into typed Kubernetes constructs in each environment's chart and write `files`
 * under the registry's output folder.
 */
import type { k8s } from '../../imports/k8s';
import type { ResolvedRegistry } from '../model/resolved';
import { YamlFile, composeDocuments } from './compose';
import { connectionsTable } from './connections-table';
import { envFiles } from './env-files';
import { firewallFiles } from './firewall';
import { kubernetesObjects } from './kubernetes';
import { networkPolicies } from './network-policies';
import { portMapSvg } from './port-map-svg';
import { portsMarkdown } from './ports-md';
import { resolvedJson } from './resolved-json';
import { GatewayRouteProps, routeObjects } from './routes';

export type { YamlFile } from './compose';

/** A Kubernetes object for one environment's chart: its kind, a stable construct id and its props. */
export type KubeObject =
  | { readonly environment: string; readonly kind: 'Namespace'; readonly id: string; readonly props: k8s.KubeNamespaceProps }
  | { readonly environment: string; readonly kind: 'Service'; readonly id: string; readonly name: string; readonly props: k8s.KubeServiceProps }
  | { readonly environment: string; readonly kind: 'NetworkPolicy'; readonly id: string; readonly props: k8s.KubeNetworkPolicyProps }
  | { readonly environment: string; readonly kind: 'Ingress'; readonly id: string; readonly props: k8s.KubeIngressProps }
  | { readonly environment: string; readonly kind: 'HTTPRoute' | 'GRPCRoute'; readonly id: string; readonly props: GatewayRouteProps };

/** One output of a resolved registry: files (paths relative to its output folder) and/or Kubernetes objects. */
export interface Emitter {
  readonly id: string;
  files?(resolved: ResolvedRegistry): Iterable<readonly [path: string, text: string]>;
  /** Files that are one YAML document under comment lines: the synth writes the YAML (on a worker thread when large). */
  yamlFiles?(resolved: ResolvedRegistry): Iterable<readonly [path: string, file: YamlFile]>;
  objects?(resolved: ResolvedRegistry): Iterable<KubeObject>;
}

const under = <T>(folder: string, files: Map<string, T>) => [...files].map(([name, value]) => [`${folder}/${name}`, value] as const);

export const EMITTERS: readonly Emitter[] = [
  {
    id: 'namespaces-and-services',
    *objects(r) {
      for (const env of r.environments) {
        const o = kubernetesObjects(r, env);
        yield { environment: env.name, kind: 'Namespace', id: 'namespace', props: o.namespace.props };
        for (const svc of o.services) yield { environment: env.name, kind: 'Service', id: `service-${svc.name}`, name: svc.name, props: svc.props };
      }
    },
  },
  {
    id: 'network-policies',
    *objects(r) {
      for (const [environment, policies] of networkPolicies(r)) {
        for (const p of policies) yield { environment, kind: 'NetworkPolicy', id: `policy-${p.name}`, props: p.props };
      }
    },
  },
  {
    id: 'routes',
    *objects(r) {
      for (const env of r.environments) {
        for (const o of routeObjects(r, env)) yield { environment: env.name, kind: o.kind, id: `${o.kind.toLowerCase()}-${o.name}`, props: o.props } as KubeObject;
      }
    },
  },
  { id: 'ports-json', files: r => [['ports.json', resolvedJson(r)]] },
  { id: 'ports-md', files: r => [['PORTS.md', portsMarkdown(r)]] },
  { id: 'port-map-svg', files: r => [['ports.svg', portMapSvg(r)]] },
  { id: 'connections-md', files: r => [['connections.md', `# ${r.spec.name}: connections\n\n${connectionsTable(r)}`]] },
  { id: 'compose', yamlFiles: r => under('compose', composeDocuments(r)) },
  { id: 'env-files', files: r => under('env', envFiles(r)) },
  { id: 'firewall', files: r => under('firewall', firewallFiles(r)) },
];
