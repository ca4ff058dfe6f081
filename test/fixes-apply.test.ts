import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Document, isMap, isScalar, parse, parseDocument } from 'yaml';
import { ROOT } from './support/project';

/**
 * Every fix the checker prints is applicable as written and, applied, leaves the registry with
 * fewer findings and no new one (run the built CLI first: npm run build). Each alternative of each
 * fix this file knows how to read is applied literally to a copy of the registry (and of its compose
 * files), and the copy is checked again.
 */

interface Reported { rule: string; where: Record<string, unknown>; fix?: string }
type Files = Record<string, string>;

function check(files: Files): Reported[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-apply-'));
  for (const [file, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, file), text);
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'cdk8s-ports.js'), 'check', '--json', 'ports.yaml'], {
    cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000,
  });
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout).registries[0].findings;
}

/** The alternatives of a fix: `A, or B` / `A; or B`. */
const alternatives = (fix: string) => fix.split(/[,;] or,? (?=set |give |move |pick |if |use |add |declare |limit )/);

/** Sets a key path in a YAML document, matching map keys by their text (`defactoPorts.8000` is the key 8000). */
function setIn(doc: Document, keys: string[], value: unknown): void {
  let node: unknown = doc.contents;
  for (let i = 0; i < keys.length - 1; i++) {
    expect(isMap(node)).toBe(true);
    const pair = (node as { items: Array<{ key: unknown; value: unknown }> }).items.find(p => String(isScalar(p.key) ? p.key.value : p.key) === keys[i]);
    if (!pair) {
      (node as { set(k: unknown, v: unknown): void }).set(keys[i], doc.createNode(keys.slice(i + 1).reduceRight<unknown>((v, k) => ({ [k]: v }), value)));
      return;
    }
    node = pair.value;
  }
  const map = node as { items: Array<{ key: unknown; value: unknown }>; set(k: unknown, v: unknown): void };
  const last = keys[keys.length - 1];
  const pair = map.items.find(p => String(isScalar(p.key) ? p.key.value : p.key) === last);
  if (pair) pair.value = doc.createNode(value);
  else map.set(/^\d+$/.test(last) ? Number(last) : last, doc.createNode(value));
}

/** One alternative of a finding's fix applied as written, or undefined when this file does not read it. */
function applyOne(files: Files, f: Reported, alt: string): Files | undefined {
  const doc = parseDocument(files['ports.yaml']);
  const out = { ...files };
  let applied = false;
  for (const m of alt.matchAll(/\bset ([\w.-]+): (\[.*\]|\{.*\}|[\w-]+)(?= if |$| and )/g)) {
    setIn(doc, m[1].split('.'), parse(m[2]));
    applied = true;
  }
  const portPath = String(f.where.path ?? '').replace(/\.(slot|offset)$/, '').split('.');
  const given = /give [\w-]+\.[\w-]+ another (offset|slot)\b.*\b(offset|slot): (-?\d+)/.exec(alt);
  if (given) {
    setIn(doc, [...portPath, given[2]], Number(given[3]));
    applied = true;
  }
  const moved = /^(?:move it into|pick a port in|move it within) [^:]*: the next free port is (\d+)/.exec(alt);
  if (moved && !given) {
    const spec = doc.getIn(portPath, false) as { get(k: string): unknown } | undefined;
    const port = spec?.get('port');
    setIn(doc, isMap(port) ? [...portPath, 'port', String(f.where.environment)] : [...portPath, 'port'], Number(moved[1]));
    applied = true;
    const publish = / and publish (\d+) in ([\w.-]+):(\d+)/.exec(alt);
    if (publish) {
      const lines = out[publish[2]].split('\n');
      const line = Number(publish[3]) - 1;
      const before = lines[line];
      lines[line] = before.replace(new RegExp(`(^|[\\s"'\\[,:])${f.where.port}(?=:\\d)`), `$1${publish[1]}`);
      expect(lines[line]).not.toBe(before);
      out[publish[2]] = lines.join('\n');
    }
  }
  if (!applied) return undefined;
  out['ports.yaml'] = doc.toString();
  return out;
}

const identity = (f: Reported) => `${f.rule} ${f.where.environment ?? ''} ${f.where.service ?? ''}.${f.where.portName ?? ''} ${f.where.port ?? ''}`;

