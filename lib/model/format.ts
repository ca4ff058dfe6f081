import { Finding, blocking } from './finding';
import { printable } from './text';

/**
 * One finding as people read it: severity, rule, who, then the message and the fix. Control
 * characters, line separators and bidirectional controls in any part are shown as `\u{…}`
 * escapes: a value quoted in a message cannot rewrite the terminal or reorder the line.
 */
export function formatFinding(f: Finding): string {
  const w = f.where;
  const who = [
    w.registry,
    w.environment,
    w.service ? `${w.service}${w.portName ? `.${w.portName}` : ''}` : undefined,
    w.port !== undefined ? `port ${w.port}` : undefined,
  ].filter(Boolean).join(' / ');
  const head = `${f.waived ? 'waived' : f.severity} [${f.rule}]${who ? ` ${who}` : ''}${w.file ? ` (${w.file})` : ''}`;
  const lines = [head, `  ${f.message}`];
  if (f.waived) lines.push(`  waived: ${f.waived}`);
  // A planned waiver keeps its fix: it is the fix that is planned.
  if (f.fix && (!f.waived || f.planned)) lines.push(`  fix: ${f.fix}`);
  return lines.map(printable).join('\n');
}

/** `1 error, 2 warnings, 0 waived`. */
export function summarize(findings: readonly Finding[]): string {
  const errors = blocking(findings).length;
  const warnings = findings.filter(f => f.severity === 'warning' && !f.waived).length;
  const waived = findings.filter(f => f.waived).length;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  return `${plural(errors, 'error')}, ${plural(warnings, 'warning')}, ${waived} waived`;
}

/** Every finding as people read it, then the summary line. */
export function formatFindings(findings: readonly Finding[]): string {
  return [...findings.map(formatFinding), summarize(findings)].join('\n');
}
