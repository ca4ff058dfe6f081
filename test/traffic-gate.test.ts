import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PortRegistry, PortsApp, RegistrySpec, ResolvedRegistry, checkRegistry } from '../lib';
import { trafficGate } from '../lib/netpol/gate';
import { gateObjects, runGate, startGate } from '../lib/synth/gate';
import * as jsyaml from 'js-yaml';
import { Chart } from 'cdk8s';
import { k8s } from '../imports/k8s';
import { generatedObjects } from './support/generated';

/**
 * The synth's traffic gate on a worker thread (lib/netpol/gate.ts) answers what it answers in this
 * thread, on clean output, on output with undeclared paths, with values the API server rejects,
 * and when the worker cannot load the gate (it then verifies here); and a large synth goes
 * through it and still fails on a wider network.
 */

function resolved(spec: unknown): ResolvedRegistry {
  const r = checkRegistry(spec as RegistrySpec);
  if (!r.ok) throw new Error(JSON.stringify(r.findings.filter(f => f.severity === 'error')));
  return r;
}

const SHOP = resolved({
  name: 'shop',
  environments: { dev: { range: [20000, 20099] }, prod: { range: [21000, 21099] } },
  services: {
    web: { public: { cidrs: ['198.51.100.0/24'] }, ports: { http: { offset: 0 } }, connectsTo: [{ to: 'api', port: 'http' }, { to: 'db', port: 'main' }] },
    api: { ports: { http: { offset: 1 }, metrics: { offset: 2 } } },
    front: { public: true, ports: { http: { offset: 3 } } },
  },
  externals: { db: { kind: 'postgres', cidrs: ['10.9.0.0/24'], ports: { main: { port: 5432 } } } },
});

