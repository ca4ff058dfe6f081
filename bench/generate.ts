import type { RegistrySpec, ServiceSpec } from '../lib';

/**
 * A synthetic registry of `services` services in `environments` environments, each service
 * with 1-3 ports (offsets in every band) and about 3 declared connections, deterministic.
 */
export function syntheticRegistry(services: number, environments = 3, separateScopes = false): RegistrySpec {
  const width = services * 3 + 10;
  const envs: NonNullable<RegistrySpec['environments']> = {};
  for (let e = 0; e < environments; e++) {
    const start = separateScopes ? 1100 : 1100 + e * width;
    envs[`env-${e}`] = { range: [start, start + width - 1], ...(separateScopes ? { scope: `scope-${e}` } : {}) };
  }
  const specs: Record<string, ServiceSpec> = {};
  let offset = 0;
  for (let i = 0; i < services; i++) {
    const portCount = 1 + (i % 3);
    const ports: ServiceSpec['ports'] = {};
    for (let p = 0; p < portCount; p++) ports[p === 0 ? 'http' : `p${p}`] = { offset: offset++ };
    const connectsTo = [1, 2, 3].map(k => (i + k * 7) % services).filter(t => t !== i).map(t => ({ to: `svc-${t}`, port: 'http' }));
    specs[`svc-${i}`] = { ports, ...(i % 10 === 0 ? { public: true } : {}), connectsTo };
  }
  return { name: 'bench', environments: envs, defactoPorts: false, services: specs };
}
