import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseDocument } from 'yaml';
import { ROOT } from './support/project';

/**
 * A fix that shrinks a band moves its start, which every offset counts from: applied as printed
 * (run the built CLI first: npm run build), it must strand no port. Each "shrink" fix of each
 * range-overlap is applied literally to a copy of the registries, and the copy is checked again:
 * fewer findings, none new.
 */

interface Reported { rule: string; where: Record<string, unknown>; fix?: string }

function check(dir: string, files: string[]): Array<{ source: string; findings: Reported[] }> {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'cdk8s-ports.js'), 'check', '--json', ...files], {
    cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000,
  });
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout).registries;
}

/** The alternatives of a fix (`make the …: A, or B, or C`) that shrink a band. */
const shrinks = (fix: string) => fix.replace(/^[^:]*: /, '').split(/, or (?=shrink|declare|give|split|fit|move)/).filter(a => a.startsWith('shrink'));

/** Every `set <key path>: <value>` of a fix, applied to the YAML text (`in registry <name>`: that registry's file). */
function apply(texts: Record<string, string>, names: Record<string, string>, file: string, fix: string): Record<string, string> {
  const registry = / in registry ([\w-]+)/.exec(fix)?.[1];
  const target = registry ? names[registry] : file;
  const doc = parseDocument(texts[target]);
  const sets = [...fix.matchAll(/set ([\w.]+): (\[[^\]]*\]|[\w-]+)/g)];
  expect(sets.length).toBeGreaterThan(0);
  for (const [, key, value] of sets) doc.setIn(key.split('.'), JSON.parse(/^[\d[]/.test(value) ? value : JSON.stringify(value)));
  return { ...texts, [target]: doc.toString() };
}

const identity = (f: Reported) => `${f.rule} ${f.where.registry} ${f.where.environment ?? ''} ${f.where.service ?? ''}.${f.where.portName ?? ''}`;

/** Writes the registries, checks them, applies every shrink fix to a copy and checks again. Returns the fixes tried. */
function everyShrinkFixHolds(texts: Record<string, string>, bases: Record<string, string> = {}): string[] {
  const write = (t: Record<string, string>) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-shrink-'));
    for (const [file, text] of Object.entries({ ...bases, ...t })) fs.writeFileSync(path.join(dir, file), text);
    return check(dir, Object.keys(t));
  };
  const names = Object.fromEntries(Object.entries(texts).map(([file, text]) => [String(parseDocument(text).get('name')), file]));
  const before = write(texts);
  const all = before.flatMap(r => r.findings);
  const tried: string[] = [];
  for (const [i, r] of before.entries()) {
    for (const f of r.findings.filter(x => x.rule === 'range-overlap')) {
      for (const fix of shrinks(f.fix!)) {
        tried.push(fix);
        const after = write(apply(texts, names, Object.keys(texts)[i], fix)).flatMap(x => x.findings);
        expect({ fix, count: after.length }).toEqual({ fix, count: expect.any(Number) });
        expect(after.length).toBeLessThan(all.length);
        const known = new Set(all.map(identity));
        expect({ fix, added: after.filter(x => !known.has(identity(x))).map(x => [x.rule, x.where]) }).toEqual({ fix, added: [] });
      }
    }
  }
  return tried;
}

test('one registry: shrinking the band whose start an offset counts from keeps the port where it is with a new offset', () => {
  const tried = everyShrinkFixHolds({
    'two.yaml': 'name: two\nkubernetes: false\nenvironments:\n  dev: { range: [8000, 8099] }\n  prod: { range: [8050, 8149] }\n' +
      'services:\n  a: { environments: [dev], ports: { http: { offset: 20 } } }\n  b: { environments: [prod], ports: { http: { offset: 60 } } }\n',
  });
  expect(tried).toEqual([
    'shrink band prod\'s range (set environments.prod.range: [8100, 8149] and set services.b.ports.http.offset: 10)',
    'shrink band dev\'s range (set environments.dev.range: [8000, 8049])',
  ]);
});

