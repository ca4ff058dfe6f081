/**
 * Exposure through routes: what the outside reaches through the Ingresses and Gateway routes of
 * some objects (route -> Service port -> targetPort -> the pods), for `connlist --exposure` and the
 * traffic pictures, and the comparison with what the registries declare `public` for `verify`:
 * a route to a service or port that is not public is `route-undeclared`, a public service whose
 * `public.route` no route of the objects carries is `route-missing`.
 */
import { Finding, finding } from '../model/finding';
import { portIsPublic } from '../model/normalize';
import type { ResolvedRegistry } from '../model/resolved';
import { routeOf } from '../model/route';
import { podSelectorOf } from '../model/labels';
import type { Path } from '../netpol/cluster';
import { ChainIndex, ChainObject, indexObjects, selects } from './port-chain-index';
import { backendsOf } from './port-chain-routes';

/** One way in from outside: a route's backend, through its Service, to the pods. */
export interface RouteExposure {
  /** `Ingress shop/web`, `HTTPRoute shop/api`. */
  readonly route: string;
  readonly namespace: string;
  /** The host names it answers (none: every host). */
  readonly hosts: readonly string[];
  readonly service: string;
  /** The Service port the route names, and the port the pods receive (after the Service's translation). */
  readonly servicePort: number;
  readonly targetPort: number | string;
  readonly protocol: string;
  /** The pods reached: `namespace/name` of each workload the Service selects, or of the Service when it selects none here. */
  readonly pods: readonly string[];
  /** `Deployment`, `Service` … of each pod, in the order of `pods`. */
  readonly kinds: readonly string[];
  readonly file?: string;
}

/** Every route backend of the objects that reaches a Service port of the objects. */
export function routeExposures(objects: readonly ChainObject[] | ChainIndex): RouteExposure[] {
  const ix = Array.isArray(objects) ? indexObjects(objects) : objects as ChainIndex;
  const out: RouteExposure[] = [];
  for (const r of ix.routes) {
    const j = r.json;
    const hosts: string[] = j.kind === 'Ingress'
      ? (Array.isArray(j.spec?.rules) ? j.spec.rules.map((x: { host?: unknown }) => x?.host).filter((h: unknown): h is string => typeof h === 'string') : [])
      : (Array.isArray(j.spec?.hostnames) ? j.spec.hostnames.filter((h: unknown): h is string => typeof h === 'string') : []);
    for (const b of backendsOf(r)) {
      const svc = ix.service(b.namespace, b.service);
      const sp = svc?.ports.find(p => (typeof b.port === 'number' ? p.port === b.port : p.name === b.port));
      if (!svc || !sp) continue; // a broken link: chain-route-backend
      const pods = svc.selector ? ix.selected(svc.namespace, svc.selector) : [];
      out.push({
        route: `${j.kind} ${r.namespace}/${r.name}`, namespace: svc.namespace, hosts: [...new Set(hosts)], service: svc.name, servicePort: sp.port,
        targetPort: sp.targetPort, protocol: sp.protocol,
        pods: pods.length ? pods.map(w => `${w.namespace}/${w.name}`) : [`${svc.namespace}/${svc.name}`],
        kinds: pods.length ? pods.map(w => w.kind) : ['Service'],
        ...(r.source.file ? { file: r.source.file } : {}),
      });
    }
  }
  return out;
}

/** The exposures through routes against the registries' `public` entries. */
export function routeDeclarations(exposures: readonly RouteExposure[], registries: ReadonlyArray<Pick<ResolvedRegistry, 'spec' | 'environments' | 'allocations'>>, objects: readonly ChainObject[] | ChainIndex): Finding[] {
  const out: Finding[] = [];
  const ix = Array.isArray(objects) ? indexObjects(objects) : objects as ChainIndex;
  for (const r of registries) {
    const services = r.spec.services ?? {};
    const byKey = new Map<string, typeof r.allocations[number][]>();
    for (const a of r.allocations) {
      if (a.of !== 'service') continue;
      const key = `${a.environment}\u0000${a.service}`;
      const l = byKey.get(key);
      if (l) l.push(a);
      else byKey.set(key, [a]);
    }
    for (const env of r.environments) {
      const mine = exposures.filter(e => e.namespace === env.namespace);
      for (const name of Object.keys(services).sort()) {
        const svc = services[name];
        // (Most services have no route: only those with one, or reached by one, are looked at.)
        if (!routeOf(svc) && !mine.length) continue;
        const allocations = byKey.get(`${env.name}\u0000${name}`) ?? [];
        if (!allocations.length) continue;
        const labels = podSelectorOf(name, svc); // (the generated Service's selector)
        const service = ix.service(env.namespace, name);
        // A route reaches the service when it names the registry's Service, or a Service that selects the service's pods.
        const reaching = mine.filter(e => e.service === name || (ix.service(env.namespace, e.service)?.selector !== undefined && selects(labels, ix.service(env.namespace, e.service)!.selector!)));
        for (const e of reaching) {
          const a = allocations.find(x => (typeof e.targetPort === 'number' ? x.targetPort === e.targetPort : x.portName === e.targetPort));
          if (a && portIsPublic(svc, a.portName)) continue;
          const what = a ? `${name} port ${a.portName} (${a.targetPort})` : `${name} on port ${JSON.stringify(e.targetPort)}, which is none of its ports`;
          out.push(finding('route-undeclared', `${e.route} exposes ${what} in ${env.name} to outside, but the registry ${r.spec.name} does not declare ${a && svc.public ? 'that port' : name} public`,
            { registry: r.spec.name, service: name, environment: env.name, ...(a ? { portName: a.portName, port: a.targetPort } : {}), ...(e.file ? { file: e.file } : {}) },
            a && svc.public ? `make ${a.portName} public (remove public: false), or remove the route` : `declare ${name} public (public: { namespaces: [<the controller's namespace>], route: … }), or remove the route`));
        }
        const route = routeOf(svc);
        if (route && service && !reaching.length) {
          out.push(finding('route-missing', `${name} asks for an ${route.kind} in ${env.name} (public.route), but no Ingress or route in ${env.namespace} reaches it`,
            { registry: r.spec.name, service: name, environment: env.name }, 'apply the route the synth writes (it is beside the Service in the registry\'s file), or remove public.route'));
        }
      }
    }
  }
  return out;
}

/**
 * The routes as paths of the traffic pictures: from the route (`(Ingress shop/web)`, drawn as a
 * stand-in) to each pod it reaches, on the port the pod receives, where the NetworkPolicies let
 * traffic from outside the namespace in on that port (else the route reaches nothing, and is not drawn).
 */
export function routePaths(exposures: readonly RouteExposure[], allowed: readonly Path[]): Path[] {
  const out: Path[] = [];
  for (const e of exposures) {
    if (typeof e.targetPort !== 'number') continue;
    const port = e.targetPort;
    for (const pod of e.pods) {
      const admitted = allowed.some(p => p.to === pod && p.protocol === e.protocol && p.port <= port && port <= (p.endPort ?? p.port) && !p.from.startsWith(`${e.namespace}/`));
      if (admitted) out.push({ from: `(${e.route})`, to: pod, port, protocol: e.protocol });
    }
  }
  return out;
}
