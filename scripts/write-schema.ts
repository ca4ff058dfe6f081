/** Writes schema/ports.schema.json from the zod model (`npm run schema`); a test fails when it is stale. */
import * as fs from 'fs';
import * as path from 'path';
import { registryJsonSchema } from '../lib/file/registry-file';

export const SCHEMA_FILE = path.resolve(__dirname, '..', 'schema', 'ports.schema.json');
export const schemaText = () => `${JSON.stringify(registryJsonSchema(), null, 2)}\n`;

if (require.main === module) fs.writeFileSync(SCHEMA_FILE, schemaText());
