/**
 * Routes from outside (`public.route`): an Ingress (networking.k8s.io/v1) or a Gateway API
 * HTTPRoute or GRPCRoute (gateway.networking.k8s.io/v1) per public service and environment, named
 * after the service, in the environment's namespace, to the registry's Service on the registry's
 * port. The Gateway is the platform's: routes name it in `parentRefs`, it is never generated.
 */
import { k8s } from '../../imports/k8s';
import { Environment, isDeployed } from '../model/normalize';
import type { ResolvedRegistry } from '../model/resolved';
import { NAME_LABEL } from '../model/labels';
import { routeGateway, routeHostnames, routeOf, routePortName } from '../model/route';
import { commonLabels } from './kubernetes';

/** The Gateway API group version the routes are written in (HTTPRoute and GRPCRoute are GA in v1). */
export const GATEWAY_API_VERSION = 'gateway.networking.k8s.io/v1';

/** A Gateway API `parentRef` to a Gateway. */
export interface ParentReference {
  readonly group?: string;
  readonly kind?: string;
  readonly name: string;
  readonly namespace?: string;
  readonly sectionName?: string;
}

/** A backend of a Gateway API route rule: a Service of the route's namespace and its port. */
export interface BackendRef {
  readonly name: string;
  readonly port: number;
}

/** The few fields of an HTTPRoute or GRPCRoute the registry writes (the Gateway API types are not in cdk8s-plus). */
export interface GatewayRouteProps {
  readonly metadata: { readonly name: string; readonly namespace: string; readonly labels: Record<string, string> };
  readonly spec: {
    readonly parentRefs: ParentReference[];
    readonly hostnames?: string[];
    readonly rules: Array<{
      readonly matches?: Array<{ readonly path: { readonly type: 'PathPrefix'; readonly value: string } }>;
      readonly backendRefs: BackendRef[];
    }>;
  };
}

/** One route object of an environment. */
export type RouteObject =
  | { readonly kind: 'Ingress'; readonly name: string; readonly props: k8s.KubeIngressProps }
  | { readonly kind: 'HTTPRoute' | 'GRPCRoute'; readonly name: string; readonly props: GatewayRouteProps };

/**
 * The route objects of one environment, services by name. A route whose port or Gateway cannot be
 * found is not written: the rules report it (`route-invalid`) and the registry does not synthesize.
 */
export function routeObjects(resolved: ResolvedRegistry, env: Environment): RouteObject[] {
  const services = resolved.spec.services ?? {};
  const out: RouteObject[] = [];
  for (const name of Object.keys(services).sort()) {
    const svc = services[name];
    const route = routeOf(svc);
    if (!route || !isDeployed(svc.status)) continue;
    const portName = routePortName(svc, route);
    const a = resolved.allocations.find(x => x.of === 'service' && x.service === name && x.environment === env.name && x.portName === portName);
    if (!a) continue;
    const metadata = { name, namespace: env.namespace, labels: { [NAME_LABEL]: name, ...commonLabels(resolved.spec.name, env) } };
    const hostnames = routeHostnames(route, env.name);
    const path = route.path ?? '/';
    if (route.kind === 'Ingress') {
      const http = { paths: [{ path, pathType: 'Prefix', backend: { service: { name, port: { number: a.port } } } }] };
      const rules = hostnames.length ? hostnames.map(host => ({ host, http })) : [{ http }];
      out.push({ kind: 'Ingress', name, props: { metadata, spec: { ...(route.ingressClassName ? { ingressClassName: route.ingressClassName } : {}), rules } } });
      continue;
    }
    const gateway = routeGateway(resolved.spec, route, env.name);
    if (!gateway) continue;
    const parentRef: ParentReference = {
      name: gateway.name,
      ...(gateway.namespace !== undefined ? { namespace: gateway.namespace } : {}),
      ...(gateway.sectionName !== undefined ? { sectionName: gateway.sectionName } : {}),
    };
    const backendRefs = [{ name, port: a.port }];
    out.push({
      kind: route.kind, name, props: {
        metadata,
        spec: {
          parentRefs: [parentRef],
          ...(hostnames.length ? { hostnames } : {}),
          rules: [route.kind === 'HTTPRoute' ? { matches: [{ path: { type: 'PathPrefix', value: path } }], backendRefs } : { backendRefs }],
        },
      },
    });
  }
  return out;
}
