/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Browser, Page } from 'playwright-core';
import { PortsApp, PortRegistry, SynthResult } from '../lib';
import { defineAura, defineLumiere } from '../main';
import { launch, overlappingPairs } from './support/browser';
import { chromium } from './support/tools';
import { ROOT } from './support/project';

function synth(define: (app: PortsApp) => void): SynthResult {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-docs-'));
  const app = new PortsApp({ manifestsDir: path.join(dir, 'manifests'), outdir: path.join(dir, 'staging'), lockFile: path.join(dir, 'lock.json') });
  const previous = process.cwd();
  process.chdir(ROOT); // the AURA registry file path is relative to the project
  try {
    define(app);
    return app.trySynth();
  } finally {
    process.chdir(previous);
  }
}

const example = synth(app => { defineLumiere(app); defineAura(app); });
const file = (name: string) => example.files.get(name)!;

/** The rows of the markdown table that follows `heading`. */
function tableAfter(md: string, heading: string): string[][] {
  const lines = md.split('\n');
  const start = lines.indexOf(heading);
  expect(start).toBeGreaterThanOrEqual(0);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith('## ')) break;
    if (line.startsWith('| ') && !line.startsWith('| ---')) rows.push(line.slice(2, -2).split(' | '));
  }
  return rows.slice(1);
}

describe('PORTS.md', () => {
  const md = file('PORTS.md');

  test('lists every allocation of every environment with the right port', () => {
    const lumiere = example.registries.get('lumiere')!;
    for (const env of lumiere.environments) {
      const rows = tableAfter(md, `## ${env.name}`);
      const got = rows.map(r => `${r[1].replace(' (external)', '')}.${r[2]}=${r[0]}`).sort();
      const want = lumiere.allocations.filter(a => a.environment === env.name).map(a => `${a.service}.${a.portName}=${a.port}`).sort();
      expect(got).toEqual(want);
    }
    expect(tableAfter(md, '## production').find(r => r[1] === 'pourtier')).toEqual(
      ['8000', 'pourtier', 'http', 'TCP', '8000', '18000', 'active', 'identity team', 'User Management API', 'GET /health on http', 'irdmi']);
  });

  test('shows ranges, connections, the picture and every finding with its waiver', () => {
    expect(md).toContain('![The port space of every environment](ports.svg)');
    expect(tableAfter(md, '## Ranges')).toEqual(expect.arrayContaining([['8000-8799', 'production', 'band', '', ''],
      ['5000-6999', 'infrastructure', 'category', '', 'Databases, caches and mirrors shared by every environment']]));
    expect(tableAfter(md, '## Connections')).toContainEqual(['pourtier', 'courier', 'ws/TCP', '8765', '9765', '7765']);
    const findings = tableAfter(md, '## Findings');
    expect(findings).toHaveLength(example.registries.get('lumiere')!.findings.length);
    expect(findings.find(r => r[1] === '`outside-category`' && r[2].includes('influxdb'))?.[4]).toMatch(/vendor default 8086/);
  });

  test('the AURA registry gets its own document in its own folder', () => {
    const aura = file('aura/PORTS.md');
    expect(tableAfter(aura, '## development').map(r => `${r[1]}=${r[0]}`)).toEqual([
      'ai-gateway=4001', 'backend-mvp=4010', 'artifacts-service=4011', 'postgres (external)=5432', 'redis (external)=6379', 'web=54112']);
    expect(tableAfter(aura, '## development').find(r => r[1] === 'artifacts-service')?.[6]).toBe('planned');
  });
});

