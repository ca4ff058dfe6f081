/**
 * The outer links of the port chain: Gateway listener -> route (parentRefs) and Ingress rule or
 * route rule -> backend Service port (kube-linter's `dangling-ingress` for an Ingress).
 */
import type { Finding } from '../model/finding';
import { ChainIndex, Json, Other, chainFinding } from './port-chain-index';

const list = (v: unknown): Json[] => (Array.isArray(v) ? v.filter(x => typeof x === 'object' && x !== null) : []);

/** The backends of an Ingress or a Gateway route: the Service, the port (number or name) and where it is written. */
export function backendsOf(r: Other): Array<{ path: string; service: string; namespace: string; port?: number | string }> {
  const j = r.json;
  if (j.kind === 'Ingress') {
    const out: Array<{ path: string; service: string; namespace: string; port?: number | string }> = [];
    const add = (path: string, b: Json | undefined) => {
      if (typeof b?.service?.name !== 'string') return;
      const port = b.service.port?.number ?? b.service.port?.name;
      out.push({ path, service: b.service.name, namespace: r.namespace, ...(port !== undefined ? { port } : {}) });
    };
    add('.spec.defaultBackend', j.spec?.defaultBackend);
    list(j.spec?.rules).forEach((rule, ri) => list(rule.http?.paths).forEach((p, pi) => add(`.spec.rules[${ri}].http.paths[${pi}].backend`, p.backend)));
    return out;
  }
  return list(j.spec?.rules).flatMap((rule, ri) => list(rule.backendRefs)
    .map((b, bi) => ({ b, bi }))
    .filter(({ b }) => (b.kind === undefined || b.kind === 'Service') && (b.group === undefined || b.group === '') && typeof b.name === 'string')
    .map(({ b, bi }) => ({ path: `.spec.rules[${ri}].backendRefs[${bi}]`, service: b.name as string, namespace: typeof b.namespace === 'string' ? b.namespace : r.namespace, ...(b.port !== undefined ? { port: b.port } : {}) })));
}

/** Route -> Service port, and Gateway listener -> route. */
export function routeFindings(ix: ChainIndex): Finding[] {
  const out: Finding[] = [];
  for (const r of ix.routes) {
    const label = `${r.json.kind} ${r.namespace}/${r.name}`;
    const object = `${r.json.kind}/${r.name}`;
    for (const b of backendsOf(r)) {
      const svc = ix.service(b.namespace, b.service);
      if (!svc) {
        // A Service of another namespace or of someone else's: only those of namespaces the objects have Services in are known.
        if (!ix.servicesIn(b.namespace).length) continue;
        out.push(chainFinding('chain-route-backend', r.source, object, b.path, `${label} sends to Service ${b.namespace}/${b.service}, which does not exist (kube-linter: dangling-ingress)`,
          `name a Service of ${b.namespace} (${ix.servicesIn(b.namespace).map(s => s.name).slice(0, 5).join(', ')}), or create it`));
        continue;
      }
      const ports = svc.ports.map(p => `${p.name ? `${p.name} ` : ''}${p.port}`).join(', ');
      if (b.port === undefined) {
        if (r.json.kind !== 'Ingress') {
          out.push(chainFinding('chain-route-backend', r.source, object, b.path, `${label} sends to Service ${b.namespace}/${b.service} without a port (a Service backend needs one; its ports: ${ports})`,
            `give the backendRef port: ${svc.ports[0]?.port ?? '<port>'}`));
        }
        continue;
      }
      const hit = svc.ports.filter(p => (typeof b.port === 'number' ? p.port === b.port : p.name === b.port));
      if (!hit.length) {
        out.push(chainFinding('chain-route-backend', r.source, object, `${b.path}${r.json.kind === 'Ingress' ? '.service.port' : '.port'}`,
          `${label} sends to Service ${b.namespace}/${b.service} on port ${JSON.stringify(b.port)}, which the Service does not have (its ports: ${ports}; a route names the Service's port, not the targetPort)`,
          `send to one of the Service's ports: ${svc.ports.map(p => p.port).join(', ')}`, typeof b.port === 'number' ? b.port : undefined));
      } else if (hit.every(p => p.protocol !== 'TCP')) {
        out.push(chainFinding('chain-protocol', r.source, object, b.path, `${label} carries HTTP over TCP, but Service ${b.namespace}/${b.service} port ${JSON.stringify(b.port)} is ${hit[0].protocol}`,
          'send to a TCP port of the Service', typeof b.port === 'number' ? b.port : undefined));
      }
    }
    if (r.json.kind !== 'Ingress') out.push(...listenerFindings(ix, r));
  }
  return out;
}

/** The Gateway a route attaches to, when the objects hold it: the listener it names, its protocol, and whether it admits the route's namespace. */
function listenerFindings(ix: ChainIndex, r: Other): Finding[] {
  const out: Finding[] = [];
  list(r.json.spec?.parentRefs).forEach((ref, i) => {
    if ((ref.kind !== undefined && ref.kind !== 'Gateway') || typeof ref.name !== 'string') return;
    const ns = typeof ref.namespace === 'string' ? ref.namespace : r.namespace;
    const gw = ix.gateways.find(g => g.namespace === ns && g.name === ref.name);
    if (!gw) return; // the platform's Gateway, not among the objects
    const listeners = list(gw.json.spec?.listeners);
    const named = listeners.filter(l => (ref.sectionName === undefined || l.name === ref.sectionName) && (ref.port === undefined || l.port === ref.port));
    const label = `${r.json.kind} ${r.namespace}/${r.name}`;
    const at = `.spec.parentRefs[${i}]`;
    const object = `${r.json.kind}/${r.name}`;
    const gwText = `Gateway ${ns}/${ref.name}`;
    const all = listeners.map(l => `${l.name} ${l.port}/${l.protocol}`).join(', ') || 'none';
    if (!named.length) {
      out.push(chainFinding('chain-gateway-listener', r.source, object, at, `${label} attaches to ${gwText}${ref.sectionName !== undefined ? ` listener ${ref.sectionName}` : ''}${ref.port !== undefined ? ` on port ${ref.port}` : ''}, which it does not have (its listeners: ${all})`,
        `name one of its listeners in sectionName${ref.port !== undefined ? ' (and its port)' : ''}`, typeof ref.port === 'number' ? ref.port : undefined));
      return;
    }
    const carrying = named.filter(l => l.protocol === 'HTTP' || l.protocol === 'HTTPS');
    if (!carrying.length) {
      out.push(chainFinding('chain-protocol', r.source, object, at, `${label} attaches to ${gwText}, whose listeners ${named.map(l => `${l.name} (${l.protocol})`).join(', ')} do not carry HTTP (an ${r.json.kind} needs an HTTP or HTTPS listener)`,
        'attach to an HTTP or HTTPS listener'));
      return;
    }
    const admits = carrying.some(l => {
      const from = l.allowedRoutes?.namespaces?.from ?? 'Same';
      return from === 'All' || from === 'Selector' || (from === 'Same' && ns === r.namespace);
    });
    if (!admits) {
      out.push(chainFinding('chain-gateway-listener', r.source, object, at, `${label} attaches to ${gwText}, whose listeners admit routes of their own namespace only (allowedRoutes.namespaces.from: Same, the default), and the route is in ${r.namespace}`,
        `let the listener admit routes from ${r.namespace} (allowedRoutes.namespaces.from: All or Selector), or ask the platform to`));
    }
  });
  return out;
}
