/**
 * A folder of manifests as `kubectl apply -R -f` reads it: its YAML and JSON files (links said,
 * not skipped), their objects, and the cluster they describe (./objects.ts).
 */
import * as fs from 'fs';
import * as path from 'path';
import * as jsYaml from 'js-yaml';
import { Cluster } from './cluster';
import { InvalidValue, isObj } from './values';
import { SourcedObject, clusterOf } from './objects';

export type { InvalidValue, SourcedObject };
export { clusterOf };
export { POD_KINDS, policyOf } from './objects';


/** A problem reading the folder (a file that is not YAML, say): the file and what is wrong. */
export interface LoadProblem {
  readonly file: string;
  readonly message: string;
}

export interface Loaded {
  readonly cluster: Cluster;
  readonly problems: readonly LoadProblem[];
  /** Values the API server would reject. */
  readonly invalid: readonly InvalidValue[];
  /** The objects read, each with its file (for checks beyond the traffic: the port chain). */
  readonly objects?: readonly SourcedObject[];
}

const MANIFEST = /\.(ya?ml|json)$/;

/** The manifest files of a folder, relative, sorted (see {@link manifestEntries}). */
export function manifestFiles(dir: string): string[] {
  return manifestEntries(dir).files;
}

/**
 * The manifest files of a folder, relative, sorted, as `kubectl apply -R -f` reads them: a link to
 * a file is read (kubectl opens it), a link to a folder is not walked (kubectl's walk does not
 * follow it), and a link to nothing cannot be read; both are problems, said rather than skipped.
 */
export function manifestEntries(dir: string): { files: string[]; problems: LoadProblem[] } {
  const files: string[] = [];
  const problems: LoadProblem[] = [];
  const walk = (rel: string) => {
    for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const file = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(file);
      else if (entry.isFile() && MANIFEST.test(entry.name)) files.push(file);
      else if (entry.isSymbolicLink()) {
        let target: fs.Stats | undefined;
        try {
          target = fs.statSync(path.join(dir, file));
        } catch {
          target = undefined;
        }
        if (!target) { if (MANIFEST.test(entry.name)) problems.push({ file, message: 'a link to nothing (kubectl -R -f would fail on it)' }); }
        else if (target.isDirectory()) problems.push({ file, message: 'a link to a folder: not read (kubectl -R -f does not follow it either); link the files, or copy the folder' });
        else if (target.isFile() && MANIFEST.test(entry.name)) files.push(file);
      }
    }
  };
  walk('');
  return { files, problems };
}

/**
 * The objects of manifest texts (YAML streams or JSON), with problems for files that are neither.
 * Texts that cannot hold an object with a `kind` are skipped unread.
 */
export function parseManifests(texts: ReadonlyArray<{ file: string; text: string }>): { objects: SourcedObject[]; problems: LoadProblem[] } {
  const objects: SourcedObject[] = [];
  const problems: LoadProblem[] = [];
  for (const { file, text } of texts) {
    // A text without "kind" and without an escape (`"k\u0069nd"`) holds no Kubernetes object:
    // the compose files and .env-like data the synth writes beside the manifests are not parsed.
    if (!text.includes('kind') && !text.includes('\\')) continue;
    try {
      const docs = file.endsWith('.json') ? [JSON.parse(text)] : jsYaml.loadAll(text, undefined, { schema: jsYaml.CORE_SCHEMA });
      for (const doc of docs) {
        if (isObj(doc) && typeof doc.kind === 'string') objects.push({ file, object: doc });
      }
    } catch (e) {
      problems.push({ file, message: (e as Error).message.split('\n')[0] });
    }
  }
  return { objects, problems };
}

/** The cluster a folder of manifests describes (every .yaml, .yml and .json under it that can hold an object). */
export function loadFolder(dir: string): Loaded {
  const entries = manifestEntries(dir);
  const texts = entries.files.map(file => ({ file, text: fs.readFileSync(path.join(dir, file), 'utf8') }));
  const parsed = parseManifests(texts);
  const objects = parsed.objects;
  const problems = [...entries.problems, ...parsed.problems].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  const invalid: InvalidValue[] = [];
  return { cluster: clusterOf(objects, invalid), problems, invalid, objects };
}
