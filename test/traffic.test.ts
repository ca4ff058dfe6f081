import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import fc from 'fast-check';
import * as jsYaml from 'js-yaml';
import { ApiObject, Chart } from 'cdk8s';
import { k8s } from '../imports/k8s';
import { PortsApp, RegistrySpec, ResolvedRegistry, checkRegistry } from '../lib';
import { clusterOf, loadFolder } from '../lib/netpol/load';
import { TRAFFIC_RULES, invalidValueFinding, verifyCluster } from '../lib/netpol/verify';
import { pathKey } from '../lib/netpol/cluster';
import { defineAura, defineLumiere } from '../main';
import { generatedObjects } from './support/generated';
import { ROOT } from './support/project';

/**
 * `verify`, `explain` and `diff --traffic`: the traffic the NetworkPolicies of a folder allow,
 * against what the registry declares. The evaluator's own semantics are pinned by
 * test/netpol-truth-table.test.ts; here, what a reviewer relies on.
 */

const tmp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), `cdk8s-ports-traffic-${prefix}-`));

/** The example synthesized into a fresh folder: the manifests and the resolved registries. */
function example(): { dir: string; manifests: string; registries: ResolvedRegistry[] } {
  const dir = tmp('example');
  const manifests = path.join(dir, 'manifests');
  const app = new PortsApp({ manifestsDir: manifests, outdir: path.join(dir, 'out'), lockFile: path.join(dir, 'ports.lock.json') });
  defineLumiere(app);
  defineAura(app);
  const result = app.trySynth();
  if (!result.ok) throw new Error(result.problem ?? JSON.stringify(result.findings));
  fs.rmSync(path.join(dir, 'out'), { recursive: true, force: true });
  return { dir, manifests, registries: [...result.registries.values()] };
}

function cli(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'cdk8s-ports.js'), ...args], {
    cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' }, timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, json: () => JSON.parse(r.stdout) };
}

/** The manifest-invalid findings of a folder, worked out in this process. */
const invalidIn = (dir: string) => loadFolder(dir).invalid.map(invalidValueFinding);

const write = (file: string, docs: unknown[]) => fs.writeFileSync(file, docs.map(d => jsYaml.dump(d)).join('---\n'));
const readDocs = (file: string) => jsYaml.loadAll(fs.readFileSync(file, 'utf8')) as any[];

/** A policy a careless hand adds: every pod of lumiere-dev may receive anything from every pod of it. */
const allowAllInNamespace = {
  apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy',
  metadata: { name: 'debug-allow-all', namespace: 'lumiere-dev' },
  spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'], ingress: [{ from: [{ podSelector: {} }] }], egress: [{ to: [{ podSelector: {} }] }] },
};

describe('verify on the example', () => {
  const ex = example();

  test('the generated policies allow exactly the declared traffic: clean, and every declared connection is an allowed path', () => {
    const result = verifyCluster(loadFolder(ex.manifests).cluster, ex.registries);
    expect(result.findings).toEqual([]);
    expect(result.ok).toBe(true);
    const allowed = new Set(result.allowed.map(pathKey));
    const both = result.declared.filter(d => d.side === 'both');
    expect(both.length).toBeGreaterThan(5);
    for (const d of both) expect(allowed).toContain(pathKey(d));
    // pourtier -> courier in development, on courier's container port; not the other way round.
    const courier = ex.registries.find(r => r.spec.name === 'lumiere')!.allocations.find(a => a.environment === 'development' && a.service === 'courier')!;
    expect(allowed).toContain(`lumiere-dev/pourtier -> lumiere-dev/courier ${courier.targetPort}/TCP`);
    expect([...allowed].filter(k => k.startsWith('lumiere-dev/courier -> lumiere-dev/pourtier'))).toEqual([]);
  });

  test('an injected policy that opens extra paths is an error naming the path, the policy, its file and rule', () => {
    const copy = tmp('inject');
    fs.cpSync(ex.manifests, copy, { recursive: true });
    write(path.join(copy, 'k8s', 'debug.yaml'), [allowAllInNamespace]);
    const result = verifyCluster(loadFolder(copy).cluster, ex.registries);
    expect(result.ok).toBe(false);
    const undeclared = result.findings.filter(f => f.rule === 'traffic-undeclared');
    expect(undeclared.length).toBeGreaterThan(0);
    const courierToPourtier = undeclared.find(f => f.where.from === 'lumiere-dev/courier' && f.where.to === 'lumiere-dev/pourtier');
    expect(courierToPourtier).toBeDefined();
    expect(courierToPourtier!.message).toMatch(/debug-allow-all \(k8s\/debug\.yaml, (egress|ingress) rule 1\)/);
    expect(courierToPourtier!.severity).toBe('error');
    // Nothing in other namespaces was opened.
    expect(undeclared.every(f => f.where.from!.startsWith('lumiere-dev/') && f.where.to!.startsWith('lumiere-dev/'))).toBe(true);
  });

  test('a removed policy that blocks a declared connection is an error naming the path and the side that blocks it', () => {
    const copy = tmp('remove');
    fs.cpSync(ex.manifests, copy, { recursive: true });
    const file = path.join(copy, 'k8s', 'lumiere-development.k8s.yaml');
    write(file, readDocs(file).filter(d => !(d.kind === 'NetworkPolicy' && d.metadata.name === 'allow-courier-from-pourtier')));
    const result = verifyCluster(loadFolder(copy).cluster, ex.registries);
    const blocked = result.findings.filter(f => f.rule === 'traffic-blocked');
    expect(blocked.map(f => [f.where.from, f.where.to])).toEqual([['lumiere-dev/pourtier', 'lumiere-dev/courier']]);
    expect(blocked[0].message).toMatch(/ingress of lumiere-dev\/courier is limited by default-deny/);
    expect(blocked[0].message).toMatch(/pourtier connects to courier/);
  });

  test('a namespace without default deny is an error, and a policy selecting no pod, a long name and a port range are warnings', () => {
    const copy = tmp('pitfalls');
    fs.cpSync(ex.manifests, copy, { recursive: true });
    const file = path.join(copy, 'k8s', 'lumiere-test.k8s.yaml');
    const docs = readDocs(file).filter(d => !(d.kind === 'NetworkPolicy' && d.metadata.name === 'default-deny'));
    docs.push(
      { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'typo', namespace: 'lumiere-test' }, spec: { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'pourtiers' } }, ingress: [{}] } },
      { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: `allow-${'x'.repeat(60)}`, namespace: 'lumiere-test' }, spec: { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'courier' } }, policyTypes: ['Ingress'] } },
      { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'range', namespace: 'lumiere-test' }, spec: { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'courier' } }, policyTypes: ['Egress'], egress: [{ ports: [{ port: 9000, endPort: 9010 }], to: [{ ipBlock: { cidr: '192.0.2.0/24' } }] }] } },
    );
    write(file, docs);
    const result = verifyCluster(loadFolder(copy).cluster, ex.registries);
    const by = (rule: string) => result.findings.filter(f => f.rule === rule);
    expect(by('default-deny-missing').map(f => f.where.namespace)).toEqual(['lumiere-test']);
    expect(by('default-deny-missing')[0].severity).toBe('error');
    expect(by('netpol-selects-nothing').map(f => f.where.policy)).toEqual(['typo']);
    expect(by('netpol-name-length').map(f => f.where.policy)).toEqual([`allow-${'x'.repeat(60)}`]);
    expect(by('netpol-end-port').map(f => f.where.policy)).toEqual(['range']);
    for (const rule of ['netpol-selects-nothing', 'netpol-name-length', 'netpol-end-port']) expect(by(rule)[0].severity).toBe('warning');
    // Without the default deny, the test namespace's pods without other policies accept anything: undeclared paths too.
    expect(by('traffic-undeclared').length).toBeGreaterThan(0);
  });

  test('a thousand pods open to each other pass the path limit: one traffic-too-many-paths error, never "verified" (#34)', () => {
    const dir = tmp('open');
    const deployments = Array.from({ length: 1000 }, (_, i) => ({
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: `w${i}`, namespace: 'open' },
      spec: { selector: { matchLabels: { app: `w${i}` } }, template: { metadata: { labels: { app: `w${i}` } }, spec: { containers: [{ name: 'c', image: 'x', ports: [{ containerPort: 80 }] }] } } },
    }));
    write(path.join(dir, 'open.yaml'), deployments);
    const text = cli(['verify', '.'], dir);
    expect(text.status).toBe(1);
    expect(text.stdout).toContain('error traffic-too-many-paths: the NetworkPolicies allow more than 2,000,000 paths');
    expect(text.stdout).toContain('more allowed paths than verify counts (nothing compared)');
    expect(text.stdout).not.toMatch(/verified|checked:/);
    const doc = cli(['verify', '.', '--json'], dir).json();
    expect(doc.ok).toBe(false);
    expect(doc.findings.map((f: { rule: string }) => f.rule)).toContain('traffic-too-many-paths');
  });

  test('every rule verify reports is documented in docs/traffic.md with its severity', () => {
    const doc = fs.readFileSync(path.join(ROOT, 'docs', 'traffic.md'), 'utf8');
    const rows = [...doc.matchAll(/^\| `([a-z-]+)` \| (error|warning) \|/gm)].map(m => [m[1], m[2]]);
    expect(Object.fromEntries(rows)).toEqual(Object.fromEntries(Object.entries(TRAFFIC_RULES).map(([rule, [severity]]) => [rule, severity])));
  });
});

