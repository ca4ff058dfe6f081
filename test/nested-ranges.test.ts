import * as fs from 'fs';
import * as path from 'path';
import fc from 'fast-check';
import { parse } from 'yaml';
import { checkRegistry } from '../lib';
import type { Finding } from '../lib/model/finding';

/** Nested ranges: sub-ranges are declarable, and every fix a range overlap offers can be applied as written. */

const fixture = (name: string) => parse(fs.readFileSync(path.join(__dirname, 'fixtures/real', name), 'utf8'));

/** The `set <path>: <value>` edits of each alternative a fix offers (alternatives are joined by ", or "). */
function alternatives(fix: string): Array<Array<[string, unknown]>> {
  return fix.replace(/^make the ranges disjoint: /, '').split(', or ').map(alt =>
    [...alt.matchAll(/set ([A-Za-z0-9_.-]+): (\[[[\]\d, ]*\]|[A-Za-z0-9_-]+)/g)].map(m => [m[1], parse(m[2])] as [string, unknown]))
    .filter(edits => edits.length > 0);
}

function applied(spec: any, edits: Array<[string, unknown]>): any {
  const copy = structuredClone(spec);
  for (const [p, value] of edits) {
    const keys = p.split('.');
    let node = copy;
    for (const k of keys.slice(0, -1)) node = node[k] ??= {};
    node[keys[keys.length - 1]] = value;
  }
  return copy;
}

const key = (f: Finding) => `${f.rule} ${f.message}`;

/** Applies every alternative of every range-overlap fix: each removes its finding and leaves fewer findings. */
function everyFixApplies(spec: any): number {
  const before = checkRegistry(spec).findings;
  let tried = 0;
  for (const f of before.filter(x => x.rule === 'range-overlap')) {
    for (const edits of alternatives(f.fix ?? '')) {
      tried++;
      const after = checkRegistry(applied(spec, edits)).findings;
      expect({ fix: f.fix, edits, gone: !after.some(x => key(x) === key(f)) }).toEqual({ fix: f.fix, edits, gone: true });
      expect({ fix: f.fix, edits, fewer: after.length < before.length }).toEqual({ fix: f.fix, edits, fewer: true });
    }
  }
  return tried;
}

test('nested category ranges are told the fixes that work: a sub-range, or the enclosing range shrunk or split around it', () => {
  const r = checkRegistry(fixture('ai-stack.yaml'));
  expect(r.findings.map(f => [f.rule, f.message, f.fix])).toEqual([
    ['range-overlap', 'range 16000-16099 of category api overlaps range 16080-16099 of category debug (shared ports 16080-16099)',
      'make the ranges disjoint: declare debug a sub-range of api (set categories.debug.within: api)'],
    ['range-overlap', 'range 16000-16099 of category api overlaps range 16040-16049 of category admin (shared ports 16040-16049)',
      'make the ranges disjoint: declare admin a sub-range of api (set categories.admin.within: api)'],
    ['range-overlap', 'range 17000-17150 of category models overlaps range 17100-17199 of category tools (shared ports 17100-17150)',
      'make the ranges disjoint: shrink category tools\'s range (set categories.tools.ranges: [[17151, 17199]]), or shrink category models\'s range (set categories.models.ranges: [[17000, 17099]])'],
  ]);
  expect(everyFixApplies(fixture('ai-stack.yaml'))).toBe(4);
});

test('one nested range alone may also be cut out of the enclosing one: shrunk at an end, split in the middle', () => {
  const spec = (inner: [number, number]) => ({ name: 'x', environments: { local: {} },
    categories: { api: { ranges: [[16000, 16099]] }, debug: { ranges: [inner] } },
    services: { a: { public: true, category: 'api', ports: { http: { port: 16000 } } } } });
  expect(checkRegistry(spec([16080, 16099])).findings[0].fix).toBe('make the ranges disjoint: declare debug a sub-range of api (set categories.debug.within: api), ' +
    'or shrink api\'s range around it (set categories.api.ranges: [[16000, 16079]])');
  expect(checkRegistry(spec([16040, 16049])).findings[0].fix).toBe('make the ranges disjoint: declare debug a sub-range of api (set categories.debug.within: api), ' +
    'or split api\'s range around it (set categories.api.ranges: [[16000, 16039], [16050, 16099]])');
  expect(everyFixApplies(spec([16080, 16099]))).toBe(2);
  expect(everyFixApplies(spec([16040, 16049]))).toBe(2);
  // A port of the enclosing category inside the nested range: neither fix would leave fewer findings, so the fix says what must move first.
  const stranded = spec([16000, 16009]);
  expect(checkRegistry(stranded).findings[0].fix).toBe('make the ranges disjoint: move the ports placed in 16000-16009 out of one of them first');
});

