import { z } from 'zod';
import { schemaFix, valueAtPath } from '../model/schema-fix';
import * as jsyaml from 'js-yaml';
import type { Document, LineCounter } from 'yaml';
import { yamlLib } from './yaml-lib';
import { keyLocator } from './key-positions';
import { realpathSync } from 'fs';
import * as path from 'path';
import { RegistryBase, baseProblem, extendSpec } from '../model/extend';
import { Finding, Where, finding } from '../model/finding';
import { RegistrySpec, RegistrySpecSchema } from '../model/schema';
import { closest } from '../model/suggest';
import { ReadError, readRegularFile } from '../io/read';
import { FastResult, compileSchema } from './fast-schema';

/**
 * The registry as a file (`ports.yaml` or `ports.json`): the same zod model as the
 * constructs, plus `$schema` for editors and an optional `name` (the construct id wins).
 * Both formats are read with the YAML parser, which keeps source positions and rejects
 * duplicate keys, so every finding can point at `file:line:column`.
 */
export const RegistryFileSchema = RegistrySpecSchema.extend({
  $schema: z.string().optional(),
  name: z.string().min(1).optional(),
  /** Path of a base registry file to extend, relative to this file. */
  extends: z.string().optional(),
});
export type RegistryFile = z.infer<typeof RegistryFileSchema>;

/** The file schema compiled for files that match it (lib/file/fast-schema.ts); zod itself for the others, and for its messages. */
let fastFileSchema: ((value: unknown) => FastResult<RegistryFile>) | undefined;
function parseFile(data: unknown): { success: true; data: RegistryFile } | { success: false; error: z.ZodError } {
  const fast = (fastFileSchema ??= compileSchema(RegistryFileSchema))(data);
  if (fast?.ok) return { success: true, data: fast.value };
  const parsed = RegistryFileSchema.safeParse(data);
  return parsed.success ? { success: true, data: parsed.data } : { success: false, error: parsed.error };
}

/** The JSON Schema of the file, generated from the zod model (committed as schema/ports.schema.json). */
export function registryJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(RegistryFileSchema, { io: 'input' }) as Record<string, unknown>;
  return { ...schema, $id: 'https://cdk8s-ports.dev/schema/ports.schema.json', title: 'cdk8s-ports registry' };
}

/** Whether a parser gave up because the text nests deeper than the stack (a JavaScript RangeError, however it is reported). */
const tooDeep = (e: unknown) => e instanceof RangeError || /Maximum call stack size exceeded/.test(String((e as { message?: unknown } | null)?.message ?? e));

/** Limits that keep a hostile file from exhausting the process. */
export const MAX_FILE_BYTES = 5 * 1024 * 1024;
const MAX_ALIASES = 100;

export interface LoadedRegistry {
  /** The registry when the file parsed and matched the model; findings may still follow from the rules. */
  readonly spec?: RegistrySpec & { readonly extends?: string };
  readonly findings: Finding[];
  /** The registry's name as the file gives it (`name:`), also when the file does not match the model. */
  readonly name?: string;
  /** True when the text could not be read as YAML/JSON at all (empty, binary, too large, malformed). */
  readonly unreadable?: boolean;
  /** Maps a key path (`services.api.ports.http.port`) to `file:line:column`, when the file has it. */
  readonly locate: Locate;
}

type JsonSchema = { properties?: Record<string, JsonSchema>; additionalProperties?: JsonSchema | boolean; items?: JsonSchema;
  prefixItems?: JsonSchema[]; anyOf?: JsonSchema[]; type?: string | string[] };

/** The keys an object accepts at `path`, read from the JSON Schema (for "did you mean"). */
function keysAt(schema: JsonSchema, path: readonly PropertyKey[]): string[] {
  let nodes: JsonSchema[] = [schema];
  for (const key of path) {
    const next: JsonSchema[] = [];
    for (const n of nodes.flatMap(x => x.anyOf ?? [x])) {
      if (typeof key === 'number') {
        if (n.prefixItems?.[key]) next.push(n.prefixItems[key]);
        else if (n.items) next.push(n.items);
      } else if (n.properties?.[String(key)]) {
        next.push(n.properties[String(key)]);
      } else if (typeof n.additionalProperties === 'object') {
        next.push(n.additionalProperties);
      }
    }
    nodes = next;
  }
  return [...new Set(nodes.flatMap(x => x.anyOf ?? [x]).flatMap(n => Object.keys(n.properties ?? {})))];
}

