/**
 * The position-keeping YAML parser (`yaml`), loaded on first use: most registry files load on
 * js-yaml's fast path and most commands never need positions, so the CLI does not pay for
 * loading it on every start.
 */
let yamlModule: typeof import('yaml') | undefined;

export function yamlLib(): typeof import('yaml') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (yamlModule ??= require('yaml') as typeof import('yaml'));
}
