import { Finding, finding } from '../model/finding';
import { appProtocolProblem } from '../model/app-protocol';
import type { Walk } from './rule';

/** A port's appProtocol is a value Kubernetes understands (see lib/model/app-protocol.ts). */
export const appProtocol: Walk = {
  id: 'app-protocol',
  run({ spec, index }) {
    const out: Finding[] = [];
    const seen = new Map<string, ReturnType<typeof appProtocolProblem>>();
    for (const [list, names, kind] of [[index.services, index.serviceNames, 'services'], [index.externals, index.externalNames, 'externals']] as const) {
      list.forEach((entry, i) => {
        for (const portName in entry.ports) {
          const value = (entry.ports[portName] as { appProtocol?: string }).appProtocol;
          if (!value) continue;
          if (!seen.has(value)) seen.set(value, appProtocolProblem(value));
          const problem = seen.get(value);
          if (!problem) continue;
          const hint = value === 'websocket' ? 'use kubernetes.io/ws (or ws)' : value.startsWith('http2') || value === 'h2' ? 'use kubernetes.io/h2c for HTTP/2 without TLS' : undefined;
          out.push(finding(problem.level === 'unknown' ? 'app-protocol-unknown' : 'app-protocol', `appProtocol "${value}" of ${names[i]}.${portName} ${problem.why}`,
            { registry: spec.name, service: names[i], portName, path: `${kind}.${names[i]}.ports.${portName}.appProtocol` },
            hint ?? 'use an IANA service name (http, https, postgresql …), kubernetes.io/ws, kubernetes.io/wss or kubernetes.io/h2c, or prefix your own with a domain (example.com/name)'));
        }
      });
    }
    return out;
  },
};
