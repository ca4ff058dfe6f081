import { checkRegistry, RegistrySpec } from '../lib';
import { seedLumiere } from './support/specs';

const literalLumiere: RegistrySpec = seedLumiere();

test('the literal Lumiere registry is rejected for what its document gets wrong, and only that', () => {
  const resolved = checkRegistry(literalLumiere);
  expect(resolved.ok).toBe(false);
  // It declares no connections at all, so the checker says once that its policies deny all traffic (no per-service warning).
  expect(resolved.findings.filter(f => f.rule === 'no-policies' || f.rule === 'unreachable').map(f => f.rule)).toEqual(['no-policies']);
  const summary = resolved.findings.filter(f => f.rule !== 'no-policies').map(f => [f.rule, f.where.service ?? f.where.other, f.where.environment, f.where.port]);
  expect(summary).toEqual([
    // "9001+" runs straight through the development band.
    ['range-overlap', 'category infrastructure', 'development', 9001],
    // InfluxDB's 8086 is in none of the infrastructure ranges (and sits inside the production band).
    ['outside-category', 'influxdb', 'production', 8086],
    // Offset 0 lands on ports that other servers take by default on developer machines.
    ['defacto-port', 'pourtier', 'production', 8000],
    ['defacto-port', 'pourtier', 'development', 9000],
    ['defacto-port', 'pourtier', 'test', 7000],
  ]);
  expect(resolved.findings.find(f => f.rule === 'range-overlap')!.message).toMatch(/band 9000-9799 of environment development overlaps range 9001-65535 of category infrastructure/);
});

test('the seed keeps its published ports: 8000/9000/7000, 8765/9765/7765, 8766/9766/7766', () => {
  const ports = checkRegistry(literalLumiere).allocations.filter(a => a.of === 'service').map(a => `${a.service}:${a.port}`);
  expect(ports.sort()).toEqual(['courier:7765', 'courier:8765', 'courier:9765', 'passeur:7766', 'passeur:8766', 'passeur:9766',
    'pourtier:7000', 'pourtier:8000', 'pourtier:9000']);
});
