import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PortRegistry, PortsApp } from '../lib';
import { ROOT, tempProject } from './support/project';

/** The built executable, as a user runs it. */
function cli(args: string[], cwd = ROOT, env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' }) {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'cdk8s-ports.js'), ...args], {
    cwd, encoding: 'utf8', env, timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, json: () => JSON.parse(r.stdout) };
}

const tmp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), `cdk8s-ports-cli-${prefix}-`));
const noStackTrace = (text: string) => expect(text).not.toMatch(/\n\s+at .+:\d+:\d+\)?\n/);

test('--help lists the six commands, and every command has --help', () => {
  const help = cli(['--help']);
  expect(help.status).toBe(0);
  for (const command of ['check', 'suggest', 'status', 'scan', 'diff', 'import']) {
    expect(help.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    const sub = cli([command, '--help']);
    expect(sub.status).toBe(0);
    expect(sub.stdout).toMatch(new RegExp(`Usage: cdk8s-ports ${command}`));
  }
  expect(cli(['frobnicate']).status).toBe(2);
  expect(cli(['suggest']).stderr).toMatch(/required option '-e, --env/);
});

describe('check', () => {
  test('the project\'s own registries check clean (exit 0), with a JSON shape for machines', () => {
    expect(cli(['check']).status).toBe(0);
    const out = cli(['check', '--json']);
    expect(out.status).toBe(0);
    const doc = out.json();
    expect(doc).toMatchObject({ ok: true, errors: 0, warnings: 0 });
    expect(doc.registries.map((r: any) => r.name).sort()).toEqual(['aura', 'lumiere']);
    expect(doc.registries.find((r: any) => r.name === 'lumiere').findings.every((f: any) => f.waived)).toBe(true);
  });

  test('errors exit 1 and name the file position; --strict makes warnings fail', () => {
    const dir = tmp('check');
    fs.writeFileSync(path.join(dir, 'ports.yaml'), 'name: x\nenvironments:\n  dev: { range: [8000, 8099] }\nservices:\n  api:\n    public: true\n    ports:\n      http: { port: 8000 }\n  web:\n    public: true\n    ports:\n      http: { port: 8000 }\n');
    const bad = cli(['check', 'ports.yaml', '--json'], dir);
    expect(bad.status).toBe(1);
    const collision = bad.json().registries[0].findings.find((f: any) => f.rule === 'collision');
    expect(collision.where).toMatchObject({ service: 'web', port: 8000, file: 'ports.yaml:12:7' });
    fs.writeFileSync(path.join(dir, 'ports.yaml'), 'name: x\nkubernetes: true\nenvironments:\n  dev: { range: [8000, 8099] }\nservices:\n  api:\n    ports:\n      http: { port: 8010 }\n    connectsTo: [{ to: worker }]\n  worker:\n    ports:\n      metrics: { port: 8020 }\n');
    expect(cli(['check'], dir).status).toBe(0); // found by default in the folder; "unreachable" is only a warning
    expect(cli(['check', '--strict'], dir).status).toBe(1);
  });

  test.each([
    ['an empty file', ''],
    ['a binary file', Buffer.from([0, 1, 2, 3, 255, 0])],
    ['a YAML alias bomb', 'a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n'],
    ['a 10 MB file', `name: x\n${'# padding\n'.repeat(1024 * 1024)}`],
  ])('%s exits 2 quickly with a message and no stack trace', (_what, content) => {
    const dir = tmp('bad');
    fs.writeFileSync(path.join(dir, 'ports.yaml'), content);
    const started = Date.now();
    const r = cli(['check', 'ports.yaml'], dir);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^error: /);
    noStackTrace(r.stderr);
  });

  test('registries checked together see each other\'s collisions, and a waiver in the file reaches them', () => {
    const dir = tmp('cross');
    fs.writeFileSync(path.join(dir, 'org.yaml'), 'name: org\nenvironments:\n  production: { range: [8100, 8199] }\n');
    const team = (name: string, waiver = '') => `name: ${name}\nextends: org.yaml\nservices:\n  ${name}-api:\n    public: true\n    ports:\n      http: { offset: 10 }\n${waiver}`;
    fs.writeFileSync(path.join(dir, 'shop.yaml'), team('shop'));
    fs.writeFileSync(path.join(dir, 'blog.yaml'), team('blog'));
    const clash = cli(['check', 'shop.yaml', 'blog.yaml', '--json'], dir);
    expect(clash.status).toBe(1);
    const blog = clash.json().registries.find((r: any) => r.name === 'blog');
    expect(blog.findings.find((f: any) => f.rule === 'collision').where).toMatchObject({ service: 'blog-api', port: 8110, other: 'shop:shop-api.http' });
    // Each file alone is clean: the collision exists only between them.
    expect(cli(['check', 'blog.yaml'], dir).status).toBe(0);

    fs.writeFileSync(path.join(dir, 'blog.yaml'), team('blog', 'waivers:\n  - { rule: collision, service: blog-api, reason: never on one host }\n'));
    const waived = cli(['check', 'shop.yaml', 'blog.yaml', '--json'], dir);
    expect(waived.status).toBe(0);
    const findings = waived.json().registries.find((r: any) => r.name === 'blog').findings;
    expect(findings.find((f: any) => f.rule === 'collision').waived).toBe('never on one host');
    expect(findings.map((f: any) => f.rule)).not.toContain('waiver-unused');
  });

  test('check a.yaml b.yaml: two registries with an environment in one namespace is an error on the later one, naming both', () => {
    const dir = tmp('namespaces');
    const one = (name: string, namespace = '') => `name: ${name}\nenvironments:\n  production: { range: [8100, 8199]${namespace ? `, namespace: ${namespace}` : ''} }\nservices:\n  web:\n    public: true\n    ports:\n      http: { offset: 10 }\n`;
    fs.writeFileSync(path.join(dir, 'shop.yaml'), one('shop'));
    fs.writeFileSync(path.join(dir, 'blog.yaml'), one('blog', 'shop-production'));
    const r = cli(['check', 'shop.yaml', 'blog.yaml', '--json'], dir);
    expect(r.status).toBe(1);
    const blog = r.json().registries.find((x: any) => x.name === 'blog');
    expect(blog.findings.find((f: any) => f.rule === 'namespace-shared').where).toMatchObject({ registry: 'blog', environment: 'production', other: 'shop:production' });
    expect(cli(['check', 'blog.yaml'], dir).status).toBe(0);
  });

  test('a compose-drift finding of a ports.yaml is waived by its waiver, and file positions stay', () => {
    const dir = tmp('drift');
    fs.writeFileSync(path.join(dir, 'docker-compose.yml'), 'services:\n  api:\n    ports:\n      - "9999:8010"\n');
    const registry = (waiver: string) => `name: x\nenvironments:\n  dev: { range: [8000, 8099] }\ncomposeChecks:\n  - { file: docker-compose.yml, environment: dev }\nservices:\n  api:\n    public: true\n    ports:\n      http: { port: 8010 }\n${waiver}`;
    fs.writeFileSync(path.join(dir, 'ports.yaml'), registry(''));
    const drifting = cli(['check', '--json'], dir);
    expect(drifting.status).toBe(1);
    expect(drifting.json().registries[0].findings.map((f: any) => f.rule)).toContain('compose-drift');
    fs.writeFileSync(path.join(dir, 'ports.yaml'), registry('waivers:\n  - { rule: compose-drift, service: api, reason: the laptop file differs on purpose }\n'));
    const waived = cli(['check', '--json'], dir);
    expect(waived.status).toBe(0);
    const drift = waived.json().registries[0].findings.filter((f: any) => f.rule === 'compose-drift');
    expect(drift.length).toBeGreaterThan(0);
    expect(drift.every((f: any) => f.waived === 'the laptop file differs on purpose')).toBe(true);
  });

  test.each([['null', 'null'], ['a list', '[]'], ['a map without a name', '{"services":{}}']])('a ports.json written by synth whose spec is %s exits 2 saying so, not "internal error"', (_what, spec) => {
    const dir = tmp('resolved');
    fs.writeFileSync(path.join(dir, 'ports.json'), `{"generatedBy":"cdk8s-ports","formatVersion":1,"spec":${spec}}`);
    const r = cli(['check', 'ports.json'], dir);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('error: ports.json was written by cdk8s-ports but holds no registry (its "spec" is missing or not a map); synthesize again\n');
  });

  test('a file that does not exist exits 2', () => {
    const r = cli(['check', 'nope.yaml'], tmp('missing'));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/cannot read .*nope\.yaml: it does not exist/);
  });

  test('piped output is plain text even where CI is set; FORCE_COLOR asks for colour, NO_COLOR wins', () => {
    const dir = tmp('colour');
    fs.writeFileSync(path.join(dir, 'ports.yaml'), 'name: x\nenvironments:\n  dev: { range: [8000, 8099] }\nservices:\n  api:\n    ports:\n      http: { port: 9000 }\n');
    const { NO_COLOR: _n, FORCE_COLOR: _f, ...plainEnv } = process.env;
    const ansi = /\x1b\[/;
    for (const args of [['check', 'ports.yaml'], ['check', 'missing.yaml']]) {
      const plain = cli(args, dir, { ...plainEnv, CI: 'true' });
      expect(plain.status).not.toBe(0);
      expect(plain.stdout + plain.stderr).not.toMatch(ansi);
      const forced = cli(args, dir, { ...plainEnv, CI: 'true', FORCE_COLOR: '1' });
      expect(forced.stdout + forced.stderr).toMatch(ansi);
      const both = cli(args, dir, { ...plainEnv, FORCE_COLOR: '1', NO_COLOR: '1' });
      expect(both.stdout + both.stderr).not.toMatch(ansi);
    }
    expect(cli(['check', 'missing.yaml'], dir, { ...plainEnv, CI: 'true' }).stderr).toMatch(/^error: cannot read/);
  });
});

describe('suggest', () => {
  test('the next free ports of a band, skipping allocations and de-facto defaults', () => {
    const r = cli(['suggest', '--env', 'development', '--registry-name', 'lumiere', '--count', '3', '--json']);
    expect(r.status).toBe(0);
    expect(r.json()).toEqual({ registry: 'lumiere', environment: 'development', category: null, protocol: 'TCP', ranges: [[9000, 9799]], live: false, ports: [9002, 9003, 9004],
      note: 'skipped 9000 (PHP-FPM, MinIO and SonarQube)' });
    expect(cli(['suggest', '--env', 'development', '--registry-name', 'aura', '--category', 'api-backends', '--count', '2', '--json']).json().ports).toEqual([4000, 4002]);
  });

  test('--live also skips ports that are busy on this machine right now', async () => {
    const server = await listen(9002, 'holder');
    try {
      const r = cli(['suggest', '--env', 'development', '--registry-name', 'lumiere', '--count', '2', '--live', '--json']);
      expect(r.json().ports).toEqual([9003, 9004]);
    } finally {
      server.kill();
    }
  });

  test('an unknown environment is a usage error', () => {
    const r = cli(['suggest', '--env', 'staging']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown environment "staging"/);
  });
});

/** A real listener on 127.0.0.1 in a child process whose command line carries `tag`. */
function listen(port: number, tag: string, title?: string): Promise<ChildProcess> {
  const setTitle = title ? `process.title = ${JSON.stringify(title)};` : '';
  const child = spawn(process.execPath, ['-e', `${setTitle}require('net').createServer().listen(${port}, '127.0.0.1', () => console.log('up'))`, tag], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', () => resolve(child));
    child.once('exit', code => reject(new Error(`listener on ${port} exited with ${code}`)));
  });
}

