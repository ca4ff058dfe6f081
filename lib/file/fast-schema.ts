/**
 * The zod schema of a registry, compiled into plain closures for the happy path: a registry file
 * that matches the schema (almost every file, every time it is checked) is validated and copied in
 * one pass, without zod's per-value bookkeeping (a payload and an issue list for each of the
 * hundreds of thousands of values of a large registry).
 *
 * The compiled parser is read from the zod schema itself, so it follows every change of
 * lib/model/schema.ts: each node does what zod's own parser of that node does (strings with their
 * `min` and `regex` checks, numbers with `int`, booleans, enums, literals, optionals, unions (the
 * first option that matches), arrays, tuples, string-keyed records, objects, strict or not) and
 * gives the same output (objects and records copied, object keys in the schema's order, as zod
 * gives them). A node it does not know (a transform, a refinement, a default, any other check)
 * is handed to zod for that value. Where it cannot be sure (an object that is not a plain one, a
 * symbol or `__proto__` key) it gives up, and the caller runs zod. It never says why a value
 * fails: a registry that does not match is parsed by zod again, for zod's messages.
 * test/fast-schema.test.ts holds it to zod on values of every shape.
 */
import type { z } from 'zod';

/** A definite "zod would reject this". */
const FAIL: unique symbol = Symbol('fail');
/** Thrown where the compiled parser cannot be sure it does what zod does: zod decides. */
class Unsure extends Error {}

type Parse = (value: unknown) => unknown;

/** The parts of zod's internal definition of a node that the compiler reads. */
interface Def {
  readonly type: string;
  readonly checks?: ReadonlyArray<{ readonly _zod: { readonly def: { readonly check: string; readonly format?: string; readonly minimum?: number; readonly pattern?: RegExp } } }>;
  readonly innerType?: Node;
  readonly options?: readonly Node[];
  readonly element?: Node;
  readonly items?: readonly Node[];
  readonly rest?: Node | null;
  readonly keyType?: Node;
  readonly valueType?: Node;
  readonly shape?: Readonly<Record<string, Node>>;
  readonly catchall?: Node;
  readonly coerce?: boolean;
  readonly mode?: string;
}
interface Node {
  readonly _zod: { readonly def: Def; readonly optin?: string; readonly optout?: string; readonly values?: ReadonlySet<unknown> };
  safeParse(value: unknown): { success: boolean; data?: unknown };
}

const isPlainProto = (value: object) => {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
};

/** zod's own parser for a node the compiler does not know: exact, only slower. */
function byZod(node: Node): Parse {
  return value => {
    const r = node.safeParse(value);
    return r.success ? r.data : FAIL;
  };
}

/** The checks of a node, as one predicate on a value of the right type; undefined when one of them is not known here. */
function checksOf(def: Def): ((value: never) => boolean) | undefined {
  const tests: Array<(value: never) => boolean> = [];
  for (const check of def.checks ?? []) {
    const c = check._zod.def;
    if (c.check === 'min_length' && def.type === 'string' && typeof c.minimum === 'number') {
      const min = c.minimum;
      tests.push((s: string) => s.length >= min);
    } else if (c.check === 'string_format' && c.format === 'regex' && def.type === 'string' && c.pattern instanceof RegExp) {
      const pattern = c.pattern;
      tests.push((s: string) => {
        pattern.lastIndex = 0;
        return pattern.test(s);
      });
    } else if (c.check === 'number_format' && c.format === 'safeint' && def.type === 'number') {
      tests.push((n: number) => Number.isSafeInteger(n));
    } else {
      return undefined;
    }
  }
  if (tests.length === 0) return () => true;
  if (tests.length === 1) return tests[0];
  return (value: never) => tests.every(t => t(value));
}

function compileNode(node: Node, cache: Map<Node, Parse>): Parse {
  const known = cache.get(node);
  if (known) return known;
  // A placeholder first: a node met again inside itself (z.lazy) reads the finished parser.
  let done: Parse | undefined;
  cache.set(node, value => done!(value));
  done = build(node, cache);
  cache.set(node, done);
  return done;
}

