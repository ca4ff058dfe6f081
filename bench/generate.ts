import { dump } from 'js-yaml';
import { DEFACTO_PORTS } from '../lib/model/well-known';
import type { RegistrySpec, ServiceSpec } from '../lib/model/schema';

/** Where the realistic registry's band starts: above the system ports and most de-facto defaults' clusters. */
const BAND_START = 20000;
/** Every this many ports of a category, a short avoided range (ports another tool holds). */
const AVOID_EVERY = 2000;
const AVOID_WIDTH = 10;

/**
 * The shape of a real registry at any size, every rule switched on, clean: `services` services
 * with 2 ports each in 3 environments on separate hosts (scopes); one port in three automatic
 * (`auto: true`, allocated per environment), the others offsets; two categories splitting each
 * band (`web` and `data`, `sequential` and `first-free`); short avoided ranges every 2,000 ports
 * and a few avoided ports; 3 externals (a database, a cache, a broker) in every environment; about
 * 3 connections per service; every tenth service public. De-facto defaults are checked (the
 * default), so offsets are chosen around them. Deterministic.
 */
export function realisticRegistry(services: number): RegistrySpec {
  const defacto = new Set(Object.keys(DEFACTO_PORTS).map(Number));
  const perCategory = Math.ceil(services / 2) * 2;
  const avoidedPer = Math.ceil(perCategory / AVOID_EVERY) * AVOID_WIDTH;
  // Room for every port of the category, its avoided ranges and the de-facto defaults inside it.
  const categoryWidth = perCategory + avoidedPer + 64 + Math.ceil(perCategory / 50);
  const web: [number, number] = [BAND_START, BAND_START + categoryWidth - 1];
  const data: [number, number] = [web[1] + 1, web[1] + categoryWidth];
  const band: [number, number] = [BAND_START, data[1] + 100];
  const avoidRanges: Array<{ range: [number, number]; reason: string }> = [];
  for (const [first, last] of [web, data]) {
    for (let p = first + AVOID_EVERY - AVOID_WIDTH; p + AVOID_WIDTH - 1 <= last; p += AVOID_EVERY) {
      avoidRanges.push({ range: [p, p + AVOID_WIDTH - 1], reason: 'held by the monitoring agent' });
    }
  }
  const avoidPorts = [band[1] - 1, band[1] - 3].map(port => ({ port, reason: 'a legacy listener' }));
  const avoided = (p: number) => avoidRanges.some(a => p >= a.range[0] && p <= a.range[1]) || avoidPorts.some(a => a.port === p) || defacto.has(p);

  // Offsets count from the band's start; automatic ports take the gaps, so offsets leave every third port free.
  const next = { web: web[0], data: data[0] };
  const offsetIn = (category: 'web' | 'data'): number => {
    while (avoided(next[category])) next[category]++;
    return next[category]++ - band[0];
  };
  const environments: NonNullable<RegistrySpec['environments']> = {};
  for (const name of ['production', 'staging', 'development']) environments[name] = { range: band, scope: name };
  const specs: Record<string, ServiceSpec> = {};
  let portIndex = 0;
  for (let i = 0; i < services; i++) {
    const category = i % 2 === 0 ? 'web' : 'data';
    const ports: ServiceSpec['ports'] = {};
    for (const name of ['http', 'metrics']) {
      const auto = portIndex++ % 3 === 2;
      ports[name] = auto ? { auto: true } : { offset: offsetIn(category) };
    }
    const connectsTo = [1, 2, 3].map(k => (i + k * 7) % services).filter(t => t !== i).map(t => ({ to: `svc-${t}`, port: 'http' }));
    if (i % 5 === 0) connectsTo.push({ to: ['postgres', 'redis', 'kafka'][i % 3], port: ['pg', 'redis', 'kafka'][i % 3] });
    specs[`svc-${i}`] = { category, ports, ...(i % 10 === 0 ? { public: true } : {}), connectsTo };
  }
  return {
    name: 'bench',
    environments,
    categories: { web: { ranges: [web], assign: 'sequential' }, data: { ranges: [data] } },
    avoid: { ranges: avoidRanges, ports: avoidPorts },
    externals: {
      postgres: { kind: 'postgres', ports: { pg: { port: 5432 } }, cidrs: ['10.20.0.10/32'] },
      redis: { kind: 'redis', ports: { redis: { port: 6379 } }, cidrs: ['10.20.0.11/32'] },
      kafka: { kind: 'kafka', ports: { kafka: { port: 9092 } }, cidrs: ['10.20.0.12/32'] },
    },
    services: specs,
  };
}

/** How a registry file is written: what a generator dumps, flow collections inside each service, or a mix with anchors. */
export type RegistryStyle = 'block' | 'flow' | 'mixed';