function describeExpected(schema: JsonSchema, path: readonly PropertyKey[]): string {
  let nodes: JsonSchema[] = [schema];
  for (const key of path) {
    nodes = nodes.flatMap(x => x.anyOf ?? [x]).flatMap(n => {
      if (typeof key === 'number') return n.prefixItems?.[key] ? [n.prefixItems[key]] : n.items ? [n.items] : [];
      return n.properties?.[String(key)] ? [n.properties[String(key)]] : typeof n.additionalProperties === 'object' ? [n.additionalProperties] : [];
    });
  }
  const kinds = nodes.flatMap(x => x.anyOf ?? [x]).map(n => {
    if (n.type === 'object' && n.properties) return `an object (${Object.keys(n.properties).join(', ')})`;
    if (n.type === 'object') return 'a map';
    if (n.type === 'array' && n.prefixItems) return `[${n.prefixItems.map(p => p.type).join(', ')}]`;
    return String(n.type ?? (n as { const?: unknown }).const ?? 'a value');
  });
  return [...new Set(kinds)].join(' or ');
}

/** A registry's text and, once asked for, its position-keeping parse: `file:line:col` of an offset. */
class RegistryText {
  private lines: LineCounter | undefined;
  private parsed: Document | undefined;

  constructor(readonly text: string, readonly file: string) {}

  /** The document with positions (parsed on first use). */
  doc(): Document {
    return (this.parsed ??= yamlLib().parseDocument(this.text, { lineCounter: this.lines = new (yamlLib().LineCounter)(), uniqueKeys: false, prettyErrors: false }));
  }

  position(offset: number | undefined): string {
    if (offset === undefined || !this.lines) return this.file;
    const { line, col } = this.lines.linePos(offset);
    return `${this.file}:${line}:${col}`;
  }

  /** A finding for a file that cannot be read as a registry. */
  fail(message: string, where: Where, fix: string): LoadedRegistry {
    return { findings: [finding('schema', message, { ...where, file: where.file ?? this.file }, fix)], locate: () => undefined, unreadable: true };
  }

  tooDeep(): LoadedRegistry {
    return this.fail(`${this.file} is nested too deeply to be read (a registry is a few levels deep)`, {}, 'check that this is the right file');
  }
}

/** A file too large, binary or empty, before anything is parsed. */
function textProblem(t: RegistryText): LoadedRegistry | undefined {
  if (Buffer.byteLength(t.text, 'utf8') > MAX_FILE_BYTES) {
    return t.fail(`${t.file} is larger than ${MAX_FILE_BYTES / 1024 / 1024} MB; a port registry never is`, {}, 'check that this is the right file');
  }
  if (t.text.includes('\u0000')) return t.fail(`${t.file} is a binary file, not YAML or JSON`, {}, 'check that this is the right file');
  if (!/\S/.test(t.text)) return t.fail(`${t.file} is empty`, {}, 'start from examples/aura/ports.yaml or the README');
  return undefined;
}

/**
 * What the position-keeping parser finds wrong in a file the fast parser did not read: syntax
 * errors, nesting too deep, duplicate keys, `__proto__` keys.
 */
