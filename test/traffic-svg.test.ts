/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import * as fs from 'fs';
import * as path from 'path';
import { Browser, Page } from 'playwright-core';
import type { Path } from '../lib/netpol/cluster';
import { TRAFFIC_MAX_ENDPOINTS, trafficSvg } from '../lib/netpol/traffic-svg';
import { launch, overlappingPairs } from './support/browser';
import { chromium } from './support/tools';
import { ROOT } from './support/project';

const tcp = (from: string, to: string, port: number): Path => ({ from, to, port, protocol: 'TCP' });

/** The `<g class="cell">` of one pair, or undefined. */
function cellOf(svg: string, from: string, to: string): string | undefined {
  const at = svg.indexOf(`<g class="cell" data-from="${from}" data-to="${to}"`);
  return at < 0 ? undefined : svg.slice(at, svg.indexOf('</g>', at) + 4);
}

describe('trafficSvg', () => {
  const endpoints = ['shop/api', 'shop/db', 'shop/web', '10.0.0.1'];
  const paths = [tcp('shop/web', 'shop/api', 9090), tcp('shop/web', 'shop/api', 8080), tcp('shop/web', 'shop/api', 8080),
    tcp('shop/api', 'shop/db', 5432), { from: 'shop/api', to: '10.0.0.1', port: 53, protocol: 'UDP' }];
  const svg = trafficSvg({ title: 'Traffic of shop', endpoints, paths });

  test('is a standalone SVG sized from its content', () => {
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="(\d+)" height="(\d+)" viewBox="0 0 \1 \2"/);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
  });

  test('fills the cell of an allowed pair and lists its ports, sorted and once each, in its tooltip', () => {
    const cell = cellOf(svg, 'shop/web', 'shop/api');
    expect(cell).toBeDefined();
    expect(cell).toContain('<title>shop/web → shop/api: 8080/TCP, 9090/TCP</title>');
    expect(cell).toContain('>×2</text>');
    expect(cellOf(svg, 'shop/api', 'shop/db')).toContain('>5432</text>');
    expect(cellOf(svg, 'shop/api', '10.0.0.1')).toContain('<title>shop/api → 10.0.0.1: 53/UDP</title>');
  });

  test('draws no cell for a pair without a path (direction matters)', () => {
    expect(cellOf(svg, 'shop/api', 'shop/web')).toBeUndefined();
    expect(cellOf(svg, 'shop/db', 'shop/api')).toBeUndefined();
    expect(svg.match(/<g class="cell"/g)).toHaveLength(3);
  });

  test('draws an address in the muted colour and leaves out paths to endpoints not listed', () => {
    expect(svg).toMatch(/class="label row-label muted" data-endpoint="10\.0\.0\.1"/);
    expect(svg).toMatch(/class="label row-label" data-endpoint="shop\/api"/);
    const other = trafficSvg({ title: 't', endpoints, paths: [...paths, tcp('shop/web', 'elsewhere/x', 80)] });
    expect(other).toBe(svg.replaceAll('>Traffic of shop<', '>t<'));
  });

  test('escapes hostile names everywhere', () => {
    const hostile = 'ns/<script>"a" & \'b\'</script>\u0001';
    const out = trafficSvg({ title: 'A <b>&</b> "title"', endpoints: [hostile, 'ns/ok'], paths: [tcp(hostile, 'ns/ok', 80), tcp('ns/ok', hostile, 81)] });
    expect(out).not.toContain('<script');
    expect(out).not.toContain('<b>');
    expect(out).not.toContain('\u0001');
    expect(out).toContain('ns/&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;');
    expect(out).toContain('A &lt;b&gt;&amp;&lt;/b&gt; &quot;title&quot;');
    // Every `&` starts an entity, every attribute value is closed before the next one.
    expect(out.match(/&(?!(?:amp|lt|gt|quot|#39);)/g)).toBeNull();
    for (const tag of out.match(/<[a-z][^>]*>/g)!) expect(tag).toMatch(/^<[a-z]+(?: [a-zA-Z-]+="[^"<>]*")*\/?>$/);
  });

  test('is deterministic: the same input gives the same bytes', () => {
    expect(trafficSvg({ title: 'Traffic of shop', endpoints: [...endpoints], paths: [...paths].reverse() })).toBe(svg);
  });

  test(`draws at most ${TRAFFIC_MAX_ENDPOINTS} endpoints and says how many were left out`, () => {
    const many = Array.from({ length: 412 }, (_, i) => `ns/pod-${String(i).padStart(3, '0')}`);
    const out = trafficSvg({ title: 'big', endpoints: many, paths: [tcp(many[0], many[1], 80), tcp(many[0], many[350], 80)] });
    expect(out.match(/class="label row-label/g)).toHaveLength(TRAFFIC_MAX_ENDPOINTS);
    expect(out).toContain('only the first 300 of 412 endpoints are drawn: 112 left out');
    expect(out.match(/<g class="cell"/g)).toHaveLength(1);
  });

  test('is linear-ish in the number of paths: 300 endpoints and 60,000 paths on 300 pairs in well under two seconds', () => {
    // A drawing that looked for each cell's paths among all paths would make 90,000 × 60,000 comparisons.
    const many = Array.from({ length: 300 }, (_, i) => `ns/pod-${String(i).padStart(3, '0')}`);
    const lots: Path[] = [];
    for (let i = 0; i < 300; i++) for (let k = 0; k < 200; k++) lots.push(tcp(many[i], many[(i * 7 + 1) % 300], 10000 + k));
    const start = process.hrtime.bigint();
    const out = trafficSvg({ title: 'dense', endpoints: many, paths: lots });
    expect(Number(process.hrtime.bigint() - start) / 1e6).toBeLessThan(2000);
    expect(out.match(/<g class="cell"/g)).toHaveLength(300);
    expect(out.match(/data-ports="200"/g)).toHaveLength(300);
  });
});

/** 100 services of one namespace plus two addresses, with about 300 paths chosen by a fixed rule. */
function bigInput() {
  const services = Array.from({ length: 100 }, (_, i) => `shop-prod/service-${String(i + 1).padStart(3, '0')}`);
  const endpoints = [...services, '10.0.0.53', '203.0.113.7'];
  const paths: Path[] = [];
  for (let i = 0; i < 100; i++) {
    paths.push(tcp(services[i], services[(i * 7 + 3) % 100], 8080));
    paths.push(tcp(services[i], services[(i * 13 + 11) % 100], 9000 + (i % 5)));
    if (i % 3 === 0) paths.push(tcp(services[i], services[(i * 13 + 11) % 100], 9090));
    if (i % 4 === 0) paths.push({ from: services[i], to: '10.0.0.53', port: 53, protocol: 'UDP' });
    if (i % 10 === 0) paths.push(tcp('203.0.113.7', services[i], 443));
  }
  return { title: 'Allowed traffic in shop-prod', endpoints, paths };
}

chromium.describe('traffic.svg in a browser', () => {
  let browser: Browser;
  let page: Page;
  beforeAll(async () => { browser = await launch(); page = await browser.newPage({ viewport: { width: 1200, height: 800 } }); });
  afterAll(async () => { await browser?.close(); });

  async function render(svg: string, screenshot?: string) {
    await page.setContent(`<!doctype html><html><body style="margin:0">${svg}</body></html>`);
    if (screenshot) {
      fs.mkdirSync(path.join(ROOT, 'test-artifacts'), { recursive: true });
      const size = await page.evaluate(() => {
        const r = document.querySelector('svg')!.getBoundingClientRect();
        return { width: Math.ceil(r.width), height: Math.ceil(r.height) };
      });
      await page.setViewportSize(size);
      await page.screenshot({ path: path.join(ROOT, 'test-artifacts', screenshot) });
    }
  }

  test('is well-formed SVG, hostile names included', async () => {
    const hostile = 'ns/<x>&"\'\u0007';
    for (const svg of [trafficSvg(bigInput()), trafficSvg({ title: '<&>', endpoints: [hostile, '(world)'], paths: [tcp(hostile, '(world)', 1)] })]) {
      const errors = await page.evaluate(text => new DOMParser().parseFromString(text, 'image/svg+xml').getElementsByTagName('parsererror').length, svg);
      expect(errors).toBe(0);
    }
  });

  test('stays legible at 100 services: every label drawn, none overlapping, none outside, none smaller than 9px', async () => {
    const input = bigInput();
    expect(input.paths.length).toBeGreaterThan(250);
    expect(input.paths.length).toBeLessThan(350);
    const svg = trafficSvg(input);
    await render(svg, 'traffic.png');

    const seen = await page.evaluate(() => ({
      rows: [...document.querySelectorAll('text.row-label')].map(t => t.textContent),
      columns: [...document.querySelectorAll('text.column-label')].map(t => t.textContent),
      cells: document.querySelectorAll('g.cell').length,
    }));
    expect(seen.rows).toEqual(input.endpoints);
    expect(seen.columns).toEqual(input.endpoints);
    const pairs = new Set(input.paths.map(p => `${p.from} ${p.to}`));
    expect(seen.cells).toBe(pairs.size);

    const { box, scale, texts } = await page.evaluate(() => {
      const root = document.querySelector('svg')!;
      const r = root.getBoundingClientRect();
      return {
        box: { left: r.left, top: r.top, right: r.right, bottom: r.bottom },
        scale: r.width / root.viewBox.baseVal.width,
        texts: [...root.querySelectorAll('text')].map(t => {
          const b = t.getBoundingClientRect();
          return {
            text: t.textContent ?? '', label: t.classList.contains('label'),
            font: parseFloat(getComputedStyle(t).fontSize), x: b.left, y: b.top, w: b.width, h: b.height,
          };
        }),
      };
    });
    expect(texts.filter(t => t.label)).toHaveLength(2 * input.endpoints.length);
    for (const t of texts) {
      expect(t.w).toBeGreaterThan(0);
      expect(t.h).toBeGreaterThan(0);
      // Inside the picture.
      expect({ text: t.text, inside: t.x >= box.left && t.y >= box.top && t.x + t.w <= box.right && t.y + t.h <= box.bottom })
        .toEqual({ text: t.text, inside: true });
      if (t.label) expect(t.font * scale).toBeGreaterThanOrEqual(9);
    }
    // No two texts overlap (labels, cell texts, title, legend).
    expect(overlappingPairs(texts)).toEqual([]);
  });

  test('a cell sits in its row and column: under its column label and beside its row label', async () => {
    const input = bigInput();
    await render(trafficSvg(input));
    const from = input.endpoints[0];
    const to = input.endpoints[(0 * 7 + 3) % 100];
    const got = await page.evaluate(([f, t]) => {
      const rect = (e: Element) => e.getBoundingClientRect();
      const cell = [...document.querySelectorAll('g.cell')].find(g => g.getAttribute('data-from') === f && g.getAttribute('data-to') === t)!;
      const row = [...document.querySelectorAll('text.row-label')].find(e => e.getAttribute('data-endpoint') === f)!;
      const column = [...document.querySelectorAll('text.column-label')].find(e => e.getAttribute('data-endpoint') === t)!;
      const c = rect(cell.querySelector('rect')!);
      const r = rect(row);
      const k = rect(column);
      return {
        rowCentred: Math.abs((r.top + r.bottom) / 2 - (c.top + c.bottom) / 2) < c.height / 2,
        columnCentred: Math.abs((k.left + k.right) / 2 - (c.left + c.right) / 2) < c.width / 2,
        rowLeftOfCell: r.right <= c.left, columnAboveCell: k.bottom <= c.top,
        text: cell.querySelector('text')!.textContent,
      };
    }, [from, to]);
    expect(got).toEqual({ rowCentred: true, columnCentred: true, rowLeftOfCell: true, columnAboveCell: true, text: '8080' });
  });
});
