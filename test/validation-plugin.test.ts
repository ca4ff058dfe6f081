import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Validation } from 'cdk8s-cli/lib/plugins';
import { PortsValidation } from '../lib';
import { ROOT } from './support/project';

/**
 * The cdk8s validation plugin as cdk8s users run it: the real `cdk8s synth --validate` of an app
 * whose cdk8s.yaml names the plugin by local path (`./node_modules/cdk8s-ports`, this package's
 * build/), in TypeScript and as plain YAML charts included by a JavaScript app
 * (examples/any-cdk8s-app), each clean and with one fault at a time: the same violations both ways.
 */
jest.setTimeout(300_000);

// The plugin implements cdk8s-cli's own interface (checked by tsc, which type-checks the tests).
const asValidation: Validation = new PortsValidation({ registry: 'ports.yaml' });
void asValidation;

const EXAMPLE = path.join(ROOT, 'examples', 'any-cdk8s-app');

/** node_modules of a throwaway app: every package of this checkout, and this package as cdk8s-ports. */
function linkModules(dir: string): void {
  const modules = path.join(dir, 'node_modules');
  fs.mkdirSync(modules);
  for (const entry of fs.readdirSync(path.join(ROOT, 'node_modules'))) {
    fs.symlinkSync(path.join(ROOT, 'node_modules', entry), path.join(modules, entry));
  }
  fs.symlinkSync(ROOT, path.join(modules, 'cdk8s-ports'), 'dir');
}

interface Fault {
  /** The registry's text, edited. */
  readonly registry?: (text: string) => string;
  /** The container port api's Deployment declares. */
  readonly apiContainerPort?: number;
  /** A policy that lets the internet reach db. */
  readonly openDb?: boolean;
}

const OPEN_DB = `---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-db-from-anywhere
  namespace: shop-prod
spec:
  podSelector:
    matchLabels:
      app.kubernetes.io/name: db
  policyTypes: [Ingress]
  ingress:
    - from:
        - ipBlock: { cidr: 0.0.0.0/0 }
      ports:
        - { port: 8132, protocol: TCP }
`;

/** The example as it is committed, with the fault written into its YAML. */
function yamlApp(fault: Fault): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-plugin-yaml-'));
  fs.cpSync(EXAMPLE, dir, { recursive: true, filter: f => !/\/(node_modules|dist)$/.test(f) });
  const edit = (file: string, change: (text: string) => string) => fs.writeFileSync(path.join(dir, file), change(fs.readFileSync(path.join(dir, file), 'utf8')));
  if (fault.registry) edit('ports.yaml', fault.registry);
  if (fault.apiContainerPort) edit('k8s/api.yaml', t => t.replace('containerPort: 8110', `containerPort: ${fault.apiContainerPort}`));
  if (fault.openDb) edit('k8s/network-policies.yaml', t => t + OPEN_DB);
  linkModules(dir);
  return dir;
}

