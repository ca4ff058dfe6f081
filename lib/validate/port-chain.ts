/**
 * The port chain, end to end, over rendered objects (the synth's: the registry's and the app's own
 * charts; `verify`'s and `connlist`'s: a folder of manifests): Gateway listener or Ingress rule ->
 * route backend -> Service port -> targetPort (number or name) -> container port of the selected
 * pods (name, protocol) -> probe port -> NetworkPolicy port (which sees the targetPort, after the
 * Service's translation). A broken link is a finding that names both ends and the fix. The links
 * kube-linter checks agree with it: `dangling-service` (chain-no-pods), `dangling-ingress`
 * (chain-route-backend), `liveness-port`/`readiness-port`/`startup-port` (chain-probe-port).
 */
import type { Finding } from '../model/finding';
import { ChainIndex, Json, Service, Workload, chainFinding, indexObjects, selects } from './port-chain-index';
import { routeFindings } from './port-chain-routes';

export type { ChainIndex, ChainObject } from './port-chain-index';
export { indexObjects } from './port-chain-index';
import type { ChainObject } from './port-chain-index';

/** Every broken link of the chain among the objects, in a stable order (by object, then link). */
export function portChain(objects: readonly ChainObject[] | ChainIndex): Finding[] {
  const ix = Array.isArray(objects) ? indexObjects(objects) : objects as ChainIndex;
  const out: Finding[] = [];
  for (const svc of ix.services) out.push(...serviceFindings(ix, svc));
  for (const w of ix.workloads) out.push(...probeFindings(w));
  out.push(...routeFindings(ix));
  out.push(...policyFindings(ix));
  return out;
}

const portText = (p: { name?: string; containerPort: number; protocol: string }) => `${p.name ? `${p.name} ` : ''}${p.containerPort}/${p.protocol}`;

/** Service -> selected pods -> the container port each Service port's targetPort reaches, and its protocol. */
function serviceFindings(ix: ChainIndex, svc: Service): Finding[] {
  if (!svc.selector) return []; // a Service without a selector has its endpoints written by hand (kube-linter warns; Endpoints are not read here)
  const pods = ix.selected(svc.namespace, svc.selector);
  const label = `Service ${svc.namespace}/${svc.name}`;
  const sel = Object.entries(svc.selector).map(([k, v]) => `${k}=${v}`).join(',');
  if (pods.length === 0) {
    // The registry's own Services may select pods another app deploys (verify's traffic-unmatched says when the folder has none).
    if (svc.generated) return [];
    return [chainFinding('chain-no-pods', svc.source, `Service/${svc.name}`, '.spec.selector',
      `${label} selects no pod: no workload in ${svc.namespace} has the labels ${sel} (kube-linter: dangling-service)`,
      'give the workload\'s pod template these labels, or correct the Service\'s selector')];
  }
  const out: Finding[] = [];
  svc.ports.forEach((sp, i) => {
    for (const w of pods) {
      const all = w.containers.flatMap(c => c.ports);
      const reached = typeof sp.targetPort === 'string' ? all.filter(p => p.name === sp.targetPort) : all.filter(p => p.containerPort === sp.targetPort);
      const end = `${w.kind} ${w.namespace}/${w.name}`;
      const at = `.spec.ports[${i}].targetPort`;
      if (reached.length === 0) {
        out.push(chainFinding('chain-target-port', svc.source, `Service/${svc.name}`, at,
          `${label} port ${sp.name ?? sp.port} sends to targetPort ${JSON.stringify(sp.targetPort)}, but ${end}, which it selects, has no container port ${typeof sp.targetPort === 'string' ? 'named so' : 'of that number'} (its ports: ${all.map(portText).join(', ') || 'none'})`,
          all.length ? `set targetPort to one of ${end}'s container ports (by number or name), or declare containerPort ${JSON.stringify(sp.targetPort)} in its container` : `declare the port the container listens on (containerPort) in ${end}`,
          typeof sp.targetPort === 'number' ? sp.targetPort : undefined,
          // A number reaches a process that listens without declaring its port; a name that no container declares reaches nothing.
          typeof sp.targetPort === 'number' && all.length === 0 ? 'warning' : undefined));
      } else if (!reached.some(p => p.protocol === sp.protocol)) {
        out.push(chainFinding('chain-protocol', svc.source, `Service/${svc.name}`, `.spec.ports[${i}].protocol`,
          `${label} port ${sp.name ?? sp.port} is ${sp.protocol}, but the container port it reaches in ${end} is ${reached.map(portText).join(', ')}`,
          `give both the same protocol (the Service port and containerPort ${reached[0].containerPort})`, sp.port));
      }
    }
  });
  return out;
}

