import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ROOT } from './support/project';

/**
 * The declarations the package publishes, emitted as `npm run build` emits them (tsconfig.build.json,
 * `stripInternal`) into a scratch folder: no `@internal` member survives, and what a public
 * signature needs is still there (typed port names are checked in a consumer's code).
 */
jest.setTimeout(180_000);

const TSC = path.join(ROOT, 'node_modules', '.bin', 'tsc');
const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-dts-'));
const emit = spawnSync(TSC, ['-p', path.join(ROOT, 'tsconfig.build.json'), '--emitDeclarationOnly', '--outDir', out], { cwd: ROOT, encoding: 'utf8' });

function filesUnder(dir: string, ext: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap(e =>
    e.isDirectory() ? filesUnder(path.join(dir, e.name), ext) : e.name.endsWith(ext) ? [path.join(dir, e.name)] : []);
}

/** `file:line` of every line of `files` that holds `@internal`. */
function internalsIn(files: string[], base: string): string[] {
  return files.flatMap(f => fs.readFileSync(f, 'utf8').split('\n').flatMap((line, i) =>
    line.includes('@internal') ? [`${path.relative(base, f)}:${i + 1}`] : []));
}

test('the build emits a declaration file for every module of lib/', () => {
  expect(emit.stdout + emit.stderr).toBe('');
  expect(emit.status).toBe(0);
  const sources = filesUnder(path.join(ROOT, 'lib'), '.ts').map(f => path.relative(path.join(ROOT, 'lib'), f).replace(/\.ts$/, '.d.ts')).sort();
  expect(filesUnder(path.join(out, 'lib'), '.d.ts').map(f => path.relative(path.join(out, 'lib'), f)).sort()).toEqual(sources);
});

test('no @internal member survives in the published declarations', () => {
  // The sources do mark members @internal (else this test would pass on nothing).
  expect(internalsIn(filesUnder(path.join(ROOT, 'lib'), '.ts'), ROOT).length).toBeGreaterThan(10);
  expect(internalsIn(filesUnder(path.join(out, 'lib'), '.d.ts'), out)).toEqual([]);
  // And the reader sees one where there is one.
  const planted = path.join(out, 'planted.d.ts');
  fs.writeFileSync(planted, 'export declare class A {\n    /** @internal */\n    x: number;\n}\n');
  expect(internalsIn([planted], out)).toEqual(['planted.d.ts:2']);
  fs.rmSync(planted);
});

test('typed port and environment names hold in the published declarations, as a consumer compiles against them', () => {
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(out, 'node_modules'), 'dir');
  fs.writeFileSync(path.join(out, 'consumer.ts'), `import { App } from 'cdk8s';
import { PortRegistry } from './lib/index';
const registry = new PortRegistry(new App(), 'shop', { environments: { production: { range: [8100, 8199] } } });
const api = registry.service('api', { ports: { http: { offset: 10 } } });
const db = registry.external('db', { host: 'db.internal', port: 5432 });
const web = registry.service('web', { ports: { http: { offset: 11 } } });
web.connectsTo(api, 'http');
web.connectsTo(db, 'main');
api.port('http').in('production');
// @ts-expect-error 'nope' is not a port of api
web.connectsTo(api, 'nope');
// @ts-expect-error an external declared with \`port\` has one port, named main
web.connectsTo(db, 'http');
// @ts-expect-error 'htp' is not a port of api
api.port('htp');
// @ts-expect-error 'prodution' is not an environment of the registry
api.port('http').in('prodution');
`);
  const r = spawnSync(TSC, ['--noEmit', '--strict', '--esModuleInterop', '--skipLibCheck', 'false', '--types', 'node', '--target', 'ES2022', '--module', 'commonjs', 'consumer.ts'], { cwd: out, encoding: 'utf8' });
  // An unused @ts-expect-error (TS2578) is a name the published types no longer check; with skipLibCheck off, a
  // declaration that names a stripped one fails too.
  expect(r.stdout + r.stderr).toBe('');
  expect(r.status).toBe(0);
});

afterAll(() => fs.rmSync(out, { recursive: true, force: true }));