/** Checks the files, applies every readable alternative of every fix of `rules` to a copy, checks again. Returns the alternatives tried. */
function everyFixHolds(files: Files, rules: readonly string[]): string[] {
  const before = check(files);
  const known = new Set(before.map(identity));
  const tried: string[] = [];
  for (const f of before.filter(x => rules.includes(x.rule) && x.fix)) {
    for (const alt of alternatives(f.fix!)) {
      const changed = applyOne(files, f, alt);
      if (!changed) continue;
      tried.push(alt);
      const after = check(changed);
      expect({ alt, fewer: after.length < before.length }).toEqual({ alt, fewer: true });
      expect({ alt, added: after.filter(x => !known.has(identity(x))).map(x => [x.rule, x.where, x.fix]) }).toEqual({ alt, added: [] });
    }
  }
  return tried;
}

/** Applies, in report order, the alternative each finding of `rule` gives that matches `pick`, all to one copy. */
function applyInOrder(files: Files, rule: string, pick: RegExp): { applied: string[]; after: Reported[]; before: Reported[] } {
  const before = check(files);
  let current = files;
  const applied: string[] = [];
  for (const f of before.filter(x => x.rule === rule)) {
    const alt = alternatives(f.fix!).find(a => pick.test(a));
    if (!alt) continue;
    applied.push(alt);
    current = applyOne(current, f, alt)!;
  }
  return { applied, after: check(current), before };
}

const OFFSETS = 'name: off\nenvironments:\n  production: { range: [8100, 8199] }\n  development: { range: [9100, 9199] }\n' +
  'categories:\n  api: { offsets: ["0-19"] }\n  web: { offsets: ["20-39"] }\n  debug: { offsets: [[99, 99]] }\n';

describe('outside-category: another category', () => {
  test('is offered only where it holds the port in every environment the service runs in', () => {
    const files = {
      'ports.yaml': OFFSETS + 'services:\n' +
        '  shop:\n    category: web\n    public: true\n    ports: { http: { port: { production: 8130, development: 9101 } } }\n',
    };
    const findings = check(files);
    expect(findings.map(f => [f.rule, f.where.environment])).toEqual([['outside-category', 'development']]);
    // 8130 is web's in production, 9101 api's in development: no category holds both.
    expect(findings[0].fix).not.toMatch(/category: /);
    everyFixHolds(files, ['outside-category']);
  });

  test('names the service\'s category when the port inherits it, and the port\'s own when it has one', () => {
    const files = {
      'ports.yaml': OFFSETS + 'services:\n' +
        '  users:\n    category: api\n    public: true\n    ports: { http: { offset: 25 }, dbg: { slot: last, category: debug } }\n' +
        '  tools:\n    category: debug\n    public: true\n    ports: { d: { offset: 5, category: web }, x: { slot: 0 } }\n',
    };
    const fixes = check(files).map(f => f.fix);
    expect(fixes).toContainEqual(expect.stringMatching(/^set services\.users\.category: web if that is what users is, or /));
    expect(fixes).toContainEqual(expect.stringMatching(/^set services\.tools\.ports\.d\.category: api if that is what tools\.d is, or /));
    expect(everyFixHolds(files, ['outside-category'])).toEqual(expect.arrayContaining([
      'set services.users.category: web if that is what users is', 'set services.tools.ports.d.category: api if that is what tools.d is',
    ]));
  });

  test('names the port\'s own key when the service\'s would move a sibling that inherits it', () => {
    const files = {
      'ports.yaml': OFFSETS + 'services:\n' +
        '  users:\n    category: api\n    public: true\n    ports: { http: { offset: 25 }, admin: { offset: 3 } }\n',
    };
    const fixes = check(files).map(f => f.fix);
    expect(fixes[0]).toMatch(/^set services\.users\.ports\.http\.category: web if that is what users\.http is, or /);
    everyFixHolds(files, ['outside-category']);
  });
});

