import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import { checkRegistry, RegistrySpec } from '../lib';
import { composeFiles } from '../lib/emit/compose';
import { connectionsTable } from '../lib/emit/connections-table';
import { portsMarkdown } from '../lib/emit/ports-md';
import { resolvedJson } from '../lib/emit/resolved-json';
import { checkComposeText } from '../lib/compose/drift';
import { registryFromCompose } from '../lib/compose/import';
import { parseRegistryText } from '../lib/file/registry-file';
import { composeSchema as loadComposeSchema } from './support/compose-schema';

/**
 * A container port that is unknown (`targetPort: unknown`): a hand-kept table that documents the
 * published host port only. The registry holds it, checks it and documents it; an output that must
 * write the container's number refuses it with a finding that names the port, the environment and
 * what needs the number.
 */

const HOME_LAB = ['name: lab', 'kubernetes: false', 'environments:', '  home: { range: "3000-3999" }', 'services:',
  '  gitea:', '    kind: gitea', '    public: true', '    ports:', '      http: { port: 3000, targetPort: unknown }', '      ssh: { port: 3022, targetPort: 22 }'].join('\n');

const loaded = (text: string) => {
  const l = parseRegistryText(text, 'ports.yaml');
  expect(l.findings).toEqual([]);
  return l.spec!;
};

test('a home lab that documents only the host port checks clean; PORTS.md, connections.md and ports.json say unknown; the compose overlay leaves it out and says so', () => {
  const r = checkRegistry(loaded(HOME_LAB));
  expect(r.findings).toEqual([]);
  expect(r.allocations.find(a => a.portName === 'http')).toMatchObject({ port: 3000, targetPortUnknown: true });
  expect(r.allocations.find(a => a.portName === 'ssh')!.targetPortUnknown).toBeUndefined();
  expect(portsMarkdown(r)).toMatch(/\| 3000 \| gitea \| http \| TCP \| unknown \|/);
  expect(portsMarkdown(r)).toMatch(/\| 3022 \| gitea \| ssh \| TCP \| 22 \|/);
  expect(connectionsTable(r)).toContain('| anything outside the registry (public) | gitea | http/TCP | unknown |');
  expect(JSON.parse(resolvedJson(r)).allocations.find((a: { portName: string }) => a.portName === 'http').targetPortUnknown).toBe(true);
  const files = composeFiles(r);
  const overlay = files.get('docker-compose.home.yml')!;
  expect(overlay).toContain('# Not published here: gitea.http (3000/TCP), whose container port is unknown (targetPort: unknown in the registry).\n');
  const gitea = parse(overlay).services.gitea;
  expect(gitea.ports).toEqual([{ target: 22, published: 3022, protocol: 'tcp', 'x-name': 'ssh' }]);
  // No PORT variable that would claim the host port as the container's.
  expect(gitea.environment).toEqual({ PORT_SSH: '22' });
  const validate = loadComposeSchema();
  for (const [name, text] of files) expect({ name, ok: validate(parse(text)), errors: validate.errors ?? null }).toEqual({ name, ok: true, errors: null });
});

test('with Kubernetes output the unknown port is an error per environment that names what needs the number, and either fix applied clears it', () => {
  const spec: RegistrySpec = {
    name: 'shop', environments: { production: { range: [8100, 8199] }, lab: { range: [9100, 9199] } },
    services: { web: { public: true, ports: { http: { offset: 0, targetPort: { production: 8080, lab: 'unknown' } } } } },
  };
  const r = checkRegistry(spec);
  expect(r.ok).toBe(false);
  expect(r.findings).toEqual([{
    rule: 'container-port-unknown', severity: 'error',
    message: "web.http (lab) has an unknown container port (targetPort: unknown), and these need its number: the Kubernetes Service's targetPort, " +
      "the NetworkPolicy port that admits it and a bound workload's container port",
    where: { registry: 'shop', service: 'web', portName: 'http', environment: 'lab', path: 'services.web.ports.http.targetPort' },
    fix: 'set services.web.ports.http.targetPort: <the port its container listens on>, or set kubernetes: false if the registry does not deploy to Kubernetes',
  }]);
  const known = structuredClone(spec);
  known.services!.web.ports.http.targetPort = { production: 8080, lab: 8080 };
  expect(checkRegistry(known).findings).toEqual([]);
  expect(checkRegistry({ ...spec, kubernetes: false }).findings).toEqual([]);
  // It keeps the output valid: it cannot be waived.
  const waived = checkRegistry({ ...spec, waivers: [{ rule: 'container-port-unknown', reason: 'later' }] });
  expect(waived.findings.map(f => [f.rule, f.waived])).toEqual([['container-port-unknown', undefined], ['waiver-invalid', undefined]]);
});