describe('the synth verifies what it is about to write', () => {
  test('a policy in the user\'s own chart that opens an undeclared path stops the synth; nothing is written', () => {
    const dir = tmp('synth');
    const manifests = path.join(dir, 'manifests');
    const app = new PortsApp({ manifestsDir: manifests, outdir: path.join(dir, 'out'), lockFile: path.join(dir, 'ports.lock.json') });
    defineLumiere(app);
    const chart = new Chart(app, 'debug');
    new k8s.KubeNetworkPolicy(chart, 'allow-all', allowAllInNamespace as never);
    const result = app.trySynth();
    expect(result.ok).toBe(false);
    expect(result.problem).toMatch(/traffic-undeclared: lumiere-dev\/\S+ -> lumiere-dev\/\S+ .* debug-allow-all \(k8s\/debug\.k8s\.yaml/);
    expect(fs.existsSync(manifests)).toBe(false);
  });

  test('an AdminNetworkPolicy in the user\'s own chart that denies a declared connection stops the synth, naming it (#39)', () => {
    const dir = tmp('synth-admin');
    const manifests = path.join(dir, 'manifests');
    const app = new PortsApp({ manifestsDir: manifests, outdir: path.join(dir, 'out'), lockFile: path.join(dir, 'ports.lock.json') });
    defineLumiere(app);
    const chart = new Chart(app, 'platform');
    new ApiObject(chart, 'deny-lumiere', {
      apiVersion: 'policy.networking.k8s.io/v1alpha1', kind: 'AdminNetworkPolicy', metadata: { name: 'deny-lumiere' },
      spec: { priority: 3, subject: { namespaces: { matchLabels: { 'kubernetes.io/metadata.name': 'lumiere-dev' } } }, ingress: [{ name: 'nobody', action: 'Deny', from: [{ namespaces: {} }] }] },
    } as never);
    const result = app.trySynth();
    expect(result.ok).toBe(false);
    expect(result.problem).toMatch(/traffic-blocked: lumiere-dev\/\S+ -> lumiere-dev\/\S+ \d+\/TCP is declared .* but blocked: ingress of lumiere-dev\/\S+ is denied by the admin tier, AdminNetworkPolicy\/deny-lumiere \(priority 3, k8s\/platform\.k8s\.yaml\), ingress rule 1 "nobody": Deny/);
    expect(fs.existsSync(manifests)).toBe(false);
  });

  test('by default the synth verifies at every size: no pod limit', () => {
    expect(new PortsApp({ outdir: tmp('default') }).trafficVerifyLimit).toBe(Number.POSITIVE_INFINITY);
  });

  test('above trafficVerifyLimit pods the synth says it did not verify, and draws no traffic picture', () => {
    const dir = tmp('limit');
    const app = new PortsApp({ manifestsDir: path.join(dir, 'm'), outdir: path.join(dir, 'out'), lockFile: path.join(dir, 'l.json'), trafficVerifyLimit: 5 });
    defineLumiere(app);
    const chart = new Chart(app, 'debug');
    new k8s.KubeNetworkPolicy(chart, 'allow-all', allowAllInNamespace as never);
    const result = app.trySynth();
    expect(result.ok).toBe(true); // not verified, so the extra policy is not caught here: verify catches it
    expect(result.notes).toEqual([expect.stringMatching(/^traffic not verified: the output has \d+ pods, more than the synth verifies \(trafficVerifyLimit 5\); run cdk8s-ports verify/)]);
    expect([...result.files.keys()].filter(f => f.includes('traffic-'))).toEqual([]);
    const registries = [...result.registries.values()];
    expect(verifyCluster(loadFolder(path.join(dir, 'm')).cluster, registries).findings.some(f => f.rule === 'traffic-undeclared')).toBe(true);
  });

  test('a clean synth writes a traffic picture per environment, drawn from what the policies allow', () => {
    const ex = example();
    const svg = fs.readFileSync(path.join(ex.manifests, 'traffic-development.svg'), 'utf8');
    expect(svg).toMatch(/^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).toContain('lumiere-dev/pourtier → lumiere-dev/courier');
    expect(svg).not.toContain('lumiere-dev/courier → lumiere-dev/pourtier');
    expect(fs.existsSync(path.join(ex.manifests, 'aura', 'traffic-development.svg'))).toBe(true);
  });
});

describe('property: for generated registries the evaluator finds exactly the declared graph', () => {
  const names = ['api', 'web', 'worker', 'auth', 'billing'];
  const spec = fc.record({
    envs: fc.subarray(['production', 'development'], { minLength: 1 }),
    edges: fc.array(fc.tuple(fc.nat(4), fc.nat(4), fc.boolean()), { maxLength: 8 }),
    publics: fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
    // Planned services deploy nothing: no policy, no declared path, to them or from them.
    statuses: fc.array(fc.constantFrom(undefined, 'active', 'planned'), { minLength: 5, maxLength: 5 }),
    db: fc.boolean(),
    mq: fc.boolean(),
  }).map(({ envs, edges, publics, statuses, db, mq }): RegistrySpec => ({
    name: 'prop',
    environments: Object.fromEntries(envs.map((e, i) => [e, { range: [10000 + i * 1000, 10499 + i * 1000] }])),
    services: Object.fromEntries(names.map((n, i) => [n, {
      ...(publics[i] ? { public: i % 2 === 0 ? true : { namespaces: ['ingress-nginx'], cidrs: ['198.51.100.0/24'] } } : {}),
      ...(statuses[i] ? { status: statuses[i] } : {}),
      ports: { http: { offset: i * 2 }, metrics: { offset: i * 2 + 1 } },
      connectsTo: [
        ...edges.filter(([f, t]) => f === i && t !== i).map(([, t, m]) => ({ to: names[t], port: m ? 'metrics' : 'http' })),
        ...(db && i === 0 ? [{ to: 'db', port: 'main' }] : []),
        ...(mq && i === 1 ? [{ to: 'mq', port: 'amqp' }] : []),
      ].filter((c, j, all) => all.findIndex(o => o.to === c.to && o.port === c.port) === j),
    }])),
    externals: {
      ...(db ? { db: { kind: 'postgres', cidrs: ['10.9.0.0/24'], ports: { main: { port: 5432 } } } } : {}),
      // An external inside the cluster, reached by namespace and pod labels on its container port.
      ...(mq ? { mq: { namespace: 'messaging', podSelector: { app: 'rabbitmq' }, ports: { amqp: { port: 25672, targetPort: 5672 } } } } : {}),
    },
  }) as unknown as RegistrySpec);

  test('verify is clean on the generated policies, and every declared connection is an allowed path', () => {
    fc.assert(fc.property(spec, s => {
      const resolved = checkRegistry(s);
      if (!resolved.ok) throw new Error(JSON.stringify(resolved.findings.filter(f => f.severity === 'error')));
      const objects = generatedObjects(resolved);
      const result = verifyCluster(clusterOf(objects.map(object => ({ file: 'k8s.yaml', object }))), [resolved]);
      if (!result.ok) throw new Error(result.findings.map(f => f.message).join('\n'));
      const allowed = new Set(result.allowed.map(pathKey));
      // Not vacuous: each connection between services is a path the policies allow.
      const deployed = (name: string) => resolved.spec.services?.[name]?.status !== 'planned';
      for (const c of resolved.connections.filter(x => x.targetKind === 'service' && deployed(x.from) && deployed(x.to))) {
        const a = resolved.allocations.find(x => x.environment === c.targetEnvironment && x.service === c.to && x.portName === c.portName)!;
        const ns = resolved.environments.find(e => e.name === c.environment)!.namespace;
        if (!allowed.has(`${ns}/${c.from} -> ${ns}/${c.to} ${a.targetPort}/TCP`)) throw new Error(`declared ${c.from} -> ${c.to} not allowed`);
      }
    }), { numRuns: Number(process.env.FC_RUNS ?? 150), seed: process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined });
  });
});

describe('the CLI', () => {
  const ex = example();

  test('verify: exit 0 on the example with a summary; exit 1 with the finding when a policy opens a path; JSON for machines', () => {
    const clean = cli(['verify'], ex.dir);
    expect(clean.status).toBe(0);
    expect(clean.stdout).toMatch(/^verified: \d+ pods, \d+ NetworkPolicies, \d+ allowed paths, compared with aura, lumiere/m);
    const copy = path.join(ex.dir, 'injected');
    fs.cpSync(ex.manifests, copy, { recursive: true });
    write(path.join(copy, 'k8s', 'debug.yaml'), [allowAllInNamespace]);
    const bad = cli(['verify', 'injected'], ex.dir);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/error traffic-undeclared: lumiere-dev\/courier -> lumiere-dev\/pourtier (\d+(-\d+)?\/TCP|every TCP port \(1-65535\)) is allowed but not declared/);
    const doc = cli(['verify', 'injected', '--json'], ex.dir).json();
    expect(doc.ok).toBe(false);
    expect(doc.findings.some((f: any) => f.rule === 'traffic-undeclared' && f.policies.some((p: any) => p.policy === 'debug-allow-all' && p.file === 'k8s/debug.yaml'))).toBe(true);
  });

  test('verify on a folder of hand-written manifests with no registry: default deny and pitfalls, and a note', () => {
    const dir = tmp('hand');
    write(path.join(dir, 'app.yaml'), [
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'shop' }, spec: { template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx', ports: [{ containerPort: 8080, name: 'http' }] }] } } } },
      { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'web', namespace: 'shop' }, spec: { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ ports: [{ port: 'http' }] }] } },
    ]);
    const r = cli(['verify', '.'], dir);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/error default-deny-missing: namespace shop has no default deny for Ingress and Egress/);
    expect(r.stderr).toMatch(/no registry/);
    expect(r.stdout).toMatch(/^1 error, 0 warnings: 1 pod, 1 NetworkPolicy, \d+ allowed paths? \(no registry found/m);
  });

  test('explain names the policies, files and rules that allow a path, and the other direction', () => {
    const r = cli(['explain', 'development/pourtier', 'courier'], ex.dir);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^lumiere-dev\/pourtier -> lumiere-dev\/courier \d+\/TCP: allowed$/m);
    expect(r.stdout).toMatch(/egress of lumiere-dev\/pourtier: selected by .*allowed by allow-pourtier-to-courier \(k8s\/lumiere-development\.k8s\.yaml, egress rule 1\)/);
    expect(r.stdout).toMatch(/ingress of lumiere-dev\/courier: selected by .*allowed by allow-courier-from-pourtier \(k8s\/lumiere-development\.k8s\.yaml, ingress rule 1\)/);
    expect(r.stdout).toMatch(/^lumiere-dev\/courier -> lumiere-dev\/pourtier \d+\/TCP: blocked$/m);
    expect(r.stdout).toMatch(/egress of lumiere-dev\/courier: selected by default-deny, .*no rule allows it/);
    const unknown = cli(['explain', 'pourtire', 'courier'], ex.dir);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/no pod pourtire in the manifests; did you mean .*pourtier/);
  });

  test('diff --traffic against a folder and a git revision: what opens and closes, as text, JSON and Markdown; exit 1 when a path opens', () => {
    const base = path.join(ex.dir, 'base');
    fs.cpSync(ex.manifests, base, { recursive: true });
    write(path.join(ex.manifests, 'k8s', 'debug.yaml'), [allowAllInNamespace]);
    const file = path.join(ex.manifests, 'k8s', 'lumiere-development.k8s.yaml');
    write(file, readDocs(file).filter(d => !(d.kind === 'NetworkPolicy' && d.metadata.name === 'allow-courier-from-pourtier')));
    const text = cli(['diff', '--traffic', 'base'], ex.dir);
    expect(text.status).toBe(1);
    expect(text.stdout).toMatch(/^opens  lumiere-dev\/courier -> lumiere-dev\/pourtier:\d+(-\d+)?\/TCP$/m);
    expect(text.stdout).not.toMatch(/^closes /m); // the allow-all keeps pourtier -> courier open
    const doc = cli(['diff', '--traffic', 'base', '--json'], ex.dir).json();
    expect(doc.opens.length).toBeGreaterThan(0);
    expect(doc.opens.every((p: any) => p.from.startsWith('lumiere-dev/') || p.to.startsWith('lumiere-dev/'))).toBe(true);
    const md = cli(['diff', '--traffic', 'base', '--markdown'], ex.dir);
    expect(md.stdout).toMatch(/^\| opens \| lumiere-dev\/courier \| lumiere-dev\/pourtier \| \d+(-\d+)?\/TCP \|$/m);
    // Against a git revision: commit the base, change the working tree.
    const repo = tmp('git');
    fs.cpSync(base, path.join(repo, 'manifests'), { recursive: true });
    const git = (...args: string[]) => spawnSync('git', args, { cwd: repo, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } });
    git('init', '-q');
    git('add', '.');
    git('commit', '-qm', 'base');
    expect(cli(['diff', '--traffic'], repo).stdout).toMatch(/^no change in allowed traffic against HEAD$/m);
    fs.rmSync(path.join(repo, 'manifests', 'k8s', 'lumiere-development.k8s.yaml'));
    const closed = cli(['diff', '--traffic', 'HEAD'], repo);
    expect(closed.stdout).toMatch(/^closes lumiere-dev\/pourtier -> lumiere-dev\/courier:\d+\/TCP$/m);
    // Without the file, lumiere-dev has no default deny left: a pod with one of its workloads' labels
    // (the stand-ins the other policies' selectors ask for) would now reach aura's public web.
    expect(closed.status).toBe(1);
    expect(closed.stdout.split('\n').filter(l => l.startsWith('opens'))).toEqual(['courier', 'passeur', 'pourtier'].map(name =>
      `opens  lumiere-dev/(pod with app.kubernetes.io/name=${name}) -> aura-dev/web:54112/TCP`));
    expect(cli(['diff', '--traffic', 'no-such-ref'], repo).stderr).toMatch(/no-such-ref: no such git revision \(and no such folder\)/);
    // Two bases are one too many, whichever way they are given.
    for (const args of [['--traffic', 'HEAD', 'HEAD~1'], ['--traffic', '--', 'HEAD', 'HEAD~1']]) {
      const two = cli(['diff', ...args], repo);
      expect(two.status).toBe(2);
      expect(two.stderr).toMatch(/diff --traffic takes one base/);
    }
    // A manifest of the working tree that cannot be read is an error (exit 2) naming it, not a quiet "closes".
    fs.writeFileSync(path.join(repo, 'manifests', 'k8s', 'broken.yaml'), 'kind: NetworkPolicy\nspec: [\n');
    const broken = cli(['diff', '--traffic'], repo);
    expect(broken.status).toBe(2);
    expect(broken.stderr).toMatch(/manifests\/k8s\/broken\.yaml cannot be read: .*\n.*fix or remove the file/);
    expect(broken.stdout).toBe('');
  });
});

