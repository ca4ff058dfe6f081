/**
 * Escaping for every text format the emitters write, one model per consumer (docs/guarantees.md).
 * The rules refuse values that would need more than this (lib/rules/values.ts); escaping anyway
 * means a value that slipped through can never add a line, a key, a table cell or markup to an
 * output.
 */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;

/** One line of text for a `#` comment (.env, Nix, YAML headers): control characters become spaces. */
export function oneLine(text: string): string {
  return text.replace(CONTROL, ' ');
}

/**
 * Markdown as GitHub reads it (CommonMark with tables and autolink literals): every character that
 * can open inline markup (`[` of links, images and footnotes, `*` and `_` of emphasis, backticks,
 * `<` and `>` of HTML and autolinks, `&` of entities, `~` of strikethrough) or end a table cell
 * (`|`) is backslash-escaped, and so are the characters an autolink literal needs (a `:` followed
 * by more than a space, `@` of an address, a `.` before a letter or after `www`), so user text is shown as
 * the text it is, never as a link, an image or HTML.
 */
const MARKDOWN_INLINE = /[\\`*_[\]<>&|~@]|:(?=\S)|\.(?=\p{L})|(?<=www)\./giu;

/** A Markdown table cell: one line, every markup character escaped (see above). */
export function markdownCell(value: unknown): string {
  if (value === undefined || value === '') return '';
  return oneLine(String(value)).replace(MARKDOWN_INLINE, c => `\\${c}`);
}

/** A Markdown paragraph of user text: as a cell, and nothing at its start that would open a block (heading, list, quote, code). */
export function markdownText(value: string): string {
  return markdownCell(value.trim()).replace(/^([-+=>#]|\d+(?=[.)]))/, m => (/^\d/.test(m) ? `${m}\\` : `\\${m}`));
}

/** A Markdown code span holding `text` as it is: fenced with more backticks than it holds, padded when it starts or ends with one. */
export function markdownCode(text: string): string {
  const line = oneLine(text);
  const longest = Math.max(0, ...[...line.matchAll(/`+/g)].map(m => m[0].length));
  const fence = '`'.repeat(longest + 1);
  const pad = /^[` ]|[` ]$/.test(line) && /[^ ]/.test(line) ? ' ' : '';
  // GitHub splits table cells on `|` even inside code spans, and reads `\|` there as `|`.
  return `${fence}${pad}${line.replace(/\|/g, '\\|')}${pad}${fence}`;
}

/**
 * Text for XML (SVG content and attribute values): the markup characters as entities, and the
 * characters XML 1.0 cannot hold (C0 controls other than tab and line breaks, lone surrogates,
 * U+FFFE, U+FFFF) replaced by U+FFFD. Tab and line breaks are character references, which an
 * attribute keeps (a parser would turn them into spaces otherwise).
 */
// eslint-disable-next-line no-control-regex
const NOT_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const XML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '\t': '&#9;', '\n': '&#10;', '\r': '&#13;' };
export function xmlText(text: string): string {
  return text.replace(NOT_XML, '\ufffd').replace(/[&<>"'\t\n\r]/g, c => XML_ENTITIES[c]);
}

/**
 * A value in a `.env` file as POSIX `sh` reads it with `set -a; . file`: text as it is and
 * `${VARIABLE}` references expanded, nothing else. Unquoted when every text part is plain
 * (letters, digits and `_./:@%+,=?-`, none of which an assignment expands); else in double
 * quotes, where `\\`, `"`, `$` and the backquote of the text are backslash-escaped, so no command
 * substitution, parameter expansion or tilde expansion can happen.
 */
export function envValue(value: string | readonly ({ readonly text: string } | { readonly variable: string })[]): string {
  const parts = typeof value === 'string' ? [{ text: value }] : value;
  const reference = (v: string) => `\${${v}}`;
  if (parts.every(p => 'variable' in p || /^[A-Za-z0-9_./:@%+,=?-]*$/.test(p.text))) {
    return parts.map(p => ('variable' in p ? reference(p.variable) : p.text)).join('');
  }
  return `"${parts.map(p => ('variable' in p ? reference(p.variable) : oneLine(p.text).replace(/[\\"$`]/g, c => `\\${c}`))).join('')}"`;
}