/** The same objects written in TypeScript with the typed Kubernetes classes, the same registry and cdk8s.yaml validations. */
function tsApp(fault: Fault): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-plugin-ts-'));
  const registry = fs.readFileSync(path.join(EXAMPLE, 'ports.yaml'), 'utf8');
  fs.writeFileSync(path.join(dir, 'ports.yaml'), fault.registry ? fault.registry(registry) : registry);
  fs.writeFileSync(path.join(dir, 'cdk8s.yaml'), fs.readFileSync(path.join(EXAMPLE, 'cdk8s.yaml'), 'utf8')
    .replace('language: javascript', 'language: typescript').replace('app: node main.js', 'app: npx ts-node --swc main.ts'));
  fs.writeFileSync(path.join(dir, 'main.ts'), `
import { App, Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-27';

const app = new App();
const chart = new Chart(app, 'shop');
const namespace = 'shop-prod';
const labels = (name: string) => ({ 'app.kubernetes.io/name': name });
const port = (n: number, protocol = 'TCP') => ({ port: k8s.IntOrString.fromNumber(n), protocol });

new k8s.KubeNamespace(chart, 'namespace', { metadata: { name: namespace } });
new k8s.KubeDeployment(chart, 'api', {
  metadata: { name: 'api', namespace },
  spec: {
    selector: { matchLabels: labels('api') },
    template: {
      metadata: { labels: labels('api') },
      spec: { containers: [{ name: 'api', image: 'shop/api:1.4', ports: [{ name: 'http', containerPort: ${fault.apiContainerPort ?? 8110} }],
        env: [{ name: 'DATABASE_URL', value: 'postgres://db.shop-prod.svc.cluster.local:8132/shop' }] }] },
    },
  },
});
new k8s.KubeService(chart, 'api-service', {
  metadata: { name: 'api', namespace },
  spec: { selector: labels('api'), ports: [{ name: 'http', port: 8110, targetPort: k8s.IntOrString.fromString('http') }] },
});
new k8s.KubeStatefulSet(chart, 'db', {
  metadata: { name: 'db', namespace },
  spec: {
    serviceName: 'db',
    selector: { matchLabels: labels('db') },
    template: {
      metadata: { labels: labels('db') },
      spec: { containers: [{ name: 'postgres', image: 'postgres:16', args: ['-p', '8132'], ports: [{ name: 'pg', containerPort: 8132 }] }] },
    },
  },
});
new k8s.KubeService(chart, 'db-service', {
  metadata: { name: 'db', namespace },
  spec: { selector: labels('db'), ports: [{ name: 'pg', port: 8132, targetPort: k8s.IntOrString.fromString('pg') }] },
});
const policy = (name: string, spec: k8s.NetworkPolicySpec) => new k8s.KubeNetworkPolicy(chart, name, { metadata: { name, namespace }, spec });
policy('default-deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
policy('allow-dns', {
  podSelector: {}, policyTypes: ['Egress'],
  egress: [{
    to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
    ports: [port(53, 'UDP'), port(53)],
  }],
});
policy('allow-api-from-public', {
  podSelector: { matchLabels: labels('api') }, policyTypes: ['Ingress'],
  ingress: [{
    from: [
      { namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: [namespace] }] } },
      { ipBlock: { cidr: '0.0.0.0/0' } },
      { ipBlock: { cidr: '::/0' } },
    ],
    ports: [port(8110)],
  }],
});
policy('allow-api-to-db', { podSelector: { matchLabels: labels('api') }, policyTypes: ['Egress'], egress: [{ to: [{ podSelector: { matchLabels: labels('db') } }], ports: [port(8132)] }] });
policy('allow-db-from-api', { podSelector: { matchLabels: labels('db') }, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: { matchLabels: labels('api') } }], ports: [port(8132)] }] });
${fault.openDb ? "policy('allow-db-from-anywhere', { podSelector: { matchLabels: labels('db') }, policyTypes: ['Ingress'], ingress: [{ from: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [port(8132)] }] });" : ''}
app.synth();
`);
  linkModules(dir);
  return dir;
}

interface Violation {
  readonly rule: string;
  readonly recommendation: string;
  readonly fix: string;
  readonly resources: ReadonlyArray<{ name: string; manifest: string; locations: readonly string[]; constructPath?: string }>;
}

/** `cdk8s synth --validate` with a JSON report, as a user runs it. */
function synthValidate(dir: string): { status: number | null; stdout: string; stderr: string; violations: Violation[]; summary: Record<string, string> } {
  const r = spawnSync('npx', ['cdk8s', 'synth', '--no-check-upgrade', '--validate', '--validation-reports-output-file', 'report.json'], {
    cwd: dir, encoding: 'utf8', env: { ...process.env, CDK8S_CHECK_UPGRADE: 'false', NO_COLOR: '1' }, timeout: 200_000,
  });
  const file = path.join(dir, 'report.json');
  if (!fs.existsSync(file)) throw new Error(`no validation report:\n${r.stdout}\n${r.stderr}`);
  const [report] = JSON.parse(fs.readFileSync(file, 'utf8')).reports;
  const violations = report.violations.map((v: { ruleName: string; recommendation: string; fix: string; violatingConstructs: Array<{ resourceName: string; manifestPath: string; locations: string[]; constructPath?: string }> }) => ({
    rule: v.ruleName, recommendation: v.recommendation, fix: v.fix,
    resources: v.violatingConstructs.map(c => ({ name: c.resourceName, manifest: c.manifestPath, locations: c.locations, ...(c.constructPath ? { constructPath: c.constructPath } : {}) })),
  }));
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, violations, summary: { status: report.summary.status, ...report.summary.metadata } };
}