describe('status', () => {
  let children: ChildProcess[] = [];
  beforeAll(async () => {
    children = await Promise.all([listen(9765, 'courier'), listen(9000, 'some-other-daemon'), listen(9500, 'stray'),
      // A process whose name carries a terminal escape (clear screen) and a bidirectional override.
      listen(9501, 'evil', 'x\u001b[2J\u202eyz')]);
  });
  afterAll(() => children.forEach(c => c.kill()));

  test('reports declared ports that listen, ports held by someone else (with the fallback), and undeclared listeners', () => {
    const r = cli(['status', '--env', 'development', '--json']);
    expect(r.status).toBe(1); // a declared port held by another process, and an undeclared listener
    const doc = r.json();
    expect(doc.listening).toContainEqual(expect.objectContaining({ service: 'courier', portName: 'ws', port: 9765, environment: 'development',
      process: expect.objectContaining({ pid: children[0].pid, name: 'node' }) }));
    expect(doc.heldByOther).toContainEqual(expect.objectContaining({ service: 'pourtier', port: 9000, fallback: 19000, fallbackFree: true }));
    expect(doc.undeclared).toContainEqual(expect.objectContaining({ port: 9500, protocol: 'TCP', range: 'lumiere band development' }));
    expect(doc.notListening).toContainEqual(expect.objectContaining({ service: 'passeur', port: 9766 }));
    expect(doc.notListening.some((x: any) => x.environment !== 'development')).toBe(false);
  });

  test('a process name with control characters reaches the terminal escaped', () => {
    const r = cli(['status', '--env', 'development']);
    expect(r.stdout).toContain('9501/TCP');
    expect(r.stdout).not.toMatch(/[\u001b\u202e]/);
    expect(r.stdout).toContain('x\\u{1b}[2J\\u{202e}yz');
  });

  test('human output names the process', () => {
    const r = cli(['status', '--env', 'development']);
    expect(r.stdout).toMatch(/9765\/TCP courier\.ws \(development\)\s+node \(pid \d+\)/);
    expect(r.stdout).toMatch(/9000\/TCP pourtier\.http \(development\).*fallback 19000 is free/);
  });
});

