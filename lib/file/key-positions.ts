/**
 * Where each key and list item of a YAML or JSON text stands, found in one linear pass over the
 * text (no second parse): block mappings and lists from their indentation, flow mappings and lists
 * (`{ a: 1 }`, `[ x, y ]`, a JSON file, over one line or several) character by character. A path is
 * written as the findings write it: `services.api.ports.http`, `services.api.connectsTo[1].to`.
 *
 * It answers for the texts the fast path reads (lib/file/registry-file.ts `fastLoad`: no tags,
 * merge keys, several documents or syntax errors). Where it meets a construct it does not follow
 * (an explicit `? key`, a `key: value` pair inside a flow list) it stops and keeps what it found;
 * a path it has no position for is then located by the position-keeping parser.
 */

/** A position as editors count it: line and column from 1. */
export interface KeyPosition {
  readonly line: number;
  readonly col: number;
}

/** Nesting deeper than this is not followed (the fast path's reader refuses deeper nesting long before). */
const MAX_DEPTH = 200;

/** Thrown inside the scan where the text leaves what it follows. */
class Unfollowed extends Error {}

const SPACE = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\r';
const FLOW_END = (c: string | undefined) => c === ',' || c === ']' || c === '}' || c === '[' || c === '{';

/** What the pass found, asked by path. */
export interface KeyLocator {
  /** Where the key itself stands for a map entry, the item for a list item (where the position-keeping parser puts them). */
  key(path: string): KeyPosition | undefined;
  /** Where the value stands when it is a scalar or an alias written in the text (undefined for a map or a list). */
  value(path: string): KeyPosition | undefined;
}

/**
 * The positions of every key path in `text`, and of every scalar value. The first occurrence of a
 * path is kept. With `wanted`, only those paths (and the keys on the way to them) are looked for:
 * every other map entry and list item is stepped over without reading its keys (its lines by their
 * indentation, a flow collection by its brackets), so a report of three findings costs a scan of
 * the lines, not a reading of every key. `covers` tells whether a path was looked for.
 */
