/**
 * One synth, in a process of its own, for `npm run bench` (bench/bench.ts): prints
 * `{"ms": …, "maxRssKb": …, "objects": …}`. Nothing before the timed region is counted: the raw
 * side gets its objects prepared (and copied) first, as a user who already has them would.
 *
 *   ours <services> <dir>   a PortsApp (of build/lib, the published JavaScript) with the registry declared through the construct API,
 *                           then trySynth(): every check and every output written
 *   ours-unverified …       the same with trafficVerifyLimit 0 (the traffic is not verified)
 *   raw <services> <dir>    the same Namespaces, Services and NetworkPolicies as typed cdk8s
 *                           objects (k8s.Kube*) in one chart per environment, then app.synth()
 *   floor <services> <dir>  the floor: the same objects, already built as plain data (the
 *                           manifests cdk8s writes), dumped with js-yaml and written with one
 *                           fs.writeFileSync per environment file (the fastest way Node offers)
 */
import * as fs from 'fs';
import * as path from 'path';
import { App, Chart } from 'cdk8s';
import * as jsyaml from 'js-yaml';
import { k8s } from '../imports/k8s';
import { checkRegistry } from '../lib';
// Ours is the published code (npm run bench builds it first), as a user's app runs it: JavaScript,
// not these sources through ts-node.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { PortRegistry, PortsApp } = require('../build/lib') as typeof import('../lib');
import { kubernetesObjects } from '../lib/emit/kubernetes';
import { manifestOf } from '../lib/emit/manifest';
import { networkPolicies } from '../lib/emit/network-policies';
import { realisticRegistry } from './generate';

const [side, sizeArg, dir] = process.argv.slice(2);
const spec = realisticRegistry(Number(sizeArg));
const now = () => Number(process.hrtime.bigint()) / 1e6;
let ms: number;
let objects = 0;

if (side === 'ours' || side === 'ours-unverified') {
  const start = now();
  const app = new PortsApp({
    manifestsDir: path.join(dir, 'manifests'), outdir: path.join(dir, 'staging'), lockFile: path.join(dir, 'ports.lock.json'),
    ...(side === 'ours-unverified' ? { trafficVerifyLimit: 0 } : {}),
  });
  const { services, externals, name, ...props } = spec;
  const registry = new PortRegistry(app, name, props);
  for (const [n, e] of Object.entries(externals ?? {})) registry.external(n, e);
  for (const [n, s] of Object.entries(services ?? {})) registry.service(n, s);
  const result = app.trySynth();
  ms = now() - start;
  if (!result.ok) throw new Error(`the bench registry did not check clean: ${result.findings.slice(0, 3).map(f => f.message).join('; ')}`);
  objects = fs.readdirSync(path.join(dir, 'manifests'), { recursive: true }).length;
} else if (side === 'floor') {
  // The manifests as plain data, built before the clock starts.
  const resolved = checkRegistry(spec);
  const policies = networkPolicies(resolved);
  const perEnv = resolved.environments.map(env => {
    const k = kubernetesObjects(resolved, env);
    const objects = [
      manifestOf({ kind: 'Namespace', props: k.namespace.props } as never),
      ...k.services.map(o => manifestOf({ kind: 'Service', props: o.props } as never)),
      ...(policies.get(env.name) ?? []).map(o => manifestOf({ kind: 'NetworkPolicy', props: o.props } as never)),
    ];
    return structuredClone({ env: env.name, objects });
  });
  fs.mkdirSync(dir, { recursive: true });
  const start = now();
  for (const e of perEnv) {
    const text = e.objects.map(o => jsyaml.dump(o, { lineWidth: -1, noRefs: true })).join('---\n');
    fs.writeFileSync(path.join(dir, `${e.env}.k8s.yaml`), text);
    objects += e.objects.length;
  }
  ms = now() - start;
} else {
  // The objects, prepared and copied before the clock starts.
  const resolved = checkRegistry(spec);
  const policies = networkPolicies(resolved);
  const perEnv = resolved.environments.map(env => {
    const k = kubernetesObjects(resolved, env);
    return structuredClone({
      env: env.name,
      namespace: k.namespace.props,
      services: k.services.map(s => ({ id: s.name, props: s.props })),
      policies: (policies.get(env.name) ?? []).map(p => ({ id: p.name, props: p.props })),
    });
  });
  const start = now();
  const app = new App({ outdir: dir });
  for (const e of perEnv) {
    const chart = new Chart(app, e.env);
    new k8s.KubeNamespace(chart, 'namespace', e.namespace);
    for (const s of e.services) new k8s.KubeService(chart, s.id, s.props);
    for (const p of e.policies) new k8s.KubeNetworkPolicy(chart, p.id, p.props);
    objects += 1 + e.services.length + e.policies.length;
  }
  app.synth();
  ms = now() - start;
}
process.stdout.write(`${JSON.stringify({ ms, maxRssKb: process.resourceUsage().maxRSS, objects })}\n`);
