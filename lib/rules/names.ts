import { Finding, finding } from '../model/finding';
import { Environment, SpecIndex, envVarStem, indexSpec, ownEntry } from '../model/normalize';
import type { RegistrySpec } from '../model/schema';

const DNS1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const IANA_SVC = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
/** A compose service name (and a safe file name): what the outputs other than Kubernetes need. */
const COMPOSE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

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

/**
 * Why `name` cannot name a service or an environment in the outputs other than Kubernetes, or
 * undefined when it can: a compose service name (reached over Docker's DNS, so at most 63
 * characters), a file name (`docker-compose.<environment>.yml`, `env/<environment>.env`) and a
 * `.env` variable stem.
 */
export function composeNameProblem(name: string): string | undefined {
  if (name.length > 63) return `is ${name.length} characters long; the limit is 63`;
  if (!COMPOSE.test(name)) return 'must be letters, digits, ".", "_" and "-", and start with a letter or digit';
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
export function suggestLabel(name: string, max: number): string {
  // Every run of other characters (dashes included) becomes one dash: a dash can only end it singly.
  let s = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^[^a-z]+/, '').replace(/-$/, '');
  s = s.slice(0, max).replace(/-$/, '');
  return s || 'svc';
}

/** A name that satisfies {@link composeNameProblem}, offered in the fix. */
function suggestComposeName(name: string, fallback: string): string {
  const s = name.replace(/[^a-zA-Z0-9_.-]+/g, '-').replace(/^[^a-zA-Z0-9]+/, '').slice(0, 63).replace(/-+$/, '');
  return s || fallback;
}

/** The key paths that name service `name` (connections, exclusiveWith, waivers): a rename changes them too. */
function referencesTo(spec: RegistrySpec, name: string): string[] {
  const out: string[] = [];
  for (const [from, svc] of Object.entries(spec.services ?? {})) {
    (svc.connectsTo ?? []).forEach((c, i) => { if (c.to === name) out.push(`services.${from}.connectsTo[${i}].to`); });
    (svc.exclusiveWith ?? []).forEach((n, i) => { if (n === name) out.push(`services.${from}.exclusiveWith[${i}]`); });
  }
  (spec.waivers ?? []).forEach((w, i) => { if (w.service === name) out.push(`waivers[${i}].service`); });
  return out;
}

