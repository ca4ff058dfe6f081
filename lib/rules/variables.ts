import { Finding, finding } from '../model/finding';
import { envVarStem } from '../model/normalize';
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
