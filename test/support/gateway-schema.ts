import { HTTPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute';
import { GRPCRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1alpha2/GRPCRoute';

/**
 * Schema errors of a Gateway API route against its CRD's schema, as @kubernetes-models/gateway-api
 * (0.5.1, the last release for Node.js 20) ships it: HTTPRoute in gateway.networking.k8s.io/v1.
 * That release has GRPCRoute only as v1alpha2, whose spec is the one v1 took unchanged when
 * GRPCRoute became GA (Gateway API 1.1): a v1 GRPCRoute is checked against it with its apiVersion
 * read as v1alpha2. Empty when valid.
 */
export function gatewaySchemaErrors(obj: any): string[] {
  if (obj.apiVersion !== 'gateway.networking.k8s.io/v1') return [`not a gateway.networking.k8s.io/v1 object: ${obj.apiVersion}`];
  try {
    if (obj.kind === 'HTTPRoute') new HTTPRoute(obj).validate();
    else if (obj.kind === 'GRPCRoute') new GRPCRoute({ ...obj, apiVersion: 'gateway.networking.k8s.io/v1alpha2' }).validate();
    else return [`no schema for ${obj.kind}`];
    return [];
  } catch (e) {
    return String((e as Error).message).split(', ');
  }
}
