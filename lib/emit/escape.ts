/**
 * Escaping for every text format the emitters write. The rules refuse values that would need it
 * (lib/rules/values.ts); escaping anyway means a value that slipped through can never add a line,
 * a key, a table cell or markup to an output.
 */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;

/** One line of text for a `#` comment (.env, Nix, YAML headers): control characters become spaces. */
export function oneLine(text: string): string {
  return text.replace(CONTROL, ' ');
}

/** A Markdown table cell: one line, `|` escaped, no HTML (so no `<!--`), no code spans opened by backticks. */
export function markdownCell(value: unknown): string {
  if (value === undefined || value === '') return '';
  return oneLine(String(value)).replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/`/g, '\\`')
    .replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A value in a `.env` file: as is when it is plain, else double-quoted with `\\`, `"`, `$` kept literal where not a reference. */
export function envValue(value: string): string {
  if (/^[A-Za-z0-9_./:@%+,={}$?-]*$/.test(value)) return value;
  return `"${oneLine(value).replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}
