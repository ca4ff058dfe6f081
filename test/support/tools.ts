import { spawnSync } from 'child_process';
import * as fs from 'fs';
import { CHROMIUM } from './browser';

/**
 * Real tools some tests drive (Debian packages that .ci/run installs). On a machine without
 * them those tests are skipped with a notice, so `npm test` works with only node and npm; in
 * CI (CI=true) they are required, and their absence fails the run.
 */
function tool(name: string, present: boolean, install: string) {
  if (!present && process.env.CI !== 'true') {
    // eslint-disable-next-line no-console
    console.warn(`${name} is not installed: its tests are skipped (apt-get install -y ${install}; .ci/run does this)`);
  }
  return { present, test: present || process.env.CI === 'true' ? test : test.skip, describe: present || process.env.CI === 'true' ? describe : describe.skip };
}

export const dockerCompose = tool('docker-compose', spawnSync('sh', ['-c', 'command -v docker-compose']).status === 0, 'docker-compose');
export const chromium = tool('chromium', fs.existsSync(CHROMIUM), 'chromium');
