import * as path from 'path';
import type { ResolvedRegistry } from '../model/resolved';
import { Finding, finding } from '../model/finding';
import { checkComposeText } from '../rules/compose-drift';
import { ReadError, readRegularFile } from '../io/read';

/**
 * The `composeChecks` of a registry: each compose file, read relative to where the synth or
 * the command runs, compared with the registry. A missing file is a compose-file finding.
 */
export function composeCheckFindings(resolved: ResolvedRegistry, cwd = process.cwd()): Finding[] {
  return (resolved.spec.composeChecks ?? []).flatMap(c => {
    const file = path.resolve(cwd, c.file);
    let text: string;
    try {
      text = readRegularFile(file);
    } catch (e) {
      const reason = e instanceof ReadError ? e.reason : (e as Error).message;
      return [finding('compose-file', `compose file ${c.file} ${reason}`, { registry: resolved.spec.name, file: c.file }, 'fix the path in composeChecks')];
    }
    return checkComposeText(resolved, text, c.file, c.environment);
  });
}
