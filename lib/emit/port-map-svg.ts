import type { Allocation, ResolvedRegistry } from '../model/resolved';
import { Finding, blocking } from '../model/finding';
import type { Environment } from '../model/normalize';
import { avoidedPortsOf, avoidedRangesOf, formatRange } from '../model/normalize';
import type { CategorySpec, Range } from '../model/schema';
import { xmlText } from './escape';

/**
 * The port space of every environment as an SVG picture. The axis shows only the parts of
 * 1-65535 that hold something (bands, category ranges, allocations), each part zoomed to a
 * readable width with a break mark between parts. Every allocation is a mark with a label;
 * labels are stacked in lanes so that they never overlap, however many services there are.
 */

const WIDTH = 1200;
const MARGIN = 40;
const AXIS_HEIGHT = 26;
const LANE = 16;
const CHAR = 6.6; // average advance of the 11px sans-serif used for labels
const DENSE = 30;
/** Above this many ports in an environment, labels are aggregated per stretch of the axis (a label each would be unreadable, and slow to place). */
const LABEL_LIMIT = 400;
/** Width of one aggregated label's stretch, in pixels (room for "1234 ports 20000-29999"). */
const BIN = 150;
const PALETTE = ['#8ecae6', '#b5e48c', '#ffd6a5', '#cdb4db', '#a0c4ff', '#fdffb6', '#bde0fe', '#ffc8dd'];
const COLORS = { ok: '#1d3557', warning: '#e09f3e', waived: '#6c757d', error: '#d62828', band: '#dbe9f6' };

const esc = xmlText;
const num = (n: number) => (Math.round(n * 10) / 10).toString();

interface Segment { readonly from: number; readonly to: number; readonly x: number; readonly width: number }

/** Parts of the port space worth drawing: merged intervals of interest, with a margin. */
export function segmentsOf(intervals: readonly Range[], width: number): Segment[] {
  if (intervals.length === 0) return [];
  const sorted = [...intervals].sort((a, b) => a[0] - b[0]);
  const span = Math.max(1, sorted[sorted.length - 1][1] - sorted[0][0]);
  const gap = Math.max(20, Math.min(200, span * 0.02));
  const merged: Array<[number, number]> = [];
  for (const [a, b] of sorted) {
    const last = merged[merged.length - 1];
    if (last && a - last[1] <= gap) last[1] = Math.max(last[1], b);
    else merged.push([a, b]);
  }
  const padded = merged.map(([a, b]) => {
    const pad = Math.max(2, Math.round((b - a) * 0.02));
    return [Math.max(1, a - pad), Math.min(65535, b + pad)] as [number, number];
  });
  const breakWidth = 18;
  const available = width - breakWidth * (padded.length - 1);
  const weights = padded.map(([a, b]) => Math.max(1, Math.sqrt(b - a + 1)));
  const minimum = Math.min(90, available / padded.length);
  const total = weights.reduce((x, y) => x + y, 0);
  let widths = weights.map(w => Math.max(minimum, (w / total) * available));
  const scale = available / widths.reduce((x, y) => x + y, 0);
  widths = widths.map(w => w * scale);
  let x = 0;
  return padded.map(([from, to], i) => {
    const s = { from, to, x, width: widths[i] };
    x += widths[i] + breakWidth;
    return s;
  });
}

function xOf(segments: readonly Segment[], port: number): number | undefined {
  const s = segments.find(seg => port >= seg.from && port <= seg.to);
  if (!s) return undefined;
  return s.x + (s.to === s.from ? s.width / 2 : ((port - s.from) / (s.to - s.from)) * s.width);
}

/** Places labels left to right in the first lane where they fit. Returns each label's lane. */
export function laneOf(positions: readonly { x: number; width: number }[]): number[] {
  const laneEnds: number[] = [];
  return positions.map(p => {
    let lane = laneEnds.findIndex(end => end + 6 <= p.x);
    if (lane < 0) {
      lane = laneEnds.length;
      laneEnds.push(0);
    }
    laneEnds[lane] = p.x + p.width;
    return lane;
  });
}

/** Findings by service, so that an allocation's status is found without reading every finding. */
type FindingIndex = Map<string | undefined, Finding[]>;

function indexFindings(resolved: ResolvedRegistry): FindingIndex {
  const index: FindingIndex = new Map();
  for (const f of resolved.findings) {
    const list = index.get(f.where.service);
    if (list) list.push(f);
    else index.set(f.where.service, [f]);
  }
  return index;
}

