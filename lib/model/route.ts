/**
 * The route a public service asks for (`public.route`): which of its ports it sends to, its host
 * names and its Gateway in one environment. The rules (lib/rules/routes.ts) and the emitter
 * (lib/emit/routes.ts) read a route through these, so that what is checked is what is written.
 */
import type { GatewayRef, RegistrySpec, RouteSpec, ServiceSpec } from './schema';

/** The route of a service, when it asks for one. */
export function routeOf(svc: ServiceSpec | undefined): RouteSpec | undefined {
  return svc && typeof svc.public === 'object' ? svc.public.route : undefined;
}

/**
 * The name of the port a route sends to: the one it names, else the service's only public TCP
 * port (undefined when there is none or more than one).
 */
export function routePortName(svc: ServiceSpec, route: RouteSpec): string | undefined {
  if (route.port !== undefined) return route.port;
  const candidates = Object.entries(svc.ports).filter(([, p]) => p.public !== false && (p.protocol ?? 'TCP') === 'TCP').map(([n]) => n);
  return candidates.length === 1 ? candidates[0] : undefined;
}

/** The host names of a route in one environment (none: every host). */
export function routeHostnames(route: RouteSpec, environment: string): string[] {
  const h = route.hostnames;
  if (h === undefined) return [];
  return Array.isArray(h) ? h : h[environment] ?? [];
}

/** The Gateway an HTTPRoute or GRPCRoute attaches to in one environment: its own, else the environment's. */
export function routeGateway(spec: RegistrySpec, route: RouteSpec, environment: string): GatewayRef | undefined {
  return route.gateway ?? spec.environments?.[environment]?.gateway;
}

/** A host name as Gateway API and Ingress take one: a lower-case DNS subdomain, optionally `*.` first. */
export const HOSTNAME = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
