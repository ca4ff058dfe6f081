import * as jsyaml from 'js-yaml';
import { startWorker } from '../io/worker';

/**
 * The YAML writer, as a function of the js-yaml module, so that a worker thread can build the very
 * same writer from this function's source (see {@link YamlJob}). It must not use anything from
 * outside its body.
 *
 * One YAML document in the block style cdk8s writes (two-space indent, no line folding, no anchors,
 * double quotes where a string needs quotes), with js-yaml, which writes it several times faster
 * than the `yaml` library; YAML is a large part of a synth. `yaml` stays the reader (source
 * positions, duplicate keys). Strings that a YAML 1.1 reader takes for numbers (`1_000`, `1:20`,
 * `0b1_0`, `0x_1F` …) are quoted too: js-yaml already quotes the YAML 1.2 forms and, in its default
 * compatibility mode, the YAML 1.1 booleans (`yes`, `on`, `y` …). Quoting a few strings more than
 * needed is harmless; a string that kubectl or docker-compose reads back as a number is not.
 */
function makeYamlText(lib: typeof jsyaml, direct = true): (value: unknown) => string {
  const yaml11Number = new lib.Type('tag:cdk8s-ports,2026:yaml11-number', {
    kind: 'scalar',
    resolve: (text: string) => /^[-+]?(?:0b[01_]+|0x[0-9a-fA-F_]+|[0-9][0-9_]*(?:[:.][0-9_]*)*(?:[eE][-+]?[0-9]+)?)$/.test(text),
    construct: (text: string) => text,
  });
  const schema = lib.DEFAULT_SCHEMA.extend({ implicit: [yaml11Number] });
  const options = { schema, lineWidth: -1, noRefs: true, quotingType: '"' as const };
  const dump = (value: unknown) => lib.dump(value, options);
  if (!direct) return dump;

  // The same text, written directly for documents of plain data (what a synth writes: objects,
  // arrays, single-line strings, integers, booleans, null). js-yaml decides how each scalar is
  // written (its choice, asked once per distinct scalar, is kept); anything else (a line break in a
  // string, a non-integer number, a very long key, a value js-yaml refuses or skips) has js-yaml
  // write the whole document. test/yaml.test.ts proves the two equal on documents of every shape.
  const GIVE_UP = Symbol('js-yaml writes this document');
  const values = new Map<string, string>();
  const keys = new Map<string, string>();
  // A string js-yaml writes plain, whichever way it is asked: letters first, then letters, digits,
  // `-`, `_`, `.`, `/`, and none of the words a YAML 1.1 reader takes for a boolean or null.
  const PLAIN = /^[A-Za-z][A-Za-z0-9_./-]*$/;
  const WORDS = /^(?:[yYnN]|[yY]es|YES|[nN]o|NO|[tT]rue|TRUE|[fF]alse|FALSE|[oO]n|ON|[oO]ff|OFF|[nN]ull|NULL)$/;
  const MAX_CACHED = 100_000;
  const scalar = (v: string): string => {
    if (v.length <= 1024 && PLAIN.test(v) && !WORDS.test(v)) return v;
    let text = values.get(v);
    if (text === undefined) {
      if (v.includes('\n') || v.includes('\r') || v.length > 1024) throw GIVE_UP;
      text = dump(v).slice(0, -1);
      if (text.includes('\n')) throw GIVE_UP;
      if (values.size < MAX_CACHED) values.set(v, text);
    }
    return text;
  };
  const key = (k: string): string => {
    if (k.length <= 1000 && PLAIN.test(k) && !WORDS.test(k)) return k;
    let text = keys.get(k);
    if (text === undefined) {
      if (k.includes('\n') || k.includes('\r') || k.length > 1000) throw GIVE_UP;
      const line = dump({ [k]: null });
      // `<key>: null` on one line, as js-yaml writes the key in a mapping.
      if (!line.endsWith(': null\n') || line.indexOf('\n') !== line.length - 1) throw GIVE_UP;
      text = line.slice(0, -': null\n'.length);
      if (keys.size < MAX_CACHED) keys.set(k, text);
    }
    return text;
  };
  /** The inline form of a scalar or an empty collection, or undefined for a non-empty collection. */
  const inline = (v: unknown): string | undefined => {
    if (typeof v === 'string') return scalar(v);
    if (typeof v === 'number') {
      if (!Number.isInteger(v) || Object.is(v, -0) || !Number.isSafeInteger(v)) throw GIVE_UP;
      return String(v);
    }
    if (typeof v === 'boolean') return v ? 'true' : 'false';
    if (v === null) return 'null';
    if (Array.isArray(v)) return v.length === 0 ? '[]' : undefined;
    if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
      for (const _ in v) return undefined;
      return '{}';
    }
    throw GIVE_UP;
  };
  const out: string[] = [];
  // A mapping's entries at `indent`; `first` is written before the first key instead of the indent (`- ` of a list item).
  const mapping = (o: Record<string, unknown>, indent: string, first: string): void => {
    let lead = first;
    for (const k in o) {
      if (!Object.prototype.hasOwnProperty.call(o, k)) continue;
      const v = o[k];
      if (v === undefined) throw GIVE_UP;
      const text = inline(v);
      if (text !== undefined) {
        out.push(`${lead}${key(k)}: ${text}\n`);
      } else if (Array.isArray(v)) {
        out.push(`${lead}${key(k)}:\n`);
        sequence(v, `${indent}  `);
      } else {
        out.push(`${lead}${key(k)}:\n`);
        mapping(v as Record<string, unknown>, `${indent}  `, `${indent}  `);
      }
      lead = indent;
    }
  };
  const sequence = (a: readonly unknown[], indent: string): void => {
    for (let i = 0; i < a.length; i++) {
      const v = a[i];
      if (v === undefined || !(i in a)) throw GIVE_UP;
      const text = inline(v);
      if (text !== undefined) out.push(`${indent}- ${text}\n`);
      else if (Array.isArray(v)) throw GIVE_UP; // (a list in a list: js-yaml writes it on the item's line)
      else mapping(v as Record<string, unknown>, `${indent}  `, `${indent}- `);
    }
  };
  return value => {
    out.length = 0;
    try {
      const text = inline(value);
      if (text !== undefined) return dump(value);
      if (Array.isArray(value)) sequence(value, '');
      else mapping(value as Record<string, unknown>, '', '');
      return out.join('');
    } catch (e) {
      if (e !== GIVE_UP) throw e;
      return dump(value);
    } finally {
      out.length = 0;
    }
  };
}