function documentProblem(t: RegistryText, name: string | undefined): LoadedRegistry | undefined {
  let doc: Document;
  try {
    doc = t.doc();
  } catch (e) {
    if (tooDeep(e)) return t.tooDeep();
    return t.fail(`${t.file} cannot be parsed: ${(e as Error).message}`, {}, 'fix the YAML');
  }
  if (doc.errors.some(tooDeep)) return t.tooDeep();
  if (doc.errors.length) {
    return {
      findings: doc.errors.map(e => finding('schema', `invalid YAML/JSON: ${e.message.split('\n')[0]}`, { file: t.position(e.pos[0]) }, 'fix the syntax at that position')),
      locate: () => undefined,
      unreadable: true,
    };
  }
  // Duplicate keys, found in one pass (a Set per mapping: the parser's own check compares every key with every earlier one).
  const duplicates: string[] = [];
  const protoKeys: string[] = [];
  yamlLib().visit(doc, {
    Map(_key, map) {
      const seen = new Set<string>();
      for (const pair of map.items) {
        const key = yamlLib().isScalar(pair.key) ? String(pair.key.value) : undefined;
        if (key === undefined) continue;
        if (key === '__proto__') protoKeys.push(t.position((pair.key as { range?: [number] }).range?.[0]));
        if (seen.has(key)) duplicates.push(`${t.position((pair.key as { range?: [number] }).range?.[0])}\u0000${key}`);
        seen.add(key);
      }
    },
  });
  if (duplicates.length) {
    return {
      findings: duplicates.map(d => {
        const [at, key] = d.split('\u0000');
        return finding('schema', `duplicate key: Map keys must be unique; "${key}" is repeated`, { file: at }, 'keep one of the two entries');
      }),
      locate: () => undefined,
      unreadable: false,
    };
  }
  // JavaScript reads a `__proto__` key as the object's prototype: the entry would vanish without a
  // word (the only environment gone, a check clean). Refuse it where it stands.
  if (protoKeys.length) {
    return {
      findings: protoKeys.map(at => finding('schema', 'the key "__proto__" is not allowed: JavaScript would read it as an object\'s prototype and the entry would silently vanish',
        { ...(name ? { registry: name } : {}), file: at }, 'rename the key')),
      locate: () => undefined,
    };
  }
  return undefined;
}

/**
 * `a.b[2].c`, read against the document itself, in one walk from the top: at a map, the key that
 * the rest of the path starts with (the longest, so a key that holds dots, such as a label key
 * `app.kubernetes.io/name`, is found whole), at a list the bracketed index. The deepest node of the
 * path that exists in the file: a scalar where its value stands, a map or list where its key
 * stands (the line a reader looks for). Linear in the length of the path for every key it holds.
 */
function walkTo(t: RegistryText, path: string): string | undefined {
  const lib = yamlLib();
  let node: unknown = t.doc().contents;
  let keyNode: { range?: [number, number, number] } | undefined;
  let rest = path;
  let found: string | undefined;
  while (rest.length) {
    let next: unknown;
    let nextKey: { range?: [number, number, number] } | undefined;
    let consumed = 0;
    if (lib.isMap(node)) {
      for (const pair of node.items) {
        const key = lib.isScalar(pair.key) ? String(pair.key.value) : undefined;
        if (key === undefined || !rest.startsWith(key)) continue;
        const after = rest.charAt(key.length);
        if (after !== '' && after !== '.' && after !== '[') continue;
        if (key.length + (after === '.' ? 1 : 0) > consumed) {
          consumed = key.length + (after === '.' ? 1 : 0);
          next = pair.value;
          nextKey = pair.key as { range?: [number, number, number] };
        }
      }
    } else if (lib.isSeq(node)) {
      const m = /^\[(\d+)\]\.?/.exec(rest);
      if (m) {
        next = node.items[Number(m[1])];
        consumed = next === undefined ? 0 : m[0].length;
        nextKey = undefined;
      }
    }
    if (!consumed) break;
    rest = rest.slice(consumed);
    node = next;
    keyNode = nextKey;
    if (lib.isNode(node) && node.range) {
      found = lib.isCollection(node) && keyNode?.range ? t.position(keyNode.range[0]) : t.position(node.range[0]);
    } else if (keyNode?.range) {
      found = t.position(keyNode.range[0]);
    }
  }
  return found;
}

/**
 * The positions of a file: of a key path's value (a scalar) or key (a map or list), and of a key
 * itself. A file read on the fast path is located by one pass over the text (./key-positions.ts),
 * built on the first finding that needs a position (a clean file is never scanned), or, for the
 * paths of one report asked for together (`prime`), a pass that reads only the entries on the way
 * to them; where the pass does not follow the text, the position-keeping parse answers.
 */