test('a declared sub-range is nested by design: no overlap, and its ports are its own', () => {
  const spec = fixture('ai-stack.yaml');
  spec.categories.debug.within = 'api';
  spec.categories.admin.within = 'api';
  spec.categories.tools.ranges = [[17151, 17199]];
  expect(checkRegistry(spec).findings).toEqual([]);
  // A service of the enclosing category on a sub-range's port is outside its own category.
  spec.services.gateway.ports.http.port = 16085;
  expect(checkRegistry(spec).findings.map(f => [f.rule, f.message])).toEqual([['outside-category',
    'gateway.http (local) is on 16085, outside category api (16000-16039, 16050-16079); it lies in api\'s sub-range debug (16080-16099)']]);
  // Automatic ports of the enclosing category skip its sub-ranges.
  spec.services.gateway.ports.http = { auto: true };
  spec.services.more = { public: true, category: 'api', ports: { a: { auto: true }, b: { auto: true } } };
  spec.categories.api.ranges = [[16038, 16099]];
  const ports = checkRegistry(spec).allocations.filter(a => a.category === 'api').map(a => a.port).sort();
  expect(ports).toEqual([16038, 16039, 16050]);
});

test('a sub-range must lie inside its parent, name a declared category and not contain it', () => {
  const base = { name: 'x', environments: { local: {} }, categories: { api: { ranges: [[16000, 16099]] }, debug: { ranges: [[16090, 16109]], within: 'api' } } };
  expect(checkRegistry(base).findings.map(f => [f.rule, f.message, f.where.path])).toEqual([
    ['range-overlap', 'range 16090-16109 of category debug is not inside category api (16000-16099), which it is declared within', 'categories.debug.ranges[0]'],
    ['range-overlap', 'range 16000-16099 of category api overlaps range 16090-16109 of category debug (shared ports 16090-16099)', 'categories.debug.ranges[0]'],
  ]);
  expect(checkRegistry({ ...base, categories: { debug: { ranges: [[16090, 16099]], within: 'apı' } } }).findings.map(f => f.rule)).toEqual(['unknown-category']);
  expect(checkRegistry({ ...base, categories: { a: { ranges: [[1100, 1199]], within: 'b' }, b: { ranges: [[1100, 1199]], within: 'a' } } }).findings.map(f => f.rule))
    .toEqual(['invalid-value', 'invalid-value', 'range-overlap']);
});

test('property: on any layout of bands and category ranges, every range-overlap fix applies as written and leaves fewer findings', () => {
  const range = fc.tuple(fc.integer({ min: 2000, max: 2200 }), fc.integer({ min: 0, max: 120 })).map(([a, n]) => [a, a + n] as [number, number]);
  fc.assert(fc.property(fc.array(range, { minLength: 1, maxLength: 4 }), fc.array(range, { minLength: 0, maxLength: 2 }), (cats, bands) => {
    const spec = {
      name: 'p', defactoPorts: false as const,
      environments: Object.fromEntries((bands.length ? bands : [undefined]).map((b, i) => [`e${i}`, b ? { range: b } : {}])),
      categories: Object.fromEntries(cats.map((r, i) => [`c${i}`, { ranges: [r] }])),
    };
    everyFixApplies(spec);
  }), { numRuns: Number(process.env.FC_RUNS ?? 150), seed: Number(process.env.FC_SEED ?? 37) });
});

test('property: every "next free port" fix on a port, applied as written, removes its finding and leaves fewer findings', () => {
  const port = fc.integer({ min: 2990, max: 3030 });
  fc.assert(fc.property(fc.array(port, { minLength: 1, maxLength: 6 }), fc.boolean(), fc.option(fc.constantFrom('gitea', 'redis', 'ourforge')), (ports, banded, kind) => {
    const spec: any = {
      name: 'p', kubernetes: false, avoid: { ports: [3005] },
      environments: { dev: banded ? { range: [3000, 3020] } : {} },
      services: Object.fromEntries(ports.map((p, i) => [`s${i}`, { ...(kind ? { kind } : {}), ports: { http: { port: p } } }])),
    };
    const before = checkRegistry(spec).findings;
    for (const f of before) {
      const m = /the next free port is (\d+)/.exec(f.fix ?? '');
      const at = /^services\.(s\d+)\.ports\.http$/.exec(f.where.path ?? '');
      if (!m || !at) continue;
      const edited = structuredClone(spec);
      edited.services[at[1]].ports.http.port = Number(m[1]);
      const after = checkRegistry(edited).findings;
      const same = (x: Finding) => x.rule === f.rule && x.where.service === f.where.service;
      expect({ fix: f.fix, gone: !after.some(same), fewer: after.length < before.length }).toEqual({ fix: f.fix, gone: true, fewer: true });
    }
  }), { numRuns: Number(process.env.FC_RUNS ?? 150), seed: Number(process.env.FC_SEED ?? 37) });
});
