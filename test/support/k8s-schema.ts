import * as fs from 'fs';
import * as path from 'path';
import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

/**
 * Strict validation of emitted objects against the upstream Kubernetes 1.27 OpenAPI
 * definitions (an unchanged copy under test/fixtures/k8s). Every object schema is closed
 * (additionalProperties: false) so that a misspelt field fails, as the API server's strict
 * field validation would.
 */
const DEFINITIONS = path.resolve(__dirname, '../fixtures/k8s/v1.27.0/_definitions.json');

type Schema = Record<string, unknown>;

function close(schema: unknown): void {
  if (!schema || typeof schema !== 'object') return;
  const s = schema as Schema;
  if (s.properties && s.additionalProperties === undefined) s.additionalProperties = false;
  for (const value of Object.values(s)) {
    if (Array.isArray(value)) value.forEach(close);
    else close(value);
  }
}

let cache: Map<string, ValidateFunction> | undefined;

function validators(): Map<string, ValidateFunction> {
  if (cache) return cache;
  const definitions = JSON.parse(fs.readFileSync(DEFINITIONS, 'utf8')).definitions as Record<string, Schema>;
  close(definitions);
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
  ajv.addFormat('double', { type: 'number', validate: () => true });
  ajv.addSchema({ $id: 'k8s', definitions });
  cache = new Map();
  for (const [name, def] of Object.entries(definitions)) {
    for (const gvk of (def['x-kubernetes-group-version-kind'] as Array<{ group: string; version: string; kind: string }> | undefined) ?? []) {
      const apiVersion = gvk.group ? `${gvk.group}/${gvk.version}` : gvk.version;
      cache.set(`${apiVersion}/${gvk.kind}`, ajv.getSchema(`k8s#/definitions/${name}`)!);
    }
  }
  return cache;
}

/** Schema errors of one manifest object; empty when it is valid. */
export function schemaErrors(obj: { apiVersion: string; kind: string }): string[] {
  const validate = validators().get(`${obj.apiVersion}/${obj.kind}`);
  if (!validate) return [`no schema for ${obj.apiVersion} ${obj.kind}`];
  if (validate(obj)) return [];
  return (validate.errors ?? []).map(e => `${e.instancePath || '/'} ${e.message}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`);
}

const DNS1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const IANA_SVC = /^(?=.*[a-z])[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const port = (n: unknown) => typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535;

/** What the API server checks beyond the schema: name rules and port ranges. */
export function semanticErrors(obj: any): string[] {
  const out: string[] = [];
  const name: string = obj.metadata?.name ?? '';
  if (obj.kind === 'Service') {
    if (!(name.length <= 63 && DNS1035.test(name))) out.push(`Service name ${name} is not a DNS-1035 label`);
    const names = new Set<string>();
    for (const p of obj.spec?.ports ?? []) {
      if (!port(p.port)) out.push(`${name}: port ${p.port} out of range`);
      if (typeof p.targetPort === 'number' && !port(p.targetPort)) out.push(`${name}: targetPort ${p.targetPort} out of range`);
      if (p.nodePort !== undefined && !(p.nodePort >= 30000 && p.nodePort <= 32767)) out.push(`${name}: nodePort ${p.nodePort} out of range`);
      if (!(p.name.length <= 15 && IANA_SVC.test(p.name) && !p.name.includes('--'))) out.push(`${name}: port name ${p.name} is not an IANA service name`);
      if (names.has(p.name)) out.push(`${name}: duplicate port name ${p.name}`);
      names.add(p.name);
    }
  } else if (!(name.length <= 63 && DNS1123.test(name))) {
    out.push(`${obj.kind} name ${name} is not a DNS-1123 label`);
  }
  if (obj.metadata?.namespace !== undefined && !DNS1123.test(obj.metadata.namespace)) out.push(`namespace ${obj.metadata.namespace} invalid`);
  for (const [k, v] of Object.entries(obj.metadata?.labels ?? {})) {
    if (typeof v !== 'string' || v.length > 63 || !/^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/.test(v)) out.push(`label ${k}=${v} invalid`);
  }
  return out;
}
