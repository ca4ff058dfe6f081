import { k8s } from '../../imports/k8s';
import type { ResolvedRegistry } from '../model/resolved';
import { kubernetesAppProtocol } from '../model/app-protocol';
import { Environment, isDeployed } from '../model/normalize';
import { NAME_LABEL, podSelectorOf } from '../model/labels';

export const MANAGED_BY = 'cdk8s-ports';
export const ENV_LABEL = 'cdk8s-ports.io/environment';

export interface ServiceObject {
  readonly name: string;
  readonly props: k8s.KubeServiceProps;
}

export interface EnvironmentObjects {
  readonly namespace: { readonly name: string; readonly props: k8s.KubeNamespaceProps };
  readonly services: ServiceObject[];
}

export function commonLabels(registry: string, env: Environment): Record<string, string> {
  return { 'app.kubernetes.io/part-of': registry, 'app.kubernetes.io/managed-by': MANAGED_BY, [ENV_LABEL]: env.name };
}

/** The Namespace and Services of one environment, in a stable order (services by name). */
export function kubernetesObjects(resolved: ResolvedRegistry, env: Environment): EnvironmentObjects {
  const registry = resolved.spec.name;
  const labels = commonLabels(registry, env);
  const byService = new Map<string, typeof resolved.allocations[number][]>();
  for (const a of resolved.allocations) {
    if (a.environment !== env.name || a.of !== 'service' || !isDeployed(a.status)) continue;
    const list = byService.get(a.service) ?? [];
    list.push(a);
    byService.set(a.service, list);
  }
  const services = [...byService.keys()].sort().map(name => {
    const svc = resolved.spec.services![name];
    const allocations = byService.get(name)!;
    const annotations: Record<string, string> = {};
    if (svc.description) annotations['cdk8s-ports.io/description'] = svc.description;
    if (svc.owner) annotations['cdk8s-ports.io/owner'] = svc.owner;
    const nodePorts = allocations.some(a => a.nodePort !== undefined);
    const props: k8s.KubeServiceProps = {
      metadata: {
        name, namespace: env.namespace,
        labels: { [NAME_LABEL]: name, ...labels },
        ...(Object.keys(annotations).length ? { annotations } : {}),
      },
      spec: {
        type: nodePorts ? 'NodePort' : 'ClusterIP',
        selector: podSelectorOf(name, svc),
        ports: allocations.map(a => ({
          name: a.portName,
          port: a.port,
          targetPort: k8s.IntOrString.fromNumber(a.targetPort),
          protocol: a.protocol,
          ...(a.appProtocol ? { appProtocol: kubernetesAppProtocol(a.appProtocol) } : {}),
          ...(a.nodePort !== undefined ? { nodePort: a.nodePort } : {}),
        })),
      },
    };
    return { name, props };
  });
  return {
    namespace: { name: env.namespace, props: { metadata: { name: env.namespace, labels } } },
    services,
  };
}
