import * as fs from 'fs';
import * as path from 'path';
import { parse, parseAllDocuments } from 'yaml';
import * as fc from 'fast-check';
import { jsYamlText, startYamlDocuments, yamlDocuments, yamlText } from '../lib/emit/yaml';
import { ROOT } from './support/project';

/**
 * The YAML writer (js-yaml) must never write a string that a reader takes for something else:
 * kubectl's reader and docker-compose's PyYAML follow YAML 1.1 (yes/on are booleans, 1_000 and
 * 1:20 are numbers), newer tools YAML 1.2. Every string must come back as the same string.
 */
const TRICKY = [
  'yes', 'no', 'on', 'off', 'y', 'n', 'Y', 'N', 'true', 'False', 'null', 'Null', '~', '', ' ', ' lead', 'trail ',
  '0777', '0o17', '0x1F', '0x_1F', '0b1_0', '1_000', '+1_000', '1:20', '190:20:30.15', '1e3', '1.0e+3', '3.14', '.5', '12.',
  '-.inf', '.NaN', '2001-12-14', '2001-12-14t21:59:43.10-05:00', '::/0', '0.0.0.0/0', ':x', '- a', '#x', 'a #b', 'a: b',
  '@x', '`x', '"x', "'x", '!x', '&x', '*x', '%x', '{x}', '[x]', '|', '>', '=', '<<', '?', 'é', 'multi\nline', 'tab\tx', '\u0007',
];

test('every tricky string survives a YAML 1.1 and a YAML 1.2 reader, as a value and as a key', () => {
  const problems: string[] = [];
  for (const s of TRICKY) {
    const text = yamlText({ value: s, [s]: 'key' });
    for (const version of ['1.1', '1.2'] as const) {
      const back = parse(text, { version });
      if (back.value !== s) problems.push(`${version} value ${JSON.stringify(s)} came back as ${JSON.stringify(back.value)} from ${text}`);
      if (back[s] !== 'key') problems.push(`${version} key ${JSON.stringify(s)} was lost in ${text}`);
    }
  }
  expect(problems).toEqual([]);
});

test('numbers, booleans, nulls and empty collections keep their types', () => {
  const value = { port: 8080, ratio: 0.5, on: true, off: false, none: null, list: [], map: {}, nested: [{ a: 1 }] };
  for (const version of ['1.1', '1.2'] as const) expect(parse(yamlText(value), { version })).toEqual(value);
});

test('the committed YAML reads the same under YAML 1.1 and 1.2, and writing what it holds gives the same text', () => {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.ya?ml$/.test(e.name)) files.push(p);
    }
  };
  walk(path.join(ROOT, 'manifests'));
  expect(files.length).toBeGreaterThanOrEqual(10); // per registry: a k8s file per environment, a compose base and overlays
  for (const file of files) {
    // Compose files start with a comment header; the rest is the writer's own text.
    const text = fs.readFileSync(file, 'utf8').replace(/^(#.*\n)+/, '');
    const docs11 = parseAllDocuments(text, { version: '1.1' }).map(d => d.toJS());
    const docs12 = parseAllDocuments(text, { version: '1.2' }).map(d => d.toJS());
    expect({ file, docs: docs11 }).toEqual({ file, docs: docs12 });
    expect({ file, text: yamlDocuments(docs12) }).toEqual({ file, text });
  }
});

test('files of many documents are written on a worker thread, byte for byte as on this one', () => {
  const docs = (n: number, salt: string) => Array.from({ length: n }, (_, i) => ({
    apiVersion: 'v1', kind: 'Service', metadata: { name: `svc-${salt}-${i}`, labels: { tricky: TRICKY[i % TRICKY.length] } },
    spec: { ports: [{ port: 1000 + i, targetPort: TRICKY[(i * 7) % TRICKY.length] }], empty: {}, list: [], flag: i % 2 === 0, none: null },
  }));
  const files = [docs(3000, 'a'), docs(2500, 'b'), [undefined, { x: 1 }], [{ services: Object.fromEntries(docs(50, 'd').map(d => [d.metadata.name, d])) }]];
  const job = startYamlDocuments(files);
  expect(job.usesWorker).toBe(true);
  expect(job.result()).toEqual(files.map(yamlDocuments));
  // A worker that fails costs time, not output: this thread writes it all.
  const failing = startYamlDocuments(files, { workerPrelude: "throw new Error('instrumented away');" });
  expect(failing.usesWorker).toBe(true);
  expect(failing.result()).toEqual(files.map(yamlDocuments));
  // Few documents stay on this thread.
  expect(startYamlDocuments([docs(10, 'c')]).usesWorker).toBe(false);
});

/**
 * The writer writes plain data itself and asks js-yaml only how to write each distinct scalar: the
 * text must equal js-yaml's own for documents of every shape (Kubernetes objects, compose files,
 * and anything a user's chart holds), including what it hands back to js-yaml whole.
 */
describe('the direct writer equals js-yaml', () => {
  const piece = fc.constantFrom(...TRICKY, 'a', 'api', 'app.kubernetes.io/name', '8080', 'TCP', 'x-y_z.1', '/', 'http://a:1/b', 'ä', '\u2028', '#', ': ', 'Yes', 'yES', 'NaN', 'a'.repeat(1100), ':', 'a:', '-', '.', '_x', 'a b', 'a#', 'x,y', '[a', 'a]');
  const text = fc.oneof(piece, fc.string(), fc.array(piece, { maxLength: 3 }).map(p => p.join('')), fc.string({ unit: 'grapheme', maxLength: 6 }));
  const scalar = fc.oneof(text, fc.integer(), fc.integer({ min: -1e15, max: 1e15 }), fc.double(), fc.boolean(), fc.constant(null), fc.constant(-0));
  const { value } = fc.letrec(tie => ({
    value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, tie('list'), tie('map')),
    list: fc.array(tie('value'), { maxLength: 4 }),
    map: fc.dictionary(text, tie('value'), { maxKeys: 5 }),
  }));

  test('on random documents (5,000 runs)', () => {
    fc.assert(fc.property(value, doc => {
      expect(yamlText(doc)).toBe(jsYamlText(doc));
    }), { numRuns: 5000 });
  });

  test('on the shapes a synth writes, and on every committed manifest', () => {
    const service = (name: string, labels: Record<string, string>) => ({
      apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'shop-production', labels },
      spec: { selector: labels, ports: [{ name: 'http', port: 8080, targetPort: 8080, protocol: 'TCP' }], type: 'ClusterIP' },
    });
    const policy = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'allow-web-to-api' },
      spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'], ingress: [{ from: [{ ipBlock: { cidr: '::/0', except: ['10.0.0.0/8'] } }], ports: [{ port: 53, protocol: 'UDP', endPort: 60 }] }], egress: [] } };
    for (const doc of [service('api', { 'app.kubernetes.io/name': 'api', tier: 'yes' }), policy, [policy, [1, [2]]], { a: [[]], b: [{}], c: [[{ d: 1 }]] }]) {
      expect(yamlText(doc)).toBe(jsYamlText(doc));
    }
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p); else if (/\.ya?ml$/.test(e.name)) files.push(p);
      }
    };
    walk(path.join(ROOT, 'manifests'));
    for (const file of files) {
      for (const doc of parseAllDocuments(fs.readFileSync(file, 'utf8')).map(d => d.toJS())) expect({ file, text: yamlText(doc) }).toEqual({ file, text: jsYamlText(doc) });
    }
  });
});
