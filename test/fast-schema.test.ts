/**
 * The compiled schema (lib/file/fast-schema.ts) against zod itself: for every value, it accepts
 * exactly what zod accepts, and gives exactly zod's output (key order included), or leaves the
 * value to zod. Values are built from the zod schema's own definition (so a field added to
 * lib/model/schema.ts is generated too), valid and broken at every depth, plus the registries of
 * every style the bench and users write, read by both YAML parsers, and every fixture.
 */
import * as fs from 'fs';
import * as path from 'path';
import fc from 'fast-check';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { compileSchema } from '../lib/file/fast-schema';
import { RegistryFileSchema, fastLoad } from '../lib/file/registry-file';
import { PortSpecSchema, RegistrySpecSchema, ServiceSpecSchema } from '../lib/model/schema';
import { RegistryStyle, realisticRegistry, registryText, registryWithFindings } from '../bench/generate';
import { ROOT } from './support/project';

const RUNS = Number(process.env.FC_RUNS ?? 300);
const SEED = process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined;

/** Deep equality that also holds key order, array holes against undefined, and -0 against 0 (Object.is). */
function sameValue(a: unknown, b: unknown, at = '$'): string | undefined {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return Object.is(a, b) ? undefined : `${at}: ${String(a)} vs ${String(b)}`;
  if (Array.isArray(a) !== Array.isArray(b)) return `${at}: array vs object`;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return `${at}: prototypes differ`;
  const ka = Reflect.ownKeys(a);
  const kb = Reflect.ownKeys(b);
  if (ka.join('\u0000') !== kb.join('\u0000')) return `${at}: keys ${ka.map(String).join(',')} vs ${kb.map(String).join(',')}`;
  for (const k of ka) {
    const d = sameValue((a as Record<PropertyKey, unknown>)[k], (b as Record<PropertyKey, unknown>)[k], `${at}.${String(k)}`);
    if (d) return d;
  }
  return undefined;
}

/** Whether the value holds what the compiled parser leaves to zod: an object that is not plain data, a symbol or `__proto__` key. */
function exotic(v: unknown, seen = new Set<unknown>()): boolean {
  if (typeof v !== 'object' || v === null || seen.has(v)) return false;
  seen.add(v);
  if (!Array.isArray(v)) {
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) return true;
    // (An object without a prototype is plain data: zod reads it as an object, and so does the compiled schema.)
    if (Object.getOwnPropertySymbols(v).length || Object.prototype.hasOwnProperty.call(v, '__proto__')) return true;
  }
  return Object.values(v).some(x => exotic(x, seen));
}

/** Asserts the compiled schema agrees with zod on `value`; returns whether it decided itself. */
function agrees(schema: z.ZodType, compiled: ReturnType<typeof compileSchema>, value: unknown): boolean {
  const expected = schema.safeParse(value);
  const got = compiled(value);
  if (got === undefined) {
    // Left to zod: only for what it cannot be sure of.
    if (!exotic(value)) throw new Error(`the compiled schema gave up on plain data: ${JSON.stringify(value)}`);
    return false;
  }
  if (got.ok !== expected.success) {
    throw new Error(`compiled ${got.ok ? 'accepts' : 'rejects'} what zod ${expected.success ? 'accepts' : 'rejects'}: ${JSON.stringify(value)}${expected.success ? '' : `\nzod: ${expected.error.message}`}`);
  }
  if (got.ok) {
    const d = sameValue(got.value, expected.data);
    if (d) throw new Error(`outputs differ at ${d} for ${JSON.stringify(value)}`);
  }
  return true;
}

type Def = {
  type: string; innerType?: z.ZodType; options?: z.ZodType[]; element?: z.ZodType; items?: z.ZodType[]; keyType?: z.ZodType; valueType?: z.ZodType;
  shape?: Record<string, z.ZodType>; in?: z.ZodType; checks?: Array<{ _zod: { def: { check: string; minimum?: number; pattern?: RegExp } } }>;
};
const defOf = (s: z.ZodType) => (s as unknown as { _zod: { def: Def; values?: Set<unknown> } })._zod;

