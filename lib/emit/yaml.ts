import { DEFAULT_SCHEMA, Type, dump } from 'js-yaml';

/**
 * Strings that a YAML 1.1 reader takes for numbers: `1_000`, `1:20`, `0b1_0`, `0x_1F` … js-yaml
 * already quotes the YAML 1.2 forms and, in its default compatibility mode, the YAML 1.1
 * booleans (`yes`, `on`, `y` …). Quoting a few strings more than needed is harmless; a string
 * that kubectl or docker-compose reads back as a number is not.
 */
const YAML11_NUMBER = /^[-+]?(?:0b[01_]+|0x[0-9a-fA-F_]+|[0-9][0-9_]*(?:[:.][0-9_]*)*(?:[eE][-+]?[0-9]+)?)$/;

/** A type that never represents a value: it only tells the writer which strings need quotes. */
const yaml11Number = new Type('tag:cdk8s-ports,2026:yaml11-number', {
  kind: 'scalar',
  resolve: (text: string) => YAML11_NUMBER.test(text),
  construct: (text: string) => text,
});
const SCHEMA = DEFAULT_SCHEMA.extend({ implicit: [yaml11Number] });

/**
 * One YAML document in the block style cdk8s writes (two-space indent, no line folding, no
 * anchors, double quotes where a string needs quotes), with js-yaml, which writes it several
 * times faster than the `yaml` library; YAML is a large part of a synth. `yaml` stays the reader
 * (source positions, duplicate keys).
 */
export function yamlText(value: unknown): string {
  return dump(value, { schema: SCHEMA, lineWidth: -1, noRefs: true, quotingType: '"' });
}

/** Several documents, separated as `cdk8s synth` separates them (`---`). */
export function yamlDocuments(docs: readonly unknown[]): string {
  return docs.map(d => (d === undefined ? '\n' : yamlText(d))).join('---\n');
}
