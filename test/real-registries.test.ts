import { spawnSync } from 'child_process';
import * as os from 'os';
import * as path from 'path';
import { ROOT } from './support/project';

/**
 * Registries shaped like real hand-kept ones (test/fixtures/real), checked as a user checks them: the
 * CLI on the file, from another folder. Each file states what a reviewer expected before the checker
 * ran; the clean ones must check clean, so that real findings stand out.
 */
const DIR = path.join(__dirname, 'fixtures', 'real');
const check = (file: string) => {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'cdk8s-ports.js'), 'check', path.join(DIR, file), '--json'],
    { cwd: os.tmpdir(), encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000 });
  return { status: r.status, stderr: r.stderr, findings: JSON.parse(r.stdout).registries[0].findings as Array<{ rule: string; message: string }> };
};

test.each(['home-lab.yaml', 'nixos-home.yaml', 'platform-reserved.yaml', 'file-platform.yaml', 'compose-lab/ports.yaml'])('%s checks clean: zero findings', file => {
  expect(check(file)).toEqual({ status: 0, stderr: '', findings: [] });
});

test('ai-stack.yaml: exactly the overlaps a reviewer expected, nothing else', () => {
  const r = check('ai-stack.yaml');
  expect(r.status).toBe(1);
  expect(r.findings.map(f => [f.rule, f.message.replace(/ \(shared ports .*\)$/, '')])).toEqual([
    ['range-overlap', 'range 16000-16099 of category api overlaps range 16080-16099 of category debug'],
    ['range-overlap', 'range 16000-16099 of category api overlaps range 16040-16049 of category admin'],
    ['range-overlap', 'range 17000-17150 of category models overlaps range 17100-17199 of category tools'],
  ]);
});
