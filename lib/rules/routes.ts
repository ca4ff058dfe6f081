import { Finding, finding } from '../model/finding';
import { presentIn } from '../model/normalize';
import { HOSTNAME, routeGateway, routeOf, routePortName } from '../model/route';
import type { Walk } from './rule';

/**
 * `route-invalid`: the route a public service asks for (`public.route`) can be written: it sends to
 * one public TCP port of the service, an HTTPRoute or GRPCRoute has a Gateway in every environment
 * the service runs in, its host names are host names, its path a path, and it has only the fields
 * of its kind.
 */
export const routes: Walk = {
  id: 'routes',
  run({ spec, index, environments }) {
    const out: Finding[] = [];
    const registry = spec.name;
    for (let s = 0; s < index.services.length; s++) {
      const name = index.serviceNames[s];
      const svc = index.services[s];
      const route = routeOf(svc);
      if (!route) continue;
      const path = `services.${name}.public.route`;
      const bad = (message: string, fix: string, at = path, environment?: string) =>
        out.push(finding('route-invalid', `${name}'s ${route.kind}: ${message}`, { registry, service: name, path: at, ...(environment ? { environment } : {}) }, fix));
      const ports = svc.ports ?? {};
      const tcp = Object.keys(ports).filter(p => ports[p].public !== false && (ports[p].protocol ?? 'TCP') === 'TCP');
      const portName = routePortName(svc, route);
      if (portName === undefined) {
        bad(tcp.length ? `it does not say which port it sends to, and ${name} has several public TCP ports (${tcp.join(', ')})` : `${name} has no public TCP port to send to`,
          tcp.length ? `name the port: route: { port: '${tcp[0]}' }` : 'give the service a TCP port that is public (an Ingress and a Gateway route carry HTTP or gRPC, over TCP)');
      } else if (!Object.prototype.hasOwnProperty.call(ports, portName)) {
        bad(`it sends to port ${portName}, which ${name} does not have (its ports: ${Object.keys(ports).join(', ') || 'none'})`, `name one of ${name}'s ports in route.port`, `${path}.port`);
      } else if (ports[portName].public === false) {
        bad(`it sends to port ${portName}, which is kept inside (public: false), so the NetworkPolicies do not admit the route's traffic`, `make ${portName} public, or route to a public port`, `${path}.port`);
      } else if ((ports[portName].protocol ?? 'TCP') !== 'TCP') {
        bad(`it sends to port ${portName}, which is ${ports[portName].protocol}: Ingresses and Gateway routes carry HTTP and gRPC over TCP`, 'route to a TCP port', `${path}.port`);
      }
      if (route.path !== undefined && route.kind === 'GRPCRoute') bad('a GRPCRoute matches gRPC services and methods, not paths', 'remove path, or use an HTTPRoute', `${path}.path`);
      else if (route.path !== undefined && !/^\/[^\s?#]*$/.test(route.path)) bad(`path ${JSON.stringify(route.path)} is not an absolute path`, "write the path from '/' (no spaces, '?' or '#')", `${path}.path`);
      if (route.ingressClassName !== undefined && route.kind !== 'Ingress') bad('ingressClassName belongs to an Ingress; a Gateway route attaches to its Gateway', 'remove ingressClassName, and name the Gateway', `${path}.ingressClassName`);
      if (route.gateway !== undefined && route.kind === 'Ingress') bad('an Ingress does not attach to a Gateway; its controller is chosen by ingressClassName', 'remove gateway, or use kind: HTTPRoute', `${path}.gateway`);
      const hostnames = route.hostnames === undefined ? [] : Array.isArray(route.hostnames) ? [['', route.hostnames] as const] : Object.entries(route.hostnames);
      for (const [env, list] of hostnames) {
        if (env && !environments.some(e => e.name === env)) bad(`hostnames names environment ${env}, which the registry does not declare`, `name one of ${environments.map(e => e.name).join(', ')}`, `${path}.hostnames.${env}`);
        for (const h of list) {
          if (!HOSTNAME.test(h) || h.length > 253) {
            bad(`${JSON.stringify(h)} is not a host name (lower-case letters, digits, '-' and '.', optionally '*.' first; no port, no scheme)`,
              `write it as ${JSON.stringify(h.toLowerCase().replace(/^[a-z]+:\/\//, '').replace(/[:/].*$/, '') || 'app.example.com')}`, `${path}.hostnames`);
          }
        }
      }
      if (route.kind === 'Ingress') continue;
      for (const env of presentIn(svc, environments)) {
        if (!routeGateway(spec, route, env.name)) {
          bad(`no Gateway to attach to in ${env.name} (the Gateway is the platform's, and the registry must name it)`,
            `name it: route: { gateway: { name: '<gateway>', namespace: '<its namespace>' } }, or environments.${env.name}.gateway`, path, env.name);
        }
      }
    }
    return out;
  },
};
