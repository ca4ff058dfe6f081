import { allocate } from './lib/allocation/allocate';
import { checkRegistry } from './lib/check';
import { environmentsOf } from './lib/model/normalize';
import { RegistrySpecSchema } from './lib/model/schema';
import { checkConnections } from './lib/rules/connections';
import { checkNames } from './lib/rules/names';
import { checkRanges } from './lib/rules/ranges';
import { checkReferences } from './lib/rules/references';
import { syntheticRegistry } from './bench/generate';
const spec = RegistrySpecSchema.parse(syntheticRegistry(Math.round(100000 / 2 / 3), 3, true));
const envs = environmentsOf(spec);
const time = (name: string, f: () => unknown) => { const t = process.hrtime.bigint(); f(); console.log(name.padEnd(12), (Number(process.hrtime.bigint() - t) / 1e6).toFixed(1)); };
for (let i = 0; i < 3; i++) {
  time('parse', () => RegistrySpecSchema.parse(spec));
  time('names', () => checkNames(spec, envs));
  time('ranges', () => checkRanges(spec, envs));
  time('refs', () => checkReferences(spec, envs));
  time('allocate', () => allocate(spec, envs));
  time('conns', () => checkConnections(spec, envs));
  time('all', () => checkRegistry(spec));
  console.log('--');
}
