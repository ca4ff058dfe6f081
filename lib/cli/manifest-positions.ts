/**
 * Where an object sits in a manifest file, for the code-scanning formats: the line and column of
 * its `metadata.name`, found by kind, namespace and name (YAML streams and JSON alike).
 */
import * as fs from 'fs';
import * as path from 'path';
import type * as Load from '../netpol/load';
import { yamlLib } from '../file/yaml-lib';

/** The manifest loader, loaded when a position is asked for (every command loads this file at start). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const netpolLoad = () => require('../netpol/load') as typeof Load;

export interface Position {
  readonly line: number;
  readonly column: number;
}

interface Located {
  readonly kind: unknown;
  readonly namespace: unknown;
  readonly name: unknown;
  readonly position: Position;
}

const cache = new Map<string, readonly Located[]>();

function objectsOf(file: string): readonly Located[] {
  const known = cache.get(file);
  if (known) return known;
  const out: Located[] = [];
  try {
    const { LineCounter, isScalar, parseAllDocuments } = yamlLib();
    const counter = new LineCounter();
    for (const doc of parseAllDocuments(fs.readFileSync(file, 'utf8'), { lineCounter: counter })) {
      if (!('getIn' in doc)) continue;
      const node = doc.getIn(['metadata', 'name'], true);
      if (!isScalar(node) || !node.range) continue;
      const { line, col } = counter.linePos(node.range[0]);
      out.push({ kind: doc.get('kind'), namespace: doc.getIn(['metadata', 'namespace']), name: node.value, position: { line, column: col } });
    }
  } catch {
    // A file that cannot be read or parsed has no positions: the finding points at the file alone.
  }
  cache.set(file, out);
  return out;
}

/** The position of `kind` `name` (in `namespace`, when the object names one) in `file`, if it is there. */
export function objectPosition(file: string, kind: string, name: string, namespace?: string): Position | undefined {
  return objectsOf(file).find(o => o.kind === kind && o.name === name && (namespace === undefined || o.namespace === undefined || o.namespace === namespace))?.position;
}

/** The objects a traffic finding may name without a file: the first match in the folder's manifests (files in order). */
export function findInFolder(dir: string, match: { kind?: string; namespace?: string; name?: string }): { file: string; position: Position } | undefined {
  let files: string[];
  try {
    files = netpolLoad().manifestFiles(dir);
  } catch {
    return undefined;
  }
  for (const file of files) {
    const hit = objectsOf(path.join(dir, file)).find(o => (match.kind === undefined || o.kind === match.kind) && (match.name === undefined || o.name === match.name) &&
      (match.namespace === undefined || o.namespace === match.namespace || (o.kind === 'Namespace' && o.name === match.namespace && match.name === undefined)));
    if (hit) return { file, position: hit.position };
  }
  return undefined;
}