test('without Kubernetes, an internal port or a connection to it needs the number too (compose expose, <service>:<container port>)', () => {
  const spec = loaded(`${HOME_LAB}\n      hooks: { port: 3100, targetPort: unknown, internal: true }\n  runner:\n    ports: { http: { port: 3200 } }\n    connectsTo: [{ to: gitea, port: http }]`);
  expect(checkRegistry(spec).findings.map(f => [f.where.portName, f.message, f.fix])).toEqual([
    ['http', 'gitea.http (home) has an unknown container port (targetPort: unknown), and these need its number: the compose address of its client runner (<service>:<container port>)',
      'set services.gitea.ports.http.targetPort: <the port its container listens on>'],
    ['hooks', "gitea.hooks (home) has an unknown container port (targetPort: unknown), and these need its number: compose's expose (it is internal in home)",
      'set services.gitea.ports.hooks.targetPort: <the port its container listens on>'],
  ]);
});

test('a value that is neither a port nor unknown is a schema error that says what is expected', () => {
  const l = parseRegistryText(HOME_LAB.replace('targetPort: unknown', 'targetPort: unknwon'), 'ports.yaml');
  expect(l.findings.map(f => [f.rule, f.where.path])).toEqual([['schema', 'services.gitea.ports.http.targetPort']]);
  const schema = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'schema', 'ports.schema.json'), 'utf8'));
  expect(JSON.stringify(schema)).toContain('"const":"unknown"');
});

test('import: a container port from a variable without a default is targetPort: unknown, and the file is compared on its published port', () => {
  const compose = 'services:\n  app:\n    image: acme/app:1\n    ports: ["${WEB_PORT:-3300}:${APP_PORT}", "3301:${METRICS_PORT}/udp"]\n';
  const imported = registryFromCompose(compose, 'acme', 'docker-compose.yml');
  expect(imported.spec.services!.app.ports).toEqual({
    'tcp-3300': { port: 3300, targetPort: 'unknown' }, 'udp-3301': { port: 3301, targetPort: 'unknown', protocol: 'UDP' },
  });
  expect(imported.notes).toEqual([
    'app: "${WEB_PORT:-3300}:${APP_PORT}" takes its container port from the variable APP_PORT, which has no default here; imported with targetPort: unknown: write the container port when you know it',
    'app: "3301:${METRICS_PORT}/udp" takes its container port from the variable METRICS_PORT, which has no default here; imported with targetPort: unknown: write the container port when you know it',
  ]);
  const r = checkRegistry({ ...imported.spec, kubernetes: false });
  expect(r.findings.filter(f => f.severity === 'error')).toEqual([]);
  expect(checkComposeText(r, compose, 'docker-compose.yml')).toEqual([]);
  expect(checkComposeText(r, compose.replace('3301:', '3302:'), 'docker-compose.yml').map(f => [f.rule, f.where.port])).toEqual([['compose-drift', 3302]]);
  // An undeclared service with such an entry is told to declare it with the container port unknown.
  expect(checkComposeText(r, 'services:\n  other:\n    ports: ["3400:${X}"]\n', 'dc.yml').map(f => f.fix)).toEqual([
    'declare services.other: { ports: { tcp-3400: { port: 3400, targetPort: unknown } } }']);
});
