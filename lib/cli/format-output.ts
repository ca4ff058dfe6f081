/**
 * One convention for what the commands print: every command that prints findings takes
 * `--format text|json|sarif|github`, those that list traffic paths also `csv|md|dot`, and `--json`
 * is the short form of `--format json`. The renderers of findings (SARIF 2.1.0 for code scanning,
 * GitHub workflow commands for pull-request annotations) and of paths live here, once.
 */
import * as path from 'path';
import { Command, Option } from 'commander';
import { RULES } from '../model/finding';
import type { Finding } from '../model/finding';
import type * as Verify from '../netpol/verify';
import { markdownCell } from '../emit/escape';
import { jsonOption, printable } from './io';
import { UsageError } from './registries';

/** Every output format of the CLI. */
export const FORMATS = ['text', 'json', 'sarif', 'github', 'csv', 'md', 'dot'] as const;
export type Format = typeof FORMATS[number];
/** What a command that prints findings takes. */
export const FINDING_FORMATS: readonly Format[] = ['text', 'json', 'sarif', 'github'];
/** What a command that prints findings and lists traffic paths takes. */
export const PATH_FORMATS: readonly Format[] = [...FINDING_FORMATS, 'csv', 'md', 'dot'];
/** What a command that only lists traffic paths (explain) takes. */
export const LIST_FORMATS: readonly Format[] = ['text', 'json', 'csv', 'md', 'dot'];
/** What a command that prints neither takes. */
export const PLAIN_FORMATS: readonly Format[] = ['text', 'json'];

/** `--format <format>` (with the command's choices) and `--json`, as every command takes them. */
export function addFormatOptions(command: Command, formats: readonly Format[]): Command {
  return command
    .addOption(new Option('--format <format>', 'output format (default: text)').choices(formats))
    .addOption(jsonOption());
}

/** The format asked for: `--json` is `--format json`; the two disagreeing is a usage error. */
export function formatOf(opts: { readonly format?: string; readonly json?: boolean }): Format {
  if (opts.json && opts.format !== undefined && opts.format !== 'json') {
    throw new UsageError(`--json is --format json: give one of them, not --json with --format ${opts.format}`);
  }
  return opts.json ? 'json' : (opts.format as Format | undefined) ?? 'text';
}

/** A finding of any command, as the code-scanning formats need it. */
export interface Reported {
  readonly rule: string;
  readonly severity: 'error' | 'warning' | 'note';
  readonly message: string;
  readonly fix?: string;
  /** The file, relative to where the command runs (forward slashes). */
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
  /** Why a waiver lets it pass. */
  readonly waived?: string;
  /** A known conflict whose fix is planned (the waiver's `planned`): its fix is still shown. */
  readonly planned?: { readonly owner: string; readonly by: string };
}

/** `ports.yaml:12:7` as file, line and column (a file name may hold colons itself). */
export function splitPosition(text: string): { file: string; line?: number; column?: number } {
  const m = /^(.*?):(\d+)(?::(\d+))?$/.exec(text);
  if (!m || m[1] === '') return { file: text };
  return { file: m[1], line: Number(m[2]), ...(m[3] ? { column: Number(m[3]) } : {}) };
}

const posix = (file: string) => file.split(path.sep).join('/');

/** A registry finding; `fallbackFile` (the registry's source) when the finding has no position. */
export function reportedFinding(f: Finding, fallbackFile?: string): Reported {
  const at = f.where.file ? splitPosition(f.where.file) : fallbackFile ? { file: fallbackFile } : undefined;
  return {
    rule: f.rule, severity: f.severity === 'info' ? 'note' : f.severity, message: f.message,
    ...(f.fix ? { fix: f.fix } : {}), ...(f.waived ? { waived: f.waived } : {}), ...(f.planned ? { planned: f.planned } : {}),
    ...(at ? { file: posix(at.file), ...(at.line ? { line: at.line } : {}), ...(at.column ? { column: at.column } : {}) } : {}),
  };
}

