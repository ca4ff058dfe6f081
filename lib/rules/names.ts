import { Finding, finding } from '../model/finding';
import { Environment, envVarStem } from '../model/normalize';
import type { RegistrySpec } from '../model/schema';

const DNS1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const IANA_SVC = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** Why `name` is not a DNS-1035 label (a Kubernetes Service name), or undefined when it is. */
export function dns1035Problem(name: string): string | undefined {
  if (name.length > 63) return `is ${name.length} characters long; the limit is 63`;
  if (!DNS1035.test(name)) return 'must be lowercase letters, digits and "-", start with a letter and end with a letter or digit';
  return undefined;
}

export function dns1123Problem(name: string): string | undefined {
  if (name.length > 63) return `is ${name.length} characters long; the limit is 63`;
  if (!DNS1123.test(name)) return 'must be lowercase letters, digits and "-", and start and end with a letter or digit';
  return undefined;
}

/** Why `name` is not an IANA service name (a Kubernetes port name), or undefined when it is. */
export function portNameProblem(name: string): string | undefined {
  if (name.length > 15) return `is ${name.length} characters long; the limit is 15`;
  if (!IANA_SVC.test(name)) return 'must be lowercase letters, digits and "-", and not start or end with "-"';
  if (name.includes('--')) return 'must not contain "--"';
  if (!/[a-z]/.test(name)) return 'must contain at least one letter';
  return undefined;
}

/** A name that satisfies the rule, offered in the fix. */
function suggestLabel(name: string, max: number): string {
  let s = name.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-+/g, '-').replace(/^[^a-z]+/, '').replace(/-+$/, '');
  s = s.slice(0, max).replace(/-+$/, '');
  return s || 'svc';
}

export function checkNames(spec: RegistrySpec, envs: readonly Environment[]): Finding[] {
  const out: Finding[] = [];
  const registry = spec.name;
  const seen = new Map<string, string>();

  for (const env of envs) {
    const envProblem = dns1123Problem(env.name);
    if (envProblem) {
      out.push(finding('namespace-name', `environment name "${env.name}" ${envProblem}; it is used in namespaces, file names and labels`,
        { registry, environment: env.name, path: `environments.${env.name}` }, `rename it to "${suggestLabel(env.name, 63)}"`));
    }
    const nsProblem = dns1123Problem(env.namespace);
    if (nsProblem) {
      out.push(finding('namespace-name', `namespace "${env.namespace}" of environment ${env.name} ${nsProblem}`,
        { registry, environment: env.name, path: `environments.${env.name}.namespace` }, `use "${suggestLabel(env.namespace, 63)}"`));
    }
  }

  const varOwners = new Map<string, string>();
  const check = (name: string, kind: 'services' | 'externals', ports: Record<string, unknown>) => {
    const problem = dns1035Problem(name);
    if (problem) {
      out.push(finding('service-name', `service name "${name}" ${problem} (Kubernetes Service names are DNS-1035 labels)`,
        { registry, service: name, path: `${kind}.${name}` }, `rename it to "${suggestLabel(name, 63)}"`));
    }
    const previous = seen.get(name);
    if (previous) {
      out.push(finding('duplicate-service', `"${name}" is declared twice (as ${previous} and as ${kind})`,
        { registry, service: name, path: `${kind}.${name}` }, 'give one of them another name'));
    }
    seen.set(name, kind);

    const portNames = Object.keys(ports);
    if (portNames.length === 0) {
      out.push(finding('schema', `${name} declares no ports`, { registry, service: name, path: `${kind}.${name}.ports` },
        'declare at least one named port, e.g. ports: { http: { offset: 0 } }'));
    }
    for (const portName of portNames) {
      const pp = portNameProblem(portName);
      if (pp) {
        out.push(finding('port-name', `port name "${portName}" of ${name} ${pp} (Kubernetes port names are IANA service names)`,
          { registry, service: name, portName, path: `${kind}.${name}.ports.${portName}` }, `rename it to "${suggestLabel(portName, 15)}"`));
      }
      const variable = envVarStem(name, portName);
      const clash = varOwners.get(variable);
      if (clash) {
        const owner = `${name}.${portName}`;
        out.push(finding('env-var-collision', `${owner} and ${clash} both generate the variable ${variable}_PORT`,
          { registry, service: name, portName, other: clash, path: `${kind}.${name}.ports.${portName}` },
          `rename the port or the service so that ${owner} and ${clash} differ in more than punctuation`));
      } else {
        varOwners.set(variable, `${name}.${portName}`);
      }
    }
  };
  for (const name in spec.services ?? {}) check(name, 'services', spec.services![name].ports);
  for (const name in spec.externals ?? {}) check(name, 'externals', spec.externals![name].ports);
  return out;
}