describe('defacto-port: declaring the owner', () => {
  const REG = 'name: vend2\nenvironments:\n  h1: { scope: h1 }\n  h2: { scope: h2 }\n' +
    'defactoPorts: { 8111: { what: our admin UI } }\nservices:\n' +
    '  f1: { kind: forge-a, environments: [h1], public: true, ports: { http: { port: 8000 } } }\n' +
    '  f2: { kind: forge-b, environments: [h2], public: true, ports: { http: { port: 8000 } } }\n' +
    '  f3: { kind: grafana, environments: [h2], public: true, ports: { http: { port: 8111 } } }\n';

  test('sets one entry with every kind on the port, and keeps the other entries', () => {
    const files = { 'ports.yaml': REG };
    const declare = check(files).filter(f => f.rule === 'defacto-port' && f.where.port === 8000).map(f => alternatives(f.fix!)[0]);
    expect(declare).toEqual(['f1', 'f2'].map(s => `if ${s} (kind forge-${s === 'f1' ? 'a' : 'b'}) is a server whose own default is 8000, declare it the port's owner: ` +
      'set defactoPorts.8000: { what: "Django and `python -m http.server`", kinds: [forge-a, forge-b] }'));
    expect(everyFixHolds(files, ['defacto-port'])).toEqual(expect.arrayContaining(declare));
    // Applied, both warnings on 8000 go, and the one on 8111 stays.
    const after = check(applyOne(files, check(files)[0], declare[0])!);
    expect(after.map(f => [f.rule, f.where.port])).toEqual([['defacto-port', 8111]]);
  });

  test('merges with an entry the registry has for the port', () => {
    const files = { 'ports.yaml': REG.replace('{ 8111: { what: our admin UI } }', '{ 8000: { what: "our forges", kinds: [forge-b] }, 8111: { what: our admin UI } }') };
    const findings = check(files).filter(f => f.rule === 'defacto-port' && f.where.port === 8000);
    expect(findings.map(f => alternatives(f.fix!)[0])).toEqual([
      "if f1 (kind forge-a) is a server whose own default is 8000, declare it the port's owner: set defactoPorts.8000: { what: \"our forges\", kinds: [forge-b, forge-a] }"]);
    everyFixHolds(files, ['defacto-port']);
  });
});

describe('fixes that rewrite the same key stack', () => {
  const REG = 'name: av\nkubernetes: false\nenvironments:\n  lab: { range: "0-9999" }\n' +
    'categories:\n  sys: { ranges: ["0-1023"], reserved: true }\n  ops: { ranges: [[2000, 2099]], offsets: [[10, 19]], reserved: true }\n' +
    'services:\n  dns: { ports: { d: { port: 53, protocol: UDP } } }\n  web: { ports: { http: { port: 80 } } }\n  ntp: { ports: { n: { port: 123, protocol: UDP } } }\n';

  test('each split of a reserved range is written against the ranges the earlier ones leave, so applied in order none comes back', () => {
    const files = { 'ports.yaml': REG };
    const { applied, after, before } = applyInOrder(files, 'reserved-range', /^if \d+ is meant to stay/);
    expect(applied.map(a => a.replace(/^.*: set /, 'set '))).toEqual([
      'set categories.sys.ranges: [[1, 52], [54, 1023]]',
      'set categories.sys.ranges: [[1, 52], [54, 79], [81, 1023]]',
      'set categories.sys.ranges: [[1, 52], [54, 79], [81, 122], [124, 1023]]',
    ]);
    expect(before.filter(f => f.rule === 'reserved-range')).toHaveLength(3);
    expect(after.filter(f => f.rule === 'reserved-range')).toEqual([]);
    // And each one alone.
    everyFixHolds(files, ['reserved-range']);
  });

  test('a port in a range counted from the band (offsets) is not offered a split of the declared ranges', () => {
    const files = { 'ports.yaml': REG.replace('range: "0-9999"', 'range: [2000, 2999]').replace(/  dns:.*\n  web:.*\n  ntp:.*\n/, '  w: { ports: { a: { port: 2012 }, b: { port: 2050 } } }\n') };
    const fixes = check(files).filter(f => f.rule === 'reserved-range').map(f => [f.where.port, f.fix]);
    expect(fixes).toEqual([[2012, expect.not.stringMatching(/set categories/)], [2050, expect.stringMatching(/set categories\.ops\.ranges: \[\[2000, 2049\], \[2051, 2099\]\]$/)]]);
    everyFixHolds(files, ['reserved-range']);
  });
});

