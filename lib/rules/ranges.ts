import { Finding, finding } from '../model/finding';
import { Environment, formatRange, overlaps } from '../model/normalize';
import type { Range, RegistrySpec } from '../model/schema';

interface DeclaredRange {
  readonly range: Range;
  readonly kind: 'band' | 'category';
  readonly owner: string;
  readonly scope?: string;
  readonly label: string;
  readonly path: string;
}

function isValid(r: Range): boolean {
  return Number.isInteger(r[0]) && Number.isInteger(r[1]) && r[0] >= 1 && r[1] <= 65535 && r[0] <= r[1];
}

function contains(outer: Range, inner: Range): boolean {
  return outer[0] <= inner[0] && inner[1] <= outer[1];
}

/** Ranges must be well-formed and must not overlap, so that a port number tells its owner. */
export function checkRanges(spec: RegistrySpec, envs: readonly Environment[]): Finding[] {
  const out: Finding[] = [];
  const registry = spec.name;
  const declared: DeclaredRange[] = [];

  for (const env of envs) {
    if (env.band) {
      declared.push({ range: env.band, kind: 'band', owner: env.name, scope: env.scope,
        label: `band ${formatRange(env.band)} of environment ${env.name}`, path: `environments.${env.name}.range` });
    }
    if (!isValid(env.nodePortRange)) {
      out.push(finding('invalid-range', `NodePort range ${formatRange(env.nodePortRange)} of environment ${env.name} is not a valid range`,
        { registry, environment: env.name, path: `environments.${env.name}.nodePortRange` }, 'use [first, last] with 1 <= first <= last <= 65535'));
    }
  }
  for (const [name, c] of Object.entries(spec.categories ?? {})) {
    c.ranges.forEach((range, i) => declared.push({ range, kind: 'category', owner: name,
      label: `range ${formatRange(range)} of category ${name}`, path: `categories.${name}.ranges[${i}]` }));
  }

  // Avoided ports and ranges are ports too: a reversed range would avoid nothing, 70000 or 8001.5 nothing real.
  (spec.avoid?.ports ?? []).forEach((p, i) => {
    const port = typeof p === 'number' ? p : p.port;
    if (Number.isInteger(port) && port >= 1 && port <= 65535) return;
    out.push(finding('invalid-range', `avoided port ${port} is not a port: ports are integers in 1-65535`,
      { registry, path: `avoid.ports[${i}]` }, 'list ports as integers in 1-65535, or remove the entry'));
  });
  (spec.avoid?.ranges ?? []).forEach((r, i) => {
    const range = Array.isArray(r) ? r as Range : r.range;
    if (isValid(range)) return;
    out.push(finding('invalid-range', `avoided range [${range.join(', ')}] is not a valid range${range[0] > range[1] ? ' (it is reversed, so it avoids nothing)' : ''}`,
      { registry, path: `avoid.ranges[${i}]` }, range[0] > range[1] ? `write it as [${range[1]}, ${range[0]}]` : 'use [first, last] with integers 1 <= first <= last <= 65535'));
  });
  for (const [name, c] of Object.entries(spec.categories ?? {})) {
    (c.fallbackRanges ?? []).forEach((range, i) => {
      if (isValid(range)) return;
      out.push(finding('invalid-range', `fallback range [${range.join(', ')}] of category ${name} is not a valid range`,
        { registry, category: name, path: `categories.${name}.fallbackRanges[${i}]` }, 'use [first, last] with integers 1 <= first <= last <= 65535'));
    });
  }

  const valid = declared.filter(d => {
    if (isValid(d.range)) return true;
    out.push(finding('invalid-range', `${d.label.replace(formatRange(d.range), `[${d.range.join(', ')}]`)} is not a valid range`,
      { registry, ...(d.kind === 'band' ? { environment: d.owner } : { category: d.owner }), path: d.path },
      'use [first, last] with integers 1 <= first <= last <= 65535'));
    return false;
  });

  for (let i = 0; i < valid.length; i++) {
    for (let j = i + 1; j < valid.length; j++) {
      const a = valid[i];
      const b = valid[j];
      if (a.owner === b.owner && a.kind === b.kind) continue;
      if (!overlaps(a.range, b.range)) continue;
      // Bands on different hosts may reuse numbers; a category nested in a band (or a band
      // in a category) is a deliberate subdivision, not an overlap.
      // (Bands are listed before categories: when b is a band, so is a.)
      if (b.kind === 'band' && a.scope !== b.scope) continue;
      if (a.kind !== b.kind && (contains(a.range, b.range) || contains(b.range, a.range))) continue;
      const shared: Range = [Math.max(a.range[0], b.range[0]), Math.min(a.range[1], b.range[1])];
      const env = a.kind === 'band' ? a.owner : undefined;
      out.push(finding('range-overlap', `${a.label} overlaps ${b.label} (shared ports ${formatRange(shared)})`,
        { registry, ...(env ? { environment: env } : {}), port: shared[0], other: `${b.kind} ${b.owner}`, path: b.path },
        `make the ranges disjoint: end ${b.kind} ${b.owner}'s range before ${a.range[0]} or start it after ${a.range[1]}` +
        // Nesting resolves a band against a category; two bands share a host unless their scopes differ.
        (a.kind !== b.kind ? ', or nest one range completely inside the other'
          : b.kind === 'band' ? `, or give environment ${b.owner} a scope of its own (environments.${b.owner}.scope) if it runs on other hosts` : '')));
    }
  }
  return out;
}