/** Values that break a node in every way zod can tell apart. */
const junk = fc.oneof(
  fc.anything({ maxDepth: 2, withNullPrototype: true, withObjectString: true, withBoxedValues: true, withSparseArray: true }),
  fc.constantFrom(undefined, null, NaN, Infinity, -Infinity, -0, 0, 1.5, '', ' ', 'auto', true, false, [], {}, [1], [1, 2, 3], '8000-9000', '8000+', 65536),
);

/**
 * Values for a zod node, read from its definition: mostly what it accepts (strings that match its
 * patterns, its enum values, objects of its shape with optional keys present or not), at any
 * depth a broken value instead (junk, a wrong type, an unknown key).
 */
function valueOf(schema: z.ZodType, depth = 0): fc.Arbitrary<unknown> {
  const zod = defOf(schema);
  const def = zod.def;
  const broken = depth > 6 ? fc.constant(undefined) : junk;
  const good = ((): fc.Arbitrary<unknown> => {
    switch (def.type) {
      case 'string': {
        const pattern = def.checks?.map(c => c._zod.def.pattern).find(p => p instanceof RegExp);
        const words = fc.constantFrom('a', 'api', 'web-1', 'x.y', 'app.kubernetes.io/name', 'HTTP_PORT', '${PASSWORD}', '/health', 'é', '1-2', '80', 'TCP');
        return pattern ? fc.oneof({ weight: 6, arbitrary: fc.stringMatching(pattern, { size: 'xsmall' }) }, { weight: 1, arbitrary: words })
          : fc.oneof({ weight: 6, arbitrary: words }, { weight: 1, arbitrary: fc.string({ maxLength: 6 }) });
      }
      case 'number':
        return fc.oneof({ weight: 12, arbitrary: fc.integer({ min: 1, max: 65535 }) }, { weight: 1, arbitrary: fc.integer({ min: -2, max: 70000 }) },
          { weight: 1, arbitrary: fc.constantFrom(0, -0, 1.5, 2 ** 53, 1e300) }, { weight: 1, arbitrary: fc.double() });
      case 'boolean':
        return fc.boolean();
      case 'enum':
      case 'literal':
        return fc.constantFrom(...[...zod.values!]);
      case 'optional':
        // (A key present with undefined: zod keeps it.)
        return fc.option(valueOf(def.innerType!, depth + 1), { nil: undefined, freq: 8 });
      case 'union':
        return fc.oneof(...def.options!.map(o => valueOf(o, depth + 1)));
      case 'array':
        return fc.array(valueOf(def.element!, depth + 1), { maxLength: depth > 3 ? 1 : 3 });
      case 'tuple':
      {
        // Sometimes one item too many or too few.
        const tuple = fc.tuple(...def.items!.map(i => valueOf(i, depth + 1)));
        return fc.oneof({ weight: 8, arbitrary: tuple }, { weight: 1, arbitrary: tuple.map(t => [...t, t[0]]) }, { weight: 1, arbitrary: tuple.map(t => t.slice(1)) });
      }
      case 'record':
        return fc.dictionary(fc.constantFrom('a', 'b', 'api', 'web', 'production', 'staging', 'http', '0', '10', 'constructor', 'toString'),
          valueOf(def.valueType!, depth + 1), { maxKeys: depth > 3 ? 1 : 3 });
      case 'object': {
        const shape = def.shape!;
        const entries = Object.keys(shape).map(k => [k, valueOf(shape[k], depth + 1)] as const);
        // Keys in any order (zod writes them in the schema's), sometimes one it does not know.
        return fc.tuple(fc.record(Object.fromEntries(entries), { requiredKeys: Object.keys(shape).filter(k => defOf(shape[k]).def.type !== 'optional') }),
          fc.oneof({ weight: 15, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constantFrom('unknown', 'prots', 'conectsTo', 'constructor') }), fc.boolean())
          .map(([o, extra, reverse]) => {
            const keys = Object.keys(o);
            const out: Record<string, unknown> = {};
            for (const k of reverse ? keys.reverse() : keys) out[k] = o[k];
            if (extra !== null) out[extra] = 1;
            return out;
          });
      }
      case 'pipe':
        return valueOf(def.in!, depth + 1);
      default:
        return fc.anything({ maxDepth: 1 });
    }
  })();
  return fc.oneof({ weight: 150, arbitrary: good }, { weight: 1, arbitrary: broken });
}