function positionsOf(t: RegistryText, fastRead: boolean): { locate: Locate; keyPosition(path: readonly PropertyKey[]): string | undefined } {
  let quick: ReturnType<typeof keyLocator> | undefined;
  let targeted: ReturnType<typeof keyLocator> | undefined;
  const locate: Locate = (path: string | undefined): string | undefined => {
    if (!path) return undefined;
    // As walkTo does, a scalar where its value stands, a map or a list where its key stands.
    if (fastRead) {
      const pass = targeted?.covers(path) ? targeted : (quick ??= keyLocator(t.text));
      const hit = pass.value(path) ?? pass.key(path);
      if (hit) return `${t.file}:${hit.line}:${hit.col}`;
    }
    return walkTo(t, path);
  };
  locate.prime = (paths: Iterable<string>) => {
    if (fastRead && quick === undefined) targeted = keyLocator(t.text, paths);
  };
  /** Where the key itself (not its value) of `path` stands. */
  const keyPosition = (path: readonly PropertyKey[]): string | undefined => {
    if (fastRead) {
      const hit = (quick ??= keyLocator(t.text)).key(path.map((k, i) => (typeof k === 'number' ? `[${k}]` : `${i ? '.' : ''}${String(k)}`)).join(''));
      if (hit) return `${t.file}:${hit.line}:${hit.col}`;
    }
    const doc = t.doc();
    const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
    const pair = yamlLib().isMap(parent) ? parent.items.find(p => yamlLib().isNode(p.key) && String((p.key as { value?: unknown }).value) === String(path[path.length - 1])) : undefined;
    return pair && yamlLib().isNode(pair.key) && pair.key.range ? t.position(pair.key.range[0]) : undefined;
  };
  return { locate, keyPosition };
}

/** The schema's findings on a file's data: unknown keys (with the likely one meant), wrong types, each where it stands. */
function schemaFindings(error: z.ZodError, data: unknown, givenName: string | undefined, file: string,
  positions: ReturnType<typeof positionsOf>): Finding[] {
  const schema = registryJsonSchema() as JsonSchema;
  // A key reported as missing next to an unknown key that is its misspelling says the same thing twice.
  const explained = new Set(error.issues.flatMap(issue => issue.code !== 'unrecognized_keys' ? [] : issue.keys.flatMap(key => {
    const guess = closest(key, keysAt(schema, issue.path));
    return guess ? [[...issue.path, guess].map(String).join('.')] : [];
  })));
  const issues = error.issues.filter(issue => !(issue.code === 'invalid_type' && explained.has(issue.path.map(String).join('.'))));
  return issues.flatMap(issue => {
    const keyPath = issue.path.map(String).join('.');
    const base: Where = { ...(givenName ? { registry: givenName } : {}), path: keyPath };
    const [section, entry] = issue.path.map(String);
    if ((section === 'services' || section === 'externals') && entry) Object.assign(base, { service: entry });
    if (section === 'environments' && entry) Object.assign(base, { environment: entry });
    if (issue.code === 'unrecognized_keys') {
      const allowed = keysAt(schema, issue.path);
      return issue.keys.map(key => {
        const guess = closest(key, allowed);
        const at = [...issue.path, key].map(String).join('.');
        return finding('schema', `unknown key "${key}" at ${keyPath || 'the top level'}${guess ? `; did you mean "${guess}"?` : ''}`,
          { ...base, path: at, file: positions.keyPosition([...issue.path, key]) ?? file }, guess ? `rename it to "${guess}"` : `allowed keys: ${allowed.join(', ')}`);
      });
    }
    const expected = describeExpected(schema, issue.path);
    const got = valueAtPath(data, issue.path);
    const message = issue.code === 'invalid_type' || issue.code === 'invalid_union'
      ? `${keyPath || 'the registry'} is ${describeValue(got)}; expected ${expected}` : `${keyPath}: ${issue.message}`;
    return [finding('schema', message, { ...base, file: positions.locate(keyPath) ?? file }, schemaFix(issue, keyPath, got, expected || undefined))];
  });
}