/** The meaning of each rule id, for SARIF's rule list. */
function ruleText(rule: string, extra: Readonly<Record<string, string>>): { level: string; text: string } | undefined {
  if (rule in RULES) {
    const [severity, text] = RULES[rule as keyof typeof RULES];
    return { level: severity === 'info' ? 'note' : severity, text };
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { TRAFFIC_RULES } = require('../netpol/verify') as typeof Verify;
  if (rule in TRAFFIC_RULES) {
    const [severity, text] = TRAFFIC_RULES[rule as keyof typeof TRAFFIC_RULES];
    return { level: severity, text };
  }
  return extra[rule] !== undefined ? { level: 'error', text: extra[rule] } : undefined;
}

/** Rules the commands report beyond the registry and traffic rules. */
export const COMMAND_RULES: Readonly<Record<string, string>> = {
  'hard-coded-port': 'A source or config file repeats a port of the registry instead of reading it from the environment (scan).',
  'hard-coded-collision': "A file that belongs to one service hard-codes another service's port (scan).",
  'traffic-opened': 'The change allows a path that the base did not (diff --traffic).',
  'traffic-closed': 'The change blocks a path that the base allowed (diff --traffic).',
  'output-drift': 'A committed output file differs from what the registry produces (diff).',
  'synth-failed': 'The registry could not be synthesized (diff).',
  'traffic-too-many-paths': 'The policies allow more paths than verify counts (verify).',
};

/** A file as a SARIF artifact URI: relative, forward slashes, percent-encoded. */
const artifactUri = (file: string) => encodeURI(posix(file)).replace(/[?#]/g, c => encodeURIComponent(c));

/**
 * A SARIF 2.1.0 log of the findings: one run, the rules used (with their meaning), each result
 * with its level, message (and fix), and location `file:line:column` where it has one. A waived
 * finding is a result with a suppression (code scanning shows it as dismissed).
 */
export function sarifLog(findings: readonly Reported[], version: string): Record<string, unknown> {
  const ids = [...new Set(findings.map(f => f.rule))].sort();
  const index = new Map(ids.map((id, i) => [id, i]));
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [{
      tool: {
        driver: {
          name: 'cdk8s-ports', version, semanticVersion: version,
          rules: ids.map(id => {
            const meaning = ruleText(id, COMMAND_RULES);
            return { id, name: id, ...(meaning ? { shortDescription: { text: meaning.text }, defaultConfiguration: { level: meaning.level } } : {}) };
          }),
        },
      },
      columnKind: 'unicodeCodePoints',
      results: findings.map(f => ({
        ruleId: f.rule, ruleIndex: index.get(f.rule)!, level: f.severity,
        message: { text: f.fix ? `${f.message}\nfix: ${f.fix}` : f.message },
        ...(f.file ? {
          locations: [{
            physicalLocation: {
              artifactLocation: { uri: artifactUri(f.file) },
              ...(f.line ? { region: { startLine: f.line, ...(f.column ? { startColumn: f.column } : {}) } } : {}),
            },
          }],
        } : {}),
        ...(f.waived ? { suppressions: [{ kind: 'inSource', justification: f.waived }] } : {}),
      })),
    }],
  };
}

/** A workflow command's message: `%`, CR and LF escaped (GitHub's toCommandValue). */
const commandData = (text: string) => text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
/** A workflow command's property value: also `:` and `,`, which end a property. */
const commandProperty = (text: string) => commandData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');

/**
 * GitHub Actions workflow commands, one a finding: `::error file=ports.yaml,line=12,col=7,title=collision::message`
 * (a pull request shows them on the lines they name). Waived findings are notices.
 */
export function githubAnnotations(findings: readonly Reported[]): string {
  return findings.map(f => {
    const command = f.waived ? 'notice' : f.severity === 'note' ? 'notice' : f.severity;
    const props = [
      ...(f.file ? [`file=${commandProperty(printable(f.file))}`] : []),
      ...(f.file && f.line ? [`line=${f.line}`] : []),
      ...(f.file && f.line && f.column ? [`col=${f.column}`] : []),
      `title=${commandProperty(`cdk8s-ports ${f.rule}`)}`,
    ];
    // Text from files reaches a log viewer: control characters are shown as escapes (line breaks between the parts stay).
    const text = [printable(f.message), ...(f.waived ? [`waived: ${printable(f.waived)}`] : []), ...(f.fix && (!f.waived || f.planned) ? [`fix: ${printable(f.fix)}`] : [])].join('\n');
    return `::${command} ${props.join(',')}::${commandData(text)}\n`;
  }).join('');
}

/** One traffic path, as the path formats list it. */
export interface ListedPath {
  readonly from: string;
  readonly to: string;
  readonly port: number;
  /** The last port of a range of ports (an interval of the exact comparison). @default `port` alone */
  readonly endPort?: number;
  readonly protocol: string;
  /** What happens to it: `allowed`, `blocked`, `opens`, `closes`. */
  readonly status?: string;
}

/** A port, or a range of them (`8000-8010`). */
const portText = (p: ListedPath) => (p.endPort !== undefined && p.endPort !== p.port ? `${p.port}-${p.endPort}` : String(p.port));

/** RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled. */
const csvField = (text: string) => (/[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text);
/** A Markdown table cell, as the emitters write one (lib/emit/escape.ts). */
const mdCell = (text: string) => markdownCell(printable(text));
/** A Graphviz quoted ID. */
const dotId = (text: string) => `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\r?\n/g, '\\n')}"`;

/**
 * Paths as CSV, a Markdown table (under a heading and an optional summary line, for a pull-request
 * comment) or a Graphviz digraph; with a status column when any path has one.
 */
export function listPaths(format: 'csv' | 'md' | 'dot', paths: readonly ListedPath[], title: string, options: { summary?: string; empty?: string; status?: string } = {}): string {
  const statusName = options.status ?? 'change';
  const withStatus = paths.some(p => p.status !== undefined);
  if (format === 'csv') {
    const head = [...(withStatus ? [statusName] : []), 'from', 'to', 'port', 'protocol'];
    return [head.join(','), ...paths.map(p => [...(withStatus ? [p.status ?? ''] : []), p.from, p.to, portText(p), p.protocol].map(csvField).join(','))].join('\n') + '\n';
  }
  if (format === 'md') {
    const out = [`### ${mdCell(title)}\n\n`];
    if (!paths.length) return out.concat(`${options.empty ?? 'No paths.'}\n`).join('');
    if (options.summary) out.push(`${options.summary}\n\n`);
    out.push(`| ${withStatus ? `${statusName} | ` : ''}from | to | port |\n|${withStatus ? '---|' : ''}---|---|---|\n`);
    for (const p of paths) out.push(`| ${withStatus ? `${mdCell(p.status ?? '')} | ` : ''}${mdCell(p.from)} | ${mdCell(p.to)} | ${portText(p)}/${mdCell(p.protocol)} |\n`);
    return out.join('');
  }
  const colour: Record<string, string> = { opens: 'red', closes: 'darkgreen', blocked: 'red', allowed: 'black' };
  const nodes = [...new Set(paths.flatMap(p => [p.from, p.to]))].sort();
  return [
    'digraph traffic {',
    `  label=${dotId(title)};`,
    '  node [shape=box];',
    ...nodes.map(n => `  ${dotId(n)};`),
    ...paths.map(p => `  ${dotId(p.from)} -> ${dotId(p.to)} [label=${dotId(`${portText(p)}/${p.protocol}${p.status ? ` ${p.status}` : ''}`)}${p.status && colour[p.status] ? `, color=${colour[p.status]}` : ''}];`),
    '}',
  ].join('\n') + '\n';
}

/** Prints findings in a code-scanning format. */
export function printFindings(out: (text: string) => void, format: 'sarif' | 'github', findings: readonly Reported[], version: string): void {
  if (format === 'sarif') out(`${JSON.stringify(sarifLog(findings, version), null, 2)}\n`);
  else out(githubAnnotations(findings));
}
