/**
 * The variables a client gets for its connections (`<TARGET>_HOST`, `_PORT`, `_URL` or its own
 * `env`, DATABASE_URL / REDIS_URL) must never silently overwrite one another or a port's `.env`
 * variable. The rule skips most clients without looking at them name by name (simple names, known
 * targets, no variables of their own); this test checks it against the naive reading of the rule,
 * which looks at every client, over registries crowded with names that differ only in punctuation.
 */
import fc from 'fast-check';
import type { RegistrySpec } from '../lib';
import { envVarStem, indexSpec } from '../lib/model/normalize';
import { ALIASES, schemeOf } from '../lib/model/url-scheme';
import { connectionVariableClashes } from '../lib/rules/variables';
import type { RuleContext } from '../lib/rules/rule';

type Entry = { kind?: string; ports: Record<string, { offset?: number; env?: string; appProtocol?: string }>; connectsTo?: Conn[] };
type Conn = { to: string; port?: string; env?: string };

/** What the rule says of each client, as message lists. */
function actual(spec: RegistrySpec): Map<string, string[]> {
  const ctx = { spec, index: indexSpec(spec) } as unknown as RuleContext;
  const out = new Map<string, string[]>();
  for (const f of connectionVariableClashes.run(ctx)) {
    const list = out.get(f.where.service!) ?? [];
    list.push(f.message);
    out.set(f.where.service!, list);
  }
  return out;
}

/**
 * The naive reading: every client's variable names, per connection; a name two connections to
 * different targets share; a name that is another target's port variable in `.env` (the port
 * declared last writes it, externals after services); an alias one target gets while another
 * connection's own URL variable is that alias. When two connections clash, the client's other
 * findings are not compared (the rule reports the first clash of a connection and goes on).
 */
function expected(spec: RegistrySpec): { clashing: Set<string>; others: Map<string, string[]> } {
  const services = Object.entries((spec.services ?? {}) as Record<string, Entry>);
  const externals = Object.entries((spec.externals ?? {}) as Record<string, Entry>);
  const portVariable = new Map<string, string>();
  for (const [name, e] of [...services, ...externals]) {
    for (const p of Object.keys(e.ports)) portVariable.set(e.ports[p].env ?? `${envVarStem(name, p)}_PORT`, `${name}.${p}`);
  }
  const entry = (to: string) => (spec.services as Record<string, Entry> | undefined)?.[to] ?? (spec.externals as Record<string, Entry> | undefined)?.[to];
  const aliasOf = (c: Conn) => {
    const e = entry(c.to);
    if (!e) return undefined;
    const port = c.port ?? Object.keys(e.ports)[0];
    return ALIASES[schemeOf(e.kind, e.ports[port]?.appProtocol) ?? ''];
  };
  const what = (c: Conn) => (c.port ? `${c.to}.${c.port}` : c.to);
  const clashing = new Set<string>();
  const others = new Map<string, string[]>();
  for (const [client, svc] of services) {
    const cs = svc.connectsTo ?? [];
    if (!cs.length) continue;
    const repeated = new Set(cs.filter((c, i) => cs.findIndex(d => d.to === c.to) !== i).map(c => c.to));
    const names = cs.map(c => {
      const stem = repeated.has(c.to) && c.port ? envVarStem(c.to, c.port) : envVarStem(c.to);
      return [`${stem}_HOST`, `${stem}_PORT`, c.env ?? `${stem}_URL`];
    });
    if (cs.some((c, i) => cs.some((d, j) => j < i && what(c) !== what(d) && names[i].some(n => names[j].includes(n))))) {
      clashing.add(client);
      continue;
    }
    const owner = new Map<string, number>();
    names.forEach((list, i) => list.forEach(n => owner.set(n, i)));
    const messages: string[] = [];
    for (const [name, i] of owner) {
      const port = portVariable.get(name);
      if (port !== undefined && port.split('.')[0] !== cs[i].to) {
        messages.push(`${name} is the .env variable of ${port}, and ${client} also gets ${name} for its connection to ${what(cs[i])}, with another value`);
      }
    }
    for (const alias of new Set(cs.map(aliasOf))) {
      if (alias === undefined) continue;
      const targets = cs.filter(c => aliasOf(c) === alias);
      const o = owner.get(alias);
      if (targets.length === 1 && o !== undefined && what(cs[o]) !== what(targets[0])) {
        messages.push(`${client} connects to ${what(cs[o])}, whose URL variable is ${alias}, and to ${what(targets[0])}, for which ${alias} is written as the usual alias`);
      }
    }
    if (messages.length) others.set(client, messages.sort());
  }
  return { clashing, others };
}