export function keyLocator(text: string, wanted?: Iterable<string>): KeyLocator & { covers(path: string): boolean } {
  const offsets = new Map<string, number>();
  const values = new Map<string, number>();
  const record = (path: string, offset: number) => {
    if (!offsets.has(path)) offsets.set(path, offset);
  };
  const recordValue = (path: string, offset: number) => {
    if (!values.has(path)) values.set(path, offset);
  };
  // Every path a wanted path starts with, ending where a segment ends (`a`, `a.b`, `a.b[0]` of `a.b[0].c`),
  // and the wanted paths themselves: an entry whose path is not among them holds nothing wanted.
  let onTheWay: Set<string> | undefined;
  if (wanted) {
    onTheWay = new Set(['']);
    for (const w of wanted) {
      onTheWay.add(w);
      for (let i = 0; i < w.length; i++) if (w[i] === '.' || w[i] === '[') onTheWay.add(w.slice(0, i));
    }
  }
  const wants = (path: string) => onTheWay === undefined || onTheWay.has(path);

  // ---- flow collections, character by character ----

  /** The offset after blanks, line breaks and comments. */
  const skipSpace = (i: number): number => {
    for (;;) {
      const c = text[i];
      if (SPACE(c)) i++;
      else if (c === '#') {
        const nl = text.indexOf('\n', i);
        i = nl === -1 ? text.length : nl + 1;
      } else return i;
    }
  };
  const endOfQuoted = (i: number): number => endOfQuotedAt(text, i);
  /** The offset after a plain scalar in a flow collection (it ends at `,`, a bracket, `: ` or ` #`). */
  const endOfPlain = (i: number): number => {
    let j = i;
    for (; j < text.length; j++) {
      const c = text[j];
      if (c === ',' || c === ']' || c === '}') break;
      if (c === ':' && (SPACE(text[j + 1]) || FLOW_END(text[j + 1]) || j + 1 === text.length)) break;
      if (SPACE(c) && text[j + 1] === '#') break;
    }
    // Trailing blanks and line breaks are not the scalar's.
    while (j > i && SPACE(text[j - 1])) j--;
    return j;
  };
  /** The text of a key scalar between two offsets. */
  const keyText = (start: number, end: number): string => {
    const raw = text.slice(start, end);
    if (raw.startsWith('"')) {
      try {
        return JSON.parse(raw.replace(/\n\s*/g, ' ')) as string;
      } catch {
        throw new Unfollowed();
      }
    }
    if (raw.startsWith("'")) return raw.slice(1, -1).replace(/''/g, "'").replace(/\s*\n\s*/g, ' ');
    return raw.replace(/\s*\n\s*/g, ' ');
  };
  /** Skips an anchor (`&name `) before a value. */
  const skipAnchor = (i: number): number => {
    while (text[i] === '&') {
      let j = i + 1;
      while (j < text.length && !SPACE(text[j]) && !FLOW_END(text[j])) j++;
      i = skipSpace(j);
    }
    return i;
  };
  /**
   * The offset after the flow collection opened at `i`, found by its brackets alone (quoted scalars
   * and comments stepped over): a collection that holds nothing wanted.
   */
  const skipFlow = (i: number): number => skipFlowAt(text, i);
  let depth = 0;
  /** The offset after the flow value at `i` (after blanks), its keys and items recorded under `path`. */
  const flowValue = (i: number, path: string): number => {
    i = skipAnchor(skipSpace(i));
    const c = text[i];
    if (c === '{' || c === '[') {
      if (!wants(path)) return skipFlow(i);
      if (++depth > MAX_DEPTH) throw new Unfollowed();
      const end = c === '{' ? flowMap(i + 1, path) : flowSeq(i + 1, path);
      depth--;
      return end;
    }
    if (c === '?' && SPACE(text[i + 1])) throw new Unfollowed();
    const end = c === '"' || c === "'" ? endOfQuoted(i) : endOfPlain(i);
    if (end > i && wants(path)) recordValue(path, i);
    return end;
  };
  const flowMap = (i: number, path: string): number => {
    for (;;) {
      i = skipSpace(i);
      const c = text[i];
      if (c === undefined) throw new Unfollowed();
      if (c === '}') return i + 1;
      if (c === '?' && SPACE(text[i + 1])) throw new Unfollowed();
      if (c === '{' || c === '[') throw new Unfollowed();
      const start = i;
      const end = c === '"' || c === "'" ? endOfQuoted(i) : endOfPlain(i);
      if (end === start) throw new Unfollowed();
      const at = `${path}${path ? '.' : ''}${keyText(start, end)}`;
      if (wants(at)) record(at, start);
      i = skipSpace(end);
      if (text[i] === ':') i = skipSpace(flowValue(i + 1, at));
      if (text[i] === ',') i++;
      else if (text[i] !== '}') throw new Unfollowed();
    }
  };
  const flowSeq = (i: number, path: string): number => {
    for (let n = 0; ; n++) {
      i = skipSpace(i);
      if (text[i] === undefined) throw new Unfollowed();
      if (text[i] === ']') return i + 1;
      const at = `${path}[${n}]`;
      if (wants(at)) record(at, skipAnchor(i));
      i = skipSpace(flowValue(i, at));
      if (text[i] === ':') {
        // `[ a: 1 ]`: a map inside a flow list, whose first key was read as the item's value.
        values.delete(`${path}[${n}]`);
        throw new Unfollowed();
      }
      if (text[i] === ',') i++;
      else if (text[i] !== ']') throw new Unfollowed();
    }
  };

  // ---- block structure, line by line ----

  type Entry = { readonly indent: number; readonly path: string; readonly item: boolean; items: number };
  const stack: Entry[] = [];
  const pathOf = () => (stack.length ? stack[stack.length - 1].path : '');
  const push = (indent: number, segment: string, item: boolean) => {
    if (stack.length >= MAX_DEPTH) throw new Unfollowed();
    const parent = pathOf();
    stack.push({ indent, path: item || !parent ? `${parent}${segment}` : `${parent}.${segment}`, item, items: 0 });
    return pathOf();
  };
  // Greedy runs up to the first `:` or `#`, the trailing blanks cut afterwards: a lazy run followed
  // by blanks would try every split of a long run of blanks (quadratic in the line's length).
  // Blanks are spaces and tabs only: YAML reads a no-break space as content.
  const KEY = /^(?:"((?:[^"\\]|\\.)*)"[ \t]*|'((?:[^']|'')*)'[ \t]*|([^ \t"'#:{}[\],&*!|>%@`?-][^:#]*|[-?][^ \t:#][^:#]*)):(?:[ \t]|$)/;
  const BLOCK_SCALAR = /^[|>][-+0-9]*[ \t]*(?:#.*)?$/;
  const ANCHOR = /^&[^ \t]*(?:[ \t]+|$)/;
  const isDash = (x: string) => x === '-' || x.startsWith('- ') || x.startsWith('-\t');
  const blanksFrom = (x: string, i: number) => {
    while (x[i] === ' ' || x[i] === '\t') i++;
    return i;
  };
  const trimBlanksEnd = (x: string) => {
    let e = x.length;
    while (e > 0 && (x[e - 1] === ' ' || x[e - 1] === '\t')) e--;
    return e === x.length ? x : x.slice(0, e);
  };
  const spacesOf = (x: string) => {
    let i = 0;
    while (x.charCodeAt(i) === 32) i++;
    return i;
  };
  /** Nothing but a comment, or nothing at all: the value is on the next lines. */
  const empty = (x: string) => x === '' || x.startsWith('#');
  /** A plain line that holds a key the pattern does not read (`a#b: 1`, `http://x: 1`, `&k a: 1`, `*k : 1`, `? k`): not followed. */
  const unreadKey = (x: string): boolean => {
    if (x === '?' || x.startsWith('? ') || x.startsWith('?\t')) return true;
    const bare = x.slice(ANCHOR.exec(x)?.[0].length ?? 0);
    const c = bare[0];
    if (c === '"' || c === "'" || c === '{' || c === '[' || c === '|' || c === '>' || c === undefined) return false;
    const comment = bare.search(/[ \t]#/);
    return /:(?:[ \t]|$)/.test(comment === -1 ? bare : bare.slice(0, comment));
  };

  /**
   * After a key or a dash, at `offset` in the text (the line's value, its anchor included): a flow
   * collection or a multi-line quoted scalar is read to its end. Returns the offset where the next
   * line to read starts, or -1 when the value ends on this line; `blockScalar` when the value is `|` or `>`.
   */
  const valueAt = (offset: number, rest: string, path: string): number | 'blockScalar' => {
    const anchor = ANCHOR.exec(rest)?.[0].length ?? 0;
    const v = rest.slice(anchor);
    const at = offset + anchor;
    const c = v[0];
    if (c !== '{' && c !== '[' && wants(path)) recordValue(path, at);
    if (c === '{' || c === '[') {
      const end = flowValue(at, path);
      const nl = text.indexOf('\n', end);
      return nl === -1 ? text.length : nl + 1;
    }
    if (c === '"' || c === "'") {
      const end = endOfQuoted(at);
      const nl = text.indexOf('\n', end);
      return nl === -1 ? text.length : nl + 1;
    }
    if (BLOCK_SCALAR.test(v)) return 'blockScalar';
    return -1;
  };

  try {
    // A byte order mark is no part of the first line's indentation.
    let start = text.charCodeAt(0) === 0xfeff ? 1 : 0;
    // Whether the entry on top of the stack has its value still to come (the top of the document has).
    let pending = true;
    // A list item whose content starts on a later line (`-` alone, `- # note`, `- &anchor`): it stands where that content does.
    let awaiting: { readonly path: string; readonly indent: number } | undefined;
    let rootItems = 0;
    // After an entry that holds nothing wanted: its lines (deeper than this, and list items at it when `skipDashes`) are stepped over.
    let skipIndent = -1;
    let skipDashes = false;
    while (start < text.length) {
      if (skipIndent >= 0) {
        start = afterDeeperLines(text, start, skipIndent, skipDashes);
        skipIndent = -1;
        pending = false;
        awaiting = undefined;
        if (start >= text.length) break;
      }
      let nl = text.indexOf('\n', start);
      if (nl === -1) nl = text.length;
      const l = text.charCodeAt(nl - 1) === 13 ? text.slice(start, nl - 1) : text.slice(start, nl);
      const lineStart = start;
      start = nl + 1;
      if (l.includes('\r')) throw new Unfollowed(); // a carriage return alone: line breaks the pass does not count
      let indent = spacesOf(l);
      let t = trimBlanksEnd(l.slice(indent));
      if (t === '' || t.startsWith('#')) continue;
      if (t[0] === '\t') {
        if (empty(t.slice(blanksFrom(t, 0)))) continue;
        throw new Unfollowed(); // indentation by tabs (the fast path refuses it too)
      }
      if (awaiting) {
        if (indent > awaiting.indent && wants(awaiting.path)) record(awaiting.path, lineStart + indent);
        awaiting = undefined;
      }
      const dash = isDash(t);
      // A list item may sit at its parent key's indentation (`ports:` then `- 80`): it belongs to the key.
      while (stack.length) {
        const top = stack[stack.length - 1];
        if (top.indent > indent || (top.indent === indent && (!dash || top.item))) stack.pop();
        else break;
      }
      let ownerIndent = indent;
      // `- - 80`: an item that is itself a list, on one line.
      let item = dash;
      while (item) {
        const parent = stack[stack.length - 1];
        const index = parent ? parent.items++ : rootItems++;
        const restAt = blanksFrom(t, 1);
        const rest = t.slice(restAt);
        const col = indent + restAt;
        const at = push(indent, `[${index}]`, true);
        if (!wants(at) && skipIndent < 0) {
          skipIndent = indent;
          skipDashes = false;
        }
        const anchor = ANCHOR.exec(rest)?.[0].length ?? 0;
        if (empty(rest.slice(anchor))) awaiting = { path: at, indent };
        else if (wants(at)) record(at, lineStart + col + anchor);
        ownerIndent = indent;
        indent = col;
        t = rest;
        item = isDash(t);
      }
      if (empty(t)) {
        pending = true;
        continue;
      }
      const m = KEY.exec(t);
      let valueOffset = lineStart + indent;
      let value = t;
      let path = pathOf();
      if (m) {
        const key = m[1] !== undefined ? keyText(lineStart + indent, lineStart + indent + m[1].length + 2) : m[2] !== undefined ? m[2].replace(/''/g, "'") : trimBlanksEnd(m[3]);
        path = push(indent, key, false);
        if (wants(path)) record(path, lineStart + indent);
        ownerIndent = indent;
        const valueAtCol = blanksFrom(t, m[0].length);
        value = t.slice(valueAtCol);
        valueOffset = lineStart + indent + valueAtCol;
      } else if (unreadKey(t)) {
        throw new Unfollowed();
      } else if (!dash && !pending) {
        continue;
      }
      // A key whose value is on the next lines (`ports:` then `{ http: 80 }`, `a: &anchor` then its map, a whole document in flow style).
      pending = empty(value.slice(ANCHOR.exec(value)?.[0].length ?? 0));
      if (pending) {
        // A key that holds nothing wanted, its value on the next lines: they are stepped over.
        if (m && !wants(path) && skipIndent < 0) {
          skipIndent = ownerIndent;
          skipDashes = true;
        }
        continue;
      }
      const next = valueAt(valueOffset, value, path);
      if (next === 'blockScalar') {
        // The scalar's lines are the ones indented deeper than its key (or blank).
        while (start < text.length) {
          let e = text.indexOf('\n', start);
          if (e === -1) e = text.length;
          const line = text.slice(start, e);
          const spaces = spacesOf(line);
          const blank = spaces === line.length || (spaces === line.length - 1 && line.charCodeAt(spaces) === 13);
          if (!blank && spaces <= ownerIndent) break;
          start = e + 1;
        }
      } else if (next !== -1) {
        start = next;
      }
    }
  } catch (e) {
    if (!(e instanceof Unfollowed)) throw e;
  }

  // Offsets become lines and columns only when asked, from the line starts (one pass, built once).
  let lineStarts: number[] | undefined;
  const position = (offset: number): KeyPosition => {
    if (!lineStarts) {
      lineStarts = [0];
      for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lineStarts.push(i + 1);
    }
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: offset - lineStarts[lo] + 1 };
  };
  return {
    covers: (path: string) => wants(path),
    key(path) {
      const offset = offsets.get(path);
      return offset === undefined ? undefined : position(offset);
    },
    value(path) {
      const offset = values.get(path);
      return offset === undefined ? undefined : position(offset);
    },
  };
}