function statusOf(index: FindingIndex, a: Allocation): keyof typeof COLORS {
  const related = (index.get(a.service) ?? []).filter(f => (f.where.port === a.port || f.where.port === undefined) &&
    (f.where.environment === undefined || f.where.environment === a.environment));
  if (blocking(related).length) return 'error';
  if (related.some(f => f.severity === 'warning' && !f.waived)) return 'warning';
  if (related.some(f => f.waived)) return 'waived';
  return 'ok';
}

const SEVERITY_ORDER: ReadonlyArray<keyof typeof COLORS> = ['ok', 'waived', 'warning', 'error'];

/** One environment's axis: its segments, where it is drawn, and how a port or a range maps onto it. */
interface Axis {
  readonly segments: readonly Segment[];
  readonly top: number;
  /** The x of `port`, when a segment holds it. */
  readonly X: (port: number) => number | undefined;
}

/** The categories an environment draws: those its allocations use, and the reserved ones. */
type Categories = ReadonlyArray<readonly [string, CategorySpec]>;

function axisOf(env: Environment, allocations: readonly Allocation[], drawn: Categories, top: number): Axis {
  const intervals: Range[] = allocations.map(a => [a.port, a.port]);
  // A crowded environment zooms into the parts of its band that are used; its band ends stay visible.
  if (env.band) intervals.push(...(allocations.length > DENSE ? [[env.band[0], env.band[0]], [env.band[1], env.band[1]]] as Range[] : [env.band]));
  for (const [, c] of drawn) intervals.push(...(c.ranges ?? []));
  const segments = segmentsOf(intervals, WIDTH - 2 * MARGIN);
  return { segments, top: top + 30, X: port => { const x = xOf(segments, port); return x === undefined ? undefined : MARGIN + x; } };
}

/** The rectangles of range `r` on the axis, one per segment it crosses. */
function spanOf(axis: Axis, r: Range, fill: string, cls: string, title?: string): string {
  const { segments, top: axisTop, X } = axis;
  return segments.map(s => {
    const a = Math.max(r[0], s.from);
    const b = Math.min(r[1], s.to);
    if (a > b) return '';
    const x1 = X(a)!;
    const x2 = s.to === s.from ? x1 : X(b)! + Math.max(1, s.width / (s.to - s.from + 1));
    const tip = title ? `<title>${esc(title)}</title>` : '';
    return `<rect x="${num(x1)}" y="${axisTop}" width="${num(Math.max(1.5, x2 - x1))}" height="${AXIS_HEIGHT}" fill="${fill}" class="${cls}">${tip}</rect>`;
  }).join('');
}

/** The environment's title, its axis with its ticks and breaks, and what lies on it: band, ranges, avoided ports, range names. */
function axisSvg(out: string[], axis: Axis, spec: ResolvedRegistry['spec'], env: Environment, top: number, drawn: Categories, categoryColor: Map<string, string>): void {
  const { segments, top: axisTop, X } = axis;
  out.push(`<text x="${MARGIN}" y="${top + 18}" class="title">${esc(env.name)} <tspan class="sub">namespace ${esc(env.namespace)}${env.band ? `, band ${formatRange(env.band)}` : ''}</tspan></text>`);
  for (const s of segments) {
    out.push(`<rect x="${num(MARGIN + s.x)}" y="${axisTop}" width="${num(s.width)}" height="${AXIS_HEIGHT}" fill="#f1f3f5" stroke="#adb5bd" stroke-width="0.5"/>`);
    out.push(`<text x="${num(MARGIN + s.x)}" y="${axisTop + AXIS_HEIGHT + 11}" class="tick">${s.from}</text>`);
    out.push(`<text x="${num(MARGIN + s.x + s.width)}" y="${axisTop + AXIS_HEIGHT + 11}" class="tick" text-anchor="end">${s.to}</text>`);
  }
  for (let i = 1; i < segments.length; i++) {
    const x = MARGIN + segments[i].x - 9;
    out.push(`<path d="M${num(x - 3)} ${axisTop - 2} l6 ${AXIS_HEIGHT / 2 + 2} l-6 ${AXIS_HEIGHT / 2 + 2}" stroke="#868e96" fill="none" class="break"/>`);
  }
  if (env.band) out.push(spanOf(axis, env.band, COLORS.band, 'band', `band of ${env.name} ${formatRange(env.band)}`));
  for (const [name, c] of drawn) {
    const fill = c.reserved ? 'url(#reserved)' : categoryColor.get(name)!;
    for (const r of c.ranges ?? []) out.push(spanOf(axis, r, fill, 'range', `${name} ${formatRange(r)}`));
  }
  for (const a of avoidedRangesOf(spec)) if (a.source === 'avoid') out.push(spanOf(axis, a.range, 'url(#avoided)', 'avoided', a.reason));
  for (const [port, reason] of avoidedPortsOf(spec)) out.push(spanOf(axis, [port, port], 'url(#avoided)', 'avoided', `${port}: ${reason}`));
  if (env.band) {
    const x = X(env.band[0]);
    if (x !== undefined) out.push(`<text x="${num(x + 3)}" y="${axisTop + AXIS_HEIGHT - 4}" class="range-name band-name">${esc(env.name)} band</text>`);
  }
  // Range names inside the axis, where they fit (the full name is in each span's tooltip).
  for (const [name, c] of drawn) {
    for (const r of c.ranges ?? []) {
      for (const seg of segments) {
        const a = Math.max(r[0], seg.from);
        const b = Math.min(r[1], seg.to);
        if (a > b) continue;
        const x1 = X(a)!;
        if (X(b)! - x1 >= name.length * 5.6 + 6) out.push(`<text x="${num(x1 + 3)}" y="${axisTop + 10}" class="range-name">${esc(name)}</text>`);
      }
    }
  }
}