function build(node: Node, cache: Map<Node, Parse>): Parse {
  const def = node._zod.def;
  if (def.coerce) return byZod(node);
  const checks = checksOf(def);
  if (!checks) return byZod(node);
  const noChecks = !def.checks?.length;
  switch (def.type) {
    case 'string':
      return noChecks ? v => (typeof v === 'string' ? v : FAIL) : v => (typeof v === 'string' && checks(v as never) ? v : FAIL);
    case 'number':
      return noChecks ? v => (typeof v === 'number' && Number.isFinite(v) ? v : FAIL)
        : v => (typeof v === 'number' && Number.isFinite(v) && checks(v as never) ? v : FAIL);
    case 'boolean':
      return noChecks ? v => (typeof v === 'boolean' ? v : FAIL) : byZod(node);
    case 'enum':
    case 'literal': {
      const values = node._zod.values;
      if (!values || !noChecks) return byZod(node);
      return v => (values.has(v) ? v : FAIL);
    }
    case 'optional': {
      const inner = def.innerType!;
      if (!noChecks || inner._zod.optin === 'defaulted') return byZod(node);
      const parse = compileNode(inner, cache);
      return v => (v === undefined ? undefined : parse(v));
    }
    case 'union': {
      if (!noChecks) return byZod(node);
      const options = def.options!.map(o => compileNode(o, cache));
      if (options.length === 1) return options[0];
      return v => {
        for (const option of options) {
          const r = option(v);
          if (r !== FAIL) return r;
        }
        return FAIL;
      };
    }
    case 'array': {
      if (!noChecks) return byZod(node);
      const element = compileNode(def.element!, cache);
      return v => {
        if (!Array.isArray(v)) return FAIL;
        const out = new Array(v.length);
        for (let i = 0; i < v.length; i++) {
          const r = element(v[i]);
          if (r === FAIL) return FAIL;
          out[i] = r;
        }
        return out;
      };
    }
    case 'tuple': {
      const items = def.items!;
      if (!noChecks || def.rest || items.some(i => i._zod.optin !== undefined || i._zod.optout !== undefined)) return byZod(node);
      const parsers = items.map(i => compileNode(i, cache));
      return v => {
        if (!Array.isArray(v) || v.length !== parsers.length) return FAIL;
        const out: unknown[] = [];
        for (let i = 0; i < parsers.length; i++) {
          const r = parsers[i](v[i]);
          if (r === FAIL) return FAIL;
          out.push(r);
        }
        return out;
      };
    }
    case 'record': {
      const keyDef = def.keyType!._zod.def;
      if (!noChecks || keyDef.type !== 'string' || keyDef.checks?.length || keyDef.coerce || (def.mode !== undefined && def.mode !== 'strict')) return byZod(node);
      const value = compileNode(def.valueType!, cache);
      return v => {
        if (typeof v !== 'object' || v === null || Array.isArray(v)) return FAIL;
        if (!isPlainProto(v) || Object.getOwnPropertySymbols(v).length) throw new Unsure();
        const input = v as Record<string, unknown>;
        const out: Record<string, unknown> = {};
        for (const key in input) {
          if (key === '__proto__') throw new Unsure();
          const r = value(input[key]);
          if (r === FAIL) return FAIL;
          out[key] = r;
        }
        return out;
      };
    }
    case 'object':
      return noChecks ? objectParser(node, cache) : byZod(node);
    default:
      return byZod(node);
  }
}

/** An object: its keys in the schema's order (as zod writes them), unknown keys an error when strict, dropped when not. */
function objectParser(node: Node, cache: Map<Node, Parse>): Parse {
  const def = node._zod.def;
  const shape = def.shape!;
  const keys = Object.keys(shape);
  const catchall = def.catchall?._zod.def.type;
  if (catchall !== undefined && catchall !== 'never') return byZod(node);
  const strict = catchall === 'never';
  const optional: boolean[] = [];
  for (const key of keys) {
    const { optin, optout } = shape[key]._zod;
    if (key === '__proto__' || Object.getOwnPropertySymbols(shape).length) return byZod(node);
    if (optin === 'optional' && optout === 'optional') optional.push(true);
    else if (optin === undefined) optional.push(false);
    else return byZod(node);
  }
  const known = new Set(keys);
  const parsers = keys.map(k => compileNode(shape[k], cache));
  return v => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return FAIL;
    if (!isPlainProto(v)) throw new Unsure();
    const input = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      if (!(key in input)) {
        if (optional[i]) continue;
        return FAIL;
      }
      const r = parsers[i](input[key]);
      if (r === FAIL) return FAIL;
      out[key] = r;
    }
    for (const key in input) {
      if (key === '__proto__') throw new Unsure();
      if (strict && !known.has(key)) return FAIL;
    }
    return out;
  };
}

/** What a compiled schema says of a value: zod's output, a definite rejection, or "ask zod". */
export type FastResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false } | undefined;

/**
 * `schema` compiled: for a value, `{ ok: true, value }` with what `schema.safeParse` would give as
 * its data, `{ ok: false }` when zod would reject it, or undefined when zod must decide.
 */
export function compileSchema<S extends z.ZodType>(schema: S): (value: unknown) => FastResult<z.output<S>> {
  const parse = compileNode(schema as unknown as Node, new Map());
  return value => {
    try {
      const r = parse(value);
      return r === FAIL ? { ok: false } : { ok: true, value: r as z.output<S> };
    } catch (e) {
      if (e instanceof Unsure) return undefined;
      throw e;
    }
  };
}