const sourced = (objects: unknown[]) => objects.map(object => ({ file: 'k8s/shop.k8s.yaml', object }));
const netpol = (namespace: string, name: string, spec: Record<string, unknown>) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace }, spec });
/** Ingress to api on every TCP port from anyone: wider than the registry. */
const OPEN = netpol('shop-dev', 'open-api', { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'api' } }, policyTypes: ['Ingress'], ingress: [{ ports: [{ port: 1, endPort: 65535 }] }] });
const INVALID = netpol('shop-dev', 'bad-cidr', { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/33' } }] }] });

describe('the traffic gate on a worker thread', () => {
  const cases: Array<[string, unknown[]]> = [
    ['clean output', generatedObjects(SHOP)],
    ['an undeclared path', [...generatedObjects(SHOP), OPEN]],
    ['a value the API server rejects', [...generatedObjects(SHOP), INVALID]],
  ];
  test.each(cases)('answers as this thread does: %s', (_, objects) => {
    const here = trafficGate(sourced(objects), [SHOP]);
    const job = startGate({ rendered: [], objects: sourced(objects), registries: [SHOP] }, { parallelFrom: 0 });
    expect(job.usesWorker).toBe(true);
    expect(job.result()).toEqual(here);
    expect(job.answeredByWorker).toBe(true);
  });

  test('the outcomes differ where they must (the comparison above can fail)', () => {
    const clean = trafficGate(sourced(generatedObjects(SHOP)), [SHOP]);
    const open = trafficGate(sourced([...generatedObjects(SHOP), OPEN]), [SHOP]);
    const invalid = trafficGate(sourced([...generatedObjects(SHOP), INVALID]), [SHOP]);
    expect(clean.traffic?.ok).toBe(true);
    expect(clean.traffic?.allowed.length).toBeGreaterThan(0);
    expect(open.traffic?.ok).toBe(false);
    expect(open.traffic?.findings.map(f => f.rule)).toContain('traffic-undeclared');
    expect(invalid.invalid.map(v => v.message).join('\n')).toMatch(/10\.0\.0\.0\/33/);
    expect(invalid.traffic).toBeUndefined();
  });

  test('a worker that cannot load the gate costs time, never the result', () => {
    const objects = sourced([...generatedObjects(SHOP), OPEN]);
    const job = startGate({ rendered: [], objects, registries: [SHOP] }, { parallelFrom: 0, workerPrelude: "throw new Error('instrumented away');" });
    expect(job.usesWorker).toBe(true);
    expect(job.result()).toEqual(trafficGate(objects, [SHOP]));
    expect(job.answeredByWorker).toBe(false);
  });

  test('the published build (plain JavaScript) runs it on the worker too', () => {
    // (npm test builds build/ before Jest runs.)
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const built = require('../build/lib/synth/gate') as typeof import('../lib/synth/gate');
    const objects = sourced([...generatedObjects(SHOP), OPEN]);
    const job = built.startGate({ rendered: [], objects, registries: [SHOP] }, { parallelFrom: 0 });
    expect(job.result()).toEqual(trafficGate(objects, [SHOP]));
    expect(job.answeredByWorker).toBe(true);
  });

  test('small outputs are verified in this thread', () => {
    expect(startGate({ rendered: [], objects: sourced(generatedObjects(SHOP)), registries: [SHOP] }).usesWorker).toBe(false);
    expect(startGate({ rendered: [{ id: 'shop', resolved: SHOP }], objects: [] }).usesWorker).toBe(false);
  });

  test.each([['clean', [] as unknown[]], ['with a wider policy', [OPEN]]])('renders the registries itself and answers as this thread does on the objects: %s', (_, extra) => {
    const input = { rendered: [{ id: 'shop', resolved: SHOP }], objects: sourced(extra) };
    const job = startGate(input, { parallelFrom: 0 });
    const answer = job.result();
    expect(job.answeredByWorker).toBe(true);
    expect(answer).toEqual(runGate(input));
    // … which is the gate on the objects as given, rendered by the generator tests use.
    expect(answer).toEqual(trafficGate(gateObjects(input), [SHOP]));
    expect(answer.traffic?.ok).toBe(extra.length === 0);
  });
});

describe('a synth large enough for the worker', () => {
  // 700 services with connections: more than 5,000 objects in three environments.
  const services: Record<string, unknown> = {};
  for (let i = 0; i < 700; i++) {
    services[`svc-${i}`] = { ports: { http: { auto: true } }, connectsTo: i > 0 ? [{ to: `svc-${i - 1}`, port: 'http' }, ...(i > 1 ? [{ to: `svc-${i - 2}`, port: 'http' }] : [])] : [] };
  }
  const environments = { dev: { range: [20000, 21999] }, staging: { range: [22000, 23999] }, prod: { range: [24000, 25999] } };

  const synth = (widen: boolean) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gate-'));
    const app = new PortsApp({ outdir: path.join(dir, 'dist'), manifestsDir: path.join(dir, 'manifests'), lockFile: path.join(dir, 'ports.lock.json') });
    const registry = new PortRegistry(app, 'big', { environments } as never);
    for (const [name, svc] of Object.entries(services)) registry.service(name, svc as never);
    const chart = new Chart(app, 'extra');
    if (widen) {
      new k8s.KubeNetworkPolicy(chart, 'open', { metadata: { name: 'open-svc-5', namespace: registry.namespace('dev') },
        spec: { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'svc-5' } }, policyTypes: ['Ingress'], ingress: [{ ports: [{ port: k8s.IntOrString.fromNumber(1), endPort: 65535 }] }] } });
    }
    const result = app.trySynth();
    return { result, dir };
  };

  test('fails on a policy wider than the registry, and writes nothing', () => {
    const { result, dir } = synth(true);
    expect(result.ok).toBe(false);
    expect(result.problem).toMatch(/traffic-undeclared: .*svc-5.* is allowed but not declared/);
    expect(fs.existsSync(path.join(dir, 'manifests'))).toBe(false);
  });

  test('the gate renders exactly the objects the synth writes', () => {
    const { result, dir } = synth(false);
    expect(result.ok).toBe(true);
    const resolved = result.registries.get('big')!;
    const rendered = gateObjects({ rendered: [{ id: 'big', resolved }], objects: [] });
    const written = fs.readdirSync(path.join(dir, 'manifests', 'k8s')).filter(f => f.startsWith('big-')).sort()
      .flatMap(f => jsyaml.loadAll(fs.readFileSync(path.join(dir, 'manifests', 'k8s', f), 'utf8')).map(object => ({ file: `k8s/${f}`, object })));
    const byFile = (list: Array<{ file: string; object: unknown }>) => [...list].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
    expect(rendered.length).toBeGreaterThan(5000);
    expect(JSON.parse(JSON.stringify(byFile(rendered)))).toEqual(byFile(written));
  });

  test('writes the output, with its traffic pictures, when the policies allow what is declared', () => {
    const { result, dir } = synth(false);
    expect(result.problem).toBeUndefined();
    expect(result.ok).toBe(true);
    const k8sFiles = fs.readdirSync(path.join(dir, 'manifests', 'k8s'));
    const policies = k8sFiles.map(f => fs.readFileSync(path.join(dir, 'manifests', 'k8s', f), 'utf8').split('kind: NetworkPolicy').length - 1).reduce((a, b) => a + b, 0);
    expect(policies).toBeGreaterThan(5000);
    const picture = fs.readFileSync(path.join(dir, 'manifests', 'traffic-dev.svg'), 'utf8');
    expect(/data-from="big-dev\/svc-1" data-to="big-dev\/svc-0"/.test(picture)).toBe(true);
  });
});