describe('what a review found (each case was missed or mishandled before)', () => {
  const ex = example();
  const policy = (name: string, namespace: string, spec: object) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace }, spec });
  const withExtra = (docs: unknown[]) => {
    const copy = tmp('review');
    fs.cpSync(ex.manifests, copy, { recursive: true });
    write(path.join(copy, 'extra.yaml'), docs);
    return verifyCluster(loadFolder(copy).cluster, ex.registries);
  };
  const undeclared = (r: ReturnType<typeof verifyCluster>) => r.findings.filter(f => f.rule === 'traffic-undeclared').map(f => `${f.where.from} -> ${f.where.to} ${f.where.port}/${f.where.protocol}`);
  const courier = { matchLabels: { 'app.kubernetes.io/name': 'courier' } };

  test('egress to every namespace on a port no pod of the folder declares, and to the internet on every UDP port, are undeclared', () => {
    const r = withExtra([policy('evil1', 'lumiere-dev', { podSelector: courier, policyTypes: ['Egress'], egress: [
      { to: [{ namespaceSelector: {} }], ports: [{ port: 6666 }] },
      { to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ protocol: 'UDP' }] },
    ] })]);
    expect(undeclared(r)).toEqual(expect.arrayContaining([
      'lumiere-dev/courier -> (another-namespace)/(unlisted-pod) 6666/TCP',
      expect.stringMatching(/^lumiere-dev\/courier -> 203\.0\.113\.7 \d+\/UDP$/),
    ]));
  });

  test('an ipBlock whose except covers the internet stand-ins is still tried, with an address it admits', () => {
    const r = withExtra([policy('evil2', 'lumiere-dev', { podSelector: {}, policyTypes: ['Ingress'], ingress: [
      { from: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['203.0.113.0/24', '10.20.0.10/32', '192.0.2.10/32'] } }] },
    ] })]);
    expect(undeclared(r).some(p => /^\d+\.\d+\.\d+\.\d+ -> lumiere-dev\/courier /.test(p))).toBe(true);
  });

  test('an allow-all named default-deny is no default deny', () => {
    const dir = tmp('allow-all');
    write(path.join(dir, 'a.yaml'), [
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'api', namespace: 'a' }, spec: { template: { metadata: { labels: { app: 'api' } }, spec: { containers: [{ name: 'c', ports: [{ containerPort: 8080 }] }] } } } },
      policy('default-deny', 'a', { podSelector: {}, policyTypes: ['Ingress', 'Egress'], ingress: [{}], egress: [{}] }),
    ]);
    expect(verifyCluster(loadFolder(dir).cluster, []).findings.map(f => f.rule)).toContain('default-deny-missing');
  });

  test('a kind written with an escape is still read; a null namespaceSelector is an absent one; replicas talk to each other', () => {
    const dir = tmp('escapes');
    fs.writeFileSync(path.join(dir, 'hidden.json'), '{"apiVersion":"networking.k8s.io/v1","k\\u0069nd":"NetworkPolicy","metadata":{"name":"open","namespace":"a"},"spec":{"podSelector":{},"ingress":[{}]}}');
    write(path.join(dir, 'a.yaml'), [
      { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db', namespace: 'a' }, spec: { replicas: 3, template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'c', ports: [{ containerPort: 5432 }] }] } } } },
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'b' }, spec: { template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c' }] } } } },
      policy('web-out', 'b', { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ podSelector: { matchLabels: { app: 'db' } }, namespaceSelector: null }], ports: [{ port: 5432 }] }] }),
    ]);
    const { cluster } = loadFolder(dir);
    expect(cluster.policies.map(p => p.name).sort()).toEqual(['open', 'web-out']);
    const paths = cluster.paths().map(pathKey);
    expect(paths).toContain('a/db -> a/db 5432/TCP');
    expect(paths).not.toContain('b/web -> a/db 5432/TCP');
  });

  test('a broken manifest is an error that names the file; a file that cannot hold an object is not read', () => {
    const dir = tmp('unreadable');
    write(path.join(dir, 'a.yaml'), [
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'api', namespace: 'a' }, spec: { template: { metadata: { labels: { app: 'api' } }, spec: { containers: [{ name: 'c', ports: [{ containerPort: 8080 }] }] } } } },
      policy('deny', 'a', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] }),
    ]);
    // Not YAML a parser accepts; no kind: a compose file cut short, say. Nothing in it can be a pod or a policy.
    fs.writeFileSync(path.join(dir, 'docker-compose.yml'), 'services:\n  web: [ports: {\n');
    expect(loadFolder(dir).problems).toEqual([]);
    let r = cli(['verify', '.'], dir);
    expect(r.stdout).toMatch(/^checked: 1 pod, 1 NetworkPolicy/);
    expect(r.status).toBe(0);
    // A folder with nothing to verify is a usage error, not "checked".
    const empty = tmp('empty');
    fs.writeFileSync(path.join(empty, 'docker-compose.yml'), 'services:\n  web: { image: nginx }\n');
    const none = cli(['verify', '.'], empty);
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/\. holds no workload, Service or NetworkPolicy/);
    expect(none.stdout).toBe('');
    // With a kind it may be a manifest: broken, it is an error, escaped or not.
    for (const text of ['kind: Deployment\nmetadata: {name: [\n', '"k\\x69nd": Deployment\nmetadata: {name: [\n']) {
      fs.writeFileSync(path.join(dir, 'broken.yaml'), text);
      expect(loadFolder(dir).problems.map(p => p.file)).toEqual(['broken.yaml']);
      r = cli(['verify', '.'], dir);
      expect(r.stdout).toMatch(/manifest-unreadable.*broken\.yaml/);
      expect(r.status).toBe(1);
    }
  });

  test('a registry service that no pod of the folder stands for is a warning naming its selector, not a silent skip', () => {
    const dir = tmp('unmatched');
    write(path.join(dir, 'shop.yaml'), [
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'shop' }, spec: { template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', ports: [{ containerPort: 8080 }] }] } } } },
      policy('deny', 'shop', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] }),
    ]);
    const registry = (selector: string) => 'name: shop\nenvironments:\n  dev: { range: [8000, 8999], namespace: shop }\nservices:\n' +
      `  web:\n${selector}    ports:\n      http: { port: 8080 }\n`;
    fs.writeFileSync(path.join(dir, 'ports.yaml'), registry(''));
    const r = cli(['verify', '.', '--json'], dir);
    expect(r.json().findings.filter((f: any) => f.rule === 'traffic-unmatched').map((f: any) => `${f.severity}: ${f.message}`)).toEqual([
      'warning: shop: service web has ports in dev, but no workload or Service in namespace shop matches its selector app.kubernetes.io/name=web: its connections and public entries were not compared',
    ]);
    fs.writeFileSync(path.join(dir, 'ports.yaml'), registry('    selector: { app: web }\n'));
    expect(cli(['verify', '.', '--json'], dir).json().findings.map((f: any) => f.rule)).not.toContain('traffic-unmatched');
  });

  test('values the API server rejects are errors naming the file, object, entry and fix; edge values it accepts are not', () => {
    const dir = tmp('invalid');
    const deployment = (ports: object[]) => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'api', namespace: 'a' },
      spec: { template: { metadata: { labels: { app: 'api' } }, spec: { containers: [{ name: 'main', ports }] } } } });
    const service = (ports: object[]) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'api', namespace: 'a' }, spec: { selector: { app: 'api' }, ports } });
    const allow = (ports: object[]) => policy('allow', 'a', { podSelector: { matchLabels: { app: 'api' } }, ingress: [{ ports }] });
    const deny = policy('deny', 'a', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    // What the API server accepts at the edges: ports 1 and 65535, a 15-character name, SCTP, a range ending at its start.
    write(path.join(dir, 'ok.yaml'), [
      deployment([{ containerPort: 1, name: 'a' }, { containerPort: 65535, name: 'metrics-port-15', protocol: 'SCTP' }, { containerPort: 9000, protocol: 'UDP' }]),
      service([{ name: 'web', port: 80, targetPort: 'metrics-port-15', protocol: 'SCTP' }, { port: 65535 }]),
      allow([{ port: 9000, endPort: 9000, protocol: 'UDP' }, { port: 'a' }, { protocol: 'SCTP' }]),
      deny,
    ]);
    expect(invalidIn(dir)).toEqual([]);
    write(path.join(dir, 'ok.yaml'), [
      deployment([{ containerPort: 70000, name: 'http' }, { containerPort: 8080.5 }, { containerPort: '8082' }, { containerPort: 8081, protocol: 'tcp', name: 'Metrics_Port' }, { containerPort: 8083, name: '8083' },
        // What the suggested names make of runs of dashes, a leading one, and names too long.
        { containerPort: 8084, name: 'Web--Port' }, { containerPort: 8085, name: '-Web' }, { containerPort: 8086, name: 'Metrics-Server-X' }, { containerPort: 8087, name: '123456789012345' }, { containerPort: 8088, name: '123456789-12' }]),
      service([{ name: 'web', port: 0, targetPort: '8080', protocol: 'UDP' }, { port: 80, targetPort: 65536, protocol: 'HTTP' }]),
      allow([{ port: 9000, endPort: 8000 }, { port: 'http', endPort: 9000 }, { port: 8080, protocol: 'udp' }, { port: '8080' }, { port: 443, endPort: 70000 },
        // A range ending at its start is fine (only the protocol is wrong); a policy's empty protocol is not TCP.
        { port: 80, endPort: 80, protocol: 'tcp' }, { port: 81, protocol: '' }]),
      deny,
    ]);
    // (In this process, so that a mutation run sees the checks; the CLI's own output is pinned below.)
    const invalid = invalidIn(dir);
    expect(invalid.map(f => `${f.severity}: ${f.message} | fix: ${f.fix}`)).toEqual([
      'error: ok.yaml: Deployment/api in a: container main, port http: containerPort 70000 is not a port number (an integer from 1 to 65535); the API server rejects the object | fix: write containerPort as an integer from 1 to 65535, unquoted',
      'error: ok.yaml: Deployment/api in a: container main, port 8080.5: containerPort 8080.5 is not a port number (an integer from 1 to 65535); the API server rejects the object | fix: write containerPort as an integer from 1 to 65535, unquoted',
      'error: ok.yaml: Deployment/api in a: container main, port "8082": containerPort "8082" is not a port number (an integer from 1 to 65535); the API server rejects the object | fix: write containerPort as an integer from 1 to 65535, unquoted',
      'error: ok.yaml: Deployment/api in a: container main, port Metrics_Port: name "Metrics_Port" is not a port name (1-15 lower-case letters, digits and \'-\', at least one letter, no \'-\' at either end or twice in a row); the API server rejects the object | fix: rename the port, for example to "metrics-port", and every reference to it',
      'error: ok.yaml: Deployment/api in a: container main, port Metrics_Port: protocol "tcp" is not TCP, UDP or SCTP (written exactly so, in upper case); the API server rejects the object | fix: write protocol: TCP',
      'error: ok.yaml: Deployment/api in a: container main, port 8083: name "8083" is not a port name (1-15 lower-case letters, digits and \'-\', at least one letter, no \'-\' at either end or twice in a row); the API server rejects the object | fix: rename the port, for example to "port-8083", and every reference to it',
      'error: ok.yaml: Deployment/api in a: container main, port Web--Port: name "Web--Port" is not a port name (1-15 lower-case letters, digits and \'-\', at least one letter, no \'-\' at either end or twice in a row); the API server rejects the object | fix: rename the port, for example to "web-port", and every reference to it',
      'error: ok.yaml: Deployment/api in a: container main, port -Web: name "-Web" is not a port name (1-15 lower-case letters, digits and \'-\', at least one letter, no \'-\' at either end or twice in a row); the API server rejects the object | fix: rename the port, for example to "web", and every reference to it',
      'error: ok.yaml: Deployment/api in a: container main, port Metrics-Server-X: name "Metrics-Server-X" is not a port name (1-15 lower-case letters, digits and \'-\', at least one letter, no \'-\' at either end or twice in a row); the API server rejects the object | fix: rename the port, for example to "metrics-server", and every reference to it',
      'error: ok.yaml: Deployment/api in a: container main, port 123456789012345: name "123456789012345" is not a port name (1-15 lower-case letters, digits and \'-\', at least one letter, no \'-\' at either end or twice in a row); the API server rejects the object | fix: rename the port, for example to "port-1234567890", and every reference to it',
      'error: ok.yaml: Deployment/api in a: container main, port 123456789-12: name "123456789-12" is not a port name (1-15 lower-case letters, digits and \'-\', at least one letter, no \'-\' at either end or twice in a row); the API server rejects the object | fix: rename the port, for example to "port-123456789", and every reference to it',
      'error: ok.yaml: NetworkPolicy/allow in a: ingress rule 1, port 1: endPort 8000 is below port 9000; the API server rejects the object | fix: write the range as port: 8000, endPort: 9000',
      'error: ok.yaml: NetworkPolicy/allow in a: ingress rule 1, port 2: endPort 9000 without a numbered port; the API server rejects the object | fix: give the range\'s first port as a number in port, or remove endPort',
      'error: ok.yaml: NetworkPolicy/allow in a: ingress rule 1, port 3: protocol "udp" is not TCP, UDP or SCTP (written exactly so, in upper case); the API server rejects the object | fix: write protocol: UDP',
      'error: ok.yaml: NetworkPolicy/allow in a: ingress rule 1, port 4: port "8080" is neither a port number nor a port name (1-15 lower-case letters, digits and \'-\', at least one letter); the API server rejects the object | fix: write port as the number 8080, unquoted (a quoted number is read as a port name)',
      'error: ok.yaml: NetworkPolicy/allow in a: ingress rule 1, port 5: endPort 70000 is not a port number (an integer from 1 to 65535); the API server rejects the object | fix: write endPort as an integer from 1 to 65535, unquoted',
      'error: ok.yaml: NetworkPolicy/allow in a: ingress rule 1, port 6: protocol "tcp" is not TCP, UDP or SCTP (written exactly so, in upper case); the API server rejects the object | fix: write protocol: TCP',
      'error: ok.yaml: NetworkPolicy/allow in a: ingress rule 1, port 7: protocol "" is not TCP, UDP or SCTP (written exactly so, in upper case); the API server rejects the object | fix: write protocol: TCP, UDP or SCTP',
      'error: ok.yaml: Service/api in a: port web: port 0 is not a port number (an integer from 1 to 65535); the API server rejects the object | fix: write port as an integer from 1 to 65535, unquoted',
      'error: ok.yaml: Service/api in a: port web: targetPort "8080" is neither a port number nor a port name (1-15 lower-case letters, digits and \'-\', at least one letter); the API server rejects the object | fix: write targetPort as the number 8080, unquoted (a quoted number is read as a port name)',
      'error: ok.yaml: Service/api in a: port 2: targetPort 65536 is not a port number (an integer from 1 to 65535); the API server rejects the object | fix: write targetPort as an integer from 1 to 65535, unquoted',
      'error: ok.yaml: Service/api in a: port 2: protocol "HTTP" is not TCP, UDP or SCTP (written exactly so, in upper case); the API server rejects the object | fix: write protocol: TCP, UDP or SCTP',
    ]);
    expect(invalid.find(f => f.message.includes('NetworkPolicy/allow'))!.where).toEqual({ namespace: 'a', policy: 'allow', object: 'NetworkPolicy/allow', file: 'ok.yaml' });
    expect(invalid[0].where).toEqual({ namespace: 'a', object: 'Deployment/api', file: 'ok.yaml' });
    // The CLI reports them (exit 1), in its JSON as in the above.
    const r = cli(['verify', '.', '--json'], dir);
    expect(r.status).toBe(1);
    expect(r.json().findings.filter((f: any) => f.rule === 'manifest-invalid')).toEqual(JSON.parse(JSON.stringify(invalid)));
    // explain and diff --traffic say so on stderr (their verdicts read the values as written: they match nothing).
    const explained = cli(['explain', 'a/api', 'a/api', '8080', '-m', '.'], dir);
    expect(explained.stderr).toMatch(/^warning: ok\.yaml: Deployment\/api in a: container main, port http: containerPort 70000 is not a port number/m);
    const diffed = cli(['diff', '--traffic', '.', '--manifests', '.'], dir);
    expect(diffed.stderr).toMatch(/^warning: \.\/ok\.yaml: NetworkPolicy\/allow in a: ingress rule 1, port 3: protocol "udp" is not TCP/m);
    expect(diffed.status).toBe(0);
  });

  test('what the API server fills in is accepted and read as it reads it; what it rejects in any corner of a pod is not missed', () => {
    const dir = tmp('defaults');
    // The Deployment web of namespace a, with this pod spec.
    const web = (podSpec: string) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: a}
spec:
  template:
    metadata: {labels: {app: web}}
    spec:
${podSpec}`;
    // Null and empty fields as Helm renders them: a null protocol is TCP, a null endPort no range,
    // a Service targetPort of 0 or "" its port, an empty container protocol TCP and name none.
    fs.writeFileSync(path.join(dir, 'ok.yaml'), `
${web(`      containers:
        - name: main
          ports: [{containerPort: 8080, name: "", protocol: ""}, {containerPort: 8081, protocol: }]
      initContainers:
        - {name: proxy, restartPolicy: Always, ports: [{containerPort: 15001, name: proxy}]}
        - {name: setup, ports: [{containerPort: 9999}]}`)}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: a}
