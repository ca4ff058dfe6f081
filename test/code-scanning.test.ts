import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import Ajv from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import { ROOT, tempProject } from './support/project';

/**
 * Code-scanning output: `--format sarif` (SARIF 2.1.0, validated against the official schema as
 * published in @microsoft/jest-sarif) and `--format github` (workflow commands that annotate a pull
 * request) of check, verify, scan and diff --traffic, with the findings' file:line:column.
 */

// The schema is draft-04; its language pattern is not a valid Unicode regular expression.
const ajv = new Ajv({ strict: false, allErrors: true, unicodeRegExp: false });
addFormats(ajv);
const validSarif = ajv.compile(JSON.parse(fs.readFileSync(require.resolve('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json'), 'utf8')));

const cli = (args: string[], cwd: string) => {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'cdk8s-ports.js'), ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
};

/* eslint-disable @typescript-eslint/no-explicit-any */
function sarif(text: string): any {
  const log = JSON.parse(text);
  const ok = validSarif(log);
  if (!ok) throw new Error(`not valid SARIF 2.1.0: ${ajv.errorsText(validSarif.errors)}`);
  return log;
}
const results = (log: any) => log.runs[0].results.map((r: any) => ({
  rule: r.ruleId, level: r.level, text: r.message.text,
  at: r.locations?.[0]?.physicalLocation ? [r.locations[0].physicalLocation.artifactLocation.uri, r.locations[0].physicalLocation.region?.startLine, r.locations[0].physicalLocation.region?.startColumn] : undefined,
  suppressed: !!r.suppressions,
}));

/** A workflow command parsed as the runner reads it: `::command k=v,k=v::data`, values unescaped. */
function annotations(text: string): Array<{ command: string; props: Record<string, string>; message: string }> {
  const unescape = (s: string) => s.replace(/%3A/g, ':').replace(/%2C/g, ',').replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
  return text.split('\n').filter(Boolean).map(line => {
    const m = /^::(\w+) ([^:]*)::(.*)$/.exec(line);
    if (!m) throw new Error(`not a workflow command: ${line}`);
    const props = Object.fromEntries(m[2].split(',').map(p => { const i = p.indexOf('='); return [p.slice(0, i), unescape(p.slice(i + 1))]; }));
    return { command: m[1], props, message: unescape(m[3]) };
  });
}

const tmp = (name: string) => fs.mkdtempSync(path.join(os.tmpdir(), `cdk8s-ports-scanning-${name}-`));
const EXAMPLE = path.join(ROOT, 'examples', 'any-cdk8s-app');

const COLLIDING = `name: shop
environments:
  production: { range: [8100, 8199], namespace: shop-prod }
services:
  api:
    public: true
    ports: { http: { port: 8110 } }
  web:
    public: true
    ports: { http: { port: 8110 } }
`;

describe('check', () => {
  const dir = tmp('check');
  fs.writeFileSync(path.join(dir, 'ports.yaml'), COLLIDING);

  test('--format sarif: a valid SARIF 2.1.0 log, the finding at its line and column of ports.yaml, the rule described', () => {
    const r = cli(['check', '--format', 'sarif'], dir);
    expect(r.status).toBe(1);
    const log = sarif(r.stdout);
    const where = cli(['check', '--json'], dir);
    const [finding] = JSON.parse(where.stdout).registries[0].findings.filter((f: any) => f.rule === 'collision');
    const [, line, column] = /:(\d+):(\d+)$/.exec(finding.where.file)!.map(Number);
    expect(results(log)).toEqual([{ rule: 'collision', level: 'error', text: `${finding.message}\nfix: ${finding.fix}`, at: ['ports.yaml', line, column], suppressed: false }]);
    expect(log.runs[0].tool.driver).toMatchObject({ name: 'cdk8s-ports', rules: [{ id: 'collision', shortDescription: { text: expect.stringMatching(/No two allocations share a port/) }, defaultConfiguration: { level: 'error' } }] });
  });

  test('--format github: an ::error on the line, the fix in the message (newline escaped), exit 1', () => {
    const r = cli(['check', '--format', 'github'], dir);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^::error file=ports\.yaml,line=\d+,col=\d+,title=cdk8s-ports collision::port 8110\/TCP of web\.http \(production\) is already taken by api\.http \(production\).*%0Afix: /);
    const [a] = annotations(r.stdout);
    expect(a.message).toMatch(/\nfix: move web\.http in production to a free port in 8100-8199/);
  });

  test('a waived finding is a suppressed result in SARIF and a notice on GitHub', () => {
    const waived = tmp('waived');
    fs.writeFileSync(path.join(waived, 'ports.yaml'), `${COLLIDING}waivers:\n  - { rule: collision, service: web, reason: "web replaces api, same port, on the 1st" }\n`);
    const log = sarif(cli(['check', '--format', 'sarif'], waived).stdout);
    expect(results(log)).toEqual([expect.objectContaining({ rule: 'collision', suppressed: true })]);
    expect(log.runs[0].results[0].suppressions).toEqual([{ kind: 'inSource', justification: 'web replaces api, same port, on the 1st' }]);
    expect(annotations(cli(['check', '--format', 'github'], waived).stdout)).toEqual([expect.objectContaining({ command: 'notice', message: expect.stringMatching(/\nwaived: web replaces api, same port, on the 1st$/) })]);
  });

  test('a clean registry is a SARIF log with no result, and no annotation', () => {
    const clean = tmp('clean');
    fs.copyFileSync(path.join(EXAMPLE, 'ports.yaml'), path.join(clean, 'ports.yaml'));
    expect(results(sarif(cli(['check', '--format', 'sarif'], clean).stdout))).toEqual([]);
    const github = cli(['check', '--format', 'github'], clean);
    expect(github.status).toBe(0);
    expect(github.stdout).toBe('');
  });
});