describe('scan', () => {
  test('reports file:line for hard-coded registry ports, skipping node_modules and .git', () => {
    const dir = tmp('scan');
    const write = (rel: string, text: string) => { fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true }); fs.writeFileSync(path.join(dir, rel), text); };
    write('src/server.ts', "import express from 'express';\nconst app = express();\napp.listen(9765);\nconst retries = 9765;\n");
    write('pourtier/config/development.yaml', 'server:\n  port: 9000\nevents:\n  url: ws://localhost:9765\n');
    write('Dockerfile', 'FROM node:20\nEXPOSE 8000\n');
    write('.env', 'PORT=7000\n');
    write('node_modules/lib/index.js', 'listen(9765)\n');
    write('.git/config', 'port = 9765\n');
    write('README.md', 'listen on 9765\n');
    const r = cli(['scan', dir, '--json']);
    expect(r.status).toBe(1);
    const hits = r.json().hits.map((h: any) => `${path.relative(dir, h.file)}:${h.line}:${h.column} ${h.port} ${h.kind}`);
    expect(hits).toEqual([
      '.env:1:6 7000 duplicate',
      'Dockerfile:2:8 8000 duplicate',
      'pourtier/config/development.yaml:2:9 9000 duplicate',
      'pourtier/config/development.yaml:4:23 9765 collision',
      'src/server.ts:3:12 9765 duplicate',
    ]);
    const human = cli(['scan', dir]);
    // Grouped by file: the file once, then each port with its owner in the registry.
    expect(human.stdout).toMatch(new RegExp(`${path.join(path.relative(ROOT, dir), 'src', 'server.ts').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\n  3:12 hard-coded 9765 \\(registry: courier\\.ws \\(development\\)\\)`));
    expect(human.stdout).toMatch(/read it from the environment instead \(COURIER_WS_PORT\)/);
    expect(human.stdout).toMatch(/5 hard-coded registry ports in 4 files\n$/);
  });

  test('honours .gitignore (nested ones too), skips the registry\'s own files, and a missing folder is a note', () => {
    const dir = tmp('scan-ignore');
    const write = (rel: string, text: string) => { fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true }); fs.writeFileSync(path.join(dir, rel), text); };
    fs.mkdirSync(path.join(dir, '.git'));
    write('.gitignore', 'generated/\n*.local.yaml\n');
    write('app/.gitignore', 'secret.env\n');
    write('generated/server.ts', 'app.listen(9765);\n');
    write('app/dev.local.yaml', 'port: 9765\n');
    write('app/secret.env', 'PORT=9765\n');
    write('app/kept.ts', 'app.listen(9765);\n');
    // The registry itself states its ports: it is not a hard-coded copy of them.
    write('registry.yaml', 'name: r\nenvironments:\n  dev: { range: [9700, 9799] }\nservices:\n  courier:\n    public: true\n    ports:\n      ws: { port: 9765 }\n');
    const r = cli(['scan', '.', '-r', 'registry.yaml', '--json'], dir);
    expect(r.json().hits.map((h: any) => `${h.file}:${h.line}`)).toEqual([path.join('app', 'kept.ts') + ':1']);
    const missing = cli(['scan', 'src', '-r', 'registry.yaml'], dir);
    expect(missing.status).toBe(0);
    expect(missing.stdout).toBe('note: src does not exist: nothing to scan\n');
  });

  test('file names and lines with control characters reach the terminal escaped', () => {
    const dir = tmp('scan-escape');
    fs.writeFileSync(path.join(dir, 'evil\u001b[2J.ts'), 'app.listen(9765); // \u001b]0;pwned\u0007 \u202etxt\n');
    const r = cli(['scan', dir]);
    expect(r.status).toBe(1);
    expect(r.stdout).not.toMatch(/[\u001b\u0007\u202e]/);
    expect(r.stdout).toContain('evil\\u{1b}[2J.ts');
    expect(r.stdout).toContain('\\u{1b}]0;pwned\\u{7} \\u{202e}txt');
  });

  test('the variable to read is the one the .env files write: a port\'s own env name when it has one', () => {
    const dir = tmp('scan-env');
    fs.writeFileSync(path.join(dir, 'registry.yaml'), 'name: r\nenvironments:\n  dev: { range: [9700, 9799] }\nservices:\n' +
      '  courier:\n    ports:\n      ws: { port: 9765, env: COURIER_LISTEN }\n  pourtier:\n    ports:\n      http: { port: 9766 }\n');
    fs.mkdirSync(path.join(dir, 'src'));
    fs.writeFileSync(path.join(dir, 'src', 'client.ts'), 'server.listen(9765);\nfetch("http://localhost:9766");\n');
    const r = cli(['scan', 'src', '-r', 'registry.yaml', '--json'], dir);
    expect(r.json().hits.map((h: any) => `${h.port} ${h.variable}`)).toEqual(['9765 COURIER_LISTEN', '9766 POURTIER_HTTP_PORT']);
    // The same names as in the .env file the synth writes.
    const app = new PortsApp({ manifestsDir: path.join(dir, 'm'), outdir: path.join(dir, 'out'), lockFile: path.join(dir, 'l.json') });
    const registry = new PortRegistry(app, 'r', { environments: { dev: { range: [9700, 9799] } } });
    registry.service('courier', { ports: { ws: { port: 9765, env: 'COURIER_LISTEN' } } });
    registry.service('pourtier', { ports: { http: { port: 9766 } } });
    const files = app.trySynth({ write: false }).files;
    const env = [...files].find(([f]) => f.endsWith('dev.env'))![1];
    expect(env).toMatch(/^COURIER_LISTEN=9765$/m);
    expect(env).toMatch(/^POURTIER_HTTP_PORT=9766$/m);
  });

  test('a clean tree exits 0', () => {
    const dir = tmp('clean');
    fs.writeFileSync(path.join(dir, 'server.js'), 'app.listen(Number(process.env.PORT));\n');
    expect(cli(['scan', dir]).status).toBe(0);
  });
});

