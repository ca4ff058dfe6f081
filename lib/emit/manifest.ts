/**
 * A registry object's manifest without a construct: what `ApiObject.toJson()` gives for the same
 * props (keys sorted and undefined dropped as cdk8s does, empty metadata maps and lists left out,
 * then the typed class's own key order), for registries whose charts no one has asked for. A
 * large registry has a hundred thousand objects; building and resolving constructs for them is
 * most of a synth. test/synth.test.ts proves both paths write the same bytes.
 */
import { k8s } from '../../imports/k8s';
import type { KubeObject } from './index';

interface Sanitize { readonly filterEmpty?: boolean }

/** cdk8s' sanitizeValue: drops null and undefined, sorts keys; with `filterEmpty`, drops empty maps and lists too. */
function sanitize(value: unknown, options: Sanitize = {}): unknown {
  if (value === null || value === undefined) return undefined;
  if (typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    if (options.filterEmpty && value.length === 0) return undefined;
    return value.map(v => sanitize(v, options));
  }
  const out: Record<string, unknown> = {};
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record).sort()) {
    const v = sanitize(record[key], options);
    if (v !== null && v !== undefined) out[key] = v;
  }
  if (options.filterEmpty && Object.keys(out).length === 0) return undefined;
  return out;
}

const CLASSES = { Namespace: k8s.KubeNamespace, Service: k8s.KubeService, NetworkPolicy: k8s.KubeNetworkPolicy } as const;

/** The manifest cdk8s would render for `o` as a typed construct in a chart without labels or namespace of its own. */
export function manifestOf(o: KubeObject): unknown {
  const { metadata, ...rest } = o.props as { metadata?: Record<string, unknown> };
  const meta = sanitize({ ...metadata, finalizers: metadata?.finalizers ?? [], ownerReferences: metadata?.ownerReferences ?? [] }, { filterEmpty: true });
  const sanitized = sanitize({ ...rest, metadata: meta }) as Record<string, unknown>;
  return (CLASSES[o.kind].manifest as (props: unknown) => unknown)(sanitized);
}
