/**
 * The synth's traffic gate: what the NetworkPolicies about to be written allow, against what the
 * registries declare (clusterOf, then verifyCluster), on a worker thread when the output is large,
 * so that it runs while the synth writes its YAML on the other core.
 *
 * The worker gets a copy of the very objects the synth writes and runs the same code; its answer is
 * the in-thread answer (test/traffic-gate.test.ts compares them). Should the worker fail to start or
 * to load this module (code instrumented by a coverage or mutation tool, say), this thread verifies:
 * a worker costs time, never a result.
 */
import { MessageChannel, Worker, receiveMessageOnPort } from 'worker_threads';
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

/** A gate running; `result()` waits for it. */
export interface GateJob {
  /** Whether a worker thread runs it. */
  readonly usesWorker: boolean;
  /** After `result()`: whether the worker gave it (false when this thread had to verify). */
  readonly answeredByWorker?: boolean;
  result(): GateOutcome;
}

/** Below this many objects a worker costs more to start and feed than it saves. */
const PARALLEL_FROM = 5000;

/**
 * Starts the gate: on a worker thread from `parallelFrom` objects (5,000 by default), in this
 * thread when `result()` is asked for otherwise. `workerPrelude` is code the worker runs first
 * (tests make it fail with it).
 */
export function startTrafficGate(objects: readonly SourcedObject[], registries: readonly TrafficRegistry[],
  options: { readonly parallelFrom?: number; readonly workerPrelude?: string } = {}): GateJob {
  const here: GateJob = { usesWorker: false, result: () => trafficGate(objects, registries) };
  if (objects.length < (options.parallelFrom ?? PARALLEL_FROM) || process.env.CDK8S_PORTS_NO_WORKERS === '1') return here;
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
  // Only what verify reads of each registry is copied.
  const declared = registries.map(r => ({ spec: r.spec, environments: r.environments, allocations: r.allocations, connections: r.connections, ...(r.inbound ? { inbound: r.inbound } : {}) }));
  const signal = new Int32Array(new SharedArrayBuffer(4));
  const { port1, port2 } = new MessageChannel();
  const source = `
    const { objects, registries, signal, port } = require('worker_threads').workerData;
    try {
      ${options.workerPrelude ?? ''}
      ${tsNode ? `require(${JSON.stringify(tsNode)}).register({ transpileOnly: true, compilerOptions: { module: 'commonjs' } });` : ''}
      const { trafficGate } = require(${JSON.stringify(__filename)});
      port.postMessage({ outcome: trafficGate(objects, registries) });
    } catch (e) {
      port.postMessage({ error: String((e && e.stack) || e) });
    } finally {
      Atomics.store(signal, 0, 1);
      Atomics.notify(signal, 0);
    }
  `;
  let worker: Worker;
  try {
    worker = new Worker(source, { eval: true, workerData: { objects, registries: declared, signal, port: port2 }, transferList: [port2] });
  } catch {
    return here;
  }
  const job = {
    usesWorker: true,
    answeredByWorker: undefined as boolean | undefined,
    result(): GateOutcome {
      // The worker signals through shared memory: this thread's event loop is not needed to wait.
      // A worker that could not even start never signals: give up after ten minutes rather than hang.
      const deadline = Date.now() + 600_000;
      while (Atomics.load(signal, 0) === 0 && Date.now() < deadline) Atomics.wait(signal, 0, 0, 1000);
      const message = receiveMessageOnPort(port1)?.message as { outcome?: GateOutcome; error?: string } | undefined;
      port1.close();
      // (The worker ends by itself once it has answered; it is not terminated: stopping a thread
      // that loaded a native addon, swc's, while it winds down can bring the process down with it.)
      worker.unref();
      job.answeredByWorker = message?.outcome !== undefined;
      return message?.outcome ?? trafficGate(objects, registries);
    },
  };
  return job;
}