describe('verify and diff --traffic', () => {
  const dir = tmp('traffic');
  fs.cpSync(path.join(EXAMPLE, 'k8s'), path.join(dir, 'base'), { recursive: true });
  fs.cpSync(path.join(EXAMPLE, 'k8s'), path.join(dir, 'manifests'), { recursive: true });
  fs.copyFileSync(path.join(EXAMPLE, 'ports.yaml'), path.join(dir, 'ports.yaml'));
  fs.appendFileSync(path.join(dir, 'manifests', 'network-policies.yaml'), `---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: allow-db-from-anywhere, namespace: shop-prod }
spec:
  podSelector: { matchLabels: { app.kubernetes.io/name: db } }
  policyTypes: [Ingress]
  ingress: [{ from: [{ ipBlock: { cidr: 0.0.0.0/0 } }], ports: [{ port: 8132, protocol: TCP }] }]
`);

  // Findings point at the name of the policy that allows the path.
  const lines = fs.readFileSync(path.join(dir, 'manifests', 'network-policies.yaml'), 'utf8').split('\n');
  const line = lines.findIndex(l => l.includes('name: allow-db-from-anywhere')) + 1;
  const column = lines[line - 1].indexOf('allow-db-from-anywhere') + 1;

  test('verify --format sarif: the undeclared path at the policy that allows it, by line and column', () => {
    const r = cli(['verify', '--format', 'sarif'], dir);
    expect(r.status).toBe(1);
    expect(results(sarif(r.stdout))).toEqual([{
      rule: 'traffic-undeclared', level: 'error', suppressed: false, at: ['manifests/network-policies.yaml', line, column],
      text: expect.stringMatching(/^203\.0\.113\.7 -> shop-prod\/db 8132\/TCP is allowed but not declared \(203\.0\.113\.7 stands for every address from 0\.0\.0\.0 to 255\.255\.255\.255\): ingress of shop-prod\/db is allowed by allow-db-from-anywhere .*\nfix: remove or narrow the policy/),
    }]);
    expect(results(sarif(cli(['verify', 'base', '--format', 'sarif'], dir).stdout))).toEqual([]);
  });

  test('a finding that names no policy points at its namespace, or at the workload of its path', () => {
    const open = tmp('open');
    for (const f of ['namespace.yaml', 'api.yaml', 'db.yaml']) fs.copyFileSync(path.join(EXAMPLE, 'k8s', f), path.join(open, f));
    fs.copyFileSync(path.join(EXAMPLE, 'ports.yaml'), path.join(open, 'ports.yaml'));
    const found = results(sarif(cli(['verify', '.', '--format', 'sarif'], open).stdout));
    // `name: shop-prod` is line 4 of namespace.yaml, `name: api` line 4 of api.yaml; the value starts in column 9.
    expect(found.find((r: any) => r.rule === 'default-deny-missing')?.at).toEqual(['namespace.yaml', 4, 9]);
    expect(found.find((r: any) => /^shop-prod\/api -> 203\.0\.113\.7 every TCP port/.test(r.text))?.at).toEqual(['api.yaml', 4, 9]);
    // A stand-in at the far end (kube-dns) is in no file: the finding points at the source's workload.
    expect(found.find((r: any) => /^shop-prod\/db -> kube-system\/kube-dns /.test(r.text))?.at).toEqual(['db.yaml', 4, 9]);
    expect(found.every((r: any) => r.at)).toBe(true);
  });

  test('verify --format github: one ::error at the policy\'s line', () => {
    const r = cli(['verify', '--format', 'github'], dir);
    expect(r.status).toBe(1);
    expect(annotations(r.stdout)).toEqual([{ command: 'error', props: { file: 'manifests/network-policies.yaml', line: String(line), col: String(column), title: 'cdk8s-ports traffic-undeclared' }, message: expect.stringMatching(/^203\.0\.113\.7 -> shop-prod\/db 8132\/TCP is allowed but not declared/) }]);
  });

  test('diff --traffic --format sarif and github: the opened path, at the policy that opens it', () => {
    const s = cli(['diff', '--traffic', 'base', '--format', 'sarif'], dir);
    expect(s.status).toBe(1);
    expect(results(sarif(s.stdout))).toEqual([{
      rule: 'traffic-opened', level: 'error', suppressed: false, at: ['manifests/network-policies.yaml', line, column],
      text: expect.stringMatching(/^opens 203\.0\.113\.7 -> shop-prod\/db:8132\/TCP against base: allowed by allow-db-from-anywhere/),
    }]);
    const g = cli(['diff', '--traffic', 'base', '--format', 'github'], dir);
    expect(annotations(g.stdout)).toEqual([expect.objectContaining({ command: 'error', props: { file: 'manifests/network-policies.yaml', line: String(line), col: String(column), title: 'cdk8s-ports traffic-opened' } })]);
  });

  test('diff --traffic --format csv, md and dot list the change; --markdown is --format md', () => {
    expect(cli(['diff', '--traffic', 'base', '--format', 'csv'], dir).stdout).toBe('change,from,to,port,protocol\nopens,203.0.113.7,shop-prod/db,8132,TCP\n');
    const md = cli(['diff', '--traffic', 'base', '--format', 'md'], dir).stdout;
    expect(md).toBe(cli(['diff', '--traffic', 'base', '--markdown'], dir).stdout);
    expect(md).toMatch(/^\| opens \| 203\.0\.113\.7 \| shop-prod\/db \| 8132\/TCP \|$/m);
    expect(cli(['diff', '--traffic', 'base', '--format', 'dot'], dir).stdout).toMatch(/^ {2}"203\.0\.113\.7" -> "shop-prod\/db" \[label="8132\/TCP opens", color=red\];$/m);
  });
});

