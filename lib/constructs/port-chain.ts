/**
 * The port chain of a whole app (lib/validate/port-chain.ts) at synth time: the objects the
 * registries write and the objects of the app's own charts, checked together once per app, so that
 * a hand-written Ingress, Service, probe or NetworkPolicy that breaks a link to the registry's
 * objects (or among themselves) stops the synth with a finding naming both ends.
 */
import { ApiObject, Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import type { Finding } from '../model/finding';
import { ChainObject, portChain } from '../validate/port-chain';

/** The chain findings of the app: `registries` give each registry's manifests by environment (read only when the app has charts of its own). */
export function appPortChain(root: Construct, isRegistryChart: (chart: Chart) => boolean,
  registries: ReadonlyArray<{ readonly name: string; readonly manifests: () => ReadonlyMap<string, readonly unknown[]> }>): Finding[] {
  const own: ChainObject[] = [];
  for (const c of root.node.findAll()) {
    if (!(c instanceof ApiObject) || isRegistryChart(Chart.of(c))) continue;
    let object: unknown;
    try {
      object = c.toJson();
    } catch {
      continue; // an object that cannot render yet is cdk8s' to report when it renders it
    }
    own.push({ object, origin: Chart.of(c).node.path });
  }
  // Without charts of the app's own, the registry's chain is sound by construction (test/port-chain.test.ts): nothing to read.
  if (!own.length) return [];
  const objects: ChainObject[] = [];
  for (const r of registries) {
    for (const [env, docs] of r.manifests()) for (const object of docs) objects.push({ object, origin: `registry ${r.name} (${env})` });
  }
  objects.push(...own);
  // (The registry's own links are sound by construction, test/port-chain.test.ts: what is found has an end in the app's charts,
  // or is a registry object the app's charts break, such as a Service whose pods they give other ports.)
  return portChain(objects);
}
