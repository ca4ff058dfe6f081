import { Finding, finding } from '../../lib/model/finding';
import { envVarStem } from '../../lib/model/normalize';
import { ALIASES, schemeOf } from '../../lib/model/url-scheme';
import type { Walk } from '../../lib/rules/rule';

/**
 * The connection-variable clash rule as it was before its fast path (every client, name by name):
 * kept as the oracle its property test compares the shipped rule with. Not used by the library.
 */
export const referenceConnectionVariableClashes: Walk = {
  id: 'connection-variables',
  run({ spec, index }) {
    const out: Finding[] = [];
    // The alias a connection's URL also gets, read as the emitters read it (appProtocol, else kind).
    const aliasOf = (to: string, port?: string) => {
      const entry = spec.services?.[to] ?? spec.externals?.[to];
      const ports = entry?.ports as Record<string, { appProtocol?: string }> | undefined;
      const name = port ?? (ports ? Object.keys(ports)[0] : undefined);
      return ALIASES[schemeOf(entry?.kind, name !== undefined ? ports?.[name]?.appProtocol : undefined) ?? ''];
    };
    // The .env variable of every port (`<SERVICE>_<PORT>_PORT`, or its own `env`), built on first need.
    let ports: Map<string, string> | undefined;
    const portVariables = () => {
      if (!ports) {
        ports = new Map();
        for (const [list, names] of [[index.services, index.serviceNames], [index.externals, index.externalNames]] as const) {
          list.forEach((entry, i) => {
            for (const p in entry.ports) ports!.set((entry.ports[p] as { env?: string }).env ?? `${envVarStem(names[i], p)}_PORT`, `${names[i]}.${p}`);
          });
        }
      }
      return ports;
    };
    for (let s = 0; s < index.services.length; s++) {
      const client = index.serviceNames[s];
      const connections = index.services[s].connectsTo ?? [];
      if (connections.length === 0) continue;
      const perTarget = new Map<string, number>();
      for (const c of connections) perTarget.set(c.to, (perTarget.get(c.to) ?? 0) + 1);
      const owners = new Map<string, string>();
      const aliases = new Map<string, string[]>();
      connections.forEach((c, i) => {
        const what = `${c.to}${c.port ? `.${c.port}` : ''}`;
        const stem = perTarget.get(c.to)! > 1 && c.port ? envVarStem(c.to, c.port) : envVarStem(c.to);
        const alias = aliasOf(c.to, c.port);
        if (alias) aliases.set(alias, [...(aliases.get(alias) ?? []), what]);
        for (const name of [`${stem}_HOST`, `${stem}_PORT`, c.env ?? `${stem}_URL`]) {
          const other = owners.get(name);
          if (other !== undefined && other !== what) {
            out.push(finding('env-var-collision', `${client} connects to ${other} and to ${what}, and both give it the variable ${name}`,
              { registry: spec.name, service: client, other, path: `services.${client}.connectsTo[${i}]` },
              `rename one of ${other} and ${c.to} so their names differ in more than punctuation, or set env: on the connection for its URL`));
            return;
          }
          owners.set(name, what);
        }
      });
      // The same name in the .env files, for another port (a.b's A_B_PORT vs the A_B_PORT clients of a-b get).
      for (const [name, what] of owners) {
        const port = portVariables().get(name);
        if (port !== undefined && what.split('.')[0] !== port.split('.')[0]) {
          out.push(finding('env-var-collision', `${name} is the .env variable of ${port}, and ${client} also gets ${name} for its connection to ${what}, with another value`,
            { registry: spec.name, service: client, other: port, path: `services.${client}.connectsTo` },
            `rename one of ${port.split('.')[0]} and ${what.split('.')[0]}, or give ${port} its own variable (env: on the port)`));
        }
      }
      // DATABASE_URL / REDIS_URL are written when exactly one target of that kind exists: they must not also be a target's own name.
      for (const [alias, targets] of aliases) {
        const other = owners.get(alias);
        if (targets.length === 1 && other !== undefined && other !== targets[0]) {
          out.push(finding('env-var-collision', `${client} connects to ${other}, whose URL variable is ${alias}, and to ${targets[0]}, for which ${alias} is written as the usual alias`,
            { registry: spec.name, service: client, other, path: `services.${client}.connectsTo` },
            `set env: on the connection to ${other} (e.g. ${envVarStem(other)}_SERVICE_URL), or rename it`));
        }
      }
    }
    return out;
  },
};
