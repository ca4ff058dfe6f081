import * as path from 'path';
import type { ResolvedRegistry } from '../model/resolved';
import { Finding, finding } from '../model/finding';
import { checkComposeText } from './drift';
import { ReadError, readRegularFile } from '../io/read';

/**
 * The `composeChecks` of a registry: each compose file, read relative to `dir` (the registry
 * file's folder when there is one, so the same registry checks the same files wherever it is run;
 * else where the synth runs), compared with the registry. A missing file is a compose-file
 * finding that names the path tried.
 */
export function composeCheckFindings(resolved: ResolvedRegistry, dir = process.cwd(), relativeTo = 'the folder the synth runs in'): Finding[] {
  return (resolved.spec.composeChecks ?? []).flatMap(c => {
    const file = path.resolve(dir, c.file);
    let text: string;
    try {
      text = readRegularFile(file);
    } catch (e) {
      const reason = e instanceof ReadError ? e.reason : (e as Error).message;
      const tried = path.isAbsolute(c.file) ? '' : ` (read as ${file}, relative to ${relativeTo})`;
      return [finding('compose-file', `compose file ${c.file}${tried} ${reason}`, { registry: resolved.spec.name, file: c.file },
        `fix the path in composeChecks${path.isAbsolute(c.file) ? '' : ` (relative to ${relativeTo})`}`)];
    }
    return checkComposeText(resolved, text, c.file, c.environment);
  });
}
