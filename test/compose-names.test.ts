import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { checkRegistry } from '../lib';
import { ROOT } from './support/project';

/** Service and environment names are checked against the outputs produced; every fix printed can be applied as written. */

function cli(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'cdk8s-ports.js'), ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, json: () => JSON.parse(r.stdout) };
}
const COMPOSE = 'services:\n  home_assistant:\n    image: ghcr.io/home-assistant/home-assistant:stable\n    ports: ["8123:8123"]\n    depends_on: [mqtt.broker]\n' +
  '  mqtt.broker:\n    image: eclipse-mosquitto\n    ports: ["1883:1883"]\n';
const registry = (kubernetes: boolean, services = 'home_assistant', broker = 'mqtt.broker', extra = '') => `name: ha\nkubernetes: ${kubernetes}\n` +
  'composeChecks:\n  - { file: docker-compose.yml }\nenvironments:\n  lab: {}\nservices:\n' +
  `  ${services}:\n${extra}    public: true\n    ports: { http: { port: 8123 } }\n    connectsTo: [{ to: ${broker} }]\n` +
  `  ${broker}:\n${extra.replace('home_assistant', 'mqtt.broker')}    ports: { mqtt: { port: 1883 } }\n`;
function lab(text: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-names-'));
  fs.writeFileSync(path.join(dir, 'docker-compose.yml'), COMPOSE);
  fs.writeFileSync(path.join(dir, 'ports.yaml'), text);
  return dir;
}
const findings = (dir: string) => cli(['check', '--json'], dir).json().registries[0].findings as Array<{ rule: string; fix: string; where: { path: string } }>;

test('compose names (home_assistant, mqtt.broker) check clean without Kubernetes output', () => {
  expect(findings(lab(registry(false)))).toEqual([]);
  // A file registry that does not ask for Kubernetes is the same.
  expect(findings(lab(registry(false).replace('kubernetes: false\n', '')))).toEqual([]);
});

test('with Kubernetes output the DNS-1035 fix keeps the compose name, and applied as written leaves no compose-drift', () => {
  const before = findings(lab(registry(true)));
  expect(before.filter(f => f.rule === 'service-name').map(f => f.fix)).toEqual([
    'rename it to "home-assistant" and set composeName: home_assistant',
    'rename it to "mqtt-broker" and set composeName: mqtt.broker, and change the reference to it (services.home_assistant.connectsTo[0].to)',
  ]);
  // The fixes, literally: both renamed, composeName set, the reference changed.
  const after = findings(lab(registry(true, 'home-assistant', 'mqtt-broker', '    composeName: home_assistant\n')));
  expect(after.length).toBeLessThan(before.length);
  expect(after.map(f => f.rule)).not.toContain('compose-drift');
  expect(after.map(f => f.rule)).not.toContain('service-name');
});

test('a compose name that is no compose name is checked against the compose rule without Kubernetes', () => {
  const spec = (name: string) => ({ name: 'ha', kubernetes: false, environments: { 'lab env': {} }, services: { [name]: { ports: { http: { port: 4100 } } } } });
  const r = checkRegistry(spec('-web app') as never).findings.map(f => [f.rule, f.message, f.fix]);
  expect(r).toEqual([
    ['service-name', 'service name "-web app" must be letters, digits, ".", "_" and "-", and start with a letter or digit (it is its compose service name and the stem of its .env variables)', 'rename it to "web-app"'],
    ['namespace-name', 'environment name "lab env" must be letters, digits, ".", "_" and "-", and start with a letter or digit; it is used in file names (docker-compose.lab env.yml, env/lab env.env)', 'rename it to "lab-env"'],
  ]);
  // With its own compose name, the registry name is only the stem of its variables.
  expect(checkRegistry({ ...spec('Home Assistant'), environments: { lab: {} }, services: { 'Home Assistant': { composeName: 'ha', ports: { http: { port: 4100 } } } } } as never).findings).toEqual([]);
});

test('import of a compose file with compose-style names gives DNS labels and composeName: clean with and without Kubernetes', () => {
  const dir = lab('');
  fs.rmSync(path.join(dir, 'ports.yaml'));
  const r = cli(['import', 'docker-compose.yml', '--json'], dir);
  expect(r.json().findings).toEqual([]);
  const text = fs.readFileSync(path.join(dir, 'ports.yaml'), 'utf8');
  expect(text).toContain('home-assistant:\n    composeName: home_assistant\n');
  expect(text).toContain('- to: mqtt-broker\n');
  // The compose file checked against it, with Kubernetes output too: no finding on names, no drift.
  fs.writeFileSync(path.join(dir, 'ports.yaml'), text.replace('name: ', 'kubernetes: true\ncomposeChecks:\n  - { file: docker-compose.yml }\nname: '));
  expect(findings(dir).filter(f => ['service-name', 'compose-drift'].includes(f.rule))).toEqual([]);
});

test('schema fixes say what is expected there', () => {
  const fixes = checkRegistry({ name: 's', services: { a: { status: 'weird', ports: { http: { port: 'x' as never, protocol: 'TCPP' as never } } } } } as never).findings.map(f => f.fix);
  expect(fixes).toEqual([
    'set services.a.status to one of "active", "planned", "reserved", "dev-only"',
    'set services.a.ports.http.port to a number or a record',
    'set services.a.ports.http.protocol to "TCP" (one of "TCP", "UDP", "SCTP")',
  ]);
});