spec:
  selector: {app: api}
  ports: [{name: web, port: 80, targetPort: 0, protocol: ""}, {name: other, port: 81, targetPort: "", nodePort: 0}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: cli, namespace: a}
spec:
  template:
    metadata: {labels: {app: cli}}
    spec: {containers: [{name: main}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: a}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: cli-out, namespace: a}
spec:
  podSelector: {matchLabels: {app: cli}}
  policyTypes: [Egress]
  egress: [{to: [{podSelector: {}}], ports: [{port: 8080, protocol: , endPort: }, {port: 80}, {port: 15001}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: in, namespace: a}
spec:
  podSelector: {}
  ingress: [{from: [{podSelector: {matchLabels: {app: cli}}, namespaceSelector: }], ports: [{port: 8080, protocol: }, {port: 80}, {port: proxy}]}]
`);
    expect(invalidIn(dir)).toEqual([]);
    // Read as the API server reads them: TCP, the Service's stand-in on 80, the sidecar's port; not the init container's.
    const paths = verifyCluster(loadFolder(dir).cluster, []).allowed.map(pathKey);
    expect(paths).toEqual(expect.arrayContaining(['a/cli -> a/web 8080/TCP', 'a/cli -> a/api 80/TCP', 'a/cli -> a/web 15001/TCP']));
    expect(paths.filter((p: string) => p.includes('9999') || p.includes('null'))).toEqual([]);

    fs.writeFileSync(path.join(dir, 'ok.yaml'), `
${web(`      hostNetwork: true
      containers: [{name: main, ports: [{containerPort: 8080, hostPort: 70000, name: http}, {containerPort: 8081, name: http}, 8082, {containerPort: .nan}, {containerPort: 70001, name: "", protocol: ""}, {name: nope}]}]
      initContainers: [{name: setup, ports: [{containerPort: 0}]}]`)}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: a}
spec:
  selector: {app: api}
  ports: [{name: HTTP_Web, port: 80, nodePort: 99999}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: in, namespace: a}
spec:
  podSelector: {}
  ingress: [{from: [{podSelector: {}, ipBlock: {cidr: 10.0.0.0/8}}, x, {namespaceSelector: {}, ipBlock: {cidr: 10.0.0.0/8}}], ports: [{port: "99999"}, {port: 70000, endPort: 65535}, 443, https]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {namespace: a}
spec: {podSelector: {}, egress: [{ports: [{port: 0}]}]}
`);
    expect(invalidIn(dir).map(f => `${f.message} | ${f.fix}`)).toEqual([
      'ok.yaml: Deployment/web in a: container main, port http: hostPort 70000 is not a port number (an integer from 1 to 65535); the API server rejects the object | write hostPort as an integer from 1 to 65535, unquoted',
      'ok.yaml: Deployment/web in a: container main, port http: the container has two ports named http; the API server rejects the object | give each port of a container a name of its own',
      'ok.yaml: Deployment/web in a: container main, port 3: 8082 is not a port entry; the API server rejects the object | write it as containerPort: <number>, with name and protocol if needed',
      'ok.yaml: Deployment/web in a: container main, port NaN: containerPort NaN is not a port number (an integer from 1 to 65535); the API server rejects the object | write containerPort as an integer from 1 to 65535, unquoted',
      'ok.yaml: Deployment/web in a: container main, port 70001: containerPort 70001 is not a port number (an integer from 1 to 65535); the API server rejects the object | write containerPort as an integer from 1 to 65535, unquoted',
      'ok.yaml: Deployment/web in a: container main, port nope: containerPort is missing; the API server rejects the object | write containerPort as an integer from 1 to 65535, unquoted',
      'ok.yaml: Deployment/web in a: init container setup, port 0: containerPort 0 is not a port number (an integer from 1 to 65535); the API server rejects the object | write containerPort as an integer from 1 to 65535, unquoted',
      'ok.yaml: NetworkPolicy/in in a: ingress rule 1, peer 1: ipBlock together with podSelector (read here as the ipBlock alone); the API server rejects the object | make them two peers of the rule: one with the ipBlock, one with the selectors',
      'ok.yaml: NetworkPolicy/in in a: ingress rule 1, peer 2: "x" is not a peer; the API server rejects the object | write it as podSelector, namespaceSelector (or both), or ipBlock',
      'ok.yaml: NetworkPolicy/in in a: ingress rule 1, peer 3: ipBlock together with namespaceSelector (read here as the ipBlock alone); the API server rejects the object | make them two peers of the rule: one with the ipBlock, one with the selectors',
      'ok.yaml: NetworkPolicy/in in a: ingress rule 1, port 1: port "99999" is neither a port number nor a port name (1-15 lower-case letters, digits and \'-\', at least one letter); the API server rejects the object | write port as an integer from 1 to 65535, or as the name of a container port',
      'ok.yaml: NetworkPolicy/in in a: ingress rule 1, port 2: port 70000 is not a port number (an integer from 1 to 65535); the API server rejects the object | write port as an integer from 1 to 65535, unquoted',
      'ok.yaml: NetworkPolicy/in in a: ingress rule 1, port 2: endPort 65535 is below port 70000; the API server rejects the object | write port and endPort as an integer from 1 to 65535, endPort not below port',
      'ok.yaml: NetworkPolicy/in in a: ingress rule 1, port 3: 443 is not a port entry; the API server rejects the object | write it as port: 443, with protocol if not TCP',
      'ok.yaml: NetworkPolicy/in in a: ingress rule 1, port 4: "https" is not a port entry; the API server rejects the object | write it as port: <number>, with protocol if not TCP',
      'ok.yaml: NetworkPolicy/(unnamed) in a: egress rule 1, port 1: port 0 is not a port number (an integer from 1 to 65535); the API server rejects the object | write port as an integer from 1 to 65535, unquoted',
      'ok.yaml: Service/api in a: port HTTP_Web: name "HTTP_Web" is not a DNS label (1-63 lower-case letters, digits and \'-\', a letter or digit at either end); the API server rejects the object | rename it, for example to "http-web"',
      'ok.yaml: Service/api in a: port HTTP_Web: nodePort 99999 is not a port number (an integer from 1 to 65535); the API server rejects the object | write nodePort as an integer from 1 to 65535, unquoted',
    ]);
  });

  test('a peer whose only selector is null says nothing and admits nobody (not every pod)', () => {
    const pod = (name: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'a' }, spec: { containers: [{ name: 'c', ports: [{ containerPort: 80 }] }] } });
    const cluster = clusterOf([pod('x'), pod('y'), policy('in', 'a', { podSelector: {}, ingress: [{ from: [{ podSelector: null }] }] })].map(object => ({ file: 'a.yaml', object })));
    expect(cluster.paths().map(pathKey)).toEqual([]);
  });

  test('the synth stops on a value the API server rejects in the user\'s own chart; nothing is written', () => {
    const dir = tmp('synth-invalid');
    const manifests = path.join(dir, 'manifests');
    const app = new PortsApp({ manifestsDir: manifests, outdir: path.join(dir, 'out'), lockFile: path.join(dir, 'ports.lock.json') });
    defineLumiere(app);
    const chart = new Chart(app, 'extra');
    new k8s.KubeNetworkPolicy(chart, 'p', { metadata: { name: 'extra', namespace: 'lumiere-dev' }, spec: { podSelector: { matchLabels: { app: 'x' } }, ingress: [{ ports: [{ port: k8s.IntOrString.fromNumber(8080), protocol: 'tcp' }] }] } });
    const result = app.trySynth();
    expect(result.ok).toBe(false);
    expect(result.problem).toBe('the charts hold a value the API server rejects:\n  manifest-invalid: k8s/extra.k8s.yaml: NetworkPolicy/extra in lumiere-dev: ingress rule 1, port 1: protocol "tcp" is not TCP, UDP or SCTP (written exactly so, in upper case); the API server rejects the object\n    fix: write protocol: TCP');
    expect(fs.existsSync(manifests)).toBe(false);
  });

  test('explain: an environment both registries have names either one\'s pods; a pod to itself is one verdict, not two', () => {
    // lumiere and aura both have development (lumiere-dev, aura-dev): each one's services are found through it.
    const aura = cli(['explain', 'development/ai-gateway', 'development/web'], ex.dir);
    expect(aura.stderr).toBe('');
    expect(aura.stdout).toMatch(/^aura-dev\/ai-gateway -> aura-dev\/web \d+\/TCP: /m);
    const lumiere = cli(['explain', 'development/pourtier', 'development/courier'], ex.dir);
    expect(lumiere.stdout).toMatch(/^lumiere-dev\/pourtier -> lumiere-dev\/courier \d+\/TCP: allowed$/m);
    const self = cli(['explain', 'lumiere-dev/courier', 'lumiere-dev/courier', '--json'], ex.dir).json();
    expect(self.forward.length).toBeGreaterThan(0);
    expect(self.reverse).toEqual([]);
  });

  test('diff --traffic puts only addresses in brackets, not a pod whose name has a colon', () => {
    const dir = tmp('colon');
    fs.mkdirSync(path.join(dir, 'base'));
    fs.mkdirSync(path.join(dir, 'now'));
    write(path.join(dir, 'now', 'a.yaml'), [
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web:1', namespace: 'a' }, spec: { containers: [{ name: 'c', ports: [{ containerPort: 8080 }] }] } },
      policy('open', 'a', { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '::/0' } }] }] }),
    ]);
    const r = cli(['diff', '--traffic', 'base', '--manifests', 'now'], dir);
    // (No default deny: every port of the pod opens.)
    expect(r.stdout).toMatch(/^opens  2001:db8::7 -> a\/web:1:1-65535\/TCP$/m);
    expect(r.stdout).not.toMatch(/\[a\/web:1\]/);
  });

  test('more allowed paths than the limit is one clear error, not an exhausted heap', () => {
    const copy = tmp('limit');
    fs.cpSync(ex.manifests, copy, { recursive: true });
    expect(() => verifyCluster(loadFolder(copy).cluster, ex.registries, { pathLimit: 10 })).toThrow(/allow more than 10 paths: they leave these pods nearly open/);
  });

  test('diff --traffic gives both sides the same stand-ins: an ingress from the internet that excepts the usual stand-in opens exactly the addresses outside the except', () => {
    const repo = tmp('stand-ins');
    fs.mkdirSync(path.join(repo, 'manifests'));
    write(path.join(repo, 'manifests', 'a.yaml'), [
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'api', namespace: 'a' }, spec: { template: { metadata: { labels: { app: 'api' } }, spec: { containers: [{ name: 'c', ports: [{ containerPort: 8080 }] }] } } } },
      policy('deny', 'a', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] }),
    ]);
    const git = (...args: string[]) => spawnSync('git', args, { cwd: repo, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } });
    git('init', '-q');
    git('add', '.');
    git('commit', '-qm', 'base');
    write(path.join(repo, 'manifests', 'open.yaml'), [policy('open', 'a', { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['203.0.113.0/24'] } }] }] })]);
    const doc = cli(['diff', '--traffic', '--json'], repo).json();
    expect(doc.opens.length).toBeGreaterThan(0);
    // Every port of every protocol, from the address intervals before and after 203.0.113.0/24 (203.0.113.7 is in it).
    expect(doc.opens.map((p: any) => `${p.from} -> ${p.to} ${p.port}-${p.endPort}/${p.protocol}`)).toEqual(['0.0.0.1', '203.0.114.1'].flatMap(from =>
      ['SCTP', 'TCP', 'UDP'].map(protocol => `${from} -> a/api 1-65535/${protocol}`)));
    expect(doc.closes).toEqual([]);
  });

  test('the CLI escapes names from manifests in its errors, refuses a partial address, and reads the folder\'s registries from inside it', () => {
    const dir = tmp('escape');
    write(path.join(dir, 'a.yaml'), [{ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web\u001b[2J\u202e', namespace: 'a' }, spec: { containers: [{ name: 'c' }] } }]);
    const r = cli(['explain', '-m', '.', 'wbe', '1.2.3.4'], dir);
    expect(r.status).toBe(2);
    expect(r.stderr).not.toMatch(/\u001b|\u202e/);
    expect(r.stderr).toMatch(/did you mean a\/web\\u\{1b\}\[2J\\u\{202e\}/);
    expect(cli(['explain', '-m', '.', 'a/web\u001b[2J\u202e', '999.1.1.1', '80'], dir).stderr).toMatch(/999\.1\.1\.1 is not an IPv4/);
    expect(cli(['verify', '.'], ex.manifests).stdout).toMatch(/compared with aura, lumiere/);
  });
});
