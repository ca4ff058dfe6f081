import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ROOT, tempProject } from './support/project';
import { dockerCompose } from './support/tools';

/**
 * Every command the README (and the CLI part of the reference) shows runs on the example: each
 * fenced `sh` line is run in a copy of the project. Commands that install packages or run this
 * very suite are named and skipped for a stated reason.
 */
jest.setTimeout(300_000);

const SKIP: Array<[RegExp, string]> = [
  [/^npm install && npm test$/, 'the test command runs this suite itself (.ci/run runs it)'],
  [/^npm install && npm run synth$/, 'synthesizing the example through cdk8s synth is test/synth.test.ts'],
  [/^npm install cdk8s-ports /, 'installing the package from a registry is test/package.test.ts, from the packed tarball'],
  [/^npm install --save-dev cdk8s-cli /, 'the consumer\'s dev tools: test/package.test.ts runs the quick start with cdk8s-cli and ts-node'],
  [/^npx cdk8s synth .*--validate/, 'the real cdk8s synth --validate of an app whose cdk8s.yaml names the plugin is test/validation-plugin.test.ts'],
];

function commands(file: string): string[] {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  return [...text.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap(m => m[1].split('\n'))
    .map(line => line.replace(/\s+#.*$/, '').trim()).filter(Boolean);
}

const all = [...new Set([...commands('README.md'), ...commands('docs/reference.md'), ...commands('docs/traffic.md')])];
const runnable = all.filter(c => !SKIP.some(([re]) => re.test(c)) && c.startsWith('npx cdk8s-ports '));
// The compose lines are one shell session: the exported credentials, then docker-compose in manifests/compose.
const composeSession = all.filter(c => c.startsWith('export POSTGRES_') || c.includes('docker-compose -f'));

test('the README shows the two commands first, and every other shell command it shows is run here or skipped for a stated reason', () => {
  expect(all.slice(0, 2)).toEqual(['npm install && npm run synth', 'npm install && npm test']);
  expect(runnable.length).toBeGreaterThanOrEqual(6);
  for (const c of all) expect(runnable.includes(c) || composeSession.includes(c) || SKIP.some(([re]) => re.test(c))).toBe(true);
});

dockerCompose.test('the docker-compose lines of the reference run on the example', () => {
  expect(composeSession).toHaveLength(2);
  const r = spawnSync('sh', ['-c', composeSession.join('\n')], { cwd: tempProject(), encoding: 'utf8', env: { PATH: process.env.PATH! } });
  expect(r.stderr).not.toMatch(/ERROR|invalid/i);
  expect(r.status).toBe(0);
  expect(r.stdout).toContain('postgres://app:secret@host.docker.internal:5432/lumiere');
});

describe('each CLI command shown runs on the example', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempProject();
    fs.mkdirSync(path.join(dir, 'bin'), { recursive: true });
    // A repository with the example committed, as a clone is (diff --traffic compares with HEAD).
    const git = (...args: string[]) => spawnSync('git', args, { cwd: dir, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } });
    git('init', '-q');
    fs.writeFileSync(path.join(dir, '.gitignore'), 'node_modules\n');
    git('add', '-A');
    git('commit', '-qm', 'example');
  });
  test.each(runnable)('%s', command => {
    expect(command).toMatch(/^npx cdk8s-ports /);
    const args = command.replace(/^npx cdk8s-ports /, '').match(/(?:[^\s"']+|"[^"]*"|'[^']*')+/g)!.map(a => a.replace(/^['"]|['"]$/g, ''));
    const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'cdk8s-ports.js'), ...args], {
      cwd: dir, encoding: 'utf8', timeout: 120_000, env: { ...process.env, NO_COLOR: '1', CDK8S_CHECK_UPGRADE: 'false' },
    });
    // 0 clean or 1 findings (status on a busy machine): never a usage error, never a stack trace.
    expect({ command, status: r.status, stderr: r.stderr }).toEqual({ command, status: expect.any(Number), stderr: expect.not.stringMatching(/\n\s+at |internal error/) });
    expect([0, 1]).toContain(r.status);
    expect(r.stdout.length + r.stderr.length).toBeGreaterThan(0);
  });
});

test('the README\'s "Use it in your cdk8s app" code runs as shown, and binds the Deployment', () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const usage = readme.slice(readme.indexOf('## Use it in your cdk8s app'));
  const code = /```ts\n([\s\S]*?)```/.exec(usage)![1];
  // Inside the project (test-artifacts/ is ignored by git), so that cdk8s and cdk8s-plus-27 resolve as in a user's app.
  fs.mkdirSync(path.join(ROOT, 'test-artifacts'), { recursive: true });
  const dir = fs.mkdtempSync(path.join(ROOT, 'test-artifacts', 'readme-'));
  const file = path.join(dir, 'main.ts');
  // The app's own project: the lock goes beside its cdk8s.yaml (not up into this repository's).
  fs.writeFileSync(path.join(dir, 'cdk8s.yaml'), 'language: typescript\napp: npx ts-node main.ts\n');
  fs.writeFileSync(file, code.replace(/from 'cdk8s-ports'/g, `from ${JSON.stringify(path.join(ROOT, 'lib'))}`) +
    '\nconsole.log(JSON.stringify(api.port(\'http\').in(\'production\')));\n');
  const r = spawnSync(process.execPath, ['-r', path.join(ROOT, 'node_modules', 'ts-node', 'register', 'transpile-only'), file],
    { cwd: dir, encoding: 'utf8', env: { ...process.env, CDK8S_OUTDIR: path.join(dir, 'dist'), TS_NODE_PROJECT: path.join(ROOT, 'tsconfig.json') } });
  // The first synth pins the automatic port, and says so.
  expect(r.stderr).toBe('updated ports.lock.json\n');
  expect(r.status).toBe(0);
  expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toMatchObject({ port: 8100, targetPort: 8100, protocol: 'TCP', name: 'http' });
  const written = fs.readdirSync(path.join(dir, 'dist')).map(f => fs.readFileSync(path.join(dir, 'dist', f), 'utf8')).join('\n');
  expect(written).toMatch(/containerPort: 8100\n\s+name: http/);
  expect(written).toMatch(/name: DATABASE_URL/);
  expect(written).toMatch(/readinessProbe:\n\s+httpGet:\n\s+path: \/healthz/);
  expect(JSON.parse(fs.readFileSync(path.join(dir, 'ports.lock.json'), 'utf8')).registries.shop.ports).toEqual({ 'production/api/http': 8100, 'development/api/http': 9100 });
});
