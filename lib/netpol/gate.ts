/**
 * The synth's traffic gate: what the NetworkPolicies about to be written allow, against what the
 * registries declare (clusterOf, then verifyCluster). lib/synth/gate.ts runs it on a worker thread.
 */
import { SourcedObject, clusterOf } from './objects';
import type { InvalidValue } from './values';
import type { Path } from './cluster';
import { TooManyPaths, TrafficFinding, TrafficRegistry, verifyCluster } from './verify';

/** What the gate found: values the API server rejects, or a verification (or why there is none). */
export interface GateOutcome {
  /** Values of the objects the API server would reject (nothing was verified when there are any). */
  readonly invalid: readonly InvalidValue[];
  /** The verification, when every value is valid and the paths were counted. */
  readonly traffic?: { readonly ok: boolean; readonly findings: readonly TrafficFinding[]; readonly allowed: readonly Path[] };
  /** Why nothing was compared: the policies allow more paths than verify counts ({@link TooManyPaths}). */
  readonly tooManyPaths?: string;
}

/** The gate in this thread. */
export function trafficGate(objects: readonly SourcedObject[], registries: readonly TrafficRegistry[]): GateOutcome {
  const invalid: InvalidValue[] = [];
  const cluster = clusterOf(objects, invalid);
  // (Only the user's own charts can hold such a value: the registry's ports are range-checked.)
  if (invalid.length) return { invalid };
  try {
    const r = verifyCluster(cluster, registries, { registryNamespacesOnly: true });
    return { invalid, traffic: { ok: r.ok, findings: r.findings, allowed: r.allowed } };
  } catch (e) {
    if (!(e instanceof TooManyPaths)) throw e;
    return { invalid, tooManyPaths: e.message };
  }
}