chromium.describe('ports.svg in a browser', () => {
  let browser: Browser;
  let page: Page;
  beforeAll(async () => { browser = await launch(); page = await browser.newPage({ viewport: { width: 1200, height: 800 } }); });
  afterAll(async () => { await browser?.close(); });

  async function render(svg: string, screenshot?: string) {
    await page.setContent(`<!doctype html><html><body style="margin:0">${svg}</body></html>`);
    if (screenshot) {
      fs.mkdirSync(path.join(ROOT, 'test-artifacts'), { recursive: true });
      const height = await page.evaluate(() => Math.ceil(document.querySelector('svg')!.getBoundingClientRect().height));
      await page.setViewportSize({ width: 1200, height });
      await page.screenshot({ path: path.join(ROOT, 'test-artifacts', screenshot) });
    }
  }

  const labelBoxes = () => page.evaluate(() => [...document.querySelectorAll('text.label')].map(t => {
    const b = (t as SVGGraphicsElement).getBBox();
    return { text: t.textContent, x: b.x, y: b.y, w: b.width, h: b.height };
  }));

  test('is well-formed SVG', async () => {
    for (const name of ['ports.svg', 'aura/ports.svg']) {
      const errors = await page.evaluate(text => new DOMParser().parseFromString(text, 'image/svg+xml').getElementsByTagName('parsererror').length, file(name));
      expect(errors).toBe(0);
    }
  });

  test('shows every environment band and names every service of the example', async () => {
    await render(file('ports.svg'), 'ports.png');
    for (const env of ['production', 'development', 'test']) {
      const section = page.locator(`g.environment[data-environment="${env}"]`);
      await expect(section.locator('rect.band').first().isVisible()).resolves.toBe(true);
      await expect(section.locator('text.title').textContent()).resolves.toContain(env);
    }
    const labels = (await labelBoxes()).map(l => l.text);
    for (const name of ['pourtier.http 8000', 'courier.ws 9765', 'passeur.http 7766', 'postgres.main 5432', 'postgres-test.main 5433', 'influxdb.main 8086', 'pypi-mirror.main 9001']) {
      expect(labels).toContain(name);
    }
    await render(file('aura/ports.svg'), 'aura-ports.png');
    expect((await labelBoxes()).map(l => l.text)).toEqual(expect.arrayContaining(['web.http 54112', 'backend-mvp.http 4010']));
  });

  test('stays legible at 150 services: no two labels overlap and none leaves the picture', async () => {
    const big = synth(app => {
      const r = new PortRegistry(app, 'big', { environments: { production: { range: [20000, 20999] }, staging: { range: [30000, 30999], scope: 'staging' } } });
      for (let i = 0; i < 150; i++) {
        const ports: Record<string, { offset: number }> = { http: { offset: i * 3 }, ...(i % 10 === 0 ? { metrics: { offset: i * 3 + 1 } } : {}) };
        r.service(`service-${String(i).padStart(3, '0')}`, { public: true, ports });
      }
      return r;
    });
    expect(big.ok).toBe(true);
    await render(big.files.get('ports.svg')!, 'big-ports.png');
    const boxes = await labelBoxes();
    expect(boxes).toHaveLength(2 * 165);
    await expectLegible(boxes);
  });

  test('aggregates a crowded environment: 3,000 services get a few labels that count every port, none overlapping', async () => {
    const crowded = synth(app => {
      const r = new PortRegistry(app, 'crowded', { environments: { production: { range: [20000, 29999] }, staging: { range: [20000, 29999], scope: 'staging' } } });
      for (let i = 0; i < 3000; i++) r.service(`service-${i}`, { ports: { http: { offset: i * 3 } } });
      return r;
    });
    expect(crowded.ok).toBe(true);
    await render(crowded.files.get('ports.svg')!, 'crowded-ports.png');
    const boxes = await labelBoxes();
    // One label per 150-pixel stretch of the axis in each environment, not one per port.
    expect(boxes.length).toBeGreaterThan(2);
    expect(boxes.length).toBeLessThanOrEqual(2 * Math.ceil(1200 / 150));
    await expectLegible(boxes);
    const counted = await page.evaluate(() => [...document.querySelectorAll('g.allocation-group')].reduce((n, g) => n + Number(g.getAttribute('data-ports')), 0));
    expect(counted).toBe(2 * 3000);
  });

  async function expectLegible(boxes: Awaited<ReturnType<typeof labelBoxes>>) {
    const width = await page.evaluate(() => document.querySelector('svg')!.viewBox.baseVal.width);
    for (const b of boxes) {
      expect(b.x).toBeGreaterThanOrEqual(0);
      expect(b.x + b.w).toBeLessThanOrEqual(width);
    }
    expect(overlappingPairs(boxes)).toEqual([]);
  }

  test('marks a port with an unwaived finding in the warning colour', async () => {
    const warned = synth(app => {
      const r = new PortRegistry(app, 'warn', { environments: { production: { range: [8000, 8099] } } });
      r.service('api', { public: true, ports: { http: { offset: 80 } } }); // 8080: a de-facto default
      return r;
    });
    await render(warned.files.get('ports.svg')!);
    const fill = await page.locator('g.allocation[data-service="api"] text').getAttribute('fill');
    expect(fill).toBe('#e09f3e');
  });
});
