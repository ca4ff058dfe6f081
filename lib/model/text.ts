/**
 * What free text (descriptions, owners, reasons, health checks) may hold, once for every output it
 * reaches: no C0 or C1 control character and no DEL (a line break or an escape sequence in a
 * `.env`, Nix or YAML comment, a Markdown table, a terminal), no line or paragraph separator, no
 * bidirectional control (text that reads differently from what it is: U+061C, U+200E, U+200F,
 * U+202A-U+202E, U+2066-U+2069), no noncharacter U+FDD0-U+FDEF, U+FFFE, U+FFFF (which XML forbids)
 * and no lone surrogate (which no UTF-8 file can hold).
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufdd0-\ufdef\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const UNSAFE_ALL = new RegExp(UNSAFE.source, 'g');

/** The first character free text may not hold, or undefined. */
export function unsafeCharacter(text: string): string | undefined {
  return UNSAFE.exec(text)?.[0];
}

/** A character as people read it in a message: `U+202E`. */
export function codePoint(c: string): string {
  return `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * Text as it may reach a terminal: every character free text may not hold shown as a `\u{…}`
 * escape (a tab as two spaces), so nothing printed can rewrite the screen, the title or the order
 * in which a line reads.
 */
export function printable(text: string): string {
  return text.replace(UNSAFE_ALL, c => (c === '\t' ? '  ' : `\\u{${c.codePointAt(0)!.toString(16)}}`));
}