test('one registry: a category counted from the band moves with its start, and so does its offset port', () => {
  const tried = everyShrinkFixHolds({
    'one.yaml': 'name: one\nkubernetes: false\nenvironments:\n  prod: { range: [8000, 8099] }\n  dev: { range: [8050, 8149] }\n' +
      'categories:\n  api: { offsets: ["0-9"] }\n' +
      'services:\n  a: { category: api, environments: [dev], ports: { http: { offset: 5 } } }\n  b: { environments: [dev], ports: { http: { offset: 60 } } }\n',
  });
  expect(tried).toEqual([
    'shrink band dev\'s range (set environments.dev.range: [8100, 8149] and set services.b.ports.http.offset: 10; it moves a.http (dev) to 8105)',
    'shrink band prod\'s range (set environments.prod.range: [8000, 8049])',
  ]);
});

test('one registry: no shrink is offered that strands a port given by an offset in several bands', () => {
  const tried = everyShrinkFixHolds({
    'both.yaml': 'name: both\nkubernetes: false\nenvironments:\n  dev: { range: [8000, 8099] }\n  prod: { range: [8050, 8149] }\n' +
      'services:\n  b: { ports: { http: { offset: 60 } } }\n',
  });
  // Offset 60 is 8110 in prod from 8050, 8160 from 8100 (outside it); dev's 8060 is outside 8000-8049: no shrink holds.
  expect(tried).toEqual([]);
});

test('registries checked together: the shrink fix of the later one sets the new offset too, and applied, checks clean', () => {
  const tried = everyShrinkFixHolds({
    'p1.yaml': 'name: p1\nkubernetes: false\nenvironments:\n  dev: { range: [8000, 8099], scope: box }\nservices:\n  a: { ports: { http: { offset: 10 } } }\n',
    'p2.yaml': 'name: p2\nkubernetes: false\nenvironments:\n  dev: { range: [8050, 8149], scope: box }\nservices:\n  b: { ports: { http: { offset: 60 } } }\n',
  });
  expect(tried).toEqual(['shrink it (set environments.dev.range: [8100, 8149] and set services.b.ports.http.offset: 10 in registry p2)']);
});

test('registries on one base: a port that moves with the band must not land on another team\'s port', () => {
  const base = { 'base.yaml': 'name: org\nkubernetes: false\nenvironments:\n  shared: { range: [3000, 3099] }\n' };
  const team = (name: string, band: string, more: string, services: string) =>
    `name: ${name}\nextends: base.yaml\nenvironments:\n  ${name}: { range: ${band}${more} }\nservices:\n  ${services}\n`;
  const a = team('a', '[10000, 10099]', '', 'x: { environments: [a], ports: { http: { offset: 10 } } }');
  const b = team('b', '[10050, 10199]', '', 'z: { environments: [b], ports: { http: { offset: 60 } } }\n  w: { environments: [b], ports: { http: { offset: 61 } } }');
  // Offsets count from the new start: z and w move with it, which the fix says.
  expect(everyShrinkFixHolds({ 'a.yaml': a, 'b.yaml': b }, base)).toEqual([
    'shrink it (set environments.b.range: [10100, 10199] in registry b; it moves z.http (b) to 10160, w.http (b) to 10161)']);
  // Team c holds 10160: z, given by an offset in b only, keeps its port with a new offset.
  const c = team('c', '[10160, 10169]', ', shared: true', 'v: { environments: [c], ports: { http: { offset: 0 } } }');
  expect(everyShrinkFixHolds({ 'a.yaml': a, 'b.yaml': b, 'c.yaml': c }, base)).toEqual([
    'shrink it (set environments.b.range: [10100, 10199] and set services.z.ports.http.offset: 10 in registry b; it moves w.http (b) to 10161)']);
  // z also runs in the base's environment: no new offset keeps it, it would move to 10160, which team c holds: no shrink.
  const moving = team('b', '[10050, 10199]', '', 'z: { environments: [b, shared], ports: { http: { offset: 60 } } }');
  expect(everyShrinkFixHolds({ 'a.yaml': a, 'b.yaml': moving, 'c.yaml': c }, base)).toEqual([]);
  // Without team c, it may move: the fix says so.
  expect(everyShrinkFixHolds({ 'a.yaml': a, 'b.yaml': moving }, base)).toEqual([
    'shrink it (set environments.b.range: [10100, 10199] in registry b; it moves z.http (b) to 10160)']);
});