describe('diff', () => {
  let project: string;
  beforeAll(() => { project = tempProject(); });
  afterAll(() => fs.rmSync(project, { recursive: true, force: true }));

  test('a manifests path that is a file is a usage error, not "everything drifted"', () => {
    fs.writeFileSync(path.join(project, 'not-a-folder'), 'x\n');
    const r = cli(['diff', '-m', 'not-a-folder'], project);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('error: not-a-folder is a file, not the folder of committed output; pass the folder with -m\n');
  });

  test('exits 0 when the committed manifests are what the registry produces', () => {
    const r = cli(['diff', '--json'], project);
    expect(r.json()).toEqual({ ok: true, synthError: null, drift: [], findings: [] });
    expect(r.status).toBe(0);
  });

  test('a file added by hand to manifests/ is not drift (the synth keeps it); a stale output the synth no longer writes is', () => {
    const notes = path.join(project, 'manifests', 'NOTES.md');
    fs.writeFileSync(notes, 'hand-written\n');
    expect(cli(['diff', '--json'], project).json()).toMatchObject({ ok: true, drift: [] });
    fs.rmSync(notes);
    const stale = path.join(project, 'manifests', 'k8s', 'lumiere-staging.k8s.yaml');
    fs.copyFileSync(path.join(project, 'manifests', 'k8s', 'lumiere-test.k8s.yaml'), stale);
    const list = path.join(project, 'manifests', '.cdk8s-ports-written.json');
    const original = fs.readFileSync(list, 'utf8');
    fs.writeFileSync(list, original.replace('"k8s/lumiere-test.k8s.yaml"', '"k8s/lumiere-staging.k8s.yaml",\n    "k8s/lumiere-test.k8s.yaml"'));
    const r = cli(['diff', '--json'], project).json();
    expect(r.drift.map((d: any) => [d.file, d.change])).toEqual([['manifests/.cdk8s-ports-written.json', 'changed'], ['manifests/k8s/lumiere-staging.k8s.yaml', 'unexpected']]);
    fs.rmSync(stale);
    fs.writeFileSync(list, original);
  });

  test('exits 1 with a unified diff after a manifest is edited by hand, and 0 again after a fresh synth', () => {
    const file = path.join(project, 'manifests', 'k8s', 'lumiere-production.k8s.yaml');
    const original = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, original.replace('port: 8765', 'port: 8767'));
    const r = cli(['diff'], project);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^--- a\/manifests\/k8s\/lumiere-production\.k8s\.yaml/m);
    expect(r.stdout).toMatch(/^-\s+- appProtocol: ws\n|^-\s+port: 8767$/m);
    expect(r.stdout).toMatch(/^\+\s+port: 8765$/m);
    expect(cli(['diff', '--json'], project).json().drift.map((d: any) => [d.file, d.change])).toEqual([['manifests/k8s/lumiere-production.k8s.yaml', 'changed']]);
    fs.writeFileSync(file, original);
    expect(cli(['diff'], project).status).toBe(0);
  });

  test('user compose and .env files that disagree with the registry are drift too', () => {
    fs.writeFileSync(path.join(project, 'docker-compose.yml'), 'services:\n  courier:\n    ports: ["9766:9765"]\n');
    fs.writeFileSync(path.join(project, '.env'), 'COURIER_WS_PORT=9765\nPASSEUR_HTTP_PORT=9767\nOTHER=1\n');
    const r = cli(['diff', 'docker-compose.yml', '.env', '--json'], project);
    expect(r.status).toBe(1);
    const messages = r.json().findings.map((f: any) => f.message);
    expect(messages).toEqual(expect.arrayContaining([expect.stringMatching(/service courier publishes 9766\/TCP/), expect.stringMatching(/PASSEUR_HTTP_PORT=9767, but manifests\/env\/development\.env says PASSEUR_HTTP_PORT=9766/)]));
  });
});