/**
 * Too many ports for a label each: one mark per pixel column (its worst status), one label per
 * stretch of the axis with how many ports it holds. PORTS.md lists every port. Returns the height of the labels below the axis.
 */
function aggregatedLabels(out: string[], axis: Axis, allocations: readonly Allocation[], findings: FindingIndex): number {
  const { top: axisTop, X } = axis;
  const columns = new Map<number, { x: number; status: number; ports: number }>();
  const bins = new Map<number, Allocation[]>();
  const binStatus = new Map<number, number>();
  for (const a of allocations) {
    const m = X(a.port) ?? MARGIN;
    const column = Math.round(m);
    const status = SEVERITY_ORDER.indexOf(statusOf(findings, a));
    const c = columns.get(column);
    if (c) { c.status = Math.max(c.status, status); c.ports++; } else columns.set(column, { x: m, status, ports: 1 });
    const bin = Math.floor((m - MARGIN) / BIN);
    binStatus.set(bin, Math.max(binStatus.get(bin) ?? 0, status));
    const list = bins.get(bin);
    if (list) list.push(a);
    else bins.set(bin, [a]);
  }
  const marks = [...columns.values()].map(c => `<circle cx="${num(c.x)}" cy="${axisTop - 4}" r="2.2" fill="${COLORS[SEVERITY_ORDER[c.status]]}"/>`);
  out.push(`<g class="marks">${marks.join('')}</g>`);
  const labelsTop = axisTop + AXIS_HEIGHT + 28;
  [...bins].forEach(([bin, list], i) => {
    const first = list[0];
    const last = list[list.length - 1];
    const y = labelsTop + (i % 2) * LANE;
    const text = `${list.length} port${list.length === 1 ? '' : 's'} ${first.port}${last.port !== first.port ? `-${last.port}` : ''}`;
    const title = `${first.service}.${first.portName}${list.length > 1 ? ` … ${last.service}.${last.portName}` : ''}`;
    out.push(`<g class="allocation-group" data-ports="${list.length}"><title>${esc(title)}</title>` +
      `<text x="${num(MARGIN + bin * BIN)}" y="${y}" fill="${COLORS[SEVERITY_ORDER[binStatus.get(bin)!]]}" class="label">${esc(text)}</text></g>`);
  });
  return labelsTop + 2 * LANE;
}

/** A mark, a leader and a label for every allocation, the labels stacked in lanes. Returns the bottom of the labels. */
function allocationLabels(out: string[], axis: Axis, allocations: readonly Allocation[], findings: FindingIndex): number {
  const { top: axisTop, X } = axis;
  const labels = allocations.map(a => {
    const text = `${a.service}.${a.portName} ${a.port}${a.protocol === 'TCP' ? '' : `/${a.protocol}`}`;
    const mark = X(a.port) ?? MARGIN;
    const labelWidth = text.length * CHAR;
    // Labels start at their mark, but never run past the right edge.
    return { a, text, mark, x: Math.min(mark, WIDTH - 8 - labelWidth), width: labelWidth };
  });
  const lanes = laneOf(labels);
  const labelsTop = axisTop + AXIS_HEIGHT + 28;
  // Leaders first, labels after (with a white halo), so that no line runs over any text.
  const leaders: string[] = [];
  const texts: string[] = [];
  labels.forEach((l, i) => {
    const color = COLORS[statusOf(findings, l.a)];
    const y = labelsTop + lanes[i] * LANE;
    const m = l.mark;
    const shape = l.a.of === 'external'
      ? `<rect x="${num(m - 3)}" y="${axisTop - 7}" width="6" height="6" transform="rotate(45 ${num(m)} ${axisTop - 4})" fill="${color}"/>`
      : `<circle cx="${num(m)}" cy="${axisTop - 4}" r="3.2" fill="${color}"/>`;
    // A label never starts right of its mark and always ends right of it, so a straight leader reaches it.
    const leader = `<line x1="${num(m)}" y1="${axisTop}" x2="${num(m)}" y2="${y - 9}" stroke="${color}" stroke-width="0.8"/>`;
    leaders.push(`${shape}${leader}`);
    texts.push(`<g class="allocation" data-service="${esc(l.a.service)}" data-port="${l.a.port}">` +
      `<text x="${num(l.x)}" y="${y}" fill="${color}" class="label">${esc(l.text)}</text></g>`);
  });
  out.push(`<g class="leaders">${leaders.join('')}</g>`, ...texts);
  const lanesUsed = lanes.length ? Math.max(...lanes) + 1 : 0;
  return labelsTop + lanesUsed * LANE;
}

