import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { checkRegistry, RegistrySpec } from '../lib';
import { ROOT } from './support/project';

/** Ports kept clear (X11's 6000) are skipped by every new choice, automatic ports and `suggest` as well as fixes, and said so. */

function cli(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'cdk8s-ports.js'), ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, json: () => JSON.parse(r.stdout) };
}

// The reviewer's registry (audit 37, r11): four fixed ports below 6000, then an automatic one.
const x11 = (e: object = { auto: true }): RegistrySpec => ({
  name: 'x11', kubernetes: false, environments: { dev: { range: [5998, 6010] } },
  services: {
    a: { ports: { http: { port: 5998 } } }, c: { ports: { http: { port: 5999 } } },
    e: { ports: { http: e } },
  },
});

const portOf = (r: ReturnType<typeof checkRegistry>, service: string) => r.allocations.find(a => a.service === service)!;

test('an automatic port steps over 6000 (X11) and says so, as it does over a de-facto default', () => {
  const r = checkRegistry(x11());
  expect(portOf(r, 'e').port).toBe(6001);
  expect(portOf(r, 'e').note).toBe('automatic allocation skipped 6000 (X11, display :0)');
  expect(r.lock.ports['dev/e/http']).toBe(6001);
  expect(r.findings).toEqual([]);
});

test('an X server (kind: x11) is given 6000 itself, with no note', () => {
  const spec = x11();
  spec.services!.e.kind = 'x11';
  const e = portOf(checkRegistry(spec), 'e');
  expect([e.port, e.note]).toEqual([6000, undefined]);
});

test('a lock entry that pins 6000 keeps it: only new choices skip it', () => {
  const r = checkRegistry(x11(), { lock: { ports: { 'dev/e/http': 6000 }, offsets: {} } });
  expect(portOf(r, 'e').port).toBe(6000);
  expect(r.lock.ports['dev/e/http']).toBe(6000);
  expect(r.findings).toEqual([]);
});

test('a sequential category and an offset: auto port step over 6000 too', () => {
  const seq = checkRegistry({ name: 's', kubernetes: false, environments: { dev: { range: [5990, 6099] } },
    categories: { apps: { ranges: [[5999, 6010]], assign: 'sequential' } },
    services: { a: { category: 'apps', ports: { http: { port: 5999 } } }, b: { category: 'apps', ports: { http: { auto: true } } } } });
  expect(portOf(seq, 'b').port).toBe(6001);
  const offset = checkRegistry({ name: 'o', kubernetes: false, environments: { dev: { range: [6000, 6099] }, prod: { range: [7100, 7199] } },
    services: { a: { ports: { http: { offset: 'auto' } } } } });
  expect(offset.allocations.map(a => a.port)).toEqual([6001, 7101]);
});

test('suggest skips 6000 and notes it, in text and in JSON', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-x11-'));
  fs.writeFileSync(path.join(dir, 'ports.yaml'), 'name: x11\nkubernetes: false\nenvironments:\n  dev: { range: [5998, 6010] }\n' +
    'services:\n  a: { ports: { http: { port: 5998 } } }\n  c: { ports: { http: { port: 5999 } } }\n');
  const text = cli(['suggest', '--env', 'dev', '--count', '2'], dir);
  expect(text.status).toBe(0);
  expect(text.stdout).toBe('x11 dev (5998-6010, scope default):\n6001\n6002\nnote: skipped 6000 (X11, display :0)\n');
  expect(cli(['suggest', '--env', 'dev', '--json'], dir).json()).toMatchObject({ ports: [6001], note: 'skipped 6000 (X11, display :0)' });
});

test('an offset past a 100-port band (audit 37, r16 p4) is told another offset; 8000 is skipped as a de-facto default (Django), not as taken', () => {
  const spec: RegistrySpec = { name: 'p4', kubernetes: false, environments: { dev: { range: [8000, 8099] } }, services: { d: { ports: { http: { offset: 110 } } } } };
  expect(checkRegistry(spec).findings.map(f => [f.rule, f.fix])).toEqual([['outside-band',
    'give d.http another offset from the band: the next one free in every environment it runs in is offset: 1 (port 8001 in dev), skipping offset 0: 8000 in dev (Django and `python -m http.server`)']]);
  expect(checkRegistry({ ...spec, defactoPorts: { 8000: false } }).findings[0].fix).toMatch(/is offset: 0 \(port 8000 in dev\)$/);
});