/** Reads registry text. `name` overrides the file's name; `fallbackName` is used when it has none. Pure: the caller reads the file. */
export function parseRegistryText(text: string, file: string, name?: string, fallbackName?: string): LoadedRegistry {
  const t = new RegistryText(text, file);
  const problem = textProblem(t);
  if (problem) return problem;
  // The position-keeping parser is only needed for positions and for what the fast parser does not
  // do the same way (aliases, tags, merge keys, binary numbers, __proto__): most files load with
  // js-yaml in linear time, and the document is parsed again only when a finding needs a position.
  const fast = fastLoad(text);
  if (fast === undefined) {
    const wrong = documentProblem(t, name);
    if (wrong) return wrong;
  }
  const positions = positionsOf(t, fast !== undefined);
  let data: unknown = fast;
  if (fast === undefined) {
    try {
      data = t.doc().toJS({ maxAliasCount: MAX_ALIASES });
    } catch (e) {
      if (tooDeep(e)) return t.tooDeep();
      return t.fail(`${file} cannot be read: ${(e as Error).message}`, {}, 'expand or remove the YAML aliases');
    }
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    return { ...t.fail(`${file} must hold a mapping (name, environments, services …) at the top`, {}, 'see the README for the format'), unreadable: false };
  }
  const parsed = parseFile(data);
  if (!parsed.success) {
    const own = (data as { name?: unknown }).name;
    const givenName = name ?? (typeof own === 'string' && own.length > 0 ? own : undefined);
    return { findings: schemaFindings(parsed.error, data, givenName, file, positions), locate: positions.locate, ...(givenName ? { name: givenName } : {}) };
  }
  const { $schema: _schema, name: fileName, ...rest } = parsed.data;
  const registryName = name ?? fileName ?? fallbackName;
  if (!registryName) return { ...t.fail(`${file} has no name`, {}, 'add name: <registry> at the top'), unreadable: false };
  return { spec: { ...rest, name: registryName }, findings: [], locate: positions.locate };
}

/** A registry file's locator: `file:line:column` of a key path; `prime` says which paths a report will ask for. */
export interface Locate {
  (path: string | undefined): string | undefined;
  prime?: (paths: Iterable<string>) => void;
}

/** Adds `file:line:column` to findings that carry a key path and no file yet. */
export function locateFindings(findings: readonly Finding[], locate: Locate): Finding[] {
  const asked = findings.filter(f => !f.where.file && f.where.path).map(f => f.where.path!);
  if (asked.length) locate.prime?.(asked);
  return findings.map(f => {
    const file = f.where.file ? undefined : locate(f.where.path);
    return file ? { ...f, where: { ...f.where, file } } : f;
  });
}

/** How deep `extends` chains may go (a base of a base of …). */
export const MAX_EXTENDS_DEPTH = 16;

/**
 * A base registry file for `extends`: its spec, or findings saying why it cannot serve
 * (unreadable, not a registry, declaring services, which a base must not, or its own chain of
 * `extends` looping or too deep). A base's own `extends` is followed (relative to the base file),
 * each level on top of the one it extends; the merged base carries the name of the chain's root,
 * which groups every registry that shares its hosts.
 *
 * Only files named `.yaml`, `.yml` or `.json` are read, and a base that is not a registry is
 * reported by position alone: a message never shows a base file's keys or values, so a wrong path
 * (an `/etc/shadow`, a file of access keys) cannot end up in a CI log.
 */