/** One YAML document (see {@link makeYamlText}). */
export const yamlText = makeYamlText(jsyaml);
/** The same document written by js-yaml alone: what {@link yamlText} must equal (the tests compare them). */
export const jsYamlText = makeYamlText(jsyaml, false);

/** Several documents, separated as `cdk8s synth` separates them (`---`). */
export function yamlDocuments(docs: readonly unknown[]): string {
  return docs.map(d => (d === undefined ? '\n' : yamlText(d))).join('---\n');
}

/** Below this many documents, a worker thread costs more to start and feed than it saves. */
const PARALLEL_FROM = 5000;
/** The part of the documents the worker writes by default: the rest, and every other output, are written here meanwhile. */
const WORKER_SHARE = 0.35;

/** Files of YAML documents being written, on a worker thread when they are many; `result()` waits for them. */
export interface YamlJob {
  /** Whether a worker thread writes them. */
  readonly usesWorker: boolean;
  result(): string[];
}

/**
 * Starts writing each list of documents as one YAML file (as {@link yamlDocuments} would). When
 * they hold many documents, a worker thread writes them while the caller goes on with other work
 * (a large synth spends a third of its time writing YAML; the machine has more than one core).
 * `result()` blocks until the texts are there; the output is the same byte for byte. Should the
 * worker fail, this thread writes everything. `workerPrelude` is code the worker runs first (tests
 * make it fail with it).
 */
export function startYamlDocuments(files: ReadonlyArray<readonly unknown[]>, options: { readonly workerPrelude?: string; readonly workerShare?: number; readonly inThread?: boolean } = {}): YamlJob {
  const count = files.reduce((n, f) => n + f.length, 0);
  if (options.inThread || count < PARALLEL_FROM || process.env.CDK8S_PORTS_NO_WORKERS === '1') {
    return { usesWorker: false, result: () => files.map(yamlDocuments) };
  }
  // The worker takes the first part of every file's documents; this thread writes the rest when the
  // result is asked for. Copying documents to the worker costs about a third of writing them.
  // A file of one document (a compose file of every service) goes to the worker whole.
  const part = options.workerShare ?? WORKER_SHARE;
  const share = (docs: readonly unknown[]) => (docs.length === 1 ? 1 : Math.floor(docs.length * part));
  const theirs = files.map(docs => docs.slice(0, share(docs)));
  const call = startWorker<string[][]>(`
      const yamlText = (${makeYamlText.toString()})(require(${JSON.stringify(require.resolve('js-yaml'))}));
      return data.map(docs => docs.map(d => (d === undefined ? '\\n' : yamlText(d))));
    `, theirs, options.workerPrelude);
  if (!call) return { usesWorker: false, result: () => files.map(yamlDocuments) };
  return {
    usesWorker: true,
    result() {
      const ours = files.map(docs => docs.slice(share(docs)).map(d => (d === undefined ? '\n' : yamlText(d))));
      const texts = call.wait();
      // A worker that failed (its code instrumented by a coverage or mutation tool, say) costs time, never output.
      if (!texts) return files.map(yamlDocuments);
      return files.map((_, i) => [...texts[i], ...ours[i]].join('---\n'));
    },
  };
}
