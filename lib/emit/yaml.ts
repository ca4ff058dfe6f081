import * as jsyaml from 'js-yaml';
import { MessageChannel, Worker, receiveMessageOnPort } from 'worker_threads';

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
function makeYamlText(lib: typeof jsyaml): (value: unknown) => string {
  const yaml11Number = new lib.Type('tag:cdk8s-ports,2026:yaml11-number', {
    kind: 'scalar',
    resolve: (text: string) => /^[-+]?(?:0b[01_]+|0x[0-9a-fA-F_]+|[0-9][0-9_]*(?:[:.][0-9_]*)*(?:[eE][-+]?[0-9]+)?)$/.test(text),
    construct: (text: string) => text,
  });
  const schema = lib.DEFAULT_SCHEMA.extend({ implicit: [yaml11Number] });
  return value => lib.dump(value, { schema, lineWidth: -1, noRefs: true, quotingType: '"' });
}

/** One YAML document (see {@link makeYamlText}). */
export const yamlText = makeYamlText(jsyaml);

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
export function startYamlDocuments(files: ReadonlyArray<readonly unknown[]>, options: { readonly workerPrelude?: string; readonly workerShare?: number } = {}): YamlJob {
  const count = files.reduce((n, f) => n + f.length, 0);
  if (count < PARALLEL_FROM || process.env.CDK8S_PORTS_NO_WORKERS === '1') {
    return { usesWorker: false, result: () => files.map(yamlDocuments) };
  }
  // The worker takes the first part of every file's documents; this thread writes the rest when the
  // result is asked for. Copying documents to the worker costs about a third of writing them.
  // A file of one document (a compose file of every service) goes to the worker whole.
  const part = options.workerShare ?? WORKER_SHARE;
  const share = (docs: readonly unknown[]) => (docs.length === 1 ? 1 : Math.floor(docs.length * part));
  const theirs = files.map(docs => docs.slice(0, share(docs)));
  const signal = new Int32Array(new SharedArrayBuffer(4));
  const { port1, port2 } = new MessageChannel();
  const source = `
    const { files, signal, port } = require('worker_threads').workerData;
    try {
      ${options.workerPrelude ?? ''}
      const yamlText = (${makeYamlText.toString()})(require(${JSON.stringify(require.resolve('js-yaml'))}));
      port.postMessage({ texts: files.map(docs => docs.map(d => (d === undefined ? '\\n' : yamlText(d)))) });
    } catch (e) {
      port.postMessage({ error: String(e && e.stack || e) });
    } finally {
      Atomics.store(signal, 0, 1);
      Atomics.notify(signal, 0);
    }
  `;
  let worker: Worker;
  try {
    worker = new Worker(source, { eval: true, workerData: { files: theirs, signal, port: port2 }, transferList: [port2] });
  } catch {
    return { usesWorker: false, result: () => files.map(yamlDocuments) };
  }
  return {
    usesWorker: true,
    result() {
      const ours = files.map(docs => docs.slice(share(docs)).map(d => (d === undefined ? '\n' : yamlText(d))));
      // The worker signals through shared memory: this thread's event loop is not needed to wait.
      // A worker that could not even start never signals: give up after ten minutes rather than hang.
      const deadline = Date.now() + 600_000;
      while (Atomics.load(signal, 0) === 0 && Date.now() < deadline) Atomics.wait(signal, 0, 0, 1000);
      const message = receiveMessageOnPort(port1)?.message as { texts?: string[][]; error?: string } | undefined;
      port1.close();
      void worker.terminate();
      // A worker that failed (its code instrumented by a coverage or mutation tool, say) costs time, never output.
      if (!message?.texts) return files.map(yamlDocuments);
      return files.map((_, i) => [...message.texts![i], ...ours[i]].join('---\n'));
    },
  };
}
