import type { Path } from './cluster';

/**
 * Who may talk to whom, as an SVG picture drawn from the evaluator's allowed paths
 * ({@link Cluster.paths}), not from any registry: an adjacency matrix with one row per source
 * ("from") and one column per destination ("to"), both in the order the caller gives. A filled
 * cell means at least one path from the row to the column is allowed; its tooltip lists the ports,
 * and the cell shows the port when it fits, else how many ports. Column labels are vertical and
 * rows are one label high, so no two labels overlap however many endpoints there are. Addresses
 * and stand-ins (ids with `(` or without `/`) are drawn in a muted colour.
 *
 * The output depends only on the input (no random ids, no dates). Paths are grouped by pair with
 * a Map first, so the cost is linear in the number of paths plus the size of the matrix.
 */

export interface TrafficSvgInput {
  readonly title: string;
  /** Endpoint ids (`namespace/name` for a pod, or an address), in the order of rows and columns. */
  readonly endpoints: readonly string[];
  /** Allowed paths; those with an endpoint that is not drawn are left out. */
  readonly paths: readonly Path[];
}

/** Above this many endpoints, the first ones are drawn and the picture says how many were left out. */
export const TRAFFIC_MAX_ENDPOINTS = 300;

const MARGIN = 24;
/** Side of one cell; also the pitch of rows and columns. */
const CELL = 26;
const LABEL_FONT = 11;
const CELL_FONT = 9;
const SMALL_FONT = 11;
const TITLE_FONT = 18;
/** Labels longer than this are cut, with the full id in their tooltip. */
const LABEL_CHARS = 48;
const COLORS = {
  text: '#212529', sub: '#495057', muted: '#868e96', grid: '#dee2e6', zebra: '#f8f9fa', diagonal: '#e9ecef',
  allowed: '#1d3557', allowedMuted: '#7d8fa9', cellText: '#ffffff',
};