const SCHEMAS: Array<[string, z.ZodType]> = [
  ['the registry file', RegistryFileSchema], ['the registry', RegistrySpecSchema], ['a service', ServiceSpecSchema], ['a port', PortSpecSchema],
];

describe('the compiled schema decides as zod does', () => {
  for (const [what, schema] of SCHEMAS) {
    test(`${what}: values built from its definition, valid and broken at every depth`, () => {
      const compiled = compileSchema(schema);
      let accepted = 0;
      let rejected = 0;
      fc.assert(fc.property(valueOf(schema), value => {
        if (agrees(schema, compiled, value)) {
          if (schema.safeParse(value).success) accepted++; else rejected++;
        }
      }), { numRuns: RUNS, seed: SEED });
      // Both sides were met (a generator that only made broken values would prove nothing).
      expect(accepted).toBeGreaterThan(RUNS / 20);
      expect(rejected).toBeGreaterThan(RUNS / 20);
    });
  }

  test('any value at all (junk, null prototypes, boxed values, sparse arrays) for every schema', () => {
    const compiled = SCHEMAS.map(([, s]) => compileSchema(s));
    fc.assert(fc.property(junk, value => {
      SCHEMAS.forEach(([, s], i) => agrees(s, compiled[i], value));
    }), { numRuns: RUNS, seed: SEED });
  });

  test('what the compiled schema is not sure of is left to zod', () => {
    const compiled = compileSchema(RegistryFileSchema);
    const withProto = JSON.parse('{"name":"x","services":{"__proto__":{"ports":{}}}}') as unknown;
    class Spec { name = 'x'; }
    for (const value of [withProto, new Spec(), { name: 'x', services: { a: { ports: { [Symbol('s')]: {} } } } }]) {
      expect(compiled(value)).toBeUndefined();
      expect(() => agrees(RegistryFileSchema, compiled, value)).not.toThrow();
    }
  });

  test('the registries of every style and finding count, read by either YAML parser, and every fixture', () => {
    const compiled = compileSchema(RegistryFileSchema);
    const texts: string[] = [];
    for (const style of ['block', 'flow', 'mixed'] as RegistryStyle[]) {
      for (const findings of [0, 3, 30]) texts.push(registryText(registryWithFindings(120, findings), style));
    }
    texts.push(registryText(realisticRegistry(7), 'mixed'));
    const fixtures = (dir: string): string[] => fs.readdirSync(dir, { withFileTypes: true }).flatMap(e => {
      const file = path.join(dir, e.name);
      if (e.isDirectory()) return fixtures(file);
      return /\.(ya?ml|json)$/.test(e.name) ? [file] : [];
    });
    for (const file of [...fixtures(path.join(ROOT, 'test/fixtures/bad')), ...fixtures(path.join(ROOT, 'test/fixtures/real')),
      ...fixtures(path.join(ROOT, 'test/fixtures/regressions')), path.join(ROOT, 'examples/aura/ports.yaml')]) {
      texts.push(fs.readFileSync(file, 'utf8'));
    }
    let decided = 0;
    let valid = 0;
    for (const text of texts) {
      const values: unknown[] = [fastLoad(text)];
      try {
        values.push(parseDocument(text, { uniqueKeys: false }).toJS({ maxAliasCount: 100 }));
      } catch {
        // Not YAML that the position-keeping parser reads: js-yaml's reading is compared alone.
      }
      for (const value of values) {
        if (value === undefined) continue;
        if (agrees(RegistryFileSchema, compiled, value)) decided++;
        if (RegistryFileSchema.safeParse(value).success) valid++;
      }
    }
    // The bench's registries are all valid: each of them is decided without zod.
    expect(valid).toBeGreaterThanOrEqual(10);
    expect(decided).toBeGreaterThan(valid);
  });
});
