/**
 * The admin tiers through the built CLI, as a user meets them: explain names the admin rule that
 * decides, connlist and diff --traffic see what it denies, verify reports an object the API server
 * would reject. Every expected line is worked out by hand from the objects below:
 *
 *   namespace a: client; namespace b: server (8080 named http), no NetworkPolicy
 *   AdminNetworkPolicy deny-a (priority 10): pods of b deny ingress from namespace a on http
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as jsYaml from 'js-yaml';
import { ROOT } from './support/project';

const deployment = (ns: string, name: string, ports: Array<{ containerPort: number; name: string }>) => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: ns },
  spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image: 'x', ports }] } } },
});
const DENY = {
  apiVersion: 'policy.networking.k8s.io/v1alpha1', kind: 'AdminNetworkPolicy', metadata: { name: 'deny-a' },
  spec: { priority: 10, subject: { namespaces: { matchLabels: { 'kubernetes.io/metadata.name': 'b' } } },
    ingress: [{ name: 'no-a', action: 'Deny', from: [{ namespaces: { matchLabels: { 'kubernetes.io/metadata.name': 'a' } } }], ports: [{ namedPort: 'http' }] }] },
};
const WORKLOADS = [deployment('a', 'client', []), deployment('b', 'server', [{ containerPort: 8080, name: 'http' }])];

function folder(files: Record<string, unknown[]>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-ports-admin-'));
  for (const [name, docs] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), docs.map(d => jsYaml.dump(d)).join('---\n'));
  }
  return dir;
}
const cli = (args: string[], cwd: string) => spawnSync(process.execPath, [path.join(ROOT, 'bin', 'cdk8s-ports.js'), ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } });

test('explain names the tier, policy, priority, rule and action that decide a side', () => {
  const dir = folder({ 'manifests/apps.yaml': WORKLOADS, 'manifests/admin.yaml': [DENY] });
  const r = cli(['explain', 'a/client', 'b/server', '8080'], dir);
  expect(r.stdout).toContain('a/client -> b/server 8080/TCP: blocked');
  expect(r.stdout).toContain('  ingress of b/server: denied by the admin tier, AdminNetworkPolicy/deny-a (priority 10, admin.yaml), ingress rule 1 "no-a": Deny');
  expect(r.stdout).toContain('  egress of a/client: open, no policy selects it for this direction');
});

test('connlist and diff --traffic see what an admin policy denies', () => {
  const dir = folder({ 'manifests/apps.yaml': WORKLOADS, 'base/apps.yaml': WORKLOADS, 'manifests/admin.yaml': [DENY] });
  const list = cli(['connlist', 'manifests'], dir).stdout.split('\n');
  // Only http (8080) is denied: the other ports of server stay open to client.
  expect(list).toContain('a/client[Deployment] => b/server[Deployment] : SCTP 1-65535,TCP 1-8079,8081-65535,UDP 1-65535');
  expect(list).toContain('b/server[Deployment] => a/client[Deployment] : All Connections');
  const diff = cli(['diff', '--traffic', 'base'], dir);
  expect(diff.stdout.split('\n').filter(l => l.startsWith('closes'))).toEqual([
    // Every pod of a, the folder's and the ones it does not list. (A pod of b the folder does not list
    // may have no port named http: a Deny on a named port closes nothing of it for sure.)
    'closes a/(unlisted-pod) -> b/server:8080/TCP',
    'closes a/client -> b/server:8080/TCP',
  ]);
  expect(diff.status).toBe(0);
});

test('verify: an admin object the API server would reject is manifest-invalid and named; it is read as written', () => {
  const bad = { ...DENY, metadata: { name: 'bad' }, spec: { ...DENY.spec, priority: 5000 } };
  const dir = folder({ 'manifests/apps.yaml': WORKLOADS, 'manifests/admin.yaml': [bad] });
  const r = cli(['verify', 'manifests'], dir);
  expect(r.status).toBe(1);
  expect(r.stdout).toContain('error manifest-invalid: admin.yaml: AdminNetworkPolicy/bad: priority 5000 is not an integer from 0 to 1000; the API server rejects the object');
  expect(cli(['explain', 'a/client', 'b/server', '8080'], dir).stdout).toContain('denied by the admin tier, AdminNetworkPolicy/bad (priority 5000, admin.yaml), ingress rule 1 "no-a": Deny');
});