const CLASH = /^\S+ connects to \S+ and to \S+, and both give it the variable /;

function agree(spec: RegistrySpec) {
  const found = actual(spec);
  const want = expected(spec);
  expect(new Set([...found].filter(([, ms]) => ms.some(m => CLASH.test(m))).map(([c]) => c))).toEqual(want.clashing);
  const rest = new Map([...found].filter(([c]) => !want.clashing.has(c)).map(([c, ms]) => [c, [...ms].sort()]));
  expect(rest).toEqual(want.others);
}

// Names that differ only in punctuation or case, prefixes of one another, and the alias names.
const NAMES = ['a', 'b', 'c', 'a-b', 'a_b', 'b-c', 'a-b-c', 'a-x-y', 'A-b', 'database', 'redis'];
const PORTS = ['b', 'c', 'b-c', 'http', 'x_y'];
const entryArb = fc.record({
  kind: fc.constantFrom(undefined, undefined, 'postgres', 'redis', 'http'),
  ports: fc.uniqueArray(fc.record({
    name: fc.constantFrom(...PORTS),
    env: fc.constantFrom(undefined, undefined, undefined, undefined, 'A_B_PORT', 'B_C_PORT', 'A_HOST', 'DATABASE_URL'),
    appProtocol: fc.constantFrom(undefined, undefined, undefined, 'redis', 'postgresql'),
  }), { minLength: 1, maxLength: 3, selector: p => p.name }),
  connectsTo: fc.array(fc.record({
    to: fc.constantFrom(...NAMES, 'zz'),
    port: fc.option(fc.nat(2), { nil: undefined }),
    env: fc.constantFrom(undefined, undefined, undefined, undefined, 'A_B_PORT', 'DATABASE_URL', 'REDIS_URL', 'B_URL', 'A_B_C_PORT'),
  }), { maxLength: 4 }),
});
// Ports named otherwise than in lowercase words and dashes, without variables of their own: the
// rule's shortcut for simple names must not be taken for them.
const ODD: Record<string, string> = { b: 'b_c', c: 'x_y', 'b-c': 'B', http: 'Http', x_y: 'y_z' };
// Every name but a few made unlike the name rules want (capitals, underscores), so that a registry may hold no simple name.
const ODD_NAME: Record<string, string> = { a: 'A', b: 'b_', c: 'C', 'a-b': 'a_b', 'b-c': 'B-c', 'a-b-c': 'a_b-c', 'a-x-y': 'A-x_y' };
const registryArb = fc.record({
  entries: fc.uniqueArray(fc.tuple(fc.constantFrom(...NAMES), entryArb), { minLength: 1, maxLength: 7, selector: e => e[0] }),
  externals: fc.nat(3),
  mode: fc.constantFrom('mixed', 'simple', 'odd-ports', 'odd-names'),
}).map(({ entries, externals, mode }) => {
  const simple = (n: string) => /^[a-z0-9]+(?:-[a-z0-9]+)*$/.test(n);
  const kept = mode === 'mixed' ? entries
    : mode === 'odd-names' ? entries.map(([n, e]) => [ODD_NAME[n] ?? n, e] as typeof entries[number])
      : entries.filter(([n]) => simple(n));
  const ext = Math.min(externals, Math.max(0, kept.length - 1));
  const portsOf = new Map(kept.map(([n, e]) => {
    const ps = mode === 'mixed' || mode === 'odd-names' ? e.ports
      : mode === 'simple' ? e.ports.filter(p => simple(p.name)).map(p => ({ ...p, env: undefined }))
        : e.ports.map(p => ({ ...p, name: ODD[p.name], env: undefined }));
    return [n, ps.length ? ps : [{ name: mode === 'odd-ports' ? 'x_y' : 'http', env: undefined, appProtocol: undefined }]];
  }));
  const build = ([name, e]: [string, typeof kept[number][1]], external: boolean): [string, Entry] => {
    const entry: Entry = { ...(e.kind ? { kind: e.kind } : {}), ports: {} };
    portsOf.get(name)!.forEach((p, i) => { entry.ports[p.name] = { offset: i, ...(p.env ? { env: p.env } : {}), ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}) }; });
    if (!external) {
      entry.connectsTo = e.connectsTo.map(c => {
        const to = mode === 'odd-names' ? ODD_NAME[c.to] ?? c.to : c.to;
        const targetPorts = portsOf.get(to);
        const port = c.port === undefined || !targetPorts?.length ? undefined : targetPorts[c.port % targetPorts.length].name;
        return { to, ...(port ? { port } : {}), ...(c.env ? { env: c.env } : {}) };
      });
    }
    return [name, entry];
  };
  const services = kept.slice(0, kept.length - ext).map(e => build(e, false));
  const exts = kept.slice(kept.length - ext).map(e => build(e, true));
  return { name: 'r', services: Object.fromEntries(services), ...(exts.length ? { externals: Object.fromEntries(exts) } : {}) } as unknown as RegistrySpec;
});