/** The characters a collection skipped by its brackets stops at: brackets, quotes, comments. */
const FLOW_STOPS = /[{}[\]"'#]/g;

/**
 * The offset after the flow collection opened at `i`, found by its brackets alone (quoted scalars
 * and comments stepped over): a collection that holds nothing wanted. The text between the
 * characters that matter is jumped over by a regular expression.
 */
function skipFlowAt(text: string, i: number): number {
  let open = 0;
  const stops = FLOW_STOPS;
  stops.lastIndex = i;
  for (let m = stops.exec(text); m !== null; m = stops.exec(text)) {
    i = m.index;
    const c = text[i];
    if (c === '{' || c === '[') {
      if (++open > MAX_DEPTH) throw new Unfollowed();
    } else if (c === '}' || c === ']') {
      if (--open === 0) return i + 1;
    } else if (c === '"' || c === "'") {
      // A quote starts a scalar only where a scalar starts (not inside a plain one: `it's`).
      if (SPACE(text[i - 1]) || FLOW_END(text[i - 1]) || text[i - 1] === ':') stops.lastIndex = endOfQuotedAt(text, i);
    } else if (SPACE(text[i - 1])) {
      const nl = text.indexOf('\n', i);
      stops.lastIndex = nl === -1 ? text.length : nl;
    }
  }
  throw new Unfollowed();
}

/** The offset after a quoted scalar that starts at `i`. */
function endOfQuotedAt(text: string, i: number): number {
  const q = text[i];
  for (let j = i + 1; j < text.length; j++) {
    const c = text[j];
    if (q === '"' && c === '\\') j++;
    else if (c === q) {
      if (q === "'" && text[j + 1] === "'") j++;
      else return j + 1;
    }
  }
  throw new Unfollowed();
}

/** Per indentation (and whether list items at it are inside), the first line that is not deeper (see afterDeeperLines). */
const outdented = new Map<string, RegExp>();

/**
 * From the line starting at `start`, the start of the first line that belongs to no entry deeper
 * than `indent`: blank lines, comments and lines indented deeper are stepped over, and with
 * `dashes` list items at `indent` too (`- x` under a key at the same indentation). A tab after
 * the spaces stops it (the line reader refuses tab indentation). Found by a regular expression
 * over the text, not line by line.
 */
function afterDeeperLines(text: string, start: number, indent: number, dashes: boolean): number {
  const key = `${indent}${dashes ? '-' : ''}`;
  let re = outdented.get(key);
  if (!re) {
    // A line of at most `indent` spaces, then what is neither blank, nor a comment (nor, with `dashes`, a dash item at `indent`).
    const shallower = indent > 0 ? ` {0,${indent - 1}}[^ \n\r#]` : '';
    const at = dashes ? ` {${indent}}(?:[^ \n\r#-]|-(?![ \t\n\r]|$))` : ` {${indent}}[^ \n\r#]`;
    re = new RegExp(`(?:^|\n)(?:${shallower ? `${shallower}|` : ''}${at})`, 'g');
    outdented.set(key, re);
  }
  re.lastIndex = start === 0 ? 0 : start - 1;
  const m = re.exec(text);
  if (!m) return text.length;
  return m[0][0] === '\n' ? m.index + 1 : m.index;
}
