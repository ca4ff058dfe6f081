import { Finding, finding } from '../model/finding';
import { envVarStem } from '../model/normalize';
import { ALIASES, schemeOf } from '../model/url-scheme';
import type { Rule } from './rule';

/**
 * Variable names a registry chooses itself (`env` on a port or a connection) clash with no other
 * variable of the same `.env` file or client: another chosen name, or a generated one
 * (`<SERVICE>_<PORT>_PORT`, `_ALT`, `<TARGET>_URL`, DATABASE_URL, REDIS_URL).
 * Clashes between generated names are the names rule's.
 */
export const chosenVariables: Rule = {
  id: 'chosen-variables', reports: ['env-var-collision'],
  check({ spec, index }) {
    const chosen: Array<{ name: string; owner: string; path: string; service: string; portName?: string }> = [];
    for (let s = 0; s < index.services.length; s++) {
      const service = index.serviceNames[s];
      const svc = index.services[s];
      for (const portName in svc.ports) {
        const env = svc.ports[portName].env;
        if (env) chosen.push({ name: env, owner: `${service}.${portName}`, path: `services.${service}.ports.${portName}.env`, service, portName });
      }
      (svc.connectsTo ?? []).forEach((c, i) => {
        if (c.env) chosen.push({ name: c.env, owner: `the connection from ${service} to ${c.to}`, path: `services.${service}.connectsTo[${i}].env`, service });
      });
    }
    if (!chosen.length) return [];
    // Every name the registry generates, with what generates it (the chosen ones replace theirs).
    const generated = new Map<string, string>();
    const portEnv = (svc: { ports: Record<string, { env?: string }> }, p: string) => svc.ports[p].env;
    for (const [list, names] of [[index.services, index.serviceNames], [index.externals, index.externalNames]] as const) {
      list.forEach((entry, i) => {
        const name = names[i];
        for (const p in entry.ports) {
          if (!portEnv(entry as never, p)) {
            generated.set(`${envVarStem(name, p)}_PORT`, `${name}.${p}`);
            generated.set(`${envVarStem(name, p)}_PORT_ALT`, `the fallback of ${name}.${p}`);
          }
          generated.set(`${envVarStem(name)}_URL`, `the URL of ${name}`);
        }
      });
    }
    generated.set('DATABASE_URL', 'the database alias');
    generated.set('REDIS_URL', 'the Redis alias');
    const out: Finding[] = [];
    const seen = new Map<string, string>();
    for (const c of chosen) {
      // One client's URL variable may repeat another client's: each client has its own settings.
      const clash = seen.get(c.name) ?? generated.get(c.name);
      if (clash && clash !== c.owner && !(c.path.includes('connectsTo') && clash.startsWith('the connection from'))) {
        out.push(finding('env-var-collision', `the variable ${c.name} chosen for ${c.owner} is also the variable of ${clash}`,
          { registry: spec.name, service: c.service, ...(c.portName ? { portName: c.portName } : {}), other: clash, path: c.path },
          `choose another name for ${c.owner} (env: ${c.name}_2, say), or rename what it clashes with`));
      }
      if (!seen.has(c.name)) seen.set(c.name, c.owner);
    }
    return out;
  },
};


/**
 * The connection variables of one client (`<TARGET>_HOST`, `_PORT`, `_URL`, DATABASE_URL, REDIS_URL)
 * are distinct: a client of `a` (port `b`) and of `a-b` would get two A_B_PORT, and a client of a
 * service named `database` and of a PostgreSQL two DATABASE_URL; one silently overwrites the other.
 */
export const connectionVariableClashes: Rule = {
  id: 'connection-variables', reports: ['env-var-collision'],
  check({ spec, index }) {
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
