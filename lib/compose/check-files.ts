import * as fs from 'fs';
import * as path from 'path';
import type { ResolvedRegistry } from '../model/resolved';
import { Finding, finding } from '../model/finding';
import { checkComposeText } from '../rules/compose-drift';

/**
 * The `composeChecks` of a registry: each compose file, read relative to where the synth or
 * the command runs, compared with the registry. A missing file is a compose-file finding.
 */
export function composeCheckFindings(resolved: ResolvedRegistry, cwd = process.cwd()): Finding[] {
  return (resolved.spec.composeChecks ?? []).flatMap(c => {
    const file = path.resolve(cwd, c.file);
    if (!fs.existsSync(file)) {
      return [finding('compose-file', `compose file ${c.file} does not exist`, { registry: resolved.spec.name, file: c.file }, 'fix the path in composeChecks')];
    }
    return checkComposeText(resolved, fs.readFileSync(file, 'utf8'), c.file, c.environment);
  });
}
