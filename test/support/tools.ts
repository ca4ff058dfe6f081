import { spawnSync } from 'child_process';
import * as fs from 'fs';
import { CHROMIUM } from './browser';

/**
 * Real tools some tests drive (Debian packages that .ci/run installs). On a machine without
 * them those tests are skipped with a notice, so `npm test` works with only node and npm; in
 * CI (any `CI` value but empty, `0` or `false`, or CDK8S_PORTS_REQUIRE_TOOLS=1, which .ci/run
 * sets) they are required, and their absence fails the run.
 */
const truthy = (v: string | undefined) => v !== undefined && !['', '0', 'false'].includes(v.toLowerCase());
const required = truthy(process.env.CI) || truthy(process.env.CDK8S_PORTS_REQUIRE_TOOLS);

function tool(name: string, present: boolean, install: string) {
  if (!present && !required) {
    // One line, without the code frame console.warn gets under jest.
    process.stderr.write(`note: ${name} is not installed: its tests are skipped (apt-get install -y ${install}; .ci/run does this)\n`);
  }
  return { present, test: present || required ? test : test.skip, describe: present || required ? describe : describe.skip };
}

export const dockerCompose = tool('docker-compose', spawnSync('sh', ['-c', 'command -v docker-compose']).status === 0, 'docker-compose');
export const chromium = tool('chromium', fs.existsSync(CHROMIUM), 'chromium');