/** What must agree between the TypeScript and the YAML app: everything but construct paths (and the registry file's absolute path). */
const comparable = (vs: readonly Violation[]) => vs.map(v => ({
  ...v, resources: v.resources.map(({ constructPath: _, ...r }) => ({ ...r, manifest: path.isAbsolute(r.manifest) ? path.basename(r.manifest) : r.manifest })),
}));

const CASES: Array<[name: string, fault: Fault]> = [
  ['clean', {}],
  ['an undeclared path', { openDb: true }],
  ['a drifted container port', { apiContainerPort: 8111 }],
  ['a registry collision', { registry: t => t.replace('pg: { port: 8132 }', 'pg: { port: 8110 }') }],
];

const runs = new Map<string, { ts: ReturnType<typeof synthValidate>; yaml: ReturnType<typeof synthValidate> }>();
beforeAll(() => {
  for (const [name, fault] of CASES) runs.set(name, { ts: synthValidate(tsApp(fault)), yaml: synthValidate(yamlApp(fault)) });
});

describe.each(['ts', 'yaml'] as const)('cdk8s synth --validate of the %s app', kind => {
  test('clean: the synth passes with no violation, the summary names the registry and the checks', () => {
    const r = runs.get('clean')![kind];
    expect(r.violations).toEqual([]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Validations ended succesfully/);
    expect(r.summary).toEqual({ status: 'success', registries: 'shop (ports.yaml)', checks: 'rules, drift, traffic', errors: '0', warnings: '0', waived: '0' });
  });

  test('an undeclared path fails the synth: traffic-undeclared names the policy, its rule and the manifest', () => {
    const r = runs.get('an undeclared path')![kind];
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/Validation failed/);
    expect(r.violations).toEqual([expect.objectContaining({
      rule: 'traffic-undeclared',
      recommendation: expect.stringMatching(/^error: 203\.0\.113\.7 -> shop-prod\/db 8132\/TCP is allowed but not declared \(203\.0\.113\.7 stands for every address from 0\.0\.0\.0 to 255\.255\.255\.255\): ingress of shop-prod\/db is allowed by allow-db-from-anywhere/),
      fix: expect.stringMatching(/remove or narrow the policy/),
      resources: [expect.objectContaining({ name: 'allow-db-from-anywhere', manifest: 'dist/shop.k8s.yaml', locations: ['.spec.ingress[0]'], constructPath: expect.stringMatching(/^shop\//) })],
    })]);
    expect(r.summary).toMatchObject({ status: 'failure', errors: '1' });
  });

  test('a drifted container port fails the synth: workload-drift names the workload, the field, both ports', () => {
    const r = runs.get('a drifted container port')![kind];
    expect(r.status).not.toBe(0);
    expect(r.violations).toEqual([expect.objectContaining({
      rule: 'workload-drift',
      recommendation: 'error: Deployment api in dist/shop.k8s.yaml: .spec.template.spec.containers[0].ports[0].containerPort is 8111, but api http has port 8110 in the registry (production)',
      fix: "write the registry's port there (api.http in ports.yaml), or change the registry if the manifest is right",
      resources: [expect.objectContaining({ name: 'api', manifest: 'dist/shop.k8s.yaml', locations: ['.spec.template.spec.containers[0].ports[0].containerPort'] })],
    }), expect.objectContaining({
      // And the port chain: the registry's policy opens the registry's port, on which the drifted pods no longer listen.
      rule: 'chain-policy-port',
      recommendation: expect.stringMatching(/^error: NetworkPolicy shop-prod\/allow-api-from-public opens port 8110\/TCP/),
      resources: [expect.objectContaining({ name: 'allow-api-from-public', manifest: 'dist/shop.k8s.yaml', locations: ['.spec.ingress[0].ports[0].port'] })],
    })]);
  });

  test('a registry collision fails the synth: collision at its place in ports.yaml, with the next free port', () => {
    const r = runs.get('a registry collision')![kind];
    expect(r.status).not.toBe(0);
    const collision = r.violations.filter(v => v.rule === 'collision');
    expect(collision).toEqual([expect.objectContaining({
      recommendation: expect.stringMatching(/^error: port 8110\/TCP of db\.pg \(production\) is already taken by api\.http \(production\)/),
      fix: expect.stringMatching(/move db\.pg in production to a free port in 8100-8199: the next free port is 8111/),
      resources: [expect.objectContaining({ name: 'shop', manifest: expect.stringMatching(/\/ports\.yaml$/), locations: [expect.stringMatching(/^ports\.yaml:\d+:\d+$/)] })],
    })]);
  });
});

test('the TypeScript app and the YAML charts get the same violations, case by case', () => {
  for (const [name] of CASES) {
    const { ts, yaml } = runs.get(name)!;
    expect({ name, violations: comparable(yaml.violations) }).toEqual({ name, violations: comparable(ts.violations) });
  }
});

test('a wrong property in cdk8s.yaml stops the synth with a message that names it', () => {
  expect(() => new PortsValidation({ checks: ['rules', 'trafic'] } as never)).toThrow(/checks is a list of rules, drift, traffic \(not trafic\)/);
  expect(() => new PortsValidation({ registy: 'ports.yaml' } as never)).toThrow(/unknown property registy/);
});

describe('in-process, with a context shaped like cdk8s-cli\'s', () => {
  const run = async (dir: string, props: ConstructorParameters<typeof PortsValidation>[0], manifests: string[] = []) => {
    const violations: Array<{ ruleName: string; recommendation: string }> = [];
    let submitted: { status: string; metadata?: Record<string, string> } | undefined;
    const context = {
      manifests,
      report: { addViolation: (v: { ruleName: string; recommendation: string }) => violations.push(v), submit: (status: string, metadata?: Record<string, string>) => { submitted = { status, metadata }; } },
      logger: { log: () => undefined },
      parseManifest: () => [],
    };
    const previous = process.cwd();
    process.chdir(dir);
    try {
      await new PortsValidation(props).validate(context as never);
    } finally {
      process.chdir(previous);
    }
    return { violations, submitted: submitted! };
  };

  test('a warning is reported and does not fail the synth; a waived finding is counted, not reported', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-plugin-warn-'));
    fs.writeFileSync(path.join(dir, 'ports.yaml'), `name: shop
environments:
  production: { namespace: shop-prod }
services:
  api:
    public: true
    ports: { http: { port: 5432 } }
  web:
    public: true
    ports: { http: { port: 6379 } }
waivers:
  - { rule: defacto-port, service: web, reason: the cache moved off this host }
`);
    const r = await run(dir, { checks: ['rules'] });
    expect(r.violations).toEqual([expect.objectContaining({ ruleName: 'defacto-port', recommendation: expect.stringMatching(/^warning: .*api.*5432/) })]);
    expect(r.submitted).toEqual({ status: 'success', metadata: expect.objectContaining({ errors: '0', warnings: '1', waived: '1', checks: 'rules' }) });
  });

  test('the registry may be the ports.json a synth wrote, or several at once', async () => {
    const r = await run(ROOT, { registry: ['manifests/ports.json', 'manifests/aura/ports.json'], checks: ['rules'] });
    expect(r.violations).toEqual([]);
    expect(r.submitted).toEqual({ status: 'success', metadata: expect.objectContaining({ registries: 'lumiere (manifests/ports.json), aura (manifests/aura/ports.json)', errors: '0' }) });
  });

  test('a registry that cannot be read fails the synth, naming the file and the property to set', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-plugin-missing-'));
    const r = await run(dir, { registry: 'shop/ports.yaml' });
    expect(r.violations).toEqual([expect.objectContaining({ ruleName: 'registry-unreadable', recommendation: expect.stringMatching(/^error: cannot read .*shop\/ports\.yaml/) })]);
    expect(r.submitted.status).toBe('failure');
  });
});