/**
 * `realisticRegistry(services)` with `findings` warnings that each need a position in the file:
 * that many services (spread over the registry) say `environment: staging` on their first
 * connection, which `cross-environment` reports at `services.<name>.connectsTo[0]`. The
 * allocations are the same as the clean registry's.
 */
export function registryWithFindings(services: number, findings: number): RegistrySpec {
  const spec = realisticRegistry(services);
  const names = Object.keys(spec.services ?? {});
  const step = Math.max(1, Math.floor(names.length / Math.max(1, findings)));
  for (let k = 0; k < findings; k++) {
    const svc = spec.services![names[(k * step) % names.length]];
    svc.connectsTo = [{ ...(svc.connectsTo as unknown as Array<Record<string, unknown>>)[0], environment: 'staging' }, ...(svc.connectsTo ?? []).slice(1)] as ServiceSpec['connectsTo'];
  }
  return spec;
}

const plain = (v: unknown): string => (typeof v === 'string' && /^[a-z][a-z0-9-]*$/.test(v) && !/^(true|false|null|yes|no|on|off)$/.test(v) ? v : JSON.stringify(v));
const flowOf = (v: unknown): string => {
  if (Array.isArray(v)) return `[ ${v.map(flowOf).join(', ')} ]`;
  if (v !== null && typeof v === 'object') return `{ ${Object.entries(v).map(([k, x]) => `${plain(k)}: ${flowOf(x)}`).join(', ')} }`;
  return plain(v);
};

/**
 * The text of a registry in one of the styles users write. `block`: what js-yaml dumps (block
 * collections, short lists inline). `flow`: block down to each service, flow inside it
 * (`ports: { http: { offset: 2 } }`, `connectsTo: [ { to: a, port: http } ]`). `mixed`: services
 * in turn block, flow on one line and flow over several lines, quoted keys here and there,
 * comments, one anchored band for every environment and one anchored `{ auto: true }` port
 * aliased by every automatic port after the first. All read to the same data.
 */
export function registryText(spec: RegistrySpec, style: RegistryStyle): string {
  if (style === 'block') return dump(spec, { lineWidth: -1, flowLevel: 4, noRefs: true });
  if (style === 'flow') return dump(spec, { lineWidth: -1, flowLevel: 3, noRefs: true }).replace(/\{(?=\S)/g, '{ ').replace(/(?<=\S)\}/g, ' }');
  const { services, environments, ...rest } = spec;
  const out: string[] = ['# a registry written by hand, over the years', dump(rest, { lineWidth: -1, flowLevel: 3, noRefs: true }).trimEnd(), 'environments:'];
  let band = false;
  for (const [name, env] of Object.entries(environments ?? {})) {
    const { range, ...others } = env as { range?: unknown };
    const rangeText = band ? '*band' : `&band ${flowOf(range)}`;
    band = true;
    out.push(`  ${name}: { range: ${rangeText}${Object.entries(others).map(([k, v]) => `, ${k}: ${flowOf(v)}`).join('')} }`);
  }
  out.push('services:');
  let auto = false;
  const portText = (p: unknown): string => {
    if (JSON.stringify(p) !== '{"auto":true}') return flowOf(p);
    if (auto) return '*auto';
    auto = true;
    return '&auto { auto: true }';
  };
  Object.entries(services ?? {}).forEach(([name, svc], i) => {
    const key = i % 7 === 3 ? `"${name}"` : i % 11 === 5 ? `'${name}'` : name;
    const { ports, connectsTo, ...own } = svc as { ports?: Record<string, unknown>; connectsTo?: unknown[] };
    const portsFlow = `{ ${Object.entries(ports ?? {}).map(([n, p]) => `${n}: ${portText(p)}`).join(', ')} }`;
    const ownFlow = Object.entries(own).map(([k, v]) => `${k}: ${flowOf(v)}`);
    switch (i % 3) {
      case 0: // block, with a comment and a block list of connections
        out.push(`  ${key}: # service ${i}`, ...ownFlow.map(l => `    ${l}`), '    ports:');
        for (const [n, p] of Object.entries(ports ?? {})) out.push(`      ${n}: ${portText(p)}`);
        out.push('    connectsTo:', ...(connectsTo ?? []).map(c => `      - ${Object.entries(c as object).map(([k, v]) => `${k}: ${flowOf(v)}`).join('\n        ')}`));
        break;
      case 1: // flow on one line
        out.push(`  ${key}: { ${[...ownFlow, `ports: ${portsFlow}`, `connectsTo: ${flowOf(connectsTo ?? [])}`].join(', ')} }`);
        break;
      default: // flow over several lines
        out.push(`  ${key}: {`, ...ownFlow.map(l => `      ${l},`), `      ports: ${portsFlow},`, '      connectsTo: [',
          ...(connectsTo ?? []).map(c => `        ${flowOf(c)},`), '      ]', '    }');
    }
  });
  return `${out.join('\n')}\n`;
}
