/**
 * What every command shares: the streams it writes to, exit codes, colour, JSON output and how
 * a finding is printed. Commands live in lib/cli/commands/, one file each.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Option } from 'commander';
import picocolors from 'picocolors';
import { formatFinding } from '../model/format';
import type { Finding } from '../model/finding';

export { UsageError } from './registries';

/** Exit codes: 0 clean, 1 findings or drift, 2 usage or unreadable input. */
export const EXIT = { CLEAN: 0, FINDINGS: 1, USAGE: 2 } as const;

export interface Io {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly cwd: string;
  /** Whether each stream gets ANSI colours (default: neither). */
  readonly colour?: { readonly out: boolean; readonly err: boolean };
}

/**
 * Colour only for a person at a terminal: `NO_COLOR` turns it off, `FORCE_COLOR` (not `0`) turns
 * it on, otherwise the stream must be a TTY. A `CI` variable alone never turns colour on, so
 * piped and logged output stays plain text that scripts can match.
 */
export function wantsColour(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '') return env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  return stream.isTTY === true;
}

export type Colours = ReturnType<typeof picocolors.createColors>;
export const outColours = (io: Io): Colours => picocolors.createColors(io.colour?.out ?? false);
export const errColours = (io: Io): Colours => picocolors.createColors(io.colour?.err ?? false);

export const json = (io: Io, value: unknown) => io.out(`${JSON.stringify(value, null, 2)}\n`);

export function colourFinding(colours: Colours, f: Finding): string {
  const text = formatFinding(f);
  const [head, ...rest] = text.split('\n');
  const paint = f.waived ? colours.dim : f.severity === 'error' ? colours.red : colours.yellow;
  return [paint(head), ...rest].join('\n');
}


/** `-r, --registry <file>`, as the commands that read one registry take it. */
export const registryOption = (): Option =>
  new Option('-r, --registry <file>', 'a ports.yaml/ports.json, or a ports.json written by synth (default: the project\'s own)');
/** `--json`: machine-readable output, the short form of `--format json` (see ./format-output.ts). */
export const jsonOption = (): Option => new Option('--json', 'print JSON for machines (the same as --format json)');

/**
 * Text from files and from other processes as it may reach a terminal: control characters (an
 * escape sequence can rewrite the screen or the title), line and paragraph separators, and
 * bidirectional controls (text that reads differently from what it is) shown as `\u{…}` escapes.
 */
export { printable } from '../model/text';

/** The package's version, from its package.json (found from build/lib/cli or lib/cli alike). */
export function packageVersion(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'cdk8s-ports') return pkg.version ?? '0.0.0';
    }
    if (path.dirname(dir) === dir) return '0.0.0';
  }
}

/**
 * `-r, --registry <file>` for commands that compare with several registries: repeat it for more
 * (`-r a.yaml -r b.yaml`). It takes one value each time, so it never swallows the arguments that
 * follow it (`explain -r ports.yaml web api`).
 */
export const registriesOption = (description: string): Option =>
  new Option('-r, --registry <file>', `${description}; repeat for more`).argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]);
