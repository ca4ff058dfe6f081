import { k8s } from '../../imports/k8s';
import type { ResolvedRegistry } from '../../lib';
import { kubernetesObjects } from '../../lib/emit/kubernetes';
import { networkPolicies } from '../../lib/emit/network-policies';

/** The objects the synth writes for a registry, as manifests: namespaces, Services, NetworkPolicies. */
export function generatedObjects(r: ResolvedRegistry): any[] {
  const policies = networkPolicies(r);
  const objects: any[] = [];
  for (const env of r.environments) {
    const o = kubernetesObjects(r, env);
    objects.push(k8s.KubeNamespace.manifest(o.namespace.props), ...o.services.map(x => k8s.KubeService.manifest(x.props)),
      ...(policies.get(env.name) ?? []).map(p => k8s.KubeNetworkPolicy.manifest(p.props)));
  }
  return objects;
}
