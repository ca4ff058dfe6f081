import * as fs from 'fs';
import { Browser, chromium } from 'playwright-core';

/** Debian's Chromium, headless, with no network of its own. Never downloads a browser. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launch(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: apt-get install -y chromium (.ci/run does this)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage', '--disable-component-update', '--no-first-run'],
  });
}

/** A text's box as the browser laid it out. */
export interface TextBox { readonly text: string; readonly x: number; readonly y: number; readonly w: number; readonly h: number }

/** The pairs of boxes that overlap (by their texts), found by a sweep along x. */
export function overlappingPairs(boxes: readonly TextBox[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const sorted = [...boxes].sort((a, b) => a.x - b.x || a.y - b.y);
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i + 1; j < sorted.length && sorted[j].x < sorted[i].x + sorted[i].w; j++) {
      const a = sorted[i];
      const b = sorted[j];
      if (a.y < b.y + b.h && b.y < a.y + a.h) out.push([a.text, b.text]);
    }
  }
  return out;
}