// eslint-disable-next-line no-control-regex
const NOT_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029\ufffe\uffff]/g;
const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
/** Text for SVG content and attribute values: markup characters escaped, characters XML forbids replaced. */
const esc = (s: string) => s.replace(NOT_XML, '\ufffd').replace(/[&<>"']/g, c => ENTITIES[c]);
const num = (n: number) => (Math.round(n * 10) / 10).toString();

/**
 * A generous estimate of the width of `text` in a sans-serif font at `size` pixels (an upper bound
 * for Helvetica/Arial/Liberation Sans and DejaVu Sans), so that layout never depends on the fonts
 * of the machine that writes the picture.
 */
export function textWidth(text: string, size: number, bold = false): number {
  let em = 0;
  for (const ch of text) {
    if (/[iljI.,:;'|!`]/.test(ch)) em += 0.34;
    else if (/[frt()[\]{}\-/\\ "]/.test(ch)) em += 0.44;
    else if (/[mwMW@%]/.test(ch)) em += 1.0;
    else if (/[A-Z&#]/.test(ch)) em += 0.78;
    else if (/[\x20-\x7e]/.test(ch)) em += 0.64;
    else em += 1.0;
  }
  return em * size * (bold ? 1.1 : 1);
}

/** An address or a stand-in (`(world)`), as opposed to a pod's `namespace/name`. */
export const isAddressLike = (id: string): boolean => id.includes('(') || !id.includes('/');

const cut = (id: string) => ([...id].length > LABEL_CHARS ? `${[...id].slice(0, LABEL_CHARS - 1).join('')}…` : id);

interface Cell { readonly row: number; readonly column: number; readonly ports: string[] }

/** The allowed ports of each drawn pair, by row and column index, sorted. */
function cellsOf(index: ReadonlyMap<string, number>, paths: readonly Path[]): { cells: Cell[]; drawn: number } {
  const n = index.size;
  const byPair = new Map<number, { row: number; column: number; ports: Map<string, Path> }>();
  for (const p of paths) {
    const row = index.get(p.from);
    const column = index.get(p.to);
    if (row === undefined || column === undefined) continue;
    const key = row * n + column;
    let cell = byPair.get(key);
    if (!cell) byPair.set(key, cell = { row, column, ports: new Map() });
    cell.ports.set(`${p.port}/${p.protocol}`, p);
  }
  let drawn = 0;
  const cells = [...byPair.entries()].sort((a, b) => a[0] - b[0]).map(([, c]) => {
    const ports = [...c.ports.values()]
      .sort((a, b) => a.port - b.port || (a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : 0))
      .map(p => `${p.port}${p.endPort !== undefined ? `-${p.endPort}` : ''}/${p.protocol}`);
    drawn += ports.length;
    return { row: c.row, column: c.column, ports };
  });
  return { cells, drawn };
}

/** The text inside a cell: its one port when it fits (TCP is implied), else `×n`. */
function cellText(ports: readonly string[]): string {
  if (ports.length === 1) {
    const short = ports[0].endsWith('/TCP') ? ports[0].slice(0, -4) : ports[0];
    if (textWidth(short, CELL_FONT) <= CELL - 2) return short;
  }
  return `×${ports.length}`;
}

export function trafficSvg(input: TrafficSvgInput): string {
  const unique = [...new Set(input.endpoints)];
  const endpoints = unique.slice(0, TRAFFIC_MAX_ENDPOINTS);
  const leftOut = unique.length - endpoints.length;
  const index = new Map(endpoints.map((e, i) => [e, i]));
  const { cells, drawn } = cellsOf(index, input.paths);
  const n = endpoints.length;
  const labels = endpoints.map(cut);
  const muted = endpoints.map(isAddressLike);
  const ids = endpoints.map(esc);

  // Header: title, a line of counts, the legend; then column labels, then the matrix.
  const title = input.title;
  const summary = `${n} endpoint${n === 1 ? '' : 's'}, ${cells.length} allowed pair${cells.length === 1 ? '' : 's'}, ${drawn} allowed path${drawn === 1 ? '' : 's'}` +
    (leftOut > 0 ? ` (only the first ${n} of ${unique.length} endpoints are drawn: ${leftOut} left out)` : '');
  const legendItems: Array<{ swatch?: string; text: string }> = [
    { swatch: COLORS.allowed, text: 'allowed: at least one port (hover a cell for the list)' },
    { swatch: COLORS.allowedMuted, text: 'allowed, to or from an address or stand-in' },
    { text: '8080: the only allowed port, on TCP; ×n: n ports' },
  ];
  const titleY = MARGIN + TITLE_FONT;
  const summaryY = titleY + 22;
  const legendY = summaryY + 20;
  let legendX = MARGIN;
  const legend: string[] = [];
  for (const item of legendItems) {
    if (item.swatch) {
      legend.push(`<rect x="${num(legendX)}" y="${legendY - 10}" width="12" height="12" fill="${item.swatch}"/>`);
      legendX += 18;
    }
    legend.push(`<text x="${num(legendX)}" y="${legendY}" class="small">${esc(item.text)}</text>`);
    legendX += textWidth(item.text, SMALL_FONT) + 24;
  }
  const corner = 'from ↓  to →';
  const labelLength = Math.max(0, ...labels.map(l => textWidth(l, LABEL_FONT)));
  const left = Math.ceil(MARGIN + Math.max(labelLength, textWidth(corner, SMALL_FONT)) + 8);
  const top = Math.ceil(legendY + 16 + labelLength + 8);
  const matrixSize = n * CELL;
  const width = Math.ceil(Math.max(left + matrixSize, legendX - 24, MARGIN + textWidth(title, TITLE_FONT, true),
    MARGIN + textWidth(summary, SMALL_FONT)) + MARGIN);
  const height = Math.ceil(top + matrixSize + MARGIN);

  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    `<title>${esc(title)}</title>`,
    `<style>.title{font-size:${TITLE_FONT}px;font-weight:bold;fill:${COLORS.text}}.small{font-size:${SMALL_FONT}px;fill:${COLORS.sub}}` +
      `.label{font-size:${LABEL_FONT}px;fill:${COLORS.text}}.label.muted{fill:${COLORS.muted}}` +
      `.cell-text{font-size:${CELL_FONT}px;fill:${COLORS.cellText};text-anchor:middle;pointer-events:none}</style>`,
    '<rect width="100%" height="100%" fill="#ffffff"/>',
    `<text x="${MARGIN}" y="${titleY}" class="title">${esc(title)}</text>`,
    `<text x="${MARGIN}" y="${summaryY}" class="small summary">${esc(summary)}</text>`,
    `<g class="legend">${legend.join('')}</g>`,
  ];
  if (n > 0) {
    // Zebra rows and the diagonal (a pod to itself, not evaluated) under the grid, the grid as one path.
    const zebra: string[] = [];
    for (let i = 1; i < n; i += 2) zebra.push(`M${num(left)} ${top + i * CELL}h${matrixSize}v${CELL}h${-matrixSize}z`);
    const diagonal: string[] = [];
    for (let i = 0; i < n; i++) diagonal.push(`M${num(left + i * CELL)} ${top + i * CELL}h${CELL}v${CELL}h${-CELL}z`);
    const grid: string[] = [];
    for (let i = 0; i <= n; i++) grid.push(`M${num(left)} ${top + i * CELL}h${matrixSize}M${num(left + i * CELL)} ${top}v${matrixSize}`);
    out.push(`<path d="${zebra.join('')}" fill="${COLORS.zebra}"/>`, `<path d="${diagonal.join('')}" fill="${COLORS.diagonal}"/>`,
      `<path d="${grid.join('')}" stroke="${COLORS.grid}" stroke-width="1" fill="none"/>`);
    out.push(`<text x="${num(left - 8)}" y="${num(top - 6)}" class="small corner" text-anchor="end">${esc(corner)}</text>`);

    const label = (i: number, kind: 'row' | 'column', attrs: string) => {
      const text = `<text ${attrs} class="label ${kind}-label${muted[i] ? ' muted' : ''}" data-endpoint="${ids[i]}">${esc(labels[i])}</text>`;
      return labels[i] === endpoints[i] ? text : `<g><title>${ids[i]}</title>${text}</g>`;
    };
    const rows = endpoints.map((_, i) => label(i, 'row', `x="${num(left - 8)}" y="${num(top + i * CELL + CELL / 2 + 4)}" text-anchor="end"`));
    out.push(`<g class="rows">${rows.join('')}</g>`);
    const columns = endpoints.map((_, i) => {
      const x = num(left + i * CELL + CELL / 2 + 4);
      const y = num(top - 8);
      return label(i, 'column', `x="${x}" y="${y}" transform="rotate(-90 ${x} ${y})"`);
    });
    out.push(`<g class="columns">${columns.join('')}</g>`);

    const drawnCells = cells.map(c => {
      const x = left + c.column * CELL;
      const y = top + c.row * CELL;
      const fill = muted[c.row] || muted[c.column] ? COLORS.allowedMuted : COLORS.allowed;
      return `<g class="cell" data-from="${ids[c.row]}" data-to="${ids[c.column]}" data-ports="${c.ports.length}">` +
        `<title>${ids[c.row]} → ${ids[c.column]}: ${esc(c.ports.join(', '))}</title><rect x="${num(x + 1)}" y="${y + 1}" width="${CELL - 2}" height="${CELL - 2}" rx="2" fill="${fill}"/>` +
        `<text x="${num(x + CELL / 2)}" y="${y + CELL / 2 + 3}" class="cell-text">${esc(cellText(c.ports))}</text></g>`;
    });
    out.push(`<g class="cells">${drawnCells.join('')}</g>`);
  } else {
    out.push(`<text x="${MARGIN}" y="${num(top)}" class="small">no endpoints</text>`);
  }
  out.push('</svg>', '');
  return out.join('\n');
}
