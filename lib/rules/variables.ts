import { Finding, finding } from '../model/finding';
import { SpecIndex, envVarStem, ownEntry } from '../model/normalize';
import { ALIASES, schemeOf } from '../model/url-scheme';
import type { RegistrySpec, ServiceSpec } from '../model/schema';
import type { Walk } from './rule';

/**
 * Variable names a registry chooses itself (`env` on a port or a connection) clash with no other
 * variable of the same `.env` file or client: another chosen name, or a generated one
 * (`<SERVICE>_<PORT>_PORT`, `_ALT`, `<TARGET>_URL`, DATABASE_URL, REDIS_URL).
 * Clashes between generated names are the names rule's.
 */
export const chosenVariables: Walk = {
  id: 'chosen-variables',
  run({ spec, index }) {
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
    // Every name the registry generates (built when a name was chosen at all).
    let generated: Map<string, string> | undefined;
    const out: Finding[] = [];
    const seen = new Map<string, string>();
    for (const c of chosen) {
      // One client's URL variable may repeat another client's: each client has its own settings.
      const clash = seen.get(c.name) ?? (generated ??= generatedNames(index)).get(c.name);
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
export const connectionVariableClashes: Walk = {
  id: 'connection-variables',
  run({ spec, index }) {
    const out: Finding[] = [];
    const names = variableNames(spec, index);
    for (let s = 0; s < index.services.length; s++) clientClashes(spec.name, index.serviceNames[s], index.services[s].connectsTo ?? [], names, out);
    return out;
  },
};

type Connections = NonNullable<ServiceSpec['connectsTo']>;

/** What the clash checks ask of the registry's names, each answer built on first need and kept. */
interface VariableNames {
  /** A target's variable stem (`A_B` for a-b). */
  stemOf(to: string): string;
  /** `<STEM>_HOST`, `_PORT`, `_URL`. */
  namesOf(stem: string): readonly [string, string, string];
  /** The alias a connection's URL also gets (DATABASE_URL …), or null. */
  aliasOf(to: string, port?: string): string | null;
  /** Whether a client of `to` may get a variable that is also another's: if so, its variables are looked at name by name. */
  risky(to: string): boolean;
  /** The port whose .env variable `name` is (`svc.port`), if any. */
  portVariableOwner(name: string): string | undefined;
}

/** How the registry's names are shaped: what decides whether a client's variables can clash at all. */
interface NameShape {
  readonly known: ReadonlySet<string>;
  /** Where `name.port` comes in the order .env lines are written (services, then externals), or -1. */
  readonly declaredRank: (name: string, port: string) => number;
  /** Every name is lowercase words and dashes and no port sets its own `env`. */
  readonly allSimple: boolean;
  /** The .env variable of every port (`<SERVICE>_<PORT>_PORT`, or its own `env`), built on first need. */
  readonly portVariables: () => Map<string, string>;
}

function variableNames(spec: RegistrySpec, index: SpecIndex): VariableNames {
  // The alias a connection's URL also gets, read as the emitters read it (appProtocol, else kind).
  const aliasOf = (to: string, port?: string) => {
    const entry = spec.services?.[to] ?? spec.externals?.[to];
    const ports = entry?.ports as Record<string, { appProtocol?: string }> | undefined;
    const name = port ?? (ports ? Object.keys(ports)[0] : undefined);
    // Stryker disable next-line StringLiteral: equivalent, no alias is named by any string a scheme is not
    return ALIASES[schemeOf(entry?.kind, name !== undefined ? ports?.[name]?.appProtocol : undefined) ?? ''];
  };
  // A target's variable names are the same for every client: built once per stem, not per connection.
  const stems = new Map<string, string>();
  const stemOf = (to: string) => stems.get(to) ?? remember(stems, to, envVarStem(to));
  const names = new Map<string, readonly [string, string, string]>();
  const namesOf = (stem: string) => names.get(stem) ?? remember(names, stem, [`${stem}_HOST`, `${stem}_PORT`, `${stem}_URL`] as const);
  // (null: the target has no alias.)
  const aliasCache = new Map<string, string | null>();
  const cachedAlias = (to: string, port?: string) => {
    // Stryker disable next-line StringLiteral: equivalent, no port is named so (the empty name stands for none)
    const key = `${to}\u0000${port ?? ''}`;
    return aliasCache.get(key) ?? remember(aliasCache, key, aliasOf(to, port) ?? null);
  };
  const shape = nameShape(spec, index);
  const riskOf = riskOfTarget(shape, stemOf, namesOf);
  const riskCache = new Map<string, boolean>();
  const risky = (to: string): boolean => riskCache.get(to) ?? remember(riskCache, to, riskOf(to));
  return { stemOf, namesOf, aliasOf: cachedAlias, risky, portVariableOwner: portVariableOwnerOf(shape) };
}

function nameShape(spec: RegistrySpec, index: SpecIndex): NameShape {
  let ports: Map<string, string> | undefined;
  const portVariables = () => (ports ??= portVariablesOf(index));
  const known = new Set<string>();
  for (const list of [index.serviceNames, index.externalNames]) for (const name of list) known.add(name);
  const hasOwn = (o: object, key: string) => Object.prototype.hasOwnProperty.call(o, key);
  const declaredRank = (name: string, port: string): number => {
    const external = ownEntry(spec.externals ?? {}, name);
    if (external && hasOwn(external.ports, port)) return index.serviceNames.length + index.externalNames.indexOf(name);
    const service = ownEntry(spec.services ?? {}, name);
    return service && hasOwn(service.ports, port) ? index.serviceNames.indexOf(name) : -1;
  };
  // Names of lowercase words and dashes (what the name rules ask for) map to variable stems one to
  // one, so two of them never share a stem, and `a-b` shares A_B_PORT only with port b of a.
  const simple = (name: string) => SIMPLE_NAME.test(name);
  // Stryker disable next-line ArrowFunction,BlockStatement: equivalent, allSimple false only sends every client the long way (the same findings)
  const allSimple = [index.services, index.externals].every((list, k) => list.every((entry, i) => {
    if (!simple((k === 0 ? index.serviceNames : index.externalNames)[i])) return false;
    for (const p in entry.ports) if (!simple(p) || (entry.ports[p] as { env?: string }).env !== undefined) return false;
    // Stryker disable next-line BooleanLiteral: equivalent, allSimple false only sends every client the long way (the same findings)
    return true;
  }));
  return { known, declaredRank, allSimple, portVariables };
}

/** The port whose .env variable a name is (`svc.port`), if any. */
function portVariableOwnerOf({ allSimple, portVariables, declaredRank }: NameShape): (name: string) => string | undefined {
  return name => {
    if (!allSimple) return portVariables().get(name);
    // Without own variables and with simple names, only <SERVICE>_<PORT>_PORT exists, and it reads back.
    if (!name.endsWith('_PORT')) return undefined;
    const words = name.slice(0, -5).toLowerCase();
    // Two ports can share the name (a.b-c and a-b.c; the names rule reports that): the one declared
    // last writes the .env line, externals after services.
    let best: { rank: number; owner: string } | undefined;
    for (let k = words.indexOf('_'); k > 0; k = words.indexOf('_', k + 1)) {
      const service = words.slice(0, k).replaceAll('_', '-');
      const port = words.slice(k + 1).replaceAll('_', '-');
      const rank = declaredRank(service, port);
      if (rank >= 0 && (!best || rank > best.rank)) best = { rank, owner: `${service}.${port}` };
    }
    return best?.owner;
  };
}

/**
 * Most clients cannot clash: their targets' names differ in more than punctuation from every
 * other name, none of their variables is an alias or another port's .env variable, and they
 * set no variable of their own. Only the others are looked at name by name.
 */
function riskOfTarget({ known, declaredRank, allSimple, portVariables }: NameShape, stemOf: (to: string) => string,
  namesOf: (stem: string) => readonly [string, string, string]): (to: string) => boolean {
  // Stryker disable next-line Regex: equivalent, each alias name ends in _URL and holds it once
  const aliasStems = new Set(Object.values(ALIASES).map(a => a.replace(/_URL$/, '')));
  // Stems two or more names map to (`known` is a set: a second name with a stem is another name).
  let shared: Set<string> | undefined;
  const sharedStem = (stem: string): boolean => (shared ??= repeatedValues(known, stemOf)).has(stem);
  return to => {
    let r: boolean;
    if (!known.has(to)) {
      r = true;
    } else if (allSimple) {
      r = aliasStems.has(stemOf(to));
      // a-b's A_B_PORT is also the .env variable of port b of a (or of port b-c of a … for a-b-c).
      for (let k = to.indexOf('-'); !r && k > 0; k = to.indexOf('-', k + 1)) {
        r = declaredRank(to.slice(0, k), to.slice(k + 1)) >= 0;
      }
    } else {
      const stem = stemOf(to);
      r = sharedStem(stem) || aliasStems.has(stem) || namesOf(stem).some(n => {
        const port = portVariables().get(n);
        return port !== undefined && port.slice(0, port.indexOf('.')) !== to;
      });
    }
    return r;
  };
}

const whatOf = (c: { to: string; port?: string }) => `${c.to}${c.port ? `.${c.port}` : ''}`;

/** One client's connection variables: distinct from each other, from other ports' .env variables and from the aliases. */
function clientClashes(registry: string, client: string, connections: Connections, v: VariableNames, out: Finding[]): void {
  // Several connections to one target are told apart by port (A_HTTP_…, A_GRPC_…).
  let repeated: Set<string> | undefined;
  // Stryker disable next-line BooleanLiteral: equivalent, a client not taken as plain is looked at name by name (the same findings)
  let plain = true;
  for (let i = 0; i < connections.length; i++) {
    const c = connections[i];
    if (c.env !== undefined || v.risky(c.to)) plain = false;
    for (let j = 0; j < i; j++) if (connections[j].to === c.to) (repeated ??= new Set()).add(c.to);
  }
  // Stryker disable next-line BooleanLiteral: equivalent, a plain client's repeated targets differ by ports of theirs, whose variables only a risky target shares
  if (plain && !repeated) return;
  // Variable name -> the connection (index) that gets it.
  const owners = new Map<string, number>();
  let aliases: Map<string, number[]> | undefined;
  for (let i = 0; i < connections.length; i++) {
    const c = connections[i];
    const stem = repeated?.has(c.to) && c.port ? envVarStem(c.to, c.port) : v.stemOf(c.to);
    const alias = v.aliasOf(c.to, c.port);
    if (alias) {
      aliases ??= new Map();
      const list = aliases.get(alias);
      if (list) list.push(i);
      else aliases.set(alias, [i]);
    }
    const [host, port, url] = v.namesOf(stem);
    for (const name of [host, port, c.env ?? url]) {
      const other = owners.get(name);
      if (other !== undefined && whatOf(connections[other]) !== whatOf(c)) {
        const otherWhat = whatOf(connections[other]);
        out.push(finding('env-var-collision', `${client} connects to ${otherWhat} and to ${whatOf(c)}, and both give it the variable ${name}`,
          { registry, service: client, other: otherWhat, path: `services.${client}.connectsTo[${i}]` },
          `rename one of ${otherWhat} and ${c.to} so their names differ in more than punctuation, or set env: on the connection for its URL`));
        break;
      }
      owners.set(name, i);
    }
  }
  portAndAliasClashes(registry, client, connections, owners, aliases, v, out);
}

/** A client's variables that are also another port's .env variable, or the alias written for another target. */
function portAndAliasClashes(registry: string, client: string, connections: Connections, owners: ReadonlyMap<string, number>,
  aliases: ReadonlyMap<string, number[]> | undefined, v: VariableNames, out: Finding[]): void {
  // The same name in the .env files, for another port (a.b's A_B_PORT vs the A_B_PORT clients of a-b get).
  for (const [name, i] of owners) {
    const port = v.portVariableOwner(name);
    const target = connections[i].to;
    if (port !== undefined && target !== port.slice(0, port.indexOf('.'))) {
      const what = whatOf(connections[i]);
      out.push(finding('env-var-collision', `${name} is the .env variable of ${port}, and ${client} also gets ${name} for its connection to ${what}, with another value`,
        { registry, service: client, other: port, path: `services.${client}.connectsTo` },
        `rename one of ${port.split('.')[0]} and ${target}, or give ${port} its own variable (env: on the port)`));
    }
  }
  // DATABASE_URL / REDIS_URL are written when exactly one target of that kind exists: they must not also be a target's own name.
  for (const [alias, targets] of aliases ?? []) {
    const owner = owners.get(alias);
    const other = owner === undefined ? undefined : whatOf(connections[owner]);
    const only = whatOf(connections[targets[0]]);
    if (targets.length === 1 && other !== undefined && other !== only) {
      out.push(finding('env-var-collision', `${client} connects to ${other}, whose URL variable is ${alias}, and to ${only}, for which ${alias} is written as the usual alias`,
        { registry, service: client, other, path: `services.${client}.connectsTo` },
        `set env: on the connection to ${other} (e.g. ${envVarStem(other)}_SERVICE_URL), or rename it`));
    }
  }
}

const SIMPLE_NAME = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** Every variable name the registry generates, with what generates it (a port's own `env` replaces its two). */
function generatedNames(index: SpecIndex): Map<string, string> {
  const generated = new Map<string, string>();
  for (const [list, names] of [[index.services, index.serviceNames], [index.externals, index.externalNames]] as const) {
    list.forEach((entry, i) => {
      const name = names[i];
      for (const p in entry.ports) {
        if (!(entry.ports[p] as { env?: string }).env) {
          generated.set(`${envVarStem(name, p)}_PORT`, `${name}.${p}`);
          generated.set(`${envVarStem(name, p)}_PORT_ALT`, `the fallback of ${name}.${p}`);
        }
        generated.set(`${envVarStem(name)}_URL`, `the URL of ${name}`);
      }
    });
  }
  generated.set('DATABASE_URL', 'the database alias');
  generated.set('REDIS_URL', 'the Redis alias');
  return generated;
}

/** The values `of` gives two or more of the items. */
function repeatedValues<T>(items: Iterable<T>, of: (item: T) => string): Set<string> {
  const once = new Set<string>();
  const again = new Set<string>();
  for (const item of items) {
    const value = of(item);
    (once.has(value) ? again : once).add(value);
  }
  return again;
}

/** Keeps `value` under `key` and returns it (a memo's second half: `map.get(key) ?? remember(map, key, …)`). */
function remember<K, V>(map: Map<K, V>, key: K, value: V): V {
  map.set(key, value);
  return value;
}

/** The .env variable of every port (`<SERVICE>_<PORT>_PORT`, or its own `env`) -> `service.port`; the port declared last keeps it. */
function portVariablesOf(index: SpecIndex): Map<string, string> {
  const ports = new Map<string, string>();
  for (const [list, names] of [[index.services, index.serviceNames], [index.externals, index.externalNames]] as const) {
    list.forEach((entry, i) => {
      for (const p in entry.ports) ports.set((entry.ports[p] as { env?: string }).env ?? `${envVarStem(names[i], p)}_PORT`, `${names[i]}.${p}`);
    });
  }
  return ports;
}
