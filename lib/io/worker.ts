/**
 * A piece of work on a worker thread that this thread waits for without its event loop (a synth is
 * synchronous): the worker signals through shared memory when its answer is on the port.
 */
import { MessageChannel, Worker, receiveMessageOnPort } from 'worker_threads';

/** Work started on a worker thread; `wait()` gives its value, or undefined when it failed. */
export interface WorkerCall<T> {
  wait(): T | undefined;
}

/**
 * Starts `body` on a worker thread: code that sees `data` (a structured copy of `data`) and ends
 * with `return <value>`. `prelude` is code run first (tests make a worker fail with it). Undefined
 * when no worker can be started; a worker that throws answers undefined: the caller does the work
 * itself (a worker costs time, never a result).
 */
export function startWorker<T>(body: string, data: unknown, prelude = ''): WorkerCall<T> | undefined {
  const signal = new Int32Array(new SharedArrayBuffer(4));
  const { port1, port2 } = new MessageChannel();
  const source = `
    const { data, signal, port } = require('worker_threads').workerData;
    try {
      ${prelude}
      const value = (() => {
        ${body}
      })();
      port.postMessage({ value });
    } catch (e) {
      port.postMessage({ error: String((e && e.stack) || e) });
    } finally {
      Atomics.store(signal, 0, 1);
      Atomics.notify(signal, 0);
    }
  `;
  let worker: Worker;
  try {
    worker = new Worker(source, { eval: true, workerData: { data, signal, port: port2 }, transferList: [port2] });
  } catch {
    port1.close();
    return undefined;
  }
  return {
    wait() {
      // A worker that could not even start never signals: give up after ten minutes rather than hang.
      const deadline = Date.now() + 600_000;
      while (Atomics.load(signal, 0) === 0 && Date.now() < deadline) Atomics.wait(signal, 0, 0, 1000);
      const message = receiveMessageOnPort(port1)?.message as { value?: T; error?: string } | undefined;
      port1.close();
      // (The worker ends by itself once it has answered; it is not terminated: stopping a thread
      // while it winds down, one that loaded a native addon especially, can take the process with it.)
      worker.unref();
      return message && 'value' in message ? message.value : undefined;
    },
  };
}