export function loadBaseFile(file: string, display = file, chain: readonly string[] = []): { readonly base?: RegistryBase; readonly findings: Finding[] } {
  const fail = (message: string, fix: string, at = display) => ({ findings: [finding('schema', message, { file: at }, fix)] });
  if (!/\.(ya?ml|json)$/i.test(file)) {
    return fail(`base registry ${display} is not a .yaml, .yml or .json file, so it is not read`, 'name a registry base file (ports.yaml, org.yaml …) in extends');
  }
  let real = file;
  try {
    real = realpathSync(file);
  } catch {
    // A path that does not resolve is reported by the read below.
  }
  if (chain.includes(real)) {
    return fail(`extends loops: ${[...chain, real].map(f => relativeDisplay(f, display)).join(' extends ')}`, 'remove the extends that leads back to a file of the chain');
  }
  if (chain.length >= MAX_EXTENDS_DEPTH) {
    return fail(`base registry ${display} is ${chain.length} levels of extends deep; at most ${MAX_EXTENDS_DEPTH} are followed`, 'extend the shared base directly');
  }
  let text: string;
  try {
    text = readRegularFile(file);
  } catch (e) {
    const reason = e instanceof ReadError ? e.reason : (e as Error).message;
    return fail(`base registry ${display} ${reason}`, 'check the path given to extends');
  }
  const loaded = parseRegistryText(text, display, undefined, path.basename(file).replace(/\.(ya?ml|json)$/i, ''));
  if (!loaded.spec) {
    // By position only: what the file holds is never repeated.
    const at = loaded.findings.map(f => f.where.file).find(f => f !== undefined && f !== display);
    return fail(`base registry ${display} is not a registry base (${loaded.findings.length} problem${loaded.findings.length === 1 ? '' : 's'}${at ? `, the first at ${at}` : ''}); its content is not shown here`,
      `check the path given to extends; if it is the right file, run cdk8s-ports check -r ${display} to see the problems`, at ?? display);
  }
  const { extends: parentPath, ...own } = loaded.spec;
  const problem = baseProblem(own);
  if (problem) {
    return fail(problem, 'declare them as externals in the base, or as services of a team registry');
  }
  if (parentPath === undefined) return { base: own, findings: [] };
  const parentFile = path.resolve(path.dirname(file), parentPath);
  const parent = loadBaseFile(parentFile, relativeDisplay(parentFile, display), [...chain, real]);
  if (!parent.base) return parent;
  const { base: _root, ...merged } = extendSpec(parent.base, own);
  return { base: { ...merged, name: parent.base.name }, findings: [] };
}

/** A file of an extends chain as the messages show it: absolute when the first was, else relative to the working folder. */
function relativeDisplay(target: string, display: string): string {
  return path.isAbsolute(display) ? target : path.relative(process.cwd(), target) || target;
}

/**
 * A value as a schema message shows it: YAML's own spelling for what JSON cannot say (`.inf`,
 * `.nan`), what a tag made of it (a set, binary data, a timestamp), and long values cut short.
 */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'missing';
  if (typeof value === 'number' && !Number.isFinite(value)) {
    return `${Number.isNaN(value) ? '.nan' : value > 0 ? '.inf' : '-.inf'} (not a number a port can be)`;
  }
  if (value instanceof Set) return `a set (!!set) of ${[...value].slice(0, 5).map(v => JSON.stringify(v)).join(', ')}${value.size > 5 ? ' …' : ''}, not a map`;
  if (value instanceof Map) return 'a map with keys that are not strings';
  if (value instanceof Date) return `a timestamp (${Number.isNaN(value.getTime()) ? 'invalid' : value.toISOString()})`;
  if (value instanceof Uint8Array) return `binary data (!!binary, ${value.length} bytes)`;
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}

/**
 * The fast path: js-yaml's YAML 1.2 core schema reads what the position-keeping parser reads,
 * except for what this leaves to it (tags, merge keys, binary numbers, `__proto__`, several
 * documents, duplicate keys, any syntax error). Undefined means "use the slow path", which reports
 * with positions. Anchors and aliases are read here too, as long as expanding them stays within the
 * size of the text (an alias bomb goes to the slow path, which refuses it).
 */
export function fastLoad(text: string): unknown {
  if (/!|<<|__proto__|\b0b[01]|^---|^\.\.\./m.test(text)) return undefined;
  let data: unknown;
  try {
    data = jsyaml.load(text, { schema: jsyaml.CORE_SCHEMA, json: false });
  } catch {
    return undefined;
  }
  if (/[&*]/.test(text) && !expandsWithin(data, text.length + 10_000)) return undefined;
  return data;
}

/** Whether walking `data` as a tree (shared objects counted every time they are reached) visits at most `budget` values. */
function expandsWithin(data: unknown, budget: number): boolean {
  const stack: unknown[] = [data];
  let visited = 0;
  while (stack.length) {
    const value = stack.pop();
    if (++visited > budget) return false;
    if (value !== null && typeof value === 'object') {
      for (const child of Array.isArray(value) ? value : Object.values(value)) stack.push(child);
    }
  }
  return true;
}
