/**
 * Every value that reaches an output has the form that output needs: the registry's name (labels,
 * file headers), hosts (URLs in `.env` and compose), host addresses, images, label selectors,
 * category names, and free text without control characters (which would start a new line in an
 * `.env` file, a Nix file or a Markdown table). The emitters escape for their format anyway; this
 * rule makes a bad value an error that names it instead of something the output quietly carries.
 */
import { isIP } from 'net';
import { Finding, finding } from '../model/finding';
import type { Walk } from './rule';

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
// registry[:port]/path/name[:tag][@digest], lowercase path components as Docker requires.
const IMAGE = /^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** The value as JSON on one line: JSON leaves U+2028 and U+2029 raw, and they break lines in editors and terminals. */
const quoted = (value: unknown) => JSON.stringify(value).replace(/[\u2028\u2029]/g, c => `\\u${c.charCodeAt(0).toString(16)}`);

/** Why `key` is not a Kubernetes label key (`[prefix/]name`), or undefined. */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = key.slice(slash + 1);
  if (prefix !== undefined && (prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix))) return 'has a prefix that is not a DNS subdomain';
  if (name.length === 0 || name.length > 63 || !LABEL_VALUE.test(name)) return 'is not a label name (at most 63 letters, digits, "-", "_" and ".", starting and ending alphanumeric)';
  return undefined;
}

/** Why `value` is not a Kubernetes label value, or undefined. */
export function labelValueProblem(value: string): string | undefined {
  return value.length > 63 || !LABEL_VALUE.test(value) ? 'is not a label value (at most 63 letters, digits, "-", "_" and ".", starting and ending alphanumeric)' : undefined;
}

/** Why `host` is neither a DNS name nor an IP address, or undefined. */
export function hostProblem(host: string): string | undefined {
  if (isIP(host)) return undefined;
  return host.length <= 253 && DNS1123_SUBDOMAIN.test(host) ? undefined : 'is neither a DNS name (lowercase letters, digits, "-" and ".") nor an IP address';
}

/** Namespaces the cluster keeps for itself. */
const RESERVED_NAMESPACES = new Set(['default', 'kube-system', 'kube-public', 'kube-node-lease']);