function environmentSection(resolved: ResolvedRegistry, env: Environment, top: number, categoryColor: Map<string, string>, findings: FindingIndex): { svg: string; height: number } {
  const spec = resolved.spec;
  const allocations = resolved.allocations.filter(a => a.environment === env.name).sort((a, b) => a.port - b.port || a.service.localeCompare(b.service));
  const used = new Set(allocations.map(a => a.category).filter(Boolean));
  const drawn = Object.entries(spec.categories ?? {}).filter(([name, c]) => used.has(name) || c.reserved);
  const axis = axisOf(env, allocations, drawn, top);
  const out: string[] = [`<g class="environment" data-environment="${esc(env.name)}">`];
  axisSvg(out, axis, spec, env, top, drawn, categoryColor);
  const bottom = allocations.length > LABEL_LIMIT ? aggregatedLabels(out, axis, allocations, findings) : allocationLabels(out, axis, allocations, findings);
  out.push('</g>');
  return { svg: out.join('\n'), height: bottom - top + 16 };
}

export function portMapSvg(resolved: ResolvedRegistry): string {
  const categoryColor = new Map(Object.keys(resolved.spec.categories ?? {}).map((name, i) => [name, PALETTE[i % PALETTE.length]]));
  const sections: string[] = [];
  const findings = indexFindings(resolved);
  let top = 50;
  for (const env of resolved.environments) {
    const { svg, height } = environmentSection(resolved, env, top, categoryColor, findings);
    sections.push(svg);
    top += height;
  }
  const legendY = top + 10;
  const legend = [
    ['ok', 'allocation'], ['waived', 'waived finding'], ['warning', 'warning'], ['error', 'error (collision, out of range)'],
  ].map(([k, text], i) => `<circle cx="${MARGIN + i * 190 + 5}" cy="${legendY - 4}" r="4" fill="${COLORS[k as keyof typeof COLORS]}"/>` +
    `<text x="${MARGIN + i * 190 + 14}" y="${legendY}" class="tick">${text}</text>`).join('') +
    `<rect x="${MARGIN + 4 * 190}" y="${legendY - 10}" width="14" height="12" fill="url(#avoided)" stroke="#adb5bd"/>` +
    `<text x="${MARGIN + 4 * 190 + 20}" y="${legendY}" class="tick">avoided / reserved</text>`;
  const height = legendY + 20;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${num(height)}" viewBox="0 0 ${WIDTH} ${num(height)}" font-family="Helvetica, Arial, sans-serif">`,
    `<title>Port space of registry ${esc(resolved.spec.name)}</title>`,
    '<defs>',
    '<pattern id="avoided" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#e9ecef"/><line x1="0" y1="0" x2="0" y2="6" stroke="#868e96" stroke-width="2"/></pattern>',
    '<pattern id="reserved" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(-45)"><rect width="8" height="8" fill="#f8f9fa"/><line x1="0" y1="0" x2="0" y2="8" stroke="#ced4da" stroke-width="3"/></pattern>',
    '<style>.title{font-size:15px;font-weight:bold;fill:#212529}.sub{font-size:12px;font-weight:normal;fill:#495057}.tick{font-size:10px;fill:#495057}.label{font-size:11px;paint-order:stroke;stroke:#ffffff;stroke-width:3px;stroke-linejoin:round}.range-name{font-size:10px;fill:#343a40}</style>',
    '</defs>',
    '<rect width="100%" height="100%" fill="#ffffff"/>',
    `<text x="${MARGIN}" y="28" class="title" font-size="18">Port registry ${esc(resolved.spec.name)}</text>`,
    ...sections,
    legend,
    '</svg>',
    '',
  ].join('\n');
}
