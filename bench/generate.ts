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
