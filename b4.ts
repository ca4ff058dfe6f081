import { allocate } from './lib/allocation/allocate';
import { environmentsOf } from './lib/model/normalize';
import { RegistrySpecSchema } from './lib/model/schema';
import { syntheticRegistry } from './bench/generate';
const spec = RegistrySpecSchema.parse(syntheticRegistry(Math.round(100000 / 2 / 3), 3, true));
const envs = environmentsOf(spec);
for (let i = 0; i < 10; i++) { const t = process.hrtime.bigint(); allocate(spec, envs); console.log((Number(process.hrtime.bigint() - t) / 1e6).toFixed(1)); }