describe('scan', () => {
  const dir = tmp('scan');
  fs.copyFileSync(path.join(EXAMPLE, 'ports.yaml'), path.join(dir, 'ports.yaml'));
  fs.mkdirSync(path.join(dir, 'src'));
  // A file name with the characters that end a workflow-command property.
  fs.writeFileSync(path.join(dir, 'src', 'a,b:c.env'), '# local\nAPI_URL=http://localhost:8110/ # \u001b[2J\n');

  test('--format sarif: each hard-coded port at its line and column', () => {
    const r = cli(['scan', 'src', '--format', 'sarif'], dir);
    expect(r.status).toBe(1);
    const hits = JSON.parse(cli(['scan', 'src', '--json'], dir).stdout).hits;
    expect(results(sarif(r.stdout))).toEqual([{
      rule: 'hard-coded-port', level: 'warning', suppressed: false, at: ['src/a,b:c.env', hits[0].line, hits[0].column],
      text: expect.stringMatching(/^hard-coded 8110 \(registry: api\.http \(production\)\): API_URL=http:\/\/localhost:8110\/ # \u001b\[2J\nfix: read it from the environment instead \(API_HTTP_PORT\)$/),
    }]);
    expect(hits[0]).toMatchObject({ line: 2, column: expect.any(Number) });
  });

  test('--format github: the file name escaped so that the runner reads it back whole', () => {
    const r = cli(['scan', 'src', '--format', 'github'], dir);
    expect(r.stdout).toMatch(/^::warning file=src\/a%2Cb%3Ac\.env,line=2,col=\d+,title=cdk8s-ports hard-coded-port::/);
    expect(annotations(r.stdout)).toEqual([expect.objectContaining({ command: 'warning', props: expect.objectContaining({ file: 'src/a,b:c.env', line: '2' }) })]);
    // An escape sequence from the file cannot reach the log viewer.
    expect(r.stdout).not.toContain('\u001b');
    expect(annotations(r.stdout)[0].message).toMatch(/localhost:8110\/ # \\u\{1b\}\[2J\nfix: /);
  });
});

describe('diff', () => {
  test('--format sarif and github: each drifted output file, and each disagreeing compose file at its line', () => {
    const project = tempProject();
    const file = path.join(project, 'manifests', 'k8s', 'lumiere-production.k8s.yaml');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('port: 8765', 'port: 8767'));
    fs.writeFileSync(path.join(project, 'docker-compose.yml'), 'services:\n  courier:\n    ports: ["9766:9765"]\n');
    const r = cli(['diff', 'docker-compose.yml', '--format', 'sarif'], project);
    expect(r.status).toBe(1);
    const found = results(sarif(r.stdout));
    expect(found).toContainEqual({ rule: 'output-drift', level: 'error', suppressed: false, at: ['manifests/k8s/lumiere-production.k8s.yaml', undefined, undefined],
      text: 'manifests/k8s/lumiere-production.k8s.yaml differs from what the registry produces\nfix: synthesize again (npm run synth) and commit the output' });
    expect(found).toContainEqual(expect.objectContaining({ rule: 'compose-drift', level: 'error', text: expect.stringMatching(/service courier publishes 9766\/TCP/), at: [expect.stringMatching(/docker-compose\.yml$/), expect.any(Number), expect.any(Number)] }));
    const github = annotations(cli(['diff', 'docker-compose.yml', '--format', 'github'], project).stdout);
    expect(github).toContainEqual(expect.objectContaining({ command: 'error', props: { file: 'manifests/k8s/lumiere-production.k8s.yaml', title: 'cdk8s-ports output-drift' } }));
  });
});