test('every client whose connection variables clash is told, whatever path the rule takes through it', () => {
  fc.assert(fc.property(registryArb, agree), {
    numRuns: Math.max(1000, Number(process.env.FC_RUNS ?? 1000)),
    seed: process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined,
  });
});

describe('which port a shared .env variable belongs to (the one declared last writes it, externals after services)', () => {
  const ports = (...names: string[]) => Object.fromEntries(names.map((n, i) => [n, { offset: i }]));
  const clientOf = (target: string) => ({ ports: ports('http'), connectsTo: [{ to: target }] });
  test('a.b-c declared after a-b.c', () => {
    const spec = { name: 'r', services: { 'a-b': { ports: ports('c') }, a: { ports: ports('b-c') }, 'a-b-c': { ports: ports('http') }, client: clientOf('a-b-c') } } as unknown as RegistrySpec;
    expect(actual(spec).get('client')).toEqual(['A_B_C_PORT is the .env variable of a.b-c, and client also gets A_B_C_PORT for its connection to a-b-c, with another value']);
    agree(spec);
  });
  test('a-b.c declared after a.b-c', () => {
    const spec = { name: 'r', services: { a: { ports: ports('b-c') }, 'a-b': { ports: ports('c') }, 'a-b-c': { ports: ports('http') }, client: clientOf('a-b-c') } } as unknown as RegistrySpec;
    expect(actual(spec).get('client')).toEqual(['A_B_C_PORT is the .env variable of a-b.c, and client also gets A_B_C_PORT for its connection to a-b-c, with another value']);
    agree(spec);
  });
  test('an external port comes after every service port, wherever the external is in its list', () => {
    const spec = {
      name: 'r',
      services: { x: { ports: ports('http') }, 'a-b': { ports: ports('c') }, 'a-b-c': { ports: ports('http') }, client: clientOf('a-b-c') },
      externals: { e1: { ports: ports('http') }, e2: { ports: ports('http') }, e3: { ports: ports('http') }, e4: { ports: ports('http') }, a: { ports: ports('b-c') } },
    } as unknown as RegistrySpec;
    expect(actual(spec).get('client')).toEqual(['A_B_C_PORT is the .env variable of a.b-c, and client also gets A_B_C_PORT for its connection to a-b-c, with another value']);
    agree(spec);
  });
  test("an external's port variable is one a client of a service can get", () => {
    const spec = { name: 'r', services: { 'a-b': { ports: ports('http') }, client: clientOf('a-b') }, externals: { a: { ports: ports('b') } } } as unknown as RegistrySpec;
    expect(actual(spec).get('client')).toEqual(['A_B_PORT is the .env variable of a.b, and client also gets A_B_PORT for its connection to a-b, with another value']);
  });
});

test('an external named unlike the name rules want is no simple name either: a client of it and of a-b is told they share A_B_HOST', () => {
  const spec = {
    name: 'r',
    services: { 'a-b': { ports: { http: { offset: 1 } } }, client: { ports: { http: { offset: 2 } }, connectsTo: [{ to: 'a-b' }, { to: 'a_b' }] } },
    externals: { a_b: { ports: { http: { offset: 3 } } } },
  } as unknown as RegistrySpec;
  expect(actual(spec).get('client')).toEqual(['client connects to a-b and to a_b, and both give it the variable A_B_HOST']);
});

test('a service named database is DATABASE_URL to its clients, also in a registry whose names are not all simple', () => {
  for (const other of [{}, { legacy_api: { ports: { http: { offset: 4 } } } }]) {
    const spec = {
      name: 'r',
      services: { database: { kind: 'http', ports: { http: { offset: 1 } } }, ...other, client: { ports: { http: { offset: 2 } }, connectsTo: [{ to: 'db' }, { to: 'database' }] } },
      externals: { db: { kind: 'postgres', ports: { main: { offset: 3 } } } },
    } as unknown as RegistrySpec;
    expect(actual(spec).get('client')).toEqual(['client connects to database, whose URL variable is DATABASE_URL, and to db, for which DATABASE_URL is written as the usual alias']);
  }
});