/** Probe -> the container's own ports (kube-linter's liveness-port, readiness-port and startup-port). */
function probeFindings(w: Workload): Finding[] {
  const out: Finding[] = [];
  w.containers.forEach((c, ci) => {
    for (const probe of c.probes) {
      // A probe connects over TCP: only TCP ports count, by name or number (as kube-linter's check reads them).
      const ok = c.ports.some(p => p.protocol === 'TCP' && (typeof probe.port === 'string' ? p.name === probe.port : p.containerPort === probe.port));
      if (ok) continue;
      out.push(chainFinding('chain-probe-port', w.source, `${w.kind}/${w.name}`, `${w.templatePath}.spec.containers[${ci}].${probe.kind}`,
        `${w.kind} ${w.namespace}/${w.name}, container ${c.name}: the ${probe.kind} probes port ${JSON.stringify(probe.port)}, which the container does not open (its ports: ${c.ports.map(portText).join(', ') || 'none'}; kube-linter: ${probe.kind.replace('Probe', '')}-port)`,
        c.ports.length ? `probe one of the container's ports, or declare containerPort ${JSON.stringify(probe.port)}` : 'declare the port the probe checks in the container (containerPort)',
        typeof probe.port === 'number' ? probe.port : undefined,
        // The kubelet probes an undeclared number all the same (a warning, as kube-linter's); a name it cannot resolve fails the probe.
        typeof probe.port === 'number' ? 'warning' : undefined));
    }
  });
  return out;
}

/**
 * NetworkPolicy port -> the container ports of the pods it opens: the policy sees the port after
 * the Service's translation, so a policy on a Service's port (not its targetPort) opens nothing.
 */
function policyFindings(ix: ChainIndex): Finding[] {
  const out: Finding[] = [];
  for (const pol of ix.policies) {
    for (const rule of pol.rules) {
      const pods = rule.pods;
      if (!pods.length || pods.some(w => w.containers.every(c => !c.ports.length))) continue; // nothing to compare with
      const all = pods.flatMap(w => w.containers.flatMap(c => c.ports));
      rule.ports.forEach((pp, i) => {
        if (pp.endPort !== undefined) return;
        const at = `${rule.path}.ports[${i}]`;
        const same = typeof pp.port === 'string' ? all.filter(p => p.name === pp.port) : all.filter(p => p.containerPort === pp.port);
        const podsText = pods.map(w => `${w.kind} ${w.namespace}/${w.name}`).join(', ');
        if (same.some(p => p.protocol === pp.protocol)) return;
        if (same.length) {
          out.push(chainFinding('chain-protocol', pol.source, `NetworkPolicy/${pol.name}`, `${at}.protocol`,
            `NetworkPolicy ${pol.namespace}/${pol.name} opens ${JSON.stringify(pp.port)}/${pp.protocol}, but ${podsText} listen on ${same.map(portText).join(', ')}`,
            `write protocol: ${same[0].protocol}`, typeof pp.port === 'number' ? pp.port : undefined));
          return;
        }
        // A Service in front of these pods whose port is this number and whose targetPort is another.
        const front = ix.servicesIn(pods[0].namespace).filter(s => s.selector && pods.some(w => selects(s.selector!, w.labels)))
          .flatMap(s => s.ports.filter(sp => sp.port === pp.port && sp.targetPort !== pp.port).map(sp => ({ s, sp })));
        const msg = front.length
          ? `NetworkPolicy ${pol.namespace}/${pol.name} opens port ${pp.port}/${pp.protocol}, which is Service ${front[0].s.namespace}/${front[0].s.name}'s port; the pods it reaches (${podsText}) listen on targetPort ${JSON.stringify(front[0].sp.targetPort)}, and a policy sees the port after the Service's translation, so this opens nothing`
          : `NetworkPolicy ${pol.namespace}/${pol.name} opens port ${JSON.stringify(pp.port)}/${pp.protocol}, which none of the pods it selects (${podsText}) listens on (their ports: ${all.map(portText).join(', ')})`;
        out.push(chainFinding('chain-policy-port', pol.source, `NetworkPolicy/${pol.name}`, `${at}.port`, msg,
          front.length ? `open the targetPort: port: ${JSON.stringify(front[0].sp.targetPort)}` : 'open a port the pods declare (a containerPort, by number or name)', typeof pp.port === 'number' ? pp.port : undefined));
      });
    }
  }
  return out;
}

export type { Json };