export function checkNames(spec: RegistrySpec, envs: readonly Environment[], index: SpecIndex = indexSpec(spec), kubernetes = true): Finding[] {
  const out: Finding[] = [];
  const registry = spec.name;

  for (const env of envs) {
    if (!kubernetes) {
      // Without Kubernetes output the namespace is unused; the name is in file names.
      const problem = composeNameProblem(env.name);
      if (problem) {
        out.push(finding('namespace-name', `environment name "${env.name}" ${problem}; it is used in file names (docker-compose.${env.name}.yml, env/${env.name}.env)`,
          { registry, environment: env.name, path: `environments.${env.name}` }, `rename it to "${suggestComposeName(env.name, 'default')}"`));
      }
      continue;
    }
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

  // Variable name -> the service whose port generates it (the port is found again on a clash).
  const varOwners = new Map<string, string>();
  /** The variables a service's ports generate, read when an external has the same name. */
  const serviceVars = new Set<string>();
  // Port names repeat across services (http, metrics …): each is checked once.
  const portNameProblems = new Map<string, string | undefined>();
  const portStems = new Map<string, string>();
  const variableOf = (service: string, serviceStem: string, portName: string): string => {
    let portStem = portStems.get(portName);
    // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent, a memo (the stem computed again is the same)
    if (portStem === undefined) portStems.set(portName, portStem = envVarStem(portName));
    // Two non-empty stems joined by "_" are the stem of the joined names; otherwise compute it whole.
    return serviceStem && portStem ? `${serviceStem}_${portStem}` : envVarStem(service, portName);
  };
  const portGenerating = (service: string, variable: string): string | undefined => {
    for (const entry of [spec.services?.[service], spec.externals?.[service]]) {
      const found = Object.keys(entry?.ports ?? {}).find(p => variableOf(service, envVarStem(service), p) === variable);
      if (found !== undefined) return found;
    }
    return undefined;
  };
  const check = (name: string, kind: 'services' | 'externals', ports: Record<string, unknown>) => {
    // With Kubernetes output a name is a Service's (DNS-1035); without, a compose service's and a .env stem.
    const ownCompose = ((kind === 'services' ? spec.services : spec.externals)?.[name] as { composeName?: string } | undefined)?.composeName;
    const problem = kubernetes ? dns1035Problem(name)
      : ownCompose === undefined ? composeNameProblem(name)
      // (Another compose name: the registry name is left only as the stem of the .env variables.)
      : /[a-zA-Z0-9]/.test(name) ? undefined : 'has no letter or digit';
    if (problem) {
      const uses = kubernetes ? 'Kubernetes Service names are DNS-1035 labels'
        : ownCompose ? 'it is the stem of its .env variables' : 'it is its compose service name and the stem of its .env variables';
      const to = kubernetes ? suggestLabel(name, 63) : suggestComposeName(name, 'svc');
      // A compose file checked against the registry keeps its name: the registry says so (composeName).
      const keep = kubernetes && !ownCompose && (spec.composeChecks?.length ?? 0) > 0 && !composeNameProblem(name) ? ` and set composeName: ${name}` : '';
      const refs = referencesTo(spec, name);
      const also = refs.length ? `, and change ${refs.length === 1 ? 'the reference' : 'the references'} to it (${refs.join(', ')})` : '';
      out.push(finding('service-name', `service name "${name}" ${problem} (${uses})`,
        { registry, service: name, path: `${kind}.${name}` }, `rename it to "${to}"${keep}${also}`));
    }
    if (kind === 'externals' && ownEntry(spec.services ?? {}, name)) {
      out.push(finding('duplicate-service', `"${name}" is declared twice (as services and as externals)`,
        { registry, service: name, path: `${kind}.${name}` }, 'give one of them another name'));
    }

    const serviceStem = envVarStem(name);
    let portCount = 0;
    for (const portName in ports) {
      // Stryker disable next-line UpdateOperator: equivalent, only whether the count is zero is read
      portCount++;
      let pp = portNameProblems.get(portName);
      if (pp === undefined && !portNameProblems.has(portName)) portNameProblems.set(portName, pp = portNameProblem(portName));
      // (A port name is a Kubernetes Service port's name: without Kubernetes output it is a label only.)
      if (pp && kubernetes) {
        out.push(finding('port-name', `port name "${portName}" of ${name} ${pp} (Kubernetes port names are IANA service names)`,
          { registry, service: name, portName, path: `${kind}.${name}.ports.${portName}` }, `rename it to "${suggestLabel(portName, 15)}"`));
      }
      const variable = variableOf(name, serviceStem, portName);
      const clashService = varOwners.get(variable);
      // An external with the name of a service (duplicate-service) meets that service's own variables: the same mistake again.
      if (kind === 'externals' && clashService === name && serviceVars.has(variable)) continue;
      if (clashService !== undefined) {
        const clash = `${clashService}.${portGenerating(clashService, variable)}`;
        const owner = `${name}.${portName}`;
        out.push(finding('env-var-collision', `${owner} and ${clash} both generate the variable ${variable}_PORT`,
          { registry, service: name, portName, other: clash, path: `${kind}.${name}.ports.${portName}` },
          `rename the port or the service so that ${owner} and ${clash} differ in more than punctuation`));
      } else {
        varOwners.set(variable, name);
        if (kind === 'services') serviceVars.add(variable);
      }
    }
    // A service without ports is a client only (a queue worker); an external without ports is nothing to reach.
    if (portCount === 0 && kind === 'externals') {
      out.push(finding('schema', `${name} declares no ports`, { registry, service: name, path: `${kind}.${name}.ports` },
        'declare at least one named port, e.g. ports: { http: { offset: 0 } }'));
    }
  };
  for (let i = 0; i < index.services.length; i++) check(index.serviceNames[i], 'services', index.services[i].ports);
  for (let i = 0; i < index.externals.length; i++) check(index.externalNames[i], 'externals', index.externals[i].ports);
  return out;
}
