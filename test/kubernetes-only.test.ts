import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parse } from 'yaml';
import { checkRegistry } from '../lib';
import { checkComposeText } from '../lib/compose/drift';
import { ROOT } from './support/project';

/** Kubernetes-only rules where Kubernetes output is produced or asked for; compose checks beside the registry file. */

const FIXTURE = path.join(__dirname, 'fixtures/real/compose-lab');
function cli(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'cdk8s-ports.js'), ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, json: () => JSON.parse(r.stdout) };
}
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-k8s-only-'));

test('a compose registry checked from any folder has zero findings: no Kubernetes rules, its compose file read beside it', () => {
  for (const cwd of [FIXTURE, ROOT, os.tmpdir()]) {
    const r = cli(['check', path.join(FIXTURE, 'ports.yaml'), '--json'], cwd);
    expect({ cwd, stderr: r.stderr, status: r.status }).toEqual({ cwd, stderr: '', status: 0 });
    expect(r.json().registries[0].findings).toEqual([]);
  }
});

test('the same registry asking for Kubernetes gets the Kubernetes rules, except for services local only on purpose', () => {
  const spec = parse(fs.readFileSync(path.join(FIXTURE, 'ports.yaml'), 'utf8'));
  delete spec.composeChecks;
  // checkRegistry is the construct's view: Kubernetes output is produced.
  const unreachable = (s: any) => checkRegistry(s).findings.filter(f => f.rule === 'unreachable').map(f => f.where.service);
  expect(unreachable(spec)).toEqual(['web']);
  expect(unreachable({ ...spec, kubernetes: false })).toEqual([]);
  // admin is declared local only, metrics binds 127.0.0.1 only; localOnly: false says otherwise.
  spec.services.metrics.localOnly = false;
  expect(unreachable(spec)).toEqual(['web', 'metrics']);
  const none = { name: 'lab', environments: { lab: {} }, services: { a: { ports: { http: { port: 4100 } } } } };
  expect(checkRegistry(none).findings.map(f => f.rule)).toEqual(['no-policies']);
  expect(checkRegistry({ ...none, kubernetes: false }).findings).toEqual([]);
});

test('a file registry asks for Kubernetes by a namespace, a NodePort or a selector, by kubernetes: true, or by sitting beside a cdk8s app\'s cdk8s.yaml', () => {
  const dir = tmp();
  const write = (extra: string, env = '{}') => fs.writeFileSync(path.join(dir, 'ports.yaml'),
    `name: lab\n${extra}environments:\n  lab: ${env}\nservices:\n  a:\n    ports: { http: { port: 4100 } }\n`);
  const rules = () => cli(['check', '--json'], dir).json().registries[0].findings.map((f: any) => f.rule);
  write('');
  expect(rules()).toEqual([]);
  write('', '{ namespace: lab }');
  expect(rules()).toEqual(['no-policies']);
  write('kubernetes: true\n');
  expect(rules()).toEqual(['no-policies']);
  write('');
  fs.writeFileSync(path.join(dir, 'cdk8s.yaml'), 'language: typescript\napp: npx ts-node main.ts\n');
  expect(rules()).toEqual(['no-policies']);
  write('kubernetes: false\n');
  expect(rules()).toEqual([]);
});

test('a compose file that is missing is named with the path tried, relative to the registry file', () => {
  const dir = tmp();
  fs.mkdirSync(path.join(dir, 'infra'));
  fs.writeFileSync(path.join(dir, 'infra', 'ports.yaml'), 'name: lab\nkubernetes: false\nenvironments:\n  lab: {}\ncomposeChecks:\n  - { file: compose/docker-compose.yml }\nservices:\n  a:\n    ports: { http: { port: 4100 } }\n');
  const r = cli(['check', 'infra/ports.yaml', '--json'], dir);
  const f = r.json().registries[0].findings.find((x: any) => x.rule === 'compose-file');
  expect(f.message).toBe(`compose file compose/docker-compose.yml (read as ${dir}/infra/compose/docker-compose.yml, relative to the registry file's folder) does not exist`);
  expect(f.fix).toBe("fix the path in composeChecks (relative to the registry file's folder)");
});

test('compose-drift says when the published port belongs to another service of the registry', () => {
  const resolved = checkRegistry({ name: 'lab', kubernetes: false, environments: { dev: { range: [4100, 4299] } }, services: {
    x: { ports: { http: { port: 4200 } } }, y: { ports: { http: { port: 4100 } } },
  } });
  const [f] = checkComposeText(resolved, 'services:\n  x:\n    ports: ["4100:80"]\n', 'docker-compose.yml');
  expect([f.rule, f.message, f.where.other]).toEqual(['compose-drift',
    'docker-compose.yml: service x publishes 4100/TCP, but the registry gives x 4200/TCP (http, dev); 4100/TCP is y.http\'s (dev), so the two would clash', 'y.http']);
});

test('port names follow Kubernetes\' rules only where Kubernetes output is produced', () => {
  const spec = (kubernetes: boolean) => ({ name: 'mon', kubernetes, environments: { lab: {} },
    services: { pushgateway: { ports: { 'prometheus-client': { port: 9091 } } } } });
  expect(checkRegistry(spec(false) as never).findings).toEqual([]);
  expect(checkRegistry(spec(true) as never).findings.filter(f => f.rule === 'port-name').map(f => f.where.path)).toEqual(['services.pushgateway.ports.prometheus-client']);
});
