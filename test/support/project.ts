import { spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export const ROOT = path.resolve(__dirname, '../..');

/**
 * A throwaway copy of this project (main.ts, cdk8s.yaml, lib/, imports/, manifests/, with
 * node_modules linked) where the real `cdk8s synth` can run without touching the checkout.
 */
export function tempProject(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-'));
  for (const entry of ['main.ts', 'cdk8s.yaml', 'tsconfig.json', 'package.json', 'lib', 'imports', 'examples', 'manifests', 'scripts']) {
    const from = path.join(ROOT, entry);
    if (fs.existsSync(from)) fs.cpSync(from, path.join(dir, entry), { recursive: true });
  }
  if (fs.existsSync(path.join(ROOT, 'ports.lock.json'))) fs.copyFileSync(path.join(ROOT, 'ports.lock.json'), path.join(dir, 'ports.lock.json'));
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  return dir;
}

export interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `cdk8s synth` as the README runs it. */
export function cdk8sSynth(cwd: string): Run {
  const r = spawnSync(path.join(ROOT, 'node_modules/.bin/cdk8s'), ['synth', '--no-check-upgrade'], {
    cwd, encoding: 'utf8', env: { ...process.env, CDK8S_CHECK_UPGRADE: 'false' }, timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Relative path -> sha256 of every file under `dir`, for byte-identity checks. */
export function treeHashes(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex');
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out;
}

/** Every file under `dir` as text, keyed by relative path. */
export function treeTexts(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const rel of Object.keys(treeHashes(dir))) out[rel] = fs.readFileSync(path.join(dir, rel), 'utf8');
  return out;
}