describe('a fix that moves a port a checked compose file publishes', () => {
  const files = {
    'ports.yaml': 'name: lab\nenvironments:\n  home: {}\nservices:\n' +
      '  gitea: { kind: gitea, public: true, ports: { http: { port: 3000 } } }\n' +
      '  myforge: { kind: ourforge, public: true, ports: { http: { port: 8000 } } }\n' +
      '  noname: { public: true, ports: { http: { port: 4200 } } }\n' +
      '  worker: { ports: { metrics: { port: 9100, internal: true } } }\n' +
      '  clash: { public: true, ports: { http: { port: 3000 } } }\n' +
      'composeChecks:\n  - file: docker-compose.yml\n',
    'docker-compose.yml': 'services:\n  gitea:\n    image: gitea/gitea:1.21\n    ports: ["3000:3000"]\n' +
      '  myforge:\n    image: ourforge\n    ports: ["8000:8000"]\n  noname:\n    image: x\n    ports:\n      - "127.0.0.1:4200:4200"\n' +
      '  worker:\n    image: w\n    expose: ["9100"]\n',
  };

  test('says to publish the new port where the file publishes the old one', () => {
    const fixes = check(files).map(f => [f.rule, f.where.service, f.fix]);
    expect(fixes).toEqual(expect.arrayContaining([
      ['defacto-port', 'myforge', expect.stringMatching(/move it within 1024-65535: the next free port is 8001 and publish 8001 in docker-compose\.yml:7$/)],
      ['defacto-port', 'noname', expect.stringMatching(/the next free port is 4201 and publish 4201 in docker-compose\.yml:11$/)],
      // clash publishes nothing: moving it changes nothing in the compose file.
      ['collision', 'clash', expect.not.stringMatching(/publish/)],
    ]));
    expect(everyFixHolds(files, ['defacto-port', 'collision'])).toEqual(expect.arrayContaining([
      'move it within 1024-65535: the next free port is 8001 and publish 8001 in docker-compose.yml:7',
      'move it within 1024-65535: the next free port is 4201 and publish 4201 in docker-compose.yml:11',
    ]));
  });

  test('without composeChecks, a move says nothing of compose files', () => {
    const alone = { 'ports.yaml': files['ports.yaml'].replace(/composeChecks:[\s\S]*$/, '') };
    expect(check(alone).filter(f => /publish/.test(f.fix ?? ''))).toEqual([]);
  });
});

describe('port-source: a slot past the category\'s last port', () => {
  const REG = 'name: slots\nenvironments:\n  production: { range: [8100, 8199] }\n  development: { range: [9100, 9199] }\n' +
    'categories:\n  api: { offsets: ["0-9"] }\n  debug: { ranges: [[7000, 7009]] }\nservices:\n' +
    '  users: { category: api, public: true, ports: { http: { slot: first }, dbg: { slot: last } } }\n' +
    '  orders: { category: api, public: true, ports: { http: { slot: 1 } } }\n' +
    '  tools: { category: api, public: true, ports: { x: { slot: 12 } } }\n';

  test('is told a slot that is free and inside the band in every environment', () => {
    const files = { 'ports.yaml': REG };
    const fixes = check(files).filter(f => f.rule === 'port-source').map(f => f.fix);
    expect(fixes).toEqual([expect.stringMatching(/^give tools\.x another slot: the next one free in every environment it runs in is slot: \d \(port 81\d\d in production, port 91\d\d in development\)$/), fixes[0]]);
    expect(fixes[0]).not.toMatch(/slot: [019] /);
    expect(everyFixHolds(files, ['port-source'])).toHaveLength(2);
  });

  test('is told why there is none when the category lies outside the bands', () => {
    const files = { 'ports.yaml': REG.replace("tools: { category: api", "tools: { category: debug") };
    const fixes = check(files).filter(f => f.rule === 'port-source').map(f => f.fix);
    expect(fixes).toEqual(Array(2).fill('no slot of category debug lies inside the band of every environment tools.x runs in ' +
      '(8100-8199 in production, 9100-9199 in development): move a range of category debug inside the bands or widen them'));
  });
});