describe('import', () => {
  const compose = `services:
  web:
    image: acme/web:1
    ports:
      - "8080:80"
    depends_on: [api]
  api:
    image: acme/api:1
    ports:
      - target: 3000
        published: 13000
        protocol: tcp
    depends_on:
      db: { condition: service_healthy }
  db:
    image: postgres:16
    ports: ["127.0.0.1:15432:5432"]
  worker:
    image: acme/worker:1
`;

  test('turns a compose file with short and long port syntax into a registry that check accepts', () => {
    const dir = tmp('import');
    fs.writeFileSync(path.join(dir, 'docker-compose.yml'), compose);
    const r = cli(['import', 'docker-compose.yml', '--name', 'acme', '--json'], dir);
    expect(r.status).toBe(0);
    expect(r.json()).toMatchObject({ output: 'ports.yaml', services: ['web', 'api', 'db'], ok: true });
    expect(r.json().notes).toEqual(['worker: publishes no port; left out']);
    const check = cli(['check', '--json'], dir);
    expect(check.status).toBe(0);
    const text = fs.readFileSync(path.join(dir, 'ports.yaml'), 'utf8');
    expect(text).toMatch(/name: acme/);
    expect(text).toMatch(/db:\n\s+kind: postgres/);
    expect(text).toMatch(/port: 15432\n\s+targetPort: 5432\n\s+hostIp: 127.0.0.1/);
    // Ports are named after what the service is (its kind, a web port), IANA's names kept as comments.
    expect(text).toMatch(/connectsTo:\n\s+- to: db\n\s+port: postgres\n/);
    expect(text).toMatch(/web:\n[^]*?ports:\n\s+http:\n\s+# IANA: http-alt \(HTTP Alternate \(see port 80\)\)\n\s+port: 8080\n\s+targetPort: 80/);
    expect(text).toMatch(/api:\n[^]*?ports:\n\s+http:\n(\s+# IANA: .*\n)?\s+port: 13000\n\s+targetPort: 3000/);
    expect(text).not.toMatch(/www-http:|remoteware-cl:|http-alt:/);
    expect(cli(['import', 'docker-compose.yml'], dir).status).toBe(2); // ports.yaml exists: no silent overwrite
  });

  test('the registry keeps checking the file it came from (composeChecks, relative to the registry file): a later change to either is drift', () => {
    const dir = tmp('import-checks');
    fs.writeFileSync(path.join(dir, 'docker-compose.yml'), compose);
    fs.mkdirSync(path.join(dir, 'infra'));
    const r = cli(['import', 'docker-compose.yml', '-o', 'infra/ports.yaml', '--json'], dir);
    expect(r.status).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'infra', 'ports.yaml'), 'utf8')).toMatch(/\ncomposeChecks:\n\s+- file: \.\.\/docker-compose\.yml\n/);
    // The same result from any folder: the path is the registry file's.
    const errors = (r: ReturnType<typeof cli>) => r.json().registries[0].findings.filter((f: { severity: string }) => f.severity === 'error')
      .map((f: { rule: string; where: { service: string; port: number } }) => [f.rule, f.where.service, f.where.port]);
    const clean = cli(['check', '--json', 'ports.yaml'], path.join(dir, 'infra'));
    expect([clean.status, errors(clean)]).toEqual([0, []]);
    // A fix that moves a port of the file says to publish the new one there too.
    expect(clean.json().registries[0].findings.find((f: { where: { port: number } }) => f.where.port === 8080).fix).toMatch(/and publish 8081 in \.\.\/docker-compose\.yml:5$/);
    fs.writeFileSync(path.join(dir, 'docker-compose.yml'), compose.replace('"8080:80"', '"8090:80"'));
    const drift = cli(['check', '--json', 'infra/ports.yaml'], dir);
    expect(drift.status).toBe(1);
    expect(errors(drift)).toEqual([['compose-drift', 'web', 8090]]);
  });

  test('flags collisions of the imported file', () => {
    const dir = tmp('import-collide');
    fs.writeFileSync(path.join(dir, 'docker-compose.yml'), 'services:\n  a:\n    ports: ["8081:80"]\n  b:\n    ports: ["8081:81"]\n');
    const r = cli(['import', 'docker-compose.yml', '-o', 'registry.yaml'], dir);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/error \[collision\] .* b\.tcp-81 \/ port 8081/);
    expect(r.stdout).toMatch(/the next free port is 8082/);
    expect(cli(['check', 'registry.yaml'], dir).status).toBe(1);
  });
});
