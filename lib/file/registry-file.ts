import { z } from 'zod';
import { Document, LineCounter, isCollection, isMap, isNode, isScalar, parseDocument, visit } from 'yaml';
import { RegistryBase, baseProblem } from '../model/extend';
import { Finding, Where, finding } from '../model/finding';
import { RegistrySpec, RegistrySpecSchema } from '../model/schema';
import { closest } from '../model/suggest';
import { ReadError, readRegularFile } from '../io/read';

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

/** The JSON Schema of the file, generated from the zod model (committed as schema/ports.schema.json). */
export function registryJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(RegistryFileSchema, { io: 'input' }) as Record<string, unknown>;
  return { ...schema, $id: 'https://cdk8s-ports.dev/schema/ports.schema.json', title: 'cdk8s-ports registry' };
}

/** Limits that keep a hostile file from exhausting the process. */
export const MAX_FILE_BYTES = 5 * 1024 * 1024;
const MAX_ALIASES = 100;

export interface LoadedRegistry {
  /** The registry when the file parsed and matched the model; findings may still follow from the rules. */
  readonly spec?: RegistrySpec & { readonly extends?: string };
  readonly findings: Finding[];
  /** True when the text could not be read as YAML/JSON at all (empty, binary, too large, malformed). */
  readonly unreadable?: boolean;
  /** Maps a key path (`services.api.ports.http.port`) to `file:line:column`, when the file has it. */
  readonly locate: (path: string | undefined) => string | undefined;
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

/** Reads registry text. `name` overrides the file's name; `fallbackName` is used when it has none. Pure: the caller reads the file. */
export function parseRegistryText(text: string, file: string, name?: string, fallbackName?: string): LoadedRegistry {
  const lines = new LineCounter();
  const position = (offset: number | undefined) => {
    if (offset === undefined) return file;
    const { line, col } = lines.linePos(offset);
    return `${file}:${line}:${col}`;
  };
  const noLocation = () => undefined;
  const fail = (message: string, where: Where, fix: string): LoadedRegistry =>
    ({ findings: [finding('schema', message, { ...where, file: where.file ?? file }, fix)], locate: noLocation, unreadable: true });

  if (Buffer.byteLength(text, 'utf8') > MAX_FILE_BYTES) {
    return fail(`${file} is larger than ${MAX_FILE_BYTES / 1024 / 1024} MB; a port registry never is`, {}, 'check that this is the right file');
  }
  if (text.includes('\u0000')) return fail(`${file} is a binary file, not YAML or JSON`, {}, 'check that this is the right file');
  if (text.trim() === '') return fail(`${file} is empty`, {}, 'start from examples/aura/ports.yaml or the README');

  let doc: Document;
  try {
    doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  } catch (e) {
    return fail(`${file} cannot be parsed: ${(e as Error).message}`, {}, 'fix the YAML');
  }
  if (doc.errors.length) {
    return {
      findings: doc.errors.map(e => finding('schema', `${e.code === 'DUPLICATE_KEY' ? 'duplicate key' : 'invalid YAML/JSON'}: ${e.message.split('\n')[0]}`,
        { file: position(e.pos[0]) }, e.code === 'DUPLICATE_KEY' ? 'keep one of the two entries' : 'fix the syntax at that position')),
      locate: noLocation,
      unreadable: doc.errors.some(e => e.code !== 'DUPLICATE_KEY'),
    };
  }
  // JavaScript reads a `__proto__` key as the object's prototype: the entry would vanish without a
  // word (the only environment gone, a check clean). Refuse it where it stands.
  const protoKeys: string[] = [];
  visit(doc, {
    Pair(_key, pair) {
      if (isScalar(pair.key) && pair.key.value === '__proto__') protoKeys.push(position(pair.key.range?.[0]));
    },
  });
  if (protoKeys.length) {
    return {
      findings: protoKeys.map(at => finding('schema', 'the key "__proto__" is not allowed: JavaScript would read it as an object\'s prototype and the entry would silently vanish',
        { ...(name ? { registry: name } : {}), file: at }, 'rename the key')),
      locate: noLocation,
    };
  }
  /** Where the key itself (not its value) of `path` stands. */
  function keyPosition(path: readonly PropertyKey[]): string | undefined {
    const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
    const pair = isMap(parent) ? parent.items.find(p => isNode(p.key) && String((p.key as { value?: unknown }).value) === String(path[path.length - 1])) : undefined;
    return pair && isNode(pair.key) && pair.key.range ? position(pair.key.range[0]) : undefined;
  }
  const locate = (path: string | undefined): string | undefined => {
    if (!path) return undefined;
    // `a.b[2].c`: dotted segments are map keys (even "9100"), bracketed ones list indexes.
    const keys = path.split('.').flatMap(part => {
      const m = /^(.*?)((?:\[\d+\])+)$/.exec(part);
      return m ? [...(m[1] ? [m[1]] : []), ...[...m[2].matchAll(/\[(\d+)\]/g)].map(x => Number(x[1]))] : [part];
    });
    // The deepest node of the path that exists in the file: a scalar where its value stands,
    // a map or list where its key stands (the line a reader looks for).
    for (let n = keys.length; n >= 1; n--) {
      const node = doc.getIn(keys.slice(0, n), true);
      if (!isNode(node) || !node.range) continue;
      if (isCollection(node)) {
        const key = keyPosition(keys.slice(0, n));
        if (key) return key;
      }
      return position(node.range[0]);
    }
    return undefined;
  };

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (e) {
    return fail(`${file} cannot be read: ${(e as Error).message}`, {}, 'expand or remove the YAML aliases');
  }
  if (!isMap(doc.contents)) {
    return { ...fail(`${file} must hold a mapping (name, environments, services …) at the top`, {}, 'see the README for the format'), unreadable: false };
  }

  const locateKey = keyPosition;

  const parsed = RegistryFileSchema.safeParse(data);
  if (!parsed.success) {
    const schema = registryJsonSchema() as JsonSchema;
    // A key reported as missing next to an unknown key that is its misspelling says the same thing twice.
    const explained = new Set(parsed.error.issues.flatMap(issue => issue.code !== 'unrecognized_keys' ? [] : issue.keys.flatMap(key => {
      const guess = closest(key, keysAt(schema, issue.path));
      return guess ? [[...issue.path, guess].map(String).join('.')] : [];
    })));
    const issues = parsed.error.issues.filter(issue => !(issue.code === 'invalid_type' && explained.has(issue.path.map(String).join('.'))));
    const findings = issues.flatMap(issue => {
      const keyPath = issue.path.map(String).join('.');
      const base: Where = { ...(name ? { registry: name } : {}), path: keyPath };
      const [section, entry] = issue.path.map(String);
      if ((section === 'services' || section === 'externals') && entry) Object.assign(base, { service: entry });
      if (section === 'environments' && entry) Object.assign(base, { environment: entry });
      if (issue.code === 'unrecognized_keys') {
        const allowed = keysAt(schema, issue.path);
        return issue.keys.map(key => {
          const guess = closest(key, allowed);
          const at = [...issue.path, key].map(String).join('.');
          return finding('schema', `unknown key "${key}" at ${keyPath || 'the top level'}${guess ? `; did you mean "${guess}"?` : ''}`,
            { ...base, path: at, file: locateKey([...issue.path, key]) ?? file }, guess ? `rename it to "${guess}"` : `allowed keys: ${allowed.join(', ')}`);
        });
      }
      const expected = describeExpected(schema, issue.path);
      const got = issue.path.reduce<unknown>((v, k) => (v as Record<PropertyKey, unknown> | undefined)?.[k], data);
      const message = issue.code === 'invalid_type' || issue.code === 'invalid_union'
        ? `${keyPath || 'the registry'} is ${JSON.stringify(got) ?? 'missing'}; expected ${expected}` : `${keyPath}: ${issue.message}`;
      return [finding('schema', message, { ...base, file: locate(keyPath) ?? file }, `fix the value at ${keyPath || 'the top level'}`)];
    });
    return { findings, locate };
  }
  const { $schema: _schema, name: fileName, ...rest } = parsed.data;
  const registryName = name ?? fileName ?? fallbackName;
  if (!registryName) return { ...fail(`${file} has no name`, {}, 'add name: <registry> at the top'), unreadable: false };
  return { spec: { ...rest, name: registryName }, findings: [], locate };
}

/** Adds `file:line:column` to findings that carry a key path and no file yet. */
export function locateFindings(findings: readonly Finding[], locate: (path: string | undefined) => string | undefined): Finding[] {
  return findings.map(f => {
    const file = f.where.file ? undefined : locate(f.where.path);
    return file ? { ...f, where: { ...f.where, file } } : f;
  });
}

/**
 * A base registry file for `extends`: its spec, or findings saying why it cannot serve
 * (unreadable, not a registry, or declaring services, which a base must not).
 */
export function loadBaseFile(file: string, display = file): { readonly base?: RegistryBase; readonly findings: Finding[] } {
  let text: string;
  try {
    text = readRegularFile(file);
  } catch (e) {
    const reason = e instanceof ReadError ? e.reason : (e as Error).message;
    return { findings: [finding('schema', `base registry ${display} ${reason}`, { file: display }, 'check the path given to extends')] };
  }
  const loaded = parseRegistryText(text, display);
  if (!loaded.spec) return { findings: loaded.findings };
  const problem = baseProblem(loaded.spec);
  if (problem) {
    return { findings: [finding('schema', problem, { file: display }, 'declare them as externals in the base, or as services of a team registry')] };
  }
  return { base: loaded.spec, findings: [] };
}
