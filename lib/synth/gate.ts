/**
 * The synth's traffic gate (lib/netpol/gate.ts) on a worker thread when the output is large, so
 * that it runs while this thread renders and writes the output on the other core.
 *
 * What the worker verifies is what the synth writes: the objects given (the users' charts, a
 * registry's charts someone asked for) are copied to it, and the registries' own objects, which
 * the synth renders as data from their resolution (`manifestsByEnvironment`, a pure function of
 * it), it renders itself from a copy of the resolution, with the same function and the same file
 * names, before the synth has rendered them here: copying a resolution costs a tenth of copying
 * the objects it renders. Its answer is the in-thread answer (test/traffic-gate.test.ts compares
 * them). Should the worker fail to start or to load this module (code instrumented by a coverage
 * or mutation tool, say), this thread verifies: a worker costs time, never a result.
 */
import { startWorker } from '../io/worker';
import type { ResolvedRegistry } from '../model/resolved';
import { manifestsByEnvironment } from '../emit/manifest';
import { GateOutcome, trafficGate } from '../netpol/gate';
import type { SourcedObject } from '../netpol/objects';
import type { TrafficRegistry } from '../netpol/verify';

/** What the gate reads. */
export interface GateInput {
  /** Registries whose objects are rendered as data (as the synth renders them: k8s/<id>-<env>.k8s.yaml), in the synth's order. */
  readonly rendered: ReadonlyArray<{ readonly id: string; readonly resolved: ResolvedRegistry }>;
  /** Objects as they are written, after the rendered ones. */
  readonly objects: readonly SourcedObject[];
  /** What is declared. @default the rendered registries' resolutions */
  readonly registries?: readonly TrafficRegistry[];
}

/** The file the synth writes a registry's objects of an environment to. */
export const kubernetesFile = (id: string, environment: string): string => `k8s/${id}-${environment}.k8s.yaml`;

/** Every object the gate reads, in the synth's order. */
export function gateObjects(input: GateInput): SourcedObject[] {
  const out: SourcedObject[] = [];
  for (const r of input.rendered) {
    for (const [env, docs] of manifestsByEnvironment(r.resolved)) {
      const file = kubernetesFile(r.id, env);
      for (const object of docs) out.push({ file, object });
    }
  }
  for (const o of input.objects) out.push(o);
  return out;
}

/** The gate in this thread. */
export function runGate(input: GateInput): GateOutcome {
  return trafficGate(gateObjects(input), input.registries ?? input.rendered.map(r => r.resolved));
}

/** A gate running; `result()` waits for it. */
export interface GateJob {
  /** Whether a worker thread runs it. */
  readonly usesWorker: boolean;
  /** After `result()`: whether the worker gave it (false when this thread had to verify). */
  readonly answeredByWorker?: boolean;
  result(): GateOutcome;
}

/** Below this many objects (or allocations and connections to render) a worker costs more to start and feed than it saves. */
const PARALLEL_FROM = 5000;

/**
 * Starts the gate: on a worker thread from `parallelFrom` objects to read (5,000 by default; a
 * rendered registry counts its allocations and connections), in this thread when `result()` is
 * asked for otherwise. `workerPrelude` is code the worker runs first (tests make it fail with it).
 */
export function startGate(input: GateInput, options: { readonly parallelFrom?: number; readonly workerPrelude?: string } = {}): GateJob {
  const here: GateJob = { usesWorker: false, result: () => runGate(input) };
  let size = input.objects.length;
  for (const r of input.rendered) size += r.resolved.allocations.length + r.resolved.connections.length;
  if (size < (options.parallelFrom ?? PARALLEL_FROM) || process.env.CDK8S_PORTS_NO_WORKERS === '1') return here;
  // From the sources (ts-node, ts-jest) the worker compiles this module with TypeScript's own
  // transpiler (no native addon in a worker thread: swc's has brought a test process down); the
  // published package is JavaScript and needs none.
  let tsNode: string | undefined;
  if (__filename.endsWith('.ts')) {
    try {
      tsNode = require.resolve('ts-node');
    } catch {
      return here;
    }
  }
  // Only what the gate reads is copied: the resolutions' findings stay here.
  const copy = (r: ResolvedRegistry) => ({ ...r, findings: [] });
  const data = {
    rendered: input.rendered.map(r => ({ id: r.id, resolved: copy(r.resolved) })),
    objects: input.objects,
    ...(input.registries ? { registries: input.registries.map(r => ({ spec: r.spec, environments: r.environments, allocations: r.allocations, connections: r.connections, ...(r.inbound ? { inbound: r.inbound } : {}) })) } : {}),
  };
  const call = startWorker<GateOutcome>(`
      ${tsNode ? `require(${JSON.stringify(tsNode)}).register({ transpileOnly: true, compilerOptions: { module: 'commonjs' } });` : ''}
      return require(${JSON.stringify(__filename)}).runGate(data);
    `, data, options.workerPrelude);
  if (!call) return here;
  const job = {
    usesWorker: true,
    answeredByWorker: undefined as boolean | undefined,
    result(): GateOutcome {
      const outcome = call.wait();
      job.answeredByWorker = outcome !== undefined;
      return outcome ?? runGate(input);
    },
  };
  return job;
}