export const values: Walk = {
  id: 'values',
  run({ spec, index, environments }) {
    const out: Finding[] = [];
    const registry = spec.name;
    const bad = (path: string, what: string, value: unknown, problem: string, fix: string, service?: string) =>
      out.push(finding('invalid-value', `${what} ${quoted(value)} ${problem}`, { registry, ...(service ? { service } : {}), path }, fix));

    if (registry.length > 63 || !DNS1123_LABEL.test(registry)) {
      bad('name', 'the registry name', registry, 'is not a DNS-1123 label (it is written into labels, file names and headers)',
        'use lowercase letters, digits and "-", at most 63 characters');
    }
    // Each environment in a namespace of its own, and never in one the cluster keeps for itself.
    const byNamespace = new Map<string, string>();
    for (const env of environments) {
      const other = byNamespace.get(env.namespace);
      if (other !== undefined) {
        out.push(finding('namespace-shared', `environments ${other} and ${env.name} are both in namespace ${env.namespace}: their objects would overwrite each other and their pods reach each other`,
          { registry, environment: env.name, other, path: `environments.${env.name}.namespace` }, `give ${env.name} a namespace of its own (namespace: ${registry}-${env.name})`));
      } else {
        byNamespace.set(env.namespace, env.name);
      }
      if (RESERVED_NAMESPACES.has(env.namespace)) {
        out.push(finding('namespace-name', `environment ${env.name} uses namespace ${env.namespace}, which the cluster keeps for itself: a default deny there would break the cluster (DNS, controllers)`,
          { registry, environment: env.name, path: `environments.${env.name}.namespace` }, `give ${env.name} a namespace of its own (namespace: ${registry}-${env.name})`));
      }
    }
    const text = (path: string, what: string, value: string | undefined, service?: string) => {
      if (value !== undefined && CONTROL.test(value)) bad(path, what, value, 'contains a line break or control character', 'write it on one line, without control characters', service);
    };
    const selector = (path: string, what: string, labels: Record<string, string> | undefined, service: string) => {
      if (labels === undefined) return;
      const keys = Object.keys(labels);
      if (keys.length === 0) bad(path, what, labels, 'is empty, so it would select every pod of the namespace', 'give it at least one label, e.g. { app.kubernetes.io/name: <name> }', service);
      for (const key of keys) {
        const kp = labelKeyProblem(key);
        if (kp) bad(`${path}.${key}`, `the label key of ${what}`, key, kp, 'use a label key such as app.kubernetes.io/name', service);
        // (The schema has made every value a string.)
        const vp = labelValueProblem(labels[key]);
        if (vp) bad(`${path}.${key}`, `the label value of ${what}`, labels[key], vp, 'use a label value such as my-service', service);
      }
    };
    text('description', 'the description', spec.description);
    for (const [name, category] of Object.entries(spec.categories ?? {})) {
      if (name.length > 63 || !DNS1123_LABEL.test(name)) bad(`categories.${name}`, 'the category name', name, 'is not lowercase letters, digits and "-"', 'rename the category');
      text(`categories.${name}.description`, 'the description', category.description);
      text(`categories.${name}.owner`, 'the owner', category.owner);
    }
    (spec.waivers ?? []).forEach((w, i) => text(`waivers[${i}].reason`, 'the reason', w.reason));
    const entries = [
      ...index.services.map((e, i) => ({ name: index.serviceNames[i], e, kind: 'services' })),
      ...index.externals.map((e, i) => ({ name: index.externalNames[i], e, kind: 'externals' })),
    ];
    for (const { name, e, kind } of entries) {
      const at = `${kind}.${name}`;
      const entry = e as typeof e & { host?: string; image?: string; selector?: Record<string, string>; podSelector?: Record<string, string>; namespace?: string; composeName?: string; healthCheck?: unknown };
      for (const field of ['description', 'owner', 'kind'] as const) text(`${at}.${field}`, `the ${field} of ${name}`, entry[field], name);
      if (typeof entry.healthCheck === 'string') text(`${at}.healthCheck`, `the health check of ${name}`, entry.healthCheck, name);
      if (entry.host !== undefined) {
        const hp = hostProblem(entry.host);
        if (hp) bad(`${at}.host`, `the host of ${name}`, entry.host, hp, 'use a DNS name such as db.internal or an address such as 10.0.0.5', name);
      }
      const hostname = (entry as { hostname?: string }).hostname;
      if (hostname !== undefined && (hostname.length > 253 || !DNS1123_SUBDOMAIN.test(hostname))) {
        bad(`${at}.hostname`, `the hostname of ${name}`, hostname, 'is not a DNS name (lowercase letters, digits, "-" and ".")', 'use the public name, e.g. git.example.com', name);
      }
      if (entry.image !== undefined && !IMAGE.test(entry.image)) {
        bad(`${at}.image`, `the image of ${name}`, entry.image, 'is not an image reference', 'use registry/name:tag, e.g. postgres:16 or ghcr.io/acme/api:1.4', name);
      }
      if (entry.composeName !== undefined && !/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(entry.composeName)) {
        bad(`${at}.composeName`, `the compose name of ${name}`, entry.composeName, 'is not a compose service name', 'use letters, digits, "_", "." and "-"', name);
      }
      if (entry.namespace !== undefined && (entry.namespace.length > 63 || !DNS1123_LABEL.test(entry.namespace))) {
        bad(`${at}.namespace`, `the namespace of ${name}`, entry.namespace, 'is not a DNS-1123 label', 'use the namespace\'s name', name);
      }
      selector(`${at}.selector`, `the selector of ${name}`, entry.selector, name);
      selector(`${at}.podSelector`, `the podSelector of ${name}`, entry.podSelector, name);
      for (const portName in e.ports) {
        const hostIp = (e.ports[portName] as { hostIp?: string }).hostIp;
        if (hostIp !== undefined && !isIP(hostIp)) bad(`${at}.ports.${portName}.hostIp`, `the hostIp of ${name}.${portName}`, hostIp, 'is not an IP address', 'use an address such as 127.0.0.1', name);
      }
    }
    return out;
  },
};
