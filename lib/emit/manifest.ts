/**
 * A registry object's manifest without a construct: what `ApiObject.toJson()` gives for the same
 * props, for registries whose charts no one has asked for. A large registry has a hundred
 * thousand objects; building and resolving constructs for them is most of a synth.
 *
 * cdk8s sorts every map's keys, drops undefined, leaves out empty metadata maps and lists, then
 * puts `apiVersion`, `kind` first and lets the typed class order the fields, which is the
 * Kubernetes definitions' order: alphabetical. `IntOrString` becomes its value. test/synth.test.ts
 * proves both paths write the same bytes, for the examples and for a generated registry.
 */
import { k8s } from '../../imports/k8s';
import { EMITTERS, KubeObject } from './index';
import type { ResolvedRegistry } from '../model/resolved';
import { GATEWAY_API_VERSION } from './routes';

/**
 * cdk8s' sanitizeValue after its resolve: null and undefined dropped, keys sorted, IntOrString as its
 * value; `filterEmpty` drops empty maps and lists. A map or list already in that form is returned as
 * it is (no copy): a large registry renders hundreds of thousands of them.
 */
function plain(value: unknown, filterEmpty: boolean): unknown {
  if (value === null || value === undefined) return undefined;
  if (typeof value !== 'object') return value;
  if (value instanceof k8s.IntOrString) return value.value;
  if (Array.isArray(value)) {
    if (filterEmpty && value.length === 0) return undefined;
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = plain(value[i], filterEmpty);
      if (v !== value[i] && !out) out = value.slice(0, i);
      out?.push(v);
    }
    return out ?? value;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) {
    throw new Error(`cannot render a ${(value as object).constructor?.name ?? 'non-plain'} object as data`);
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  let sorted = true;
  for (let i = 1; i < keys.length && sorted; i++) sorted = keys[i - 1] < keys[i];
  if (!sorted) keys.sort();
  let out: Record<string, unknown> | undefined = sorted ? undefined : {};
  let kept = 0;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    const v = plain(record[key], filterEmpty);
    if (out === undefined && (v !== record[key] || v === undefined)) {
      // The first value that changes: copy what came before it.
      out = {};
      for (let j = 0; j < i; j++) out[keys[j]] = record[keys[j]];
    }
    if (v !== undefined) {
      kept++;
      if (out) out[key] = v;
    }
  }
  if (filterEmpty && kept === 0) return undefined;
  return out ?? record;
}

const CLASSES = { Namespace: k8s.KubeNamespace, Service: k8s.KubeService, NetworkPolicy: k8s.KubeNetworkPolicy, Ingress: k8s.KubeIngress } as const;

/** The group, version and kind of an object the registry writes. */
export function gvkOf(kind: KubeObject['kind']): { apiVersion: string; kind: string } {
  return kind === 'HTTPRoute' || kind === 'GRPCRoute' ? { apiVersion: GATEWAY_API_VERSION, kind } : CLASSES[kind].GVK;
}

/** The manifest cdk8s would render for `o` as a typed construct in a chart without labels or namespace of its own. */
export function manifestOf(o: KubeObject): Record<string, unknown> {
  const { metadata, ...rest } = o.props as { metadata?: Record<string, unknown> };
  const body = plain({ ...rest, metadata: plain(metadata ?? {}, true) }, false) as Record<string, unknown>;
  return { ...gvkOf(o.kind), ...body };
}

/**
 * Each environment's manifests in chart order, as its chart would render them, for a registry
 * whose charts were never built.
 */
export function manifestsByEnvironment(resolved: ResolvedRegistry): Map<string, unknown[]> {
  const out = new Map<string, unknown[]>(resolved.environments.map(env => [env.name, []]));
  for (const emitter of EMITTERS) {
    for (const o of emitter.objects?.(resolved) ?? []) out.get(o.environment)!.push(manifestOf(o));
  }
  return out;
}
